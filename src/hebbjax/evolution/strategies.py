"""Outer-loop strategies by name: every evosax 0.3 algorithm and the papers' own.

``make_strategy(name, population_size, solution, **overrides) -> (es, params)`` turns a
CLI name into an algorithm and its ``Params``. All strategies share evosax's
``init(key, mean, params)`` / ``ask(key, state, params)`` /
``tell(key, x, fitness, state, params)`` / ``get_mean(state)`` interface and minimise
``fitness`` (hebbjax negates its higher-is-better fitness once, at ``tell``).

- The papers' strategies: ``paper-cmaes``, the diagonal CMA-ES of Wang et al. 2022
  (EPA@4a6a749: epann/EStool.py, spec section 3.1; sigma0 = 0.01, spec 3.2); ``eprnn-es``
  (EPRNN, spec 4.4); ``najarro-es`` (Najarro & Risi's OpenAI-ES, ant spec 1.4) and ``gmm-es``
  (Palm et al.'s shared rules, ant spec 2.4).
- Tuned evosax presets: ``sep-cma-es``, ``cma-es``, ``openai-es`` (Adam on the mean,
  constant std), ``snes`` (SGD on the natural gradient). ``noise="table"`` gives these
  (not ``cma-es``), ``eprnn-es`` and ``gmm-es`` OpenAI-ES's shared noise table
  (``noise_table.py``).
- Every evosax algorithm under its evosax name in kebab case (``simple-ga``, ``pgpe``,
  ``xnes``, ``differential-evolution``, ``sv-cma-es``, ...): options go to its constructor
  or its ``Params`` (``evolution/evosax_adapters.py``); population-based and Stein-variational
  algorithms are adapted to start from one genome and give one genome back.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

import jax.numpy as jnp
import numpy as np
import optax
from evosax.algorithms import CMA_ES, SNES, Open_ES, Sep_CMA_ES
from evosax.types import Solution

from hebbjax.evolution.eprnn_es import eprnn_es
from hebbjax.evolution.evosax_adapters import (
    allow_rank_promotion,
    evosax_algorithms,
    kebab,
    make_evosax,
    named_optimizer,
    set_params,
)
from hebbjax.evolution.gmm_es import gmm_es
from hebbjax.evolution.najarro_es import najarro_es
from hebbjax.evolution.noise_table import DEFAULT_SIZE, with_noise
from hebbjax.evolution.paper_cmaes import PaperCMAES
from hebbjax.options import check_options
from hebbjax.registry import Registry

StrategyFactory = Callable[..., tuple[Any, Any]]
STRATEGIES: Registry[StrategyFactory] = Registry("strategy")

_SEP_CMA_ES = allow_rank_promotion(Sep_CMA_ES)
_CMA_ES = allow_rank_promotion(CMA_ES)
_OPEN_ES = allow_rank_promotion(Open_ES)
_SNES = allow_rank_promotion(SNES)


@STRATEGIES.register("sep-cma-es")
def sep_cma_es(
    population_size: int,
    solution: Solution,
    *,
    std_init: float = 0.01,
    noise: str = "threefry",
    noise_table_size: int = DEFAULT_SIZE,
    **params: Any,
) -> tuple[Sep_CMA_ES, Any]:
    """evosax ``Sep_CMA_ES``; ``params`` override fields of its ``Params``; ``noise``:
    ``"threefry"`` (fresh normals) or ``"table"`` (OpenAI-ES's shared noise table)."""
    es = with_noise(_SEP_CMA_ES, noise, noise_table_size, "sep-cma-es",
                     population_size, solution)  # fmt: skip
    return es, set_params(es, std_init=std_init, **params)


@STRATEGIES.register("cma-es")
def cma_es(
    population_size: int, solution: Solution, *, std_init: float = 0.01, **params: Any
) -> tuple[CMA_ES, Any]:
    """evosax full-covariance ``CMA_ES`` (O(D^2) memory: small genomes only)."""
    es = _CMA_ES(population_size, solution)
    return es, set_params(es, std_init=std_init, **params)


@STRATEGIES.register("openai-es")
def openai_es(
    population_size: int,
    solution: Solution,
    *,
    std_init: float = 0.01,
    learning_rate: float = 0.01,
    optimizer: str | optax.GradientTransformation = "adam",
    use_antithetic_sampling: bool = True,
    noise: str = "threefry",
    noise_table_size: int = DEFAULT_SIZE,
    **params: Any,
) -> tuple[Open_ES, Any]:
    """evosax ``Open_ES`` with a constant std and an optax optimizer on the mean.

    Args:
        population_size: P; must be even (antithetic pairs).
        solution: genome template pytree.
        std_init: the constant perturbation std.
        learning_rate: learning rate of ``optimizer`` when it is given by name.
        optimizer: ``"adam"``, ``"sgd"`` or any ``optax.GradientTransformation``.
        use_antithetic_sampling: mirrored noise pairs.
        noise: ``"threefry"`` (fresh normals) or ``"table"`` (the shared noise table of
            Salimans et al. 2017, ``evolution.noise_table``).
        noise_table_size: the table's length with ``noise="table"``.
    """
    if population_size % 2:
        raise ValueError(f"openai-es needs an even population, got {population_size}")
    es = with_noise(
        _OPEN_ES,
        noise,
        noise_table_size,
        "openai-es",
        population_size,
        solution,
        use_antithetic_sampling=use_antithetic_sampling,
        optimizer=named_optimizer(optimizer, learning_rate),
        std_schedule=optax.constant_schedule(std_init),
    )
    return es, set_params(es, **params)


@STRATEGIES.register("snes")
def snes(
    population_size: int,
    solution: Solution,
    *,
    std_init: float = 0.01,
    learning_rate: float = 1.0,
    noise: str = "threefry",
    noise_table_size: int = DEFAULT_SIZE,
    **params: Any,
) -> tuple[SNES, Any]:
    """evosax ``SNES``; ``learning_rate`` is the SGD rate on the natural-gradient mean;
    ``noise``: ``"threefry"`` (fresh normals) or ``"table"`` (the shared noise table)."""
    es = with_noise(_SNES, noise, noise_table_size, "snes", population_size, solution,
                     optimizer=optax.sgd(learning_rate))  # fmt: skip
    return es, set_params(es, std_init=std_init, **params)


@STRATEGIES.register("paper-cmaes")
def paper_cmaes(
    population_size: int,
    solution: Solution,
    *,
    std_init: float = 0.01,
    c_cov: float = 0.02,
    elite_ratio: float = 0.5,
    segment_ids: np.ndarray | None = None,
    **params: Any,
) -> tuple[PaperCMAES, Any]:
    """The reference's diagonal CMA-ES (spec 3.1): sigma0 = 0.01, c_cov = 0.02, K = P/2."""
    es = PaperCMAES(
        population_size, solution, elite_ratio=elite_ratio, segment_ids=segment_ids
    )
    return es, set_params(es, std_init=std_init, c_cov=jnp.asarray(c_cov), **params)


STRATEGIES.register("eprnn-es", eprnn_es)  # Wang et al. EPRNN ES, spec 4.4
STRATEGIES.register("gmm-es", gmm_es)  # Palm et al. shared rules (ant, car), spec 2.4
STRATEGIES.register("najarro-es", najarro_es)  # Najarro & Risi's OpenAI-ES, spec 1.4


def _register_evosax() -> None:
    for evosax_name, cls in evosax_algorithms().items():
        name = kebab(evosax_name)
        if name in STRATEGIES:  # a tuned preset above keeps the name
            continue
        factory = partial(make_evosax, cls)
        factory.__doc__ = f"evosax ``{evosax_name}`` ({cls.__module__.split('.')[-2].replace('_', '-')})."
        STRATEGIES.register(name, factory)


_register_evosax()


def make_strategy(
    name: str, population_size: int, solution: Solution, **overrides: Any
) -> tuple[Any, Any]:
    """Build the strategy registered as ``name`` and its params.

    Args:
        name: a key of ``STRATEGIES`` (e.g. ``"paper-cmaes"``, ``"simple-ga"``).
        population_size: P.
        solution: genome template pytree (float leaves only).
        **overrides: factory keywords (``std_init``, ...) and ``Params`` fields.

    Returns:
        ``(es, params)`` ready for ``es.init(key, mean, params)``.

    Raises:
        ValueError: unknown name (listing the valid ones) or unknown override.
    """
    factory = STRATEGIES.get(name)
    check_options(
        factory, overrides, "strategy option", ("population_size", "solution")
    )
    return factory(population_size, solution, **overrides)

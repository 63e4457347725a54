"""Outer-loop strategies by name: evosax 0.3.2 algorithms and the reference's ESTool.

``make_strategy(name, population_size, solution, **overrides) -> (es, params)`` turns a
CLI name into an evosax algorithm and its ``Params``. All strategies share evosax's
``init(key, mean, params)`` / ``ask(key, state, params)`` /
``tell(key, x, fitness, state, params)`` interface and minimise ``fitness``.

``paper-cmaes`` is the diagonal CMA-ES of Wang et al. 2022 (EPA@4a6a749:
epann/EStool.py, spec section 3.1); the initial step size of the CMA family defaults to
the paper's sigma0 = 0.01 (spec 3.2). The other strategies also start at 0.01, a
scale that suits network weights.

evosax 0.3.2's own algorithms broadcast ``(D,)`` against ``(P, D)`` implicitly, which
fails under ``jax_numpy_rank_promotion="raise"`` (the hebbjax test setting). The
registry therefore returns them as thin subclasses whose ``init``/``ask``/``tell``
trace with rank promotion allowed; they are still instances of the evosax classes.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import optax
from evosax.algorithms import CMA_ES, SNES, Open_ES, Sep_CMA_ES
from evosax.algorithms.distribution_based.base import DistributionBasedAlgorithm
from evosax.types import Solution

from hebbjax.evolution.eprnn_es import eprnn_es
from hebbjax.evolution.paper_cmaes import PaperCMAES
from hebbjax.registry import Registry

StrategyFactory = Callable[..., tuple[DistributionBasedAlgorithm, Any]]
STRATEGIES: Registry[StrategyFactory] = Registry("strategy")

OPTIMIZERS: dict[str, Callable[..., optax.GradientTransformation]] = {
    "adam": optax.adam,
    "sgd": optax.sgd,
}


def strongly_typed(tree: Any) -> Any:
    """The same pytree with weak types removed, so a jitted step does not recompile."""
    return jax.tree.map(lambda x: jnp.asarray(x, dtype=jnp.result_type(x)), tree)


class _AllowRankPromotion:
    """Trace evosax's implicit (D,) vs (P, D) broadcasts with rank promotion allowed.

    ``init`` also returns a strongly typed state: evosax's weakly typed initial scalars
    would make the generation step compile twice.
    """

    def init(self, *args, **kwargs):
        with jax.numpy_rank_promotion("allow"):
            return strongly_typed(super().init(*args, **kwargs))

    def ask(self, *args, **kwargs):
        with jax.numpy_rank_promotion("allow"):
            return super().ask(*args, **kwargs)

    def tell(self, *args, **kwargs):
        with jax.numpy_rank_promotion("allow"):
            return super().tell(*args, **kwargs)


def _rank_promotion_safe(cls: type) -> type:
    return type(cls.__name__, (_AllowRankPromotion, cls), {"__doc__": cls.__doc__})


_SEP_CMA_ES = _rank_promotion_safe(Sep_CMA_ES)
_CMA_ES = _rank_promotion_safe(CMA_ES)
_OPEN_ES = _rank_promotion_safe(Open_ES)
_SNES = _rank_promotion_safe(SNES)


def _params(es: DistributionBasedAlgorithm, **overrides: Any) -> Any:
    params = es.default_params
    fields = [field.name for field in dataclasses.fields(params)]
    unknown = sorted(set(overrides) - set(fields))
    if unknown:
        raise ValueError(
            f"unknown parameter(s) {unknown} for {type(es).__name__}; "
            f"valid parameters: {', '.join(fields) or 'none'}"
        )
    if "std_init" in overrides:
        overrides["std_init"] = jnp.asarray(overrides["std_init"], jnp.float32)
    return params.replace(**overrides)


def _optimizer(
    optimizer: str | optax.GradientTransformation, learning_rate: float
) -> optax.GradientTransformation:
    if not isinstance(optimizer, str):
        return optimizer
    try:
        return OPTIMIZERS[optimizer](learning_rate=learning_rate)
    except KeyError:
        raise ValueError(
            f"unknown optimizer {optimizer!r}; valid optimizers: {', '.join(OPTIMIZERS)}"
        ) from None


@STRATEGIES.register("sep-cma-es")
def sep_cma_es(
    population_size: int, solution: Solution, *, std_init: float = 0.01, **params: Any
) -> tuple[Sep_CMA_ES, Any]:
    """evosax ``Sep_CMA_ES``; ``params`` override fields of its ``Params``."""
    es = _SEP_CMA_ES(population_size, solution)
    return es, _params(es, std_init=std_init, **params)


@STRATEGIES.register("cma-es")
def cma_es(
    population_size: int, solution: Solution, *, std_init: float = 0.01, **params: Any
) -> tuple[CMA_ES, Any]:
    """evosax full-covariance ``CMA_ES`` (O(D^2) memory: small genomes only)."""
    es = _CMA_ES(population_size, solution)
    return es, _params(es, std_init=std_init, **params)


@STRATEGIES.register("openai-es")
def openai_es(
    population_size: int,
    solution: Solution,
    *,
    std_init: float = 0.01,
    learning_rate: float = 0.01,
    optimizer: str | optax.GradientTransformation = "adam",
    use_antithetic_sampling: bool = True,
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
    """
    if population_size % 2:
        raise ValueError(f"openai-es needs an even population, got {population_size}")
    es = _OPEN_ES(
        population_size,
        solution,
        use_antithetic_sampling=use_antithetic_sampling,
        optimizer=_optimizer(optimizer, learning_rate),
        std_schedule=optax.constant_schedule(std_init),
    )
    return es, _params(es, **params)


@STRATEGIES.register("snes")
def snes(
    population_size: int,
    solution: Solution,
    *,
    std_init: float = 0.01,
    learning_rate: float = 1.0,
    **params: Any,
) -> tuple[SNES, Any]:
    """evosax ``SNES``; ``learning_rate`` is the SGD rate on the natural-gradient mean."""
    es = _SNES(population_size, solution, optimizer=optax.sgd(learning_rate))
    return es, _params(es, std_init=std_init, **params)


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
    return es, _params(es, std_init=std_init, c_cov=jnp.asarray(c_cov), **params)


STRATEGIES.register("eprnn-es", eprnn_es)  # Wang et al. EPRNN ES, spec 4.4


from hebbjax.evolution.gmm_es import gmm_es, najarro_es  # noqa: E402

STRATEGIES.register("gmm-es", gmm_es)  # Palm et al. shared rules, ant spec 2.4
STRATEGIES.register("najarro-es", najarro_es)  # Najarro & Risi's OpenAI-ES, spec 1.4


def make_strategy(
    name: str, population_size: int, solution: Solution, **overrides: Any
) -> tuple[DistributionBasedAlgorithm, Any]:
    """Build the strategy registered as ``name`` and its params.

    Args:
        name: a key of ``STRATEGIES`` (e.g. ``"paper-cmaes"``, ``"sep-cma-es"``).
        population_size: P.
        solution: genome template pytree (float leaves only).
        **overrides: factory keywords (``std_init``, ...) and ``Params`` fields.

    Returns:
        ``(es, params)`` ready for ``es.init(key, mean, params)``.

    Raises:
        ValueError: unknown name (listing the valid ones) or unknown override.
    """
    return STRATEGIES.get(name)(population_size, solution, **overrides)

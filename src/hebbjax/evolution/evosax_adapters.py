"""Every evosax 0.3 algorithm behind one interface: ``init(key, genome, params)``,
``ask``, ``tell`` (minimising) and ``get_mean(state) -> genome``.

evosax has two families. Distribution-based algorithms (CMA-ES, OpenAI-ES, SNES, ...) keep a
search distribution around a mean and start from one genome; they are used as they are.
Population-based ones (SimpleGA, DE, PSO, ...) keep a population and start from one; the
``PopulationBased`` adapter draws it around the initial genome (N(genome, std_init^2)) and
reports the best member seen so far as the "mean" (what hebbjax validates and saves). Stein
variational ones (SV-CMA-ES, SV-Open-ES) run several distributions side by side;
``SteinVariational`` starts them all from the genome (spread by ``std_init``) and reports
the mean of the distribution with the best individual so far.

evosax 0.3.2 broadcasts ``(D,)`` against ``(P, D)`` implicitly, which fails under
``jax_numpy_rank_promotion="raise"`` (the hebbjax test setting); ``allow_rank_promotion``
returns thin subclasses whose ``init``/``ask``/``tell`` trace with rank promotion allowed
(still instances of the evosax classes).
"""

from __future__ import annotations

import dataclasses
import inspect
import re
from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import optax

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


def allow_rank_promotion(cls: type) -> type:
    """``cls`` with ``init``/``ask``/``tell`` traced under allowed rank promotion."""
    return type(cls.__name__, (_AllowRankPromotion, cls), {"__doc__": cls.__doc__})


def evosax_algorithms() -> dict[str, type]:
    """evosax's algorithms by their own registry names (``evosax.algorithms``)."""
    from evosax.algorithms import algorithms

    return dict(algorithms)


def kebab(name: str) -> str:
    """evosax's registry name in kebab case: ``CMA_ES`` -> ``cma-es``, ``SimpleGA`` ->
    ``simple-ga``, ``iAMaLGaM_Full`` -> ``iamalgam-full``, ``xNES`` -> ``xnes``."""
    special = {
        "iAMaLGaM_Full": "iamalgam-full",
        "iAMaLGaM_Univariate": "iamalgam-univariate",
        "EvoTF_ES": "evotf-es",
        "xNES": "xnes",
    }
    if name in special:
        return special[name]
    parts = []
    for chunk in name.split("_"):
        # split CamelCase words, keep acronyms (ES, GA, LES, NES) whole
        parts += re.findall(
            r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z0-9]+|[a-z]+", chunk
        )
    return "-".join(p.lower() for p in parts)


def family(cls: type) -> str:
    """ "distribution", "population" or "stein" (several distributions)."""
    module = cls.__module__
    if ".sv." in module:
        return "stein"
    return "population" if "population_based" in module else "distribution"


class PopulationBased:
    """A population-based evosax algorithm with the distribution-based interface."""

    def __init__(self, algorithm: Any, std_init: float):
        self.algorithm = algorithm
        self.std_init = float(std_init)
        self.population_size = algorithm.population_size

    def __getattr__(self, name: str) -> Any:
        return getattr(self.algorithm, name)

    @property
    def default_params(self) -> Any:
        return self.algorithm.default_params

    def init(self, key: jax.Array, mean: Any, params: Any) -> Any:
        k_pop, k_init = jax.random.split(key)
        leaves, treedef = jax.tree.flatten(mean)
        keys = jax.random.split(k_pop, len(leaves))
        population = jax.tree.unflatten(
            treedef,
            [
                leaf[None]
                + self.std_init
                * jax.random.normal(k, (self.population_size, *leaf.shape), leaf.dtype)
                for leaf, k in zip(leaves, keys, strict=True)
            ],
        )
        worst = jnp.full((self.population_size,), jnp.finfo(jnp.float32).max)
        return self.algorithm.init(k_init, population, worst, params)

    def ask(self, key, state, params):
        return self.algorithm.ask(key, state, params)

    def tell(self, key, population, fitness, state, params):
        return self.algorithm.tell(key, population, fitness, state, params)

    def get_mean(self, state: Any) -> Any:
        return self.algorithm._unravel_solution(state.best_solution)


class SteinVariational(PopulationBased):
    """A Stein-variational evosax algorithm: several distributions, one genome out."""

    def __init__(self, algorithm: Any, std_init: float):
        self.algorithm = algorithm
        self.std_init = float(std_init)
        self.num_populations = algorithm.num_populations
        self.population_size = algorithm.total_population_size

    def init(self, key: jax.Array, mean: Any, params: Any) -> Any:
        k_means, k_init = jax.random.split(key)
        leaves, treedef = jax.tree.flatten(mean)
        keys = jax.random.split(k_means, len(leaves))
        n = self.num_populations
        means = jax.tree.unflatten(
            treedef,
            [
                leaf[None] + self.std_init * jax.random.normal(k, (n, *leaf.shape))
                for leaf, k in zip(leaves, keys, strict=True)
            ],
        )
        return self.algorithm.init(k_init, means, params)

    def tell(self, key, population, fitness, state, params):
        shape = (self.num_populations, self.algorithm.population_size)
        population = jax.tree.map(lambda x: x.reshape(*shape, *x.shape[1:]), population)
        return self.algorithm.tell(key, population, fitness, state, params)

    def get_mean(self, state: Any) -> Any:
        best = jnp.argmin(state.best_fitness)
        return self.algorithm._unravel_solution(state.mean[best])


def named_optimizer(optimizer: Any, learning_rate: float | None) -> Any:
    """An optax optimizer from a name ("adam", "sgd") and a rate, or as given."""
    if not isinstance(optimizer, str):
        return optimizer
    if optimizer not in OPTIMIZERS:
        raise ValueError(
            f"unknown optimizer {optimizer!r}; valid optimizers: {', '.join(OPTIMIZERS)}"
        )
    return OPTIMIZERS[optimizer](
        learning_rate=1e-3 if learning_rate is None else learning_rate
    )


def set_params(es: Any, **overrides: Any) -> Any:
    """``es.default_params`` with fields replaced (a ValueError lists the valid fields)."""
    params = es.default_params
    fields = [field.name for field in dataclasses.fields(params)]
    unknown = sorted(set(overrides) - set(fields))
    if unknown:
        raise ValueError(
            f"unknown parameter(s) {unknown} for {type(es).__name__}; "
            f"valid parameters: {', '.join(fields) or 'none'}"
        )
    for name in ("std_init", "c_cov"):
        if name in overrides:
            overrides[name] = jnp.asarray(overrides[name], jnp.float32)
    return params.replace(**overrides)


def constructor_options(cls: type) -> dict[str, Any]:
    """The keyword options of an evosax algorithm's constructor and their defaults."""
    skip = {
        "self",
        "population_size",
        "solution",
        "num_populations",
        "fitness_shaping_fn",
        "metrics_fn",
    }
    out = {}
    for name, p in inspect.signature(cls.__init__).parameters.items():
        if name not in skip and p.kind is p.POSITIONAL_OR_KEYWORD:
            out[name] = None if p.default is p.empty else p.default
    return out


def make_evosax(
    cls: type,
    population_size: int,
    solution: Any,
    *,
    std_init: float = 0.01,
    learning_rate: float | None = None,
    num_populations: int = 2,
    **options: Any,
) -> tuple[Any, Any]:
    """An evosax algorithm and its ``Params``: ``options`` go to the constructor when it
    takes them (``optimizer`` by name: "adam", "sgd"), else to ``Params`` fields.

    Args:
        cls: an evosax algorithm class.
        population_size: P (for Stein-variational algorithms, the total over
            ``num_populations`` equal populations).
        solution: genome template pytree.
        std_init: the initial search scale (and the spread of an initial population).
        learning_rate: the rate of ``optimizer`` when it is given by name (Adam when
            only the rate is given).
        num_populations: Stein-variational algorithms only.
    """
    accepted = constructor_options(cls)
    ctor = {k: options.pop(k) for k in list(options) if k in accepted}
    if "optimizer" in accepted and ("optimizer" in ctor or learning_rate is not None):
        ctor["optimizer"] = named_optimizer(
            ctor.get("optimizer", "adam"), learning_rate
        )
    elif learning_rate is not None:
        options["learning_rate"] = learning_rate
    if cls.__name__ == "RandomSearch" and "sampling_fn" not in ctor:
        leaves, treedef = jax.tree.flatten(solution)

        def sampling_fn(key):  # N(0, std_init^2) around the origin of each leaf
            keys = jax.random.split(key, len(leaves))
            return jax.tree.unflatten(
                treedef,
                [
                    std_init * jax.random.normal(k, leaf.shape)
                    for leaf, k in zip(leaves, keys, strict=True)
                ],
            )

        ctor["sampling_fn"] = sampling_fn
    safe = allow_rank_promotion(cls)
    kind = family(cls)
    if kind == "stein":
        if population_size % num_populations:
            raise ValueError(
                f"{cls.__name__} splits the population into {num_populations} equal "
                f"populations; {population_size} is not a multiple"
            )
        es = SteinVariational(
            safe(population_size // num_populations, num_populations, solution, **ctor),
            std_init,
        )
    elif kind == "population":
        es = PopulationBased(safe(population_size, solution, **ctor), std_init)
    else:
        es = safe(population_size, solution, **ctor)
    fields = {f.name for f in dataclasses.fields(es.default_params)}
    if "std_init" in fields:
        options.setdefault("std_init", std_init)
    try:
        params = set_params(es, **options)
    except ValueError as err:
        raise ValueError(
            f"{err}; constructor options: {', '.join(accepted) or 'none'}"
        ) from None
    return es, params

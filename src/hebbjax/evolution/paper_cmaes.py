"""The reference's diagonal CMA-ES ("ESTool") as an evosax algorithm.

Re-implements the outer loop of Wang et al. 2022 (DecPRNN code, EPA@4a6a749:
epann/EStool.py:76-298) from spec section 3.1, keeping its quirks:

* the pool is ``[m] + (P - 1)`` offspring: the unperturbed mean is evaluated every
  generation;
* each offspring is ``x = m + sigma * sqrt(C) * f * z`` where ``f`` is one "extra
  shaping" factor per parameter tensor (segment) and offspring, drawn from
  {0.708, 1.0, 1.225} with probabilities {0.05, 0.90, 0.05};
* truncation to the best ``K = P // 2`` scores with log-rank weights, no centred ranks;
* the rank-one covariance term uses the *previous* ``p_c``;
* the diagonal covariance is clipped to ``[1e-12, 1]`` (it can only shrink) and the
  step size to ``[1e-6, 1]``;
* the load quirk (``sigma <- sigma0``, ``C`` clipped to ``[0.64, 1]``) is offered as
  :func:`resume_state`, never applied implicitly.

Names follow evosax's ``Sep_CMA_ES``: ``std`` is the reference's sigma, ``C`` its
diagonal covariance ``c``, ``p_std`` its ``p_sigma``. evosax minimises, so ``tell``
expects lower-is-better fitness (hebbjax negates its fitness once, at ``tell``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import partial
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from evosax.algorithms.distribution_based import base as evosax_base
from evosax.core.fitness_shaping import identity_fitness_shaping_fn
from evosax.types import Fitness, Metrics, Population, Solution
from flax import struct

SHAPING_VALUES = (0.708, 1.0, 1.225)
SHAPING_PROBS = (0.05, 0.90, 0.05)


@struct.dataclass
class State(evosax_base.State):
    mean: jax.Array
    std: jax.Array
    p_std: jax.Array
    p_c: jax.Array
    C: jax.Array


@struct.dataclass
class Params(evosax_base.Params):
    std_init: jax.Array
    c_cov: jax.Array
    std_min: float
    std_max: float
    C_min: float
    C_max: float
    shaping_values: jax.Array
    shaping_probs: jax.Array


class PaperCMAESConstants(NamedTuple):
    """Derived constants of the reference ES (spec 3.1), fixed by D and K."""

    weights: np.ndarray
    mu_eff: float
    chi: float
    c_sigma: float
    d_sigma: float
    c_c: float
    l_m: float
    s_m: float
    p_thr: float


def paper_cmaes_constants(num_dims: int, num_elites: int) -> PaperCMAESConstants:
    """Constants of the reference ES for D = ``num_dims``, K = ``num_elites``.

    Args:
        num_dims: D, the genome length.
        num_elites: K, the number of parents (``P // 2`` in the reference).

    Returns:
        The recombination weights (K,) and the scalar constants of spec 3.1.
    """
    d = float(num_dims)
    ranks = np.arange(1, num_elites + 1, dtype=np.float64)
    weights = np.log(num_elites + 1.0) - np.log(ranks)
    weights /= weights.sum()
    mu_eff = 1.0 / float(np.sum(weights**2))
    chi = np.sqrt(d) * (1.0 - 1.0 / (4.0 * d) + 1.0 / (21.0 * d**2))
    c_sigma = (mu_eff + 2.0) / (d + mu_eff + 3.0)
    # Reference branch for mu_eff > D + 2; it differs from Hansen's
    # 1 + 2 max(0, sqrt((mu_eff - 1) / (D + 1)) - 1) + c_sigma.
    if mu_eff > d + 2.0:
        d_sigma = 1.0 + 2.0 * np.sqrt((mu_eff - d - 2.0) / (d + 1.0)) + c_sigma
    else:
        d_sigma = 1.0 + c_sigma
    c_c = 4.0 / (d + 4.0)
    return PaperCMAESConstants(
        weights=weights,
        mu_eff=mu_eff,
        chi=float(chi),
        c_sigma=c_sigma,
        d_sigma=float(d_sigma),
        c_c=c_c,
        l_m=float(np.sqrt(c_c * (2.0 - c_c) * mu_eff)),
        s_m=float(np.sqrt(c_sigma * (2.0 - c_sigma) * mu_eff)),
        p_thr=float(np.sqrt(2.0 * c_sigma) * (1.4 + 2.0 / (d + 1.0)) * chi),
    )


def segment_ids_from_solution(solution: Solution) -> np.ndarray:
    """Segment id of every coordinate of the ravelled solution: one segment per leaf.

    Leaves are taken in ``jax.tree.leaves`` order, which is the order of
    ``jax.flatten_util.ravel_pytree`` (sorted keys for dicts), so segment ``k`` is
    the ``k``-th parameter tensor of the reference's flat genome.
    """
    sizes = [int(np.size(leaf)) for leaf in jax.tree.leaves(solution)]
    return np.repeat(np.arange(len(sizes), dtype=np.int32), sizes)


def sample_shaping_factors(
    key: jax.Array,
    shape: Sequence[int],
    values: jax.Array,
    probs: jax.Array,
) -> jax.Array:
    """Draw i.i.d. "extra shaping" factors from ``values`` with probabilities ``probs``.

    Args:
        key: PRNG key.
        shape: output shape, e.g. ``(num_offspring, num_segments)``.
        values: candidate factors, shape (n,).
        probs: their probabilities, shape (n,), summing to 1.

    Returns:
        Array of ``shape`` whose entries are elements of ``values``.
    """
    idx = jax.random.categorical(key, jnp.log(probs), shape=tuple(shape))
    return jnp.asarray(values)[idx]


def metrics_fn(
    key: jax.Array,
    population: Population,
    fitness: Fitness,
    state: State,
    params: Params,
) -> Metrics:
    """evosax's distribution metrics plus the count of non-finite scores."""
    metrics = evosax_base.metrics_fn(key, population, fitness, state, params)
    return metrics | {"num_non_finite": jnp.sum(~jnp.isfinite(fitness))}


class PaperCMAES(evosax_base.DistributionBasedAlgorithm):
    """Diagonal CMA-ES of the DecPRNN reference code (spec 3.1), evosax interface."""

    def __init__(
        self,
        population_size: int,
        solution: Solution,
        elite_ratio: float = 0.5,
        segment_ids: np.ndarray | None = None,
        metrics_fn: Callable = metrics_fn,
    ):
        """Build the strategy.

        Args:
            population_size: P, including the unperturbed mean (at least 2).
            solution: template pytree of the genome; its leaves are the segments.
            elite_ratio: K = max(1, int(elite_ratio * P)); 0.5 gives the reference's
                ``P // 2``.
            segment_ids: optional int array (D,) overriding the per-leaf segments.
            metrics_fn: evosax-style metrics function.
        """
        if population_size < 2:
            raise ValueError("PaperCMAES needs population_size >= 2 (mean + offspring)")
        if not 0.0 < elite_ratio <= 1.0:
            raise ValueError(f"elite_ratio must be in (0, 1], got {elite_ratio}")
        super().__init__(
            population_size, solution, identity_fitness_shaping_fn, metrics_fn
        )
        self.elite_ratio = elite_ratio
        if segment_ids is None:
            segment_ids = segment_ids_from_solution(solution)
        segment_ids = np.asarray(segment_ids, dtype=np.int32)
        if segment_ids.shape != (self.num_dims,):
            raise ValueError(
                f"segment_ids has shape {segment_ids.shape}, "
                f"expected ({self.num_dims},)"
            )
        self.segment_ids = segment_ids
        self.num_segments = int(segment_ids.max()) + 1

    @property
    def constants(self) -> PaperCMAESConstants:
        return paper_cmaes_constants(self.num_dims, self.num_elites)

    @property
    def _default_params(self) -> Params:
        return Params(
            std_init=jnp.asarray(0.01),
            c_cov=jnp.asarray(0.02),
            std_min=1e-6,
            std_max=1.0,
            C_min=1e-12,
            C_max=1.0,
            shaping_values=jnp.asarray(SHAPING_VALUES),
            shaping_probs=jnp.asarray(SHAPING_PROBS),
        )

    def _init(self, key: jax.Array, params: Params) -> State:
        # Strong dtypes throughout, so the state after the first tell has the same
        # avals as the initial one and the second generation does not recompile.
        nan = jnp.full((self.num_dims,), jnp.nan, dtype=jnp.float32)
        return State(
            mean=nan,
            std=jnp.asarray(params.std_init, dtype=jnp.float32),
            p_std=jnp.zeros(self.num_dims, dtype=jnp.float32),
            p_c=jnp.zeros(self.num_dims, dtype=jnp.float32),
            C=jnp.ones(self.num_dims, dtype=jnp.float32),
            best_solution=nan,
            best_fitness=jnp.asarray(jnp.inf, dtype=jnp.float32),
            generation_counter=jnp.asarray(0, dtype=jnp.int32),
        )

    def _ask(
        self, key: jax.Array, state: State, params: Params
    ) -> tuple[Population, State]:
        key_shaping, key_noise = jax.random.split(key)
        num_offspring = self.population_size - 1
        factors = sample_shaping_factors(
            key_shaping,
            (num_offspring, self.num_segments),
            params.shaping_values,
            params.shaping_probs,
        )[:, self.segment_ids]
        z = jax.random.normal(key_noise, (num_offspring, self.num_dims))
        scale = state.std * jnp.sqrt(state.C)
        offspring = state.mean[None] + scale[None] * factors * z
        return jnp.concatenate([state.mean[None], offspring]), state

    def _tell(
        self,
        key: jax.Array,
        population: Population,
        fitness: Fitness,
        state: State,
        params: Params,
    ) -> State:
        const = self.constants
        valid = jnp.isfinite(fitness)
        num_valid = jnp.sum(valid)
        order = jnp.argsort(jnp.where(valid, fitness, jnp.inf))
        elite = order[: self.num_elites]
        # With fewer than K finite scores the reference truncates and renormalises
        # the weights; mu_eff and the other constants stay those of the full K.
        weights = jnp.where(
            jnp.arange(self.num_elites) < num_valid, jnp.asarray(const.weights), 0.0
        )
        weights = weights / jnp.maximum(jnp.sum(weights), 1e-30)
        elite_valid = valid[elite][:, None]
        # Steps rather than points: delta = sum w (x - m) equals m' - m since
        # sum w = 1, and avoids float32 cancellation when sigma is small.
        steps = jnp.where(elite_valid, population[elite] - state.mean[None], 0.0)
        delta = weights @ steps
        step_sq = weights @ jnp.square(steps)

        std, c_cov = state.std, params.c_cov
        p_std = (1.0 - const.c_sigma) * state.p_std + (const.s_m / std) * delta / (
            jnp.sqrt(state.C)
        )
        norm_p_std = jnp.linalg.norm(p_std)
        new_std = std * jnp.exp(
            (const.c_sigma / const.d_sigma) * (norm_p_std / const.chi - 1.0)
        )
        generation = state.generation_counter + 1
        h = (norm_p_std < const.p_thr * jnp.sqrt(generation + 1.0)).astype(std.dtype)
        p_c = (1.0 - const.c_c) * state.p_c + h * (const.l_m / std) * delta
        C = (
            (1.0 - c_cov) * state.C
            + (c_cov / const.mu_eff) * jnp.square(state.p_c)
            + c_cov * (1.0 - 1.0 / const.mu_eff) * step_sq / jnp.square(std)
        )
        updated = state.replace(
            mean=state.mean + delta,
            std=jnp.clip(new_std, params.std_min, params.std_max),
            p_std=p_std,
            p_c=p_c,
            C=jnp.clip(C, params.C_min, params.C_max),
        )
        # The reference raises on an all-NaN pool; under jit we keep the state.
        return jax.tree.map(
            lambda new, old: jnp.where(num_valid > 0, new, old), updated, state
        )

    @partial(jax.jit, static_argnames=("self",))
    def tell(
        self,
        key: jax.Array,
        population: Population,
        fitness: Fitness,
        state: State,
        params: Params,
    ) -> tuple[State, Metrics]:
        """Update with lower-is-better ``fitness``; NaN and +-inf count as worst.

        Metrics add ``num_non_finite`` and the updated ``std`` and ``C_mean``.
        """
        fitness = jnp.asarray(fitness)
        # -inf must not enter evosax's best-so-far archive: map all to +inf.
        fitness = jnp.where(jnp.isfinite(fitness), fitness, jnp.inf)
        state, metrics = super().tell(key, population, fitness, state, params)
        return state, metrics | {"std": state.std, "C_mean": jnp.mean(state.C)}


def resume_state(state: State, params: Params) -> State:
    """The reference's ``load()`` quirk (spec 3.1 quirk 4): reset sigma, floor C.

    ``EStool.load`` sets ``sigma <- sigma0`` and clips ``C`` to ``[0.64, 1]``. This is
    an opt-in reproduction of that behaviour; a plain resume from a checkpoint must
    use the saved state unchanged so that it continues exactly.
    """
    return state.replace(
        std=jnp.asarray(params.std_init, dtype=state.std.dtype),
        C=jnp.clip(state.C, 0.64, 1.0),
    )

"""The EPRNN outer loop: antithetic OpenAI-ES with per-tensor self-adapted noise scales.

Wang et al., "Do What Nature Did To Us" (EPRNN), Sec. 3 Eq. 10 and appendix A.1;
re-implemented from spec ``maze-decprnn-eprnn.md`` section 4.4 (reference EPA@c1d974d:
EStool.py:131-194), as an evosax algorithm (``init`` / ``ask`` / ``tell``, minimising):

- mirrored pairs: ``population_size`` must be even; offspring ``i`` and ``i + P/2`` are
  ``mean + eps_i`` and ``mean - eps_i`` (the reference's P = 400 gives 199 pairs, i.e.
  ``population_size = 398`` here);
- per-tensor noise ``eps_i[k] ~ N(0, (c_ik s_k)^2)`` where each pair draws, for every
  genome tensor k, a multiplier ``c_ik`` uniformly from {0.9, 1.1};
- update: centred ranks in [-0.5, 0.5] of the raw scores, standardised to zero mean and
  unit std, times the learning rate give ``f_i``; ``mean += sum_i f_i eps_i``, not
  divided by P or sigma (lr 0.02 as in the code; the paper's text says 0.2);
- step sizes: ``s_k <- max(1e-5, s_k + 1e-6 + (0.5 / T) sum_j (s_k^top_j - s_k^bottom_j))``
  over the T best and worst offspring by raw score, ``s_k^i = c_ik s_k``. The reference
  takes ``T = P_ref // 25`` of its population argument ``P_ref``, which yields
  ``(P_ref - 1) // 2`` pairs: 400 -> 199 pairs, T = 16. Here ``P_ref = P + 2`` (the even
  argument that gives P offspring), so P = 398 gets T = 16; ``num_extremes`` overrides it
  (e.g. ``P // 25`` = 15);
- initial ``s_k``: ``std_init`` (1e-2) for weights, biases and ``h_mem``;
  ``std_init_plasticity`` (1e-3) for tensors whose names hold ``hebbian`` or
  ``inner_lr`` (the Hebbian A-D and the inner learning rates).

Where the unit normals come from (``noise``): ``"threefry"`` (default) draws P/2 x D fresh
normals every generation with ``jax.random.normal``; at the EPRNN sizes (199 x 37,317) that
draw is most of ask + tell. ``"table"`` reads each pair's z from OpenAI-ES's shared noise
table (``evolution.noise_table``: one offset per pair), another random stream.

hebbjax fitness is higher-is-better and negated once at ``tell``; here the raw score is
``-fitness``. Non-finite fitness counts as the worst.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from functools import partial
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from evosax.algorithms.distribution_based import base as evosax_base
from evosax.types import Fitness, Metrics, Population, Solution
from flax import struct

from hebbjax.evolution.noise_table import DEFAULT_SIZE, draw_offsets, table_for, windows

PLASTICITY_MARKERS = ("hebbian", "inner_lr")
MULTIPLIERS = (0.9, 1.1)


@struct.dataclass
class State(evosax_base.State):
    mean: jax.Array
    std: jax.Array  # (n_segments,) per-tensor s_k
    factors: jax.Array  # (P / 2, n_segments) multipliers of the last ask


@struct.dataclass
class Params(evosax_base.Params):
    std_init: jax.Array
    std_init_plasticity: jax.Array
    learning_rate: jax.Array
    std_min: float
    std_drift: float
    multipliers: jax.Array


def plasticity_segments(
    solution: Solution, markers: Sequence[str] = PLASTICITY_MARKERS
) -> np.ndarray:
    """Boolean per leaf (``jax.tree.leaves`` order): does its key name a plasticity gene?"""
    paths = jax.tree_util.tree_flatten_with_path(solution)[0]
    names = [jax.tree_util.keystr(path).lower() for path, _ in paths]
    return np.array([any(m in name for m in markers) for name in names], dtype=bool)


def reference_num_extremes(population_size: int) -> int:
    """T of the reference's step-size rule for P offspring: ``(P + 2) // 25``, at least 1.

    The reference (EStool.py) is given ``P_ref`` and evaluates ``(P_ref - 1) // 2``
    mirrored pairs, with ``T = P_ref // 25``; ``P_ref = P + 2`` is its even argument that
    gives P offspring (400 for 398: T = 16, where ``P // 25`` would be 15).
    """
    return max(1, (population_size + 2) // 25)


def centred_ranks(score: jax.Array) -> jax.Array:
    """Ranks of ``score`` (0 = lowest) mapped linearly onto [-0.5, 0.5]."""
    ranks = jnp.argsort(jnp.argsort(score)).astype(jnp.float32)
    return ranks / (score.shape[0] - 1) - 0.5


class EPRNNES(evosax_base.DistributionBasedAlgorithm):
    """Antithetic OpenAI-ES with per-tensor self-adapted scales (spec 4.4)."""

    def __init__(
        self,
        population_size: int,
        solution: Solution,
        plasticity_markers: Sequence[str] = PLASTICITY_MARKERS,
        num_extremes: int | None = None,
        noise: str = "threefry",
        noise_table_size: int = DEFAULT_SIZE,
    ):
        """Build the strategy.

        Args:
            population_size: P, even (P / 2 mirrored pairs), at least 4.
            solution: genome template; each leaf is one noise segment.
            plasticity_markers: substrings of leaf names that get ``std_init_plasticity``.
            num_extremes: T, the best and worst offspring of the step-size rule;
                ``None``: ``reference_num_extremes(P)`` (16 for P = 398).
            noise: ``"threefry"`` (fresh normals) or ``"table"`` (windows of a shared
                table of ``noise_table_size`` normals, at least the genome's size).
        """
        if population_size < 4 or population_size % 2:
            raise ValueError(
                f"eprnn-es needs an even population of at least 4, got {population_size}"
            )
        super().__init__(population_size, solution, metrics_fn=evosax_base.metrics_fn)
        sizes = [int(np.size(leaf)) for leaf in jax.tree.leaves(solution)]
        self.segment_ids = np.repeat(np.arange(len(sizes), dtype=np.int32), sizes)
        self.num_segments = len(sizes)
        self.is_plasticity = plasticity_segments(solution, plasticity_markers)
        self.num_pairs = population_size // 2
        if num_extremes is None:
            num_extremes = reference_num_extremes(population_size)
        if not 1 <= num_extremes <= population_size // 2:
            raise ValueError(
                f"num_extremes must be in [1, {population_size // 2}] for P = "
                f"{population_size}, got {num_extremes}"
            )
        self.num_extremes = int(num_extremes)
        self.noise = noise
        # the shared table of unit normals (noise="table"), None with "threefry"
        self.noise_table = table_for(noise, noise_table_size, self.num_dims, "eprnn-es")
        self.treedef = jax.tree.structure(solution)
        ends = np.cumsum(sizes)
        self.leaf_bounds = tuple(
            zip((0, *ends[:-1].tolist()), ends.tolist(), strict=True)
        )

    @property
    def _default_params(self) -> Params:
        return Params(
            std_init=jnp.asarray(1e-2, jnp.float32),
            std_init_plasticity=jnp.asarray(1e-3, jnp.float32),
            learning_rate=jnp.asarray(0.02, jnp.float32),
            std_min=1e-5,
            std_drift=1e-6,
            multipliers=jnp.asarray(MULTIPLIERS, jnp.float32),
        )

    def _init(self, key: jax.Array, params: Params) -> State:
        nan = jnp.full((self.num_dims,), jnp.nan, dtype=jnp.float32)
        std = jnp.where(
            jnp.asarray(self.is_plasticity), params.std_init_plasticity, params.std_init
        ).astype(jnp.float32)
        return State(
            mean=nan,
            std=std,
            factors=jnp.ones((self.num_pairs, self.num_segments), jnp.float32),
            best_solution=nan,
            best_fitness=jnp.asarray(jnp.inf, dtype=jnp.float32),
            generation_counter=jnp.asarray(0, dtype=jnp.int32),
        )

    def _draw(self, key: jax.Array, state: State, params: Params):
        """The pair multipliers c_ik (P/2, n_segments) and the pairs' noise: unit normals
        z (P/2, D) (threefry) or one table offset per pair (P/2,) (table)."""
        k_factor, k_noise = jax.random.split(key)
        pick = jax.random.randint(k_factor, (self.num_pairs, self.num_segments), 0, 2)
        if self.noise == "table":
            size = self.noise_table.shape[0]
            noise = draw_offsets(k_noise, self.num_pairs, size, self.num_dims)
        else:
            noise = jax.random.normal(k_noise, (self.num_pairs, self.num_dims))
        return params.multipliers[pick], noise

    def _columns(self, noise: jax.Array, params: Params, a: int, b: int) -> jax.Array:
        """The unit normals ``z[:, a:b]`` of the pairs: a slice of the draw, or each pair's
        table window ``table[o_i + a : o_i + b]``."""
        if self.noise != "table":
            return noise[:, a:b]
        return windows(self.noise_table, noise, a, b)

    def _ask(
        self, key: jax.Array, state: State, params: Params
    ) -> tuple[Population, State]:
        """The flat population (P, D): ``mean + eps_i``, then ``mean - eps_i``."""
        factors, noise = self._draw(key, state, params)
        z = self._columns(noise, params, 0, self.num_dims)
        eps = (state.std[None, :] * factors)[:, self.segment_ids] * z
        population = jnp.concatenate(
            [state.mean[None, :] + eps, state.mean[None, :] - eps]
        )
        return population, state.replace(factors=factors)

    @partial(jax.jit, static_argnames=("self",))
    def ask(
        self, key: jax.Array, state: State, params: Params
    ) -> tuple[Population, State]:
        """The population as genome pytrees: ``_ask`` then unravel (the same numbers up to
        a multiply-add XLA may contract differently), computed leaf by leaf (each leaf's scale is one number per pair) without the
        per-element gather of scales and the flat (P, D) copy."""
        factors, noise = self._draw(key, state, params)
        scale = state.std[None, :] * factors
        means = jax.tree.leaves(self._unravel_solution(state.mean))
        leaves = []
        for k, (mean, (a, b)) in enumerate(zip(means, self.leaf_bounds, strict=True)):
            z = self._columns(noise, params, a, b)
            eps = (scale[:, k, None] * z).reshape(self.num_pairs, *mean.shape)
            leaves.append(jnp.concatenate([mean[None] + eps, mean[None] - eps]))
        return jax.tree.unflatten(self.treedef, leaves), state.replace(factors=factors)

    def _tell(
        self,
        key: jax.Array,
        population: Population,
        fitness: Fitness,
        state: State,
        params: Params,
    ) -> State:
        return self._update(population[: self.num_pairs], fitness, state, params)

    def _update(
        self, first: jax.Array, fitness: Fitness, state: State, params: Params
    ) -> State:
        """The update from the first offspring of each pair, ``first`` (P/2, D) = mean +
        eps_i: the partner is mean - eps_i, so sum_i f_i eps_i over all P offspring is
        sum over pairs of (f_i - f_(i+P/2)) eps_i (half the passes over the noise)."""
        score = -fitness  # higher is better
        shaped = centred_ranks(score)
        shaped = (shaped - jnp.mean(shaped)) / jnp.std(shaped) * params.learning_rate
        pairs = self.num_pairs
        eps = first - state.mean[None, :]
        mean = state.mean + (shaped[:pairs] - shaped[pairs:]) @ eps

        order = jnp.argsort(-score)
        t = self.num_extremes
        pair_of = jnp.arange(self.population_size) % self.num_pairs
        used = state.std[None, :] * state.factors[pair_of]  # (P, n_segments)
        top, bottom = used[order[:t]], used[order[-t:]]
        std = state.std + params.std_drift + (0.5 / t) * jnp.sum(top - bottom, axis=0)
        return state.replace(mean=mean, std=jnp.maximum(params.std_min, std))

    @partial(jax.jit, static_argnames=("self",))
    def tell(
        self,
        key: jax.Array,
        population: Population,
        fitness: Fitness,
        state: State,
        params: Params,
    ) -> tuple[State, Metrics]:
        """Update with lower-is-better ``fitness``; non-finite values count as worst.

        Reads only the first offspring of each pair (raveled, P/2 x D) and the best one;
        the metrics are evosax's, without the population-sized entries.
        """
        fitness = jnp.asarray(fitness)
        fitness = jnp.where(jnp.isfinite(fitness), fitness, jnp.inf)
        first = jax.tree.map(lambda x: x[: self.num_pairs], population)
        first = jax.vmap(self._ravel_solution)(first)
        best = jnp.argmin(fitness)
        best_row = self._ravel_solution(jax.tree.map(lambda x: x[best], population))
        improved = fitness[best] < state.best_fitness
        state = state.replace(
            best_solution=jnp.where(improved, best_row, state.best_solution),
            best_fitness=jnp.where(improved, fitness[best], state.best_fitness),
        )
        metrics = {  # as evosax's: counter and mean before the update
            "generation_counter": state.generation_counter,
            "best_fitness_in_generation": fitness[best],
            "best_fitness": state.best_fitness,
            "mean_norm": jnp.linalg.norm(state.mean),
        }
        state = self._update(first, fitness, state, params)
        state = state.replace(generation_counter=state.generation_counter + 1)
        return state, metrics | {"std": jnp.mean(state.std)}


def eprnn_es(
    population_size: int,
    solution: Solution,
    *,
    std_init: float = 0.01,
    std_init_plasticity: float = 1e-3,
    learning_rate: float = 0.02,
    plasticity_markers: Sequence[str] = PLASTICITY_MARKERS,
    num_extremes: int | None = None,
    noise: str = "threefry",
    noise_table_size: int = DEFAULT_SIZE,
    **params: Any,
) -> tuple[EPRNNES, Params]:
    """The EPRNN paper's ES (spec 4.4): lr 0.02, s = 1e-2 / 1e-3 (plasticity genes).

    Args:
        population_size: P, even.
        solution: genome template pytree.
        std_init: initial s_k of weights, biases and ``h_mem``.
        std_init_plasticity: initial s_k of Hebbian A-D and ``inner_lr``.
        learning_rate: 0.02 (reference code); the paper's text says 0.2.
        plasticity_markers: name substrings of the plasticity genes.
        num_extremes: T of the step-size rule; ``None``: the reference's,
            ``(P + 2) // 25`` (16 for P = 398); ``population_size // 25`` gives 15.
        noise: ``"threefry"`` (the default: fresh normals every generation) or
            ``"table"`` (the shared noise table of OpenAI-ES: faster at large genomes,
            another random stream).
        noise_table_size: the table's length with ``noise="table"`` (2^24: 64 MB).
        **params: other ``Params`` fields (``std_min``, ``std_drift``, ``multipliers``).
    """
    es = EPRNNES(
        population_size,
        solution,
        plasticity_markers,
        num_extremes,
        noise=noise,
        noise_table_size=noise_table_size,
    )
    default = es.default_params
    fields = [f.name for f in dataclasses.fields(default)]
    unknown = sorted(set(params) - set(fields))
    if unknown:
        raise ValueError(
            f"unknown parameter(s) {unknown} for eprnn-es; valid: {', '.join(fields)}"
        )
    if "multipliers" in params:
        params["multipliers"] = jnp.asarray(params["multipliers"], jnp.float32)
    return es, default.replace(
        std_init=jnp.asarray(std_init, jnp.float32),
        std_init_plasticity=jnp.asarray(std_init_plasticity, jnp.float32),
        learning_rate=jnp.asarray(learning_rate, jnp.float32),
        **params,
    )

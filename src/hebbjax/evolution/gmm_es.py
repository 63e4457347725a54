"""Shared Hebbian rules as a Gaussian mixture (the "genomic bottleneck"), and Najarro's ES.

Palm, Najarro & Risi 2021, "Testing the genomic bottleneck hypothesis in Hebbian
meta-learning" (sec. 3; spec ``hebbian-ant-brax.md`` 2.3-2.4, 4.5). Each of the N synapses
draws its rule from a mixture of M = int(N / rho) Gaussians with shared means
mu (M x K) ~ N(0, 1) and per-synapse assignment logits lambda (N x M) = 0:

    z_n ~ Categorical(softmax(lambda_n)),  h_n ~ N(mu_{z_n}, sigma^2 I_K)

and (mu, lambda) follow the score-function estimator with centred-rank, normalised
(ddof 1, + 1e-8) fitness F~_i, as [S] evostrat's ``GMMPopulation``:

    g = (1/P) sum_i F~_i grad log p(h_i),  log p(h) = sum_n log sum_k pi_nk N(h_n; mu_k, s^2)
    d/d lambda_n = r_n - softmax(lambda_n),   d/d mu_k = sum_n r_nk (h_n - mu_k) / s^2

with r the posterior responsibilities. The closed forms are accumulated over the population in
chunks of ``chunk_size`` individuals (a ``lax.scan``), so the largest transient is
chunk x N x M rather than P x N x M: every rho runs, down to rho = 1 (M = N; [P] itself could
not run rho < 32). Sampling uses the inverse CDF per synapse (``searchsorted``), so ``ask`` holds
P x N integers, never P x N x M Gumbel noise. sigma decays by ``std_decay`` per generation.

The class follows evosax 0.3.2's ``init(key, mean, params)`` / ``ask(key, state, params)`` /
``tell(key, x, fitness, state, params)`` and minimises ``fitness``. The genome pytree is read as
N rules of K numbers when all leaves share their last axis (the Hebbian network's
(..., 5) coefficients), else as scalars (K = 1). ``get_mean`` returns each synapse's most likely
rule, mu[argmax lambda_n].

``najarro_es`` is [E]'s OpenAI-ES (spec 1.4, 4.5): evosax ``Open_ES`` with antithetic sampling,
SGD lr 0.2 x 0.995^t (floor 1e-3), sigma 0.1 x 0.999^t (floor 0.01), centred ranks then
standardised; it is also [P]'s rho = 1 ``NormalPopulation``.
"""

from __future__ import annotations

import math
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import optax


class GMMParams(NamedTuple):
    std_init: jax.Array
    std_decay: jax.Array
    std_min: jax.Array


class GMMState(NamedTuple):
    means: jax.Array  # (M, K)
    logits: jax.Array  # (N, M)
    opt_state: Any
    std: jax.Array
    generation_counter: jax.Array
    best_fitness: jax.Array  # lowest value seen (evosax convention)


def centered_normalized_ranks(values: jax.Array) -> jax.Array:
    """[S] util: ranks / (P - 1) - 0.5, then zero mean and unit std (ddof 1, + 1e-8)."""
    n = values.shape[0]
    ranks = jnp.argsort(jnp.argsort(values)).astype(jnp.float32)
    centred = ranks / (n - 1) - 0.5
    return (centred - jnp.mean(centred)) / (jnp.std(centred, ddof=1) + 1e-8)


def mixture_gradient(
    means: jax.Array,
    logits: jax.Array,
    samples: jax.Array,
    weights: jax.Array,
    std: jax.Array,
    chunk_size: int = 8,
) -> tuple[jax.Array, jax.Array]:
    """(1/P) sum_i w_i grad_{mu, lambda} log p(h_i), chunked over individuals.

    Args:
        means: (M, K); logits: (N, M); samples: (P, N, K); weights: (P,) shaped fitness;
        std: the mixture sigma; chunk_size: individuals per chunk.
    Returns:
        (grad_means (M, K), grad_logits (N, M)), ascent directions.
    """
    p = samples.shape[0]
    c = max(1, min(chunk_size, p))
    pad = -p % c
    samples = jnp.concatenate([samples, jnp.zeros((pad,) + samples.shape[1:])])
    weights = jnp.concatenate([weights, jnp.zeros((pad,), weights.dtype)])
    log_pi = jax.nn.log_softmax(logits, axis=-1)
    inv_var = 1.0 / jnp.square(std)
    half_norm = 0.5 * inv_var * jnp.sum(jnp.square(means), axis=-1)

    def chunk(acc, xs):
        h, w = xs  # (c, N, K), (c,)
        score = log_pi[None] + inv_var * (h @ means.T) - half_norm[None, None]
        r = jax.nn.softmax(score, axis=-1)  # (c, N, M)
        wr = w[:, None, None] * r
        acc_l, acc_0, acc_1 = acc
        acc_l = acc_l + jnp.sum(wr, axis=0)
        acc_0 = acc_0 + jnp.sum(wr, axis=(0, 1))
        acc_1 = acc_1 + jnp.einsum("cnm,cnk->mk", wr, h)
        return (acc_l, acc_0, acc_1), None

    zeros = (jnp.zeros_like(logits), jnp.zeros(means.shape[0]), jnp.zeros_like(means))
    xs = (samples.reshape((-1, c) + samples.shape[1:]), weights.reshape(-1, c))
    (acc_l, acc_0, acc_1), _ = jax.lax.scan(chunk, zeros, xs)
    grad_logits = (acc_l - jnp.sum(weights) * jnp.exp(log_pi)) / p
    grad_means = inv_var * (acc_1 - means * acc_0[:, None]) / p
    return grad_means, grad_logits


class GaussianMixtureES:
    """Palm et al.'s GMM population over per-synapse rules (evosax-style, minimising)."""

    def __init__(
        self,
        population_size: int,
        solution: Any,
        rho: int | str | None = None,
        optimizer: optax.GradientTransformation | None = None,
        chunk_size: int = 8,
        init_scale: float = 1.0,
    ):
        leaves, self._treedef = jax.tree.flatten(solution)
        self._shapes = [tuple(np.shape(x)) for x in leaves]
        lasts = {s[-1] if s else 1 for s in self._shapes}
        self.rule_dim = lasts.pop() if len(lasts) == 1 else 1
        self.num_dims = sum(math.prod(s) for s in self._shapes)
        self.n_synapses = self.num_dims // self.rule_dim
        if rho == "N":
            rho = self.n_synapses
        if (
            rho is None
        ):  # Palm et al.'s 128, for genomes with at least that many synapses
            rho = min(128, self.n_synapses)
        rho = int(rho)
        if not 1 <= rho <= self.n_synapses:
            raise ValueError(f"rho must lie in [1, N={self.n_synapses}] or be 'N'")
        self.rho = rho
        self.n_rules = max(1, int(self.n_synapses / rho))
        self.population_size = population_size
        self.optimizer = optimizer or optax.sgd(optax.exponential_decay(0.2, 1, 0.995))
        self.chunk_size = chunk_size
        self.init_scale = init_scale

    @property
    def default_params(self) -> GMMParams:
        return GMMParams(jnp.float32(0.1), jnp.float32(0.999), jnp.float32(0.0))

    def _unravel(self, flat: jax.Array) -> Any:
        parts, start = [], 0
        for shape in self._shapes:
            size = math.prod(shape)
            parts.append(
                flat[..., start : start + size].reshape(flat.shape[:-1] + shape)
            )
            start += size
        return jax.tree.unflatten(self._treedef, parts)

    def _ravel(self, tree: Any) -> jax.Array:
        leaves = jax.tree.leaves(tree)
        lead = leaves[0].shape[: leaves[0].ndim - len(self._shapes[0])]
        flat = [x.reshape(lead + (-1,)) for x in leaves]
        return jnp.concatenate(flat, axis=-1).reshape(
            lead + (self.n_synapses, self.rule_dim)
        )

    def init(self, key: jax.Array, mean: Any, params: GMMParams) -> GMMState:
        """mu ~ N(0, init_scale^2), lambda = 0 ([S]); ``mean`` fixes only the layout."""
        means = self.init_scale * jax.random.normal(
            key, (self.n_rules, self.rule_dim), jnp.float32
        )
        logits = jnp.zeros((self.n_synapses, self.n_rules), jnp.float32)
        return GMMState(
            means,
            logits,
            self.optimizer.init((means, logits)),
            jnp.asarray(params.std_init, jnp.float32),
            jnp.int32(0),
            jnp.float32(jnp.inf),
        )

    def sample(self, key: jax.Array, state: GMMState, n: int) -> jax.Array:
        """n individuals as (n, N, K): inverse-CDF cluster draw, then Gaussian noise."""
        k_z, k_eps = jax.random.split(key)
        cdf = jnp.cumsum(jax.nn.softmax(state.logits, axis=-1), axis=-1)
        u = jax.random.uniform(k_z, (n, self.n_synapses)) * cdf[None, :, -1]
        per_synapse = jax.vmap(lambda c, v: jnp.searchsorted(c, v, side="right"))
        z = jax.vmap(per_synapse, in_axes=(None, 0))(cdf, u)
        z = jnp.minimum(z, self.n_rules - 1)
        eps = jax.random.normal(k_eps, (n, self.n_synapses, self.rule_dim))
        return state.means[z] + state.std * eps

    def ask(self, key: jax.Array, state: GMMState, params: GMMParams):
        h = self.sample(key, state, self.population_size)
        return self._unravel(h.reshape(self.population_size, -1)), state

    def tell(self, key: jax.Array, population: Any, fitness: jax.Array, state, params):
        samples = self._ravel(population)
        weights = centered_normalized_ranks(-fitness)  # fitness is minimised
        g_means, g_logits = mixture_gradient(
            state.means, state.logits, samples, weights, state.std, self.chunk_size
        )
        grads = (-g_means, -g_logits)  # optax descends
        updates, opt_state = self.optimizer.update(
            grads, state.opt_state, (state.means, state.logits)
        )
        means, logits = optax.apply_updates((state.means, state.logits), updates)
        std = jnp.maximum(state.std * params.std_decay, params.std_min)
        best = jnp.minimum(state.best_fitness, jnp.min(fitness))
        new = GMMState(
            means, logits, opt_state, std, state.generation_counter + 1, best
        )
        metrics = dict(
            best_fitness=best,
            best_fitness_in_generation=jnp.min(fitness),
            generation_counter=new.generation_counter,
        )
        return new, metrics

    def get_mean(self, state: GMMState) -> Any:
        """Each synapse's most likely rule, mu[argmax lambda_n], as a genome pytree."""
        rules = state.means[jnp.argmax(state.logits, axis=-1)]
        return self._unravel(rules.reshape(-1))

    def state_bytes(self) -> int:
        """Bytes of the distribution and optimiser state (float32)."""
        state = jax.eval_shape(
            lambda: self.init(jax.random.key(0), None, self.default_params)
        )
        return sum(4 * math.prod(x.shape) for x in jax.tree.leaves(state))


def gmm_es(
    population_size: int,
    solution: Any,
    *,
    std_init: float = 0.1,
    rho: int | str | None = None,
    learning_rate: float = 0.2,
    lr_decay: float = 0.995,
    optimizer: str = "sgd",
    std_decay: float = 0.999,
    std_min: float = 0.0,
    chunk_size: int = 8,
    init_scale: float = 1.0,
) -> tuple[GaussianMixtureES, GMMParams]:
    """Palm et al.'s shared-rule GMM, rho = N / M synapses per rule ("N": one rule).

    Args:
        population_size: P.
        solution: genome template (the Hebbian network's coefficients).
        std_init: sigma of every mixture component (0.1).
        rho: compression factor; M = int(N / rho); default 128 (at most N).
        learning_rate, lr_decay: optimizer rate, multiplied by lr_decay each generation
            ([P]'s rho runs: SGD 0.2 x 0.995; "best ant": adam 1.0 x 0.5^(1/100)).
        optimizer: "sgd" or "adam".
        std_decay, std_min: sigma x std_decay per generation, floored at std_min.
        chunk_size: individuals per chunk of the gradient accumulation (memory knob).
        init_scale: std of the initial means.
    """
    makers = {"sgd": optax.sgd, "adam": optax.adam}
    if optimizer not in makers:
        raise ValueError(
            f"unknown optimizer {optimizer!r}; valid optimizers: {', '.join(makers)}"
        )
    schedule = optax.exponential_decay(learning_rate, 1, lr_decay)
    es = GaussianMixtureES(
        population_size,
        solution,
        rho=rho,
        optimizer=makers[optimizer](schedule),
        chunk_size=chunk_size,
        init_scale=init_scale,
    )
    params = GMMParams(
        jnp.float32(std_init), jnp.float32(std_decay), jnp.float32(std_min)
    )
    return es, params


def najarro_es(
    population_size: int,
    solution: Any,
    *,
    std_init: float = 0.1,
    learning_rate: float = 0.2,
    lr_decay: float = 0.995,
    lr_min: float = 1e-3,
    std_decay: float = 0.999,
    std_min: float = 0.01,
) -> tuple[Any, Any]:
    """[E]'s OpenAI-ES as evosax ``Open_ES`` (spec 4.5); P must be even."""
    from evosax.algorithms import Open_ES
    from evosax.core.fitness_shaping import (
        centered_rank_fitness_shaping_fn,
        standardize_fitness_shaping_fn,
    )

    from hebbjax.evolution.evosax_adapters import allow_rank_promotion

    if population_size % 2:
        raise ValueError(f"najarro-es needs an even population, got {population_size}")

    def rank_then_standardize(population, fitness, state, params):
        ranks = centered_rank_fitness_shaping_fn(population, fitness, state, params)
        return standardize_fitness_shaping_fn(population, ranks, state, params)

    es = allow_rank_promotion(Open_ES)(
        population_size,
        solution,
        use_antithetic_sampling=True,
        optimizer=optax.sgd(
            optax.exponential_decay(learning_rate, 1, lr_decay, end_value=lr_min)
        ),
        std_schedule=optax.exponential_decay(std_init, 1, std_decay, end_value=std_min),
        fitness_shaping_fn=rank_then_standardize,
    )
    return es, es.default_params

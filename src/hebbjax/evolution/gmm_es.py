"""Shared Hebbian rules as a Gaussian mixture (the "genomic bottleneck").

Palm, Najarro & Risi 2021, "Testing the genomic bottleneck hypothesis in Hebbian
meta-learning" (sec. 3.4, Eq. 2-3; spec ``hebbian-ant-brax.md`` 2.3-2.4, 4.5). Each of the N
synapses draws its rule from a mixture of M = int(N / rho) Gaussians with shared means
mu (M x K) ~ N(0, 1) and per-synapse assignment logits lambda (N x M) = 0:

    z_n ~ Categorical(softmax(lambda_n)),  h_n ~ N(mu_{z_n}, sigma^2 I_K)

and (mu, lambda) follow the score-function estimator (Eq. 2) with centred-rank, normalised
(ddof 1, + 1e-8) fitness F~_i, as [S] evostrat's ``GMMPopulation``:

    g = (1/P) sum_i F~_i grad log p(h_i),  log p(h) = sum_n log sum_k pi_nk N(h_n; mu_k, s^2)
    d/d lambda_n = r_n - softmax(lambda_n),   d/d mu_k = sum_n r_nk (h_n - mu_k) / s^2

with r the posterior responsibilities. The closed forms are accumulated over the population one
individual at a time in ``chunk_size`` runs side by side, so the largest transient is
chunk x N x M rather than P x N x M: every rho runs, down to rho = 1 (M = N; [P] itself could
not run rho < 32). Sampling uses the inverse CDF per synapse (``searchsorted``), so ``ask`` holds
P x N integers, never P x N x M Gumbel noise. sigma decays by ``std_decay`` per generation.
The P x N x K unit normals of the noise are most of ``ask``: ``noise="table"`` reads each
individual's from a window of OpenAI-ES's shared noise table (``evolution.noise_table``),
another random stream; ``"threefry"`` (the default) draws them fresh, as [S]. On the ant it
saves little (ask + tell 1.15x, ``benchmarks/results/eprnn/noise_table.md``): the tell's
mixture gradient is most of the rest.

Mixed genomes (the car's Hebbian CNN): only the *rule leaves*, whose path holds a name in
``rule_leaves`` (default ``"coeffs"``), are drawn from the mixture; every other leaf (the
convolutions) is a *direct* gene, x = nu + sigma eps without mirroring, as [P@dc2d0ba]'s
``MixedNormalAndGMMPopulation`` (paper sec. 3.3), with d/d nu = (1/P) sum_i F~_i (x_i - nu) /
sigma^2 in the same optimiser step as (mu, lambda). sigma and its 0.999 decay are shared (in
evostrat 1.4.1 the CNN's sigma in fact stayed 0.1; here 0.074 after 300 generations). Rule
leaves must then share their last axis K. With no rule leaf (or ``rule_leaves=""``) the whole
genome is read as N rules of K numbers when all leaves share their last axis, else as
scalars (K = 1): the ant's genome is all rules either way.

The class follows evosax 0.3.2's ``init(key, mean, params)`` /
``ask(key, state, params)`` / ``tell(key, x, fitness, state, params)`` and minimises
``fitness``. ``get_mean`` returns each synapse's most likely rule, mu[argmax lambda_n],
and the direct genes' mean nu.
"""

from __future__ import annotations

import math
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import optax

from hebbjax.evolution.evosax_adapters import named_optimizer
from hebbjax.evolution.gmm_gradient import (  # noqa: F401  (re-exported)
    centered_normalized_ranks,
    direct_gradient,
    mixture_gradient,
)
from hebbjax.evolution.noise_table import DEFAULT_SIZE, table_for, table_normals


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
    direct_mean: jax.Array | None = None  # (D,) nu of the direct genes; None: all rules


def leaf_name(path: tuple) -> str:
    """A pytree path as ``layer_1/coeffs`` (dict keys, attribute names, indices)."""
    parts = (getattr(k, "key", getattr(k, "name", getattr(k, "idx", k))) for k in path)
    return "/".join(str(p) for p in parts)


def rule_leaf_mask(solution: Any, rule_leaves: str = "coeffs") -> tuple[bool, ...]:
    """Per leaf (``jax.tree.leaves`` order): does its path hold one of the
    comma-separated names of ``rule_leaves``? All ``True`` when none matches."""
    markers = [m.strip().lower() for m in rule_leaves.split(",") if m.strip()]
    paths = jax.tree_util.tree_flatten_with_path(solution)[0]
    mask = tuple(any(m in leaf_name(p).lower() for m in markers) for p, _ in paths)
    return mask if any(mask) else (True,) * len(mask)


class GaussianMixtureES:
    """Palm et al.'s GMM population over per-synapse rules (evosax-style, minimising);
    leaves outside ``rule_leaves`` follow a plain Gaussian ([P]'s mixed population)."""

    def __init__(
        self,
        population_size: int,
        solution: Any,
        rho: int | str | None = None,
        optimizer: optax.GradientTransformation | None = None,
        chunk_size: int = 1,
        init_scale: float = 1.0,
        rule_leaves: str = "coeffs",
        direct_init: str = "genome",
        noise: str = "threefry",
        noise_table_size: int = DEFAULT_SIZE,
    ):
        paths, self._treedef = jax.tree_util.tree_flatten_with_path(solution)
        self.leaf_names = tuple(leaf_name(p) for p, _ in paths)
        self._shapes = [tuple(np.shape(x)) for _, x in paths]
        self.is_rule = rule_leaf_mask(solution, rule_leaves)
        rule_shapes = [s for s, r in zip(self._shapes, self.is_rule, strict=True) if r]
        if all(self.is_rule):
            lasts = {s[-1] if s else 1 for s in rule_shapes}
            self.rule_dim = lasts.pop() if len(lasts) == 1 else 1
        else:
            lasts = {s[-1] if s else None for s in rule_shapes}
            if len(lasts) != 1 or None in lasts:
                rules = ", ".join(
                    f"{n} {s}"
                    for n, s, r in zip(
                        self.leaf_names, self._shapes, self.is_rule, strict=True
                    )
                    if r
                )
                raise ValueError(
                    "rule leaves must share their last axis (the K rule coefficients); "
                    f"rule_leaves={rule_leaves!r} selects {rules}"
                )
            self.rule_dim = lasts.pop()
        if direct_init not in ("genome", "zeros"):
            raise ValueError(
                f"direct_init must be 'genome' or 'zeros', got {direct_init!r}"
            )
        self.direct_init = direct_init
        self.num_dims = sum(math.prod(s) for s in self._shapes)
        self.n_direct = sum(
            math.prod(s)
            for s, r in zip(self._shapes, self.is_rule, strict=True)
            if not r
        )
        self.n_synapses = (self.num_dims - self.n_direct) // self.rule_dim
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
        # the shared table of unit normals (noise="table"), None with "threefry"
        self.noise_table = table_for(noise, noise_table_size, self.num_dims, "gmm-es")

    def _normals(self, key: jax.Array, shape: tuple[int, ...]) -> jax.Array:
        """(n, ...) unit normals: fresh (threefry) or one table window per individual."""
        if self.noise_table is None:
            return jax.random.normal(key, shape)
        n, size = shape[0], math.prod(shape[1:])
        return table_normals(key, self.noise_table, n, size).reshape(shape)

    @property
    def default_params(self) -> GMMParams:
        return GMMParams(jnp.float32(0.1), jnp.float32(0.999), jnp.float32(0.0))

    @property
    def n_genes(self) -> int:
        """Evolved numbers: D direct means + M x K rule means + N x M logits.

        Palm et al. (sec. 3.4) note the mixture "requires N x M parameters"; sigma
        is fixed and not counted. The phenotype (one genome) stays ``num_dims`` long.
        """
        return (
            self.n_direct
            + self.n_rules * self.rule_dim
            + self.n_synapses * self.n_rules
        )

    def _assemble(self, rules: jax.Array, direct: jax.Array | None) -> Any:
        """Genome pytree(s) from rule rows (..., N, K) and direct genes (..., D)."""
        lead = rules.shape[:-2]
        streams = {True: rules.reshape(lead + (-1,)), False: direct}
        starts = {True: 0, False: 0}
        parts = []
        for shape, is_rule in zip(self._shapes, self.is_rule, strict=True):
            size, start = math.prod(shape), starts[is_rule]
            part = streams[is_rule][..., start : start + size]
            parts.append(part.reshape(lead + shape))
            starts[is_rule] = start + size
        return jax.tree.unflatten(self._treedef, parts)

    def _flat(self, tree: Any, rules: bool) -> jax.Array:
        leaves = jax.tree.leaves(tree)
        lead = leaves[0].shape[: leaves[0].ndim - len(self._shapes[0])]
        flat = [
            jnp.reshape(x, lead + (-1,))
            for x, r in zip(leaves, self.is_rule, strict=True)
            if r == rules
        ]
        return jnp.concatenate(flat, axis=-1)

    def _ravel(self, tree: Any) -> jax.Array:
        """The rule leaves of one or more genomes as (..., N, K)."""
        flat = self._flat(tree, True)
        return flat.reshape(flat.shape[:-1] + (self.n_synapses, self.rule_dim))

    def _ravel_direct(self, tree: Any) -> jax.Array:
        """The direct (non-rule) leaves of one or more genomes as (..., D)."""
        return self._flat(tree, False)

    def _distribution(self, state: GMMState) -> tuple:
        if self.n_direct:
            return state.means, state.logits, state.direct_mean
        return state.means, state.logits

    def init(self, key: jax.Array, mean: Any, params: GMMParams) -> GMMState:
        """mu ~ N(0, init_scale^2), lambda = 0 ([S]); direct genes start at ``mean``
        (``direct_init="genome"``) or 0 (``"zeros"``, evostrat's default)."""
        means = self.init_scale * jax.random.normal(
            key, (self.n_rules, self.rule_dim), jnp.float32
        )
        logits = jnp.zeros((self.n_synapses, self.n_rules), jnp.float32)
        direct = None
        if self.n_direct:
            direct = jnp.zeros((self.n_direct,), jnp.float32)
            if self.direct_init == "genome" and mean is not None:
                direct = self._ravel_direct(mean).astype(jnp.float32)
        state = GMMState(
            means,
            logits,
            None,
            jnp.asarray(params.std_init, jnp.float32),
            jnp.int32(0),
            jnp.float32(jnp.inf),
            direct,
        )
        return state._replace(opt_state=self.optimizer.init(self._distribution(state)))

    def sample(self, key: jax.Array, state: GMMState, n: int) -> jax.Array:
        """n individuals' rules (n, N, K): inverse-CDF cluster draw, Gaussian noise."""
        k_z, k_eps = jax.random.split(key)
        cdf = jnp.cumsum(jax.nn.softmax(state.logits, axis=-1), axis=-1)
        u = jax.random.uniform(k_z, (n, self.n_synapses)) * cdf[None, :, -1]
        per_synapse = jax.vmap(lambda c, v: jnp.searchsorted(c, v, side="right"))
        z = jax.vmap(per_synapse, in_axes=(None, 0))(cdf, u)
        z = jnp.minimum(z, self.n_rules - 1)
        eps = self._normals(k_eps, (n, self.n_synapses, self.rule_dim))
        return state.means[z] + state.std * eps

    def ask(self, key: jax.Array, state: GMMState, params: GMMParams):
        p = self.population_size
        if not self.n_direct:  # the key use of the all-rules genome is kept as it was
            return self._assemble(self.sample(key, state, p), None), state
        k_rules, k_direct = jax.random.split(key)
        eps = self._normals(k_direct, (p, self.n_direct))
        direct = state.direct_mean[None] + state.std * eps
        return self._assemble(self.sample(k_rules, state, p), direct), state

    def tell(self, key: jax.Array, population: Any, fitness: jax.Array, state, params):
        samples = self._ravel(population)
        weights = centered_normalized_ranks(-fitness)  # fitness is minimised
        g_means, g_logits = mixture_gradient(
            state.means, state.logits, samples, weights, state.std, self.chunk_size
        )
        grads = (-g_means, -g_logits)  # optax descends
        if self.n_direct:
            x = self._ravel_direct(population)
            grads += (-direct_gradient(state.direct_mean, x, weights, state.std),)
        dist = self._distribution(state)
        updates, opt_state = self.optimizer.update(grads, state.opt_state, dist)
        dist = optax.apply_updates(dist, updates)
        std = jnp.maximum(state.std * params.std_decay, params.std_min)
        best = jnp.minimum(state.best_fitness, jnp.min(fitness))
        new = GMMState(
            dist[0],
            dist[1],
            opt_state,
            std,
            state.generation_counter + 1,
            best,
            dist[2] if self.n_direct else None,
        )
        metrics = dict(
            best_fitness=best,
            best_fitness_in_generation=jnp.min(fitness),
            generation_counter=new.generation_counter,
        )
        return new, metrics

    def get_mean(self, state: GMMState) -> Any:
        """Each synapse's most likely rule, mu[argmax lambda_n], and the direct nu."""
        rules = state.means[jnp.argmax(state.logits, axis=-1)]
        return self._assemble(rules, state.direct_mean)

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
    chunk_size: int = 1,
    init_scale: float = 1.0,
    rule_leaves: str = "coeffs",
    direct_init: str = "genome",
    noise: str = "threefry",
    noise_table_size: int = DEFAULT_SIZE,
) -> tuple[GaussianMixtureES, GMMParams]:
    """Palm et al.'s shared rules: GMM on the rule leaves, Gaussian ES on the others.

    Args:
        population_size: P.
        solution: genome template (the Hebbian network's coefficients, and for the car
            its convolutions).
        std_init: sigma of every mixture component and of the direct genes (0.1).
        rho: compression factor; M = int(N / rho); default 128 (at most N).
        learning_rate, lr_decay: optimizer rate, multiplied by lr_decay each generation
            ([P]'s rho runs: SGD 0.2 x 0.995; "best ant": adam 1.0 x 0.5^(1/100)).
        optimizer: "sgd" or "adam".
        std_decay, std_min: sigma x std_decay per generation, floored at std_min.
        chunk_size: runs of individuals summed side by side in the gradient; each
            adds an N x M transient (``mixture_gradient``); 1 is the fastest on CPU.
        init_scale: std of the initial means.
        rule_leaves: comma-separated names; leaves whose path holds one are rules
            under the mixture (default "coeffs": the ABCD rules), the others direct
            genes under a plain Gaussian with the same sigma, fitness shaping and
            optimizer ([P]'s car: the CNN). No match, or "": all under the mixture.
        direct_init: the direct genes' initial mean: "genome" (the model's initial draw,
            N(0, 1) for hebbian-cnn as Najarro's code) or "zeros" ([P@dc2d0ba]).
        noise: the unit normals of the rules' (and direct genes') noise: "threefry"
            (fresh, [S]) or "table" (windows of OpenAI-ES's shared noise table of
            ``noise_table_size`` normals, larger than the genome).
    """
    schedule = optax.exponential_decay(learning_rate, 1, lr_decay)
    es = GaussianMixtureES(
        population_size,
        solution,
        rho=rho,
        optimizer=named_optimizer(optimizer, schedule),
        chunk_size=chunk_size,
        init_scale=init_scale,
        rule_leaves=rule_leaves,
        direct_init=direct_init,
        noise=noise,
        noise_table_size=noise_table_size,
    )
    params = GMMParams(
        jnp.float32(std_init), jnp.float32(std_decay), jnp.float32(std_min)
    )
    return es, params

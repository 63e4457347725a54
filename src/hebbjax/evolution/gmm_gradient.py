"""The score-function gradients of Palm et al.'s Gaussian-mixture ES (sec. 3.3-3.4, Eq. 2-3).

Split from ``hebbjax.evolution.gmm_es`` (which re-exports them): the centred-rank fitness
shaping of [S] evostrat, the plain Gaussian's mean gradient for direct genes, and the
mixture's closed-form gradient over means and assignment logits,

    d/d lambda_n = r_n - softmax(lambda_n),   d/d mu_k = sum_n r_nk (h_n - mu_k) / s^2,

with r the posterior responsibilities, summed over the population one individual at a time.
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp

from hebbjax.parallel import context_mesh, sharded_sum


def direct_gradient(
    mean: jax.Array, samples: jax.Array, weights: jax.Array, std: jax.Array
) -> jax.Array:
    """(1/P) sum_i w_i (x_i - nu) / sigma^2: the score-function gradient of a Gaussian's
    mean (paper sec. 3.3), i.e. (1/(P sigma)) sum_i w_i eps_i. samples: (P, D)."""
    return weights @ (samples - mean[None]) / (samples.shape[0] * jnp.square(std))


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
    chunk_size: int = 1,
) -> tuple[jax.Array, jax.Array]:
    """(1/P) sum_i w_i grad_{mu, lambda} log p(h_i), in ``chunk_size`` running sums.

    The population is cut into ``chunk_size`` consecutive runs of individuals (the last
    padded with zero weights); each run is summed one individual at a time, side by side
    with the others (a ``lax.scan`` under ``vmap``), and the runs' sums are added at the
    end. Per individual, the responsibilities r (N x M) come from one small matmul and a
    softmax along M, and fold at once into sum_i w_i r_i (N x M) and sum_i w_i r_i^T h_i
    (M x K); sum_{i,n} w_i r_inm is the first sum's column sum. Nothing is reduced over
    the individuals' axis inside the loop, which XLA:CPU does slowly (5-7x slower in all,
    ``benchmarks/gmm_speed.py``). The largest transient is ``chunk_size`` x N x M.

    Args:
        means: (M, K); logits: (N, M); samples: (P, N, K); weights: (P,) shaped fitness;
        std: the mixture sigma; chunk_size: runs summed side by side, each adding an
            N x M transient (1, the default, is also the fastest on CPU: XLA already
            spreads one individual's arrays over the cores).
    Returns:
        (grad_means (M, K), grad_logits (N, M)), ascent directions.
    """
    p = samples.shape[0]
    runs = max(1, min(chunk_size, p))
    mesh = context_mesh()  # under a generation's mesh: each device sums its individuals
    devices = 1 if mesh is None else mesh.size
    pad = -p % (runs * devices)
    samples = jnp.concatenate([samples, jnp.zeros((pad,) + samples.shape[1:])])
    weights = jnp.concatenate([weights, jnp.zeros((pad,), weights.dtype)])
    log_pi = jax.nn.log_softmax(logits, axis=-1)
    inv_var = 1.0 / jnp.square(std)
    # log pi_nk + (h_n . mu_k - |mu_k|^2 / 2) / s^2: the log-posterior up to a per-n term
    base = log_pi - 0.5 * inv_var * jnp.sum(jnp.square(means), axis=-1)[None]
    scaled = inv_var * means

    def run(base, scaled, h, w):  # sum_i w_i r_i and sum_i w_i r_i^T h_i over rows i
        def one(acc, xs):
            h, w = xs  # (N, K), ()
            wr = w * jax.nn.softmax(base + h @ scaled.T, axis=-1)  # (N, M)
            return (acc[0] + wr, acc[1] + wr.T @ h), None

        zeros = (jnp.zeros_like(base), jnp.zeros_like(scaled))
        return jax.lax.scan(one, zeros, (h, w))[0]

    def runs_sum(base, scaled, samples, weights):
        if runs == 1:
            return run(base, scaled, samples, weights)
        acc_l, acc_1 = jax.vmap(run, in_axes=(None, None, 0, 0))(
            base,
            scaled,
            samples.reshape((runs, -1) + samples.shape[1:]),
            weights.reshape(runs, -1),
        )
        # the runs added one by one: elementwise, not a reduction over the leading axis
        return tuple(functools.reduce(jnp.add, list(x)) for x in (acc_l, acc_1))

    total = sharded_sum(runs_sum, (None, None, 0, 0), samples.shape[0])
    acc_l, acc_1 = total(base, scaled, samples, weights)
    acc_0 = jnp.sum(acc_l, axis=0)  # (M,)
    grad_logits = (acc_l - jnp.sum(weights) * jnp.exp(log_pi)) / p
    grad_means = inv_var * (acc_1 - means * acc_0[:, None]) / p
    return grad_means, grad_logits

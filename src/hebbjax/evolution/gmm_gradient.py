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


#: bytes of one block of responsibilities (rows x M) kept in cache by ``_run_sums_by_rows``
ROW_BLOCK_BYTES = 2 << 20


def responsibility_rows(n: int, m: int) -> int | None:
    """Synapse rows per block when an individual's N x M responsibilities outgrow the
    last-level cache (over 32 MB; None: one N x M pass per individual, faster below it).
    A power of two, 8 to 1,024 rows of about ``ROW_BLOCK_BYTES``."""
    if 4 * n * m <= 16 * ROW_BLOCK_BYTES:
        return None
    rows = 1 << max(3, min(10, (ROW_BLOCK_BYTES // (4 * m)).bit_length() - 1))
    return min(rows, n)


def _run_sums(base, scaled_t, h, w, acc_1=None):
    """sum_i w_i r_i (N, M) and sum_i w_i h_i^T r_i (K, M) over the rows i of h (P, N, K),
    one individual at a time (the second sum added to ``acc_1`` when given)."""

    def one(acc, xs):
        h, w = xs  # (N, K), ()
        wr = w * jax.nn.softmax(base + h @ scaled_t, axis=-1)  # (N, M)
        return (acc[0] + wr, acc[1] + h.T @ wr), None

    start = (jnp.zeros_like(base), jnp.zeros_like(scaled_t) if acc_1 is None else acc_1)
    return jax.lax.scan(one, start, (h, w))[0]


def _run_sums_by_rows(base, scaled_t, h, w, rows: int):
    """``_run_sums`` a block of ``rows`` synapses at a time: every individual adds its
    block's responsibilities while the block's running sum stays in cache, so the N x M
    sum is written once per call rather than read and written once per individual
    (``benchmarks/gmm_speed.py``). The same sums; the (K, M) one is added in another
    order (float32 rounding)."""
    n, m = base.shape
    blocks = -(-n // rows)
    pad = blocks * rows - n  # zero rows: h = 0 adds nothing to the (K, M) sum
    base_b = jnp.pad(base, ((0, pad), (0, 0))).reshape(blocks, rows, m)
    h_b = jnp.pad(h, ((0, 0), (0, pad), (0, 0)))
    h_b = h_b.reshape(h.shape[0], blocks, rows, h.shape[2]).transpose(1, 0, 2, 3)

    def block(acc_1, xs):  # xs: (rows, M) of base, (P, rows, K) of h
        acc_l, acc_1 = _run_sums(xs[0], scaled_t, xs[1], w, acc_1)
        return acc_1, acc_l

    acc_1, acc_l = jax.lax.scan(block, jnp.zeros_like(scaled_t), (base_b, h_b))
    return acc_l.reshape(blocks * rows, m)[:n], acc_1


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
    softmax along M, and fold at once into sum_i w_i r_i (N x M) and sum_i w_i h_i^T r_i
    (K x M, contiguous along M); sum_{i,n} w_i r_inm is the first sum's column sum.
    Nothing is reduced over the individuals' axis inside the loop, which XLA:CPU does
    slowly (5-7x slower in all, ``benchmarks/gmm_speed.py``). The largest transient is
    ``chunk_size`` x N x M. Past the last-level cache (``responsibility_rows``) the
    individuals are summed a block of synapses at a time instead (``_run_sums_by_rows``).

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
    scaled_t = (inv_var * means).T  # (K, M): contiguous along M
    rows = responsibility_rows(*base.shape)
    run = _run_sums if rows is None else functools.partial(_run_sums_by_rows, rows=rows)

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
    acc_l, acc_1 = total(base, scaled_t, samples, weights)
    acc_1 = acc_1.T  # (M, K)
    acc_0 = jnp.sum(acc_l, axis=0)  # (M,)
    grad_logits = (acc_l - jnp.sum(weights) * jnp.exp(log_pi)) / p
    grad_means = inv_var * (acc_1 - means * acc_0[:, None]) / p
    return grad_means, grad_logits

"""Palm et al.'s shared-rule Gaussian mixture (spec hebbian-ant-brax 2.4) and Najarro's ES:
sampling statistics, the chunked closed-form gradient against numpy and autodiff, the
evosax-style interface under jit, and the strategy registry."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from hebbjax.evolution import gmm_gradient
from hebbjax.evolution.gmm_es import (
    GaussianMixtureES,
    centered_normalized_ranks,
    mixture_gradient,
)
from hebbjax.evolution.strategies import make_strategy
from hebbjax.parallel import local_mesh, population_mesh

N, M, K, P = 6, 3, 5, 7


def numpy_gradient(means, logits, samples, weights, std):
    """(1/P) sum_i w_i grad log p(h_i), written out synapse by synapse."""
    means, logits, samples = (
        np.asarray(x, np.float64) for x in (means, logits, samples)
    )
    g_means, g_logits = np.zeros_like(means), np.zeros_like(logits)
    for h, w in zip(samples, np.asarray(weights, np.float64), strict=True):
        for n in range(logits.shape[0]):
            pi = np.exp(logits[n] - logits[n].max())
            pi /= pi.sum()
            dens = np.array(
                [np.exp(-np.sum((h[n] - mu) ** 2) / (2 * std**2)) for mu in means]
            )
            r = pi * dens / np.sum(pi * dens)
            g_logits[n] += w * (r - pi)
            for k in range(means.shape[0]):
                g_means[k] += w * r[k] * (h[n] - means[k]) / std**2
    return g_means / len(samples), g_logits / len(samples)


def _problem(seed=0):
    keys = jax.random.split(jax.random.key(seed), 4)
    means = jax.random.normal(keys[0], (M, K))
    logits = jax.random.normal(keys[1], (N, M))
    samples = means[jax.random.randint(keys[2], (P, N), 0, M)] + 0.3 * (
        jax.random.normal(keys[3], (P, N, K))
    )
    weights = centered_normalized_ranks(jnp.arange(P, dtype=jnp.float32) ** 2)
    return means, logits, samples, weights


@pytest.mark.parametrize(
    ("chunk", "split", "rows"),
    [(1, False, None), (3, False, None), (1, True, None), (3, True, None),
     (1, False, 4), (3, True, 4)],
)  # fmt: skip
def test_chunked_gradient_matches_numpy_and_autodiff(chunk, split, rows, monkeypatch):
    """``split``: traced under a generation's population mesh (2 host devices), each
    device sums its share of the 7 individuals (padded to 8) and the sums are added.
    ``rows``: the individuals summed 4 synapses at a time (2 blocks, the second padded),
    the path of mixtures past the cache."""
    monkeypatch.setattr(gmm_gradient, "responsibility_rows", lambda n, m: rows)
    means, logits, samples, weights = _problem()
    std = jnp.float32(0.4)

    def gradient(*args):
        with population_mesh(local_mesh() if split else None):
            return mixture_gradient(*args, std, chunk)

    lowered = jax.jit(gradient).lower(means, logits, samples, weights).as_text()
    assert ("all_reduce" in lowered) == (split and jax.device_count() > 1)
    g_means, g_logits = jax.jit(gradient)(means, logits, samples, weights)
    n_means, n_logits = numpy_gradient(means, logits, samples, weights, 0.4)
    np.testing.assert_allclose(g_means, n_means, rtol=2e-4, atol=2e-4)
    np.testing.assert_allclose(g_logits, n_logits, rtol=2e-4, atol=1e-5)

    def log_p(mu, lam, h):
        comp = -jnp.sum((h[:, None] - mu[None]) ** 2, -1) / (2 * std**2)
        return jnp.sum(jax.nn.logsumexp(jax.nn.log_softmax(lam, -1) + comp, -1))

    def objective(mu, lam):
        lp = jax.vmap(log_p, (None, None, 0))(mu, lam, samples)
        return jnp.mean(weights * lp)

    a_means, a_logits = jax.grad(objective, argnums=(0, 1))(means, logits)
    np.testing.assert_allclose(g_means, a_means, rtol=2e-4, atol=2e-4)
    np.testing.assert_allclose(g_logits, a_logits, rtol=2e-4, atol=1e-5)


def test_synapse_blocks_fit_the_cache_only_when_needed():
    rows = gmm_gradient.responsibility_rows
    assert rows(6, 3) is None  # a small mixture: one pass per individual
    assert rows(12_160, 190) is None  # the ant at rho = 64: 9.2 MB, in the L3
    for m in (760, 12_160):  # the ant at rho = 16 (37 MB) and 1 (591 MB)
        r = rows(12_160, m)
        assert r & (r - 1) == 0 and 8 <= r <= 1024
        assert r * m * 4 <= gmm_gradient.ROW_BLOCK_BYTES
    assert rows(12_160, 12_160) == 32
    assert rows(4, 10**7) == 4  # never more rows than synapses


def test_ranks_are_centred_and_normalised():
    w = np.asarray(centered_normalized_ranks(jnp.array([3.0, -1.0, 10.0, 0.5])))
    assert np.argsort(w).tolist() == [1, 3, 0, 2]
    np.testing.assert_allclose(w.mean(), 0.0, atol=1e-6)
    np.testing.assert_allclose(w.std(ddof=1), 1.0, atol=1e-6)


def test_sampling_follows_the_mixture():
    solution = {"a": jnp.zeros((4, 2, K)), "b": jnp.zeros((8, K))}  # N = 16 rules of 5
    es = GaussianMixtureES(4000, solution, rho=8)
    assert (es.n_synapses, es.n_rules, es.rule_dim) == (16, 2, K)
    params = es.default_params
    state = es.init(jax.random.key(0), solution, params)
    means = jnp.array([[0.0] * K, [10.0] * K])
    logits = jnp.zeros((16, 2)).at[:, 1].set(jnp.log(3.0))  # P(z = 1) = 0.75
    state = state._replace(means=means, logits=logits.at[0].set([9.0, -9.0]))
    x, _ = es.ask(jax.random.key(1), state, params)
    flat = es._ravel(x)  # (P, 16, 5)
    assert flat.shape == (4000, 16, K)
    in_second = np.asarray(jnp.mean(flat, -1) > 5.0)
    assert in_second[:, 0].mean() < 0.01  # synapse 0 almost surely in cluster 0
    np.testing.assert_allclose(in_second[:, 1:].mean(), 0.75, atol=0.02)
    resid = np.asarray(flat - means[(jnp.mean(flat, -1) > 5.0).astype(int)])
    np.testing.assert_allclose(resid.std(), 0.1, rtol=0.05)  # sigma = std_init
    mode = es.get_mean(state)
    np.testing.assert_array_equal(mode["a"][0, 0], 0.0)
    np.testing.assert_array_equal(mode["b"], 10.0)


@pytest.mark.parametrize("rho", [1, "N"])
def test_gmm_strategy_under_jit_improves_a_quadratic(rho):
    solution = {"w": jnp.zeros((4, 5)), "b": jnp.zeros(3)}  # mixed last axes: K = 1
    es, params = make_strategy("gmm-es", 32, solution, rho=rho, chunk_size=5)
    assert es.rule_dim == 1 and es.n_synapses == 23
    target = jnp.linspace(-1.0, 1.0, 23)

    def loss(x):
        return jnp.sum((es._ravel(x)[..., 0] - target[None]) ** 2, axis=-1)

    @jax.jit
    def run(key):
        state = es.init(key, solution, params)

        def generation(state, key):
            k1, k2 = jax.random.split(key)
            x, state = es.ask(k1, state, params)
            state, metrics = es.tell(k2, x, loss(x), state, params)
            return state, jnp.mean(loss(x))

        return jax.lax.scan(generation, state, jax.random.split(key, 60))

    state, curve = run(jax.random.key(0))
    curve = np.asarray(curve)
    assert np.all(np.isfinite(curve))
    assert curve[-10:].mean() < 0.8 * curve[:5].mean()
    assert int(state.generation_counter) == 60
    np.testing.assert_allclose(float(state.std), 0.1 * 0.999**60, rtol=1e-5)


def test_najarro_es_and_registry():
    from hebbjax.evolution.strategies import STRATEGIES

    assert {"gmm-es", "najarro-es"} <= set(STRATEGIES.names())
    es, params = make_strategy("najarro-es", 8, {"w": jnp.zeros(3)})
    state = es.init(jax.random.key(0), {"w": jnp.ones(3)}, params)
    x, state = es.ask(jax.random.key(1), state, params)
    np.testing.assert_allclose(x["w"][:4], 2.0 - x["w"][4:], rtol=1e-5)  # mirrored
    state, _ = es.tell(jax.random.key(2), x, jnp.sum(x["w"] ** 2, -1), state, params)
    assert float(jnp.sum(es.get_mean(state)["w"])) < 3.0  # moved towards 0
    with pytest.raises(ValueError, match="rho"):
        make_strategy("gmm-es", 8, {"w": jnp.zeros(3)}, rho=4)
    with pytest.raises(ValueError, match="even"):
        make_strategy("najarro-es", 7, {"w": jnp.zeros(3)})

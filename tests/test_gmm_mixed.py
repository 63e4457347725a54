"""Palm et al.'s mixed population for the car (spec hebbian-ant-brax 2.4, [P@dc2d0ba]):
rule leaves under the Gaussian mixture, the convolutions under a plain Gaussian ES, one
ask/tell; the leaf split, the update against a numpy statement, the rule count M = N / rho,
and the real Hebbian CNN genome's split and evolved-number count."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from hebbjax.cli.listing import options_of
from hebbjax.evolution.gmm_es import GaussianMixtureES, mixture_gradient
from hebbjax.evolution.strategies import make_strategy
from hebbjax.models import make_model

K = 5
# a small Hebbian CNN: 2 x 3 conv weights (last axis 3, not K) and 12 + 6 synapses
SOLUTION = {
    "conv_1/W": jnp.zeros((2, 3)),
    "layer_1/coeffs": jnp.zeros((4, 3, K)),
    "layer_2/coeffs": jnp.zeros((2, 3, K)),
}
N, D = 18, 6


def numpy_shaped(fitness):
    """[S] normalize(compute_centered_ranks(-fitness)): higher is better, ddof 1."""
    f = -np.asarray(fitness, np.float64)
    ranks = np.empty(len(f))
    ranks[np.argsort(f)] = np.arange(len(f))
    c = ranks / (len(f) - 1) - 0.5
    return (c - c.mean()) / (c.std(ddof=1) + 1e-8)


def test_leaves_are_split_by_name():
    es, _ = make_strategy("gmm-es", 8, SOLUTION, rho=3)
    assert es.is_rule == (False, True, True)  # leaves in key order: conv first
    assert (es.rule_dim, es.n_synapses, es.n_direct, es.n_rules) == (K, N, D, 6)
    # with no rule leaves named, the whole genome is the mixture's, as scalars (K = 1)
    es, _ = make_strategy("gmm-es", 8, SOLUTION, rho=3, rule_leaves="")
    assert (es.rule_dim, es.n_synapses, es.n_direct) == (1, N * K + D, 0)
    with pytest.raises(ValueError, match="share their last axis"):
        make_strategy(
            "gmm-es", 8, dict(SOLUTION, b=jnp.zeros(2)), rule_leaves="W,coeffs"
        )
    with pytest.raises(ValueError, match="direct_init"):
        make_strategy("gmm-es", 8, SOLUTION, direct_init="ones")
    options = options_of("strategy", "gmm-es")  # what `hebbjax strategies` lists
    assert options["rule_leaves"] == "coeffs" and options["std_init"] == 0.1


def test_one_tell_is_the_gaussian_es_step_and_the_mixture_step():
    p, lr, std = 16, 0.2, 0.1
    es, params = make_strategy("gmm-es", p, SOLUTION, rho=3, std_init=std)
    mean = dict(SOLUTION, **{"conv_1/W": jnp.arange(6.0).reshape(2, 3)})
    state = es.init(jax.random.key(0), mean, params)
    np.testing.assert_array_equal(state.direct_mean, np.arange(6.0))
    x, _ = jax.jit(es.ask)(jax.random.key(1), state, params)
    fitness = jnp.sum((x["conv_1/W"] - 1.0) ** 2, axis=(1, 2))  # minimised
    new, _ = jax.jit(es.tell)(jax.random.key(2), x, fitness, state, params)

    w = numpy_shaped(fitness)
    conv = np.asarray(x["conv_1/W"], np.float64).reshape(p, D)
    eps = (conv - np.arange(6.0)) / std
    want = np.arange(6.0) + lr / (p * std) * w @ eps  # Najarro / Salimans update
    np.testing.assert_allclose(new.direct_mean, want, rtol=1e-5, atol=1e-5)
    g_means, g_logits = mixture_gradient(
        state.means, state.logits, es._ravel(x), jnp.asarray(w, jnp.float32), std
    )
    np.testing.assert_allclose(new.means, state.means + lr * g_means, atol=1e-5)
    np.testing.assert_allclose(new.logits, state.logits + lr * g_logits, atol=1e-5)
    np.testing.assert_allclose(float(new.std), std * 0.999, rtol=1e-6)
    np.testing.assert_array_equal(
        es.get_mean(new)["conv_1/W"], new.direct_mean.reshape(2, 3)
    )


def test_conv_part_descends_a_toy_fitness_under_jit():
    es, params = make_strategy("gmm-es", 32, SOLUTION, rho=3, chunk_size=5)
    target = jnp.linspace(-1.0, 1.0, D).reshape(2, 3)
    mean = dict(SOLUTION, **{"conv_1/W": jnp.full((2, 3), 2.0)})

    @jax.jit
    def run(key):
        def generation(state, key):
            k1, k2 = jax.random.split(key)
            x, state = es.ask(k1, state, params)
            loss = jnp.sum((x["conv_1/W"] - target[None]) ** 2, axis=(1, 2))
            return es.tell(k2, x, loss, state, params)[0], None

        state = es.init(key, mean, params)
        return jax.lax.scan(generation, state, jax.random.split(key, 40))[0]

    state = run(jax.random.key(0))
    start = float(jnp.sum((mean["conv_1/W"] - target) ** 2))
    end = float(jnp.sum((es.get_mean(state)["conv_1/W"] - target) ** 2))
    assert end < 0.2 * start
    assert int(state.generation_counter) == 40


def test_rules_are_drawn_from_m_means_and_conv_is_not():
    es, params = make_strategy("gmm-es", 64, SOLUTION, rho=6, std_init=1e-4)
    assert es.n_rules == N // 6 == 3
    state = es.init(jax.random.key(0), SOLUTION, params)
    centres = jnp.array([[10.0] * K, [20.0] * K, [30.0] * K])
    state = state._replace(means=centres)
    x, _ = jax.jit(es.ask)(jax.random.key(1), state, params)
    rules = np.asarray(es._ravel(x))  # (64, N, K)
    nearest = np.abs(rules[..., :1] - np.asarray(centres)[:, 0]).min(-1)
    assert nearest.max() < 1e-2  # every synapse holds one of the M rules
    assert len(np.unique(np.round(rules[..., 0], 1))) == 3
    conv = np.asarray(x["conv_1/W"])  # around the genome's 0, never a rule mean
    assert np.abs(conv).max() < 1e-2


def test_evolved_number_count_of_the_car_model():
    model = make_model("hebbian-cnn")
    genome = jax.eval_shape(model.init_params, jax.random.key(0))
    es = GaussianMixtureES(200, genome, rho=128)
    kinds = dict(zip(es.leaf_names, es.is_rule, strict=True))
    assert kinds == {"conv_1/W": False, "conv_2/W": False} | {
        f"layer_{k}/coeffs": True for k in (1, 2, 3)
    }
    n, m = 648 * 128 + 128 * 64 + 64 * 3, int(91_328 / 128)
    assert (es.n_synapses, es.n_rules, es.rule_dim, es.n_direct) == (n, m, K, 1_362)
    assert es.num_dims == 458_002  # the phenotype, Najarro's N_Gene
    assert es.n_genes == 1_362 + m * K + n * m == 65_121_791

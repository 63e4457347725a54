"""Ant networks (Najarro & Risi 2020; Palm et al. 2021 baselines): genome sizes, the ABCD_lr
update inside the network against a plain-numpy statement, random lifetime weights, and every
new model under jit(vmap(step))."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from hebbjax.models import make_model, n_gene

SMALL = dict(n_in=5, n_out=3, hidden=(4, 6))


def test_brax_ant_genome_sizes():
    # 27*128 + 128*64 + 64*8 = 12,160 synapses, 5 coefficients each (spec 1.3)
    assert n_gene(make_model("hebbian-ffn")) == 60_800
    assert make_model("hebbian-ffn").n_mem == 12_160
    assert n_gene(make_model("static-ffn")) == 12_160
    lstm = make_model("lstm-ant")
    assert n_gene(lstm) == 4 * 128 * (27 + 128 + 1) + 64 * 129 + 8 * 65
    assert lstm.n_mem == 256


def numpy_hebbian_step(coeffs, weights, x):
    """Forward with W(t), then dW_ji = eta (A o_i o_j + B o_i + C o_j + D) for all layers."""
    acts = [np.asarray(x, np.float64)]
    for w in weights:
        acts.append(np.tanh(w @ acts[-1]))
    new = []
    for h, w, pre, post in zip(coeffs, weights, acts[:-1], acts[1:], strict=True):
        dw = np.zeros_like(w)
        for j in range(w.shape[0]):
            for i in range(w.shape[1]):
                a, b, c, eta, d = h[j, i]
                dw[j, i] = eta * (a * pre[i] * post[j] + b * pre[i] + c * post[j] + d)
        new.append(w + dw)
    return acts[-1], new


def test_abcd_lr_inside_the_network_matches_numpy():
    model = make_model("hebbian-ffn", **SMALL)
    params = model.init_params(jax.random.key(0))
    memory = model.init_memory(params, jax.random.key(1))
    weights = [np.asarray(s.weight, np.float64) for s in memory.weights]
    assert [w.shape for w in weights] == [(4, 5), (6, 4), (3, 6)]
    coeffs = [np.asarray(params[f"layer_{k}/coeffs"], np.float64) for k in (1, 2, 3)]
    xs = np.asarray(jax.random.normal(jax.random.key(2), (3, 5)))
    for x in xs:
        out, memory = model.step(params, memory, jnp.asarray(x, jnp.float32))
        want_out, weights = numpy_hebbian_step(coeffs, weights, x)
        np.testing.assert_allclose(out, want_out, rtol=1e-4, atol=1e-5)
        for state, w in zip(memory.weights, weights, strict=True):
            np.testing.assert_allclose(state.weight, w, rtol=1e-4, atol=1e-4)


def test_lifetime_weights_are_fresh_uniform_draws():
    model = make_model("hebbian-ffn")
    params = model.init_params(jax.random.key(0))
    a = model.init_memory(params, jax.random.key(1)).weights[1].weight
    b = model.init_memory(params, jax.random.key(2)).weights[1].weight
    assert a.shape == (64, 128) and not np.allclose(a, b)
    assert float(jnp.max(jnp.abs(a))) <= 0.1 and float(jnp.max(jnp.abs(a))) > 0.09
    np.testing.assert_allclose(float(jnp.var(a)), 0.2**2 / 12, rtol=0.05)
    with pytest.raises(ValueError, match="key"):
        model.init_memory(params)


@pytest.mark.parametrize("name", ["hebbian-ffn", "static-ffn", "lstm-ant"])
def test_jit_vmap_population_step(name):
    pop = 3
    model = make_model(name, **SMALL)
    params = jax.vmap(model.init_params)(jax.random.split(jax.random.key(1), pop))
    assert all(p.dtype == jnp.float32 for p in jax.tree.leaves(params))
    memory = jax.vmap(model.init_memory)(
        params, jax.random.split(jax.random.key(2), pop)
    )
    step = jax.jit(jax.vmap(model.step, in_axes=(0, 0, 0, None)))
    x = jax.random.normal(jax.random.key(3), (pop, 5))
    out, mem1 = step(params, memory, x, jnp.bool_(True))
    out2, mem2 = step(params, mem1, x, jnp.bool_(False))
    assert out.shape == (pop, 3) and np.all(np.abs(out) <= 1.0)  # tanh output
    assert jax.tree.map(jnp.shape, mem1) == jax.tree.map(jnp.shape, memory)
    if name == "hebbian-ffn":  # plastic=False freezes the weights bit for bit
        assert not np.allclose(mem1.weights[0].weight, memory.weights[0].weight)
        for a, b in zip(mem1.weights, mem2.weights, strict=True):
            np.testing.assert_array_equal(a.weight, b.weight)
    if name == "static-ffn":
        np.testing.assert_allclose(out, out2, rtol=1e-6)

"""Najarro & Risi's Hebbian CNN and Palm et al.'s static/LSTM car baselines against the
papers' parameter counts and plain-numpy statements of the reference forward passes."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from hebbjax.models.base import count_leaves, n_gene
from hebbjax.models.hebbian_cnn import (
    CONV_SHAPES,
    cnn_features,
    hebbian_cnn,
    lstm_cnn,
    static_cnn,
)


def test_parameter_counts_match_the_papers():
    conv = count_leaves(
        {k: jax.ShapeDtypeStruct(v, jnp.float32) for k, v in CONV_SHAPES.items()}
    )
    assert conv == 1_362  # paper 003 sec. 4
    heb = hebbian_cnn()
    assert heb.n_mem == 648 * 128 + 128 * 64 + 64 * 3 == 91_328
    assert heb.n_mem + conv == 92_690  # "This network has 92,690 weight parameters"
    assert n_gene(heb) == conv + 5 * heb.n_mem == 458_002  # the paper's ">450K"
    assert n_gene(static_cnn()) == 92_690
    # Palm's rnn_racer: lstm_cell(648 -> 128) with two biases, then 128 -> 64 -> 3
    assert (
        n_gene(lstm_cnn()) == conv + 4 * 128 * (648 + 128) + 2 * 512 + 128 * 64 + 64 * 3
    )
    assert lstm_cnn().n_mem == 256


def conv_ref(x, w, stride):
    o, i, kh, kw = w.shape
    _, h, wd = x.shape
    oh, ow = (h - kh) // stride + 1, (wd - kw) // stride + 1
    out = np.zeros((o, oh, ow))
    for dy in range(kh):
        for dx in range(kw):
            patch = x[
                :,
                dy : dy + stride * (oh - 1) + 1 : stride,
                dx : dx + stride * (ow - 1) + 1 : stride,
            ]
            out += np.einsum("chw,oc->ohw", patch, w[:, :, dy, dx])
    return out


def pool_ref(x):
    c, h, w = x.shape
    return x[:, : h // 2 * 2, : w // 2 * 2].reshape(c, h // 2, 2, w // 2, 2).max((2, 4))


def features_ref(params, x):
    x = pool_ref(np.tanh(conv_ref(x, np.asarray(params["conv_1/W"], float), 1)))
    x = pool_ref(np.tanh(conv_ref(x, np.asarray(params["conv_2/W"], float), 2)))
    return x.reshape(-1)  # torch's x2.view(-1): channel, then axis 1, then axis 2


@pytest.fixture(scope="module")
def obs():
    return jax.random.uniform(jax.random.key(3), (3, 84, 84))


@pytest.fixture(scope="module")
def hebbian(obs):
    """One genome and its reference features (the numpy convolution runs once)."""
    model = hebbian_cnn()
    params = model.init_params(jax.random.key(1))
    return model, params, features_ref(params, np.asarray(obs, float))


def test_cnn_features_match_torch_semantics(obs, hebbian):
    _, params, ref = hebbian
    ours = np.asarray(jax.jit(cnn_features)(params, obs))
    assert ours.shape == (648,)
    assert np.allclose(ours, ref, atol=2e-5) and ref.std() > 0.1


def test_hebbian_step_is_abcd_lr_then_max_abs_normalisation(obs, hebbian):
    model, params, features = hebbian
    memory = model.init_memory(params, jax.random.key(2))
    w = [np.asarray(s.weight, float) for s in memory.weights]
    assert all(np.abs(m).max() <= 0.1 for m in w)
    action, new = jax.jit(model.step)(params, memory, obs)
    acts = [features]
    acts.append(np.tanh(w[0] @ acts[-1]))
    acts.append(np.tanh(w[1] @ acts[-1]))
    acts.append(w[2] @ acts[-1])  # the raw output drives plasticity
    o = acts[-1]
    expect = [np.tanh(o[0]), 1 / (1 + np.exp(-o[1])), 1 / (1 + np.exp(-o[2]))]
    assert np.allclose(np.asarray(action), expect, atol=1e-4)
    for k in range(3):
        h = np.asarray(params[f"layer_{k + 1}/coeffs"], float)  # [A, B, C, eta, D]
        pre, post = acts[k], acts[k + 1]
        dw = h[..., 3] * (
            h[..., 0] * np.outer(post, pre)
            + h[..., 1] * pre[None, :]
            + h[..., 2] * post[:, None]
            + h[..., 4]
        )
        ref = (w[k] + dw) / np.abs(w[k] + dw).max()
        got = np.asarray(new.weights[k].weight)
        assert np.abs(got).max() == pytest.approx(1.0)
        assert np.allclose(got, ref, atol=1e-4 * np.abs(ref).max() + 1e-5)
    _, frozen = jax.jit(model.step)(params, memory, obs, False)
    assert all(
        np.array_equal(a.weight, b.weight)
        for a, b in zip(frozen.weights, memory.weights, strict=True)
    )


def test_lstm_step_matches_torch_lstm_cell(obs, hebbian):
    model = lstm_cnn(init_scale=0.1)
    p = model.init_params(jax.random.key(4))
    p.update({k: hebbian[1][k] for k in CONV_SHAPES})  # share the convolutions
    mem = model.init_memory(p, jax.random.key(5))
    _, mem = model.step(p, mem, obs)  # a non-zero state
    action, new = jax.jit(model.step)(p, mem, obs)
    x = hebbian[2]
    n = {k: np.asarray(v, float) for k, v in p.items()}
    h, c = np.asarray(mem.h, float), np.asarray(mem.c, float)
    gates = n["lstm/W_ih"] @ x + n["lstm/b_ih"] + n["lstm/W_hh"] @ h + n["lstm/b_hh"]
    i, f, g, o = np.split(gates, 4)

    def sig(z):
        return 1 / (1 + np.exp(-z))

    c2 = sig(f) * c + sig(i) * np.tanh(g)
    h2 = sig(o) * np.tanh(c2)
    out = n["layer_3/W"] @ np.tanh(n["layer_2/W"] @ h2)
    assert np.allclose(np.asarray(new.c), c2, atol=1e-4)
    assert np.allclose(
        np.asarray(action), [np.tanh(out[0]), sig(out[1]), sig(out[2])], atol=1e-4
    )


@pytest.mark.parametrize(
    "factory", [pytest.param(static_cnn, marks=pytest.mark.slow), lstm_cnn]
)  # hebbian-cnn: tested above
def test_jit_vmap_contract(factory, obs):
    model = factory()
    keys = jax.random.split(jax.random.key(0), 2)
    params = jax.vmap(model.init_params)(keys)
    memory = jax.vmap(model.init_memory)(params, keys)
    batch = jnp.stack([obs, 1.0 - obs])
    action, memory = jax.jit(jax.vmap(model.step))(params, memory, batch)
    assert action.shape == (2, model.n_out) and model.n_in == 3 * 84 * 84
    a = np.asarray(action)
    assert np.all(np.abs(a[:, 0]) <= 1) and np.all((a[:, 1:] >= 0) & (a[:, 1:] <= 1))
    flat, _ = jax.jit(model.step)(
        jax.tree.map(lambda x: x[0], params),
        jax.tree.map(lambda x: x[0], memory),
        obs.reshape(-1),
    )
    assert flat.shape == (3,)

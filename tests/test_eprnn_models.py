"""EPRNN models (spec 4.3): genome sizes, the plastic step against numpy, plasticity off
in the TEST phase, every model under jit(vmap(step)), EPMLP(Random) and ES-MAML."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from hebbjax.models import make_model, n_gene
from hebbjax.tasks import make_task

NEW_MODELS = (
    "eprnn",
    "eprnn-nomod",
    "es-rnn",
    "es-lstm",
    "epmlp",
    "epmlp-random",
    "es-maml",
    "es-maml-zero-shot",
)


def test_genome_sizes_of_the_paper():
    seqpred, wrnav = make_task("seqpred-l3-k10-n20"), make_task("wrnav-noise0.01")
    as_trained = make_model("eprnn", n_in=seqpred.n_in, n_out=seqpred.n_out)
    assert n_gene(as_trained) == 37_575
    assert n_gene(make_model("eprnn", n_in=wrnav.n_in, n_out=wrnav.n_out)) == 41_670
    assert (
        n_gene(make_model("eprnn", n_in=3, n_out=3, extra_layer=True)) == 37_575 + 4160
    )
    assert make_model("eprnn").n_mem == 64 + 64 * 64


def test_baseline_genome_sizes_of_the_reference_code():
    # spec 4.3 "Baselines": Versatile rnn / lstm of width 64 between FC_1 and FC_2, for
    # Sequence Predicting l = 1; the reference's lstm layer holds 32 hidden + 32 cell
    # units, and both evolve their initial state H_Mem (64 values)
    assert n_gene(make_model("es-rnn", n_in=1, n_out=1)) == 12_677
    assert n_gene(make_model("es-lstm", n_in=1, n_out=1)) == 14_789
    fixed = dict(evolve_initial_state=False)
    assert n_gene(make_model("es-rnn", n_in=1, n_out=1, **fixed)) == 12_613
    assert n_gene(make_model("es-lstm", n_in=1, n_out=1, **fixed)) == 14_789 - 64
    full = make_model("es-lstm", n_in=1, n_out=1, half_width=False)
    assert n_gene(full) == 37_509 and full.n_mem == 128
    assert n_gene(
        make_model("es-lstm", n_in=1, n_out=1, half_width=False, **fixed)
    ) == (37_381)
    assert make_model("es-lstm").n_mem == 64 and make_model("es-rnn").n_mem == 64
    params = make_model("es-lstm", n_in=1, n_out=1).init_params(jax.random.key(0))
    assert params["lstm/W"].shape == (128, 96) and params["h_mem"].shape == (64,)
    assert params["fc_hidden/W"].shape == (64, 32)
    assert abs(float(params["lstm/W"].std()) - 1 / np.sqrt(96)) < 0.01


@pytest.mark.parametrize("name", ["es-rnn", "es-lstm"])
def test_baselines_start_from_the_evolved_initial_state(name):
    model = make_model(name, n_in=2, n_out=2, hidden=6)
    params = model.init_params(jax.random.key(0))
    assert float(jnp.abs(params["h_mem"]).max()) == 0.0  # initialised to 0, as EPRNN's
    h_mem = jnp.arange(params["h_mem"].size, dtype=jnp.float32) / 10 + 0.1
    params = dict(params, h_mem=h_mem)
    memory = model.init_memory(params, jax.random.key(1))
    np.testing.assert_array_equal(jnp.concatenate(jax.tree.leaves(memory)), h_mem)
    x = jnp.array([0.3, -0.7], jnp.float32)
    out, _ = model.step(params, memory, x)
    zero_out, _ = model.step(
        params, model.init_memory(dict(params, h_mem=0 * h_mem)), x
    )
    assert not np.allclose(out, zero_out)
    fixed = make_model(name, n_in=2, n_out=2, hidden=6, evolve_initial_state=False)
    fixed_params = fixed.init_params(jax.random.key(0))
    assert "h_mem" not in fixed_params
    memory = fixed.init_memory(fixed_params)
    assert all(float(jnp.abs(m).max()) == 0.0 for m in jax.tree.leaves(memory))


def numpy_lstm_step(p, h_c, x, units):
    """The reference's lstm layer (separate gates, H_Mem = [h; c]) in float64 numpy."""
    p = {k: np.asarray(v, np.float64) for k, v in p.items()}
    sig = lambda v: 1 / (1 + np.exp(-v))  # noqa: E731
    z = np.maximum(0, p["fc_in/W"] @ x + p["fc_in/b"])
    if "fc_extra/W" in p:
        z = np.maximum(0, p["fc_extra/W"] @ z + p["fc_extra/b"])
    inp = np.concatenate([h_c[:units], z])
    w, b = p["lstm/W"], p["lstm/b"]
    gate = {
        n: w[i * units : (i + 1) * units] @ inp + b[i * units : (i + 1) * units]
        for i, n in enumerate("gifo")
    }
    c = sig(gate["f"]) * h_c[units:] + sig(gate["i"]) * np.tanh(gate["g"])
    h = sig(gate["o"]) * np.tanh(c)
    u = sig(p["fc_hidden/W"] @ h + p["fc_hidden/b"])
    return p["fc_out/W"] @ u + p["fc_out/b"], np.concatenate([h, c])


@pytest.mark.parametrize("half_width", [True, False])
def test_es_lstm_step_matches_numpy(half_width):
    hidden = 6
    units = hidden // 2 if half_width else hidden
    model = make_model("es-lstm", n_in=3, n_out=2, hidden=hidden, half_width=half_width)
    params = random_params(model, jax.random.key(0))
    memory = model.init_memory(params)
    h_c = np.asarray(params["h_mem"], np.float64)
    assert h_c.shape == (2 * units,)
    x = np.array([0.4, -1.2, 0.8], np.float32)
    for _ in range(3):
        want_out, h_c = numpy_lstm_step(params, h_c, x, units)
        out, memory = jax.jit(model.step)(params, memory, x)
        np.testing.assert_allclose(out, want_out, rtol=1e-4, atol=1e-5)
        np.testing.assert_allclose(
            np.concatenate([memory.h, memory.c]), h_c, rtol=1e-4, atol=1e-5
        )


def test_genome_init_follows_the_reference():
    params = make_model("eprnn", n_in=3, n_out=2).init_params(jax.random.key(0))
    zero = [k for k in params if not k.endswith("/W")]
    assert {"h_mem", "inner_lr", "hebbian/A", "hebbian/D", "recurrent/b"} <= set(zero)
    assert all(float(jnp.abs(params[k]).max()) == 0.0 for k in zero)
    w = np.asarray(params["recurrent/W"])
    assert w.shape == (64, 128) and abs(w.std() - 1 / np.sqrt(128)) < 0.01
    assert all(p.dtype == jnp.float32 for p in params.values())


def random_params(model, key, scale=0.3):
    params = model.init_params(key)
    leaves, tree = jax.tree.flatten(params)
    keys = jax.random.split(jax.random.key(7), len(leaves))
    noisy = [
        leaf + scale * jax.random.normal(k, leaf.shape)
        for leaf, k in zip(leaves, keys, strict=True)
    ]
    return jax.tree.unflatten(tree, noisy)


def numpy_eprnn_step(p, h_prev, w_rec, x, hidden):
    p = {k: np.asarray(v, np.float64) for k, v in p.items()}
    sig = lambda v: 1 / (1 + np.exp(-v))  # noqa: E731
    z = np.maximum(0, p["fc_in/W"] @ x + p["fc_in/b"])
    s = sig(p["modulator/W"] @ np.concatenate([z, h_prev]) + p["modulator/b"])
    w_r = p["recurrent/W"].copy()
    w_r[:, :hidden] = w_rec
    h = np.tanh(w_r @ np.concatenate([h_prev, z]) + p["recurrent/b"])
    u = sig(p["fc_hidden/W"] @ h + p["fc_hidden/b"])
    out = p["fc_out/W"] @ u + p["fc_out/b"]
    pre, post = 0.5 * h_prev + 0.5, 0.5 * h + 0.5
    dw = np.zeros_like(w_rec)
    for i in range(hidden):
        for j in range(hidden):
            dw[i, j] = s[i] * (
                p["hebbian/A"][i, j] * post[i] * pre[j]
                + p["hebbian/B"][i, j] * pre[j]
                + p["hebbian/C"][i, j] * post[i]
                + p["hebbian/D"][i, j]
            )
    return out, h, w_rec + dw


def test_eprnn_step_matches_numpy():
    hidden = 5
    model = make_model("eprnn", n_in=2, n_out=2, hidden=hidden)
    params = random_params(model, jax.random.key(0))
    memory = model.init_memory(params)
    x = np.array([0.4, -1.2], np.float32)
    h_prev, w_rec = (
        np.asarray(memory.h, np.float64),
        np.asarray(memory.w_rec.weight, np.float64),
    )
    for _ in range(3):
        want_out, want_h, want_w = numpy_eprnn_step(params, h_prev, w_rec, x, hidden)
        out, memory = jax.jit(model.step)(params, memory, x)
        np.testing.assert_allclose(out, want_out, rtol=1e-4, atol=1e-5)
        np.testing.assert_allclose(memory.h, want_h, rtol=1e-4, atol=1e-5)
        np.testing.assert_allclose(memory.w_rec.weight, want_w, rtol=1e-4, atol=1e-5)
        h_prev, w_rec = want_h, want_w
    frozen_out, frozen = model.step(params, memory, x, plastic=False)
    np.testing.assert_array_equal(frozen.w_rec.weight, memory.w_rec.weight)
    _, traced = jax.jit(model.step)(params, memory, x, jnp.bool_(False))
    np.testing.assert_array_equal(traced.w_rec.weight, memory.w_rec.weight)


def manual_seqpred_score(model, params, task_params, k_train, n_test, test_plastic):
    from hebbjax.envs.seqpred import sequence_value

    step = jax.jit(model.step, static_argnums=3)
    memory = model.init_memory(params)
    for t in range(k_train):
        _, memory = step(params, memory, sequence_value(task_params, t), True)
    x, errors = jnp.zeros(model.n_in), []
    for k in range(1, n_test + 1):
        a, memory = step(params, memory, x, test_plastic)
        errors.append(
            float(jnp.mean((sequence_value(task_params, k_train + k) - a) ** 2))
        )
        x = a
    return -np.mean(errors)


def test_seqpred_lifetime_freezes_plasticity_in_test_and_carries_memory():
    task = make_task("seqpred-l1-k10-n20")
    model = make_model("eprnn", n_in=1, n_out=1, hidden=6)
    params = random_params(model, jax.random.key(1), scale=0.5)
    task_params = task.sample_params(jax.random.key(2))
    result = jax.jit(task.lifetime(model))(params, task_params, jax.random.key(3))
    frozen = manual_seqpred_score(model, params, task_params, 10, 20, False)
    plastic = manual_seqpred_score(model, params, task_params, 10, 20, True)
    assert float(result.fitness) == pytest.approx(frozen, rel=1e-4)
    assert abs(frozen - plastic) > 1e-5  # plastic TEST steps would change the score
    assert result.returns.tolist()[0] == 0.0 and result.steps.tolist() == [10, 20]


@pytest.mark.parametrize("name", NEW_MODELS)
def test_model_under_jit_vmap(name):
    n_in, n_out = 3, 2  # the WRNav shape: extra layer, es-maml "pg"
    model = make_model(name, n_in=n_in, n_out=n_out, hidden=8)
    keys = jax.random.split(jax.random.key(0), 4)
    params = jax.vmap(model.init_params)(keys)
    memory = jax.vmap(model.init_memory)(params, keys)
    x = jnp.ones((4, n_in), jnp.float32)
    step = jax.jit(jax.vmap(model.step, in_axes=(0, 0, 0, None)), static_argnums=3)
    out, memory = step(params, memory, x, True)
    out, memory2 = step(params, memory, x, False)
    assert out.shape == (4, n_out) and np.all(np.isfinite(np.asarray(out)))
    assert jax.tree.structure(memory2) == jax.tree.structure(memory)
    traced = jax.jit(jax.vmap(model.step, in_axes=(0, 0, 0, None)))
    out_t, _ = traced(params, memory, x, jnp.bool_(True))
    assert out_t.shape == (4, n_out)
    assert all(leaf.dtype == jnp.float32 for leaf in jax.tree.leaves(params))


def test_epmlp_random_redraws_its_plastic_weights():
    model = make_model("epmlp-random", n_in=2, n_out=2, hidden=8)
    params = model.init_params(jax.random.key(0))
    assert "plastic/W" not in params
    assert "plastic/W" in make_model("epmlp", n_in=2, n_out=2, hidden=8).init_params(
        jax.random.key(0)
    )
    a = model.init_memory(params, jax.random.key(1)).w.weight
    b = model.init_memory(params, jax.random.key(2)).w.weight
    assert not np.allclose(a, b) and float(jnp.abs(a).max()) <= 0.1
    with pytest.raises(ValueError, match="key"):
        model.init_memory(params)


def test_es_maml_adapts_after_train_and_zero_shot_does_not():
    task = make_task("seqpred-l1-k10-n20")
    params_task = task.sample_params(jax.random.key(0))
    maml = make_model("es-maml", n_in=1, n_out=1, hidden=8)
    params = maml.init_params(jax.random.key(0))
    assert params["inner_lr"].tolist() == pytest.approx([0.01] * 4)
    result = task.lifetime(maml)(params, params_task, jax.random.key(1))
    zero = dict(params, inner_lr=jnp.zeros(4))
    frozen = task.lifetime(maml)(zero, params_task, jax.random.key(1))
    shot = make_model("es-maml-zero-shot", n_in=1, n_out=1, hidden=8)
    never = task.lifetime(shot)(params, params_task, jax.random.key(1))
    assert float(frozen.fitness) == pytest.approx(float(never.fitness), rel=1e-5)
    assert abs(float(result.fitness) - float(never.fitness)) > 1e-6
    with pytest.raises(ValueError, match="adapt"):
        make_model("es-maml", n_in=3, n_out=2, adapt="bp")

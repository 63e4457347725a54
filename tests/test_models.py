"""Model contract tests: Table-1 counts, jit(vmap(step)), plasticity gating, genome I/O,
and the step order of spec 1.2/1.4 against a plain-numpy forward pass."""

import argparse

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from hebbjax.cli.common import add_genome_format_argument
from hebbjax.models import (
    GENOME_FORMATS,
    MODELS,
    from_epann_flat,
    genome_format,
    genome_layout,
    load_genome,
    make_model,
    model_summary,
    n_gene,
    save_genome_npz,
    to_epann_flat,
)

# (name, N_Gene, N_Mem) of Table 1 with m = 15, h = 64, o = 5 (spec 1.7)
COUNTS = [
    ("dnn", 5125, 0),
    ("meta-dnn", 5509, 0),
    ("meta-rnn-32", 1701, 32),
    ("meta-rnn", 5445, 64),
    ("meta-lstm", 20805, 128),
    ("prnn", 20613, 5120),
    ("prnn-predn", 20694, 5120),
    ("prnn-postdn", 20743, 5120),
    ("decpdnn", 1281, 5056),
    ("decpdnn-predn", 1362, 5056),
    ("decpdnn-postdn", 1411, 5056),
    ("decprnn", 1217, 5120),
    ("decprnn-predn", 1298, 5120),
    ("decprnn-postdn", 1347, 5120),
    ("prnn-scratch-et", 1481, 4160),
    ("prnn-et", 5577, 4160),  # closest consistent variant; the paper says 5,511
    ("merged-prnn-postdn", 1347, 5120),
]
PAPER_GENOME = "decprnn_postdn_paper_genome.npy"


def test_registry_holds_exactly_the_table_models():
    # the EPRNN and ant models of other papers register after the Table-1 ones
    assert sorted(MODELS.names()[: len(COUNTS)]) == sorted(n for n, _, _ in COUNTS)


def test_counts_match_table_1():
    rows = {row["name"]: row for row in model_summary()}
    for name, genes, mem in COUNTS:
        assert (rows[name]["n_gene"], rows[name]["n_mem"]) == (genes, mem), name
        assert rows[name]["bottleneck_factor"] == pytest.approx(mem / genes)
        assert rows[name]["description"]


def test_predn_summed_option_and_keyword_sizes():
    assert n_gene(make_model("prnn-predn", predn="summed")) == 20775
    assert n_gene(make_model("decprnn-predn", predn="summed")) == 1379
    assert make_model("dnn").n_in == 9
    small = make_model("decprnn-postdn", hidden=8, n_in=3, n_out=2)
    assert (small.n_in, small.n_out, small.n_mem) == (3, 2, 8 * 8 + 8 * 3 + 8)
    assert n_gene(small) == 8 * 8 + 4 * (8 + 3) + 8 + 9 * 2 + 2 * 9


def test_merged_model_takes_static_assignment_maps():
    rng = np.random.default_rng(0)
    a_h = rng.integers(0, 16, size=(8, 8))
    a_x = rng.integers(0, 11, size=(8, 3))
    model = make_model(
        "merged-prnn-postdn", hidden=8, n_in=3, assignment_h=a_h, assignment_x=a_x
    )
    params = jax.eval_shape(model.init_params, jax.random.key(0))
    assert params["PRNN_1/hebbian_h/Cluster"].shape == (16, 4)
    assert params["PRNN_1/hebbian_x/Cluster"].shape == (11, 4)
    assert all(p.dtype == jnp.float32 for p in jax.tree.leaves(params))


def test_unknown_model_lists_valid_names():
    with pytest.raises(ValueError, match="valid model names: dnn, meta-dnn") as err:
        make_model("decprnn-postdm")
    assert "decprnn-postdn" in str(err.value)


def _plastic_leaves(memory):
    """Plastic weights and traces (everything but hidden state)."""
    if hasattr(memory, "_fields") and "h" in memory._fields:
        memory = tuple(
            v
            for k, v in zip(memory._fields, memory, strict=True)
            if k not in ("h", "c")
        )
    return jax.tree.leaves(memory)


SMALL = {"hidden": 6, "n_in": 4, "n_out": 3}


@pytest.mark.parametrize("name", [name for name, _, _ in COUNTS])
def test_jit_vmap_population_step(name):
    """init, zero plastic state, three steps under jit(vmap), plastic gate."""
    pop = 3
    model = make_model(name, **SMALL)
    params = jax.vmap(model.init_params)(jax.random.split(jax.random.key(1), pop))
    assert all(p.dtype == jnp.float32 for p in jax.tree.leaves(params))
    memory = jax.vmap(model.init_memory)(params)
    for leaf in _plastic_leaves(memory):
        if name == "prnn-et" and leaf.shape[-2:] == (6, 6) and np.any(leaf):
            continue  # PRNN(ET)'s evolved W_h(0)
        np.testing.assert_array_equal(leaf, 0.0)
    step = jax.jit(jax.vmap(model.step, in_axes=(0, 0, 0, None)))
    xs = jax.random.normal(jax.random.key(2), (3, pop, model.n_in))
    out, mem1 = step(params, memory, xs[0], jnp.bool_(True))
    assert out.shape == (pop, model.n_out)
    assert jax.tree.map(jnp.shape, mem1) == jax.tree.map(jnp.shape, memory)
    # two plastic steps: the ET trace of W_h needs h_{t-1} != 0 to move
    _, mem2 = step(params, mem1, xs[1], jnp.bool_(True))
    out3, mem3 = step(params, mem2, xs[2], jnp.bool_(False))
    assert np.all(np.isfinite(out)) and np.all(np.isfinite(out3))
    for leaf in jax.tree.leaves(mem3):
        assert leaf.dtype == jnp.float32 and np.all(np.isfinite(leaf))
    for a, b in zip(_plastic_leaves(mem2), _plastic_leaves(mem3), strict=True):
        np.testing.assert_array_equal(a, b)  # plastic=False freezes W and traces
    before, after = jax.tree.leaves(memory), jax.tree.leaves(mem3)
    assert model.n_mem == 0 or any(
        np.any(a != b) for a, b in zip(before, after, strict=True)
    )
    if name not in ("dnn", "meta-dnn", "meta-rnn", "meta-rnn-32", "meta-lstm"):
        w0, w2 = _plastic_leaves(memory), _plastic_leaves(mem2)
        assert any(np.any(a != b) for a, b in zip(w0, w2, strict=True))
    if hasattr(mem3, "h"):
        assert not np.array_equal(mem2.h, mem3.h)  # the state still evolves


def _np_decprnn_step(p, h, w_h, w_x, x, modulation, scale=1.0):
    """Independent numpy DecPRNN step (spec 1.2-1.4): returns out, h, W_h, W_x."""
    sig = lambda z: 1.0 / (1.0 + np.exp(-z))  # noqa: E731

    def hebb(pre_name, pre, post):
        v = {
            t: p[f"PRNN_1/{pre_name}//W_{t}"]
            for t in ("Ax", "Ay", "Bx", "By", "Cx", "Cy", "Dx", "Dy")
        }
        one_pre, one_post = np.ones_like(pre), np.ones_like(post)
        return (
            np.outer(v["Ay"], v["Ax"]) * np.outer(post, pre)
            + np.outer(v["By"], v["Bx"]) * np.outer(post, one_pre)
            + np.outer(v["Cy"], v["Cx"]) * np.outer(one_post, pre)
            + np.outer(v["Dy"], v["Dx"])
        )

    if modulation == "pre":
        mu_x = sig(p["FC_Mh/W"] @ x + p["FC_Mh/b"])[0]
        mu_h = sig(p["FC_Mx/W"] @ h + p["FC_Mx/b"])[0]
    h_new = np.tanh(w_h @ h + w_x @ x + p["PRNN_1//b"])
    if modulation == "post":
        mu_h, mu_x = sig(p["FC_M/W"] @ h_new + p["FC_M/b"])
    out = p["FC_1/W"] @ h_new + p["FC_1/b"]
    w_h = w_h + scale * mu_h * hebb("hebbian_h", h, h_new)
    w_x = w_x + scale * mu_x * hebb("hebbian_x", x, h_new)
    return out, h_new, w_h, w_x


@pytest.mark.parametrize("scale", [1.0, 0.20])
@pytest.mark.parametrize("modulation", ["post", "pre"])
def test_step_order_and_modulator_orientation_match_numpy(modulation, scale):
    """PostDN mu from h_t, PreDN from (x_t, h_{t-1}); output from current weights; the
    modulated update scaled by 1.0 (default, April 2022) or 0.20 (from July 2022)."""
    options = {} if scale == 1.0 else {"modulated_scale": scale}
    model = make_model(f"decprnn-{modulation}dn", hidden=5, n_in=3, n_out=2, **options)
    params = jax.tree.map(lambda a: 10 * a, model.init_params(jax.random.key(3)))
    # a strongly h-dependent modulator: mu_from(h_t) and mu_from(h_{t-1}) differ
    np_p = {k: np.asarray(v, np.float64) for k, v in params.items()}
    h, w_h, w_x = np.zeros(5), np.zeros((5, 5)), np.zeros((5, 3))
    memory = model.init_memory(params)
    xs = np.random.default_rng(4).standard_normal((4, 3))
    step = jax.jit(model.step)
    for x in xs:
        out, memory = step(params, memory, jnp.asarray(x, jnp.float32))
        out_np, h, w_h, w_x = _np_decprnn_step(np_p, h, w_h, w_x, x, modulation, scale)
        np.testing.assert_allclose(out, out_np, rtol=1e-4, atol=1e-4)
        np.testing.assert_allclose(memory.h, h, rtol=1e-4, atol=1e-5)
        np.testing.assert_allclose(memory.w_h.weight, w_h, rtol=1e-4, atol=1e-4)
        np.testing.assert_allclose(memory.w_x.weight, w_x, rtol=1e-4, atol=1e-4)
    # the wrong orientation gives a measurably different W_h after step 1
    if modulation == "post":
        sig = lambda z: 1.0 / (1.0 + np.exp(-z))  # noqa: E731
        h1 = np.tanh(np_p["PRNN_1//b"])
        assert (
            abs(sig(np_p["FC_M/W"] @ h1 + np_p["FC_M/b"])[0] - sig(np_p["FC_M/b"])[0])
            > 1e-2
        )


ROUND_TRIP = ["decprnn-postdn", "decprnn", "prnn-postdn", "prnn-et", "decpdnn-predn"]


@pytest.mark.parametrize("name", ROUND_TRIP)
def test_genome_round_trip(name, tmp_path):
    model = make_model(name)
    size = n_gene(model)
    flat = np.random.default_rng(5).standard_normal(size).astype(np.float32)
    params = from_epann_flat(model, flat)
    assert sum(v.size for v in params.values()) == size
    np.testing.assert_array_equal(to_epann_flat(params), flat)
    np.save(tmp_path / "g.npy", flat)
    loaded = load_genome(tmp_path / "g.npy", model)
    save_genome_npz(tmp_path / "g.npz", loaded)
    again = load_genome(tmp_path / "g.npz", model, fmt="npz")
    assert sorted(again) == sorted(params)
    for k in params:
        np.testing.assert_array_equal(again[k], params[k])
        assert again[k].dtype == jnp.float32
    # the default reads the format from the file, whatever its name
    (tmp_path / "g.npz").rename(tmp_path / "named.bin")
    np.save(tmp_path / "flat.npz.npy", flat)
    assert genome_format(tmp_path / "named.bin") == "npz"
    assert genome_format(tmp_path / "flat.npz.npy") == "epann"
    for name in ("named.bin", "flat.npz.npy"):
        auto = load_genome(tmp_path / name, model)
        for k in params:
            np.testing.assert_array_equal(auto[k], params[k])
    # the commands offer exactly the formats load_genome reads
    parser = argparse.ArgumentParser()
    add_genome_format_argument(parser)
    assert parser._option_string_actions["--genome-format"].choices == GENOME_FORMATS


def test_genome_errors_name_lengths_and_layout(tmp_path):
    model = make_model("decprnn-postdn")
    with pytest.raises(ValueError, match=r"\(1346,\), expected \(1347,\).*FC_M/b"):
        from_epann_flat(model, np.zeros(1346, np.float32))
    params = from_epann_flat(model, np.zeros(1347, np.float32))
    params["FC_M/b"] = jnp.zeros(3)
    save_genome_npz(tmp_path / "bad.npz", params)
    with pytest.raises(ValueError, match="FC_M/b: stored \\(3,\\), expected \\(2,\\)"):
        load_genome(tmp_path / "bad.npz", model, fmt="npz")
    with pytest.raises(ValueError, match="valid formats"):
        load_genome(tmp_path / "bad.npz", model, fmt="pickle")


def test_paper_genome_loads_into_decprnn_postdn(fixtures_dir):
    flat = np.load(fixtures_dir / PAPER_GENOME)
    assert flat.dtype == np.float32 and flat.shape == (1347,)
    model = make_model("decprnn-postdn")
    params = load_genome(fixtures_dir / PAPER_GENOME, model)
    layout = {name: (a, b) for name, _, a, b in genome_layout(model)}
    assert layout["FC_M/b"] == (453, 455)
    assert layout["PRNN_1//b"] == (455, 519)
    assert layout["PRNN_1/hebbian_x//W_Ax"] == (1031, 1046)
    np.testing.assert_array_equal(params["FC_1/W"], flat[0:320].reshape(5, 64))
    np.testing.assert_array_equal(params["FC_M/W"], flat[325:453].reshape(2, 64))
    np.testing.assert_array_equal(params["FC_M/b"], flat[453:455])
    np.testing.assert_array_equal(params["PRNN_1/hebbian_h//W_Ax"], flat[519:583])
    np.testing.assert_array_equal(params["PRNN_1/hebbian_x//W_Dy"], flat[1283:1347])
    memory = model.init_memory(params)
    out, memory = model.step(params, memory, jnp.zeros(15, jnp.float32))
    np.testing.assert_allclose(memory.h, np.tanh(flat[455:519]), rtol=1e-6)


def test_dnn_reads_only_the_observation_of_the_task_input():
    # the trainer passes the task's n_in (15); the DNN still sees only the 9-cell view
    model = make_model("dnn", n_in=15, n_out=5)
    assert model.n_in == 9 and n_gene(model) == 5125
    with pytest.raises(ValueError, match="n_obs=9 of n_in=4"):
        make_model("dnn", n_in=4, n_obs=9)


def _layout_fitness(task, fast, plain, n_tasks, seed):
    """Fitness of the same 4 genomes on ``n_tasks`` tasks under both models' layouts."""
    from hebbjax.rollout import population_evaluator

    k_pop, k_tasks, k_life = jax.random.split(jax.random.key(seed), 3)
    pop = jax.vmap(fast.init_params)(jax.random.split(k_pop, 4))
    tasks = jax.vmap(task.sample_params)(jax.random.split(k_tasks, n_tasks))
    keys = jax.random.split(k_life, (n_tasks, 1))
    return [
        np.asarray(population_evaluator(m, task)(pop, tasks, keys).fitness)
        for m in (fast, plain)
    ]


@pytest.mark.parametrize("name", ["meta-rnn", "meta-lstm", "meta-dnn", "dnn"])
def test_prepared_genome_layout_gives_the_same_lifetime(name):
    """Meta-RNN/LSTM lifetimes read W stored transposed (``Model.prepare``): the genome
    is unchanged, the step agrees with the genome's own layout to float32 rounding, and
    whole maze lifetimes return the same fitness."""
    from hebbjax.models.layers import TRANSPOSED
    from hebbjax.tasks import make_task

    fast, plain = (
        make_model(name, layout=layout) for layout in ("pre-major", "post-major")
    )
    params = fast.init_params(jax.random.key(0))
    assert jax.tree.map(jnp.shape, params) == jax.tree.map(
        jnp.shape, plain.init_params(jax.random.key(0))
    )
    prepared = fast.prepare(params)
    (layer,) = [k for k in prepared if k.endswith(TRANSPOSED)]
    np.testing.assert_array_equal(
        prepared[layer].T, params[layer[: -len(TRANSPOSED)] + "/W"]
    )
    assert plain.prepare(params) is params

    x = jax.random.normal(jax.random.key(1), (fast.n_in,))
    memory = fast.init_memory(params)
    for _ in range(3):
        out_a, mem_a = fast.step(prepared, memory, x)
        out_b, memory = fast.step(params, memory, x)
        np.testing.assert_allclose(out_a, out_b, rtol=1e-5, atol=1e-6)
    fit = _layout_fitness(make_task("maze9"), fast, plain, n_tasks=2, seed=2)
    np.testing.assert_allclose(fit[0], fit[1], rtol=1e-6)
    with pytest.raises(ValueError, match="valid: pre-major, post-major"):
        make_model(name, layout="diagonal")


def test_lstm_gate_forms_agree_and_logistic_is_the_reference_expression():
    """``lstm_cell``'s one-tanh gates equal the per-gate sigmoids to float32 rounding
    (also where sigma saturates); its logistic form is the reference expression bit for
    bit; Meta-LSTM's two forms give the same maze fitness; a bad form names the valid."""
    from hebbjax.models.layers import lstm_cell
    from hebbjax.tasks import make_task

    z = 6.0 * jax.random.normal(jax.random.key(0), (4 * 64,))
    c = jax.random.normal(jax.random.key(1), (64,))
    for order in ("gifo", "ifgo"):
        h_t, c_t = lstm_cell(z, c, order, "tanh")
        h_l, c_l = lstm_cell(z, c, order, "logistic")
        np.testing.assert_allclose(h_t, h_l, rtol=1e-6, atol=1e-6)
        np.testing.assert_allclose(c_t, c_l, rtol=1e-6, atol=1e-6)
    g, i, f, o = jnp.split(z, 4)
    c_ref = jax.nn.sigmoid(f) * c + jax.nn.sigmoid(i) * jnp.tanh(g)
    h_ref = jax.nn.sigmoid(o) * jnp.tanh(c_ref)
    h_l, c_l = lstm_cell(z, c, "gifo", "logistic")
    np.testing.assert_array_equal(h_l, h_ref)
    np.testing.assert_array_equal(c_l, c_ref)

    fast, plain = (make_model("meta-lstm", gates=g) for g in ("tanh", "logistic"))
    fit = _layout_fitness(make_task("maze9"), fast, plain, n_tasks=2, seed=3)
    np.testing.assert_allclose(fit[0], fit[1], rtol=1e-6)
    with pytest.raises(ValueError, match="valid: logistic, tanh"):
        make_model("meta-lstm", gates="softsign")


@pytest.mark.parametrize("name", ["eprnn", "es-rnn", "es-lstm"])
def test_eprnn_family_prepared_layout_gives_the_same_lifetimes(name):
    """The EPRNN-family models read their feed-forward layers transposed in a lifetime:
    the same Sequence Predicting fitness as the genome's own layout."""
    from hebbjax.tasks import make_task

    task = make_task("seqpred-l1-k10-n20")
    fast, plain = (
        make_model(name, n_in=task.n_in, n_out=task.n_out, layout=layout)
        for layout in ("pre-major", "post-major")
    )
    assert n_gene(fast) == n_gene(plain)
    fit = _layout_fitness(task, fast, plain, n_tasks=3, seed=0)
    np.testing.assert_allclose(fit[0], fit[1], rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("name", ["prnn-postdn", "merged-prnn-postdn"])
def test_prepared_rule_coefficients_give_the_same_lifetime_bit_for_bit(name):
    """The ABCD rule of the pre-major W_x reads its coefficients transposed, and the
    cluster rule its table expanded, from ``Model.prepare`` (once per lifetime): the
    genome is unchanged and steps and whole maze lifetimes agree bit for bit."""
    from hebbjax.rules.abcd import TRANSPOSED
    from hebbjax.tasks import make_task

    model = make_model(name)
    params = model.init_params(jax.random.key(0))
    prepared = model.prepare(params)
    assert all(f"PRNN_1/hebbian_x/{k}{TRANSPOSED}" in prepared for k in "ABCD")
    if name == "prnn-postdn":
        np.testing.assert_array_equal(
            prepared["PRNN_1/hebbian_x/A" + TRANSPOSED].T, params["PRNN_1/hebbian_x/A"]
        )
    else:  # the table is gone, the expanded coefficients replace it
        assert not any(k.endswith("/Cluster") for k in prepared)
    memory_a = memory_b = model.init_memory(params)
    for t in range(4):
        x = jax.random.normal(jax.random.key(t), (model.n_in,))
        out_a, memory_a = model.step(prepared, memory_a, x)
        out_b, memory_b = model.step(params, memory_b, x)
        for a, b in zip(
            jax.tree.leaves((out_a, memory_a)),
            jax.tree.leaves((out_b, memory_b)),
            strict=True,
        ):
            np.testing.assert_array_equal(a, b)

    from hebbjax.rollout import population_evaluator

    task = make_task("maze9")
    pop = jax.vmap(model.init_params)(jax.random.split(jax.random.key(1), 2))
    mazes = jax.vmap(task.sample_params)(jax.random.split(jax.random.key(2), 2))
    keys = jax.random.split(jax.random.key(3), (2, 1))
    plain = model._replace(prepare=lambda p: p)
    fits = [
        np.asarray(population_evaluator(m, task)(pop, mazes, keys).fitness)
        for m in (model, plain)
    ]
    np.testing.assert_array_equal(fits[0], fits[1])

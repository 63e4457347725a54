"""The EPRNN outer loop (spec 4.4): antithetic pairs, per-tensor scales and one update
against a plain-numpy statement; the CLI trains and evaluates an EPRNN run."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from hebbjax.evolution.eprnn_es import EPRNNES, reference_num_extremes
from hebbjax.evolution.noise_table import NOISE_TABLE_SEED
from hebbjax.evolution.strategies import STRATEGIES, make_strategy

SOLUTION = {
    "fc_in/W": jnp.zeros((3, 2)),
    "fc_in/b": jnp.zeros(3),
    "hebbian/A": jnp.zeros((2, 2)),
    "inner_lr": jnp.zeros(4),
}
P = 50  # 25 pairs; the reference is given 52 (or 51): T = 52 // 25 = 2


def first_generation(population=P, **options):
    es, params = make_strategy("eprnn-es", population, SOLUTION, **options)
    mean = jax.tree.map(lambda x: jnp.full_like(x, 0.5), SOLUTION)
    state = es.init(jax.random.key(1), mean, params)
    population, state = es.ask(jax.random.key(0), state, params)
    return es, params, state, population


def reference_pool(p_ref):
    """EStool's sizes for its population argument: (offspring, T)."""
    return 2 * ((p_ref - 1) // 2), p_ref // 25


def test_step_size_rule_takes_the_references_best_and_worst():
    # the paper's runs: P_ref = 400 -> 199 pairs (398 offspring) and T = 16, not 398 // 25
    assert reference_pool(400) == (398, 16) and reference_num_extremes(398) == 16
    assert 398 // 25 == 15
    for p_ref in range(6, 1000, 2):  # every even argument, as the configs give
        offspring, t = reference_pool(p_ref)
        assert reference_num_extremes(offspring) == max(1, t)
    assert make_strategy("eprnn-es", 398, SOLUTION)[0].num_extremes == 16
    assert (
        make_strategy("eprnn-es", 398, SOLUTION, num_extremes=15)[0].num_extremes == 15
    )
    assert make_strategy("eprnn-es", 4, SOLUTION)[0].num_extremes == 1
    with pytest.raises(ValueError, match="num_extremes"):
        make_strategy("eprnn-es", 8, SOLUTION, num_extremes=5)


def test_registered_and_validates():
    assert STRATEGIES.get("eprnn-es").__name__ == "eprnn_es"
    with pytest.raises(ValueError, match="even"):
        make_strategy("eprnn-es", 7, SOLUTION)
    with pytest.raises(ValueError, match="std_drift"):
        make_strategy("eprnn-es", 8, SOLUTION, std_drfit=1.0)
    es, params = make_strategy("eprnn-es", 8, SOLUTION, learning_rate=0.2)
    assert isinstance(es, EPRNNES) and float(params.learning_rate) == pytest.approx(0.2)


def test_antithetic_pairs_and_per_tensor_scales():
    es, params, state, population = first_generation()
    # leaves in jax.tree.leaves order: fc_in/W, fc_in/b, hebbian/A, inner_lr
    np.testing.assert_allclose(state.std, [1e-2, 1e-2, 1e-3, 1e-3], rtol=1e-6)
    flat = jax.vmap(es._ravel_solution)(population)
    np.testing.assert_allclose(flat[: P // 2] + flat[P // 2 :], 1.0, atol=1e-6)
    factors = np.asarray(state.factors)
    assert factors.shape == (P // 2, 4) and set(
        np.round(factors.astype(float), 6).ravel()
    ) == {0.9, 1.1}
    eps = np.asarray(flat[: P // 2] - 0.5)
    seg = es.segment_ids
    for k, s in enumerate([1e-2, 1e-2, 1e-3, 1e-3]):
        z = eps[:, seg == k] / (s * factors[:, [k]])
        assert 0.7 < z.std() < 1.3  # unit normal after dividing by c_ik s_k
    assert eps[:, seg == 2].std() < 0.2 * eps[:, seg == 0].std()


def numpy_update(flat, fitness, mean, std, factors, t, lr=0.02):
    """Spec 4.4 stated in numpy: ranks -> f_i, mean += sum f_i eps_i, step-size rule
    over the ``t`` best and worst."""
    p = len(fitness)
    score = -np.asarray(fitness, np.float64)
    ranks = np.empty(p)
    ranks[np.argsort(score)] = np.arange(p)
    centred = ranks / (p - 1) - 0.5
    f = (centred - centred.mean()) / centred.std() * lr
    new_mean = mean + sum(f[i] * (flat[i] - mean) for i in range(p))
    order = np.argsort(-score)
    used = std[None, :] * factors[np.arange(p) % (p // 2)]
    new_std = np.maximum(
        1e-5, std + 1e-6 + 0.5 / t * (used[order[:t]] - used[order[-t:]]).sum(axis=0)
    )
    return new_mean, new_std


@pytest.mark.parametrize(
    "population, options, t",
    [
        (P, {}, 2),
        (48, {}, 2),
        (48, {"num_extremes": 48 // 25}, 1),
        (48, {"num_extremes": 5}, 5),
    ],
)
def test_one_update_matches_numpy(population, options, t):
    es, params, state, population = first_generation(population, **options)
    assert es.num_extremes == t
    flat = np.asarray(jax.vmap(es._ravel_solution)(population), np.float64)
    fitness = np.random.default_rng(0).normal(size=len(flat))  # lower is better
    new_state, metrics = es.tell(
        jax.random.key(2), population, jnp.asarray(fitness, jnp.float32), state, params
    )
    want_mean, want_std = numpy_update(
        flat,
        fitness,
        np.asarray(state.mean, np.float64),
        np.asarray(state.std, np.float64),
        np.asarray(state.factors, np.float64),
        t,
    )
    np.testing.assert_allclose(new_state.mean, want_mean, rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(new_state.std, want_std, rtol=1e-5)
    assert int(new_state.generation_counter) == 1 and "std" in metrics


def test_sphere_improves_and_second_generation_does_not_recompile(sphere_search):
    es, params = make_strategy(
        "eprnn-es", 32, SOLUTION, std_init=0.1, learning_rate=0.2
    )
    start, end, generation = sphere_search(
        es, params, jax.tree.map(jnp.ones_like, SOLUTION), 30
    )
    assert generation._cache_size() == 1
    assert end < 0.9 * start


def test_cli_trains_and_evaluates_eprnn(tmp_path, capsys):
    import json

    from hebbjax.cli import main

    out = tmp_path / "run"
    args = ["train", "--task", "seqpred-l1-k10-n20", "--model", "eprnn"]
    args += ["--strategy", "eprnn-es", "--population", "8", "--generations", "2"]
    args += ["--tasks-per-gen", "2", "--n-validation", "8", "--validate-every", "1"]
    args += ["--checkpoint-every", "2", "--model-opt", "hidden=4"]
    assert main(args + ["--out", str(out), "--quiet", "--sigma0", "0.01"]) == 0
    capsys.readouterr()
    assert main(["eval", "--run", str(out), "--n-mazes", "16", "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)["seqpred-l1-k10-n20"]["test"]
    assert len(summary["return_mean"]) == 2 and summary["return_mean"][0] == 0.0
    assert summary["return_mean"][1] < 0 and summary["n_lifetimes"] == 16


def test_leafwise_ask_and_pair_update_match_the_flat_forms():
    """``ask`` builds the pytree population leaf by leaf: the numbers of the flat ``_ask``
    unravelled (to float32 rounding: XLA may contract the multiply-add differently); ``tell`` reads only the first offspring of each pair: the same
    update as summing f_i eps_i over all P offspring, to float32 rounding."""
    es, params, state, population = first_generation()
    flat, _ = es._ask(jax.random.key(1), state, params)
    again, state = es.ask(jax.random.key(1), state, params)
    for a, b in zip(
        jax.tree.leaves(jax.vmap(es._unravel_solution)(flat)),
        jax.tree.leaves(again),
        strict=True,
    ):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)  # jit may fuse to FMA
    fitness = jnp.asarray(np.random.default_rng(1).normal(size=P), jnp.float32)
    new_state, _ = es.tell(jax.random.key(2), again, fitness, state, params)
    score = -fitness
    from hebbjax.evolution.eprnn_es import centred_ranks

    f = centred_ranks(score)
    f = (f - f.mean()) / f.std() * params.learning_rate
    np.testing.assert_allclose(
        new_state.mean, state.mean + f @ (flat - state.mean[None]), rtol=1e-5, atol=1e-7
    )
    best = int(jnp.argmin(fitness))
    np.testing.assert_array_equal(new_state.best_solution, flat[best])


TABLE = {"noise": "table", "noise_table_size": 4096}


def test_noise_table_pairs_read_windows_of_the_shared_table():
    """noise="table": each pair's z is a window of the fixed table (one offset per pair,
    every coordinate of the window), the pairs stay antithetic, the leafwise ask equals
    the flat one, and the default "threefry" stream is unchanged by the option."""
    es, params, state, population = first_generation(**TABLE)
    table = np.asarray(es.noise_table)
    assert (
        table.shape == (4096,) and abs(table.mean()) < 0.1 and 0.9 < table.std() < 1.1
    )
    # from a fixed key: the same numbers as a fresh draw of that key
    want = jax.random.normal(jax.random.key(NOISE_TABLE_SEED), (4096,))
    np.testing.assert_array_equal(table, want)
    es_again, _ = make_strategy("eprnn-es", P, SOLUTION, **TABLE)
    np.testing.assert_array_equal(es_again.noise_table, table)
    flat = np.asarray(jax.vmap(es._ravel_solution)(population))
    np.testing.assert_allclose(flat[: P // 2] + flat[P // 2 :], 1.0, atol=1e-6)
    z = (flat[: P // 2] - 0.5) / scale_of(es, state)
    d = es.num_dims
    windows = np.lib.stride_tricks.sliding_window_view(table, d)
    offsets = []
    for row in z:  # the window the pair read: found in the table, at one offset
        hits = np.flatnonzero(np.abs(windows - row).max(axis=1) < 1e-3)
        assert len(hits) == 1
        offsets.append(int(hits[0]))
    assert len(set(offsets)) == len(offsets)  # each pair its own offset
    flat_again, _ = es._ask(jax.random.key(0), state, params)
    np.testing.assert_allclose(flat_again, flat, rtol=1e-6, atol=1e-7)
    # the default draws fresh normals, as before the option existed
    es, params, state, population = first_generation()
    assert es.noise_table is None and es.noise == "threefry"
    want = jax.random.normal(jax.random.split(jax.random.key(0))[1], (P // 2, d))
    flat = np.asarray(jax.vmap(es._ravel_solution)(population))
    # (0.5 + eps) rounds to float32 before eps is divided by scales down to 9e-4
    np.testing.assert_allclose(
        (flat[: P // 2] - 0.5) / scale_of(es, state), want, atol=1e-4
    )


def scale_of(es, state):
    """c_ik s_k of each pair, per gene."""
    return (np.asarray(state.std)[None, :] * np.asarray(state.factors))[
        :, es.segment_ids
    ]


def test_noise_table_names_bad_options():
    with pytest.raises(ValueError, match="unknown noise 'tabel'.*threefry, table"):
        make_strategy("eprnn-es", 8, SOLUTION, noise="tabel")
    with pytest.raises(ValueError, match=r"noise_table_size \(10\) must be larger"):
        make_strategy("eprnn-es", 8, SOLUTION, noise="table", noise_table_size=10)

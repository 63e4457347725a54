"""The shared noise table (Salimans et al. 2017): the evosax presets read their normals
from windows of one fixed table, still learn, and name bad options."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from hebbjax.evolution.noise_table import (
    NOISE_TABLE_SEED,
    draw_offsets,
    shared_table,
    windows,
)
from hebbjax.evolution.strategies import make_strategy

SOLUTION = {"a": jnp.zeros((4, 5)), "b": jnp.zeros(7)}
D, P, SIZE = 27, 16, 2048
TABLE = {"noise": "table", "noise_table_size": SIZE}


def found_in_table(rows: np.ndarray, table: np.ndarray) -> bool:
    """Every row is one window of ``table`` (to float32 rounding of x / std), each at its
    own offset."""
    views = np.lib.stride_tricks.sliding_window_view(table, rows.shape[1])
    hits = [np.flatnonzero(np.abs(views - r).max(axis=1) < 1e-4) for r in rows]
    if any(len(h) != 1 for h in hits):
        return False
    return len({int(h[0]) for h in hits}) == len(rows)


def test_shared_table_is_a_fixed_draw_and_windows_slice_it():
    table = shared_table(SIZE)
    want = jax.random.normal(jax.random.key(NOISE_TABLE_SEED), (SIZE,))
    np.testing.assert_array_equal(table, want)
    assert shared_table(SIZE) is table  # drawn once per process and size
    got = windows(table, jnp.array([0, 5, SIZE - 9]), 2, 9)
    np.testing.assert_array_equal(got[1], table[7:14])
    np.testing.assert_array_equal(got[2], table[SIZE - 7 :])
    # offsets cover [0, size - D] and no more: with size = D + 1, exactly {0, 1}
    offsets = draw_offsets(jax.random.key(0), 200, D + 1, D)
    assert set(np.asarray(offsets).tolist()) == {0, 1}
    # a first call inside a trace still caches a concrete array
    shared_table.cache_clear()
    jax.jit(lambda: shared_table(SIZE).sum())()
    np.testing.assert_array_equal(np.asarray(shared_table(SIZE)), want)


@pytest.mark.parametrize("name", ["openai-es", "snes", "sep-cma-es"])
def test_evosax_presets_read_the_table(name):
    es, params = make_strategy(name, P, SOLUTION, std_init=0.1, **TABLE)
    mean = jax.tree.map(lambda x: jnp.full_like(x, 0.5), SOLUTION)
    state = es.init(jax.random.key(0), mean, params)
    population, _ = es.ask(jax.random.key(1), state, params)
    flat = np.asarray(jax.vmap(es._ravel_solution)(population))
    z = (flat - 0.5) / 0.1  # the first generation: std 0.1, identity covariance
    if name == "openai-es":  # antithetic pairs: windows z, then -z
        np.testing.assert_allclose(z[: P // 2], -z[P // 2 :], atol=1e-5)
        z = z[: P // 2]
    assert found_in_table(z, np.asarray(shared_table(SIZE)))
    threefry, params_t = make_strategy(name, P, SOLUTION, std_init=0.1)
    fresh, _ = threefry.ask(
        jax.random.key(1), threefry.init(jax.random.key(0), mean, params_t), params_t
    )
    fresh = np.asarray(jax.vmap(threefry._ravel_solution)(fresh))
    assert not found_in_table((fresh[:2] - 0.5) / 0.1, np.asarray(shared_table(SIZE)))


def test_gmm_es_reads_the_table_for_rules_and_direct_genes():
    """The rules' noise (P, N, K) and the direct genes' (P, D) are table windows, one
    per individual; the default draws other numbers."""
    es, params = make_strategy("gmm-es", P, SOLUTION, std_init=0.1, rule_leaves="a",
                               **TABLE)  # fmt: skip
    state = es.init(jax.random.key(0), SOLUTION, params)
    population, _ = es.ask(jax.random.key(1), state, params)
    rules = np.asarray(es._ravel(population) - state.means[None, :1])
    table = np.asarray(shared_table(SIZE))
    assert es.n_rules == 1  # one rule: every synapse's mean is means[0]
    assert found_in_table(rules.reshape(P, -1) / 0.1, table)
    assert found_in_table(np.asarray(population["b"]) / 0.1, table)
    fresh_es, fresh_params = make_strategy("gmm-es", P, SOLUTION, std_init=0.1,
                                           rule_leaves="a")  # fmt: skip
    fresh_state = fresh_es.init(jax.random.key(0), SOLUTION, fresh_params)
    fresh, _ = fresh_es.ask(jax.random.key(1), fresh_state, fresh_params)
    fresh_rules = fresh_es._ravel(fresh) - fresh_state.means[None, :1]
    assert not found_in_table(np.asarray(fresh_rules[:2]).reshape(2, -1) / 0.1, table)


@pytest.mark.parametrize(
    "name, options",
    [
        ("openai-es", {}),
        ("snes", {}),
        ("sep-cma-es", {}),
        ("eprnn-es", {"learning_rate": 0.2}),
        ("gmm-es", {"rho": 1, "optimizer": "adam", "learning_rate": 0.05}),
    ],
)
def test_strategies_learn_with_the_table(name, options, sphere_search):
    es, params = make_strategy(name, P, SOLUTION, std_init=0.1, **options, **TABLE)
    mean = jax.tree.map(jnp.ones_like, SOLUTION)
    _, end, _ = sphere_search(es, params, mean, 40)
    # gmm-es starts from its random rule means, not from ``mean`` (sphere_search inits
    # with key 0): compare with where each strategy really starts
    start = sum(
        float(jnp.sum(v**2))
        for v in jax.tree.leaves(es.get_mean(es.init(jax.random.key(0), mean, params)))
    )
    assert end < 0.9 * start


def test_bad_noise_options_are_named():
    with pytest.raises(
        ValueError, match="unknown noise 'tabel' for snes; valid: threefry, table"
    ):
        make_strategy("snes", P, SOLUTION, noise="tabel")
    with pytest.raises(
        ValueError,
        match=r"noise_table_size \(10\) must be larger than the genome's size \(27\)",
    ):
        make_strategy("openai-es", P, SOLUTION, noise="table", noise_table_size=10)

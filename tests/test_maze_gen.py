"""Maze generator statistics (spec 2.1-2.2), maze sets and npz I/O, Oracle/Random (2.7)."""

import functools

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from hebbjax.envs.baselines import maze_baselines, oracle_returns, random_returns
from hebbjax.envs.maze import MazeParams
from hebbjax.envs.maze_gen import (
    all_open_connected,
    interior_wall_fraction,
    sample_maze,
    shortest_path_length,
)
from hebbjax.envs.maze_sets import load_maze_npz, maze_set, save_maze_npz

# spec 2.2: (n, crowd) -> (interior wall fraction, BFS mean, Oracle, Random, mazes measured)
SPEC_TABLE = {
    (9, 0.30): (14 / 49, 8.6, 0.914, -1.11, 200),
    (9, 0.35): (0.347, 9.5, 0.905, -1.41, 200),
    (15, 0.15): (0.148, 12.7, 0.873, -1.72, 200),
    (15, 0.30): (50 / 169, 14.8, 0.852, -1.82, 200),
    (15, 0.35): (59 / 169, 15.5, 0.845, -1.80, 200),
    (15, 0.45): (72 / 169, 21.5, 0.785, -1.92, 200),
    (21, 0.15): (0.150, 18.1, 0.819, -1.92, 100),
    (21, 0.35): (0.349, 22.0, 0.780, -1.98, 100),
    (21, 0.45): (0.449, 33.6, 0.664, -1.98, 100),
}
N_SAMPLES = {9: 300, 15: 300, 21: 150}


@functools.cache
def sampler(size):
    """One compile per size: ``crowd`` is traced."""
    return jax.jit(
        jax.vmap(lambda key, crowd: sample_maze(key, size, crowd), (0, None))
    )


@functools.cache
def generated(size, crowd):
    keys = jax.random.split(
        jax.random.key(size * 1000 + round(crowd * 100)), N_SAMPLES[size]
    )
    mazes = sampler(size)(keys, jnp.float32(crowd))
    path = np.asarray(jax.jit(jax.vmap(shortest_path_length))(mazes))
    return mazes, path


@pytest.mark.parametrize("size, crowd", list(SPEC_TABLE))
def test_statistics_match_spec_table(size, crowd):
    fraction, path_mean, oracle, rand, n_ref = SPEC_TABLE[size, crowd]
    mazes, path = generated(size, crowd)
    n = path.shape[0]
    frac = np.asarray(interior_wall_fraction(mazes))
    limit = np.floor(np.float32(crowd) * (size - 2) ** 2) / (size - 2) ** 2
    if (size, crowd) == (15, 0.45):  # capped by W_conn, the perfect-maze density
        assert (frac <= limit + 1e-7).all() and frac.min() >= 68 / 169
        assert frac.mean() == pytest.approx(fraction, abs=0.004)
    else:
        np.testing.assert_allclose(frac, limit, atol=1e-7)
        assert limit == pytest.approx(fraction, abs=0.0015)
    assert (path > 0).all()

    def close(sample, ref):
        # 3.5 standard errors of the difference; the slack covers a zero-variance sample
        tol = 3.5 * sample.std() * np.sqrt(1 / n + 1 / n_ref) + 0.03
        assert abs(sample.mean() - ref) < tol, (sample.mean(), ref, tol)

    close(path.astype(np.float64), path_mean)
    oracle_sample = np.asarray(oracle_returns(mazes), np.float64)
    np.testing.assert_allclose(oracle_sample, 1 - 0.01 * path, atol=1e-6)
    close(oracle_sample, oracle)
    close(np.asarray(random_returns(mazes, jax.random.key(size)), np.float64), rand)


@pytest.mark.parametrize("size", [9, 15, 21])
def test_structure_of_generated_mazes(size):
    mazes, path = generated(size, 0.35)
    walls, start, goal = (np.asarray(a) for a in (mazes.walls, mazes.start, mazes.goal))
    n = size
    assert walls.dtype == np.int8 and walls.shape[1:] == (n, n)
    assert walls[:, 0].all() and walls[:, -1].all()
    assert walls[:, :, 0].all() and walls[:, :, -1].all()
    assert (walls[:, 1::2, 1::2] == 0).all()  # every odd cell is open
    assert (start % 2 == 1).all() and (goal % 2 == 1).all()
    far = ((goal - start) ** 2).sum(-1) > (0.45 * n) ** 2
    fallback = (goal == n - 2).all(-1)
    assert (far | fallback).all()
    assert far.mean() > 0.85
    assert len({tuple(s) for s in start}) > 10
    assert bool(jax.jit(jax.vmap(all_open_connected))(mazes).all())
    assert (path >= 2).all()


def test_generator_is_deterministic_and_jittable():
    key = jax.random.key(42)
    a = sample_maze(key, 9, 0.3)
    b = jax.jit(sample_maze, static_argnums=1)(key, 9, 0.3)
    for x, y in zip(jax.tree.leaves(a), jax.tree.leaves(b), strict=True):
        np.testing.assert_array_equal(x, y)
    with pytest.raises(ValueError, match="odd"):
        sample_maze(key, 10, 0.3)


def test_shortest_path_on_a_handcrafted_maze():
    layout = [
        "#######",
        "#S..#.#",
        "#.#.#.#",
        "#..G..#",
        "###.#.#",
        "#.....#",
        "#######",
    ]
    walls = jnp.asarray([[c == "#" for c in row] for row in layout], jnp.int8)
    maze = MazeParams(walls=walls, start=jnp.array([1, 1]), goal=jnp.array([3, 3]))
    assert int(shortest_path_length(maze)) == 4
    assert int(shortest_path_length(maze.replace(goal=jnp.array([5, 5])))) == 8
    assert (
        int(
            shortest_path_length(
                maze.replace(walls=walls.at[3, 2].set(1).at[2, 3].set(1))
            )
        )
        == -1
    )


@pytest.fixture(scope="module")
def fixture_sets(fixtures_dir):
    return {
        n: load_maze_npz(fixtures_dir / f"maze{n}_paper_validation.npz")
        for n in (9, 15)
    }


@pytest.mark.parametrize("size, oracle, rand", [(15, 0.853, -1.83), (9, 0.915, -1.16)])
def test_baselines_on_the_paper_validation_sets(fixture_sets, size, oracle, rand):
    out = maze_baselines(fixture_sets[size], jax.random.key(0))
    assert out["n_mazes"] == 1024
    assert out["oracle_mean"] == pytest.approx(oracle, abs=0.0006)
    assert out["oracle_stderr"] < 0.0015
    assert abs(out["random_mean"] - rand) < 3 * out["random_stderr"] + 0.01
    assert 0.005 < out["random_stderr"] < 0.04
    frac = np.asarray(interior_wall_fraction(fixture_sets[size]))
    np.testing.assert_allclose(frac, {15: 50 / 169, 9: 14 / 49}[size], atol=1e-6)


def test_npz_round_trip_and_errors(tmp_path, fixture_sets):
    mazes = jax.tree.map(lambda x: x[:5], fixture_sets[9])
    path = tmp_path / "sub" / "five.npz"
    save_maze_npz(path, mazes)
    back = load_maze_npz(path)
    for x, y in zip(jax.tree.leaves(mazes), jax.tree.leaves(back), strict=True):
        np.testing.assert_array_equal(x, y)
    assert back.walls.dtype == jnp.int8 and back.start.dtype == jnp.int32
    assert not list(tmp_path.glob("sub/*.tmp"))

    good = {k: np.asarray(getattr(mazes, k)) for k in ("walls", "start", "goal")}
    bad_cases = {
        "missing": ({"walls": good["walls"], "start": good["start"]}, "missing"),
        "shape": ({**good, "start": good["start"][:3]}, "shape"),
        "values": ({**good, "walls": good["walls"] * 2}, "only 0"),
        "border": ({**good, "walls": good["walls"] * 0}, "border"),
        "on-wall": ({**good, "goal": np.zeros_like(good["goal"]) + 2}, "outside|wall"),
    }
    for name, (arrays, message) in bad_cases.items():
        np.savez(tmp_path / f"{name}.npz", **arrays)
        with pytest.raises(ValueError, match=message):
            load_maze_npz(tmp_path / f"{name}.npz")
    (tmp_path / "junk.npz").write_bytes(b"not a zip")
    with pytest.raises(ValueError, match="junk"):
        load_maze_npz(tmp_path / "junk.npz")


def test_seeded_sets_are_deterministic_and_cached(tmp_path, monkeypatch):
    monkeypatch.setenv("HEBBJAX_CACHE_DIR", str(tmp_path))
    a = maze_set(9, 0.3, 32, 987654)
    files = list((tmp_path / "mazes").glob("*.npz"))
    assert len(files) == 1
    from_disk = load_maze_npz(files[0])
    fresh = maze_set(9, 0.3, 32, 987654, use_cache=False)
    other = maze_set(9, 0.3, 32, 987655, use_cache=False)
    for x, y, z in zip(
        jax.tree.leaves(a),
        jax.tree.leaves(from_disk),
        jax.tree.leaves(fresh),
        strict=True,
    ):
        np.testing.assert_array_equal(x, y)
        np.testing.assert_array_equal(x, z)
    assert not np.array_equal(a.walls, other.walls)
    assert a.walls.shape == (32, 9, 9)

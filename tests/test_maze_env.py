"""MetaMaze2D as a gymnax environment: spec sections 2.3 (view) and 2.4 (dynamics)."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from gymnax.environments import environment

from hebbjax.envs.maze import (
    ACTION_DELTAS,
    MazeParams,
    MazeState,
    MetaMaze2D,
    episode_return,
)
from hebbjax.envs.maze_sets import load_maze_npz

# A handcrafted 7x7 maze (first index = x). S = start (1, 1), G = goal (3, 3).
LAYOUT = [
    "#######",
    "#S..#.#",
    "#.#.#.#",
    "#..G..#",
    "###.#.#",
    "#.....#",
    "#######",
]


def handcrafted(max_steps: int = 200) -> MazeParams:
    walls = np.array([[c == "#" for c in row] for row in LAYOUT], np.int8)
    return MazeParams(
        max_steps_in_episode=max_steps,
        walls=jnp.asarray(walls),
        start=jnp.array([1, 1], jnp.int32),
        goal=jnp.array([3, 3], jnp.int32),
    )


@pytest.fixture(scope="module")
def fixture_mazes(fixtures_dir):
    return load_maze_npz(fixtures_dir / "maze9_paper_validation.npz")


def test_is_a_gymnax_environment():
    env = MetaMaze2D(size=7)
    assert isinstance(env, environment.Environment)
    assert env.num_actions == 4
    assert env.action_space().n == 4
    assert env.observation_space().shape == (9,)
    params = env.default_params
    assert params.walls.shape == (7, 7)
    assert env.observation_space().contains(env.reset(jax.random.key(0), params)[0])
    with pytest.raises(ValueError, match="obs_sign"):
        MetaMaze2D(obs_sign="upside-down")
    with pytest.raises(ValueError, match="odd"):
        MetaMaze2D(size=8)


def test_reset_and_step_under_jit_vmap(fixture_mazes):
    env = MetaMaze2D(size=9)
    mazes = jax.tree.map(lambda x: x[:16], fixture_mazes)
    keys = jax.random.split(jax.random.key(0), 16)
    obs, state = jax.jit(jax.vmap(env.reset))(keys, mazes)
    assert obs.shape == (16, 9) and obs.dtype == jnp.float32
    np.testing.assert_array_equal(state.pos, mazes.start)
    actions = jnp.arange(16) % 4
    step = jax.jit(jax.vmap(env.step))
    obs2, state2, reward, terminated, truncated, info = step(
        keys, state, actions, mazes
    )
    assert obs2.shape == (16, 9)
    assert reward.shape == terminated.shape == truncated.shape == (16,)
    np.testing.assert_allclose(reward, -0.01, atol=1e-7)  # no goal is one step away
    assert not bool(jnp.any(terminated | truncated))
    assert "final_observation" in info
    np.testing.assert_array_equal(state2.time, 1)


@pytest.mark.parametrize(
    "sign, wall, goal", [("paper", 1.0, -1.0), ("metagym-head", -1.0, 1.0)]
)
def test_observation_index_table(sign, wall, goal):
    env = MetaMaze2D(size=7, obs_sign=sign)
    params = handcrafted()
    # at (2, 3): k = 3 i + j is cell (x - 1 + i, y - 1 + j)
    state = MazeState(time=jnp.int32(0), pos=jnp.array([2, 3], jnp.int32))
    obs = np.asarray(env.get_obs(state, params))
    cells = [(1, 2), (1, 3), (1, 4), (2, 2), (2, 3), (2, 4), (3, 2), (3, 3), (3, 4)]
    expected = []
    for x, y in cells:
        if (x, y) == (3, 3):
            expected.append(goal)
        else:
            expected.append(wall if LAYOUT[x][y] == "#" else 0.0)
    np.testing.assert_array_equal(obs, np.array(expected, np.float32))
    assert obs[4] == 0.0 and obs[7] == goal and obs[3] == wall and obs[5] == wall


@pytest.mark.parametrize(
    "action, delta", [(0, (-1, 0)), (1, (1, 0)), (2, (0, -1)), (3, (0, 1))]
)
def test_action_deltas(action, delta):
    env = MetaMaze2D(size=7)
    params = handcrafted()
    state = MazeState(time=jnp.int32(0), pos=jnp.array([3, 2], jnp.int32))
    _, new, reward, terminated, _ = env.step_env(
        jax.random.key(0), state, action, params
    )
    target = np.array([3 + delta[0], 2 + delta[1]])
    if LAYOUT[target[0]][target[1]] == "#":
        target = np.array([3, 2])  # blocked: stay put, no bump penalty
    np.testing.assert_array_equal(new.pos, target)
    assert bool(terminated) == bool((target == [3, 3]).all())
    np.testing.assert_allclose(reward, 0.99 if terminated else -0.01, atol=1e-7)
    np.testing.assert_array_equal(ACTION_DELTAS[action], delta)


def run_script(env, params, actions):
    """Step ``actions`` without auto-reset; return per-step (reward, terminated, truncated)."""

    def body(state, action):
        _, state, reward, terminated, _ = env.step_env(
            jax.random.key(0), state, action, params
        )
        return state, (reward, terminated, env.is_truncated(state, params))

    _, state = env.reset_env(jax.random.key(0), params)
    _, out = jax.lax.scan(body, state, jnp.asarray(actions, jnp.int32))
    return [np.asarray(x) for x in out]


def score(rewards, terminated, truncated):
    """Episode return and length from per-step arrays, stopping at the first end."""
    end = int(np.argmax(terminated | truncated))
    assert (terminated | truncated)[end]
    return (
        float(rewards[: end + 1].astype(np.float64).sum()),
        end + 1,
        bool(terminated[end]),
    )


@pytest.mark.parametrize("n_bumps", [0, 7, 195])
def test_success_return_is_one_minus_steps(n_bumps):
    env = MetaMaze2D(size=7)
    path = [1, 1, 3, 3]  # (1,1) -> (2,1) -> (3,1) -> (3,2) -> (3,3)
    actions = [0] * n_bumps + path + [0] * 10  # action 0 from (1, 1) bumps the wall
    ret, steps, success = score(*run_script(env, handcrafted(), actions))
    assert success and steps == n_bumps + 4
    assert ret == pytest.approx(1 - 0.01 * steps, abs=1e-5)
    assert float(
        episode_return(jnp.bool_(True), jnp.int32(steps), 200)
    ) == pytest.approx(1 - 0.01 * steps, abs=1e-6)


def test_goal_on_the_last_step_counts_and_timeout_pays_minus_two():
    env = MetaMaze2D(size=7)
    rewards, terminated, truncated = run_script(
        env, handcrafted(), [0] * 196 + [1, 1, 3, 3]
    )
    assert terminated[199] and not truncated[199] and not terminated[:199].any()
    assert rewards[199] == pytest.approx(0.99)
    ret, steps, success = score(rewards, terminated, truncated)
    assert success and steps == 200 and ret == pytest.approx(-1.0, abs=1e-5)

    ret, steps, success = score(*run_script(env, handcrafted(), [0] * 200))
    assert not success and steps == 200 and ret == pytest.approx(-2.0, abs=1e-5)
    assert float(episode_return(jnp.bool_(False), jnp.int32(200), 200)) == -2.0


def test_random_walks_respect_the_maze(fixture_mazes):
    """Property sweep: on 64 mazes x 150 random steps the agent never stands in a wall and
    the observation is always the paper-sign 3x3 window of the true grid around it."""
    env = MetaMaze2D(size=9)
    mazes = jax.tree.map(lambda x: x[:64], fixture_mazes)

    def walk(maze, key):
        def body(state, key):
            k_act, k_step = jax.random.split(key)
            action = env.action_space().sample(k_act)
            obs, state, *_ = env.step(k_step, state, action, maze)
            return state, (state.pos, obs)

        k_reset, k_walk = jax.random.split(key)
        _, state = env.reset(k_reset, maze)
        return jax.lax.scan(body, state, jax.random.split(k_walk, 150))[1]

    keys = jax.random.split(jax.random.key(1), 64)
    pos, obs = jax.jit(jax.vmap(walk))(mazes, keys)
    walls, goal = np.asarray(mazes.walls), np.asarray(mazes.goal)
    pos, obs = np.asarray(pos), np.asarray(obs)
    moved = 0
    for m in range(64):
        grid = walls[m].astype(np.float32)
        grid[goal[m][0], goal[m][1]] = -1.0
        for t in range(150):
            x, y = pos[m, t]
            assert walls[m, x, y] == 0
            np.testing.assert_array_equal(
                obs[m, t], grid[x - 1 : x + 2, y - 1 : y + 2].ravel()
            )
        moved += len({tuple(p) for p in pos[m]}) > 1
    assert moved == 64

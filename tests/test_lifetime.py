"""The one lifetime loop: traces and interventions through the Task contract, and task
lifetimes equal to stepping the environment by hand."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from hebbjax.envs.maze import MetaMaze2D
from hebbjax.models import make_model
from hebbjax.tasks import Probe, make_task
from hebbjax.tasks.lifetime import TRACE_FIELDS

SMALL = dict(hidden=8)


@pytest.fixture(scope="module")
def maze_setup():
    task = make_task("maze9", use_cache=False, greedy=True)
    model = make_model("decprnn-postdn", n_in=task.n_in, n_out=task.n_out, **SMALL)
    params = jax.tree.map(lambda x: 20 * x, model.init_params(jax.random.key(0)))
    maze = jax.tree.map(lambda x: x[3], task.validation_set())
    return task, model, params, maze


def run(task, model, params, maze, probe=None, key=1):
    return jax.jit(task.lifetime(model, probe))(params, maze, jax.random.key(key))


def test_an_unused_probe_compiles_to_the_plain_lifetime(maze_setup):
    task, model, params, maze = maze_setup
    plain = jax.jit(task.lifetime(model)).lower(params, maze, jax.random.key(0))
    empty = jax.jit(task.lifetime(model, Probe())).lower(
        params, maze, jax.random.key(0)
    )
    assert plain.as_text() == empty.as_text()


def test_maze_trace_follows_the_environment(maze_setup):
    task, model, params, maze = maze_setup
    probe = Probe(record=TRACE_FIELDS)
    result, trace = run(task, model, params, maze, probe)
    valid = np.asarray(trace["valid"])
    n = int(valid.sum())
    assert n == int(np.asarray(result.steps).sum()) and valid[:n].all()
    assert not valid[n:].any()
    walls = np.asarray(maze.walls)
    pos = np.asarray(trace["position"])[:n]
    assert not walls[pos[:, 0], pos[:, 1]].any()  # never inside a wall
    rollout = np.asarray(trace["rollout"])[:n]
    t = np.asarray(trace["t"])[:n]
    for r in range(task.n_rollouts):
        first = np.flatnonzero((rollout == r) & (t == 0))[0]
        view = np.asarray(trace["obs"])[first]
        env = MetaMaze2D(size=9)
        expected, _ = env.reset_env(jax.random.key(0), maze)
        np.testing.assert_array_equal(view, expected)  # each rollout restarts
        rewards = np.asarray(trace["reward"])[:n][rollout == r]
        np.testing.assert_allclose(rewards.sum(), result.returns[r], atol=1e-5)
    weights = trace["weights"]
    assert set(weights) == {"w_h", "w_x"}
    assert weights["w_h"].shape[1:] == (8, 8) and weights["w_x"].shape[1:] == (8, 15)
    assert set(trace["hidden"]) == {"h"}


def test_every_k_steps(maze_setup):
    task, model, params, maze = maze_setup
    _, full = run(task, model, params, maze, Probe(record=("action",)))
    _, strided = run(task, model, params, maze, Probe(record=("action",), every=7))
    n = int(np.asarray(full["valid"]).sum())
    np.testing.assert_array_equal(
        np.asarray(strided["action"])[: -(-n // 7)], np.asarray(full["action"])[:n:7]
    )
    assert strided["action"].shape[0] == -(-3 * 200 // 7)


def test_freezing_plasticity_at_step_zero_equals_a_frozen_network(maze_setup):
    task, model, params, maze = maze_setup
    result, trace = run(
        task, model, params, maze, Probe(record=("weights",), freeze_plasticity_at=0)
    )
    for w in trace["weights"].values():
        assert not np.asarray(w).any()
    late = run(task, model, params, maze, Probe(freeze_plasticity_at=10**6))
    plain = run(task, model, params, maze)
    jax.tree.map(np.testing.assert_array_equal, late, plain)
    frozen_at_5 = run(
        task, model, params, maze, Probe(record=("weights",), freeze_plasticity_at=5)
    )[1]["weights"]["w_h"]
    np.testing.assert_array_equal(frozen_at_5[4], frozen_at_5[50])
    assert np.asarray(frozen_at_5[4]).any()


def test_zeroing_synapses(maze_setup):
    task, model, params, maze = maze_setup
    plain = run(task, model, params, maze)
    nothing = run(task, model, params, maze, Probe(zero_at=3, zero_fraction=0.0))
    jax.tree.map(np.testing.assert_array_equal, nothing, plain)
    probe = Probe(record=("weights",), zero_at=6, zero_fraction=1.0)
    _, trace = run(task, model, params, maze, probe)
    _, frozen = run(
        task,
        model,
        params,
        maze,
        Probe(
            record=("weights",), zero_at=6, zero_fraction=1.0, freeze_plasticity_at=6
        ),
    )
    assert np.asarray(trace["weights"]["w_h"][5]).any()
    assert not np.asarray(frozen["weights"]["w_h"][6]).any()  # zeroed, then frozen
    half = Probe(
        record=("weights",), zero_at=6, zero_fraction=0.5, freeze_plasticity_at=6
    )
    w = np.asarray(run(task, model, params, maze, half)[1]["weights"]["w_h"][6])
    assert 0.3 < (w == 0).mean() < 0.7


def test_overriding_actions(maze_setup):
    task, model, params, maze = maze_setup
    probe = Probe(record=("action",), override_actions=(2, 9, 1))
    _, trace = run(task, model, params, maze, probe)
    actions = np.asarray(trace["action"])
    assert (actions[2:9] == 1).all()


def test_resetting_the_memory_between_rollouts_makes_rollouts_alike(maze_setup):
    task = make_task("maze9", use_cache=False, greedy=True)
    _, model, params, maze = maze_setup
    from hebbjax.tasks.maze import make_lifetime

    fixed = make_lifetime(model, greedy=True, first_actions=(1, 1, 1), size=9)
    plain = jax.jit(fixed)(params, maze, jax.random.key(0))
    reset = make_lifetime(
        model,
        greedy=True,
        first_actions=(1, 1, 1),
        size=9,
        probe=Probe(reset_between_rollouts="both"),
    )
    result = jax.jit(reset)(params, maze, jax.random.key(0))
    assert len(set(np.asarray(result.steps).tolist())) == 1  # the same rollout 3 times
    assert np.asarray(result.returns)[0] == np.asarray(plain.returns)[0]
    with pytest.raises(ValueError, match="valid: hidden, plastic, both"):
        Probe(reset_between_rollouts="all").check()
    with pytest.raises(ValueError, match="unknown trace field"):
        Probe(record=("pos",)).check()
    del task


def test_gymnax_task_lifetime_equals_stepping_the_env_by_hand():
    task = make_task("gymnax:CartPole-v1", n_rollouts=2, max_steps=40)
    model = make_model("prnn-postdn", n_in=task.n_in, n_out=task.n_out, hidden=6)
    params = model.init_params(jax.random.key(3))
    task_params = jax.tree.map(lambda x: x[0], task.validation_set())
    key = jax.random.key(5)
    probe = Probe(record=("action", "reward", "obs"))
    result, trace = jax.jit(task.lifetime(model, probe))(params, task_params, key)
    env = task.env
    env_params = env.default_params.replace(max_steps_in_episode=40)
    reset_key = jax.random.wrap_key_data(task_params["reset"])
    actions = np.asarray(trace["action"])
    rollout = np.asarray(trace["rollout"])
    valid = np.asarray(trace["valid"])
    k_env = jax.random.split(key, 3)[2]
    i = 0
    for r in range(2):
        obs, state = env.reset_env(reset_key, env_params)  # reset="same"
        total = 0.0
        while i < valid.sum() and rollout[i] == r:
            np.testing.assert_allclose(np.asarray(trace["obs"])[i], obs, atol=1e-6)
            obs, state, reward, done, _ = env.step_env(
                jax.random.fold_in(k_env, i), state, jnp.int32(actions[i]), env_params
            )
            total += float(reward)
            i += 1
        assert total == pytest.approx(float(result.returns[r]))
        assert int(result.steps[r]) == int((rollout[: int(valid.sum())] == r).sum())

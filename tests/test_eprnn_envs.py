"""EPRNN tasks (spec 4.1-4.2): WRNav kinematics and signal against plain numpy, SeqPred
target indexing and autoregressive inputs, gymnax contract under jit(vmap)."""

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from hebbjax.envs.seqpred import SeqPredParams, SequencePrediction, sequence_value
from hebbjax.envs.wrnav import (
    WheeledRobotNavigation,
    WRNavParams,
    signal_strength,
    wheel_kinematics,
)
from hebbjax.models import make_model
from hebbjax.tasks import make_task


def numpy_kinematics(x, y, theta, a_left, a_right):
    """Spec 4.2 in float64, written independently of the JAX code."""
    left, right = 0.1 * 0.02 * 25 * a_left, 0.1 * 0.02 * 25 * a_right
    delta, mean = right - left, (left + right) / 2
    if abs(delta) < 1e-6:
        return x + mean * math.cos(theta), y + mean * math.sin(theta), theta
    dtheta = delta / 0.04
    radius = 0.04 * mean / delta
    c = math.cos(dtheta / 2)
    chord = 0.0 if abs(c) <= 1e-6 else 2 * radius * math.sin(dtheta / 2)
    x += chord * math.cos(theta + dtheta / 2)
    y += chord * math.sin(theta + dtheta / 2)
    theta += dtheta
    while theta >= 6.2831852:
        theta -= 6.2831852
    while theta < 0:
        theta += 6.2831852
    return x, y, theta


def jax_kinematics(x, y, theta, a_left, a_right):
    pos, th = wheel_kinematics(
        jnp.array([x, y], jnp.float32), jnp.float32(theta), jnp.array([a_left, a_right])
    )
    return float(pos[0]), float(pos[1]), float(th)


@pytest.mark.parametrize(
    "case",
    [
        (0.0, 0.0, 0.0, 1.0, 1.0),  # straight along x
        (0.1, -0.2, 1.0, -0.7, -0.7),  # straight backwards at heading 1
        (0.0, 0.0, 0.0, 0.2, 1.0),  # left turn
        (0.3, 0.1, 2.0, 1.5, -0.4),  # right turn, unclipped action
        (0.0, 0.0, 6.2, 0.0, 1.0),  # theta wraps past 2 pi
        (0.0, 0.0, 0.1, 3.0, 0.0),  # negative dtheta wraps below 0
    ],
)
def test_kinematics_match_numpy(case):
    np.testing.assert_allclose(
        jax_kinematics(*case), numpy_kinematics(*case), rtol=1e-5, atol=1e-6
    )


def test_kinematics_special_cases():
    # the wrap actually happened (theta 6.2 + 1.25 rad -> about 1.17)
    _, _, theta = jax_kinematics(0.0, 0.0, 6.2, 0.0, 1.0)
    assert 0.0 <= theta < 2.0
    # dtheta = pi: cos(dtheta / 2) ~ 0, the chord is 0, so the robot turns in place
    a_right = math.pi * 0.04 / 0.05
    x, y, theta = jax_kinematics(0.0, 0.0, 0.0, 0.0, a_right)
    assert (x, y) == (0.0, 0.0)
    assert theta == pytest.approx(math.pi, rel=1e-5)
    # a straight step of a = 1 moves exactly 0.05
    assert jax_kinematics(0.0, 0.0, 0.0, 1.0, 1.0)[:2] == pytest.approx((0.05, 0.0))


def test_signal_reward_termination_and_clipping():
    params = WRNavParams(
        goal=jnp.array([0.06, 0.0]), a0=jnp.float32(1.2), k=jnp.float32(0.3)
    )
    env = WheeledRobotNavigation(noise_std=0.05)
    key = jax.random.key(3)
    obs, state = env.reset_env(key, params)
    expected0 = max(
        0.0,
        1.2 - 0.3 * math.log(0.06 / 0.02) + 0.05 * float(jax.random.normal(key, ())),
    )
    assert np.asarray(obs) == pytest.approx([0.0, 0.0, expected0], rel=1e-5)
    k_step = jax.random.key(4)
    obs, state, reward, terminated, _ = env.step_env(
        k_step, state, jnp.array([0.5, 0.5]), params
    )
    noise = float(jax.random.normal(k_step, ()))
    expected = max(0.0, 1.2 - 0.3 * math.log(0.035 / 0.02) + 0.05 * noise)
    assert np.asarray(obs) == pytest.approx([0.5, 0.5, expected], rel=1e-5)
    assert float(reward) == pytest.approx(-0.035, rel=1e-5)
    assert not bool(terminated)
    # a command of 0.8 moves 0.04 to x = 0.065: d = 0.005 < 0.02 ends the episode
    _, s2, r2, t2, _ = env.step_env(k_step, state, jnp.array([0.8, 0.8]), params)
    assert float(r2) == pytest.approx(-0.005, rel=1e-3) and bool(t2)
    clipped = WheeledRobotNavigation(clip_actions=True)
    _, s3, _, _, _ = clipped.step_env(k_step, state, jnp.array([5.0, 5.0]), params)
    assert float(s3.pos[0]) == pytest.approx(0.025 + 0.05)
    d = jnp.float32(0.02)
    assert float(signal_strength(params, d, jnp.float32(0.0), 0.01)) == pytest.approx(
        1.2
    )


def test_wrnav_episode_is_101_steps_and_fitness_is_test_return():
    task = make_task("wrnav-noise0.01")
    from hebbjax.models import make_model

    model = make_model("es-rnn", n_in=3, n_out=2, hidden=4)
    params = jax.tree.map(jnp.zeros_like, model.init_params(jax.random.key(0)))
    goal = jnp.array([0.3, -0.4])
    task_params = WRNavParams(goal=goal, a0=jnp.float32(1.0), k=jnp.float32(0.2))
    result = task.lifetime(model)(params, task_params, jax.random.key(1))
    # zero genome -> zero wheel commands: the robot stays at 0, d = 0.5 for 101 steps
    assert result.steps.tolist() == [101, 101]
    np.testing.assert_allclose(result.returns, [-50.5, -50.5], rtol=1e-5)
    assert float(result.fitness) == pytest.approx(-50.5, rel=1e-5)
    assert result.success.tolist() == [0.0, 0.0]


def seqpred_params(dim):
    return SeqPredParams(
        amplitude=jnp.linspace(1.0, 2.0, dim),
        omega=jnp.linspace(0.2, 0.5, dim),
        phase=jnp.linspace(0.1, 1.0, dim),
    )


def test_seqpred_inputs_and_target_indexing():
    k_train, n_test, dim = 4, 3, 2
    env = SequencePrediction(dim, k_train, n_test)
    params = seqpred_params(dim)

    def y(t):
        return np.asarray(params.amplitude) * np.sin(
            np.asarray(params.omega) * t + np.asarray(params.phase)
        )

    obs, state = env.reset_env(jax.random.key(0), params)
    seen, rewards = [np.asarray(obs)], []
    actions = [np.full(dim, 0.1 * i, np.float32) for i in range(k_train + n_test)]
    for a in actions:
        obs, state, reward, _, _ = env.step_env(jax.random.key(0), state, a, params)
        seen.append(np.asarray(obs))
        rewards.append(float(reward))
    for t in range(k_train):
        np.testing.assert_allclose(seen[t], y(t), rtol=1e-5)
    np.testing.assert_array_equal(seen[k_train], np.zeros(dim))  # first TEST input
    for k in range(1, n_test):
        np.testing.assert_array_equal(seen[k_train + k], actions[k_train + k - 1])
    assert rewards[:k_train] == [0.0] * k_train
    for k in range(1, n_test + 1):  # TEST step k is scored against y_{K + k}
        a = actions[k_train + k - 1]
        expected = -np.mean((y(k_train + k) - a) ** 2) / n_test
        assert rewards[k_train + k - 1] == pytest.approx(expected, rel=1e-5)
    assert bool(env.is_truncated(state, params))
    np.testing.assert_allclose(sequence_value(params, 3), y(3), rtol=1e-6)


def test_task_registry_settings():
    for name, (dim, k, n) in {
        "seqpred-l1-k10-n20": (1, 10, 20),
        "seqpred-l1-k25-n50": (1, 25, 50),
        "seqpred-l3-k10-n20": (3, 10, 20),
        "seqpred-l3-k25-n50": (3, 25, 50),
    }.items():
        task = make_task(name)
        assert (task.n_in, task.n_out, task.n_rollouts) == (dim, dim, 2)
        assert (task.settings["k_train"], task.settings["n_test"]) == (k, n)
    for noise in ("0.01", "0.05", "0.2"):
        task = make_task(f"wrnav-noise{noise}")
        assert task.settings["noise_std"] == float(noise) and (
            task.n_in,
            task.n_out,
        ) == (
            3,
            2,
        )
    task = make_task("seqpred-l3-k10-n20")
    a, b = task.test_set(), task.test_set()
    assert a.amplitude.shape == (1600, 3)
    np.testing.assert_array_equal(a.omega, b.omega)  # seeded
    assert not np.array_equal(task.validation_set().omega, a.omega)
    periods = 2 * np.pi / np.asarray(a.omega)
    assert periods.min() >= 10 and periods.max() <= 100
    amp = np.asarray(a.amplitude)
    assert amp.min() >= 1 and amp.max() <= 3


def test_seqpred_n_means_total_follows_the_paper_text():
    """Paper: N is the sequence length (predict y_{K+1}..y_N); code: N TEST steps."""
    code = make_task("seqpred-l1-k10-n20")
    paper = make_task("seqpred-l1-k10-n20", n_means="total")
    assert code.settings["n_test"] == 20 and paper.settings["n_test"] == 10
    model = make_model("es-rnn", n_in=1, n_out=1)
    params = model.init_params(jax.random.key(0))
    task_params = paper.sample_params(jax.random.key(1))
    result = paper.lifetime(model)(params, task_params, jax.random.key(2))
    np.testing.assert_array_equal(result.steps, [10, 10])
    with pytest.raises(ValueError, match="n_means must be one of test, total"):
        make_task("seqpred-l1-k10-n20", n_means="all")
    with pytest.raises(ValueError, match="needs N > K"):
        make_task("seqpred-l1-k10-n20", k_train=20, n_means="total")


@pytest.mark.parametrize(
    "env, sample",
    [
        (
            SequencePrediction(3, 4, 5),
            lambda k: make_task("seqpred-l3-k10-n20").sample_params(k),
        ),
        (
            WheeledRobotNavigation(0.2),
            lambda k: make_task("wrnav-noise0.2").sample_params(k),
        ),
    ],
)
def test_gymnax_contract_under_jit_vmap(env, sample):
    keys = jax.random.split(jax.random.key(0), 5)
    params = jax.vmap(sample)(keys)
    obs, state = jax.jit(jax.vmap(env.reset))(keys, params)
    action = jnp.ones((5, env.num_actions), jnp.float32)
    out = jax.jit(jax.vmap(env.step))(keys, state, action, params)
    assert len(out) == 6
    obs2, state2, reward, terminated, truncated, info = out
    assert obs2.shape == obs.shape == (5,) + env.observation_space(None).shape
    assert reward.shape == terminated.shape == truncated.shape == (5,)
    assert np.all(np.isfinite(np.asarray(reward)))
    assert env.action_space(None).shape == (env.num_actions,)

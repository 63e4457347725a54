"""The CarRacing car and the env's reward rules, against plain transcriptions of gym 0.17's
``Car.step`` / ``CarRacing.step`` and Najarro & Risi's early stop."""

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from hebbjax.envs.car_racing import constants as C
from hebbjax.envs.car_racing import dynamics as D
from hebbjax.envs.car_racing import env as E
from hebbjax.envs.car_racing import track as T


def reference_wheel(omega, gas, brake, vf, vs, limit, side_force=0.0):
    """One wheel of gym 0.17 ``Car.step`` (after the steering motor), float64."""
    dt = 1.0 / 50
    omega += dt * C.ENGINE_POWER * gas / C.WHEEL_MOMENT_OF_INERTIA / (abs(omega) + 5.0)
    if brake >= 0.9:
        omega = 0
    elif brake > 0:
        val = 15 * brake
        if abs(val) > abs(omega):
            val = abs(omega)
        omega += -np.sign(omega) * val
    f_force = (-vf + omega * C.WHEEL_RAD) * 205000 * C.SIZE * C.SIZE
    p_force = (-vs + side_force) * 205000 * C.SIZE * C.SIZE
    force = np.sqrt(f_force**2 + p_force**2)
    if abs(force) > limit:
        f_force, p_force = f_force / force * limit, p_force / force * limit
    omega -= dt * f_force * C.WHEEL_RAD / C.WHEEL_MOMENT_OF_INERTIA
    return omega, f_force, p_force


def shoelace(poly):
    p = np.asarray(poly, float) * C.SIZE
    return 0.5 * abs(
        np.sum(p[:, 0] * np.roll(p[:, 1], -1) - np.roll(p[:, 0], -1) * p[:, 1])
    )


def test_mass_properties_from_fixtures():
    assert C.HULL_MASS == pytest.approx(sum(shoelace(p) for p in C.HULL_POLYS))
    assert C.WHEEL_MASS == pytest.approx(0.1 * shoelace(C.WHEEL_POLY))
    # a box's polar moment about its centre: m (w^2 + h^2) / 12
    w, h = 2 * C.WHEEL_W * C.SIZE, 2 * C.WHEEL_R * C.SIZE
    assert C.WHEEL_INERTIA == pytest.approx(C.WHEEL_MASS * (w * w + h * h) / 12)
    assert C.CAR_MASS == pytest.approx(C.HULL_MASS + 4 * C.WHEEL_MASS)
    assert (C.ENGINE_POWER, C.FRICTION_LIMIT, C.WHEEL_MOMENT_OF_INERTIA) == (
        40000,
        400,
        1.6,
    )


@pytest.fixture(scope="module")
def stepper():
    return jax.jit(D.step_car)


def random_car(rng):
    return D.CarState(
        position=jnp.asarray(rng.normal(0, 50, 2), jnp.float32),
        angle=jnp.float32(rng.uniform(-3, 3)),
        velocity=jnp.asarray(rng.normal(0, 20, 2), jnp.float32),
        angular_velocity=jnp.float32(rng.normal(0, 1)),
        steer_angle=jnp.float32(rng.uniform(-0.4, 0.4)),
        wheel_omega=jnp.asarray(rng.normal(0, 60, 4), jnp.float32),
        wheel_gas=jnp.asarray([0, 0, *rng.uniform(0, 1, 2)], jnp.float32),
        wheel_phase=jnp.zeros(4, jnp.float32),
        on_road=jnp.asarray(rng.uniform(size=4) < 0.5),
    )


@pytest.mark.parametrize("seed", range(4))
def test_wheel_model_and_integration_match_reference(stepper, seed):
    rng = np.random.default_rng(seed)
    car = random_car(rng)
    action = np.array(
        [rng.uniform(-1, 1), rng.uniform(0, 1), [0.0, 0.3, 0.95, 0.0][seed]]
    )
    friction, side = [1.0, 0.5, 2.0, 1.0][seed], [0.0, 0.0, 0.0, -10.0][seed]
    new = stepper(car, jnp.asarray(action, jnp.float32), friction, side)
    ang = float(car.angle)
    rot = np.array([[math.cos(ang), -math.sin(ang)], [math.sin(ang), math.cos(ang)]])
    gas = np.asarray(car.wheel_gas, float).copy()
    gas[2:] += np.minimum(np.clip(action[1], 0, 1) - gas[2:], 0.1)
    total, torque = np.zeros(2), 0.0
    for k in range(4):
        wa = ang + (float(car.steer_angle) if k < 2 else 0.0)
        forw = np.array([-math.sin(wa), math.cos(wa)])
        side_v = np.array([math.cos(wa), math.sin(wa)])
        r = rot @ (C.WHEELPOS[k] - C.CAR_CENTER)
        v = np.asarray(car.velocity, float) + float(car.angular_velocity) * np.array(
            [-r[1], r[0]]
        )
        limit = C.FRICTION_LIMIT * friction * (1.0 if bool(car.on_road[k]) else 0.6)
        omega, f, p = reference_wheel(
            float(car.wheel_omega[k]),
            gas[k],
            action[2],
            forw @ v,
            side_v @ v,
            limit,
            side,
        )
        assert float(new.wheel_omega[k]) == pytest.approx(omega, rel=1e-4, abs=1e-3)
        force = p * side_v + f * forw
        total += force
        torque += r[0] * force[1] - r[1] * force[0]
    vel = np.asarray(car.velocity, float) + total / 50 / C.CAR_MASS
    assert np.allclose(np.asarray(new.velocity), vel, rtol=1e-4, atol=1e-3)
    omega_ref = float(car.angular_velocity) + torque / 50 / C.CAR_INERTIA
    assert float(new.angular_velocity) == pytest.approx(omega_ref, rel=1e-4, abs=1e-4)
    assert np.allclose(np.asarray(new.wheel_gas), gas, atol=1e-6)


def test_steering_motor_rate_and_limits(stepper):
    car = D.init_car(0.0, 0.0, 0.0)
    angles = []
    for _ in range(9):
        car = stepper(
            car, jnp.array([-1.0, 0.0, 0.0])
        )  # steer -1 turns the wheels left (+)
        angles.append(float(car.steer_angle))
    # 3 rad/s for 0.02 s per step until the joint reaches the limit; Box2D's limit engages
    # only at the limit, so the joint overshoots to 0.42 (measured in Box2D too)
    assert np.allclose(angles[:7], 0.06 * np.arange(1, 8), atol=1e-5)
    assert np.allclose(angles[7:], 0.42, atol=1e-5)
    car = stepper(car, jnp.array([0.0, 0.0, 0.0]))
    assert float(car.steer_angle) == pytest.approx(0.36, abs=1e-5)


def test_rear_wheel_drive_brake_lock_and_variations(stepper):
    car = D.init_car(0.0, 0.0, 0.0)._replace(on_road=jnp.ones(4, bool))
    for _ in range(20):
        car = stepper(car, jnp.array([0.0, 1.0, 0.0]))
    omega = np.asarray(car.wheel_omega)
    assert omega[2] > 10 and omega[3] > 10 and abs(omega[2] - omega[3]) < 1e-3
    assert float(car.velocity[1]) > 5  # forward is +y at angle 0
    locked = stepper(car, jnp.array([0.0, 0.0, 0.95]))
    # blocked at 0, then the ground spins the wheel by the saturated friction torque
    spin = C.DT * C.FRICTION_LIMIT * C.WHEEL_RAD / C.WHEEL_MOMENT_OF_INERTIA
    assert np.allclose(np.asarray(locked.wheel_omega), spin, rtol=1e-4)
    pushed = D.init_car(0.0, 0.0, 0.0)._replace(on_road=jnp.ones(4, bool))
    right = left = pushed
    for _ in range(10):
        right = stepper(right, jnp.zeros(3), 1.0, 10.0)
        left = stepper(left, jnp.zeros(3), 1.0, -10.0)
    assert float(right.position[0]) > 0.5 and float(left.position[0]) < -0.5
    slow = fast = D.init_car(0.0, 0.0, 0.0)._replace(on_road=jnp.ones(4, bool))
    for _ in range(30):
        slow = stepper(slow, jnp.array([0.0, 1.0, 0.0]), 0.5, 0.0)
        fast = stepper(fast, jnp.array([0.0, 1.0, 0.0]), 2.0, 0.0)
    assert float(slow.velocity[1]) < 0.75 * float(fast.velocity[1])


def test_settled_pose_and_contacts():
    pos, ang = D.settle_pose(jnp.float32(0.0), jnp.float32(3.0), jnp.float32(4.0))
    assert (
        np.allclose(np.asarray(pos), [3.0, 4.0], atol=1e-5) and abs(float(ang)) < 1e-7
    )
    _, ang = D.settle_pose(jnp.float32(-0.12), jnp.float32(200.0), jnp.float32(-50.0))
    assert (
        -0.12 < float(ang) < -0.11
    )  # Box2D turns the hull ~5 % back (fidelity test: 1e-4)
    tile = jnp.asarray([[[-5.0, 1.0], [5.0, 1.0], [5.0, -1.0], [-5.0, -1.0]]])
    edges = T.quad_edges(tile)
    pos = jnp.asarray([[0.0, 0.0], [0.0, 1.5], [0.0, 1.0 + 0.54 + 0.015], [0.0, 1.6]])
    hit = D.wheel_tile_contacts(pos, jnp.zeros(4), tile, edges)[:, 0]
    # the wheel's half-length is 0.54; Box2D's two polygon skins add 0.02
    assert np.array_equal(np.asarray(hit), [True, True, True, False])


@pytest.fixture(scope="module")
def car_env():
    env = E.CarRacing(layout="hwc", auto_reset=False)
    params = E.make_params(jax.jit(T.sample_track)(jax.random.key(11)))
    step = jax.jit(env.step)
    return env, params, step


def test_reset_pays_start_tiles_with_first_step_and_frame_penalty(car_env):
    env, params, step = car_env
    obs, state = env.reset(jax.random.key(0), params)
    n = int(params.track.n_tiles)
    assert obs.shape == (84, 84, 3) and int(state.n_visited) >= 1
    assert float(state.pending_reward) == pytest.approx(
        1000 / n * int(state.n_visited), rel=1e-5
    )
    _, s1, r1, term, trunc, _ = step(jax.random.key(1), state, jnp.zeros(3), params)
    new_tiles = int(s1.n_visited) - int(state.n_visited)
    assert float(r1) == pytest.approx(
        float(state.pending_reward) + 1000 / n * new_tiles - 0.1, rel=1e-5
    )
    _, s2, r2, *_ = step(jax.random.key(2), s1, jnp.zeros(3), params)
    assert (
        float(r2) == pytest.approx(-0.1, abs=1e-6)
        and not bool(term)
        and not bool(trunc)
    )


def test_early_stop_after_more_than_20_negative_rewards(car_env):
    env, params, step = car_env
    _, state = env.reset(jax.random.key(0), params)
    terms, rewards = [], []
    for k in range(24):
        _, state, r, term, _, _ = step(jax.random.key(k), state, jnp.zeros(3), params)
        terms.append(bool(term))
        rewards.append(float(r))
    # step 1 pays the start tiles, steps 2..22 are the 21 consecutive negatives
    assert terms.index(True) == 21 and rewards[22] == 0.0 and all(terms[21:])
    palm = params.replace(neg_reward_limit=jnp.int32(19))
    _, state = env.reset(jax.random.key(0), palm)
    for k in range(21):
        _, state, _, term, _, _ = step(jax.random.key(k), state, jnp.zeros(3), palm)
    assert bool(term) and int(state.time) == 21


def test_leaving_the_playfield_costs_100_and_ends(car_env):
    env, params, step = car_env
    _, state = env.reset(jax.random.key(0), params)
    car = state.car._replace(
        position=jnp.array([C.PLAYFIELD - 0.1, 0.0]), velocity=jnp.array([30.0, 0.0])
    )
    _, s1, r, term, _, _ = step(
        jax.random.key(0), state.replace(car=car), jnp.zeros(3), params
    )
    assert float(r) == -100.0 and bool(term)


def test_auto_reset_and_vmap_over_variations(car_env):
    env, params, _ = car_env
    auto = E.CarRacing(layout="najarro", auto_reset=True)
    batch = jax.tree.map(
        lambda *xs: jnp.stack(xs),
        *[E.make_params(params.track, v) for v in E.VARIATIONS],
    )
    keys = jax.random.split(jax.random.key(0), len(E.VARIATIONS))
    _, states = jax.vmap(auto.reset)(keys, batch)
    # the last car is one negative reward from the early stop: it ends and resets
    last = jnp.arange(len(E.VARIATIONS)) == len(E.VARIATIONS) - 1
    states = states.replace(
        neg_count=jnp.where(last, batch.neg_reward_limit, 0),
        pending_reward=jnp.where(last, 0.0, states.pending_reward),
        time=jnp.where(last, 7, 0),
    )
    obs, states, rewards, term, _, _ = jax.jit(jax.vmap(auto.step))(
        keys, states, jnp.zeros((5, 3)), batch
    )
    assert obs.shape == (5, 3, 84, 84) and rewards.shape == (5,)
    assert np.array_equal(np.asarray(term), [False] * 4 + [True])
    assert np.array_equal(np.asarray(states.time), [1, 1, 1, 1, 0])  # auto-reset
    assert np.allclose(np.asarray(batch.side_force), [0, 0, 0, -10, 10])
    with pytest.raises(ValueError, match="pushed-right"):
        E.make_params(params.track, "pushed-up")

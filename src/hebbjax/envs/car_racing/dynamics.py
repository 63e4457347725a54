"""The CarRacing-v0 car in JAX: the reference's wheel model over a rigid-body integrator.

gym 0.17 ``car_dynamics.Car.step`` computes, per wheel, the steering motor speed, the engine
and brake update of the wheel's spin, and a friction force from the slip between wheel and
ground, saturated at the friction limit (``FRICTION_LIMIT``, x0.6 on grass); Box2D then
integrates the hull and four wheel bodies held by revolute joints (180 velocity and 60
position iterations, so the joints are effectively rigid). Here the wheel model is copied
line by line and the Box2D part is replaced by one rigid body with the assembly's mass,
centre and inertia (``constants.CAR_*``, derived from the reference's fixtures), integrated
with Box2D's semi-implicit Euler step and its per-step translation/rotation clamps. The
front wheels' joint angle follows the motor speed kinematically (the motor's torque limit,
64.8, is three orders above what a wheel's inertia needs), and stops at the joint limits.

Why not jax2d: its joints are soft impulse constraints, and none of the car's behaviour
depends on joint compliance; a rigid body is cheaper under ``vmap`` and leaves one source of
truth (the reference's equations). The measured differences to Box2D are in
``tests/test_car_fidelity.py``.

Palm et al.'s variations enter as ``friction_scale`` (a multiplier on both friction limits)
and ``side_force`` (added to each wheel's lateral slip before the force gain, in the wheel's
frame; +10 pushes right, -10 left).
"""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from hebbjax.envs.car_racing import constants as C

_FRONT = jnp.asarray(C.FRONT_WHEELS)
_REAR = jnp.asarray(C.REAR_WHEELS)
_WHEELPOS = jnp.asarray(C.WHEELPOS, jnp.float32)
_CENTER = jnp.asarray(C.CAR_CENTER, jnp.float32)
_HULL_CENTER = jnp.asarray(C.HULL_CENTER, jnp.float32)


class CarState(NamedTuple):
    """The car, one example. ``position`` is the hull body's origin (Box2D ``hull.position``),
    ``velocity`` the assembly's centre-of-mass velocity; wheel arrays are (4,) in the
    reference's order (front-left, front-right, rear-left, rear-right); ``steer_angle`` is
    the front joints' angle; ``on_road`` the wheels' tile contacts from the last collision
    pass (they set the friction limit of the next step)."""

    position: jax.Array
    angle: jax.Array
    velocity: jax.Array
    angular_velocity: jax.Array
    steer_angle: jax.Array
    wheel_omega: jax.Array
    wheel_gas: jax.Array
    wheel_phase: jax.Array
    on_road: jax.Array


def rotation(angle: jax.Array) -> jax.Array:
    c, s = jnp.cos(angle), jnp.sin(angle)
    return jnp.array([[c, -s], [s, c]])


def init_car(
    angle: jax.Array, x: jax.Array, y: jax.Array, settle: bool = True
) -> CarState:
    """The car at rest at (x, y), angle ``angle`` (the reference's ``Car(...)``), after the
    reset step's joint correction (``settle_pose``) unless ``settle`` is false."""
    f32 = jnp.float32
    zeros4 = jnp.zeros(4, f32)
    if settle:
        position, hull_angle = settle_pose(angle, x, y)
    else:
        position, hull_angle = jnp.stack([x, y]).astype(f32), jnp.asarray(angle, f32)
    return CarState(
        position=position,
        angle=hull_angle,
        velocity=jnp.zeros(2, f32),
        angular_velocity=f32(0.0),
        # the wheels keep their own angle, so the front joints start at -(hull's turn)
        steer_angle=jnp.asarray(angle, f32) - hull_angle,
        wheel_omega=zeros4,
        wheel_gas=zeros4,
        wheel_phase=zeros4,
        on_road=jnp.zeros(4, bool),
    )


def settle_pose(
    angle: jax.Array, x: jax.Array, y: jax.Array
) -> tuple[jax.Array, jax.Array]:
    """Hull origin and angle after Box2D's first position solve at reset.

    The reference creates the wheels at ``(x, y) + WHEELPOS`` *unrotated* while the joints
    anchor them at the rotated offsets; Box2D's position solver (equal and opposite point
    impulses, wheel angles untouched since the anchors are the wheel centres) closes the gap
    during the reset step, turning the hull by about 5 % of its start angle. This solves the
    same balance: the mass-weighted centroid and the first-order angular balance are kept.
    Matches Box2D to 1e-4 (``tests/test_car_fidelity.py``).
    """
    p0 = jnp.stack([x, y]).astype(jnp.float32)
    angle = jnp.asarray(angle, jnp.float32)
    mh, mw, m = C.HULL_MASS, C.WHEEL_MASS, C.CAR_MASS
    hull0 = p0 + rotation(angle) @ _HULL_CENTER
    wheels0 = p0[None, :] + _WHEELPOS
    g = (mh * hull0 + mw * wheels0.sum(0)) / m

    def cross(a, b):
        return a[..., 0] * b[..., 1] - a[..., 1] * b[..., 0]

    def solve(delta, _):
        turn = rotation(angle + delta) - rotation(angle)
        d_wheels_rot = _WHEELPOS @ rotation(angle + delta).T - _WHEELPOS
        dp = -(mh * turn @ _HULL_CENTER + mw * d_wheels_rot.sum(0)) / m
        d_hull = dp + turn @ _HULL_CENTER
        d_wheels = dp[None, :] + d_wheels_rot
        rest = mh * cross(hull0 - g, d_hull) + mw * jnp.sum(
            cross(wheels0 - g[None, :], d_wheels)
        )
        delta = delta - (C.HULL_INERTIA * delta + rest) / (C.HULL_INERTIA + 0.6)
        return delta, dp

    delta, dps = jax.lax.scan(solve, jnp.float32(0.0), None, length=8)
    return p0 + dps[-1], angle + delta


def wheel_angles(car: CarState) -> jax.Array:
    """World angle of each wheel body (4,)."""
    return car.angle + jnp.where(_FRONT, car.steer_angle, 0.0)


def wheel_positions(car: CarState) -> jax.Array:
    """World position of each wheel centre (4, 2)."""
    return car.position[None, :] + _WHEELPOS @ rotation(car.angle).T


def hull_velocity(car: CarState) -> jax.Array:
    """Velocity of the hull's centre of mass (Box2D ``hull.linearVelocity``)."""
    r = rotation(car.angle) @ (_HULL_CENTER - _CENTER)
    return car.velocity + car.angular_velocity * jnp.array([-r[1], r[0]])


def step_car(
    car: CarState,
    action: jax.Array,
    friction_scale: jax.Array | float = 1.0,
    side_force: jax.Array | float = 0.0,
) -> CarState:
    """One 1/50 s step: ``Car.step`` then ``world.Step`` of the reference.

    Args:
        car: the state; ``car.on_road`` sets each wheel's friction limit.
        action: (3,) [steer in [-1, 1] (+1 right), gas, brake], unclipped as gym passes it.
        friction_scale: multiplier on the friction limits (Palm et al.: 0.5, 1, 2).
        side_force: lateral slip offset of every wheel (Palm et al.: -10, 0, +10).
    """
    dt = C.DT
    steer, gas, brake = action[0], action[1], action[2]
    target = jnp.where(_FRONT, -steer, 0.0)  # env.step calls car.steer(-action[0])
    diff = jnp.minimum(jnp.clip(gas, 0.0, 1.0) - car.wheel_gas, C.GAS_RAMP)
    wheel_gas = jnp.where(_REAR, car.wheel_gas + diff, car.wheel_gas)

    joint = jnp.where(_FRONT, car.steer_angle, 0.0)
    d = target - joint
    motor = jnp.sign(d) * jnp.minimum(C.STEER_GAIN * jnp.abs(d), C.STEER_MAX_SPEED)

    limit = (
        C.FRICTION_LIMIT
        * friction_scale
        * jnp.where(car.on_road, 1.0, C.GRASS_FRICTION)
    )
    wa = wheel_angles(car)
    forw = jnp.stack([-jnp.sin(wa), jnp.cos(wa)], -1)
    side = jnp.stack([jnp.cos(wa), jnp.sin(wa)], -1)
    r = (_WHEELPOS - _CENTER[None, :]) @ rotation(car.angle).T
    v = car.velocity[None, :] + car.angular_velocity * jnp.stack(
        [-r[:, 1], r[:, 0]], -1
    )
    vf = jnp.sum(forw * v, -1)
    vs = jnp.sum(side * v, -1)

    omega = car.wheel_omega
    omega = omega + dt * C.ENGINE_POWER * wheel_gas / C.WHEEL_MOMENT_OF_INERTIA / (
        jnp.abs(omega) + C.OMEGA_EPS
    )
    slow = jnp.minimum(C.BRAKE_FORCE * brake, jnp.abs(omega))
    omega = jnp.where(brake > 0, omega - jnp.sign(omega) * slow, omega)
    omega = jnp.where(brake >= C.BRAKE_LOCK, 0.0, omega)
    phase = car.wheel_phase + omega * dt

    f_force = (-vf + omega * C.WHEEL_RAD) * C.FORCE_GAIN
    p_force = (-vs + side_force) * C.FORCE_GAIN
    force = jnp.sqrt(f_force**2 + p_force**2)
    scale = jnp.where(force > limit, limit / jnp.where(force > 0, force, 1.0), 1.0)
    f_force, p_force = f_force * scale, p_force * scale
    omega = omega - dt * f_force * C.WHEEL_RAD / C.WHEEL_MOMENT_OF_INERTIA
    forces = p_force[:, None] * side + f_force[:, None] * forw

    total = forces.sum(0)
    torque = jnp.sum(r[:, 0] * forces[:, 1] - r[:, 1] * forces[:, 0])
    vel = car.velocity + dt * total / C.CAR_MASS
    ang_vel = car.angular_velocity + dt * torque / C.CAR_INERTIA
    # b2Island::Solve clamps each body's step (b2_maxTranslation, b2_maxRotation)
    step_len = dt * jnp.sqrt(jnp.sum(vel**2))
    vel = jnp.where(
        step_len > C.MAX_TRANSLATION, vel * (C.MAX_TRANSLATION / step_len), vel
    )
    turn = dt * jnp.abs(ang_vel)
    ang_vel = jnp.where(
        turn > C.MAX_ROTATION, ang_vel * (C.MAX_ROTATION / turn), ang_vel
    )

    com = car.position + rotation(car.angle) @ _CENTER + dt * vel
    angle = car.angle + dt * ang_vel
    position = com - rotation(angle) @ _CENTER
    # the revolute limit stops the motor only once the joint is at (or past) a limit
    front_motor = motor[0]
    blocked = ((car.steer_angle >= C.STEER_LIMIT) & (front_motor > 0)) | (
        (car.steer_angle <= -C.STEER_LIMIT) & (front_motor < 0)
    )
    steer_angle = car.steer_angle + jnp.where(blocked, 0.0, dt * front_motor)
    return CarState(
        position=position,
        angle=angle,
        velocity=vel,
        angular_velocity=ang_vel,
        steer_angle=steer_angle,
        wheel_omega=omega,
        wheel_gas=wheel_gas,
        wheel_phase=phase,
        on_road=car.on_road,
    )


def box_corners(center: jax.Array, angle: jax.Array, half: np.ndarray) -> jax.Array:
    """Corners (4, 2) of a box with half extents ``half`` rotated by ``angle``."""
    local = jnp.array(
        [
            [-half[0], half[1]],
            [half[0], half[1]],
            [half[0], -half[1]],
            [-half[0], -half[1]],
        ],
        jnp.float32,
    )
    return center[None, :] + local @ rotation(angle).T


WHEEL_HALF = np.array([C.WHEEL_W * C.SIZE, C.WHEEL_R * C.SIZE])


def wheel_tile_contacts(
    positions: jax.Array, angles: jax.Array, tiles: jax.Array, tile_edges: jax.Array
) -> jax.Array:
    """Which tiles each wheel (centres (4, 2), angles (4,)) touches, (4, n_tiles): separating-axis test with Box2D's skin.

    Box2D reports a sensor contact when two polygons come closer than their two skins
    (``b2_polygonRadius`` each); the axes are the wheel's two and the tile's four normals.
    """
    corners = jax.vmap(box_corners, in_axes=(0, 0, None))(
        positions, angles, WHEEL_HALF
    )  # (4, 4, 2)
    # tile axes: signed distance of wheel corners to each tile edge (inside >= 0)
    norm = jnp.sqrt(tile_edges[..., 0] ** 2 + tile_edges[..., 1] ** 2)  # (T, 4)
    norm = jnp.where(norm > 0, norm, 1.0)
    dist = (
        jnp.einsum("wcd,tkd->wtkc", corners, tile_edges[..., :2])
        + tile_edges[None, :, :, 2, None]
    ) / norm[None, :, :, None]
    sep_tile = -jnp.max(dist, axis=-1)  # (4, T, 4): gap outside each tile edge
    # wheel axes: project tile vertices on the wheel's local x and y
    wa = angles
    ax = jnp.stack(
        [
            jnp.stack([jnp.cos(wa), jnp.sin(wa)], -1),
            jnp.stack([-jnp.sin(wa), jnp.cos(wa)], -1),
        ],
        axis=1,
    )  # (4 wheels, 2 axes, 2)
    rel = tiles[None] - positions[:, None, None, :]  # (4, T, 4, 2)
    proj = jnp.einsum("wtvd,wad->wtav", rel, ax)
    half = jnp.asarray(WHEEL_HALF, jnp.float32)[None, None, :]
    sep_wheel = jnp.maximum(proj.min(-1) - half, -proj.max(-1) - half)  # (4, T, 2)
    sep = jnp.maximum(sep_tile.max(-1), sep_wheel.max(-1))
    return sep < C.CONTACT_MARGIN

"""Wheeled Robot Navigating: the generalised RL task of Wang et al. (EPRNN, Sec. 4.1).

Spec ``maze-decprnn-eprnn.md`` section 4.2 (reference EPA@c1d974d:
env_robot_navigating.py:11-119), re-implemented as equations:

- a task is a goal ``g ~ U(-0.5, 0.5)^2`` and signal parameters ``A0 ~ U(0.5, 2)``,
  ``k ~ U(0.1, 0.5)``; the robot starts at (0, 0) with heading 0;
- wheel travel ``l = 0.05 a_L``, ``r = 0.05 a_R`` (wheel diameter 0.02, max rotation 25,
  dt 0.1); the actions are used **unclipped** as in the reference (``clip_actions=True``
  clips them to [-1, 1] instead);
- ``Delta = r - l``, ``v = (l + r) / 2``. If ``|Delta| < 1e-6`` the robot moves ``v``
  straight ahead; otherwise ``dtheta = Delta / L`` (axle L = 0.04), ``R = L v / Delta``,
  chord ``d = R sin(dtheta) / cos(dtheta / 2)`` (0 when ``|cos(dtheta / 2)| <= 1e-6``),
  the position moves ``d`` along ``theta + dtheta / 2`` and ``theta += dtheta``, wrapped
  into [0, 2 pi) with 2 pi = 6.2831852;
- distance ``d_t = |g - pos|`` after the move; reward ``-d_t``; the episode ends when
  ``d_t < 0.02`` (terminated, the goal is reached) or when the step count exceeds
  ``max_steps = 100`` (truncated), so an episode has at most 101 steps (spec 4.2);
- observation ``[a_prev_L, a_prev_R, s_t]`` with the signal
  ``s_t = max(0, A0 - k ln(d_t / 0.02) + noise_std N(0, 1))``; the first signal is taken
  at the start distance. The reference code uses ``noise_std = 0.01``; the paper's
  Table 3 varies it over 0.01 / 0.05 / 0.2.

Shape-setting config (noise, step limit, clipping) lives in the constructor; the task
(goal, A0, k) is a vmappable ``WRNavParams`` pytree.
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
from flax import struct
from gymnax.environments import environment, spaces

WHEEL_SCALE = 0.1 * 0.02 * 25.0  # dt * wheel diameter * max rotation = 0.05
AXLE = 0.04
TWO_PI = 6.2831852  # the reference's constant
GOAL_RADIUS = 0.02  # also d0 of the signal
STRAIGHT_EPS = 1e-6
COS_EPS = 1e-6


@struct.dataclass(kw_only=True)
class WRNavParams(environment.EnvParams):
    """One task: goal (2,), signal strength ``a0`` and attenuation ``k`` (scalars)."""

    max_steps_in_episode: int = struct.field(pytree_node=False, default=100)
    goal: jax.Array
    a0: jax.Array
    k: jax.Array


@struct.dataclass(kw_only=True)
class WRNavState(environment.EnvState):
    """Pose, step count, last action and the current (noisy) signal."""

    time: jax.Array
    pos: jax.Array
    theta: jax.Array
    last_action: jax.Array
    signal: jax.Array


def sample_wrnav_params(key: jax.Array, max_steps: int = 100) -> WRNavParams:
    """One task from the training distribution of spec 4.2."""
    k_goal, k_a0, k_k = jax.random.split(key, 3)
    return WRNavParams(
        max_steps_in_episode=max_steps,
        goal=jax.random.uniform(k_goal, (2,), jnp.float32, -0.5, 0.5),
        a0=jax.random.uniform(k_a0, (), jnp.float32, 0.5, 2.0),
        k=jax.random.uniform(k_k, (), jnp.float32, 0.1, 0.5),
    )


def wheel_kinematics(
    pos: jax.Array, theta: jax.Array, action: jax.Array
) -> tuple[jax.Array, jax.Array]:
    """One step of the two-wheel kinematics of spec 4.2: ``(pos, theta) -> (pos', theta')``."""
    left, right = WHEEL_SCALE * action[0], WHEEL_SCALE * action[1]
    delta = right - left
    mean = 0.5 * (left + right)
    straight = jnp.abs(delta) < STRAIGHT_EPS
    safe_delta = jnp.where(straight, 1.0, delta)
    dtheta = jnp.where(straight, 0.0, safe_delta / AXLE)
    radius = AXLE * mean / safe_delta
    half_cos = jnp.cos(0.5 * dtheta)
    degenerate = jnp.abs(half_cos) <= COS_EPS
    chord = jnp.where(
        degenerate, 0.0, radius * jnp.sin(dtheta) / jnp.where(degenerate, 1.0, half_cos)
    )
    step_len = jnp.where(straight, mean, chord)
    heading = theta + 0.5 * dtheta
    new_pos = pos + step_len * jnp.stack([jnp.cos(heading), jnp.sin(heading)])
    new_theta = jnp.where(straight, theta, jnp.mod(theta + dtheta, TWO_PI))
    return new_pos, new_theta


def signal_strength(
    params: WRNavParams, distance: jax.Array, noise: jax.Array, noise_std: float
) -> jax.Array:
    """``max(0, A0 - k ln(d / 0.02) + noise_std * noise)``; ``noise`` is N(0, 1)."""
    log_ratio = jnp.log(jnp.maximum(distance, 1e-12) / GOAL_RADIUS)
    return jnp.maximum(0.0, params.a0 - params.k * log_ratio + noise_std * noise)


class WheeledRobotNavigation(environment.Environment[WRNavState, WRNavParams]):
    """Steer a two-wheeled robot to a hidden goal from a noisy signal (spec 4.2).

    Args:
        noise_std: std of the signal noise (0.01 in the reference code; the paper's
            Table 3 uses 0.01, 0.05 and 0.2).
        max_steps: the episode ends once the step count exceeds it (101 steps at most).
        clip_actions: clip the wheel commands to [-1, 1] (the reference does not).
    """

    def __init__(
        self, noise_std: float = 0.01, max_steps: int = 100, clip_actions: bool = False
    ):
        super().__init__()
        if noise_std < 0 or max_steps < 1:
            raise ValueError(
                f"need noise_std >= 0 and max_steps >= 1, got {noise_std}, {max_steps}"
            )
        self.noise_std = float(noise_std)
        self.max_steps = max_steps
        self.clip_actions = clip_actions

    @property
    def episode_limit(self) -> int:
        """The longest episode: ``max_steps + 1`` steps (``step > max_steps`` ends it)."""
        return self.max_steps + 1

    @property
    def default_params(self) -> WRNavParams:
        return WRNavParams(
            max_steps_in_episode=self.max_steps,
            goal=jnp.array([0.3, 0.2], jnp.float32),
            a0=jnp.float32(1.0),
            k=jnp.float32(0.3),
        )

    def step_env(
        self,
        key: jax.Array,
        state: WRNavState,
        action: jax.Array,
        params: WRNavParams,
    ) -> tuple[jax.Array, WRNavState, jax.Array, jax.Array, dict[str, Any]]:
        action = jnp.asarray(action, jnp.float32)
        if self.clip_actions:
            action = jnp.clip(action, -1.0, 1.0)
        pos, theta = wheel_kinematics(state.pos, state.theta, action)
        distance = jnp.linalg.norm(params.goal - pos)
        noise = jax.random.normal(key, (), jnp.float32)
        state = WRNavState(
            time=state.time + 1,
            pos=pos,
            theta=theta,
            last_action=action,
            signal=signal_strength(params, distance, noise, self.noise_std),
        )
        terminated = self.is_terminated(state, params)
        info = {"discount": self.discount(state, params), "distance": distance}
        return self.get_obs(state, params), state, -distance, terminated, info

    def reset_env(
        self, key: jax.Array, params: WRNavParams
    ) -> tuple[jax.Array, WRNavState]:
        pos = jnp.zeros((2,), jnp.float32)
        noise = jax.random.normal(key, (), jnp.float32)
        distance = jnp.linalg.norm(params.goal - pos)
        state = WRNavState(
            time=jnp.int32(0),
            pos=pos,
            theta=jnp.float32(0.0),
            last_action=jnp.zeros((2,), jnp.float32),
            signal=signal_strength(params, distance, noise, self.noise_std),
        )
        return self.get_obs(state, params), state

    def get_obs(self, state: WRNavState, params: WRNavParams, key=None) -> jax.Array:
        return jnp.concatenate([state.last_action, state.signal[None]])

    def is_terminated(self, state: WRNavState, params: WRNavParams) -> jax.Array:
        return jnp.linalg.norm(params.goal - state.pos) < GOAL_RADIUS

    def is_truncated(self, state: WRNavState, params: WRNavParams) -> jax.Array:
        return jnp.logical_and(
            state.time > self.max_steps,
            jnp.logical_not(self.is_terminated(state, params)),
        )

    @property
    def name(self) -> str:
        return "WheeledRobotNavigation"

    @property
    def num_actions(self) -> int:
        return 2

    def action_space(self, params: WRNavParams | None = None) -> spaces.Box:
        bound = 1.0 if self.clip_actions else jnp.inf
        return spaces.Box(-bound, bound, (2,), jnp.float32)

    def observation_space(self, params: WRNavParams | None = None) -> spaces.Box:
        return spaces.Box(-jnp.inf, jnp.inf, (3,), jnp.float32)

    def state_space(self, params: WRNavParams | None = None) -> spaces.Dict:
        return spaces.Dict(
            {
                "time": spaces.Discrete(self.max_steps + 2),
                "pos": spaces.Box(-jnp.inf, jnp.inf, (2,), jnp.float32),
                "theta": spaces.Box(0.0, TWO_PI, (), jnp.float32),
            }
        )

"""CarRacing-v0 from pixels as a gymnax environment (Najarro & Risi 2020; Palm et al.).

One step is gym 0.17's ``CarRacing.step``: the car's wheel model (friction limits from the
wheels' tile contacts of the previous collision pass), the collision pass at the current
pose (each newly touched tile pays 1000/N), the integration, -0.1 per frame, -100 and the end
when the hull leaves the playfield, the end when every tile has been visited, and the frame.
On top, as Najarro & Risi's fitness loop does (fitness_functions.py), the episode ends after
more than ``neg_reward_limit`` (20) consecutive negative rewards, and gym's ``TimeLimit``
truncates at ``max_steps_in_episode`` (1000). Palm et al. stop at 20 negatives, i.e.
``neg_reward_limit=19``. The reset step's tile rewards are paid with the first action, as in
the reference (its reset calls ``step(None)``, whose tile rewards reach the next step).

The task parameter is ``CarParams``: a ``Track`` (``track.sample_track(key)``) and Palm et
al.'s variation (``friction`` 0.5 / 1 / 2, ``side_force`` -10 / 0 / +10 for pushed left /
right; ``VARIATIONS``), all arrays, so a batch of tasks is a ``vmap`` over params. With
``auto_reset=False`` a finished episode is absorbing (zero reward, state frozen), so a
lifetime is a plain ``lax.scan`` of ``env.step`` that sums rewards.

Where gymnasium 1.x's CarRacing-v3 differs (options here in brackets): it rotates the camera
with the hull, not the velocity [``camera="hull"``]; it draws with pygame at 1000x800 with
anti-aliasing and ``smoothscale``s to 96x96 [``supersample`` > 1 approximates it; pygame's
box filter also darkens flat colours by ~2 levels, not modelled]; it truncates the tile shade
102 + 2.55 to 104 where OpenGL rounds 104.55 to 105 [``shades="gymnasium"``]; it ends a lap
when tile 0 is revisited after 95 % of the tiles (never reached in practice: tile 0 is
visited at reset and only a first visit checks it); the score text differs in font and
place (not drawn here in either version); discrete actions and domain randomisation are
not provided. Physics, track generation and rewards are the same.
"""

from __future__ import annotations

from functools import partial
from typing import Any

import jax
import jax.numpy as jnp
from flax import struct
from gymnax.environments import environment, spaces

from hebbjax.envs.car_racing import constants as C
from hebbjax.envs.car_racing import track as T
from hebbjax.envs.car_racing.dynamics import (
    CarState,
    init_car,
    step_car,
    wheel_angles,
    wheel_positions,
    wheel_tile_contacts,
)
from hebbjax.envs.car_racing.render import make_renderer, preprocess

# Palm, Najarro & Risi's five car variations (paper 004 sec. 4; spec 2.5): name -> (friction,
# side_force). They train on the first four and test on "pushed-right".
VARIATIONS = {
    "default": (1.0, 0.0),
    "half-friction": (0.5, 0.0),
    "double-friction": (2.0, 0.0),
    "pushed-left": (1.0, -10.0),
    "pushed-right": (1.0, 10.0),
}


@struct.dataclass(kw_only=True)
class CarParams(environment.EnvParams):
    """One task: the track and the variation (all vmappable arrays)."""

    max_steps_in_episode: int = struct.field(pytree_node=False, default=C.MAX_STEPS)
    track: T.Track
    friction: jax.Array
    side_force: jax.Array
    neg_reward_limit: jax.Array


@struct.dataclass(kw_only=True)
class CarEnvState(environment.EnvState):
    """``time``: steps taken; ``visited`` (MAX_TILES,) tiles touched by a wheel;
    ``pending_reward``: the reset step's tile reward, paid with the first action."""

    time: jax.Array
    car: CarState
    visited: jax.Array
    n_visited: jax.Array
    pending_reward: jax.Array
    neg_count: jax.Array
    done: jax.Array


def make_params(
    track: T.Track,
    variation: str = "default",
    neg_reward_limit: int = C.NEG_REWARD_LIMIT,
    max_steps: int = C.MAX_STEPS,
) -> CarParams:
    """``CarParams`` for a track and one of ``VARIATIONS``."""
    try:
        friction, side = VARIATIONS[variation]
    except KeyError:
        raise ValueError(
            f"unknown variation {variation!r}; valid: {', '.join(VARIATIONS)}"
        ) from None
    return CarParams(
        max_steps_in_episode=max_steps,
        track=track,
        friction=jnp.float32(friction),
        side_force=jnp.float32(side),
        neg_reward_limit=jnp.int32(neg_reward_limit),
    )


class CarRacing(environment.Environment[CarEnvState, CarParams]):
    """CarRacing-v0 from pixels.

    Args:
        layout: observation layout, ``"najarro"`` (3, 84, 84) ``[c, x, y]`` in [0, 1] (his
            ``np.swapaxes(obs, 0, 2)``), ``"palm"`` (3, 84, 84) ``[c, y, x]``, ``"hwc"``
            (84, 84, 3), or ``"frame"``: the raw (96, 96, 3) frame in [0, 255].
        camera: ``"velocity"`` (gym 0.17) or ``"hull"`` (gymnasium).
        shades: road tile shades, ``"gl"`` (gym 0.17) or ``"gymnasium"``.
        supersample: samples per pixel and axis (1 = gym 0.17's point sampling).
        auto_reset: gymnax's reset on done; ``False`` makes finished episodes absorbing.
        max_steps: ``default_params``' step limit.
    """

    def __init__(
        self,
        layout: str = "najarro",
        camera: str = "velocity",
        shades: str = "gl",
        supersample: int = 1,
        auto_reset: bool = True,
        max_steps: int = C.MAX_STEPS,
    ):
        super().__init__()
        if layout not in ("najarro", "palm", "hwc", "frame"):
            raise ValueError(
                f"unknown layout {layout!r}; valid: najarro, palm, hwc, frame"
            )
        self.layout = layout
        self.render_frame = make_renderer(camera, shades, supersample)
        self.auto_reset = auto_reset
        self.max_steps = max_steps

    @property
    def default_params(self) -> CarParams:
        """A fixed track (``sample_track(key(0))``), default variation."""
        return make_params(T.sample_track(jax.random.key(0)), max_steps=self.max_steps)

    def _contacts(self, positions, angles, track: T.Track) -> jax.Array:
        tile_edges = track.poly_edges[0::2]
        return (
            wheel_tile_contacts(positions, angles, track.tiles, tile_edges)
            & track.mask[None, :]
        )

    def reset_env(
        self, key: jax.Array, params: CarParams
    ) -> tuple[jax.Array, CarEnvState]:
        del key  # the track is the task parameter; the start is deterministic
        track = params.track
        beta, x, y = track.points[0, 1], track.points[0, 2], track.points[0, 3]
        car = init_car(beta, x, y)
        # the reset step's collision pass sees the wheels where ``Car`` created them
        start = jnp.stack([x, y])[None, :] + jnp.asarray(C.WHEELPOS, jnp.float32)
        contacts = self._contacts(start, jnp.full(4, beta), track)
        visited = contacts.any(0)
        n_visited = visited.sum().astype(jnp.int32)
        state = CarEnvState(
            time=jnp.int32(0),
            car=car._replace(on_road=contacts.any(1)),
            visited=visited,
            n_visited=n_visited,
            pending_reward=C.TILE_REWARD / track.n_tiles * n_visited,
            neg_count=jnp.int32(0),
            done=jnp.bool_(False),
        )
        return self.get_obs(state, params), state

    def step_env(
        self, key: jax.Array, state: CarEnvState, action: jax.Array, params: CarParams
    ) -> tuple[jax.Array, CarEnvState, jax.Array, jax.Array, dict[str, Any]]:
        del key
        track = params.track
        action = jnp.asarray(action, jnp.float32)
        car = state.car
        contacts = self._contacts(wheel_positions(car), wheel_angles(car), track)
        touched = contacts.any(0)
        new = touched & ~state.visited
        visited = state.visited | touched
        n_visited = state.n_visited + new.sum().astype(jnp.int32)
        moved = step_car(car, action, params.friction, params.side_force)
        moved = moved._replace(on_road=contacts.any(1))

        reward = (
            C.FRAME_REWARD
            + C.TILE_REWARD / track.n_tiles * new.sum()
            + state.pending_reward
        )
        lap = n_visited >= track.n_tiles
        out = jnp.any(jnp.abs(moved.position) > C.PLAYFIELD)
        reward = jnp.where(out, C.OUT_OF_PLAYFIELD_REWARD, reward).astype(jnp.float32)
        neg_count = jnp.where(reward < 0, state.neg_count + 1, 0)
        terminated = lap | out | (neg_count > params.neg_reward_limit)
        time = state.time + 1
        new_state = CarEnvState(
            time=time,
            car=moved,
            visited=visited,
            n_visited=n_visited,
            pending_reward=jnp.float32(0.0),
            neg_count=neg_count,
            done=terminated | (time >= params.max_steps_in_episode),
        )
        # a finished episode is absorbing (only seen with auto_reset=False)
        new_state = jax.tree.map(
            lambda old, new: jnp.where(state.done, old, new), state, new_state
        )
        reward = jnp.where(state.done, 0.0, reward)
        terminated = jnp.where(state.done, True, terminated)
        info = {"tiles_visited": new_state.n_visited, "lap_finished": lap & ~state.done}
        return self.get_obs(new_state, params), new_state, reward, terminated, info

    @partial(jax.jit, static_argnames=("self",))
    def step(
        self,
        key: jax.Array,
        state: CarEnvState,
        action: jax.Array,
        params: CarParams | None = None,
    ) -> tuple[jax.Array, CarEnvState, jax.Array, jax.Array, jax.Array, dict[Any, Any]]:
        """gymnax's step; without ``auto_reset`` no reset is computed (half the rendering)."""
        if self.auto_reset:
            return environment.Environment.step.__wrapped__(
                self, key, state, action, params
            )
        if params is None:
            params = self.default_params
        obs, state, reward, terminated, info = self.step_env(key, state, action, params)
        truncated = self.is_truncated(state, params) & ~terminated
        info = {**info, "terminated": terminated, "truncated": truncated}
        return obs, state, reward, terminated, truncated, info

    def get_obs(self, state: CarEnvState, params: CarParams, key=None) -> jax.Array:
        t = (state.time + 1).astype(jnp.float32) * C.DT  # the reset step advanced t too
        frame = self.render_frame(state.car, params.track, state.visited, t)
        if self.layout == "frame":
            return frame
        return preprocess(frame, self.layout)

    def is_terminated(self, state: CarEnvState, params: CarParams) -> jax.Array:
        return state.done & (state.time < params.max_steps_in_episode)

    @property
    def name(self) -> str:
        return "CarRacing-v0-hebbjax"

    @property
    def num_actions(self) -> int:
        return 3

    def action_space(self, params: CarParams | None = None) -> spaces.Box:
        return spaces.Box(
            jnp.array([-1.0, 0.0, 0.0]), jnp.array([1.0, 1.0, 1.0]), (3,), jnp.float32
        )

    def observation_space(self, params: CarParams | None = None) -> spaces.Box:
        if self.layout == "frame":
            return spaces.Box(0.0, 255.0, (C.STATE_H, C.STATE_W, 3), jnp.float32)
        shape = (84, 84, 3) if self.layout == "hwc" else (3, 84, 84)
        return spaces.Box(0.0, 1.0, shape, jnp.float32)

    def state_space(self, params: CarParams | None = None) -> spaces.Dict:
        return spaces.Dict({"time": spaces.Discrete(self.max_steps + 1)})

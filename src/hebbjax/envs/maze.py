"""MetaMaze2D: the random-maze escape task of Wang et al. 2022 (decomposed plasticity).

A gymnax environment re-implemented from the reference simulator's semantics (MetaGym
``MetaMaze2D`` as used by the paper-era code), spec ``maze-decprnn-eprnn.md`` sections 2.3-2.4:

- 3x3 egocentric view ``obs[3i + j] = G[x - 1 + i][y - 1 + j]`` (first index = x);
  sign convention ``"paper"`` (wall +1, free 0, goal -1, the released checkpoints) or
  ``"metagym-head"`` (wall -1, free 0, goal +1), spec 2.3 and pitfall 6.1;
- actions 0..3 -> (dx, dy) = (-1, 0), (+1, 0), (0, -1), (0, +1); the agent moves iff the target
  cell is not a wall (the goal counts as free), no bump penalty;
- reward -0.01 per step, +1 added on the step that enters the goal; the episode ends on the goal
  (terminated) or when the step count reaches ``max_steps`` (truncated); a goal reached on the
  last step is a success. Episode return = 1 - 0.01 T on success, else -0.01 max_steps.

Shape-setting config (size, max_steps, sign) lives in the constructor; the maze itself (walls,
start, goal) is a vmappable ``MazeParams`` pytree, so one environment object serves a batch of
mazes under ``jax.vmap``.
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from flax import struct
from gymnax.environments import environment, spaces

OBS_SIGNS = {"paper": 1.0, "metagym-head": -1.0}
ACTION_DELTAS = np.array([[-1, 0], [1, 0], [0, -1], [0, 1]], dtype=np.int32)
STEP_REWARD = -0.01
GOAL_REWARD = 1.0


@struct.dataclass(kw_only=True)
class MazeParams(environment.EnvParams):
    """One maze. ``walls`` (n, n) int8 with 1 = wall and first index = x; ``start`` and
    ``goal`` (2,) int32 as (x, y). ``max_steps_in_episode`` is static metadata kept for gymnax
    wrappers; the environment's own ``max_steps`` is authoritative."""

    max_steps_in_episode: int = struct.field(pytree_node=False, default=200)
    walls: jax.Array
    start: jax.Array
    goal: jax.Array


@struct.dataclass(kw_only=True)
class MazeState(environment.EnvState):
    """Agent position (2,) int32 and the step count of the current episode."""

    time: jax.Array
    pos: jax.Array


def obs_sign_value(obs_sign: str) -> float:
    """The multiplier of the paper convention for a sign-convention name."""
    try:
        return OBS_SIGNS[obs_sign]
    except KeyError:
        raise ValueError(
            f"unknown obs_sign {obs_sign!r}; valid: {', '.join(OBS_SIGNS)}"
        ) from None


def observation_grid(params: MazeParams, obs_sign: str = "paper") -> jax.Array:
    """The (n, n) float32 grid the view is cut from: wall 1, free 0, goal -1 (paper sign)."""
    n = params.walls.shape[-1]
    goal_mask = (
        jnp.zeros((n, n), jnp.float32).at[params.goal[0], params.goal[1]].set(1.0)
    )
    return obs_sign_value(obs_sign) * (params.walls.astype(jnp.float32) - goal_mask)


def egocentric_view(grid: jax.Array, pos: jax.Array) -> jax.Array:
    """The 3x3 window around ``pos``, flattened C-order: ``k = 3 i + j`` (spec 2.3)."""
    return jax.lax.dynamic_slice(grid, (pos[0] - 1, pos[1] - 1), (3, 3)).reshape(9)


def move(walls: jax.Array, pos: jax.Array, action: jax.Array) -> jax.Array:
    """The position after ``action``: the target cell unless it is a wall (spec 2.4)."""
    target = pos + jnp.asarray(ACTION_DELTAS)[action]
    blocked = walls[target[0], target[1]] != 0
    return jnp.where(blocked, pos, target)


def episode_return(success: jax.Array, steps: jax.Array, max_steps: int) -> jax.Array:
    """1 - 0.01 T on success at step T, else -0.01 max_steps (-2.00 for 200 steps)."""
    steps = steps.astype(jnp.float32)
    return jnp.where(
        success,
        GOAL_REWARD + STEP_REWARD * steps,
        STEP_REWARD * jnp.float32(max_steps),
    )


class MetaMaze2D(environment.Environment[MazeState, MazeParams]):
    """The 2-D random-maze escape environment (spec 2.3-2.4).

    Args:
        size: maze side n (odd, >= 5; the border is all wall).
        max_steps: episode step limit (200 in the paper).
        obs_sign: ``"paper"`` (wall +1, goal -1) or ``"metagym-head"`` (wall -1, goal +1).
    """

    def __init__(self, size: int = 15, max_steps: int = 200, obs_sign: str = "paper"):
        super().__init__()
        if size < 5 or size % 2 == 0:
            raise ValueError(f"maze size must be odd and >= 5, got {size}")
        obs_sign_value(obs_sign)
        self.size = size
        self.max_steps = max_steps
        self.obs_sign = obs_sign

    @property
    def default_params(self) -> MazeParams:
        """An empty maze (border walls only), start (1, 1), goal (n-2, n-2)."""
        n = self.size
        walls = np.ones((n, n), np.int8)
        walls[1:-1, 1:-1] = 0
        return MazeParams(
            max_steps_in_episode=self.max_steps,
            walls=jnp.asarray(walls),
            start=jnp.array([1, 1], jnp.int32),
            goal=jnp.array([n - 2, n - 2], jnp.int32),
        )

    def step_env(
        self,
        key: jax.Array,
        state: MazeState,
        action: int | jax.Array,
        params: MazeParams,
    ) -> tuple[jax.Array, MazeState, jax.Array, jax.Array, dict[str, Any]]:
        del key
        pos = move(params.walls, state.pos, jnp.asarray(action, jnp.int32))
        reached = jnp.all(pos == params.goal)
        state = MazeState(time=state.time + 1, pos=pos)
        reward = jnp.float32(STEP_REWARD) + jnp.where(reached, GOAL_REWARD, 0.0)
        obs = self.get_obs(state, params)
        return obs, state, reward, reached, {"success": reached}

    def reset_env(
        self, key: jax.Array, params: MazeParams
    ) -> tuple[jax.Array, MazeState]:
        del key
        state = MazeState(time=jnp.int32(0), pos=params.start.astype(jnp.int32))
        return self.get_obs(state, params), state

    def get_obs(self, state: MazeState, params: MazeParams, key=None) -> jax.Array:
        return egocentric_view(observation_grid(params, self.obs_sign), state.pos)

    def is_terminated(self, state: MazeState, params: MazeParams) -> jax.Array:
        return jnp.all(state.pos == params.goal)

    def is_truncated(self, state: MazeState, params: MazeParams) -> jax.Array:
        # The goal check wins on the last step: a success at step max_steps is terminal.
        return jnp.logical_and(
            state.time >= self.max_steps,
            jnp.logical_not(self.is_terminated(state, params)),
        )

    @property
    def name(self) -> str:
        return "MetaMaze2D"

    @property
    def num_actions(self) -> int:
        return 4

    def action_space(self, params: MazeParams | None = None) -> spaces.Discrete:
        return spaces.Discrete(4)

    def observation_space(self, params: MazeParams | None = None) -> spaces.Box:
        return spaces.Box(-1.0, 1.0, (9,), jnp.float32)

    def state_space(self, params: MazeParams | None = None) -> spaces.Dict:
        n = self.size
        return spaces.Dict(
            {
                "time": spaces.Discrete(self.max_steps + 1),
                "pos": spaces.Box(0, n - 1, (2,), jnp.int32),
            }
        )

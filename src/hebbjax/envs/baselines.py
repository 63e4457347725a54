"""The "Oracle" and "Random" rows of Wang et al. 2022's maze tables.

Spec ``maze-decprnn-eprnn.md`` section 2.7: Oracle = 1 - 0.01 L per maze with L the BFS
shortest path from start to goal (the optimal episode return); Random = the return of one
episode of uniform random actions (at most ``max_steps`` steps). Both are reported as mean and
standard error over a maze set; neither adapts, so the same value applies to every rollout.
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np

from hebbjax.envs.maze import MazeParams, episode_return, move
from hebbjax.envs.maze_gen import shortest_path_length

_oracle = jax.jit(jax.vmap(lambda maze: 1.0 - 0.01 * shortest_path_length(maze)))


def oracle_returns(mazes: MazeParams) -> jax.Array:
    """(N,) optimal episode return 1 - 0.01 L of each maze of a stacked set."""
    return _oracle(mazes)


def random_episode_return(
    maze: MazeParams, key: jax.Array, max_steps: int = 200
) -> jax.Array:
    """Return of one episode of uniform random actions on one maze."""
    actions = jax.random.randint(key, (max_steps,), 0, 4, jnp.int32)

    def step(carry, action):
        pos, t, reached = carry
        new_pos = move(maze.walls, pos, action)
        live = ~reached
        pos = jnp.where(live, new_pos, pos)
        t = t + live.astype(jnp.int32)
        return (pos, t, reached | jnp.all(pos == maze.goal)), None

    carry = (maze.start.astype(jnp.int32), jnp.int32(0), jnp.bool_(False))
    (_, t, reached), _ = jax.lax.scan(step, carry, actions)
    return episode_return(reached, t, max_steps)


@functools.lru_cache(maxsize=4)
def _random(max_steps: int):
    return jax.jit(
        jax.vmap(functools.partial(random_episode_return, max_steps=max_steps))
    )


def random_returns(
    mazes: MazeParams, key: jax.Array, max_steps: int = 200
) -> jax.Array:
    """(N,) return of one random-action episode on each maze of a stacked set."""
    keys = jax.random.split(key, mazes.walls.shape[0])
    return _random(max_steps)(mazes, keys)


def maze_baselines(
    mazes: MazeParams, key: jax.Array, max_steps: int = 200
) -> dict[str, float]:
    """Oracle and Random means and standard errors over a stacked maze set.

    Returns:
        dict with ``oracle_mean``, ``oracle_stderr``, ``random_mean``, ``random_stderr``,
        ``n_mazes``.
    """
    oracle = np.asarray(oracle_returns(mazes), np.float64)
    rand = np.asarray(random_returns(mazes, key, max_steps), np.float64)
    n = oracle.shape[0]
    ddof = 1 if n > 1 else 0
    return {
        "oracle_mean": float(oracle.mean()),
        "oracle_stderr": float(oracle.std(ddof=ddof) / np.sqrt(n)),
        "random_mean": float(rand.mean()),
        "random_stderr": float(rand.std(ddof=ddof) / np.sqrt(n)),
        "n_mazes": int(n),
    }

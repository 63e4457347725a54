"""Random-maze generator and BFS in JAX (MetaGym's ``sample_task_config`` algorithm).

Re-implements, from the description in spec ``maze-decprnn-eprnn.md`` section 2.1, the generator
used by Wang et al. 2022 (decomposed plasticity), and reproduces the statistics of section 2.2:

1. every (odd, odd) cell is open; the start is a uniform odd cell;
2. the goal is the first of ((n-1)/2)^2 uniform odd cells whose Euclidean distance to the start
   exceeds 0.45 n, else (n-2, n-2);
3. interior walls are removed one at a time while the open cells form more than one component or
   the interior wall count exceeds crowd (n-2)^2.

The reference reshuffles its candidate list each iteration and opens the first candidate that
merges two components (or, once connected, the first that passes a U(0,1) < 0.2 test, skipping
candidates with no open neighbour). In distribution that is one uniform draw per iteration among
the walls that join >= 2 distinct components (before connection) or that touch an open cell
(after). This module draws exactly that, with component labels relabelled on each merge (label
propagation on the small grid), inside a ``lax.while_loop``: jit-able and vmappable.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from hebbjax.envs.maze import MazeParams

_BIG = np.int32(1 << 20)  # label of wall cells, larger than any cell index


def _neighbour_stack(grid: jax.Array, fill) -> jax.Array:
    """(4, n, n): the value of each cell's up/down/left/right neighbour (``fill`` off-grid)."""
    padded = jnp.pad(grid, 1, constant_values=fill)
    return jnp.stack(
        [padded[:-2, 1:-1], padded[2:, 1:-1], padded[1:-1, :-2], padded[1:-1, 2:]]
    )


def _distinct_count(labels4: jax.Array) -> jax.Array:
    """Number of distinct non-wall labels among the 4 neighbours of each cell."""
    count = jnp.zeros(labels4.shape[1:], jnp.int32)
    for i in range(4):
        new = labels4[i] < _BIG
        for j in range(i):
            new = new & (labels4[i] != labels4[j])
        count = count + new.astype(jnp.int32)
    return count


def sample_start_goal(key: jax.Array, size: int) -> tuple[jax.Array, jax.Array]:
    """Start and goal of spec 2.1 steps 2-3, as (2,) int32 arrays."""
    half = (size - 1) // 2
    k_start, k_goal = jax.random.split(key)
    start = 2 * jax.random.randint(k_start, (2,), 0, half) + 1
    attempts = 2 * jax.random.randint(k_goal, (half * half, 2), 0, half) + 1
    d2 = jnp.sum((attempts - start[None]) ** 2, axis=-1).astype(jnp.float32)
    far = d2 > jnp.float32((0.45 * size) ** 2)
    default = jnp.array([size - 2, size - 2], jnp.int32)
    goal = jnp.where(jnp.any(far), attempts[jnp.argmax(far)], default)
    return start.astype(jnp.int32), goal.astype(jnp.int32)


def carve_walls(key: jax.Array, size: int, crowd: float | jax.Array) -> jax.Array:
    """The (size, size) int8 wall grid of spec 2.1 steps 1 and 4-6."""
    n = size
    idx = np.arange(n)
    odd = (idx % 2 == 1)[:, None] & (idx % 2 == 1)[None, :]
    interior = np.zeros((n, n), bool)
    interior[1:-1, 1:-1] = True
    walls0 = jnp.asarray(~odd)
    labels0 = jnp.where(odd, jnp.arange(n * n, dtype=jnp.int32).reshape(n, n), _BIG)
    n_comp0 = jnp.int32(odd.sum())
    n_walls0 = jnp.int32((interior & ~odd).sum())
    limit = jnp.floor(jnp.asarray(crowd, jnp.float32) * (n - 2) ** 2)
    interior = jnp.asarray(interior)

    def cond(carry):
        _, _, n_comp, n_walls, _ = carry
        return (n_comp > 1) | (n_walls.astype(jnp.float32) > limit)

    def body(carry):
        walls, labels, n_comp, n_walls, i = carry
        labels4 = _neighbour_stack(labels, _BIG)
        distinct = _distinct_count(labels4)
        need = jnp.where(n_comp > 1, 2, 1)
        valid = walls & interior & (distinct >= need)
        logits = jnp.where(valid, 0.0, -jnp.inf).reshape(-1)
        flat = jax.random.categorical(jax.random.fold_in(key, i), logits)
        cx, cy = flat // n, flat % n
        around = labels4[:, cx, cy]
        merged = jnp.where(around < _BIG, around, _BIG)
        target = jnp.min(merged)
        hit = jnp.any(labels[None] == merged[:, None, None], axis=0) & ~walls
        labels = jnp.where(hit, target, labels).at[cx, cy].set(target)
        walls = walls.at[cx, cy].set(False)
        return walls, labels, n_comp - distinct[cx, cy] + 1, n_walls - 1, i + 1

    walls, *_ = jax.lax.while_loop(
        cond, body, (walls0, labels0, n_comp0, n_walls0, jnp.int32(0))
    )
    return walls.astype(jnp.int8)


def sample_maze(
    key: jax.Array, size: int, crowd: float | jax.Array, max_steps: int = 200
) -> MazeParams:
    """One random maze (spec 2.1), jit-able and vmappable over ``key`` (and ``crowd``).

    Args:
        key: a JAX PRNG key.
        size: maze side n (odd, static).
        crowd: target interior wall fraction (capped by the perfect-maze density).
        max_steps: static episode limit recorded in the params for gymnax wrappers.
    Returns:
        ``MazeParams`` with walls (n, n) int8, start and goal (2,) int32.
    """
    if size < 5 or size % 2 == 0:
        raise ValueError(f"maze size must be odd and >= 5, got {size}")
    k_pos, k_walls = jax.random.split(key)
    start, goal = sample_start_goal(k_pos, size)
    walls = carve_walls(k_walls, size, crowd)
    return MazeParams(
        max_steps_in_episode=max_steps, walls=walls, start=start, goal=goal
    )


def distance_map(walls: jax.Array, source: jax.Array) -> jax.Array:
    """BFS distance (int32) from ``source`` to every free cell; -1 where unreachable."""
    n = walls.shape[-1]
    free = walls == 0
    unreached = jnp.int32(n * n)
    dist0 = jnp.full((n, n), unreached).at[source[0], source[1]].set(0)

    def cond(carry):
        return carry[1]

    def body(carry):
        dist, _ = carry
        near = jnp.min(_neighbour_stack(dist, unreached), axis=0) + 1
        new = jnp.where(free, jnp.minimum(dist, near), unreached)
        new = new.at[source[0], source[1]].set(0)
        return new, jnp.any(new != dist)

    dist, _ = jax.lax.while_loop(cond, body, (dist0, jnp.bool_(True)))
    return jnp.where(dist >= unreached, -1, dist)


def shortest_path_length(params: MazeParams) -> jax.Array:
    """BFS shortest-path length (moves) from start to goal; -1 if unreachable."""
    return distance_map(params.walls, params.start)[params.goal[0], params.goal[1]]


def goal_reachable(params: MazeParams) -> jax.Array:
    """Whether the goal can be reached from the start."""
    return shortest_path_length(params) >= 0


def all_open_connected(params: MazeParams) -> jax.Array:
    """Whether every open cell is reachable from the start (the generator guarantees it)."""
    dist = distance_map(params.walls, params.start)
    return jnp.all((dist >= 0) | (params.walls != 0))


def interior_wall_fraction(params: MazeParams) -> jax.Array:
    """Interior walls / (n-2)^2, the density measure of spec 2.2."""
    n = params.walls.shape[-1]
    inner = params.walls[..., 1:-1, 1:-1].astype(jnp.float32)
    return jnp.sum(inner, axis=(-2, -1)) / (n - 2) ** 2

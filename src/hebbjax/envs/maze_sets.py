"""Seeded maze sets (validation 1,024, test 2,048) and the npz maze format.

The paper (Wang et al. 2022, decomposed plasticity) evaluates on fixed stored maze sets (spec
``maze-decprnn-eprnn.md`` section 2.2, "Stored evaluation sets"). hebbjax regenerates its sets
deterministically with ``sample_maze`` from fixed keys, so every run and every user sees the same
mazes; an optional on-disk cache (``$HEBBJAX_CACHE_DIR`` or ``~/.cache/hebbjax``) is written
atomically. The reference release's own sets are loaded with ``load_maze_npz``: arrays ``walls``
int8 (N, n, n), ``start`` and ``goal`` int32 (N, 2), first index = x.
"""

from __future__ import annotations

import functools
import os
import zipfile
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np

from hebbjax.checkpoint import atomic_savez
from hebbjax.envs.maze import MazeParams
from hebbjax.envs.maze_gen import sample_maze
from hebbjax.errors import DataError

GENERATOR_VERSION = 1
N_VALIDATION = 1024
N_TEST = 2048


def cache_dir() -> Path:
    """Where generated maze sets are cached."""
    env = os.environ.get("HEBBJAX_CACHE_DIR")
    return Path(env) if env else Path.home() / ".cache" / "hebbjax"


def save_maze_npz(path: str | os.PathLike, mazes: MazeParams) -> None:
    """Write a stacked maze set as npz (walls int8, start/goal int32), atomically."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    arrays = {
        "walls": np.asarray(mazes.walls, np.int8),
        "start": np.asarray(mazes.start, np.int32),
        "goal": np.asarray(mazes.goal, np.int32),
    }
    atomic_savez(path, arrays)


def reachable(walls: np.ndarray, start: np.ndarray, goal: np.ndarray) -> bool:
    """Whether ``goal`` can be reached from ``start`` through free cells (4-neighbour)."""
    n = walls.shape[0]
    seen = np.zeros((n, n), bool)
    frontier = [tuple(int(c) for c in start)]
    seen[frontier[0]] = True
    target = tuple(int(c) for c in goal)
    while frontier:
        x, y = frontier.pop()
        if (x, y) == target:
            return True
        for dx, dy in ((1, 0), (-1, 0), (0, 1), (0, -1)):
            nx, ny = x + dx, y + dy
            if 0 <= nx < n and 0 <= ny < n and not walls[nx, ny] and not seen[nx, ny]:
                seen[nx, ny] = True
                frontier.append((nx, ny))
    return False


def _validate(walls: np.ndarray, start: np.ndarray, goal: np.ndarray, src: str) -> None:
    """What the generator guarantees (spec 2.1): shapes, a wall border, start and goal
    on distinct free interior cells, the goal reachable from the start."""
    if walls.ndim != 3 or walls.shape[1] != walls.shape[2]:
        raise DataError(f"{src}: 'walls' must have shape (N, n, n), got {walls.shape}")
    n_mazes, n = walls.shape[0], walls.shape[1]
    if n_mazes == 0:
        raise DataError(f"{src}: the maze set is empty")
    if n < 5 or n % 2 == 0:
        raise DataError(f"{src}: maze side must be odd and >= 5, got {n}")
    for name, arr in (("start", start), ("goal", goal)):
        if arr.shape != (n_mazes, 2):
            raise ValueError(
                f"{src}: {name!r} must have shape ({n_mazes}, 2), got {arr.shape}"
            )
        if not np.issubdtype(arr.dtype, np.integer):
            raise DataError(f"{src}: {name!r} must be integer, got {arr.dtype}")
        if arr.min(initial=1) < 1 or arr.max(initial=1) > n - 2:
            raise DataError(f"{src}: {name!r} has cells outside the maze interior")
    if not np.isin(walls, (0, 1)).all():
        raise DataError(f"{src}: 'walls' must contain only 0 (free) and 1 (wall)")
    border = np.ones((n, n), bool)
    border[1:-1, 1:-1] = False
    if not walls[:, border].all():
        raise DataError(f"{src}: the maze border must be all wall")
    rows = np.arange(n_mazes)
    for name, arr in (("start", start), ("goal", goal)):
        bad = np.flatnonzero(walls[rows, arr[:, 0], arr[:, 1]])
        if bad.size:
            raise DataError(f"{src}: {name!r} is a wall cell in maze {bad[0]}")
    same = np.flatnonzero((start == goal).all(axis=1))
    if same.size:
        raise DataError(f"{src}: start and goal coincide in maze {same[0]}")
    for i in range(n_mazes):
        if not reachable(walls[i], start[i], goal[i]):
            raise ValueError(
                f"{src}: the goal of maze {i} cannot be reached from its start"
            )


def load_maze_npz(path: str | os.PathLike, max_steps: int = 200) -> MazeParams:
    """Load a stacked maze set from npz (arrays ``walls``, ``start``, ``goal``).

    Raises:
        DataError: an unreadable file, a missing array, or mazes the generator could not
            have made (shapes, dtypes, border, start/goal cells, an unreachable goal).
    """
    src = str(path)
    try:
        with open(path, "rb") as f:
            data = np.load(f, allow_pickle=False)
            if not isinstance(data, np.lib.npyio.NpzFile):
                raise DataError(f"{src}: expected an npz archive, got a single array")
            missing = {"walls", "start", "goal"} - set(data.files)
            if missing:
                raise DataError(
                    f"{src}: missing arrays {sorted(missing)}; found {sorted(data.files)}"
                )
            walls, start, goal = data["walls"], data["start"], data["goal"]
    except DataError:
        raise
    except ValueError as err:
        raise DataError(f"{src}: not a readable npz maze file ({err})") from None
    except (OSError, EOFError, zipfile.BadZipFile, KeyError) as err:
        raise DataError(f"{src}: not a readable npz maze file ({err})") from None
    _validate(walls, start, goal, src)
    return MazeParams(
        max_steps_in_episode=max_steps,
        walls=jnp.asarray(walls, jnp.int8),
        start=jnp.asarray(start, jnp.int32),
        goal=jnp.asarray(goal, jnp.int32),
    )


@functools.lru_cache(maxsize=8)
def _sampler(size: int, crowd: float, max_steps: int):
    return jax.jit(jax.vmap(lambda k: sample_maze(k, size, crowd, max_steps)))


def generate_maze_set(
    size: int, crowd: float, n_mazes: int, seed: int, max_steps: int = 200
) -> MazeParams:
    """``n_mazes`` mazes from ``jax.random.split(jax.random.key(seed), n_mazes)``."""
    keys = jax.random.split(jax.random.key(seed), n_mazes)
    return _sampler(size, float(crowd), max_steps)(keys)


@functools.lru_cache(maxsize=16)
def maze_set(
    size: int,
    crowd: float,
    n_mazes: int,
    seed: int,
    max_steps: int = 200,
    use_cache: bool = True,
) -> MazeParams:
    """A deterministic seeded maze set, memoised in memory and optionally on disk.

    Args:
        size, crowd: generator settings (spec 2.1).
        n_mazes: number of mazes (1,024 validation, 2,048 test by convention).
        seed: integer seed of the set's key.
        max_steps: episode limit recorded in the params.
        use_cache: read/write ``cache_dir()/mazes/*.npz``.
    Returns:
        Stacked ``MazeParams`` with leading axis ``n_mazes``.
    """
    name = f"maze{size}_crowd{crowd:.4f}_n{n_mazes}_seed{seed}_v{GENERATOR_VERSION}.npz"
    path = cache_dir() / "mazes" / name
    if use_cache and path.exists():
        try:
            mazes = load_maze_npz(path, max_steps)
            if mazes.walls.shape == (n_mazes, size, size):
                return mazes
        except ValueError:
            pass  # a corrupt cache entry is regenerated below
    mazes = generate_maze_set(size, crowd, n_mazes, seed, max_steps)
    if use_cache:
        try:
            save_maze_npz(path, mazes)
        except OSError:
            pass  # the cache is an optimisation; an unwritable home must not fail a run
    return mazes

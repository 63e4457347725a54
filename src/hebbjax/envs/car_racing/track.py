"""CarRacing-v0 track generation in JAX (gym 0.17 ``CarRacing._create_track``).

The reference draws 12 checkpoints at random angles and radii (the first and last fixed at
1.5 TRACK_RAD), steers a point from checkpoint to checkpoint with a bounded turn rate
(``TRACK_TURN_RATE``, one step of ``TRACK_DETAIL_STEP`` per iteration, at most 2500 iterations
or 5 laps), keeps the second-to-last closed lap between two passes through ``START_ALPHA``,
rejects it unless head and tail glue together, marks red-white borders on hard turns and cuts
the lap into road tiles. This module does the same with fixed shapes:

- ``track_from_checkpoints(checkpoints)`` follows the path (a ``lax.scan`` of 2500 iterations)
  and returns a ``Track`` padded to ``MAX_TILES`` with a mask, plus an ``ok`` flag for the
  reference's two rejection tests (and for a track longer than ``MAX_TILES``: never seen in
  3,000 gymnasium seeds, whose longest track had 389 tiles);
- ``sample_track(key)`` draws checkpoints and retries with fresh keys until a track is
  accepted, as the reference's ``reset`` does. It is vmappable over keys.

Everything a frame or a contact test needs is precomputed here, per track: the tile and border
quads, their edge half-planes, and a world-space grid of candidate polygons for the renderer
(``render.py``). Arithmetic is float32 (the reference uses float64; the path's discrete choices
can differ for rare seeds, see ``tests/test_car_track.py``).
"""

from __future__ import annotations

import math
from typing import NamedTuple

import jax
import jax.numpy as jnp

from hebbjax.envs.car_racing import constants as C

MAX_TILES = 448
# renderer grid: square cells of CELL_SIZE world units over [-GRID_EXTENT, GRID_EXTENT]^2, each
# listing up to CELL_CAPACITY polygons (tile 2 i, border 2 i + 1) whose bounding box meets it
CELL_SIZE = 2.0
GRID_EXTENT = 256.0
GRID_N = int(2 * GRID_EXTENT / CELL_SIZE)
CELL_CAPACITY = (
    8  # the most seen in 200 random tracks: 8 (p99 of a track's busiest cell: 7)
)


class Track(NamedTuple):
    """One track, padded to ``MAX_TILES``; a pytree of arrays (vmappable).

    ``points`` (MAX_TILES, 4): the reference's ``track`` entries (alpha, beta, x, y);
    ``tiles`` / ``borders`` (MAX_TILES, 4, 2): the quads as the reference lists their vertices;
    ``poly_edges`` (2 MAX_TILES, 4, 3): half-planes (a, b, c) of polygon 2 i (tile i) and
    2 i + 1 (its border), in the reference's drawing order; a point is inside when
    a x + b y + c >= 0 for all four; ``cells`` (GRID_N, GRID_N, CELL_CAPACITY)
    int32 polygon ids (-1 empty), first index x; ``cell_overflow``: polygons the grid dropped.
    """

    checkpoints: jax.Array
    points: jax.Array
    n_tiles: jax.Array
    mask: jax.Array
    border: jax.Array
    tiles: jax.Array
    borders: jax.Array
    poly_edges: jax.Array
    cells: jax.Array
    cell_overflow: jax.Array


def sample_checkpoints(key: jax.Array) -> jax.Array:
    """The 12 checkpoints (alpha, x, y) of the reference, (12, 3) float32."""
    k_noise, k_rad = jax.random.split(key)
    c = jnp.arange(C.CHECKPOINTS, dtype=jnp.float32)
    noise = jax.random.uniform(
        k_noise, (C.CHECKPOINTS,), maxval=2 * math.pi / C.CHECKPOINTS
    )
    rad = jax.random.uniform(
        k_rad, (C.CHECKPOINTS,), minval=C.TRACK_RAD / 3, maxval=C.TRACK_RAD
    )
    alpha = 2 * math.pi * c / C.CHECKPOINTS + noise
    alpha = (
        alpha.at[0]
        .set(0.0)
        .at[-1]
        .set(2 * math.pi * (C.CHECKPOINTS - 1) / C.CHECKPOINTS)
    )
    rad = rad.at[0].set(1.5 * C.TRACK_RAD).at[-1].set(1.5 * C.TRACK_RAD)
    return jnp.stack([alpha, rad * jnp.cos(alpha), rad * jnp.sin(alpha)], axis=1)


def _follow_path(checkpoints: jax.Array) -> tuple[jax.Array, jax.Array]:
    """The reference's path loop: (2500, 4) entries and a prefix mask of those appended."""
    cp_alpha = checkpoints[:, 0]
    n_cp = C.CHECKPOINTS
    two_pi = 2 * math.pi

    def body(carry, _):
        x, y, beta, dest_i, laps, other_side, active = carry
        alpha = jnp.arctan2(y, x)
        new_lap = other_side & (alpha > 0)
        laps = laps + new_lap.astype(jnp.int32)
        other_side = jnp.where(new_lap, False, other_side)
        other_side = other_side | (alpha < 0)
        alpha = jnp.where(alpha < 0, alpha + two_pi, alpha)
        # destination: first checkpoint at or after dest_i (no wrap) with alpha <= its angle;
        # if none, move dest_i to the next multiple of 12 and alpha down one turn
        j0 = dest_i % n_cp
        k = jnp.arange(n_cp)
        hit = (k >= j0) & (alpha <= cp_alpha)
        found = jnp.any(hit)
        k_hit = jnp.argmax(hit)
        dest_i = jnp.where(found, dest_i + k_hit - j0, dest_i + n_cp - j0)
        alpha = jnp.where(found, alpha, alpha - two_pi)
        dest = checkpoints[dest_i % n_cp]
        r1x, r1y = jnp.cos(beta), jnp.sin(beta)
        p1x, p1y = -r1y, r1x
        proj = r1x * (dest[1] - x) + r1y * (dest[2] - y)
        # while beta - alpha > 1.5 pi: beta -= 2 pi (and the mirror loop), in closed form
        over = jnp.maximum(jnp.ceil((beta - alpha - 1.5 * math.pi) / two_pi), 0.0)
        beta = beta - two_pi * over
        under = jnp.maximum(jnp.ceil((alpha - beta - 1.5 * math.pi) / two_pi), 0.0)
        beta = beta + two_pi * under
        prev_beta = beta
        proj = proj * C.SCALE
        turn = jnp.minimum(C.TRACK_TURN_RATE, jnp.abs(0.001 * proj))
        beta = jnp.where(proj > 0.3, beta - turn, beta)
        beta = jnp.where(proj < -0.3, beta + turn, beta)
        x = x + p1x * C.TRACK_DETAIL_STEP
        y = y + p1y * C.TRACK_DETAIL_STEP
        entry = jnp.stack([alpha, 0.5 * (prev_beta + beta), x, y])
        new = (x, y, beta, dest_i, laps, other_side, active & (laps <= C.MAX_LAPS))
        # once inactive, the carry freezes and later entries are masked out
        carry = jax.tree.map(lambda n, o: jnp.where(active, n, o), new, carry)
        return carry, (entry, active)

    f32 = jnp.float32
    init = (
        f32(1.5 * C.TRACK_RAD),
        f32(0.0),
        f32(0.0),
        jnp.int32(0),
        jnp.int32(0),
        jnp.bool_(False),
        jnp.bool_(True),
    )
    _, (entries, valid) = jax.lax.scan(body, init, None, length=C.TRACK_ITERATIONS)
    return entries, valid


def _circular(x: jax.Array, idx: jax.Array, n: jax.Array) -> jax.Array:
    return x[jnp.mod(idx, n)]


def _border_flags(beta: jax.Array, n: jax.Array) -> jax.Array:
    """Red-white border flags, including the reference's in-place propagation order."""
    i = jnp.arange(MAX_TILES)
    good = jnp.ones(MAX_TILES, bool)
    oneside = jnp.zeros(MAX_TILES, jnp.float32)
    for neg in range(C.BORDER_MIN_COUNT):
        d = _circular(beta, i - neg, n) - _circular(beta, i - neg - 1, n)
        good &= jnp.abs(d) > C.TRACK_TURN_RATE * 0.2
        oneside += jnp.sign(d)
    base = good & (jnp.abs(oneside) == C.BORDER_MIN_COUNT) & (i < n)
    # ``for i: for neg: border[i - neg] |= border[i]`` runs in place: writes from i = 0..2 wrap
    # to the end of the list before those entries are read
    seen = base
    for k in range(1, C.BORDER_MIN_COUNT):
        wraps = i + k >= n
        seen |= wraps & _circular(base, i + k, n)
    out = jnp.zeros(MAX_TILES, bool)
    for neg in range(C.BORDER_MIN_COUNT):
        out |= _circular(seen, i + neg, n)
    return out & (i < n)


def quad_edges(quads: jax.Array) -> jax.Array:
    """Half-planes (a, b, c) of each edge of convex quads (..., 4, 2), inside >= 0."""
    p = quads
    q = jnp.roll(p, -1, axis=-2)
    e = q - p
    a, b = -e[..., 1], e[..., 0]  # left normal: inside for a counter-clockwise quad
    c = -(a * p[..., 0] + b * p[..., 1])
    area2 = jnp.sum(p[..., 0] * q[..., 1] - q[..., 0] * p[..., 1], axis=-1)
    sign = jnp.where(area2 >= 0, 1.0, -1.0)[..., None]
    return jnp.stack([a, b, c], axis=-1) * sign[..., None]


def _cell_grid(polys: jax.Array, valid: jax.Array) -> tuple[jax.Array, jax.Array]:
    """Candidate lists per grid cell from the polygons' bounding boxes."""
    n_poly = polys.shape[0]
    span = 9  # a polygon's box spans at most 9 cells per axis (quads are < 16 units)
    lo = jnp.floor((polys.min(axis=1) + C_GRID_SHIFT) / CELL_SIZE).astype(jnp.int32)
    hi = jnp.floor((polys.max(axis=1) + C_GRID_SHIFT) / CELL_SIZE).astype(jnp.int32)
    off = jnp.stack(jnp.meshgrid(jnp.arange(span), jnp.arange(span), indexing="ij"), -1)
    off = off.reshape(-1, 2)
    cell = lo[:, None, :] + off[None]  # (P, 16, 2)
    ok = valid[:, None] & jnp.all(cell <= hi[:, None, :], axis=-1)
    ok &= jnp.all((cell >= 0) & (cell < GRID_N), axis=-1)
    flat = jnp.where(ok, cell[..., 0] * GRID_N + cell[..., 1], GRID_N * GRID_N)
    poly_id = jnp.broadcast_to(jnp.arange(n_poly)[:, None], flat.shape)
    flat, poly_id = flat.reshape(-1), poly_id.reshape(-1)
    order = jnp.argsort(flat * n_poly + poly_id)
    flat, poly_id = flat[order], poly_id[order]
    first = jnp.searchsorted(flat, flat, side="left")
    rank = jnp.arange(flat.shape[0]) - first
    # keep the last-drawn polygons when a cell overflows: rank from the cell's end
    last = jnp.searchsorted(flat, flat, side="right")
    rank_from_end = last - 1 - jnp.arange(flat.shape[0])
    keep = (flat < GRID_N * GRID_N) & (rank_from_end < CELL_CAPACITY)
    overflow = jnp.sum((flat < GRID_N * GRID_N) & ~keep)
    slot = jnp.where(keep, rank_from_end, CELL_CAPACITY)
    del rank
    cells = jnp.full((GRID_N * GRID_N + 1, CELL_CAPACITY + 1), -1, jnp.int32)
    cells = cells.at[flat, slot].set(jnp.where(keep, poly_id, -1))
    cells = cells[:-1, :-1].reshape(GRID_N, GRID_N, CELL_CAPACITY).astype(jnp.int16)
    return cells, overflow


C_GRID_SHIFT = GRID_EXTENT


def track_from_checkpoints(checkpoints: jax.Array) -> tuple[Track, jax.Array]:
    """The track the reference builds from given checkpoints, and whether it accepts it."""
    entries, valid = _follow_path(checkpoints)
    alpha = entries[:, 0]
    idx = jnp.arange(C.TRACK_ITERATIONS)
    passes = (
        valid
        & (idx >= 1)
        & (alpha > C.START_ALPHA)
        & (jnp.roll(alpha, 1) <= C.START_ALPHA)
    )
    i2 = jnp.max(jnp.where(passes, idx, -1))
    i1 = jnp.max(jnp.where(passes & (idx < i2), idx, -1))
    n = i2 - 1 - i1
    ok = (i1 >= 1) & (n > 0) & (n <= MAX_TILES)
    n = jnp.clip(n, 1, MAX_TILES)
    i = jnp.arange(MAX_TILES)
    mask = i < n
    points = entries[jnp.clip(i1 + jnp.minimum(i, n - 1), 0, C.TRACK_ITERATIONS - 1)]
    first, last = points[0], points[n - 1]
    glue = jnp.sqrt(
        jnp.square(jnp.cos(first[1]) * (first[2] - last[2]))
        + jnp.square(jnp.sin(first[1]) * (first[3] - last[3]))
    )
    ok &= glue <= C.TRACK_DETAIL_STEP
    track = build_track(jnp.where(mask[:, None], points, 0.0), n, checkpoints)
    return track, ok


def build_track(
    points: jax.Array, n: jax.Array, checkpoints: jax.Array | None = None
) -> Track:
    """Tiles, borders, edges and the render grid of a lap of ``n`` reference ``track`` entries.

    Args:
        points: (MAX_TILES, 4) (alpha, beta, x, y), rows >= n ignored.
        n: the number of tiles.
        checkpoints: kept for statistics; zeros when not given.
    """
    n = jnp.asarray(n, jnp.int32)
    i = jnp.arange(MAX_TILES)
    mask = i < n
    points = jnp.where(mask[:, None], points.astype(jnp.float32), 0.0)
    beta = points[:, 1]
    border = _border_flags(beta, n)

    prev = points[jnp.mod(i - 1, n)]
    n1 = jnp.stack([jnp.cos(points[:, 1]), jnp.sin(points[:, 1])], -1)
    n2 = jnp.stack([jnp.cos(prev[:, 1]), jnp.sin(prev[:, 1])], -1)
    p1, p2 = points[:, 2:4], prev[:, 2:4]
    w = C.TRACK_WIDTH
    tiles = jnp.stack([p1 - w * n1, p1 + w * n1, p2 + w * n2, p2 - w * n2], axis=1)
    side = jnp.sign(prev[:, 1] - points[:, 1])[:, None]
    wb = C.TRACK_WIDTH + C.BORDER
    borders = jnp.stack(
        [
            p1 + side * w * n1,
            p1 + side * wb * n1,
            p2 + side * wb * n2,
            p2 + side * w * n2,
        ],
        axis=1,
    )
    polys = jnp.stack([tiles, borders], axis=1).reshape(2 * MAX_TILES, 4, 2)
    poly_valid = jnp.stack([mask, mask & border], axis=1).reshape(-1)
    cells, overflow = _cell_grid(polys, poly_valid)
    track = Track(
        checkpoints=jnp.zeros((C.CHECKPOINTS, 3), jnp.float32)
        if checkpoints is None
        else checkpoints,
        points=points,
        n_tiles=n.astype(jnp.int32),
        mask=mask,
        border=border,
        tiles=tiles,
        borders=borders,
        poly_edges=quad_edges(polys),
        cells=cells,
        cell_overflow=overflow.astype(jnp.int32),
    )
    return track


def sample_track(key: jax.Array, max_attempts: int = 100) -> Track:
    """A random accepted track, retrying with fresh keys as the reference's ``reset`` does.

    Args:
        key: a PRNG key; the track is a pure function of it.
        max_attempts: safety bound on retries (the reference retries forever; about one
            attempt in 18 is rejected, so 100 attempts fail with probability ~1e-125).

    Returns:
        A ``Track`` (vmappable: ``jax.vmap(sample_track)(keys)`` gives a batch of tracks).
    """

    def attempt(k):
        track, ok = track_from_checkpoints(sample_checkpoints(k))
        # also redraw the (never seen) track whose render grid would drop a polygon
        return track, ok & (track.cell_overflow == 0)

    def cond(carry):
        _, ok, tries, _ = carry
        return (~ok) & (tries < max_attempts)

    def body(carry):
        k, _, tries, _ = carry
        k, sub = jax.random.split(k)
        track, ok = attempt(sub)
        return k, ok, tries + 1, track

    key, sub = jax.random.split(key)
    track, ok = attempt(sub)
    _, _, _, track = jax.lax.while_loop(cond, body, (key, ok, jnp.int32(1), track))
    return track

"""The 96x96 CarRacing-v0 frame in JAX, and Najarro & Risi's 84x84 preprocessing.

gym 0.17 draws the state frame with OpenGL straight into a 96x96 viewport that shows the
whole 1000x800 window (so the view is squeezed 1.25x horizontally): the camera sits at the
hull's origin at window (500, 200), zoom ``0.6 (1 - t) + 16.2 t`` over the first second,
then 16.2; it rotates with the *velocity* heading ``atan2(v_x, v_y)`` once the hull moves
faster than 0.5 (gym <= 0.19; gymnasium rotates with the hull). Then: a black clear, the
playfield (0.4, 0.8, 0.4), grass squares (0.4, 0.9, 0.4), road tiles (0.4 + 0.01 (i % 3),
0.4 once touched) each followed by its red/white border, the wheels (black, with a grey
stripe at the wheel's spin phase) and the hull (0.8, 0, 0), and the indicator bar (speed,
four wheel spins, steering, yaw rate). OpenGL fills a pixel when its centre is inside a
polygon, which is what this renderer computes:

- the road: a world-space grid (``track.cells``) gives each pixel its 8 candidate polygons,
  tested with four half-planes; the last-drawn covering polygon wins (painter's order);
- the car: its 12 polygons tested on a fixed 16x16 pixel window around the camera point;
- the indicators: axis-aligned rectangles.

Not drawn: the 4-digit score text (a pyglet font glyph, ~10x4 pixels of the black bar) and
the skid marks (not in state frames). ``supersample`` > 1 averages s x s samples per pixel,
which approximates gymnasium's anti-aliased pygame drawing followed by ``smoothscale``.

``preprocess`` is Najarro & Risi's pipeline (fitness_functions.py): gym's
``ResizeObservation(84)`` (``cv2.resize(..., INTER_AREA)``, rounded to uint8), ``/ 255``
(``ScaledFloatFrame``) and ``np.swapaxes(obs, 0, 2)``, i.e. a (3, 84, 84) array indexed
``[channel, x, y]`` (x = column from the left, y = row from the top). Palm et al. permute
to ``[channel, y, x]`` instead (``layout="palm"``).
"""

from __future__ import annotations

from collections.abc import Callable

import jax
import jax.numpy as jnp
import numpy as np

from hebbjax.envs.car_racing import constants as C
from hebbjax.envs.car_racing import track as T
from hebbjax.envs.car_racing.dynamics import (
    CarState,
    hull_velocity,
    rotation,
    wheel_angles,
    wheel_positions,
)

OBS_SIZE = 84
LAYOUTS = ("najarro", "palm", "hwc")
CAMERAS = ("velocity", "hull")
CAR_ROWS, CAR_COLS = (
    (64, 80),
    (40, 56),
)  # the car never leaves this window (|r| < 3 units)


def _pad8(poly: list) -> np.ndarray:
    v = np.asarray(poly, np.float64) * C.SIZE
    return np.concatenate([v, np.repeat(v[-1:], 8 - len(v), 0)])


_HULL = jnp.asarray(
    np.stack([_pad8(p) for p in C.HULL_POLYS]), jnp.float32
)  # (4, 8, 2)
_WHEEL = jnp.asarray(_pad8(C.WHEEL_POLY), jnp.float32)


def _edges(poly: jax.Array) -> jax.Array:
    """Half-planes (..., 8, 3) of convex polygons (..., 8, 2), inside >= 0, either winding."""
    q = jnp.roll(poly, -1, axis=-2)
    e = q - poly
    a, b = -e[..., 1], e[..., 0]
    c = -(a * poly[..., 0] + b * poly[..., 1])
    area2 = jnp.sum(poly[..., 0] * q[..., 1] - q[..., 0] * poly[..., 1], axis=-1)
    sign = jnp.where(area2 >= 0, 1.0, -1.0)[..., None, None]
    return jnp.stack([a, b, c], -1) * sign


def car_polygons(car: CarState) -> tuple[jax.Array, jax.Array, jax.Array]:
    """World polygons (12, 8, 2) of the car in drawing order, their colours and a mask."""
    wpos, wang = wheel_positions(car), wheel_angles(car)
    wheels = wpos[:, None, :] + jnp.einsum(
        "vd,wed->wve", _WHEEL, jax.vmap(rotation)(wang)
    )
    a1, a2 = car.wheel_phase, car.wheel_phase + 1.2
    s1, s2, c1, c2 = jnp.sin(a1), jnp.sin(a2), jnp.cos(a1), jnp.cos(a2)
    stripe_on = ~((s1 > 0) & (s2 > 0))
    c1 = jnp.where(s1 > 0, jnp.sign(c1), c1)
    c2 = jnp.where(s2 > 0, jnp.sign(c2), c2)
    ww, wr = C.WHEEL_W * C.SIZE, C.WHEEL_R * C.SIZE
    local = jnp.stack(
        [
            jnp.stack([-ww * jnp.ones(4), wr * c1], -1),
            jnp.stack([ww * jnp.ones(4), wr * c1], -1),
            jnp.stack([ww * jnp.ones(4), wr * c2], -1),
            jnp.stack([-ww * jnp.ones(4), wr * c2], -1),
        ],
        1,
    )  # (4, 4, 2)
    local = jnp.concatenate([local, jnp.repeat(local[:, -1:], 4, 1)], 1)
    stripes = wpos[:, None, :] + jnp.einsum(
        "wvd,wed->wve", local, jax.vmap(rotation)(wang)
    )
    hull = car.position[None, None, :] + jnp.einsum(
        "pvd,ed->pve", _HULL, rotation(car.angle)
    )
    # drawing order: wheel 0, its stripe, wheel 1, ..., wheel 3, stripe 3, hull 1..4
    wheel_pairs = jnp.stack([wheels, stripes], 1).reshape(8, 8, 2)
    polys = jnp.concatenate([wheel_pairs, hull], 0)
    colors = jnp.asarray(
        [C.WHEEL_COLOR, C.WHEEL_WHITE] * 4 + [C.HULL_COLOR] * 4, jnp.float32
    )
    on = jnp.concatenate(
        [jnp.stack([jnp.ones(4, bool), stripe_on], 1).reshape(8), jnp.ones(4, bool)]
    )
    return polys, colors, on


def _paint(inside: jax.Array, colors: jax.Array, base: jax.Array) -> jax.Array:
    """Painter's order: the colour of the last polygon covering each sample, else ``base``.

    inside (..., P) bool, colors (P, 3) or (..., P, 3), base (..., 3)."""
    p = inside.shape[-1]
    ids = jnp.broadcast_to(jnp.arange(p), inside.shape)
    top = jnp.max(jnp.where(inside, ids, -1), axis=-1)
    if colors.ndim == 2:
        col = colors[jnp.maximum(top, 0)]
    else:
        col = jnp.take_along_axis(
            colors, jnp.maximum(top, 0)[..., None, None], axis=-2
        )[..., 0, :]
    return jnp.where((top >= 0)[..., None], col, base)


def make_renderer(
    camera: str = "velocity", shades: str = "gl", supersample: int = 1
) -> Callable[[CarState, T.Track, jax.Array, jax.Array], jax.Array]:
    """A function ``render(car, track, visited, t) -> (96, 96, 3)`` float32 in [0, 255].

    Args:
        camera: ``"velocity"`` (gym 0.17, Najarro's version) or ``"hull"`` (gymnasium).
        shades: ``"gl"`` (tile shades 102/105/107) or ``"gymnasium"`` (102/104/107).
        supersample: samples per pixel and axis (1 = OpenGL's point sampling).
    """
    if camera not in CAMERAS:
        raise ValueError(f"unknown camera {camera!r}; valid: {', '.join(CAMERAS)}")
    shade = {"gl": C.ROAD_SHADES_GL, "gymnasium": C.ROAD_SHADES_GYMNASIUM}[shades]
    s = supersample
    n = C.STATE_W * s
    u = (np.arange(n) + 0.5) / s  # sample centres in pixel units, from the left / top
    win_x = jnp.asarray(u * C.WINDOW_W / C.STATE_W, jnp.float32)
    win_y = jnp.asarray((C.STATE_H - u) * C.WINDOW_H / C.STATE_H, jnp.float32)
    cr = slice(CAR_ROWS[0] * s, CAR_ROWS[1] * s)
    cc = slice(CAR_COLS[0] * s, CAR_COLS[1] * s)
    shade_arr = jnp.asarray(shade, jnp.float32)
    road = jnp.asarray(C.ROAD_COLOR, jnp.float32)
    border_cols = jnp.asarray(C.BORDER_COLORS, jnp.float32)
    ind_w, ind_h = C.WINDOW_W / 40.0, C.WINDOW_H / 40.0

    def to_world(car, zoom, angle, wx, wy):
        dx = (wx - C.WINDOW_W / 2) / zoom
        dy = (wy - C.WINDOW_H / 4) / zoom
        co, si = jnp.cos(angle), jnp.sin(angle)
        px = car.position[0] + co * dx[None, :] + si * dy[:, None]
        py = car.position[1] - si * dx[None, :] + co * dy[:, None]
        return px, py

    def render(
        car: CarState, track: T.Track, visited: jax.Array, t: jax.Array
    ) -> jax.Array:
        zoom = 0.1 * C.SCALE * jnp.maximum(1 - t, 0.0) + C.ZOOM * C.SCALE * jnp.minimum(
            t, 1.0
        )
        if camera == "velocity":
            v = hull_velocity(car)
            angle = jnp.where(jnp.sum(v**2) > 0.25, jnp.arctan2(v[0], v[1]), -car.angle)
        else:
            angle = -car.angle
        px, py = to_world(car, zoom, angle, win_x, win_y)

        field = (jnp.abs(px) <= C.PLAYFIELD) & (jnp.abs(py) <= C.PLAYFIELD)
        gx = jnp.floor(px / C.GRASS_DIM)
        gy = jnp.floor(py / C.GRASS_DIM)
        grass = (
            (jnp.mod(gx, 2) == 0)
            & (jnp.mod(gy, 2) == 0)
            & (jnp.abs(gx + 0.5) < 20)
            & (jnp.abs(gy + 0.5) < 20)
        )
        grass_col = jnp.asarray(C.GRASS_COLOR, jnp.float32)[None, None, :]
        bg_col = jnp.asarray(C.BG_COLOR, jnp.float32)[None, None, :]
        img = jnp.where(
            grass[..., None], grass_col, jnp.where(field[..., None], bg_col, 0.0)
        )

        cx = jnp.floor((px + T.GRID_EXTENT) / T.CELL_SIZE).astype(jnp.int32)
        cy = jnp.floor((py + T.GRID_EXTENT) / T.CELL_SIZE).astype(jnp.int32)
        in_grid = (cx >= 0) & (cx < T.GRID_N) & (cy >= 0) & (cy < T.GRID_N)
        cell = jnp.where(in_grid, cx * T.GRID_N + cy, 0)
        cand = track.cells.reshape(-1, T.CELL_CAPACITY)[cell].astype(
            jnp.int32
        )  # (n, n, K)
        e = track.poly_edges[jnp.maximum(cand, 0)]  # (n, n, K, 4, 3)
        val = (
            e[..., 0] * px[..., None, None]
            + e[..., 1] * py[..., None, None]
            + e[..., 2]
        )
        inside = jnp.all(val >= 0, -1) & (cand >= 0) & in_grid[..., None]
        top = jnp.max(jnp.where(inside, cand, -1), -1)
        tile = jnp.maximum(top, 0) // 2
        tile_col = (
            road[None, None, :]
            + jnp.where(visited[tile], 0.0, shade_arr[tile % 3])[..., None]
        )
        col = jnp.where((top % 2 == 1)[..., None], border_cols[tile % 2], tile_col)
        img = jnp.where((top >= 0)[..., None], col, img)

        polys, colors, on = car_polygons(car)
        cpx, cpy = to_world(car, zoom, angle, win_x[cc], win_y[cr])
        ed = _edges(polys)  # (12, 8, 3)
        ed = ed[None, None]
        cval = (
            ed[..., 0] * cpx[..., None, None]
            + ed[..., 1] * cpy[..., None, None]
            + ed[..., 2]
        )
        cin = jnp.all(cval >= 0, -1) & on[None, None, :]
        img = img.at[cr, cc].set(_paint(cin, colors, img[cr, cc]))

        speed = jnp.sqrt(jnp.sum(hull_velocity(car) ** 2))
        vertical = jnp.stack(
            [0.02 * speed, *(0.01 * car.wheel_omega[k] for k in range(4))]
        )
        places = jnp.asarray([5, 7, 8, 9, 10], jnp.float32)[None, None, :]
        v_lo = jnp.minimum(ind_h, ind_h + ind_h * vertical)[None, None, :]
        v_hi = jnp.maximum(ind_h, ind_h + ind_h * vertical)[None, None, :]
        v_in = (
            (win_x[None, :, None] >= places * ind_w)
            & (win_x[None, :, None] <= (places + 1) * ind_w)
            & (win_y[:, None, None] >= v_lo)
            & (win_y[:, None, None] <= v_hi)
        )
        horizontal = jnp.stack([-10.0 * car.steer_angle, -0.8 * car.angular_velocity])
        hplaces = jnp.asarray([20, 30], jnp.float32)
        h_lo = (jnp.minimum(hplaces, hplaces + horizontal) * ind_w)[None, None, :]
        h_hi = (jnp.maximum(hplaces, hplaces + horizontal) * ind_w)[None, None, :]
        h_in = (
            (win_x[None, :, None] >= h_lo)
            & (win_x[None, :, None] <= h_hi)
            & (win_y[:, None, None] >= 2 * ind_h)
            & (win_y[:, None, None] <= 4 * ind_h)
        )
        bar = jnp.broadcast_to((win_y <= 5 * ind_h)[:, None, None], (n, n, 1))
        ind_in = jnp.concatenate([bar, v_in, h_in], -1)
        ind_colors = jnp.asarray(
            [
                C.INDICATOR_BG,
                C.SPEED_COLOR,
                *C.ABS_COLORS,
                C.STEER_IND_COLOR,
                C.GYRO_COLOR,
            ],
            jnp.float32,
        )
        img = _paint(ind_in, ind_colors, img)
        if s > 1:
            img = img.reshape(C.STATE_H, s, C.STATE_W, s, 3).mean((1, 3))
        return img

    return render


def area_weights(
    src: int = C.STATE_W, dst: int = OBS_SIZE
) -> tuple[np.ndarray, np.ndarray]:
    """OpenCV ``INTER_AREA`` as (dst, 3) source indices and weights (each row sums to 1)."""
    scale = src / dst
    idx = np.zeros((dst, 3), np.int32)
    w = np.zeros((dst, 3), np.float32)
    for o in range(dst):
        lo, hi = o * scale, (o + 1) * scale
        k0 = int(np.floor(lo))
        for j in range(3):
            k = min(k0 + j, src - 1)
            overlap = max(0.0, min(hi, k + 1) - max(lo, k)) if k0 + j < src else 0.0
            idx[o, j], w[o, j] = k, overlap / scale
    return idx, w


_AREA_IDX, _AREA_W = area_weights()


def resize_area(frame: jax.Array) -> jax.Array:
    """96x96x3 -> 84x84x3 with OpenCV's area interpolation, rounded to integers."""
    idx, w = jnp.asarray(_AREA_IDX), jnp.asarray(_AREA_W)
    rows = jnp.einsum("okwc,ok->owc", frame[idx], w)
    out = jnp.einsum("hokc,ok->hoc", rows[:, idx], w)
    return jnp.round(out)


def preprocess(frame: jax.Array, layout: str = "najarro") -> jax.Array:
    """Najarro & Risi's observation: resize to 84, scale to [0, 1], swap axes.

    Returns (3, 84, 84) ``[c, x, y]`` for ``"najarro"`` (``np.swapaxes(obs, 0, 2)``),
    (3, 84, 84) ``[c, y, x]`` for ``"palm"``, or (84, 84, 3) for ``"hwc"``.
    """
    obs = resize_area(frame) / 255.0
    if layout == "najarro":
        return jnp.transpose(obs, (2, 1, 0))
    if layout == "palm":
        return jnp.transpose(obs, (2, 0, 1))
    if layout == "hwc":
        return obs
    raise ValueError(f"unknown layout {layout!r}; valid: {', '.join(LAYOUTS)}")

"""The CarRacing frame against an independent rasteriser of gym 0.17's OpenGL drawing
(matplotlib point-in-polygon at pixel centres over the reference's polygon list), and the
84x84 preprocessing against OpenCV's area resize."""

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from matplotlib.path import Path

from hebbjax.envs.car_racing import constants as C
from hebbjax.envs.car_racing import dynamics as D
from hebbjax.envs.car_racing import render as R
from hebbjax.envs.car_racing import track as T


def rot(a):
    return np.array([[math.cos(a), -math.sin(a)], [math.sin(a), math.cos(a)]])


def reference_polygons(car, track, visited, t):
    """gym 0.17 ``render('state_pixels')`` as (window polygon, colour) in drawing order."""
    zoom = 0.1 * C.SCALE * max(1 - t, 0) + C.ZOOM * C.SCALE * min(t, 1)
    pos, ang = np.asarray(car.position, float), float(car.angle)
    hull_v = np.asarray(D.hull_velocity(car), float)
    angle = math.atan2(hull_v[0], hull_v[1]) if np.linalg.norm(hull_v) > 0.5 else -ang

    def to_window(pts):
        return np.array([500, 200]) + zoom * (np.asarray(pts) - pos) @ rot(angle).T

    out = []
    f, k = C.PLAYFIELD, C.PLAYFIELD / 20.0
    out.append((to_window([(f, f), (f, -f), (-f, -f), (-f, f)]), C.BG_COLOR))
    for x in range(-20, 20, 2):
        for y in range(-20, 20, 2):
            sq = [
                (k * x + k, k * y),
                (k * x, k * y),
                (k * x, k * y + k),
                (k * x + k, k * y + k),
            ]
            out.append((to_window(sq), C.GRASS_COLOR))
    n = int(track.n_tiles)
    for i in range(n):
        c = 0 if visited[i] else C.ROAD_SHADES_GL[i % 3]
        out.append((to_window(np.asarray(track.tiles[i])), (102 + c,) * 3))
        if bool(track.border[i]):
            out.append(
                (to_window(np.asarray(track.borders[i])), C.BORDER_COLORS[i % 2])
            )
    steer = float(car.steer_angle)
    for w in range(4):
        wa = ang + (steer if w < 2 else 0.0)
        centre = pos + rot(ang) @ C.WHEELPOS[w]
        body = np.array(C.WHEEL_POLY) * C.SIZE
        out.append((to_window(centre + body @ rot(wa).T), C.WHEEL_COLOR))
        a1 = float(car.wheel_phase[w])
        s1, s2, c1, c2 = (
            math.sin(a1),
            math.sin(a1 + 1.2),
            math.cos(a1),
            math.cos(a1 + 1.2),
        )
        if s1 > 0 and s2 > 0:
            continue
        c1 = np.sign(c1) if s1 > 0 else c1
        c2 = np.sign(c2) if s2 > 0 else c2
        ww, wr = C.WHEEL_W * C.SIZE, C.WHEEL_R * C.SIZE
        stripe = np.array(
            [(-ww, wr * c1), (ww, wr * c1), (ww, wr * c2), (-ww, wr * c2)]
        )
        out.append((to_window(centre + stripe @ rot(wa).T), C.WHEEL_WHITE))
    for poly in C.HULL_POLYS:
        out.append(
            (to_window(pos + np.array(poly) * C.SIZE @ rot(ang).T), C.HULL_COLOR)
        )
    s, h = C.WINDOW_W / 40.0, C.WINDOW_H / 40.0
    out.append((np.array([(1000, 0), (1000, 5 * h), (0, 5 * h), (0, 0)]), (0, 0, 0)))

    def vertical(place, val, color):
        out.append(
            (
                np.array(
                    [
                        (place * s, h + h * val),
                        ((place + 1) * s, h + h * val),
                        ((place + 1) * s, h),
                        (place * s, h),
                    ]
                ),
                color,
            )
        )

    def horizontal(place, val, color):
        out.append(
            (
                np.array(
                    [
                        (place * s, 4 * h),
                        ((place + val) * s, 4 * h),
                        ((place + val) * s, 2 * h),
                        (place * s, 2 * h),
                    ]
                ),
                color,
            )
        )

    vertical(5, 0.02 * np.linalg.norm(hull_v), (255, 255, 255))
    for w in range(4):
        vertical(7 + w, 0.01 * float(car.wheel_omega[w]), C.ABS_COLORS[w])
    horizontal(20, -10.0 * steer, (0, 255, 0))
    horizontal(30, -0.8 * float(car.angular_velocity), (255, 0, 0))
    return out


def reference_frame(car, track, visited, t):
    centres = np.stack(
        np.meshgrid(np.arange(96) + 0.5, np.arange(96) + 0.5), -1
    ).reshape(-1, 2)
    img = np.zeros((96 * 96, 3))
    for poly, color in reference_polygons(car, track, visited, t):
        vp = poly * np.array([96 / 1000, 96 / 800])  # the window squeezed into 96x96
        lo, hi = vp.min(0), vp.max(0)
        if hi[0] < 0 or hi[1] < 0 or lo[0] > 96 or lo[1] > 96:
            continue
        img[Path(vp).contains_points(centres)] = color
    return img.reshape(96, 96, 3)[::-1]  # OpenGL rows start at the bottom


@pytest.fixture(scope="module")
def scene():
    track = jax.jit(T.sample_track)(jax.random.key(4))
    render = jax.jit(R.make_renderer())
    return track, render


def driving_car(track, tile, speed, slip, steer, phase):
    beta, x, y = (float(v) for v in np.asarray(track.points[tile, 1:4]))
    car = D.init_car(beta, x, y, settle=False)
    fwd = np.array([-math.sin(beta + slip), math.cos(beta + slip)])
    return car._replace(
        velocity=jnp.asarray(speed * fwd, jnp.float32),
        angular_velocity=jnp.float32(0.7),
        steer_angle=jnp.float32(steer),
        wheel_omega=jnp.asarray([30.0, -20.0, 250.0, 60.0], jnp.float32),
        wheel_phase=jnp.asarray(phase, jnp.float32),
    )


@pytest.mark.parametrize(
    "tile, speed, slip, steer, t",
    [
        (0, 0.0, 0.0, 0.0, 0.04),
        (40, 45.0, 0.3, 0.3, 3.0),
        (120, 20.0, -0.2, -0.42, 0.5),
    ],
)
def test_frame_matches_reference_rasterisation(scene, tile, speed, slip, steer, t):
    track, render = scene
    car = driving_car(track, tile, speed, slip, steer, [0.3, 2.0, 4.0, 5.5])
    visited = np.zeros(T.MAX_TILES, bool)
    visited[: tile + 2] = True
    ours = np.asarray(render(car, track, jnp.asarray(visited), jnp.float32(t)))
    ref = reference_frame(car, track, visited, t)
    agree = np.all(ours == ref, -1).mean()
    assert agree > 0.998, agree
    assert set(map(tuple, ours.reshape(-1, 3).astype(int))) <= set(
        map(tuple, ref.reshape(-1, 3).astype(int))
    ) | {(102, 102, 102)}


def test_frame_shows_car_road_and_bar(scene):
    track, render = scene
    car = driving_car(track, 10, 0.0, 0.0, 0.0, [4.0] * 4)
    frame = np.asarray(
        render(car, track, jnp.zeros(T.MAX_TILES, bool), jnp.float32(2.0))
    )
    assert tuple(frame[74, 47]) == C.HULL_COLOR  # the hull's middle sits below (48, 72)
    assert tuple(frame[50, 48]) in {
        (102 + c,) * 3 for c in C.ROAD_SHADES_GL
    }  # road ahead
    assert np.all(frame[90, 76:96] == 0)  # the indicator bar right of the yaw-rate bar
    camera_hull = jax.jit(R.make_renderer(camera="hull", supersample=2))
    soft = np.asarray(
        camera_hull(car, track, jnp.zeros(T.MAX_TILES, bool), jnp.float32(2.0))
    )
    assert soft.shape == (96, 96, 3) and len(
        np.unique(soft.reshape(-1, 3), axis=0)
    ) > len(np.unique(frame.reshape(-1, 3), axis=0))  # supersampling blends edges


def test_preprocessing_is_area_resize_scaled_and_swapped():
    rng = np.random.default_rng(0)
    frame = rng.integers(0, 256, (96, 96, 3)).astype(np.float32)
    # INTER_AREA by 96 -> 84 is exact block averaging after 7x nearest upsampling
    up = np.repeat(np.repeat(frame, 7, 0), 7, 1).reshape(84, 8, 84, 8, 3).mean((1, 3))
    hwc = np.asarray(R.preprocess(jnp.asarray(frame), "hwc"))
    assert np.allclose(hwc, np.round(up) / 255.0, atol=1e-6)
    najarro = np.asarray(R.preprocess(jnp.asarray(frame), "najarro"))
    assert np.array_equal(najarro, np.swapaxes(hwc, 0, 2))
    palm = np.asarray(R.preprocess(jnp.asarray(frame), "palm"))
    assert np.array_equal(palm, np.transpose(hwc, (2, 0, 1)))
    cv2 = pytest.importorskip("cv2")
    ref = cv2.resize(frame.astype(np.uint8), (84, 84), interpolation=cv2.INTER_AREA)
    assert np.array_equal(np.round(hwc * 255).astype(np.uint8), ref)

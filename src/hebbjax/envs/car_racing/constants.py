"""Constants of CarRacing-v0 (gym 0.17 ``envs/box2d/car_racing.py`` and ``car_dynamics.py``).

Najarro & Risi 2020 (paper 003, sec. 4) and Palm et al. (paper 004, sec. 4) run gym 0.17's
CarRacing-v0; every number here is copied from that source (identical in gymnasium 1.x, whose
differences are listed in ``env.py``). The car's mass properties are derived from its Box2D
fixtures exactly as Box2D's ``b2PolygonShape::ComputeMass`` does (density x area, centroid,
polar moment), so the rigid-body integrator in ``dynamics.py`` uses the reference's numbers.
"""

from __future__ import annotations

import math

import numpy as np

# --- world and track (car_racing.py) ---
STATE_W = STATE_H = 96
WINDOW_W, WINDOW_H = 1000, 800
SCALE = 6.0
TRACK_RAD = 900 / SCALE
PLAYFIELD = 2000 / SCALE
FPS = 50
DT = 1.0 / FPS
ZOOM = 2.7
TRACK_DETAIL_STEP = 21 / SCALE
TRACK_TURN_RATE = 0.31
TRACK_WIDTH = 40 / SCALE
BORDER = 8 / SCALE
BORDER_MIN_COUNT = 4
CHECKPOINTS = 12
TRACK_ITERATIONS = 2500  # the reference's ``no_freeze``
START_ALPHA = 2 * math.pi * (-0.5) / CHECKPOINTS
MAX_LAPS = 4  # the path stops once ``laps > 4``
GRASS_DIM = PLAYFIELD / 20.0

# --- reward (car_racing.py step) ---
TILE_REWARD = 1000.0  # split over the N tiles of a track
FRAME_REWARD = -0.1
OUT_OF_PLAYFIELD_REWARD = -100.0
MAX_STEPS = 1000  # gym's TimeLimit for CarRacing-v0
NEG_REWARD_LIMIT = 20  # Najarro & Risi: stop once more than 20 consecutive rewards < 0

# --- car (car_dynamics.py) ---
SIZE = 0.02
ENGINE_POWER = 100000000 * SIZE * SIZE
WHEEL_MOMENT_OF_INERTIA = 4000 * SIZE * SIZE
FRICTION_LIMIT = 1000000 * SIZE * SIZE
GRASS_FRICTION = 0.6  # friction limit factor off the road
FORCE_GAIN = (
    205000 * SIZE * SIZE
)  # the reference's "random coefficient" on slip velocities
WHEEL_R = 27
WHEEL_W = 14
WHEEL_RAD = WHEEL_R * SIZE
WHEELPOS = np.array([(-55, +80), (+55, +80), (-55, -82), (+55, -82)], np.float64) * SIZE
FRONT_WHEELS = np.array([True, True, False, False])
REAR_WHEELS = ~FRONT_WHEELS  # rear-wheel drive
HULL_POLYS = (
    [(-60, +130), (+60, +130), (+60, +110), (-60, +110)],
    [(-15, +120), (+15, +120), (+20, +20), (-20, 20)],
    [
        (+25, +20),
        (+50, -10),
        (+50, -40),
        (+20, -90),
        (-20, -90),
        (-50, -40),
        (-50, -10),
        (-25, +20),
    ],
    [(-50, -120), (+50, -120), (+50, -90), (-50, -90)],
)
WHEEL_POLY = [
    (-WHEEL_W, +WHEEL_R),
    (+WHEEL_W, +WHEEL_R),
    (+WHEEL_W, -WHEEL_R),
    (-WHEEL_W, -WHEEL_R),
]
HULL_DENSITY = 1.0
WHEEL_DENSITY = 0.1
STEER_LIMIT = 0.4  # revolute joint limits (rad)
STEER_GAIN = 50.0  # motorSpeed = sign(d) * min(50 |d|, 3)
STEER_MAX_SPEED = 3.0
GAS_RAMP = 0.1  # gas rises by at most 0.1 per step, drops at once
BRAKE_LOCK = 0.9  # brake >= 0.9 blocks the wheels
BRAKE_FORCE = 15.0  # rad/s per step at full brake
OMEGA_EPS = 5.0  # "small coef not to divide by zero"

# Box2D limits (b2Settings.h) that bind on a fast car: per-step translation and rotation.
MAX_TRANSLATION = 2.0
MAX_ROTATION = 0.5 * math.pi
POLYGON_RADIUS = 0.01  # b2_polygonRadius; two skins make the sensor-overlap margin
CONTACT_MARGIN = 2 * POLYGON_RADIUS

# --- colours, 0..255 as OpenGL stores gym 0.17's float colours (round to nearest) ---
BG_COLOR = (102, 204, 102)
GRASS_COLOR = (102, 230, 102)
ROAD_COLOR = (102, 102, 102)
ROAD_SHADES_GL = (0, 3, 5)  # 0.4 + 0.01 (i % 3) -> 102, 105, 107 (GL rounding)
ROAD_SHADES_GYMNASIUM = (
    0,
    2,
    5,
)  # gymnasium truncates 102 + 2.55 (i % 3) -> 102, 104, 107
BORDER_COLORS = ((255, 255, 255), (255, 0, 0))  # even tile index, odd
HULL_COLOR = (204, 0, 0)
WHEEL_COLOR = (0, 0, 0)
WHEEL_WHITE = (77, 77, 77)
INDICATOR_BG = (0, 0, 0)
SPEED_COLOR = (255, 255, 255)
ABS_COLORS = ((0, 0, 255), (0, 0, 255), (51, 0, 255), (51, 0, 255))
STEER_IND_COLOR = (0, 255, 0)
GYRO_COLOR = (255, 0, 0)


def polygon_mass(
    vertices: np.ndarray, density: float
) -> tuple[float, np.ndarray, float]:
    """Mass, centroid and moment about the centroid of a convex polygon (b2PolygonShape)."""
    v = np.asarray(vertices, np.float64)
    ref = v[0]
    area, center, inertia = 0.0, np.zeros(2), 0.0
    for k in range(1, len(v) - 1):
        e1, e2 = v[k] - ref, v[k + 1] - ref
        d = e1[0] * e2[1] - e1[1] * e2[0]
        tri = 0.5 * d
        area += tri
        center += tri * (e1 + e2) / 3.0
        intx2 = e1[0] ** 2 + e2[0] * e1[0] + e2[0] ** 2
        inty2 = e1[1] ** 2 + e2[1] * e1[1] + e2[1] ** 2
        inertia += (0.25 / 3.0 * d) * (intx2 + inty2)
    mass = density * abs(area)
    center = center / area
    inertia = density * abs(inertia) - mass * center @ center  # about the centroid
    return mass, center + ref, inertia


def _hull_mass() -> tuple[float, np.ndarray, float]:
    parts = [polygon_mass(np.array(p) * SIZE, HULL_DENSITY) for p in HULL_POLYS]
    mass = sum(m for m, _, _ in parts)
    center = sum(m * c for m, c, _ in parts) / mass
    inertia = sum(i + m * (c - center) @ (c - center) for m, c, i in parts)
    return mass, center, inertia


HULL_MASS, HULL_CENTER, HULL_INERTIA = _hull_mass()
WHEEL_MASS, _, WHEEL_INERTIA = polygon_mass(np.array(WHEEL_POLY) * SIZE, WHEEL_DENSITY)
CAR_MASS = HULL_MASS + 4 * WHEEL_MASS
# the rigid assembly (hull + wheels held by the revolute joints), in the hull's frame
CAR_CENTER = (HULL_MASS * HULL_CENTER + WHEEL_MASS * WHEELPOS.sum(0)) / CAR_MASS
CAR_INERTIA = float(
    HULL_INERTIA
    + HULL_MASS * (HULL_CENTER - CAR_CENTER) @ (HULL_CENTER - CAR_CENTER)
    + 4 * WHEEL_INERTIA
    + WHEEL_MASS * ((WHEELPOS - CAR_CENTER) ** 2).sum()
)

"""CarRacing-v0 from pixels in JAX (gym 0.17, as used by Najarro & Risi 2020 and Palm et al.).

``CarRacing`` is the gymnax environment; ``sample_track(key)`` draws a task's track and
``make_params(track, variation)`` builds its ``CarParams`` (variations of Palm et al. in
``VARIATIONS``). Submodules: ``constants`` (the reference's numbers), ``track`` (generation),
``dynamics`` (the car), ``render`` (the 96x96 frame and the 84x84 preprocessing), ``env``.
"""

from hebbjax.envs.car_racing.dynamics import CarState, init_car, step_car
from hebbjax.envs.car_racing.env import (
    VARIATIONS,
    CarEnvState,
    CarParams,
    CarRacing,
    make_params,
)
from hebbjax.envs.car_racing.render import make_renderer, preprocess
from hebbjax.envs.car_racing.track import (
    MAX_TILES,
    Track,
    build_track,
    sample_checkpoints,
    sample_track,
    track_from_checkpoints,
)

__all__ = [
    "MAX_TILES",
    "VARIATIONS",
    "CarEnvState",
    "CarParams",
    "CarRacing",
    "CarState",
    "Track",
    "build_track",
    "init_car",
    "make_params",
    "make_renderer",
    "preprocess",
    "sample_checkpoints",
    "sample_track",
    "step_car",
    "track_from_checkpoints",
]

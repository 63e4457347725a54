"""Training presets: named outer-loop settings a run starts from (``--preset``).

The reference outer loop (Wang et al. 2022 code, spec section 3.2) is ``paper``; ``small``
is a laptop-sized run that finishes in minutes; ``hour`` (maze tasks only) is the fastest
route to a high score found on this 2-core CPU (issue 16, ``benchmarks/time_to_quality``).
``TASK_PRESETS`` holds per-task changes to them (the ant, the car, the 9x9 maze's hour).
``hebbjax.config`` describes each preset in full; flags and config files override them.
"""

from __future__ import annotations

from typing import Any

from hebbjax.errors import ConfigError

_SMALL = dict(
    strategy="paper-cmaes",
    population=128,
    generations=400,
    schedule=((0, 8),),
    repeats=1,
    sigma0=0.05,
    validate_every=25,
    n_validation=256,
    validation_repeats=1,
    checkpoint_every=25,
)
PRESETS: dict[str, dict[str, Any]] = {
    "small": _SMALL,
    # the best outer loop found for an hour of this 2-core CPU (issue 16,
    # benchmarks/results/time_to_quality: maze9-paper-cmaes-p128-n8to64-smin0.02): the
    # small preset's start, then more mazes per generation as the genomes' differences
    # shrink (the paper's remedy) and a floor under the step size (at the plateau a
    # ranking on 8 mazes is mostly noise: fitness_noise_maze9.md); 6,000 generations are
    # about 60 minutes of the idle machine
    "hour": dict(
        _SMALL,
        strategy_kwargs={"std_min": 0.02},
        generations=6000,
        schedule=((0, 8), (1500, 16), (3000, 32), (5000, 64)),
        validate_every=50,
        n_validation=1024,
        checkpoint_every=50,
    ),
    "paper": dict(
        strategy="paper-cmaes",
        population=360,
        generations=15000,
        schedule=((0, 2), (4000, 4), (8000, 8)),
        repeats=4,
        sigma0=0.01,
        validate_every=100,
        n_validation=1024,
        validation_repeats=4,
        checkpoint_every=500,
    ),
}
# Najarro & Risi's outer loop (spec hebbian-ant-brax 1.4: --popsize 200 --sigma 0.1
# --generations 300; one task per generation, its lifetime holding every training morphology)
_NAJARRO = dict(
    strategy="najarro-es",
    sigma0=0.1,
    schedule=((0, 1),),
    repeats=1,
    validation_repeats=1,
    population=200,
    generations=300,
    validate_every=10,
    checkpoint_every=10,
)
#: the 9x9 maze's hour with sep-CMA-ES (issue 16, time_to_quality: maze9-hour-s*-r2r3):
#: rollout 3 is scored only when it reaches the goal within 40 steps to generation 1,500,
#: then within 25 (2.7 shortest paths) to 4,000, and ended there (``stop_at_cap``: the
#: steps after the cap cannot change the fitness; 1.05-1.39x per capped generation,
#: results/stop_at_cap.md): the cap pays for returning on a short path, which moves the
#: search from the explorer's region to the explore-then-return one (basins.md)
_MAZE9_CAPPED = (
    (0, 8, {"score_within": 40, "stop_at_cap": True}),
    (1500, 16, {"score_within": 25, "stop_at_cap": True}),
    (3000, 32, {"score_within": 25, "stop_at_cap": True}),
)
#: ... then 256 mazes per generation scored on rollouts 2 and 3 ((R2 + R3) / 2; the paper's
#: fitness is the mean of all three): rollout 2 returns whenever rollout 1 found the goal,
#: and scoring it makes rollout 1 find the goal faster, the same scores on 15-26% fewer
#: agent-steps than the paper's fitness there (seeds 2 and 4); 4,750 generations (33.3 M
#: lifetimes) filled about 60 minutes alone. The hour before that (the paper's fitness
#: at 256 mazes, 4,400 generations, 21.8 M lifetimes, 49-58 minutes): five seeds test
#: +0.495, +0.520, +0.749, +0.759, +0.763; the two low ones return on long paths (rollout
#: 3: 44-45 steps, the others' 22-24).
#: The search settles early in one of two regions: two seeds in seven return on long paths
#: (rollout 3 in 44-45 steps) and end near +0.5, the others at +0.77 (seed 0, the default,
#: is one of the two: test +0.550), and the kinds are told apart on validation by generation
#: 2,000 (-0.28 to -0.08 against +0.03 to +0.52 over ten runs). So the hour is the best of
#: two starts at 2,000 (``hebbjax.evolution.starts``; 7 minutes for the second) and ends at
#: 4,600 generations (28.4 M lifetimes; 30.9 M with the other start's) to stay within the hour
_MAZE9_HOUR = dict(
    strategy="sep-cma-es",
    generations=4600,
    schedule=(*_MAZE9_CAPPED, (4000, 256, {"rollout_weights": (0.0, 1.0, 1.0)})),
    validate_every=25,
    checkpoint_every=25,
    starts=2,
    select_at=2000,
)
#: the task options that make a 15x15 maze task train on ``maze9``'s mazes
_ON_9X9 = {"size": 9, "crowd": 0.30}
#: the 15x15 maze's hour: the 9x9 hour to 2026-12-07 inside the run (its phases train on
#: 9x9 mazes, the 256-maze one on the paper's fitness; validation scores 15x15
#: throughout), then 200 generations of 32 15x15 mazes (issue 16, time_to_quality:
#: maze9-hour-to15). The 9x9 hours' genomes that start near the 15x15 plateau (-0.14,
#: -0.22 on its test mazes) are on it within 65 generations there (-0.07 to -0.09 on
#: validation; the earlier curriculum took 2,400 generations), where an hour on 15x15 alone
#: ends at -1.2; a weak 9x9 draw stays below it (seed 0 here: -0.66 at 4,600 and after 640
#: more; results/time_to_quality/hour15_cli.md). The (R2 + R3) / 2 explorer is a worse
#: start (-0.270 against -0.160 on the 15x15 test mazes at 4,400, seed 4)
_MAZE15_HOUR = dict(
    _MAZE9_HOUR,
    starts=1,  # its validation scores 15x15 mazes: no yardstick for the 9x9 region
    select_at=0,
    generations=4600,
    schedule=(
        *((g, n, {**_ON_9X9, **options}) for g, n, options in _MAZE9_CAPPED),
        (4000, 256, _ON_9X9),
        (4400, 32),
    ),
)
#: Per-task changes to a preset, for tasks whose sets and lifetimes the maze values do not
#: fit: the ant's validation set is its one lifetime over the training morphologies, the car's
#: 64 tracks, and a lifetime costs 10^2-10^4 maze steps; and for the 9x9 and 15x15 mazes, whose hour
#: found its own outer loop and fitness. Flags and config files override them.
#: The ant's small preset is the recipe that walks on this 2-core CPU in about 40 minutes
#: (benchmarks/results/ant/ant_tables.md: 5.8 m on the default morphology, 4.2 m held out):
#: short spring-backend lifetimes, OpenAI-ES with Adam, weights drawn with std 0.1.
#: ``*_kwargs`` entries are merged under the run's own options; a model or strategy
#: option the chosen model or strategy does not take is left out.
TASK_PRESETS: dict[str, dict[str, dict[str, Any]]] = {
    "ant": {
        "small": dict(
            strategy="openai-es",
            sigma0=0.05,
            strategy_kwargs={"learning_rate": 0.02},
            schedule=((0, 1),),
            repeats=1,
            population=128,
            generations=200,
            validate_every=20,
            n_validation=1,
            validation_repeats=4,
            checkpoint_every=10,
            task_kwargs={"backend": "spring", "seconds": 5.0},
            model_kwargs={"init_scale": 0.1},
        ),
        "paper": dict(_NAJARRO, n_validation=1),
    },
    "car": {
        "small": dict(
            _NAJARRO,
            population=32,
            generations=80,
            validate_every=5,
            n_validation=8,
            checkpoint_every=5,
        ),
        "paper": dict(_NAJARRO, n_validation=64),
    },
    "maze9": {"small": {}, "hour": _MAZE9_HOUR, "paper": {}},
    "maze15": {"small": {}, "hour": _MAZE15_HOUR, "paper": {}},
}
# task name -> its TASK_PRESETS entry
TASK_PRESET_OF = {
    "maze9": "maze9",
    "maze15": "maze15",
    "maze": "maze15",
    "ant": "ant",
    "ant-damage": "ant",
    "ant-palm": "ant",
    "car": "car",
    "car-palm": "car",
}


def preset_values(preset: str, task: str) -> dict[str, Any]:
    """The settings ``--preset`` gives a run of ``task``: the preset, then the task's changes."""
    if preset not in PRESETS:
        raise ConfigError(
            f"unknown preset {preset!r}; valid presets: {', '.join(PRESETS)}"
        )
    family = TASK_PRESETS.get(TASK_PRESET_OF.get(task, ""), {})
    if family and preset not in family:
        raise ConfigError(
            f"preset {preset!r} is tuned for the maze tasks; valid presets for "
            f"{task!r}: {', '.join(p for p in PRESETS if p in family)}"
        )
    return {**PRESETS[preset], **family.get(preset, {})}

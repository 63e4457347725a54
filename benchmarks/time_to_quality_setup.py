"""What the time-to-quality experiments share (``benchmarks/time_to_quality.py``): ``exp``
builds one experiment's ``TrainConfig`` fields for DecPRNN(PostDN) in its Table-1 variant
(modulated_scale=1.0, r_slot=prev-reward; Wang et al. 2022, Table 1), and the outer loops
the experiments start from (the hour presets, sep-CMA-ES on 15x15, the 40-step cap)."""

from __future__ import annotations

from hebbjax.config import PRESETS, preset_values

TABLE1_MODEL = {"modulated_scale": 1.0}  # the April-2022 code of Table 1
TABLE1_TASK = {"r_slot": "prev-reward"}


def exp(task="maze9", strategy="paper-cmaes", population=128, mazes=8, repeats=1,
        sigma0=0.05, validate_every=None, n_validation=1024, model_kwargs=None,
        task_kwargs=None, strategy_kwargs=None, schedule=None, note="",
        **branch):  # fmt: skip
    lifetimes = population * mazes * repeats
    if validate_every is None:  # about every 0.1 M lifetimes (1 % spent validating)
        validate_every = max(5, round(100_000 / lifetimes / 5) * 5)
    return dict(
        task=task,
        model="decprnn-postdn",
        strategy=strategy,
        population=population,
        schedule=schedule or ((0, mazes),),
        repeats=repeats,
        sigma0=sigma0,
        validate_every=validate_every,
        n_validation=n_validation,
        checkpoint_every=validate_every,
        model_kwargs=TABLE1_MODEL | (model_kwargs or {}),
        task_kwargs=TABLE1_TASK | (task_kwargs or {}),
        strategy_kwargs=strategy_kwargs or {},
        note=note,
        **branch,
    )


#: what the ``hour`` preset changes in the small preset's outer loop (its other fields are
#: ``exp``'s defaults): the recipe measured by the ``*-n8to64-smin0.02`` experiments
HOUR = {
    k: PRESETS["hour"][k] for k in ("schedule", "strategy_kwargs", "validate_every")
}
#: the 9x9 ``--preset hour`` as its runs to 2026-12-07 ran it (the experiments start from
#: it): the capped phases, then 256 mazes on the paper's fitness, 4,400 generations
MAZE9_HOUR = preset_values("hour", "maze9") | dict(
    generations=4400,
    schedule=(
        (0, 8, {"score_within": 40, "stop_at_cap": True}),
        (1500, 16, {"score_within": 25, "stop_at_cap": True}),
        (3000, 32, {"score_within": 25, "stop_at_cap": True}),
        (4000, 256),
    ),
)


def _with_capped_phases(preset: dict, change) -> dict:
    """``preset`` with ``change(options)`` in place of each capped phase's task options
    (those with ``score_within``); the other phases as they are."""

    def phase(g, n, *opts):
        if opts and "score_within" in opts[0]:
            return (g, n, change(opts[0]))
        return (g, n, *opts)

    return preset | dict(schedule=tuple(phase(*p) for p in preset["schedule"]))


def with_late_cap(preset: dict, cap: int) -> dict:
    """``preset`` with rollout 3 capped at ``cap`` steps wherever it is capped at 25."""
    return _with_capped_phases(
        preset,
        lambda o: o | {"score_within": cap} if o["score_within"] == 25 else o,
    )


def with_stop_at_cap(preset: dict, stop: bool) -> dict:
    """``preset`` with its capped phases' ``stop_at_cap`` set to ``stop``."""
    return _with_capped_phases(
        preset,
        lambda o: (
            {k: v for k, v in o.items() if k != "stop_at_cap"}
            | ({"stop_at_cap": True} if stop else {})
        ),
    )


#: the preset as its runs before 2026-12-06's ``stop_at_cap`` ran it: rollout 3 stepped to
#: 200 under the cap (the same fitness, so the same run bit for bit, slower)
MAZE9_HOUR_R3_FULL = with_stop_at_cap(MAZE9_HOUR, False)
#: the same until 2026-12-06: rollout 3 capped at 40 steps to generation 4,000
MAZE9_HOUR_CAP40 = with_late_cap(MAZE9_HOUR_R3_FULL, 40)
#: the fields of a preset an experiment runs it with (``exp``'s others are the small preset's)
RUN_FIELDS = ("strategy", "strategy_kwargs", "schedule", "validate_every")


#: the fitness (R2 + R3) / 2: rollout 2 scored beside rollout 3
R2R3 = {"rollout_weights": (0.0, 1.0, 1.0)}
#: the 9x9 hour from 2026-12-07 (``--preset hour``): MAZE9_HOUR with (R2 + R3) / 2 in its
#: 256-maze phase, 4,750 generations
MAZE9_HOUR_R2R3 = MAZE9_HOUR | dict(
    generations=4750,
    schedule=(*MAZE9_HOUR["schedule"][:-1], (*MAZE9_HOUR["schedule"][-1][:2], R2R3)),
)


def preset_run(preset: dict) -> dict:
    """The ``exp`` arguments that run ``preset`` (e.g. ``MAZE9_HOUR``) as it is."""
    return {k: preset[k] for k in RUN_FIELDS}


#: a curriculum's 15x15 phase: sep-CMA-ES with the hour's step-size floor
SEP_ON_15 = dict(
    task="maze15", strategy="sep-cma-es", strategy_kwargs=HOUR["strategy_kwargs"]
)
#: the sep-CMA-ES hour with rollout 3 scored only within 40 steps (``score_within``)
WITHIN40 = dict(strategy="sep-cma-es", **HOUR, task_kwargs={"score_within": 40})

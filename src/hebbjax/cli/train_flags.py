"""The flags of ``hebbjax train`` and the ``TrainConfig`` fields they set; each flag's help
names its default under every preset (``--help``)."""

from __future__ import annotations

import argparse
import os
from typing import Any

from hebbjax.cli.common import (
    UsageError,
    add_distributed_arguments,
    finite_positive_float,
    parse_options,
    positive_int,
    schedule_json,
)
from hebbjax.config import LOGGERS, PRESETS, TASK_PRESETS, TrainConfig

# flag -> TrainConfig field
FIELDS = {
    "task": "task",
    "model": "model",
    "strategy": "strategy",
    "population": "population",
    "generations": "generations",
    "seed": "seed",
    "sigma0": "sigma0",
    "repeats": "repeats",
    "validate_every": "validate_every",
    "n_validation": "n_validation",
    "validation_repeats": "validation_repeats",
    "checkpoint_every": "checkpoint_every",
    "init": "init",
    "starts": "starts",
    "select_at": "select_at",
}


def _default(field: str) -> str:
    """Help text naming a field's default under each preset."""
    values = {name: preset.get(field) for name, preset in PRESETS.items()}
    if all(v is None for v in values.values()):
        default = TrainConfig.__dataclass_fields__[field].default
        return f"default {default}"
    text = "default " + ", ".join(f"{v} (--preset {p})" for p, v in values.items())
    for family, presets in TASK_PRESETS.items():
        own = [f"{v[field]} ({p})" for p, v in presets.items() if field in v]
        if own:
            text += f"; {family} tasks " + ", ".join(own)
    return text


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--task", help="a task name ('hebbjax tasks'); default maze")
    p.add_argument(
        "--model", help="a model name ('hebbjax models'); default decprnn-postdn"
    )
    p.add_argument(
        "--strategy",
        help=f"an outer loop ('hebbjax strategies'); {_default('strategy')}",
    )
    p.add_argument(
        "--preset",
        choices=list(PRESETS),
        help="small: minutes on a laptop (default); hour: the best score found for an "
        "hour of a 2-core CPU (maze tasks); paper: the reference schedule",
    )
    p.add_argument(
        "--config",
        metavar="FILE",
        help="a run config (.json or .toml, the schema of a run's config.json); "
        "flags override it",
    )
    p.add_argument("--population", type=positive_int, help=_default("population"))
    p.add_argument("--generations", type=positive_int, help=_default("generations"))
    p.add_argument("--seed", type=int, help="default 0")
    p.add_argument(
        "--starts",
        type=positive_int,
        help="best of N starts: N searches (seeds seed .. seed+N-1) to --select-at, "
        "then the one scoring best on validation goes on alone (default 1; --preset "
        "hour on 9x9: 2, kept at generation 2,000)",
    )
    p.add_argument(
        "--select-at",
        type=positive_int,
        metavar="GENERATION",
        help="with --starts N: the generation at which the best start is kept",
    )
    p.add_argument(
        "--sigma0",
        type=finite_positive_float,
        help=f"initial step size; {_default('sigma0')}",
    )
    p.add_argument(
        "--repeats",
        type=positive_int,
        help=f"lifetimes per task and individual; {_default('repeats')}",
    )
    p.add_argument(
        "--tasks-per-gen",
        type=positive_int,
        help="tasks per generation, constant: replaces the schedule (presets: 8 "
        "(small); 8, 16 from generation 1,500, 32 from 3,000, 64 from 5,000 (hour; 9x9: "
        "8, 16, 32 capped at 40 then 25 steps, 256 from 4,000 scored on rollouts 2 "
        "and 3; 15x15: those on 9x9 mazes, 256 on the paper's fitness, "
        "then 32 from 4,400); 2, 4 from 4,000, 8 from 8,000 "
        "(paper); 1 for the ant and car tasks)",
    )
    p.add_argument(
        "--schedule",
        type=schedule_json(),
        help="the schedule as JSON: [[first generation, tasks], ...], an entry's task "
        "options third, e.g. '[[0, 8, {\"score_within\": 40}], [4000, 256]]'",
    )
    p.add_argument(
        "--strategy-schedule",
        type=schedule_json("strategy_schedule"),
        help="later outer loops as JSON: [[first generation, strategy, {options}], "
        "...]; each starts at the current mean, its step size options' sigma0 "
        "(default --sigma0), its population options' population (default "
        '--population), e.g. \'[[4300, "openai-es", {"sigma0": 0.02, '
        '"learning_rate": 0.002}]]\'; {"continue": true} keeps the strategy and its '
        'state and changes what the options name: \'[[4000, "sep-cma-es", '
        '{"continue": true, "population": 64}]]\'',
    )
    p.add_argument(
        "--validate-every", type=positive_int, help=_default("validate_every")
    )
    p.add_argument(
        "--n-validation",
        type=positive_int,
        help=f"validation tasks used; {_default('n_validation')}",
    )
    p.add_argument(
        "--validation-repeats",
        type=positive_int,
        help=f"lifetimes per validation task; {_default('validation_repeats')}",
    )
    p.add_argument(
        "--checkpoint-every", type=positive_int, help=_default("checkpoint_every")
    )
    p.add_argument(
        "--init",
        metavar="RUN_OR_GENOME",
        help="start the search from a genome: a run directory (its final mean genome), "
        "a genome file (.npz named tensors, .npy the reference's flat layout) or "
        "paper:decprnn-postdn; e.g. a 9x9 run to begin 15x15 (a curriculum). The model "
        "must be the genome's; the strategy starts fresh (--sigma0)",
    )
    p.add_argument(
        "--model-opt",
        action="append",
        metavar="KEY=VALUE",
        help="model option, e.g. hidden=32, modulated_scale=1.0, rule=abcd "
        "('hebbjax models --options NAME' lists them)",
    )
    p.add_argument(
        "--task-opt",
        action="append",
        metavar="KEY=VALUE",
        help="task option, e.g. n_rollouts=8 ('hebbjax tasks --options NAME')",
    )
    p.add_argument(
        "--strategy-opt",
        action="append",
        metavar="KEY=VALUE",
        help="strategy option, e.g. c_cov=0.05 ('hebbjax strategies --options NAME')",
    )
    p.add_argument(
        "--log",
        action="append",
        metavar="WRITER",
        help=f"also write metrics as {', '.join(LOGGERS)} (repeatable or "
        "comma-separated); metrics.jsonl is always written",
    )
    p.add_argument(
        "--out", default="runs/default", help="run directory (default %(default)s)"
    )
    p.add_argument("--resume", action="store_true", help="continue the run in --out")
    p.add_argument("--quiet", action="store_true", help="no progress output")
    p.add_argument(
        "--progress-every",
        type=positive_int,
        default=10,
        help="outside a terminal, a progress line every N generations (default %(default)s)",
    )
    add_distributed_arguments(p)
    p.add_argument(
        "--no-compile-cache",
        action="store_true",
        help="do not use the persistent JAX compilation cache (~/.cache/hebbjax/jax)",
    )


def _loggers(values: list[str] | None) -> tuple[str, ...] | None:
    if not values:
        return None
    names = tuple(dict.fromkeys(v.strip() for item in values for v in item.split(",")))
    unknown = [n for n in names if n not in LOGGERS]
    if unknown:
        raise UsageError(
            f"unknown --log writer(s) {unknown}; valid: {', '.join(LOGGERS)}"
        )
    return names


def flag_values(args: argparse.Namespace) -> dict[str, Any]:
    """The ``TrainConfig`` fields the flags set (those given)."""
    values = {field: getattr(args, flag) for flag, field in FIELDS.items()}
    if args.tasks_per_gen and args.schedule:
        raise UsageError("give --tasks-per-gen or --schedule, not both")
    if args.tasks_per_gen:
        values["schedule"] = ((0, args.tasks_per_gen),)
    if args.schedule:
        values["schedule"] = args.schedule
    if args.strategy_schedule is not None:
        values["strategy_schedule"] = args.strategy_schedule
    for flag, field in (
        ("model_opt", "model_kwargs"),
        ("task_opt", "task_kwargs"),
        ("strategy_opt", "strategy_kwargs"),
    ):
        opts = getattr(args, flag)
        if opts:
            values[field] = parse_options(opts, "--" + flag.replace("_", "-"))
    values["loggers"] = _loggers(args.log)
    if args.plugins:  # recorded so eval --run and --resume import them again
        values["plugins"] = tuple(
            os.path.abspath(p) if p.endswith(".py") else p for p in args.plugins
        )
    return {k: v for k, v in values.items() if v is not None}

"""``hebbjax train``: evolve a model on a task (Wang et al. 2022's outer loop by default).

Settings come from, in increasing priority: the preset (``--preset small|hour|paper``), a config
file (``--config run.json`` or ``.toml``, the schema of the ``config.json`` every run writes)
and the flags. ``--init`` starts the search from another run's genome (a curriculum). ``--resume`` continues the run in ``--out`` as it was configured: only
``--generations`` (to extend it) and how it reports may change.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
from pathlib import Path
from typing import Any

from hebbjax.cli.common import (
    UsageError,
    add_distributed_arguments,
    check_name,
    finite_positive_float,
    parse_options,
    positive_int,
    registry,
    schedule_json,
    start_distributed,
)
from hebbjax.config import (
    LOGGERS,
    PRESETS,
    TASK_PRESETS,
    TrainConfig,
    preset_values,
    read_config_file,
)
from hebbjax.options import check_options

HELP = "evolve a model on a task"
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
        type=schedule_json,
        help="the schedule as JSON: [[first generation, tasks], ...], an entry's task "
        "options third, e.g. '[[0, 8, {\"score_within\": 40}], [4000, 256]]'",
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


def _flag_values(args: argparse.Namespace) -> dict[str, Any]:
    values = {field: getattr(args, flag) for flag, field in FIELDS.items()}
    if args.tasks_per_gen and args.schedule:
        raise UsageError("give --tasks-per-gen or --schedule, not both")
    if args.tasks_per_gen:
        values["schedule"] = ((0, args.tasks_per_gen),)
    if args.schedule:
        values["schedule"] = args.schedule
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


def _never_started(out: Path) -> bool:
    """``out`` is a directory holding only what a run leaves before its first file
    (its lock, temporary files of a write that was killed)."""
    from hebbjax.evolution.run_files import LOCK

    if not out.is_dir():
        return False
    return all(p.name == LOCK or p.name.endswith(".tmp") for p in out.iterdir())


def build_config(args: argparse.Namespace) -> TrainConfig:
    """The run's ``TrainConfig`` from preset, config file and flags (or the saved run)."""
    flags = _flag_values(args)
    out = Path(args.out)
    if args.resume:
        from hebbjax.evolution.run_files import CONFIG

        if not (out / CONFIG).is_file():
            if not _never_started(out):
                raise UsageError(f"nothing to resume in {out} (no {CONFIG})")
            # killed before its config was saved: start the run the flags describe
            print(f"no run was saved in {out} yet: starting it", file=sys.stderr)
            args.resume = False
            return build_config(args)
        if args.config or args.preset or args.init:
            raise UsageError(
                "--resume continues the run as saved; drop --config/--preset/--init"
            )
        saved = TrainConfig.from_file(out / CONFIG)
        # the model/task/strategy options given again are merged over the saved ones
        for field in ("model_kwargs", "task_kwargs", "strategy_kwargs"):
            if field in flags:
                flags[field] = {**getattr(saved, field), **flags[field]}
        return TrainConfig.from_dict({**saved.__dict__, **flags})
    base = read_config_file(args.config) if args.config else {}
    preset = args.preset or base.get("preset") or "small"
    task = flags.get("task") or base.get("task") or TrainConfig.task
    defaults = preset_values(preset, task)  # an unknown preset: a ConfigError, exit 2
    # the preset (with the task's changes) fills what the file leaves unset; flags override
    values = {**defaults, **base, "preset": preset, **flags}
    for field in ("model_kwargs", "strategy_kwargs", "task_kwargs"):
        preset_options = defaults.get(field, {})
        kind = field.removesuffix("_kwargs")
        name = values.get(kind, getattr(TrainConfig, kind))
        if kind == "strategy":  # tuned for the preset's own strategy: all or none
            preset_options = preset_options if name == defaults.get("strategy") else {}
        elif kind != "task":  # the task is the preset's own
            preset_options = _accepted_by(kind, name, preset_options)
        values[field] = {
            **preset_options,
            **base.get(field, {}),
            **flags.get(field, {}),
        }
    return TrainConfig.from_dict(values)


def _accepted_by(kind: str, name: str, options: dict[str, Any]) -> dict[str, Any]:
    """The preset's ``options`` that the chosen model or strategy takes (a preset's
    ``init_scale`` or ``learning_rate`` is dropped for one that has none)."""
    from hebbjax.options import accepted

    if not options:
        return {}
    try:
        params, _ = accepted(registry(kind).get(name))
    except ValueError:
        return options  # an unknown name: check_config reports it
    return {k: v for k, v in options.items() if k in params}


def check_config(config: TrainConfig) -> None:
    """Names and options of a config against the registries (a ``UsageError`` or
    ``ConfigError`` names the problem and the valid choices)."""
    for kind, name in (
        ("task", config.task),
        ("model", config.model),
        ("strategy", config.strategy),
    ):
        check_name(kind, name)
    for kind, options, fixed in (
        ("task", config.task_kwargs, ("name",)),
        ("model", config.model_kwargs, ("n_in", "n_out")),
        (
            "strategy",
            config.strategy_kwargs,
            ("population_size", "solution", "std_init"),
        ),
    ):
        name = getattr(config, kind)
        check_options(registry(kind).get(name), options, f"{kind} option", fixed)


class _StopOnSignal:
    """SIGINT / SIGTERM ask the run to write a checkpoint and stop after the current
    generation; a second signal stops at once."""

    def __init__(self):
        self.signal: int | None = None
        self.saved: dict[int, Any] = {}

    def __enter__(self) -> _StopOnSignal:
        for sig in (signal.SIGINT, signal.SIGTERM):
            self.saved[sig] = signal.signal(sig, self._handle)
        return self

    def _handle(self, signum, frame) -> None:
        if self.signal is not None:
            raise KeyboardInterrupt
        self.signal = signum

    def __exit__(self, *exc: Any) -> None:
        for sig, handler in self.saved.items():
            signal.signal(sig, handler)

    def __call__(self) -> bool:
        return self.signal is not None


def run(args: argparse.Namespace) -> int:
    from hebbjax.cli.common import enable_compile_cache

    # jax.distributed must start before anything touches JAX's devices
    writer = start_distributed(args)
    config = build_config(args)
    check_config(config)
    enable_compile_cache(not args.no_compile_cache)
    from hebbjax.cli.progress import Progress
    from hebbjax.evolution.starts import generations_done
    from hebbjax.evolution.train import train

    out = Path(args.out)
    done_before = generations_done(out, config) if args.resume else 0
    with Progress(
        config.total_generations,
        done_before,
        args.progress_every,
        quiet=args.quiet or not writer,
    ) as bar:
        bar.print(
            f"hebbjax train task={config.task} model={config.model} "
            f"strategy={config.strategy} population={config.population} "
            f"generations={config.generations} -> {out}"
            + (
                f" (best of {config.starts} starts at generation {config.select_at})"
                if config.starts > 1
                else ""
            )
        )
        with _StopOnSignal() as stop:
            try:
                result = train(
                    config, out, resume=args.resume, progress_fn=bar, stop=stop
                )
            except OSError as err:
                raise UsageError(
                    f"cannot write the run in {out}: {err.strerror or err} "
                    f"({getattr(err, 'filename', None) or 'a run file'}); the last "
                    "checkpoint is intact: continue with --resume"
                ) from None
    if not writer:
        return 0
    if result.interrupted:
        done = result.history[-1]["generation"] + 1 if result.history else 0
        print(
            f"interrupted at generation {done}; checkpoint written; continue with: "
            f"hebbjax train --out {out} --resume",
            file=sys.stderr,
        )
        return 128 + (stop.signal or signal.SIGINT)
    best = "-" if result.best_score == float("-inf") else f"{result.best_score:+.3f}"
    print(
        f"done: best validation score {best} at generation {result.best_generation}; "
        f"run saved in {out}",
        file=__import__("sys").stderr,
    )
    return 0

"""``hebbjax train``: evolve a model on a task (Wang et al. 2022's outer loop by default).

Settings come from, in increasing priority: the preset (``--preset small|hour|paper``), a config
file (``--config run.json`` or ``.toml``, the schema of the ``config.json`` every run writes)
and the flags. ``--init`` starts the search from another run's genome (a curriculum). ``--resume`` continues the run in ``--out`` as it was configured: only
``--generations`` (to extend it) and how it reports may change.
"""

from __future__ import annotations

import argparse
import signal
import sys
from pathlib import Path
from typing import Any

from hebbjax.cli.common import (
    BUILT_OPTIONS,
    UsageError,
    check_kind_options,
    check_name,
    registry,
    start_distributed,
)
from hebbjax.cli.train_flags import add_arguments, flag_values
from hebbjax.config import (
    TrainConfig,
    preset_values,
    read_config_file,
)
from hebbjax.options import check_options

__all__ = ["HELP", "add_arguments", "build_config", "check_config", "run"]

HELP = "evolve a model on a task"


def _never_started(out: Path) -> bool:
    """``out`` is a directory holding only what a run leaves before its first file
    (its lock, temporary files of a write that was killed)."""
    from hebbjax.evolution.run_files import LOCK

    if not out.is_dir():
        return False
    return all(p.name == LOCK or p.name.endswith(".tmp") for p in out.iterdir())


def build_config(args: argparse.Namespace) -> TrainConfig:
    """The run's ``TrainConfig`` from preset, config file and flags (or the saved run)."""
    flags = flag_values(args)
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
    check_kind_options("task", config.task, config.task_kwargs)
    check_kind_options("model", config.model, config.model_kwargs)
    check_options(  # the run's --sigma0 sets std_init
        registry("strategy").get(config.strategy),
        config.strategy_kwargs,
        "strategy option",
        (*BUILT_OPTIONS["strategy"], "std_init"),
    )


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

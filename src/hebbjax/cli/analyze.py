"""``hebbjax analyze NAME``: the papers' analyses of a run's genome or a genome file.

``hebbjax analyze NAME --run RUN [--run RUN ...]`` or ``hebbjax analyze NAME --genome
paper:decprnn-postdn``; each analysis writes ``NAME.png`` and the plotted data ``NAME.json``
into the (first) run's directory, ``./hebbjax-figures`` for a genome file, or ``--out``. The
analyses are ``hebbjax.analysis.ANALYSES`` (listed in ``--help``); the computing is theirs,
this module only turns strings into objects and prints.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from hebbjax.cli.common import (
    UsageError,
    add_genome_format_argument,
    check_kind_options,
    parse_options,
    positive_int,
)

HELP = "the papers' analyses of a genome (traces, freezing, ...)"
ANT_REPEATS = {"freeze": 10, "actuators": 10, "zeroing": 10, "distance": 100}
MULTI = ("rollouts", "ood")  # analyses that compare several genomes
# option -> the analyses that use it
SPECIFIC = {
    "n_rollouts": ("rollouts", "trajectories"),
    "every": ("memory", "attractors"),
    "method": ("memory",),
    "freeze_steps": ("freeze",),
    "start": ("actuators",),
    "stop": ("actuators",),
    "value": ("actuators",),
    "at": ("zeroing",),
    "fraction": ("zeroing",),
    "after": ("zeroing",),
    "random_baseline": ("attractors",),
    "window": ("distance",),
    "tolerance": ("distance",),
    "threshold": ("distance",),
}


def _epilog() -> str:
    from hebbjax.analysis import ANALYSES

    width = max(len(n) for n in ANALYSES)
    lines = ["analyses (NAME):"]
    for name, a in ANALYSES.items():
        lines.append(f"  {name:<{width}}  {a.help} [{a.paper}]")
    lines += [
        "",
        "examples:",
        "  hebbjax analyze rollouts --genome paper:decprnn-postdn --n-rollouts 3 8",
        "  hebbjax analyze ood --genome paper:decprnn-postdn --n-tasks 512",
        "  hebbjax analyze trajectories --genome paper:decprnn-postdn "
        "--task maze9 --task maze15 --task maze21",
        "  hebbjax analyze freeze --run runs/ant --task-opt seconds=20",
    ]
    return "\n".join(lines)


def add_arguments(p: argparse.ArgumentParser) -> None:
    from hebbjax.analysis import ANALYSES

    p.formatter_class = argparse.RawDescriptionHelpFormatter
    p.epilog = _epilog()
    p.add_argument("name", metavar="NAME", help="one of: " + ", ".join(ANALYSES))
    src = p.add_argument_group("what to analyse")
    src.add_argument("--run", action="append", help="a run directory (repeatable)")
    src.add_argument("--which", default="best", choices=["best", "mean"],
                     help="a run's best-by-validation or final mean genome")  # fmt: skip
    src.add_argument("--genome", help="a genome file or paper:decprnn-postdn")
    src.add_argument("--model", help="with --genome: the model name")
    src.add_argument("--model-opt", action="append", metavar="KEY=VALUE",
                     help="model option; with --run, over the run's own (e.g. "
                     "plastic_form=direct to read a factored run's weights)")  # fmt: skip
    add_genome_format_argument(src)
    src.add_argument("--trained-on", metavar="TASK",
                     help="with a genome file: the task it was trained on (default "
                     "its packaged task, else maze)")  # fmt: skip
    src.add_argument(
        "--task",
        action="append",
        help="task(s): the panels (rollouts, trajectories), the OOD tasks (ood), "
        "else one task; default the genome's training task",
    )
    src.add_argument("--task-opt", action="append", metavar="KEY=VALUE",
                     help="task option for every task, e.g. seconds=20")  # fmt: skip
    src.add_argument("--set", action="append",
                     help="task set(s) (default test; the ant: every variant:NAME)")  # fmt: skip
    src.add_argument("--n-tasks", type=positive_int, help="first N tasks of the set")
    src.add_argument("--repeats", type=positive_int,
                     help="lifetimes per task (default 1; ant analyses 10, distance 100)")  # fmt: skip
    src.add_argument("--seed", type=int, default=0, help="lifetime keys (default 0)")
    src.add_argument("--label", action="append",
                     help="legend name of each genome, in order: the runs, then "
                     "--genome (repeatable)")  # fmt: skip
    out = p.add_argument_group("output")
    out.add_argument("--out", help="folder for NAME.png and NAME.json")
    out.add_argument("--name-stem", dest="stem", help="file stem (default NAME)")
    out.add_argument("--title", help="figure title (default: says what was run)")
    opt = p.add_argument_group("options of single analyses")
    opt.add_argument("--n-rollouts", type=positive_int, nargs="+",
                     help="rollouts, trajectories: each lifetime length, e.g. 3 8")  # fmt: skip
    opt.add_argument("--every", type=positive_int,
                     help="memory (default 4), attractors (default 1): trace every k steps")  # fmt: skip
    opt.add_argument("--method", choices=["tsne", "pca"], help="memory: default tsne")
    opt.add_argument("--freeze-steps", type=int, nargs="+",
                     help="freeze: steps t (default 0 10 20 30 40 50 60 80 100 150 200)")  # fmt: skip
    opt.add_argument("--start", type=int, help="actuators: first frozen step (300)")
    opt.add_argument("--stop", type=int, help="actuators: end of the freeze (400)")
    opt.add_argument("--value", type=float, help="actuators: the action held (1.0)")
    opt.add_argument("--at", type=int, help="zeroing: the step (default 300)")
    opt.add_argument("--fraction", type=float, help="zeroing: share zeroed (1/3)")
    opt.add_argument(
        "--after", type=int, help="zeroing: weights shown N steps later (10)"
    )
    opt.add_argument("--random-baseline", action="store_true", default=None,
                     help="attractors: also a random genome's lifetime")  # fmt: skip
    opt.add_argument("--window", type=positive_int,
                     help="distance: steps between monotonicity samples (50)")  # fmt: skip
    opt.add_argument("--tolerance", type=float,
                     help="distance: allowed backward x drift in m (0)")  # fmt: skip
    opt.add_argument("--threshold", type=float,
                     help="distance: solved threshold in progress units (100)")  # fmt: skip


def _check(args: argparse.Namespace) -> None:
    from hebbjax.analysis import ANALYSES

    if args.name not in ANALYSES:
        raise UsageError(
            f"unknown analysis {args.name!r}; valid analyses: {', '.join(ANALYSES)}"
        )
    for option, users in SPECIFIC.items():
        if getattr(args, option) is not None and args.name not in users:
            flag = "--" + option.replace("_", "-")
            raise UsageError(
                f"{flag} is an option of {', '.join(users)}, not {args.name}"
            )
    if not args.run and not args.genome:
        raise UsageError("give --run DIR (repeatable) or --genome FILE")
    for flag, value in (("--model", args.model), ("--trained-on", args.trained_on)):
        if value and not args.genome:
            raise UsageError(f"{flag} goes with --genome (a run knows its own)")
    n = len(args.run or []) + bool(args.genome)
    if n > 1 and args.name not in MULTI:
        raise UsageError(
            f"{args.name} analyses one genome; several only for {', '.join(MULTI)}"
        )


def _subjects(args: argparse.Namespace) -> list[Any]:
    from hebbjax.analysis.sources import from_genome, from_run
    from hebbjax.cli.common import load_plugins
    from hebbjax.config import TrainConfig
    from hebbjax.evolution.run_files import CONFIG

    subjects = []
    options = parse_options(args.model_opt, "--model-opt")
    for run_dir in args.run or []:
        if not (Path(run_dir) / CONFIG).is_file():
            raise UsageError(f"no hebbjax run in {run_dir} (missing {CONFIG})")
        config = TrainConfig.from_file(Path(run_dir) / CONFIG)
        load_plugins(config.plugins, False)
        check_kind_options("model", config.model, options)
        subjects.append(from_run(run_dir, args.which, model_kwargs=options))
    if args.genome:
        subjects.append(
            from_genome(
                args.genome, args.model, args.trained_on, options, args.genome_format
            )
        )
    if args.label:
        if len(args.label) != len(subjects):
            raise UsageError(
                f"{len(args.label)} --label for {len(subjects)} genome(s); give one each"
            )
        subjects = [
            s._replace(label=a) for s, a in zip(subjects, args.label, strict=True)
        ]
    return subjects


def _tasks(args, subject, default: list[str] | None = None) -> list[Any]:
    from hebbjax.analysis.sources import task_for

    overrides = parse_options(args.task_opt, "--task-opt")
    names = args.task or default or [subject.task_name]
    lengths = args.n_rollouts or [None]
    out = []
    for name in names:
        for n in lengths:
            extra = {} if n is None else dict(n_rollouts=n)
            out.append(task_for(subject, name, **(overrides | extra)))
    return out


def _one_task(args, subject) -> Any:
    if args.task and len(args.task) > 1:
        raise UsageError(f"{args.name} runs on one task; got {len(args.task)}")
    return _tasks(args, subject)[0]


def _set(args) -> str:
    if args.set and len(args.set) > 1:
        raise UsageError("this analysis takes one --set")
    return args.set[0] if args.set else "test"


def _given(**kw: Any) -> dict[str, Any]:
    return {k: v for k, v in kw.items() if v is not None}


def _compute(args, subjects) -> tuple[dict, str | None]:
    """The analysis' data and an optional text table to print."""
    import jax

    from hebbjax.analysis import functions

    compute, _ = functions(args.name)
    key = jax.random.key(args.seed)
    first = subjects[0]
    name = args.name
    if name == "rollouts":
        tasks = _tasks(args, first)
        common = dict(n_tasks=args.n_tasks, repeats=args.repeats or 1)
        return compute(subjects, tasks, _set(args), key, **common), None
    if name == "ood":
        from hebbjax.analysis.ood import format_ood_table, ood_plan

        plan = ood_plan(subjects, args.task)
        options = parse_options(args.task_opt, "--task-opt")
        data = compute(plan, _set(args), key, n_tasks=args.n_tasks,
                       repeats=args.repeats or 1, task_options=options)  # fmt: skip
        return data, format_ood_table(data)
    if name == "trajectories":
        return compute(first, _tasks(args, first), _set(args), key,
                       n_tasks=args.n_tasks or 3), None  # fmt: skip
    if name == "memory":
        data = compute(first, _one_task(args, first), _set(args), key,
                       n_tasks=args.n_tasks or 6, every=args.every or 4,
                       method=args.method or "tsne", seed=args.seed)  # fmt: skip
        return data, None
    if name == "navigation":
        from hebbjax.analysis.navigation import verdict

        data = compute(first, _one_task(args, first), _set(args), key,
                       n_tasks=args.n_tasks or 512)  # fmt: skip
        return data, verdict(data)
    if name == "reset":
        return compute(first, _one_task(args, first), _set(args), key,
                       n_tasks=args.n_tasks, repeats=args.repeats or 1), None  # fmt: skip
    task = _one_task(args, first)
    repeats = args.repeats or ANT_REPEATS.get(name, 1)
    if name == "freeze":
        kw = _given(freeze_steps=args.freeze_steps)
        return compute(first, task, args.set, key, repeats=repeats,
                       n_tasks=args.n_tasks, **kw), None  # fmt: skip
    if name == "actuators":
        kw = _given(start=args.start, stop=args.stop, value=args.value)
        return compute(first, task, args.set, key, repeats=repeats,
                       n_tasks=args.n_tasks, **kw), None  # fmt: skip
    if name == "zeroing":
        kw = _given(at=args.at, fraction=args.fraction, after=args.after)
        return compute(first, task, args.set, key, repeats=repeats,
                       n_tasks=args.n_tasks, **kw), None  # fmt: skip
    if name == "attractors":
        random = None
        if args.random_baseline:
            random = first.model.init_params(jax.random.key(args.seed + 1))
        return compute(first, task, args.set, key, every=args.every or 1,
                       random_params=random), None  # fmt: skip
    from hebbjax.analysis.distance import format_distance_table

    kw = _given(window=args.window, tolerance_m=args.tolerance,
                threshold_units=args.threshold)  # fmt: skip
    data = compute(
        first, task, args.set, key, repeats=repeats, n_tasks=args.n_tasks, **kw
    )
    return data, format_distance_table(data)


def run(args: argparse.Namespace) -> int:
    _check(args)
    subjects = _subjects(args)
    data, table = _compute(args, subjects)
    from hebbjax.analysis import functions
    from hebbjax.analysis.figures import save

    _, draw = functions(args.name)
    fig = draw(data, args.title)
    if args.out:
        out = Path(args.out)
    elif args.run:
        out = Path(args.run[0])
    else:
        out = Path("hebbjax-figures")
    png, js = save(fig, data, out, args.stem or args.name)
    if table:
        print(table)
    print(f"wrote {png} and {js}")
    return 0

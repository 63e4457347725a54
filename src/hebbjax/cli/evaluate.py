"""``hebbjax eval``: evaluate a run's genome, or a genome file, on a task's sets.

Every task names its sets (``hebbjax tasks``): ``test`` and ``validation`` always, the ant one
per morphology. The summary per set is ``hebbjax.rollout.summarize``'s: per-rollout success
rate, rate of positive returns (the maze reference's "goal rate") and mean return with its
standard error, and the mean fitness.
"""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path
from typing import Any

from hebbjax.cli.common import (
    UsageError,
    add_distributed_arguments,
    add_genome_format_argument,
    check_kind_options,
    check_name,
    parse_options,
    positive_int,
    registry,
    start_distributed,
    to_json,
)

HELP = "evaluate a run or a genome file"


def _task_options(args: argparse.Namespace) -> dict:
    return parse_options(args.task_opt, "--task-opt")


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--run", help="run directory written by 'hebbjax train'")
    p.add_argument(
        "--which",
        default="best",
        choices=["best", "mean"],
        help="with --run: the best-by-validation or the final mean genome (default best)",
    )
    p.add_argument(
        "--task",
        action="append",
        help="task(s) to test on (repeatable; default the run's task, or maze)",
    )
    p.add_argument("--model", help="with --genome: a model name ('hebbjax models')")
    p.add_argument(
        "--model-opt",
        action="append",
        metavar="KEY=VALUE",
        help="model option ('hebbjax models --options NAME'); with --run, over the "
        "run's own (e.g. plastic_form=direct)",
    )
    p.add_argument(
        "--task-opt",
        action="append",
        metavar="KEY=VALUE",
        help="task option, e.g. n_rollouts=8, r_slot=zero ('hebbjax tasks --options "
        "NAME'); with --run, over the run's own",
    )
    p.add_argument(
        "--genome",
        help="genome file (.npy flat or .npz named tensors), or paper:decprnn-postdn",
    )
    add_genome_format_argument(p)
    p.add_argument(
        "--set",
        action="append",
        help="a named set of the task (repeatable; default the task's evaluation sets)",
    )
    p.add_argument(
        "--mazes",
        help="a maze set file (.npz: walls, start, goal) or paper:maze15-validation, "
        "instead of --set",
    )
    p.add_argument(
        "--n-tasks",
        "--n-mazes",
        dest="n_tasks",
        type=positive_int,
        help="use only the first N tasks of each set",
    )
    p.add_argument(
        "--repeats",
        "--lifetimes",
        dest="repeats",
        type=positive_int,
        help="lifetimes per task (default the task's: 1, or 100 per ant morphology)",
    )
    p.add_argument("--seed", type=int, default=0, help="default 0")
    p.add_argument("--json", action="store_true", help="print JSON")
    add_distributed_arguments(p)


def _maze_file(task: Any, spec: str) -> Any:
    from hebbjax import data
    from hebbjax.envs.maze import MetaMaze2D
    from hebbjax.envs.maze_sets import load_maze_npz

    if not isinstance(task.env, MetaMaze2D):
        raise UsageError(f"--mazes needs a maze task, not {task.name!r}")
    path = data.path(spec)
    if not path.is_file():
        raise UsageError(f"no maze file at {path}")
    mazes = load_maze_npz(path, task.settings["max_steps"])
    size = int(mazes.walls.shape[-1])
    if size != task.settings["size"]:
        raise UsageError(
            f"{spec} holds {size}x{size} mazes but task {task.name!r} is "
            f"{task.settings['size']}x{task.settings['size']}; choose a task of that size "
            f"(e.g. --task maze{size})"
        )
    return mazes


def _evaluate(model: Any, task: Any, params: Any, args: argparse.Namespace) -> dict:
    import jax

    from hebbjax.rollout import evaluate, n_tasks_of, summarize

    if args.mazes is not None:
        sets = {args.mazes: _maze_file(task, args.mazes)}
    else:
        names = args.set or list(task.eval_sets)
        for name in names:
            if name not in task.sets:
                raise UsageError(
                    f"task {task.name!r} has no set {name!r}; valid sets: "
                    + ", ".join(task.sets)
                )
        sets = {name: task.task_set(name) for name in names}
    out = {}
    for name, task_set in sets.items():
        size = n_tasks_of(task_set)
        if args.n_tasks is not None and args.n_tasks > size:
            raise UsageError(
                f"--n-tasks {args.n_tasks} but set {name} holds {size} tasks"
            )
        result = evaluate(
            model,
            task,
            params,
            task_set,
            jax.random.key(args.seed),
            repeats=args.repeats or task.eval_repeats,
            n_tasks=args.n_tasks,
        )
        out[name] = summarize(result) | dict(
            role=task.sets[name].role if name in task.sets else "file"
        )
    return out


def _print(title: str, task: Any, summaries: dict) -> None:
    words = task.words
    print(title)
    for name, s in summaries.items():
        over_tasks = ""
        if s["n_lifetimes"] > s.get("n_tasks", s["n_lifetimes"]):
            over_tasks = (
                f" (+- {s['score_task_stderr']:.3f} over its {s['n_tasks']:,} "
                f"{words.task}s)"
            )
        print(
            f"  set {name} ({s['n_lifetimes']} lifetimes, {s['role']}): score "
            f"{s['score']:+.3f} +- {s['score_stderr']:.3f}{over_tasks}"
        )
        print(
            f"    {words.rollout:>14} {'success':>8} {'return>0':>8}  {words.returns}"
        )
        for r, values in enumerate(
            zip(
                s["success_rate"],
                s["positive_return_rate"],
                s["return_mean"],
                s["return_stderr"],
                strict=True,
            )
        ):
            ok, positive, mean, se = values
            print(
                f"    {words.rollout_label(r):>14} {ok:>8.3f} {positive:>8.3f}  "
                f"{mean:+.3f} +- {se:.3f}"
            )
        if s["n_nonfinite"]:
            print(f"    warning: {s['n_nonfinite']} lifetimes had a non-finite fitness")
    print(f"  success = {words.success}")


def _warn_nonfinite(results: dict) -> None:
    for task_name, sets in results.items():
        for set_name, s in sets.items():
            if s["n_nonfinite"] or not math.isfinite(s["score"]):
                print(
                    f"hebbjax eval: warning: {s['n_nonfinite']} of {s['n_lifetimes']} "
                    f"lifetimes on {task_name}/{set_name} gave a non-finite fitness",
                    file=sys.stderr,
                )


def run(args: argparse.Namespace) -> int:
    from hebbjax.models.genome_io import load_genome
    from hebbjax.tasks import make_task

    writer = start_distributed(args)
    results: dict[str, dict] = {}
    tasks: dict[str, Any] = {}
    if args.run is not None:
        from hebbjax.cli.common import load_plugins
        from hebbjax.config import TrainConfig
        from hebbjax.evolution.run_files import CONFIG

        if args.model or args.genome:
            raise UsageError("give either --run, or --model and --genome, not both")
        run_dir = Path(args.run)
        if not (run_dir / CONFIG).is_file():
            raise UsageError(f"no hebbjax run in {run_dir} (missing {CONFIG})")
        config = TrainConfig.from_file(run_dir / CONFIG)
        load_plugins(config.plugins)
        genome_file = run_dir / f"{args.which}_genome.npz"
        if not genome_file.is_file():
            raise UsageError(f"run {run_dir} has no {genome_file.name} yet")
        task_options = {**config.task_kwargs, **_task_options(args)}
        factory = registry("model").get(config.model)
        model_options = parse_options(args.model_opt, "--model-opt")
        check_kind_options("model", config.model, model_options)
        for name in args.task or [config.task]:
            check_name("task", name)
            check_kind_options("task", name, task_options)
            task = make_task(name, **task_options)
            model = factory(
                n_in=task.n_in,
                n_out=task.n_out,
                **{**config.model_kwargs, **model_options},
            )
            params = load_genome(genome_file, model, fmt="npz")
            tasks[name] = task
            results[name] = _evaluate(model, task, params, args)
        title = f"{config.model} ({args.which} genome of {run_dir})"
    else:
        from hebbjax import data

        if args.genome is None:
            raise UsageError(
                "eval needs either --run DIR, or --model, --task and --genome"
            )
        model_name = args.model
        task_names = args.task
        genome_path = data.path(args.genome)  # a packaged name must exist
        if data.is_named(args.genome) and args.genome in data.GENOME_MODELS:
            model_default, task_default = data.GENOME_MODELS[args.genome]
            model_name = model_name or model_default
            task_names = task_names or [task_default]
        if model_name is None:
            raise UsageError("--genome needs --model (a model name; 'hebbjax models')")
        check_name("model", model_name)
        task_names = task_names or ["maze"]
        if len(task_names) != 1:
            raise UsageError("with --genome, give exactly one --task")
        check_name("task", task_names[0])
        options = parse_options(args.model_opt, "--model-opt")
        factory = registry("model").get(model_name)
        task_options = _task_options(args)
        check_kind_options("task", task_names[0], task_options)
        task = make_task(task_names[0], **task_options)
        check_kind_options("model", model_name, options)
        model = factory(n_in=task.n_in, n_out=task.n_out, **options)
        params = load_genome(genome_path, model, fmt=args.genome_format)
        tasks[task_names[0]] = task
        results[task_names[0]] = _evaluate(model, task, params, args)
        title = f"{model_name} ({args.genome})"
    if not writer:
        return 0
    _warn_nonfinite(results)
    if args.json:
        print(to_json(results))
    else:
        for name, sets in results.items():
            _print(f"{title} on {name}", tasks[name], sets)
    return 0

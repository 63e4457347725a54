"""The ``hebbjax`` command: train, eval, baselines, models, tasks.

Strings become objects here and only here. Bad input (unknown names, impossible numbers, a missing
run directory, a damaged checkpoint) prints one clear line on stderr and exits with code 2.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any

EXIT_USAGE = 2


class UsageError(Exception):
    """A problem with what the user asked for; printed as one line, exit code 2."""


def _parse_value(text: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


def _options(pairs: list[str] | None, flag: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for pair in pairs or []:
        if "=" not in pair:
            raise UsageError(f"{flag} expects KEY=VALUE, got {pair!r}")
        key, value = pair.split("=", 1)
        out[key.strip().replace("-", "_")] = _parse_value(value)
    return out


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected a whole number, got {text!r}"
        ) from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be >= 1, got {value}")
    return value


def _names(kind: str) -> list[str]:
    if kind == "model":
        from hebbjax.models import MODELS

        return MODELS.names()
    if kind == "task":
        from hebbjax.tasks import TASKS

        return TASKS.names()
    from hebbjax.evolution.strategies import STRATEGIES

    return STRATEGIES.names()


def _check_name(kind: str, name: str | None) -> None:
    if name is not None and name not in _names(kind):
        raise UsageError(
            f"unknown {kind} {name!r}; valid {kind}s: {', '.join(_names(kind))}"
        )


# ---------------------------------------------------------------- models / tasks


def cmd_models(args: argparse.Namespace) -> int:
    from hebbjax.models import model_summary

    rows = model_summary()
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    from rich.console import Console
    from rich.table import Table

    table = Table(title="hebbjax models (maze sizes: input 15, output 5)")
    for col in ("name", "N_Gene", "N_Mem", "N_Mem/N_Gene", "description"):
        table.add_column(
            col, justify="left" if col in ("name", "description") else "right"
        )
    for r in rows:
        table.add_row(
            r["name"],
            f"{r['n_gene']:,}",
            f"{r['n_mem']:,}",
            f"{r['bottleneck_factor']:.2f}",
            r.get("description", ""),
        )
    Console().print(table)
    return 0


def cmd_tasks(args: argparse.Namespace) -> int:
    from hebbjax.tasks import task_summary

    rows = task_summary()
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    from rich.console import Console
    from rich.table import Table

    table = Table(title="hebbjax tasks")
    fixed = ("n_in", "n_out", "n_rollouts")
    for column in ("name", *fixed, "settings"):
        table.add_column(column)
    for r in rows:
        settings = ", ".join(
            f"{k}={v}"
            for k, v in r.items()
            if k not in ("name", *fixed) and not k.endswith("_seed")
        )
        table.add_row(r["name"], *(str(r[k]) for k in fixed), settings)
    Console().print(table)
    return 0


# ---------------------------------------------------------------- baselines


def cmd_baselines(args: argparse.Namespace) -> int:
    _check_name("task", args.task)
    import jax

    from hebbjax.envs.baselines import maze_baselines
    from hebbjax.tasks import make_task

    task = make_task(args.task)
    mazes = _maze_set(task, args.mazes, args.set)
    out = maze_baselines(mazes, jax.random.key(args.seed), **_maze_env_kwargs(task))
    if args.json:
        print(json.dumps(out))
    else:
        print(f"task {args.task}, {out['n_mazes']} mazes")
        print(f"Oracle  {out['oracle_mean']:+.3f} +- {out['oracle_stderr']:.3f}")
        print(f"Random  {out['random_mean']:+.3f} +- {out['random_stderr']:.3f}")
    return 0


def _maze_env_kwargs(task: Any) -> dict:
    return {"max_steps": task.info["max_steps"]} if "max_steps" in task.info else {}


def _maze_set(task: Any, mazes: str | None, which: str) -> Any:
    if mazes is not None:
        from hebbjax.envs.maze_sets import load_maze_npz

        path = Path(mazes)
        if not path.is_file():
            raise UsageError(f"no maze file at {path}")
        return load_maze_npz(path)
    return task.validation_set() if which == "validation" else task.test_set()


# ---------------------------------------------------------------- eval


def _print_eval(title: str, summary: dict) -> None:
    print(title)
    print(f"  {'rollout':>7} {'goal rate':>9} {'reached':>8} {'return':>16}")
    rows = zip(
        summary["goal_rate"],
        summary["reached_rate"],
        summary["return_mean"],
        summary["return_stderr"],
        strict=True,
    )
    for r, (g, reached, m, s) in enumerate(rows):
        print(f"  {r + 1:>7} {g:>9.3f} {reached:>8.3f} {m:>+9.3f} +- {s:.3f}")
    print(
        f"  lifetimes: {summary['n_lifetimes']}; goal rate = {summary['goal_criterion']} "
        "(reached = goal within the step limit)"
    )


def _evaluate(
    model: Any, task: Any, params: Any, mazes: Any, args: argparse.Namespace
) -> dict:
    import jax

    from hebbjax.evaluate import evaluate_lifetimes, summarize_lifetimes

    n = jax.tree.leaves(mazes)[0].shape[0]
    if args.n_mazes is not None:
        if args.n_mazes > n:
            raise UsageError(f"--n-mazes {args.n_mazes} but the set holds {n} mazes")
        mazes = jax.tree.map(lambda x: x[: args.n_mazes], mazes)
    result = evaluate_lifetimes(model, task, params, mazes, jax.random.key(args.seed))
    summary = summarize_lifetimes(result, args.goal_criterion)
    summary["return_mean"] = summary.pop("mean_return")
    summary["fitness_mean"] = summary.pop("mean_fitness")
    return {k: v.tolist() if hasattr(v, "tolist") else v for k, v in summary.items()}


def cmd_eval(args: argparse.Namespace) -> int:
    from hebbjax.checkpoint import CheckpointError
    from hebbjax.models import make_model
    from hebbjax.tasks import make_task

    if args.run is not None:
        from hebbjax.config import TrainConfig
        from hebbjax.evolution.train import CONFIG
        from hebbjax.models.genome_io import load_genome

        run = Path(args.run)
        if not (run / CONFIG).is_file():
            raise UsageError(f"no hebbjax run in {run} (missing {CONFIG})")
        config = TrainConfig.load(run / CONFIG)
        genome_file = run / f"{args.which}_genome.npz"
        if not genome_file.is_file():
            raise UsageError(f"run {run} has no {genome_file.name} yet")
        task_names = args.task or [config.task]
        for name in task_names:
            _check_name("task", name)
        results = {}
        for name in task_names:
            task = make_task(name, **config.task_kwargs)
            model = make_model(
                config.model, n_in=task.n_in, n_out=task.n_out, **config.model_kwargs
            )
            params = load_genome(genome_file, model, fmt="npz")
            if "summarize" in task.info:  # tasks with their own protocol (the ant)
                results[name] = _summarize_task(task, model, params, args)
                continue
            mazes = _maze_set(task, args.mazes, args.set)
            results[name] = _evaluate(model, task, params, mazes, args)
        if args.json:
            print(json.dumps(results if len(results) > 1 else results[task_names[0]]))
        else:
            for name, summary in results.items():
                if "variants" in summary:
                    _print_variants(f"{config.model} ({args.which}) on {name}", summary)
                    continue
                _print_eval(
                    f"{config.model} ({args.which} genome) on {name} ({args.set} set)",
                    summary,
                )
        return 0

    if args.model is None or args.genome is None:
        raise UsageError("eval needs either --run DIR, or --model, --task and --genome")
    _check_name("model", args.model)
    task_names = args.task or ["maze"]
    if len(task_names) != 1:
        raise UsageError("with --genome, give exactly one --task")
    _check_name("task", task_names[0])
    task = make_task(task_names[0])
    model = make_model(
        args.model,
        n_in=task.n_in,
        n_out=task.n_out,
        **_options(args.model_opt, "--model-opt"),
    )
    from hebbjax.models.genome_io import load_genome

    path = Path(args.genome)
    if not path.is_file():
        raise UsageError(f"no genome file at {path}")
    try:
        params = load_genome(path, model, fmt=args.genome_format)
    except (ValueError, CheckpointError) as err:
        raise UsageError(str(err)) from None
    mazes = _maze_set(task, args.mazes, args.set)
    summary = _evaluate(model, task, params, mazes, args)
    if args.json:
        print(json.dumps(summary))
    else:
        _print_eval(f"{args.model} on {task_names[0]}", summary)
    return 0


# ---------------------------------------------------------------- train


def cmd_train(args: argparse.Namespace) -> int:
    from hebbjax.config import TrainConfig

    for kind, name in (
        ("task", args.task),
        ("model", args.model),
        ("strategy", args.strategy),
    ):
        _check_name(kind, name)
    out = Path(args.out)
    if args.resume:
        from hebbjax.evolution.train import CONFIG

        if not (out / CONFIG).is_file():
            raise UsageError(f"nothing to resume in {out} (no {CONFIG})")
        saved = TrainConfig.load(out / CONFIG)
        asked = dict(
            task=args.task,
            model=args.model,
            strategy=args.strategy,
            population=args.population,
            seed=args.seed,
        )
        clash = [
            k for k, v in asked.items() if v is not None and v != getattr(saved, k)
        ]
        if clash:
            raise UsageError(
                f"--resume continues the run in {out} as configured; these flags differ "
                f"from it: {', '.join(clash)}"
            )
        import dataclasses

        config = saved
        if args.generations is not None:
            config = dataclasses.replace(saved, generations=args.generations)
    else:
        try:
            config = TrainConfig.from_preset(
                args.preset,
                task=args.task or "maze",
                model=args.model or "decprnn-postdn",
                strategy=args.strategy,
                population=args.population,
                generations=args.generations,
                seed=args.seed if args.seed is not None else 0,
                sigma0=args.sigma0,
                repeats=args.repeats,
                validate_every=args.validate_every,
                n_validation=args.n_validation,
                checkpoint_every=args.checkpoint_every,
                schedule=((0, args.tasks_per_gen),) if args.tasks_per_gen else None,
                model_kwargs=_options(args.model_opt, "--model-opt"),
                task_kwargs=_options(args.task_opt, "--task-opt"),
                strategy_kwargs=_options(args.strategy_opt, "--strategy-opt"),
            )
        except (ValueError, TypeError) as err:
            raise UsageError(str(err)) from None
    from hebbjax.evolution.progress import run_with_progress

    return run_with_progress(config, out, resume=args.resume, quiet=args.quiet)


def _summarize_task(task: Any, model: Any, params: Any, args: Any) -> dict:
    import jax

    return task.info["summarize"](
        model, params, jax.random.key(args.seed), n_lifetimes=args.lifetimes
    )


def _print_variants(title: str, summary: dict) -> None:
    print(f"{title}: distance along +x (m), {summary['n_lifetimes']} lifetimes")
    for row in summary["variants"]:
        print(
            f"  {row['variant']:>12} ({row['role']:>5}) "
            f"{row['distance_mean']:+8.3f} +- {row['distance_stderr']:.3f} (s.e.)"
        )


# ---------------------------------------------------------------- merge


def cmd_merge(args: argparse.Namespace) -> int:
    clusters = None
    if args.clusters is not None:
        try:
            ks = [int(k) for k in args.clusters.split(",")]
        except ValueError:
            raise UsageError(
                f"--clusters expects K or KH,KX, got {args.clusters!r}"
            ) from None
        if len(ks) not in (1, 2) or min(ks) < 1:
            raise UsageError(
                f"--clusters expects K or KH,KX >= 1, got {args.clusters!r}"
            )
        clusters = (ks[0], ks[-1])
    from hebbjax.evolution.merge import merge_run
    from hebbjax.evolution.train import train

    config, init_params = merge_run(args.run, clusters, args.generations)
    out = Path(args.out) if args.out else Path(f"{Path(args.run)}-merged")

    def progress(generation: int, record: dict) -> None:
        if not args.quiet:
            print(f"generation {generation}: fitness {record['fitness_mean']:+.3f}")

    result = train(config, out, progress_fn=progress, init_params=init_params)
    print(
        f"merged run in {out}: best validation score {result.best_score:+.3f} "
        f"(generation {result.best_generation})"
    )
    return 0


# ---------------------------------------------------------------- parser


def build_parser() -> argparse.ArgumentParser:
    from hebbjax.config import PRESETS

    models, tasks, strategies = _names("model"), _names("task"), _names("strategy")
    parser = argparse.ArgumentParser(
        prog="hebbjax",
        description="Evolve plasticity rules and plastic networks in JAX.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("train", help="evolve a model on a task")
    p.add_argument("--task", help=f"one of: {', '.join(tasks)} (default maze)")
    p.add_argument(
        "--model", help=f"one of: {', '.join(models)} (default decprnn-postdn)"
    )
    p.add_argument("--strategy", help=f"one of: {', '.join(strategies)}")
    p.add_argument(
        "--preset",
        default="small",
        choices=list(PRESETS),
        help="small: minutes on a laptop; paper: the reference schedule",
    )
    p.add_argument("--population", type=_positive)
    p.add_argument("--generations", type=_positive)
    p.add_argument("--seed", type=int)
    p.add_argument("--sigma0", type=float, help="initial step size")
    p.add_argument(
        "--repeats", type=_positive, help="lifetimes per task and individual"
    )
    p.add_argument(
        "--tasks-per-gen", type=_positive, help="tasks per generation (constant)"
    )
    p.add_argument("--validate-every", type=_positive)
    p.add_argument("--n-validation", type=_positive, help="validation tasks used")
    p.add_argument("--checkpoint-every", type=_positive)
    p.add_argument(
        "--model-opt",
        action="append",
        metavar="KEY=VALUE",
        help="model factory option, e.g. hidden=32 or modulated_scale=1.0",
    )
    p.add_argument(
        "--task-opt",
        action="append",
        metavar="KEY=VALUE",
        help="task option, e.g. n_rollouts=8",
    )
    p.add_argument("--strategy-opt", action="append", metavar="KEY=VALUE")
    p.add_argument("--out", default="runs/default", help="run directory")
    p.add_argument("--resume", action="store_true", help="continue the run in --out")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=cmd_train)

    p = sub.add_parser("eval", help="evaluate a run or a genome file")
    p.add_argument("--run", help="run directory written by 'hebbjax train'")
    p.add_argument(
        "--which",
        default="best",
        choices=["best", "mean"],
        help="with --run: the best-by-validation or the final mean genome",
    )
    p.add_argument(
        "--task",
        action="append",
        help=f"task(s) to test on (repeatable): {', '.join(tasks)}",
    )
    p.add_argument("--model", help=f"with --genome: one of {', '.join(models)}")
    p.add_argument("--model-opt", action="append", metavar="KEY=VALUE")
    p.add_argument("--genome", help="genome file (.npy flat or .npz named tensors)")
    p.add_argument(
        "--genome-format",
        default="epann",
        choices=["epann", "npz"],
        help="epann: the reference code's flat layout; npz: hebbjax tensors",
    )
    p.add_argument("--mazes", help="maze set file (.npz: walls, start, goal)")
    p.add_argument("--set", default="test", choices=["test", "validation"])
    p.add_argument(
        "--n-mazes", type=_positive, help="use only the first N tasks of the set"
    )
    p.add_argument(
        "--goal-criterion",
        default="positive-return",
        choices=["positive-return", "reached"],
        help="what counts as a goal in 'goal rate': a positive return (the reference "
        "harness's definition, default) or reaching the goal within the step limit",
    )
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--json", action="store_true")
    p.add_argument(
        "--lifetimes", type=_positive, default=100, help="ant: lifetimes per morphology"
    )
    p.set_defaults(func=cmd_eval)

    p = sub.add_parser(
        "merge", help="Evolving & Merging: k-means a prnn-postdn run's rules, evolve on"
    )
    p.add_argument("--run", required=True, help="a prnn-postdn run directory")
    p.add_argument("--clusters", help="K for both matrices, or KH,KX (default 2h,h+m)")
    p.add_argument("--generations", type=_positive, help="default: the source run's")
    p.add_argument("--out", help="new run directory (default RUN-merged)")
    p.add_argument("--quiet", action="store_true")
    p.set_defaults(func=cmd_merge)

    p = sub.add_parser("baselines", help="Oracle and Random returns on a maze set")
    p.add_argument("--task", default="maze15", help=f"one of: {', '.join(tasks)}")
    p.add_argument("--mazes", help="maze set file (.npz)")
    p.add_argument("--set", default="test", choices=["test", "validation"])
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_baselines)

    p = sub.add_parser("models", help="list models with N_Gene and N_Mem")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_models)

    p = sub.add_parser("tasks", help="list tasks")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_tasks)
    return parser


def use_all_cpu_cores() -> None:
    """Expose every CPU core as a JAX host device, so populations shard across cores.

    XLA runs one CPU device on one core's worth of work; forcing one host device per core
    (before JAX starts its backend) is what lets ``jax.sharding`` use them all. It changes
    nothing on GPU platforms. Set ``HEBBJAX_CPU_DEVICES`` to choose the count, or give your own
    ``--xla_force_host_platform_device_count`` in ``XLA_FLAGS``.
    """
    flags = os.environ.get("XLA_FLAGS", "")
    if "xla_force_host_platform_device_count" in flags:
        return
    count = os.environ.get("HEBBJAX_CPU_DEVICES") or str(len(os.sched_getaffinity(0)))
    os.environ["XLA_FLAGS"] = f"{flags} --xla_force_host_platform_device_count={count}"


def main(argv: list[str] | None = None) -> int:
    use_all_cpu_cores()
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except UsageError as err:
        print(f"hebbjax {args.command}: error: {err}", file=sys.stderr)
        return EXIT_USAGE
    except ValueError as err:  # unknown names and bad values raised by the library
        print(f"hebbjax {args.command}: error: {err}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("interrupted; resume with --resume", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())

"""``hebbjax baselines``: the Oracle and Random rows of Table 1 on a maze set (spec 2.7)."""

from __future__ import annotations

import argparse

from hebbjax.cli.common import UsageError, check_name, to_json

HELP = "Oracle and Random returns on a maze set"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--task", default="maze15", help="a maze task (default %(default)s)")
    p.add_argument("--mazes", help="maze set file (.npz) or paper:maze15-validation")
    p.add_argument(
        "--set", default="test", help="a named set of the task (default test)"
    )
    p.add_argument("--seed", type=int, default=0, help="default 0")
    p.add_argument("--json", action="store_true", help="print JSON")


def run(args: argparse.Namespace) -> int:
    check_name("task", args.task)
    import jax

    from hebbjax.cli.evaluate import _maze_file
    from hebbjax.envs.baselines import maze_baselines
    from hebbjax.envs.maze import MetaMaze2D
    from hebbjax.tasks import make_task

    task = make_task(args.task)
    if not isinstance(task.env, MetaMaze2D):
        raise UsageError(
            f"baselines (Oracle and Random) exist for maze tasks only, not {args.task!r}"
        )
    mazes = _maze_file(task, args.mazes) if args.mazes else task.task_set(args.set)
    out = maze_baselines(
        mazes, jax.random.key(args.seed), max_steps=task.settings["max_steps"]
    )
    if args.json:
        print(to_json(out))
    else:
        print(f"task {args.task}, {out['n_mazes']} mazes")
        print(f"Oracle  {out['oracle_mean']:+.3f} +- {out['oracle_stderr']:.3f}")
        print(f"Random  {out['random_mean']:+.3f} +- {out['random_stderr']:.3f}")
    return 0

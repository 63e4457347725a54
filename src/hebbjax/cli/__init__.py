"""The ``hebbjax`` command: a small package of thin commands over the library.

Each command is a module with ``add_arguments(parser)`` and ``run(args) -> exit code``;
strings become objects there and only there. Nothing imports JAX until a command runs, so
``hebbjax --help`` answers at once. Bad input (unknown names, impossible numbers, damaged
files, a run directory in use) prints one line, ``hebbjax CMD: error: ...``, and exits with 2.

Plugins: ``hebbjax --import mymodule CMD ...`` (a module name or a ``.py`` path, repeatable)
and every installed ``hebbjax.plugins`` entry point are imported first, so the models, tasks,
rules and strategies they register work in every command; ``train`` records them in the
run's config, so ``eval --run`` and ``--resume`` import them again.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import sys

from hebbjax.cli.common import (
    EXIT_USAGE,
    UsageError,
    load_plugins,
    use_all_cpu_cores,
)

# command -> (module, help); listing commands share one module
COMMANDS = {
    "train": ("train", "evolve a model on a task"),
    "eval": ("evaluate", "evaluate a run or a genome file on a task's sets"),
    "plot": ("plot", "learning curves of one or more runs"),
    "analyze": ("analyze", "the papers' analyses of a genome (traces, freezing, ...)"),
    "merge": (
        "merge",
        "Evolving & Merging: k-means a prnn-postdn run's rules, evolve on",
    ),
    "baselines": ("baselines", "Oracle and Random returns on a maze set"),
    "models": ("listing", "list models with N_Gene and N_Mem"),
    "tasks": ("listing", "list tasks and their sets"),
    "strategies": ("listing", "list outer-loop strategies"),
    "rules": ("listing", "list plasticity rules"),
}


def _module(name: str):
    return importlib.import_module(f"hebbjax.cli.{name}")


def available() -> dict[str, tuple[str, str]]:
    """The commands whose module exists in this installation."""
    out = {}
    for command, (module, text) in COMMANDS.items():
        if importlib.util.find_spec(f"hebbjax.cli.{module}") is not None:
            out[command] = (module, text)
    return out


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="hebbjax",
        description="Evolve plasticity rules and plastic networks in JAX.",
    )
    parser.add_argument(
        "--import",
        dest="plugins",
        action="append",
        metavar="MODULE",
        help="import a module (or .py file) that registers models, tasks, rules or "
        "strategies before the command (repeatable)",
    )
    from hebbjax import __version__

    parser.add_argument("--version", action="version", version=f"hebbjax {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for command, (module, text) in available().items():
        p = sub.add_parser(
            command,
            help=text,
            description=text,
            formatter_class=argparse.ArgumentDefaultsHelpFormatter
            if module == "listing"
            else argparse.HelpFormatter,
        )
        _module(module).add_arguments(p)
        p.set_defaults(module=module)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    use_all_cpu_cores()
    try:
        load_plugins(args.plugins or ())
        return _module(args.module).run(args)
    except (UsageError, ValueError) as err:
        # ValueError: unknown names and bad values raised by the library (hebbjax.errors)
        message = str(err).splitlines()[0] if str(err) else type(err).__name__
        print(f"hebbjax {args.command}: error: {message}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print(f"hebbjax {args.command}: interrupted", file=sys.stderr)
        return 130


__all__ = ["EXIT_USAGE", "UsageError", "build_parser", "main", "use_all_cpu_cores"]

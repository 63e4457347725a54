"""``hebbjax models | tasks | strategies | rules``: what is registered, with its options.

``--options NAME`` prints one entry's keyword options and their defaults (what
``--model-opt``, ``--task-opt`` and ``--strategy-opt`` accept).
"""

from __future__ import annotations

import argparse
import dataclasses
import inspect
from typing import Any

from hebbjax.cli.common import BUILT_OPTIONS, UsageError, registry, to_json

KINDS = {
    "models": ("model", "list models with N_Gene and N_Mem"),
    "tasks": ("task", "list tasks and their sets"),
    "strategies": ("strategy", "list outer-loop strategies and their options"),
    "rules": ("rule", "list plasticity rules"),
}


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--json", action="store_true", help="print JSON")
    p.add_argument(
        "--options",
        metavar="NAME",
        help="the keyword options of one entry and defaults",
    )


def options_of(kind: str, name: str) -> dict[str, Any]:
    """An entry's keyword options and defaults (evosax strategies: constructor options
    and ``Params`` fields too)."""
    factory = registry(kind).get(name)
    out: dict[str, Any] = {}
    for key, p in inspect.signature(factory).parameters.items():
        if key in BUILT_OPTIONS[kind] or p.kind in (p.VAR_KEYWORD, p.VAR_POSITIONAL):
            continue
        out[key] = None if p.default is p.empty else p.default
    if kind == "strategy":
        import jax.numpy as jnp

        from hebbjax.evolution.evosax_adapters import constructor_options

        args = getattr(factory, "args", ())
        if args and isinstance(args[0], type):  # an evosax algorithm by name
            from hebbjax.evolution.evosax_adapters import family

            cls = args[0]
            ctor = constructor_options(cls)
            out.pop("cls", None)
            if family(cls) != "stein":
                out.pop("num_populations", None)
            if "optimizer" not in ctor:
                out.pop("learning_rate", None)
            out |= ctor
        try:
            es, params = factory(4, {"w": jnp.zeros(3)})
            if dataclasses.is_dataclass(params):
                fields = [f.name for f in dataclasses.fields(params)]
                out |= {name: getattr(params, name) for name in fields}
            else:  # gmm-es: a NamedTuple whose fields are factory options already
                fields = getattr(params, "_fields", ())
                out |= {n: getattr(params, n) for n in fields if n not in out}
        except ValueError:
            pass
    return {k: _plain(v) for k, v in out.items()}


def _plain(value: Any) -> Any:
    if hasattr(value, "tolist"):
        return value.tolist()
    if isinstance(value, int | float | str | bool | type(None) | list | tuple | dict):
        return value
    return getattr(value, "__name__", type(value).__name__)


def _rows(kind: str) -> list[dict]:
    if kind == "model":
        from hebbjax.models import model_summary

        return model_summary()
    if kind == "task":
        from hebbjax.tasks import task_summary

        rows = task_summary()
        reg = registry("task")
        for prefix in reg.families():
            rows.append(
                dict(name=f"{prefix}<env>", n_in="-", n_out="-", n_rollouts="-",
                     sets=["validation", "test"], note="any gymnax environment")
            )  # fmt: skip
        return rows
    reg = registry(kind)
    rows = []
    for name in reg:
        factory = reg.get(name)
        doc = (inspect.getdoc(factory) or "").strip().splitlines()
        rows.append(dict(name=name, description=doc[0] if doc else ""))
    return rows


def _table(kind: str, rows: list[dict]) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"hebbjax {kind} entries")
    if kind == "model":
        columns = ("name", "n_gene", "n_mem", "bottleneck_factor", "description")
    elif kind == "task":
        columns = ("name", "n_in", "n_out", "n_rollouts", "sets", "settings")
    else:
        columns = ("name", "description")
    for column in columns:
        table.add_column(column, no_wrap=column == "name")
    for row in rows:
        if kind == "task":
            fixed = ("name", "n_in", "n_out", "n_rollouts", "sets")
            settings = ", ".join(
                f"{k}={v}"
                for k, v in row.items()
                if k not in fixed and not k.endswith("_seed")
            )
            cells = [str(row[c]) for c in fixed[:4]] + [
                ", ".join(row["sets"]),
                settings,
            ]
        elif kind == "model":
            cells = [
                row["name"],
                f"{row['n_gene']:,}",
                f"{row['n_mem']:,}",
                f"{row['bottleneck_factor']:.2f}",
                row["description"],
            ]
        else:
            cells = [str(row[c]) for c in columns]
        table.add_row(*cells)
    import sys

    # outside a terminal (a log, a pipe) the table is not squeezed to 80 columns
    Console(width=None if sys.stdout.isatty() else 200).print(table)


def run(args: argparse.Namespace) -> int:
    kind = KINDS[args.command][0]
    if args.options:
        try:
            options = options_of(kind, args.options)
        except ValueError as err:
            raise UsageError(str(err)) from None
        if args.json:
            print(to_json(options))
        else:
            print(f"{kind} {args.options} options (KEY=VALUE):")
            for key, value in options.items():
                print(f"  {key} = {value!r}")
        return 0
    rows = _rows(kind)
    if args.json:
        print(to_json(rows))
    else:
        _table(kind, rows)
    return 0

"""What every command shares: one-line usage errors, KEY=VALUE options checked against the
factory they go to, plugins, JSON output, and the CPU device setting.

Nothing here imports JAX at module level: ``hebbjax --help`` must answer at once.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import json
import math
import os
import sys
from collections.abc import Iterable
from typing import Any

from hebbjax.config import schedule_entries
from hebbjax.errors import ConfigError

EXIT_USAGE = 2
ENTRY_POINT_GROUP = "hebbjax.plugins"


class UsageError(Exception):
    """A problem with what the user asked for; printed as one line, exit code 2."""


def parse_value(text: str) -> Any:
    """A JSON value (number, bool, list, null, quoted string), ``inf``/``nan`` as
    floats, or else the raw string."""
    if text.strip().lower() in ("inf", "+inf", "-inf", "nan", "infinity", "-infinity"):
        return float(text)
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


def parse_options(pairs: Iterable[str] | None, flag: str) -> dict[str, Any]:
    """``["hidden=32", "rule=abcd"] -> {"hidden": 32, "rule": "abcd"}``."""
    out: dict[str, Any] = {}
    for pair in pairs or []:
        if "=" not in pair:
            raise UsageError(f"{flag} expects KEY=VALUE, got {pair!r}")
        key, value = pair.split("=", 1)
        key = key.strip().replace("-", "_")
        if not key.isidentifier():
            raise UsageError(f"{flag}: {key!r} is not an option name")
        out[key] = parse_value(value.strip())
    return out


def schedule_json(name: str = "schedule"):
    """The ``--schedule`` (or ``--strategy-schedule``) argument type: JSON entries as
    tuples (``TrainConfig`` checks them), or an error naming the entries' form."""
    what = "strategy" if name == "strategy_schedule" else "tasks"

    def parse(text: str) -> tuple[tuple[Any, ...], ...]:
        try:
            return schedule_entries(json.loads(text), name)
        except (json.JSONDecodeError, ConfigError):
            raise argparse.ArgumentTypeError(
                f"expected a JSON list of [first generation, {what}] or [first "
                f"generation, {what}, {{options}}] entries, got {text!r}"
            ) from None

    return parse


def positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected a whole number, got {text!r}"
        ) from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be >= 1, got {value}")
    return value


def finite_positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not math.isfinite(value) or value <= 0:
        raise argparse.ArgumentTypeError(f"must be a finite number > 0, got {text}")
    return value


def registry(kind: str):
    """The registry of ``kind`` ("model", "task", "strategy", "rule"), imported lazily."""
    if kind == "model":
        from hebbjax.models import MODELS as reg
    elif kind == "task":
        from hebbjax.tasks import TASKS as reg
    elif kind == "strategy":
        from hebbjax.evolution.strategies import STRATEGIES as reg
    else:
        from hebbjax.rules import RULES as reg
    return reg


#: the options hebbjax sets itself when it builds a registered object (never a user's)
BUILT_OPTIONS = {
    "model": ("n_in", "n_out"),
    "task": ("name",),
    "strategy": ("population_size", "solution"),
    "rule": ("n_out", "n_in"),
}


def check_kind_options(kind: str, name: str, options: dict[str, Any]) -> None:
    """A ``ConfigError`` naming the valid options when ``options`` holds one that the
    registered ``kind`` ``name`` does not take (``BUILT_OPTIONS`` are not the user's)."""
    from hebbjax.options import check_options

    check_options(
        registry(kind).get(name), options, f"{kind} option", BUILT_OPTIONS[kind]
    )


def check_name(kind: str, name: str | None) -> None:
    """A ``UsageError`` naming the valid choices when ``name`` is not registered."""
    if name is None:
        return
    try:
        registry(kind).get(name)
    except ValueError as err:
        raise UsageError(str(err)) from None


def load_plugins(modules: Iterable[str] = (), entry_points: bool = True) -> list[str]:
    """Import user modules that register models, tasks, rules or strategies.

    ``modules`` are module names or ``.py`` paths (``--import``); with ``entry_points``
    every installed package's ``hebbjax.plugins`` entry point is loaded too. Returns the
    module names imported from ``modules``.
    """
    loaded = []
    for name in modules:
        loaded.append(_import_plugin(name))
    if entry_points:
        from importlib.metadata import entry_points as eps

        for ep in eps(group=ENTRY_POINT_GROUP):
            try:
                ep.load()
            except Exception as err:  # a broken plugin is the user's to see
                raise UsageError(
                    f"plugin {ep.name!r} ({ep.value}) failed: {err}"
                ) from None
    return loaded


def _import_plugin(name: str) -> str:
    try:
        if name.endswith(".py"):
            path = os.path.abspath(name)
            if not os.path.isfile(path):
                raise UsageError(f"--import: no file {name}")
            module = os.path.splitext(os.path.basename(path))[0]
            loaded = sys.modules.get(module)
            if loaded is not None and getattr(loaded, "__file__", None) == path:
                return name  # imported once per process, like a module name
            spec = importlib.util.spec_from_file_location(module, path)
            mod = importlib.util.module_from_spec(spec)
            sys.modules[module] = mod
            spec.loader.exec_module(mod)
            return name
        importlib.import_module(name)
        return name
    except ModuleNotFoundError as err:
        raise UsageError(f"--import {name}: {err}") from None
    except UsageError:
        raise
    except Exception as err:
        raise UsageError(
            f"--import {name} failed: {type(err).__name__}: {err}"
        ) from None


def to_json(value: Any) -> str:
    """JSON with NaN and infinities as null (``json.dumps`` would print bare NaN)."""

    def clean(x: Any) -> Any:
        if isinstance(x, float) and not math.isfinite(x):
            return None
        if isinstance(x, dict):
            return {k: clean(v) for k, v in x.items()}
        if isinstance(x, list | tuple):
            return [clean(v) for v in x]
        if hasattr(x, "tolist"):
            return clean(x.tolist())
        return x

    return json.dumps(clean(value))


def use_all_cpu_cores() -> None:
    """Expose every CPU core as a JAX host device, so populations shard across cores.

    XLA runs one CPU device on one core's worth of work; forcing one host device per core
    (before JAX starts its backend) is what lets ``jax.sharding`` use them all. It changes
    nothing on GPU platforms. Set ``HEBBJAX_CPU_DEVICES`` to choose the count, or give your
    own ``--xla_force_host_platform_device_count`` in ``XLA_FLAGS``.
    """
    flags = os.environ.get("XLA_FLAGS", "")
    if "xla_force_host_platform_device_count" in flags:
        return
    count = os.environ.get("HEBBJAX_CPU_DEVICES") or str(len(os.sched_getaffinity(0)))
    flags += f" --xla_force_host_platform_device_count={count}"
    os.environ["XLA_FLAGS"] = flags + collective_timeout_flag(flags)


#: seconds a CPU device waits in a collective for the others before XLA aborts the process
COLLECTIVE_TIMEOUT_S = 3600


def collective_timeout_flag(flags: str) -> str:
    """``--xla_cpu_collective_call_terminate_timeout_seconds`` raised from XLA's 40 s.

    Host devices of one process meet in all-reduces; on a loaded machine one device's thread
    can reach the rendezvous more than 40 s after the other (a car generation at load 4-9 did,
    and XLA exits: "Termination timeout ... only 1 of 2 threads arrived"). Waiting is correct:
    the other thread is slow, not stuck. Given only for jaxlib >= 0.10 (where the flag was
    checked; XLA refuses unknown flags) and when ``flags`` does not set it.
    """
    from importlib.metadata import PackageNotFoundError, version

    name = "xla_cpu_collective_call_terminate_timeout_seconds"
    try:
        major, minor = (int(v) for v in version("jaxlib").split(".")[:2])
    except (PackageNotFoundError, ValueError):
        return ""
    if name in flags or (major, minor) < (0, 10):
        return ""
    return f" --{name}={COLLECTIVE_TIMEOUT_S}"


def enable_compile_cache(enabled: bool = True) -> str | None:
    """JAX's persistent compilation cache in the user's cache folder (``HEBBJAX_CACHE``,
    else ``$XDG_CACHE_HOME/hebbjax/jax``, else ``~/.cache/hebbjax/jax``), so a second
    launch of the same run skips most of its compile time. Returns the folder.

    Every program is cached, however quick to compile: a run's setup dispatches about 80
    small eager programs (genome init, the strategy's constants, key splits) of 30-60 ms
    each, and reading them back saves about 2 s of every later launch (14.5 against
    16.7 s for a 9-generation run here); they take about 15 KB each."""
    if not enabled or os.environ.get("HEBBJAX_COMPILE_CACHE", "1") == "0":
        return None
    import jax

    root = os.environ.get("HEBBJAX_CACHE") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "hebbjax"
    )
    folder = os.path.join(root, "jax")
    try:
        os.makedirs(folder, exist_ok=True)
    except OSError:
        return None  # a read-only home: run without the cache
    jax.config.update("jax_compilation_cache_dir", folder)
    jax.config.update("jax_persistent_cache_min_compile_time_secs", 0)
    jax.config.update("jax_persistent_cache_min_entry_size_bytes", 0)
    return folder


def add_genome_format_argument(p) -> None:
    """``--genome-format`` of the commands that read genome files (its choices are
    ``hebbjax.models.genome_io.GENOME_FORMATS``, spelled here to keep ``--help`` jax-free)."""
    p.add_argument(
        "--genome-format",
        default="auto",
        choices=("auto", "epann", "npz"),
        help="auto (default): an npz archive holds hebbjax tensors, anything else the "
        "reference code's flat layout (epann)",
    )


def add_distributed_arguments(p: argparse.ArgumentParser) -> None:
    """``--distributed`` and its explicit settings (else JAX detects SLURM / TPU / MPI)."""
    g = p.add_argument_group("many processes (jax.distributed)")
    g.add_argument(
        "--distributed",
        action="store_true",
        help="join a multi-process run: every process runs the same command; process 0 "
        "writes the files",
    )
    g.add_argument("--coordinator", metavar="HOST:PORT", help="address of process 0")
    g.add_argument("--num-processes", type=positive_int, help="number of processes")
    g.add_argument("--process-id", type=int, help="this process's index, 0..N-1")


def start_distributed(args: argparse.Namespace) -> bool:
    """Initialise ``jax.distributed`` when asked; returns whether this process writes
    output (process 0, or the only process)."""
    explicit = (args.coordinator, args.num_processes, args.process_id)
    if any(v is not None for v in explicit) and not args.distributed:
        raise UsageError(
            "--coordinator/--num-processes/--process-id need --distributed"
        )
    if args.distributed:
        from hebbjax.parallel import initialize_distributed

        if args.process_id is not None and args.num_processes is not None:
            if not 0 <= args.process_id < args.num_processes:
                raise UsageError(
                    f"--process-id must be in 0..{args.num_processes - 1}, got "
                    f"{args.process_id}"
                )
        try:
            initialize_distributed(*explicit)
        except (RuntimeError, ValueError) as err:
            raise UsageError(f"cannot join the distributed run: {err}") from None
    import jax

    from hebbjax.parallel import configure_precision

    configure_precision()
    return jax.process_index() == 0

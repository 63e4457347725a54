"""Keyword options checked against the factory they go to, once, at the registry edge.

``make_model``, ``make_task`` and ``make_strategy`` call ``check_options`` before building, so
a misspelt option, a wrong type or an impossible size is a ``ConfigError`` naming the problem
and the valid keys, from the CLI (exit code 2) and from Python alike.
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Callable, Iterable
from typing import Any

from hebbjax.errors import ConfigError

# options that size a network or a task: whole numbers >= 1
SIZES = ("hidden", "n_in", "n_out", "n_rollouts", "max_steps", "size", "dim",
         "k_train", "n_test", "n_clusters_h", "n_clusters_x")  # fmt: skip


def accepted(factory: Callable) -> tuple[dict[str, inspect.Parameter], bool]:
    """A factory's keyword parameters and whether it also takes ``**kwargs``."""
    params = inspect.signature(factory).parameters
    named = {
        k: p
        for k, p in params.items()
        if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)
    }
    return named, any(p.kind is p.VAR_KEYWORD for p in params.values())


def _type_error(key: str, value: Any, want: type) -> str | None:
    if want is bool and not isinstance(value, bool):
        return f"{key} must be true or false, got {value!r}"
    if want is int and (isinstance(value, bool) or not isinstance(value, int)):
        return f"{key} must be a whole number, got {value!r}"
    if want is float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            return f"{key} must be a number, got {value!r}"
        if not math.isfinite(float(value)):
            return f"{key} must be finite, got {value!r}"
    if want is str and not isinstance(value, str):
        return f"{key} must be a string, got {value!r}"
    return None


def check_options(
    factory: Callable,
    options: dict[str, Any],
    what: str,
    fixed: Iterable[str] = (),
) -> None:
    """Raise a ``ConfigError`` unless every option is a keyword of ``factory`` (and not
    one of ``fixed``, which hebbjax sets itself) with its default's type and, for sizes,
    a whole number >= 1. ``what`` names the options in the message ("model option")."""
    named, open_ended = accepted(factory)
    fixed = set(fixed)
    valid = [k for k in named if k not in fixed]
    for key, value in options.items():
        if key in fixed:
            raise ConfigError(f"{what} {key!r} is set by hebbjax and cannot be given")
        if key not in named:
            if open_ended:
                continue
            raise ConfigError(
                f"unknown {what} {key!r}; valid options: {', '.join(valid) or 'none'}"
            )
        default = named[key].default
        # objects passed from Python (a rule factory, an optax optimizer) are not checked
        if default is not inspect.Parameter.empty and default is not None:
            if value is not None and not callable(value):
                message = _type_error(key, value, type(default))
                if message:
                    raise ConfigError(f"{what} {message}")
        if key in SIZES:
            sizes = value if isinstance(value, list | tuple) else [value]
            if any(
                isinstance(v, bool) or not isinstance(v, int) or v < 1 for v in sizes
            ):
                raise ConfigError(
                    f"{what} {key} must be a whole number >= 1, got {value!r}"
                )

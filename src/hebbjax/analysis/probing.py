"""Traced lifetimes on named sets, shared by the interventions of Najarro & Risi 2020
(freezing plasticity, freezing the actuators, zeroing synapses, weight attractors).

Every intervention is a ``tasks.lifetime.Probe`` and runs through ``rollout.evaluate``, so it
works on any task: the ant's morphology sets (``variant:<name>``, one lifetime of that
morphology; the paper's 100 lifetimes are ``repeats``) or a maze task's sets. Runs compared
with each other use the same keys: the same initial random weights and the same reset noise.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import jax
import numpy as np

from hebbjax.analysis.figures import cumulative, flat_lifetimes
from hebbjax.analysis.sources import ready


def default_sets(task: Any) -> list[str]:
    """The ant's morphology sets (``variant:<name>``), else ``["test"]``."""
    variants = [name for name in task.sets if name.startswith("variant:")]
    return variants or ["test"]


def check_sets(task: Any, sets: Sequence[str] | None) -> list[str]:
    sets = list(sets) if sets else default_sets(task)
    for name in sets:
        task.task_set(name)  # a ValueError lists the valid sets
    return sets


def lifetime_steps(task: Any) -> int | None:
    """Control steps of one lifetime, when the task says (the ant: ``n_steps`` less the
    burn-in; the maze: rollouts x step limit)."""
    s = task.settings
    if "n_steps" in s:
        burn = round(s.get("burn_in_seconds", 0.0) / s.get("control_dt", 1.0))
        return int(s["n_steps"]) - burn
    if "max_steps" in s and "n_rollouts" in s:
        return int(s["max_steps"]) * int(s["n_rollouts"])
    return None


def check_step(task: Any, step: int, what: str) -> None:
    n = lifetime_steps(task)
    if step < 0 or (n is not None and step > n):
        raise ValueError(
            f"{what} must be a step in 0..{n} of a {n}-step lifetime of {task.name}, got "
            f"{step} (a longer ant lifetime: task option seconds)"
        )


def run_probe(
    subject: Any,
    task: Any,
    set_name: str,
    probe: Any,
    key: jax.Array,
    *,
    repeats: int,
    n_tasks: int | None = None,
) -> tuple[Any, dict[str, Any]]:
    """``rollout.evaluate`` of one set with a recording probe, the trace flattened to
    (lifetimes, steps, ...)."""
    from hebbjax.rollout import evaluate

    ready(task)
    if set_name.startswith("variant:"):
        n_tasks = None
    result, trace = evaluate(
        subject.model,
        task,
        subject.params,
        set_name,
        key,
        repeats=repeats,
        n_tasks=n_tasks,
        probe=probe,
    )
    return result, flat_lifetimes(trace)


def reward_curves(trace: dict[str, Any]) -> dict[str, np.ndarray]:
    """Per-lifetime reward and cumulative reward over the lifetime's steps."""
    valid = np.asarray(trace["valid"], bool)
    reward = np.where(valid, np.asarray(trace["reward"], np.float64), np.nan)
    return dict(
        reward=reward,
        cumulative=cumulative(np.nan_to_num(reward), valid),
        valid=valid,
    )


def nan_stats(values: np.ndarray) -> dict[str, np.ndarray]:
    """Mean and std over lifetimes (axis 0) of the steps each lifetime reached (NaN:
    ended); a step no lifetime reached is NaN."""
    values = np.asarray(values, np.float64)
    ok = np.isfinite(values)
    count = ok.sum(axis=0)
    safe = np.maximum(count, 1)
    mean = np.where(ok, values, 0.0).sum(axis=0) / safe
    var = np.where(ok, (values - mean) ** 2, 0.0).sum(axis=0) / safe
    missing = count == 0
    return dict(
        mean=np.where(missing, np.nan, mean),
        std=np.where(missing, np.nan, np.sqrt(var)),
        n=count,
    )


def smooth(x: np.ndarray, window: int) -> np.ndarray:
    """Trailing moving average (the first ``window - 1`` values average what exists)."""
    x = np.asarray(x, np.float64)
    c = np.cumsum(np.insert(x, 0, 0.0))
    n = np.minimum(np.arange(1, len(x) + 1), window)
    return (c[1:] - c[np.maximum(np.arange(1, len(x) + 1) - window, 0)]) / n

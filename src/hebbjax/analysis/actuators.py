"""Freezing the actuators for a while: does the network recover?

Najarro & Risi 2020 sec. 4.3 and Fig. 3 (right): all outputs saturated to 1.0 for steps
300-400, the robot frozen in place; it recovers in about 50 steps. Here the actions of steps
``start..stop-1`` are overridden (``Probe(override_actions=(start, stop, value))``), and the
same lifetimes run without the perturbation for comparison.

Recovery: the first step after ``stop`` at which the perturbed lifetimes' mean reward,
averaged over the last ``window`` steps, reaches ``fraction`` of the unperturbed lifetimes'
mean reward over the steps after ``stop``; ``recovery_steps`` counts from ``stop`` (None:
not within the lifetime).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import jax
import numpy as np

from hebbjax.analysis.figures import label_of, new_figure, suptitle
from hebbjax.analysis.probing import (
    check_sets,
    check_step,
    nan_stats,
    reward_curves,
    run_probe,
    smooth,
)


def recovery_step(
    perturbed: np.ndarray, baseline: np.ndarray, stop: int, window: int, fraction: float
) -> int | None:
    """Steps after ``stop`` until the smoothed perturbed reward reaches ``fraction`` of the
    baseline's mean reward after ``stop`` (see the module docstring)."""
    target = fraction * np.nanmean(baseline[stop:]) if stop < len(baseline) else np.nan
    after = smooth(np.nan_to_num(perturbed), window)[stop:]
    hits = np.flatnonzero(after >= target) if np.isfinite(target) else []
    return int(hits[0]) if len(hits) else None


def actuator_freeze(
    subject: Any,
    task: Any,
    sets: Sequence[str] | None = None,
    key: jax.Array | None = None,
    *,
    start: int = 300,
    stop: int = 400,
    value: float = 1.0,
    repeats: int = 10,
    n_tasks: int | None = None,
    window: int = 20,
    fraction: float = 0.9,
) -> dict[str, Any]:
    """Per-step and cumulative reward with and without the actuators held at ``value``.

    Returns:
        ``{"sets": {name: {"baseline"|"perturbed": {"reward_mean", "reward_std",
        "cumulative_mean", "cumulative_std", "total_mean"}, "recovery_steps"}}}``.
    """
    from hebbjax.tasks import Probe

    if not 0 <= start < stop:
        raise ValueError(f"need 0 <= start < stop, got start={start}, stop={stop}")
    check_step(task, stop, "the end of the actuator freeze")
    key = jax.random.key(0) if key is None else key
    out = {}
    for name in check_sets(task, sets):
        runs = {}
        for label, probe in (
            ("baseline", Probe(record=("reward",))),
            (
                "perturbed",
                Probe(record=("reward",), override_actions=(start, stop, value)),
            ),
        ):
            _, trace = run_probe(
                subject, task, name, probe, key, repeats=repeats, n_tasks=n_tasks
            )
            curves = reward_curves(trace)
            r = nan_stats(curves["reward"])
            c = nan_stats(curves["cumulative"])
            runs[label] = dict(
                reward_mean=r["mean"],
                reward_std=r["std"],
                cumulative_mean=c["mean"],
                cumulative_std=c["std"],
                total_mean=float(curves["cumulative"][:, -1].mean()),
                n_lifetimes=int(curves["reward"].shape[0]),
            )
        runs["recovery_steps"] = recovery_step(
            runs["perturbed"]["reward_mean"],
            runs["baseline"]["reward_mean"],
            stop,
            window,
            fraction,
        )
        out[name] = runs
    return dict(
        analysis="actuator freeze",
        model=label_of(subject),
        task=task.name,
        reward=task.words.returns,
        start=start,
        stop=stop,
        value=value,
        window=window,
        fraction=fraction,
        repeats=repeats,
        sets=out,
    )


def draw_actuator_freeze(data: dict, title: str | None = None):
    """Top: reward per step (moving average), bottom: cumulative reward; the frozen
    window shaded; one column per set."""
    sets = data["sets"]
    fig, axes = new_figure(2, len(sets), size=(5, 3.2))
    for col, (name, s) in enumerate(sets.items()):
        for label, color in (("baseline", "tab:blue"), ("perturbed", "tab:red")):
            run = s[label]
            text = "no perturbation" if label == "baseline" else (
                f"actions = {data['value']} for steps {data['start']}-{data['stop']}"
            )  # fmt: skip
            r = smooth(np.nan_to_num(np.asarray(run["reward_mean"], float)),
                       data["window"])  # fmt: skip
            axes[0, col].plot(r, color=color, label=text)
            cm = np.asarray(run["cumulative_mean"], float)
            cs = np.asarray(run["cumulative_std"], float)
            x = np.arange(len(cm))
            axes[1, col].plot(x, cm, color=color, label=text)
            axes[1, col].fill_between(x, cm - cs, cm + cs, color=color, alpha=0.15)
        rec = s["recovery_steps"]
        axes[0, col].set_title(
            f"{name}: recovered "
            + (f"{rec} steps after the freeze" if rec is not None else "not at all"),
            fontsize=9,
        )
        for row in range(2):
            axes[row, col].axvspan(
                data["start"], data["stop"], color="grey", alpha=0.25
            )
            axes[row, col].grid(alpha=0.3)
            axes[row, col].set_xlabel("lifetime step")
        axes[0, col].set_ylabel(f"reward per step ({data['window']}-step mean)")
        axes[1, col].set_ylabel(f"cumulative: {data['reward']} (mean ± std)")
    axes[1, 0].legend(fontsize=7)
    suptitle(
        fig,
        title
        or f"Actuator freeze: {data['model']} on {data['task']} "
        f"({data['repeats']} lifetimes each)",
    )
    return fig

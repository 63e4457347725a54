"""Per-rollout returns within a lifetime: does the agent improve from rollout to rollout?

Wang et al. 2022 Fig. 2 (means and variances of the reward of each rollout in a 3-rollout
lifetime, several models side by side, 9x9 and 15x15 mazes) and Fig. 3 (8-rollout lifetimes,
task option ``n_rollouts=8``). The statistics are ``rollout.summarize``'s (one sample per
lifetime; standard errors with ddof 1), plus the standard deviation over lifetimes.
Every genome runs the same tasks with the same keys (common random numbers).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import jax
import numpy as np

from hebbjax.analysis.figures import colors, label_of, new_figure, suptitle
from hebbjax.analysis.sources import ready


def rollout_statistics(result: Any) -> dict[str, Any]:
    """``rollout.summarize(result)`` plus ``return_std`` (ddof 1) per rollout."""
    from hebbjax.rollout import summarize

    out = summarize(result)
    returns = np.asarray(result.returns, np.float64)
    returns = returns.reshape(-1, returns.shape[-1])
    std = returns.std(axis=0, ddof=1) if returns.shape[0] > 1 else 0 * returns[0]
    return out | dict(return_std=std.tolist())


def evaluate_panel(
    subjects: Sequence[Any],
    task: Any,
    task_set: Any = "test",
    key: jax.Array | None = None,
    *,
    n_tasks: int | None = None,
    repeats: int = 1,
    probe: Any = None,
) -> dict[str, Any]:
    """Per-rollout statistics of every subject (``label``, ``model``, ``params``) on one
    task and set, with the same keys for all."""
    from hebbjax.rollout import evaluate

    ready(task)
    key = jax.random.key(0) if key is None else key
    models = []
    for subject in subjects:
        result = evaluate(
            subject.model,
            task,
            subject.params,
            task_set,
            key,
            repeats=repeats,
            n_tasks=n_tasks,
            probe=probe,
        )
        if probe is not None and probe.record:
            result = result[0]
        models.append(dict(label=label_of(subject), **rollout_statistics(result)))
    words = task.words
    return dict(
        task=task.name,
        n_rollouts=task.n_rollouts,
        rollout_labels=[words.rollout_label(r) for r in range(task.n_rollouts)],
        returns_label=words.returns,
        rollout_word=words.rollout,
        task_set=task_set if isinstance(task_set, str) else "given",
        models=models,
    )


def rollout_returns(
    subjects: Sequence[Any],
    tasks: Sequence[Any],
    task_set: str = "test",
    key: jax.Array | None = None,
    *,
    n_tasks: int | None = None,
    repeats: int = 1,
) -> dict[str, Any]:
    """Per-rollout returns of several genomes, one panel per task (e.g. the same maze task
    with 3 and with 8 rollouts).

    Args:
        subjects: genomes (``analysis.sources.Subject`` or anything with ``label``,
            ``model``, ``params``).
        tasks: the tasks to evaluate on, one panel each.
        task_set: the set of each task ("test": 2,048 seeded mazes).
        key: the lifetimes' key (the same for every genome).
        n_tasks: use only the first ``n_tasks`` tasks of the set.
        repeats: lifetimes per task.

    Returns:
        ``{"panels": [{"task", "n_rollouts", "rollout_labels", "models": [{"label",
        "return_mean", "return_stderr", "return_std", "success_rate", ...}]}], ...}``.
    """
    key = jax.random.key(0) if key is None else key
    panels = [
        evaluate_panel(subjects, task, task_set, key, n_tasks=n_tasks, repeats=repeats)
        for task in tasks
    ]
    return dict(
        analysis="rollout returns",
        task_set=task_set,
        n_tasks=n_tasks,
        repeats=repeats,
        panels=panels,
    )


def draw_panels(
    data: dict, panel_title=lambda p: p["task"], title: str = "", band: str = "stderr"
):
    """One axis per panel: mean return of each rollout, ± ``band`` ("stderr" or "std"),
    three panels a row, one legend for the figure."""
    panels = data["panels"]
    labels = list(dict.fromkeys(m["label"] for p in panels for m in p["models"]))
    palette = dict(zip(labels, colors(len(labels)), strict=True))
    n_cols = min(3, len(panels))
    n_rows = -(-len(panels) // n_cols)
    fig, axes = new_figure(n_rows, n_cols, size=(4.4 if n_cols > 2 else 5, 3.6))
    handles = {}
    for ax in axes.flat[len(panels) :]:
        ax.axis("off")
    for ax, panel in zip(axes.flat, panels, strict=False):
        x = np.arange(1, panel["n_rollouts"] + 1)
        for m in panel["models"]:
            mean = np.asarray(m["return_mean"])
            err = np.asarray(m[f"return_{band}"])
            color = palette[m["label"]]
            (handles[m["label"]],) = ax.plot(x, mean, marker="o", color=color)
            ax.fill_between(x, mean - err, mean + err, color=color, alpha=0.2)
        ax.set_xticks(x)
        if panel["rollout_labels"] != [f"{panel['rollout_word']} {i}" for i in x]:
            ax.set_xticklabels(panel["rollout_labels"], rotation=30, fontsize=8)
        ax.set_xlabel(f"{panel['rollout_word']} in the lifetime")
        ax.set_ylabel(f"{panel['returns_label']}, mean ± {_band_name(band)}")
        ax.set_title(panel_title(panel), fontsize=9)
        ax.grid(alpha=0.3)
    fig.legend(
        list(handles.values()), list(handles), loc="outside lower center",
        ncols=min(3, len(handles)), fontsize=8,
    )  # fmt: skip
    if title:
        suptitle(fig, title)
    return fig


def _band_name(band: str) -> str:
    return "s.e.m." if band == "stderr" else "std"


def draw_rollout_returns(data: dict, title: str | None = None):
    """Per-rollout returns, one panel per task (Wang et al. 2022 Figs. 2-3)."""
    n = data["panels"][0]["models"][0]["n_lifetimes"]
    return draw_panels(
        data,
        lambda p: f"{p['task']}, {p['n_rollouts']}-{p['rollout_word']} lifetime",
        title
        or f"Return of each rollout ({data['task_set']} set, {n} lifetimes per model)",
    )

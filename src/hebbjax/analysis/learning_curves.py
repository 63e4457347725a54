"""Learning curves: validation score against generations and against wall-clock time.

Wang et al. 2022 appendix A.3, Fig. 6 (mean and variance of the validating score of
DecPRNN(PostDN), PRNN(PostDN) and Meta-RNN against generations and wall time) and EPRNN
Fig. 4 (meta-testing score against meta-training iterations).

A run's ``metrics.jsonl`` holds one record per generation; a record with ``validation`` was
validated (the ES mean, before that generation's update) and the last record may hold
``final_validation`` (after the last generation). ``elapsed_seconds`` restarts when a run
is resumed: the sessions are joined end to end. Runs are grouped by model (one colour per
model); a group of several runs (seeds) shows its mean and the standard deviation over seeds,
a single run the standard error of its validation score.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from hebbjax.analysis.figures import colors, new_figure, suptitle
from hebbjax.errors import RunError


def read_curve(run_dir: str | Path) -> dict[str, Any]:
    """One run's validation curve: generations, cumulative wall-clock seconds, score and
    its standard error, and the run's model, task and seed."""
    from hebbjax.config import TrainConfig
    from hebbjax.evolution.run_files import CONFIG, read_metrics

    run_dir = Path(run_dir)
    if not (run_dir / CONFIG).is_file():
        raise RunError(f"no hebbjax run in {run_dir} (missing {CONFIG})")
    config = TrainConfig.from_file(run_dir / CONFIG)
    records = read_metrics(run_dir)
    gens, secs, score, stderr = [], [], [], []
    offset, last = 0.0, 0.0
    for record in records:
        elapsed = float(record.get("elapsed_seconds", last - offset))
        if elapsed + offset < last - 1e-9:  # a resumed session: its clock restarted
            offset = last
        last = elapsed + offset
        for key, at in (("validation", 0), ("final_validation", 1)):
            v = record.get(key)
            if isinstance(v, dict) and v.get("score") is not None:
                gens.append(int(record["generation"]) + at)
                secs.append(last)
                score.append(float(v["score"]))
                stderr.append(float(v.get("score_stderr") or 0.0))
    if not gens:
        raise RunError(f"run {run_dir} has no validation records yet")
    return dict(
        run=str(run_dir),
        model=config.model,
        task=config.task,
        seed=config.seed,
        strategy=config.strategy,
        generation=gens,
        seconds=secs,
        score=score,
        score_stderr=stderr,
    )


def learning_curves(runs: Sequence[str | Path]) -> dict[str, Any]:
    """Validation curves of ``runs``, grouped by model (and task, when they differ).

    Returns:
        ``{"groups": [{"label", "runs": [read_curve...], "generation", "seconds",
        "mean", "spread", "spread_kind", "n_runs"}], "tasks": [...]}``; a group's
        ``generation`` axis holds every validated generation, ``mean``/``spread`` are
        over the runs validated at it, ``seconds`` their mean wall-clock.
    """
    if not runs:
        raise RunError("learning curves need at least one run directory")
    curves = [read_curve(r) for r in runs]
    tasks = sorted({c["task"] for c in curves})
    groups: dict[str, list[dict]] = {}
    for c in curves:
        label = c["model"] if len(tasks) == 1 else f"{c['model']} on {c['task']}"
        groups.setdefault(label, []).append(c)
    out = []
    for label, members in groups.items():
        grid = sorted({g for c in members for g in c["generation"]})
        mean, spread, secs, count = [], [], [], []
        for g in grid:
            hits = [
                (c["score"][i], c["score_stderr"][i], c["seconds"][i])
                for c in members
                for i, gg in enumerate(c["generation"])
                if gg == g
            ]
            values = np.asarray([h[0] for h in hits])
            mean.append(float(values.mean()))
            if len(members) > 1:
                spread.append(float(values.std(ddof=1)) if len(values) > 1 else 0.0)
            else:
                spread.append(hits[0][1])
            secs.append(float(np.mean([h[2] for h in hits])))
            count.append(len(hits))
        out.append(
            dict(
                label=label,
                runs=members,
                generation=grid,
                seconds=secs,
                mean=mean,
                spread=spread,
                n_at=count,
                n_runs=len(members),
                spread_kind="std over seeds"
                if len(members) > 1
                else "s.e.m. over validation tasks",
            )
        )
    return dict(groups=out, tasks=tasks)


def _time_axis(data: dict) -> tuple[float, str]:
    longest = max(max(g["seconds"]) for g in data["groups"])
    if longest > 2 * 3600:
        return 3600.0, "wall-clock time (hours)"
    if longest > 120:
        return 60.0, "wall-clock time (minutes)"
    return 1.0, "wall-clock time (seconds)"


def draw_learning_curves(data: dict, title: str | None = None):
    """Two panels: validation score vs generations and vs wall-clock time."""
    fig, axes = new_figure(1, 2, size=(5.5, 4))
    scale, time_label = _time_axis(data)
    for group, color in zip(data["groups"], colors(len(data["groups"])), strict=True):
        mean = np.asarray(group["mean"])
        spread = np.asarray(group["spread"])
        name = f"{group['label']} ({group['n_runs']} run{'s' * (group['n_runs'] > 1)})"
        for ax, x in (
            (axes[0, 0], np.asarray(group["generation"])),
            (axes[0, 1], np.asarray(group["seconds"]) / scale),
        ):
            if group["n_runs"] > 1:
                for run in group["runs"]:
                    xs = run["generation"] if ax is axes[0, 0] else run["seconds"]
                    xs = np.asarray(xs) / (1 if ax is axes[0, 0] else scale)
                    ax.plot(xs, run["score"], color=color, alpha=0.25, lw=0.8)
            ax.plot(x, mean, color=color, lw=1.8, label=name)
            ax.fill_between(x, mean - spread, mean + spread, color=color, alpha=0.2)
    kinds = sorted({g["spread_kind"] for g in data["groups"]})
    axes[0, 0].set_xlabel("generation")
    axes[0, 1].set_xlabel(time_label)
    for ax in axes[0]:
        ax.set_ylabel("validation score (task fitness)")
        ax.grid(alpha=0.3)
    axes[0, 0].legend(fontsize=8, loc="lower right")
    tasks = ", ".join(data["tasks"])
    suptitle(
        fig,
        title
        or f"Validation score during training on {tasks} (band: {'; '.join(kinds)})",
    )
    return fig

"""Freezing plasticity after t steps: how many Hebbian updates does the network need?

Najarro & Risi 2020 sec. 4.3 and Fig. 3 (left): the cumulative reward of the quadruped whose
weights are frozen at different time steps; the evolved network needs 30-80 Hebbian updates
to reach high-performing weights. Here plasticity is switched off from step t on
(``Probe(freeze_plasticity_at=t)``); freezing at step 0 leaves the lifetime's random initial
weights in place for the whole lifetime. Every freeze step runs the same lifetimes (keys).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import jax
import numpy as np

from hebbjax.analysis.figures import label_of, mean_spread, new_figure, suptitle
from hebbjax.analysis.probing import check_sets, check_step, reward_curves, run_probe

DEFAULT_STEPS = (0, 10, 20, 30, 40, 50, 60, 80, 100, 150, 200)


def freeze_plasticity(
    subject: Any,
    task: Any,
    sets: Sequence[str] | None = None,
    key: jax.Array | None = None,
    *,
    freeze_steps: Sequence[int] = DEFAULT_STEPS,
    repeats: int = 10,
    n_tasks: int | None = None,
) -> dict[str, Any]:
    """Cumulative reward with plasticity frozen at each of ``freeze_steps``, per set.

    Returns:
        ``{"sets": {name: {"freeze_steps", "total": {"mean", "std", "stderr"} per
        freeze step, "never_frozen": {...}, "curves": mean cumulative reward over the
        lifetime per freeze step}}}``; one compiled lifetime per freeze step.
    """
    from hebbjax.tasks import Probe

    key = jax.random.key(0) if key is None else key
    freeze_steps = sorted({int(t) for t in freeze_steps})
    for t in freeze_steps:
        check_step(task, t, "a freeze step")
    out = {}
    for name in check_sets(task, sets):
        totals, curves = [], []
        for t in [*freeze_steps, None]:
            probe = Probe(record=("reward",), freeze_plasticity_at=t)
            _, trace = run_probe(
                subject, task, name, probe, key, repeats=repeats, n_tasks=n_tasks
            )
            cum = reward_curves(trace)["cumulative"]
            totals.append(mean_spread(cum[:, -1]))
            curves.append(cum.mean(axis=0))
        out[name] = dict(
            freeze_steps=freeze_steps,
            total={
                k: [float(s[k]) for s in totals[:-1]] for k in ("mean", "std", "stderr")
            },
            never_frozen={k: float(totals[-1][k]) for k in ("mean", "std", "stderr")},
            n_lifetimes=int(totals[-1]["n"]),
            curves=[c.tolist() for c in curves[:-1]],
            never_frozen_curve=curves[-1].tolist(),
        )
    return dict(
        analysis="freezing plasticity",
        model=label_of(subject),
        task=task.name,
        reward=task.words.returns,
        repeats=repeats,
        sets=out,
    )


def draw_freeze_plasticity(data: dict, title: str | None = None):
    """Left: cumulative reward at the end of the lifetime against the freeze step (mean
    ± std), per set. Right: cumulative reward over the lifetime for each freeze step
    (first set)."""
    from matplotlib import colormaps

    fig, axes = new_figure(1, 2, size=(5.2, 4))
    ax = axes[0, 0]
    for name, s in data["sets"].items():
        x = np.asarray(s["freeze_steps"])
        mean, std = np.asarray(s["total"]["mean"]), np.asarray(s["total"]["std"])
        line = ax.errorbar(x, mean, yerr=std, marker="o", capsize=3, label=name)
        ax.axhline(s["never_frozen"]["mean"], color=line[0].get_color(), ls="--",
                   lw=1, label=f"{name}, never frozen")  # fmt: skip
    ax.set_xlabel("plasticity frozen from step t")
    ax.set_ylabel(f"cumulative reward: {data['reward']} (mean ± std)")
    ax.legend(fontsize=7)
    ax.grid(alpha=0.3)
    name, s = next(iter(data["sets"].items()))
    ax = axes[0, 1]
    cmap = colormaps["viridis"]
    steps = s["freeze_steps"]
    for i, (t, curve) in enumerate(zip(steps, s["curves"], strict=True)):
        ax.plot(curve, color=cmap(i / max(1, len(steps) - 1)), lw=1, label=f"t = {t}")
    ax.plot(s["never_frozen_curve"], color="k", ls="--", lw=1, label="never frozen")
    ax.set_xlabel("lifetime step")
    ax.set_ylabel(f"cumulative reward so far ({data['reward']})")
    ax.set_title(f"{name}: mean over {s['n_lifetimes']} lifetimes", fontsize=9)
    ax.legend(fontsize=6, ncol=2)
    ax.grid(alpha=0.3)
    suptitle(
        fig,
        title or f"Freezing plasticity: {data['model']} on {data['task']}",
        fontsize=10,
    )
    return fig

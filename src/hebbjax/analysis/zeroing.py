"""Zeroing a fraction of the synapses at one step: does the network re-converge?

Najarro & Risi 2020 sec. 4.3 and Fig. 4: a third of the weights zeroed during one time step;
the reward drops briefly and the weights recover within about 10 steps. Here each plastic
synapse is zeroed with probability ``fraction`` just before the network acts at step ``at``
(``Probe(zero_at, zero_fraction)``); the same lifetimes run without it for comparison.

The weight matrices are read after each step: ``before`` is after step ``at - 1``, ``at``
after step ``at`` (the zeroed matrix plus that step's one Hebbian update), ``after`` after step
``at + after`` (paper: 10 steps later). They come from the first lifetime of the first set.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import jax
import numpy as np

from hebbjax.analysis.figures import blank_figure, label_of, suptitle
from hebbjax.analysis.probing import (
    check_sets,
    check_step,
    nan_stats,
    reward_curves,
    run_probe,
    smooth,
)


def zero_synapses(
    subject: Any,
    task: Any,
    sets: Sequence[str] | None = None,
    key: jax.Array | None = None,
    *,
    at: int = 300,
    fraction: float = 1 / 3,
    after: int = 10,
    repeats: int = 10,
    n_tasks: int | None = None,
) -> dict[str, Any]:
    """Reward around the zeroing (with and without it) and the weights before and after.

    Returns:
        ``{"sets": {name: {"baseline"|"zeroed": {"reward_mean", "reward_std",
        "cumulative_mean", "total_mean"}}}, "weights": {"names", "before", "at",
        "after" (a list of matrices each)}, "distance_to_before": {"at"|"after": per
        matrix, ||W - W_before|| / ||W_before||}}``.
    """
    from hebbjax.tasks import Probe

    if not 0.0 <= fraction <= 1.0:
        raise ValueError(f"fraction must be in [0, 1], got {fraction}")
    if at < 1:
        raise ValueError(f"the zeroing step must be >= 1 (weights before it), got {at}")
    check_step(task, at + after, "the zeroing step plus 'after'")
    key = jax.random.key(0) if key is None else key
    sets = check_sets(task, sets)
    out = {}
    for name in sets:
        runs = {}
        for label, probe in (
            ("baseline", Probe(record=("reward",))),
            ("zeroed", Probe(record=("reward",), zero_at=at, zero_fraction=fraction)),
        ):
            _, trace = run_probe(
                subject, task, name, probe, key, repeats=repeats, n_tasks=n_tasks
            )
            curves = reward_curves(trace)
            r, c = nan_stats(curves["reward"]), nan_stats(curves["cumulative"])
            runs[label] = dict(
                reward_mean=r["mean"],
                reward_std=r["std"],
                cumulative_mean=c["mean"],
                cumulative_std=c["std"],
                total_mean=float(curves["cumulative"][:, -1].mean()),
                n_lifetimes=int(curves["reward"].shape[0]),
            )
        out[name] = runs
    probe = Probe(record=("weights",), zero_at=at, zero_fraction=fraction)
    _, trace = run_probe(subject, task, sets[0], probe, key, repeats=1, n_tasks=1)
    names = sorted(trace["weights"])
    steps = np.where(trace["valid"][0], trace["step"][0], -1)
    if not (steps == at + after).any():
        raise ValueError(
            f"the first lifetime of {sets[0]} ended before step {at + after}; choose an "
            "earlier step"
        )
    pick = {
        label: [
            trace["weights"][n][0][int(np.flatnonzero(steps == s)[0])] for n in names
        ]
        for label, s in (("before", at - 1), ("at", at), ("after", at + after))
    }
    # zero synapses right after the zeroing: read before the step's update would blur it
    # how far each matrix is from its pre-zeroing value, relative to that value: the paper
    # sees the weights re-converge within about 10 steps (a falling distance)
    distance = {
        label: [
            float(np.linalg.norm(m - b) / (np.linalg.norm(b) or 1.0))
            for m, b in zip(pick[label], pick["before"], strict=True)
        ]
        for label in ("at", "after")
    }
    return dict(
        analysis="zeroing synapses",
        model=label_of(subject),
        task=task.name,
        reward=task.words.returns,
        at=at,
        after=after,
        fraction=fraction,
        repeats=repeats,
        sets=out,
        weights=dict(names=names, **pick),
        distance_to_before=distance,
    )


def draw_zero_synapses(data: dict, title: str | None = None):
    """Top: each weight matrix before, at and ``after`` steps after the zeroing (first
    lifetime). Bottom: reward per step around the event, with and without zeroing."""
    from matplotlib.ticker import MaxNLocator

    w = data["weights"]
    n_mat = max(1, len(w["names"]))
    fig = blank_figure(3.4 * max(3, n_mat), 2.6 * 3 + 3.2)
    top, bottom = fig.subfigures(2, 1, height_ratios=[3 * 2.6, 3.2])
    grid = top.subplots(3, n_mat, squeeze=False)
    for row, (label, text) in enumerate(
        (
            ("before", f"step {data['at'] - 1}"),
            ("at", f"step {data['at']} (zeroed)"),
            ("after", f"step {data['at'] + data['after']}"),
        )
    ):
        for m, name in enumerate(w["names"]):
            ax = grid[row, m]
            mat = np.asarray(w[label][m], float)
            lim = float(np.max(np.abs(np.asarray(w["before"][m], float)))) or 1.0
            image = ax.imshow(mat, cmap="RdBu_r", vmin=-lim, vmax=lim, aspect="auto",
                              interpolation="nearest")  # fmt: skip
            caption = f"{name}, {text}"
            if label != "before":
                away = data["distance_to_before"][label][m]
                caption += f"\n{away:.0%} of |W| away from step {data['at'] - 1}"
            ax.set_title(caption, fontsize=8)
            ax.set_xlabel("pre-synaptic unit", fontsize=7)
            ax.set_ylabel("post-synaptic unit", fontsize=7)
            ax.tick_params(labelsize=6)
            ax.xaxis.set_major_locator(MaxNLocator(integer=True))
            ax.yaxis.set_major_locator(MaxNLocator(integer=True))
            top.colorbar(image, ax=ax)
    ax = bottom.subplots()
    lo = max(0, data["at"] - 100)
    for name, s in data["sets"].items():
        for label, ls in (("baseline", "--"), ("zeroed", "-")):
            r = smooth(np.nan_to_num(np.asarray(s[label]["reward_mean"], float)), 5)
            x = np.arange(len(r))
            hi = min(len(r), data["at"] + 200)
            ax.plot(x[lo:hi], r[lo:hi], ls=ls, label=f"{name}, {label}")
    ax.axvline(data["at"], color="purple", lw=1.5, label="zeroing")
    ax.set_xlabel("lifetime step")
    ax.set_ylabel("reward per step (5-step mean)")
    ax.legend(fontsize=7, ncol=2)
    ax.grid(alpha=0.3)
    suptitle(
        fig,
        title
        or f"Zeroing {data['fraction']:.0%} of the synapses at step {data['at']}: "
        f"{data['model']} on {data['task']} ({data['repeats']} lifetimes)",
    )
    return fig

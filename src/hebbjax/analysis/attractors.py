"""Weight attractors: the first three principal components of the plastic weights over a
lifetime, per morphology.

Najarro & Risi 2020 sec. 4.3 and Fig. 5: PCA of the synaptic weights at each of 1,000 time
steps; with the evolved Hebbian coefficients the quadruped's weights follow a 3-D curve with
an oscillatory signature (an attractor in weight space); with random coefficients there is no
apparent structure. One lifetime per set (morphology); the PCA (numpy SVD of the centred
weights) is fitted per lifetime, as each panel of the paper. ``random_params`` adds the same
lifetimes with a random genome (e.g. ``model.init_params(key)``) for the contrast.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import jax
import numpy as np

from hebbjax.analysis.figures import blank_figure, label_of, suptitle
from hebbjax.analysis.probing import check_sets, run_probe


def principal_components(
    points: np.ndarray, k: int = 3
) -> tuple[np.ndarray, np.ndarray]:
    """(n, d) -> the first ``k`` principal-component scores (n, k) and their explained
    variance ratios (zero-padded when fewer components exist)."""
    x = np.asarray(points, np.float64)
    x = x - x.mean(axis=0)
    u, s, _ = np.linalg.svd(x, full_matrices=False)
    scores = u[:, :k] * s[:k]
    total = float(np.sum(s**2)) or 1.0
    ratio = s[:k] ** 2 / total
    pad = k - scores.shape[1]
    return np.pad(scores, ((0, 0), (0, pad))), np.pad(ratio, (0, pad))


def weight_trajectory(subject, task, set_name, key, every: int) -> dict[str, Any]:
    from hebbjax.tasks import Probe

    probe = Probe(record=("weights",), every=every)
    result, trace = run_probe(subject, task, set_name, probe, key, repeats=1, n_tasks=1)
    valid = trace["valid"][0]
    names = sorted(trace["weights"])
    if not names:
        raise ValueError(f"{label_of(subject)} has no plastic weights to trace")
    flat = np.concatenate(
        [trace["weights"][n][0].reshape(valid.shape[0], -1) for n in names], axis=1
    )[valid]
    scores, ratio = principal_components(flat)
    return dict(
        step=trace["step"][0][valid],
        pcs=scores,
        explained=ratio,
        total_reward=float(np.asarray(result.returns).reshape(-1)[0]),
        n_weights=int(flat.shape[1]),
    )


def weight_attractors(
    subject: Any,
    task: Any,
    sets: Sequence[str] | None = None,
    key: jax.Array | None = None,
    *,
    every: int = 1,
    random_params: Any = None,
) -> dict[str, Any]:
    """PCA trajectories of the plastic weights over one lifetime per set.

    Returns:
        ``{"sets": {name: {"evolved": {"step", "pcs" (steps, 3), "explained",
        "total_reward"}, "random": {...} (with ``random_params``)}}}``.
    """
    key = jax.random.key(0) if key is None else key
    out = {}
    for name in check_sets(task, sets):
        out[name] = dict(evolved=weight_trajectory(subject, task, name, key, every))
        if random_params is not None:
            other = subject._replace(params=random_params, label="random coefficients")
            out[name]["random"] = weight_trajectory(other, task, name, key, every)
    return dict(
        analysis="weight attractors",
        model=label_of(subject),
        task=task.name,
        reward=task.words.returns,
        every=every,
        sets=out,
    )


def draw_weight_attractors(data: dict, title: str | None = None):
    """One 3-D panel per set (columns) and genome (rows: evolved, random): the first
    three PCs, coloured by time, the first step a star."""
    from matplotlib import colormaps

    kinds = list(dict.fromkeys(k for s in data["sets"].values() for k in s))
    columns = len(data["sets"])
    fig = blank_figure(4.6 * columns, 4.4 * len(kinds))
    cmap = colormaps["viridis"]
    panels = [
        (row * columns + col + 1, name, kind, s[kind])
        for col, (name, s) in enumerate(data["sets"].items())
        for row, kind in enumerate(kinds)
        if kind in s
    ]
    for index, name, kind, run in panels:
        ax = fig.add_subplot(len(kinds), columns, index, projection="3d")
        pcs = np.asarray(run["pcs"], float)
        steps = np.asarray(run["step"], float)
        ax.plot(pcs[:, 0], pcs[:, 1], pcs[:, 2], color="grey", lw=0.4, alpha=0.6)
        dots = ax.scatter(pcs[:, 0], pcs[:, 1], pcs[:, 2], c=steps, cmap=cmap, s=4)
        ax.scatter(*pcs[0], marker="*", s=150, color="red", label="first step")
        ev = run["explained"]
        ax.set_xlabel(f"PC1 ({ev[0]:.0%})", fontsize=7)
        ax.set_ylabel(f"PC2 ({ev[1]:.0%})", fontsize=7)
        ax.set_zlabel(f"PC3 ({ev[2]:.0%})", fontsize=7)
        ax.tick_params(labelsize=6)
        genome = "evolved rules" if kind == "evolved" else "random rules"
        ax.set_title(
            f"{name}, {genome}\n{data['reward']}: {run['total_reward']:.2f}", fontsize=8
        )
        fig.colorbar(dots, ax=ax, shrink=0.5, label="lifetime step")
    suptitle(
        fig,
        title
        or f"Plastic weights over one lifetime, first 3 principal components: "
        f"{data['model']} on {data['task']}",
    )
    return fig

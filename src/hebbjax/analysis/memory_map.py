"""Trajectories of the plastic weights W_t and the hidden state h_t, embedded in 2-D.

Wang et al. 2022 appendix A.4 and Fig. 7 (t-SNE of W_{h,t} and h_t over lifetimes in several
mazes, the end of each rollout marked with a red star: the weights drift slowly and apart by
maze, long-term memory; the hidden state vibrates fast in one region, short-term memory) and
EPRNN Fig. 5 (t-SNE of W_t over tasks: the weights start together and move apart by task).

The memory is read with a ``Probe`` every ``every`` steps (``models/memory.py`` splits it into
plastic weights and hidden state, for any model). All lifetimes of one kind are embedded
together (scikit-learn's ``TSNE``, or ``PCA``), so their trajectories share one map.
"""

from __future__ import annotations

from typing import Any

import jax
import numpy as np

from hebbjax.analysis.figures import (
    colors,
    flat_lifetimes,
    label_of,
    new_figure,
    suptitle,
)
from hebbjax.analysis.sources import ready

METHODS = ("tsne", "pca")
KINDS = {"weights": "plastic weights W_t", "hidden": "hidden state h_t"}


def embed(points: np.ndarray, method: str = "tsne", seed: int = 0, perplexity=30.0):
    """(n, d) -> (n, 2) with scikit-learn's t-SNE (PCA-initialised) or PCA."""
    if method not in METHODS:
        raise ValueError(f"unknown embedding {method!r}; valid: {', '.join(METHODS)}")
    points = np.asarray(points, np.float64)
    if method == "pca":
        from sklearn.decomposition import PCA

        n = min(2, *points.shape)
        out = PCA(n_components=n, random_state=seed).fit_transform(points)
        return np.pad(out, ((0, 0), (0, 2 - n)))
    from sklearn.manifold import TSNE

    perplexity = float(min(perplexity, max(1.0, (points.shape[0] - 1) / 3)))
    return TSNE(
        n_components=2, perplexity=perplexity, init="pca", random_state=seed
    ).fit_transform(points)


def _features(part: dict[str, np.ndarray]) -> tuple[np.ndarray, list[str]]:
    """(lifetimes, steps, features) from a dict of per-step arrays."""
    names = sorted(part)
    if not names:
        return np.zeros((0, 0, 0)), []
    flat = [part[n].reshape(*part[n].shape[:2], -1) for n in names]
    return np.concatenate(flat, axis=-1).astype(np.float64), names


def memory_map(
    subject: Any,
    task: Any,
    task_set: Any = "test",
    key: jax.Array | None = None,
    *,
    n_tasks: int = 6,
    every: int = 4,
    method: str = "tsne",
    seed: int = 0,
) -> dict[str, Any]:
    """Embedded trajectories of W_t and h_t over one lifetime in each of ``n_tasks`` tasks.

    Returns:
        ``{"kinds": {"weights"|"hidden": {"names", "n_features", "points" (tasks, steps,
        2)}}, "rollout" (tasks, steps), "valid", "step", "rollout_ends" (per task, the
        index of the last recorded step of each rollout), "returns", ...}``. A kind the
        model lacks (no hidden state in a feed-forward network) is left out.
    """
    from hebbjax.rollout import evaluate
    from hebbjax.tasks import Probe

    if method not in METHODS:
        raise ValueError(f"unknown embedding {method!r}; valid: {', '.join(METHODS)}")
    ready(task)
    probe = Probe(record=("weights", "hidden"), every=every)
    result, trace = evaluate(
        subject.model, task, subject.params, task_set, key, n_tasks=n_tasks, probe=probe
    )
    trace = flat_lifetimes(trace)
    valid = trace["valid"]
    kinds = {}
    for kind in KINDS:
        feats, names = _features(trace[kind])
        if not names or feats.shape[-1] == 0:
            continue
        embedded = np.zeros((*valid.shape, 2))
        embedded[valid] = embed(feats[valid], method, seed)
        kinds[kind] = dict(
            names=names, n_features=int(feats.shape[-1]), points=embedded
        )
    rollout = trace["rollout"]
    ends = []
    for i in range(valid.shape[0]):
        idx = [
            int(np.flatnonzero(valid[i] & (rollout[i] == r))[-1])
            for r in range(task.n_rollouts)
            if np.any(valid[i] & (rollout[i] == r))
        ]
        ends.append(idx)
    returns = np.asarray(result.returns).reshape(valid.shape[0], -1)
    return dict(
        analysis="memory trajectories",
        model=label_of(subject),
        task=task.name,
        method=method,
        every=every,
        kinds=kinds,
        valid=valid,
        step=trace["step"],
        rollout=rollout,
        rollout_ends=ends,
        returns=returns,
    )


def draw_memory_map(data: dict, title: str | None = None):
    """One panel per kind; one colour per task; red stars at the end of each rollout."""
    kinds = list(data["kinds"])
    if not kinds:
        raise ValueError("the model has neither plastic weights nor hidden state")
    fig, axes = new_figure(1, len(kinds), size=(5, 4.5))
    valid = np.asarray(data["valid"], bool)
    palette = colors(valid.shape[0])
    for ax, kind in zip(axes[0], kinds, strict=True):
        points = np.asarray(data["kinds"][kind]["points"])
        for i in range(valid.shape[0]):
            p = points[i][valid[i]]
            ax.plot(p[:, 0], p[:, 1], color=palette[i], lw=0.8, alpha=0.8,
                    label=f"{data['task']} task {i + 1}")  # fmt: skip
            ax.scatter(p[0, 0], p[0, 1], color=palette[i], marker="o", s=25)
            ends = points[i][data["rollout_ends"][i]]
            ax.scatter(ends[:, 0], ends[:, 1], color="red", marker="*", s=70,
                       zorder=3, label="end of a rollout" if i == 0 else None)  # fmt: skip
        n = data["kinds"][kind]["n_features"]
        ax.set_title(f"{KINDS[kind]} ({n} values)", fontsize=9)
        axis = "t-SNE" if data["method"] == "tsne" else "PC"
        ax.set_xlabel(f"{axis} 1 (arbitrary units)")
        ax.set_ylabel(f"{axis} 2 (arbitrary units)")
    axes[0, -1].legend(fontsize=7, loc="best")
    suptitle(
        fig,
        title
        or f"{data['model']}: memory over one lifetime per task ({data['method']}, "
        f"every {data['every']} steps; circle: start)",
    )
    return fig

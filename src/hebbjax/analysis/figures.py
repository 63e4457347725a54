"""What every analysis shares: JSON-ready data, matplotlib figures without pyplot, atomic
PNG + JSON files, trace reshaping and mean/spread statistics.

matplotlib is imported inside the functions that draw (``Figure`` objects rendered by the Agg
canvas, no global pyplot state, no backend switch in the user's session).
"""

from __future__ import annotations

import io
import json
import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from hebbjax.checkpoint import atomic_write_bytes

DPI = 120


def json_ready(value: Any) -> Any:
    """``value`` with numpy/JAX arrays as lists, numpy scalars as Python numbers and NaN or
    infinities as None (strict JSON)."""
    if isinstance(value, Mapping):
        return {str(k): json_ready(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_ready(v) for v in value]
    if hasattr(value, "shape") and hasattr(value, "tolist"):
        return json_ready(np.asarray(value).tolist())
    if isinstance(value, np.generic):
        return json_ready(value.item())
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def new_figure(
    nrows: int = 1, ncols: int = 1, size: tuple[float, float] = (5, 4), **kw
):
    """A matplotlib ``Figure`` and its axes array (always 2-d), no pyplot involved."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(size[0] * ncols, size[1] * nrows), layout="constrained")
    axes = fig.subplots(nrows, ncols, squeeze=False, **kw)
    return fig, axes


def blank_figure(width: float, height: float):
    """An empty ``Figure`` (inches), for layouts built with ``add_gridspec``."""
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), layout="constrained")


def suptitle(fig, text: str, fontsize: float = 10) -> None:
    """A figure title wrapped to the figure's width."""
    import textwrap

    chars = max(30, int(fig.get_figwidth() * 72 / (0.6 * fontsize)))
    fig.suptitle(textwrap.fill(text, chars), fontsize=fontsize)


def colors(n: int) -> list:
    """``n`` distinct colours (tab10, then tab20)."""
    from matplotlib import colormaps

    cmap = colormaps["tab10" if n <= 10 else "tab20"]
    return [cmap(i % cmap.N) for i in range(n)]


def save(fig: Any, data: Mapping[str, Any], out_dir: str | Path, stem: str) -> tuple:
    """Write ``<out_dir>/<stem>.png`` and the plotted data as ``<stem>.json``, atomically.

    Returns:
        The two paths (png, json).
    """
    out_dir = Path(out_dir)
    png, js = out_dir / f"{stem}.png", out_dir / f"{stem}.json"
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=DPI)
    atomic_write_bytes(png, buf.getvalue())
    atomic_write_bytes(js, (json.dumps(json_ready(data), indent=1) + "\n").encode())
    return png, js


def mean_spread(values: Any, axis: int = 0) -> dict[str, np.ndarray]:
    """Mean, std (ddof 1) and standard error over ``axis`` (std 0 for one sample)."""
    values = np.asarray(values, np.float64)
    n = values.shape[axis]
    mean = values.mean(axis=axis)
    std = values.std(axis=axis, ddof=1) if n > 1 else np.zeros_like(mean)
    return dict(mean=mean, std=std, stderr=std / math.sqrt(n), n=n)


def flat_lifetimes(trace: Mapping[str, Any]) -> dict[str, Any]:
    """A trace of ``rollout.evaluate`` with every leading axis (tasks, repeats, and any
    axis the task adds, e.g. the ant's morphologies) merged into one: (lifetimes, steps,
    ...). Nested dicts (``hidden``, ``weights``) are flattened per entry."""
    lead = np.asarray(trace["step"]).ndim - 1

    def merge(x):
        x = np.asarray(x)
        return x.reshape((-1, *x.shape[lead:]))

    return {
        k: ({n: merge(v) for n, v in x.items()} if isinstance(x, Mapping) else merge(x))
        for k, x in trace.items()
    }


def traced(subject: Any, task: Any, task_params: Any, key: Any, *record: str):
    """``(LifetimeResult, flat trace)`` of one lifetime per task of ``task_params``,
    recording the trace fields ``record`` (``flat_lifetimes``)."""
    from hebbjax.rollout import evaluate
    from hebbjax.tasks import Probe

    result, trace = evaluate(
        subject.model,
        task,
        subject.params,
        task_params,
        key,
        probe=Probe(record=record),
    )
    return result, flat_lifetimes(trace)


def cumulative(rewards: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """Running sum of the valid steps' rewards, held after a lifetime ends."""
    return np.cumsum(np.where(valid, rewards, 0.0), axis=-1)


def label_of(entry: Any) -> str:
    return getattr(entry, "label", None) or "genome"

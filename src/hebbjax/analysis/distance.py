"""Distance walked per morphology, seen and held out, with Najarro's "solved" criterion.

Najarro & Risi 2020 Table 1 (distance over 100 lifetimes for the standard, the seen damaged and
the unseen damaged ant; "Solved" = "monotonically moving away from its initial position at
least 100 units of length along a fixed axis") and Palm, Najarro & Risi 2021 Table 1 (mean and
std over 100 samples, four training morphologies and one held out).

Units. The papers' distances are pybullet "progress" sums: potential differences with
potential = -distance / dt, dt = 0.0165 s, i.e. about 60.6 x the metres walked along +x
(spec ``hebbian-ant-brax.md`` 1.5). hebbjax's ant reports metres of torso displacement along
+x, so the table gives both: metres, and "progress units" = metres / 0.0165. The 100-unit
threshold is therefore 1.65 m. The Brax ant is not the pybullet ant (body, gear, timestep),
so the numbers are comparable in kind, not in value.

"Solved", made operational: a lifetime is solved when it moved at least ``threshold_units``
along +x and its torso x, read every ``window`` steps (1 s at the default 0.02 s control
step), never decreased by more than ``tolerance_m`` (a gait's sway within a second is allowed,
walking back is not). A morphology is solved when at least half of its lifetimes are.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import jax
import numpy as np

from hebbjax.analysis.figures import label_of, new_figure, suptitle
from hebbjax.analysis.probing import check_sets, run_probe

PYBULLET_DT = 0.0165  # progress units per metre = 1 / dt


def monotone(x: np.ndarray, valid: np.ndarray, tolerance: float) -> bool:
    """Whether the valid samples of ``x`` never fall by more than ``tolerance``."""
    x = np.asarray(x, np.float64)[np.asarray(valid, bool)]
    if x.size < 2:
        return True
    return bool(np.all(x[1:] - np.maximum.accumulate(x)[:-1] >= -tolerance))


def distance_table(
    subject: Any,
    task: Any,
    sets: Sequence[str] | None = None,
    key: jax.Array | None = None,
    *,
    repeats: int = 100,
    n_tasks: int | None = None,
    window: int = 50,
    tolerance_m: float = 0.0,
    threshold_units: float = 100.0,
) -> dict[str, Any]:
    """Distance per set (default: every ``variant:<name>`` set of an ant task).

    Returns:
        ``{"rows": [{"set", "role", "mean_m", "std_m", "stderr_m", "mean_units",
        "std_units", "solved_fraction", "monotone_fraction", "solved"}], "lifetimes":
        {set: {"distance_m": [...], "solved": [...]}}, ...}``.
    """
    from hebbjax.tasks import Probe

    key = jax.random.key(0) if key is None else key
    probe = Probe(record=("position",), every=window)
    rows, lifetimes = [], {}
    threshold_m = threshold_units * PYBULLET_DT
    for name in check_sets(task, sets):
        result, trace = run_probe(
            subject, task, name, probe, key, repeats=repeats, n_tasks=n_tasks
        )
        pos = np.asarray(trace["position"], np.float64)
        valid = np.asarray(trace["valid"], bool)
        # one traced lifetime per ant morphology; a maze lifetime sums its rollouts
        dist = np.asarray(result.returns, np.float64).reshape(len(pos), -1).sum(-1)
        mono = np.array(
            [monotone(pos[i, :, 0], valid[i], tolerance_m) for i in range(len(dist))]
        )
        solved = mono & (dist >= threshold_m)
        n = dist.size
        std = float(dist.std(ddof=1)) if n > 1 else 0.0
        rows.append(
            dict(
                set=name,
                role=task.sets[name].role,
                n_lifetimes=n,
                mean_m=float(dist.mean()),
                std_m=std,
                stderr_m=std / np.sqrt(n),
                mean_units=float(dist.mean()) / PYBULLET_DT,
                std_units=std / PYBULLET_DT,
                monotone_fraction=float(mono.mean()),
                solved_fraction=float(solved.mean()),
                solved=bool(solved.mean() >= 0.5),
            )
        )
        lifetimes[name] = dict(distance_m=dist, monotone=mono, solved=solved)
    return dict(
        analysis="distance per morphology",
        model=label_of(subject),
        task=task.name,
        settings={
            k: v for k, v in task.settings.items() if isinstance(v, int | float | str)
        },
        repeats=repeats,
        window_steps=window,
        tolerance_m=tolerance_m,
        threshold_units=threshold_units,
        threshold_m=threshold_m,
        units_per_metre=1 / PYBULLET_DT,
        rows=rows,
        lifetimes=lifetimes,
    )


def format_distance_table(data: dict) -> str:
    """The table as Markdown (the papers' Table 1 layout)."""
    lines = [
        "| morphology | seen/held out | distance (m) | distance (progress units) | "
        "monotone | solved lifetimes | solved |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in data["rows"]:
        lines.append(
            f"| {r['set'].removeprefix('variant:')} | {r['role']} | "
            f"{r['mean_m']:.2f} ± {r['std_m']:.2f} | "
            f"{r['mean_units']:.0f} ± {r['std_units']:.0f} | "
            f"{r['monotone_fraction']:.0%} | {r['solved_fraction']:.0%} | "
            f"{r['solved']} |"
        )
    return "\n".join(lines)


def draw_distance_table(data: dict, title: str | None = None):
    """Bars: mean distance ± std per morphology (seen blue, held out orange), each
    lifetime a dot; the dashed line is the 100-unit "solved" threshold."""
    rows = data["rows"]
    fig, axes = new_figure(1, 1, size=(max(5, 1.6 * len(rows)), 4.2))
    ax = axes[0, 0]
    x = np.arange(len(rows))
    for i, r in enumerate(rows):
        color = "tab:orange" if r["role"] == "held-out" else "tab:blue"
        ax.bar(i, r["mean_m"], yerr=r["std_m"], color=color, alpha=0.6, capsize=4)
        d = np.asarray(data["lifetimes"][r["set"]]["distance_m"], float)
        jitter = np.linspace(-0.25, 0.25, d.size) if d.size > 1 else np.zeros(1)
        ax.scatter(i + jitter, d, s=4, color="k", alpha=0.5)
    ax.axhline(data["threshold_m"], color="red", ls="--", lw=1,
               label=f"solved threshold: {data['threshold_units']:.0f} units "
               f"= {data['threshold_m']:.2f} m")  # fmt: skip
    ax.set_xticks(x)
    ax.set_xticklabels(
        [f"{r['set'].removeprefix('variant:')}\n({r['role']})" for r in rows],
        fontsize=8,
    )
    ax.set_ylabel("distance along +x (m)")
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3, axis="y")
    secondary = ax.secondary_yaxis(
        "right", functions=(lambda m: m / PYBULLET_DT, lambda u: u * PYBULLET_DT)
    )
    secondary.set_ylabel("progress units")
    suptitle(
        fig,
        title
        or f"Distance per morphology: {data['model']} on {data['task']} "
        f"({data['repeats']} lifetimes each; bar: mean ± std)",
    )
    return fig

"""The agent's path in each rollout, drawn on the maze.

Wang et al. 2022 sec. 4.5 and Fig. 4: trajectories of DecPRNN(PostDN) in each rollout of a
lifetime in 9x9, 15x15 and 21x21 mazes (start: red square; goal: green square; path: red
line). The positions are the lifetime loop's ``position`` trace (``Probe``), read after each
step; a rollout's path is its start cell followed by them.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import jax
import numpy as np

from hebbjax.analysis.figures import label_of, new_figure, suptitle, traced
from hebbjax.analysis.sources import ready


def maze_paths(
    subject: Any,
    task: Any,
    task_set: Any = "test",
    key: jax.Array | None = None,
    *,
    n_tasks: int = 3,
) -> dict[str, Any]:
    """One lifetime in each of the first ``n_tasks`` mazes of ``task_set``.

    Returns:
        ``{"task", "mazes": [{"walls" (n, n; first index x), "start", "goal" ((x, y)),
        "rollouts": [{"path": [[x, y], ...] (start first), "return", "success",
        "steps"}]}]}``.
    """
    from hebbjax.rollout import resolve_set

    ready(task)
    mazes = resolve_set(task, task_set)
    if not hasattr(mazes, "walls"):
        raise ValueError(
            f"trajectories are drawn on mazes; {task.name} is not a maze task"
        )
    mazes = jax.tree.map(lambda x: x[:n_tasks], mazes)
    result, trace = traced(subject, task, mazes, key, "position")
    out = []
    for i in range(n_tasks):
        walls = np.asarray(mazes.walls[i])
        start, goal = np.asarray(mazes.start[i]), np.asarray(mazes.goal[i])
        valid, rollout = trace["valid"][i], trace["rollout"][i]
        rollouts = []
        for r in range(task.n_rollouts):
            steps = trace["position"][i][valid & (rollout == r)]
            rollouts.append(
                dict(
                    path=np.concatenate([start[None], steps]).tolist(),
                    **{
                        "return": float(result.returns[i, 0, r]),
                        "success": bool(result.success[i, 0, r]),
                        "steps": int(result.steps[i, 0, r]),
                    },
                )
            )
        out.append(
            dict(
                walls=walls.tolist(),
                start=start.tolist(),
                goal=goal.tolist(),
                rollouts=rollouts,
            )
        )
    return dict(task=task.name, n_rollouts=task.n_rollouts, mazes=out)


def trajectories(
    subject: Any,
    tasks: Sequence[Any],
    task_set: str = "test",
    key: jax.Array | None = None,
    *,
    n_tasks: int = 3,
) -> dict[str, Any]:
    """``maze_paths`` on each task (e.g. maze9, maze15, maze21): one group per task."""
    key = jax.random.key(0) if key is None else key
    groups = [
        maze_paths(subject, task, task_set, key, n_tasks=n_tasks) for task in tasks
    ]
    return dict(
        analysis="trajectories",
        model=label_of(subject),
        task_set=task_set,
        groups=groups,
    )


def draw_trajectories(data: dict, title: str | None = None):
    """Rows: mazes (grouped by task); columns: rollouts. Walls dark, start red, goal
    green, the path red (Wang et al. 2022 Fig. 4)."""
    from matplotlib.patches import Rectangle

    rows = [
        (f"{g['task']}, {g['n_rollouts']} rollouts", m)
        for g in data["groups"]
        for m in g["mazes"]
    ]
    n_cols = max(g["n_rollouts"] for g in data["groups"])
    fig, axes = new_figure(len(rows), n_cols, size=(2.0, 2.0))
    for row, (task, maze) in enumerate(rows):
        walls = np.asarray(maze["walls"])
        for col in range(n_cols):
            ax = axes[row, col]
            ax.set_xticks([])
            ax.set_yticks([])
            if col >= len(maze["rollouts"]):
                ax.axis("off")
                continue
            rollout = maze["rollouts"][col]
            # first index is x: rows of the image
            ax.imshow(walls, cmap="Greys", vmin=0, vmax=1.6, interpolation="nearest")
            for cell, color in ((maze["start"], "red"), (maze["goal"], "green")):
                ax.add_patch(
                    Rectangle(
                        (cell[1] - 0.5, cell[0] - 0.5), 1, 1, color=color, alpha=0.8
                    )
                )
            path = np.asarray(rollout["path"], np.float64)
            ax.plot(path[:, 1], path[:, 0], color="red", lw=1.2, alpha=0.8)
            outcome = f"goal in {rollout['steps']}" if rollout["success"] else "no goal"
            ax.set_title(f"rollout {col + 1}: {outcome}", fontsize=7)
            if col == 0:
                ax.set_ylabel(task, fontsize=8)
    suptitle(
        fig,
        title
        or f"Trajectories of {data['model']} in each rollout ({data['task_set']} mazes; "
        "red: start, green: goal)",
    )
    return fig

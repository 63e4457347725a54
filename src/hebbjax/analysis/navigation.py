"""Where the wheeled robot goes: does a genome navigate, or stand still / spin in place?

EPRNN (Wang et al.) sec. 4.1 and Table 3: a lifetime is a TRAIN episode (plastic) and a
TEST episode (frozen) on one task, each from (0, 0) with heading 0 and at most 101 steps;
the reward is -d_t, the distance to the goal after each step. Standing still scores
-d_0 per step, and so does turning in place (equal and opposite wheel travel moves the robot
nowhere): a genome that has not learnt to use the signal sits at that "do nothing" optimum.
This analysis reads the robot's positions (the ``position`` trace) and reports, per episode,
how far it travelled, how much closer it ended than it started, and how often it reached the
goal (d < 0.02), beside the do-nothing return of the same tasks.
"""

from __future__ import annotations

import textwrap
from typing import Any

import jax
import numpy as np

from hebbjax.analysis.figures import new_figure, suptitle, traced
from hebbjax.analysis.sources import ready

EPISODES = ("TRAIN (plastic)", "TEST (frozen)")
#: never further than this from the start (plane units; goals lie 0.02-0.71 away): the
#: episode stood still, turned on the spot or circled around the start
NEAR = 0.1


def navigation(
    subject: Any,
    task: Any,
    task_set: Any = "test",
    key: jax.Array | None = None,
    *,
    n_tasks: int = 512,
    n_paths: int = 6,
) -> dict[str, Any]:
    """Navigation statistics of one genome on the first ``n_tasks`` tasks of a set.

    Returns:
        ``{"task", "n_tasks", "episodes": [{"name", "return", "do_nothing_return",
        "goal_rate", "near_start", "reach", "travelled", "start_distance",
        "final_distance", "closer_fraction", "approach"}], "paths": [...]}``: means over
        the tasks; ``reach``: the furthest point from the start; ``near_start``: episodes
        whose reach is below ``NEAR``;
        ``approach`` = mean of (d_0 - d_final) / d_0 (0: no closer, 1: at the goal);
        ``closer_fraction``: episodes ending at least halfway closer; ``paths``: the first
        ``n_paths`` tasks' goal and TRAIN / TEST paths.
    """
    from hebbjax.rollout import resolve_set

    ready(task)
    tasks = resolve_set(task, task_set)
    if not hasattr(tasks, "a0"):  # WRNavParams: goal and signal
        raise ValueError(
            f"navigation analyses the wheeled robot (wrnav-* tasks); got {task.name}"
        )
    tasks = jax.tree.map(lambda x: x[:n_tasks], tasks)
    result, trace = traced(subject, task, tasks, key, "position")
    goals = np.asarray(tasks.goal, np.float64)
    d0 = np.linalg.norm(goals, axis=-1)
    n = len(goals)
    episodes, paths = (
        [],
        [dict(goal=goals[i].tolist(), paths=[]) for i in range(n_paths)],
    )
    for r, name in enumerate(EPISODES[: task.n_rollouts]):
        travelled, final, reach = np.zeros(n), np.zeros(n), np.zeros(n)
        steps = np.zeros(n, int)
        for i in range(n):
            mask = trace["valid"][i] & (trace["rollout"][i] == r)
            pos = np.concatenate([np.zeros((1, 2)), trace["position"][i][mask]])
            travelled[i] = np.linalg.norm(np.diff(pos, axis=0), axis=-1).sum()
            final[i] = np.linalg.norm(goals[i] - pos[-1])
            reach[i] = np.linalg.norm(pos, axis=-1).max()
            steps[i] = mask.sum()
            if i < n_paths:
                paths[i]["paths"].append(pos.tolist())
        # standing still never reaches the goal (d_0 >= 0.02): the whole episode at -d_0
        limit = int(steps.max())
        episodes.append(
            dict(
                name=name,
                **{"return": float(np.mean(result.returns[:n, 0, r]))},
                do_nothing_return=float(np.mean(-d0 * limit)),
                goal_rate=float(np.mean(result.success[:n, 0, r])),
                near_start=float(np.mean(reach < NEAR)),
                reach=float(np.mean(reach)),
                travelled=float(np.mean(travelled)),
                start_distance=float(np.mean(d0)),
                final_distance=float(np.mean(final)),
                closer_fraction=float(np.mean(final <= 0.5 * d0)),
                approach=float(np.mean((d0 - final) / d0)),
            )
        )
    return dict(task=task.name, n_tasks=n, episodes=episodes, paths=paths)


def verdict(data: dict[str, Any]) -> str:
    """One sentence: does the frozen (TEST) episode navigate or sit at do-nothing?"""
    test = data["episodes"][-1]
    if test["near_start"] > 0.5 or test["approach"] < 0.1:
        return (
            f"at the do-nothing optimum: {test['near_start']:.0%} of TEST episodes never "
            f"leave {NEAR} of the start, mean approach {test['approach']:+.2f}"
        )
    return (
        f"navigates: TEST episodes end {test['approach']:.0%} closer on average "
        f"({test['closer_fraction']:.0%} at least halfway, goal reached "
        f"{test['goal_rate']:.0%}), travelling {test['travelled']:.2f} on average"
    )


def draw_navigation(data: dict[str, Any], title: str | None = None):
    """Left: a few tasks' TRAIN / TEST paths and goals; right: the statistics per episode."""
    fig, axes = new_figure(1, 2, size=(5, 4.5))
    ax, bars = axes[0]
    for k, p in enumerate(data["paths"]):
        colour = f"C{k}"
        for r, path in enumerate(p["paths"]):
            xy = np.asarray(path)
            ax.plot(xy[:, 0], xy[:, 1], color=colour, lw=1.2, ls="-" if r else ":")
        ax.plot(*p["goal"], marker="*", ms=12, color=colour, mec="k")
    ax.plot(0, 0, "ks", ms=6)
    ax.set(
        aspect="equal",
        xlim=(-0.6, 0.6),
        ylim=(-0.6, 0.6),
        title="paths (dotted: TRAIN)",
    )
    names = ("goal_rate", "closer_fraction", "approach", "near_start")
    width = 0.8 / len(data["episodes"])
    for r, ep in enumerate(data["episodes"]):
        x = np.arange(len(names)) + r * width
        bars.bar(x, [ep[n] for n in names], width, label=ep["name"])
    bars.set_xticks(
        np.arange(len(names)) + width / 2, [n.replace("_", " ") for n in names]
    )
    bars.axhline(0, color="k", lw=0.8)
    bars.legend()
    bars.set_title(textwrap.fill(verdict(data), 60), fontsize=8)
    suptitle(fig, title or f"navigation on {data['task']} ({data['n_tasks']} tasks)")
    return fig


__all__ = ["navigation", "draw_navigation", "verdict"]

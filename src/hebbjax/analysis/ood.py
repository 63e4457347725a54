"""Out-of-distribution meta-testing: genomes evaluated on mazes unlike their training mazes.

Wang et al. 2022 sec. 4.3 and Fig. 2(c)-(f): trained on 9x9 evaluated on 15x15; trained on
15x15 evaluated on 21x21; standard 15x15 (crowd 0.35) evaluated on spacious (0.15) and crowded
(0.45) 15x15 mazes. Each test is one panel of per-rollout returns (the in-distribution task is
evaluated too, as the reference), and one table row per (genome, test): the score (fitness of
the weighted rollouts), the last rollout's return and goal rate.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import jax

from hebbjax.analysis.rollout_returns import draw_panels, evaluate_panel

# training task -> the OOD tasks of the paper (the training task itself is the reference)
OOD_TESTS: Mapping[str, tuple[str, ...]] = {
    "maze9": ("maze15",),
    "maze15": ("maze21", "maze15-spacious", "maze15-crowded"),
    "maze": ("maze21", "maze15-spacious", "maze15-crowded"),
}


def ood_plan(
    subjects: Sequence[Any],
    tasks: Sequence[str] | None = None,
    reference: bool = True,
) -> list[tuple[str, str, list[Any]]]:
    """(trained on, evaluated on, subjects) for each test: the paper's tests of each
    subject's training task (``OOD_TESTS``), or ``tasks`` for every subject; with
    ``reference`` the training task comes first."""
    plan: dict[tuple[str, str], list[Any]] = {}
    for s in subjects:
        names = list(tasks) if tasks else list(OOD_TESTS.get(s.task_name, ()))
        if not names:
            raise ValueError(
                f"no OOD tests are defined for task {s.task_name!r}; pass the tasks to "
                f"evaluate on (paper tests exist for: {', '.join(OOD_TESTS)})"
            )
        if reference and s.task_name not in names:
            names = [s.task_name, *names]
        for name in names:
            plan.setdefault((s.task_name, name), []).append(s)
    return [(a, b, subs) for (a, b), subs in plan.items()]


def ood_tests(
    plan: Sequence[tuple[str, str, Sequence[Any]]],
    task_set: str = "test",
    key: jax.Array | None = None,
    *,
    n_tasks: int | None = None,
    repeats: int = 1,
    task_options: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Evaluate each (trained on, evaluated on, subjects) test of ``plan``.

    Each subject runs the evaluation task with its own training options
    (``sources.task_for``) plus ``task_options``, on ``task_set`` (2,048 seeded test mazes),
    all with the same keys.

    Returns:
        ``{"panels": [... per test, as ``rollout_returns`` ...], "table": [{"model",
        "trained_on", "evaluated_on", "score", "score_stderr", "last_return",
        "last_return_stderr", "last_success_rate", "n_lifetimes"}]}``.
    """
    from hebbjax.analysis.sources import task_for

    key = jax.random.key(0) if key is None else key
    panels, table = [], []
    for trained_on, evaluated_on, subjects in plan:
        models = []
        for s in subjects:
            task = task_for(s, evaluated_on, **dict(task_options or {}))
            panel = evaluate_panel(
                [s], task, task_set, key, n_tasks=n_tasks, repeats=repeats
            )
            models += panel["models"]
        panel |= dict(trained_on=trained_on, evaluated_on=evaluated_on, models=models)
        panels.append(panel)
        for m in models:
            table.append(
                dict(
                    model=m["label"],
                    trained_on=trained_on,
                    evaluated_on=evaluated_on,
                    score=m["score"],
                    score_stderr=m["score_stderr"],
                    last_return=m["return_mean"][-1],
                    last_return_stderr=m["return_stderr"][-1],
                    last_success_rate=m["success_rate"][-1],
                    n_lifetimes=m["n_lifetimes"],
                )
            )
    return dict(
        analysis="out-of-distribution tests",
        task_set=task_set,
        n_tasks=n_tasks,
        repeats=repeats,
        panels=panels,
        table=table,
    )


def _test_name(trained_on: str, evaluated_on: str) -> str:
    if trained_on == evaluated_on:
        return f"{trained_on} (in distribution)"
    return f"{trained_on} -> {evaluated_on}"


def format_ood_table(data: dict) -> str:
    """The table as Markdown."""
    lines = [
        "| model | test | score | last rollout return | last rollout goal rate | lifetimes |",
        "|---|---|---|---|---|---|",
    ]
    for row in data["table"]:
        lines.append(
            f"| {row['model']} | {_test_name(row['trained_on'], row['evaluated_on'])} | "
            f"{row['score']:+.3f} ± {row['score_stderr']:.3f} | "
            f"{row['last_return']:+.3f} ± {row['last_return_stderr']:.3f} | "
            f"{row['last_success_rate']:.3f} | {row['n_lifetimes']} |"
        )
    return "\n".join(lines)


def draw_ood(data: dict, title: str | None = None):
    """One panel per test: per-rollout returns (Wang et al. 2022 Fig. 2c-f)."""
    n = data["panels"][0]["models"][0]["n_lifetimes"]
    return draw_panels(
        data,
        lambda p: _test_name(p["trained_on"], p["evaluated_on"]),
        title
        or f"Out-of-distribution tests: return of each rollout ({data['task_set']} set, "
        f"{n} lifetimes per test)",
    )

"""What plasticity stores: reset the hidden state or the plastic weights between rollouts.

Wang et al. 2022 appendix A.4 (and sec. 4.4): the plastic weights are claimed to keep the
long-term, task-level information and the hidden state the short-term. If so, putting the
plastic weights back to their initial value at the start of each rollout should undo the
improvement over rollouts (later rollouts no better than the first), while resetting the
hidden state should cost little. The ``Probe``'s ``reset_between_rollouts`` does the
resetting ("hidden", "plastic" or "both"); every condition runs the same tasks and keys.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import jax

from hebbjax.analysis.rollout_returns import draw_panels, evaluate_panel

CONDITIONS = (None, "hidden", "plastic", "both")
NAMES = {
    None: "no reset",
    "hidden": "hidden state reset",
    "plastic": "plastic weights reset",
    "both": "both reset",
}


def memory_resets(
    subject: Any,
    task: Any,
    task_set: Any = "test",
    key: jax.Array | None = None,
    *,
    n_tasks: int | None = None,
    repeats: int = 1,
    conditions: Sequence[str | None] = CONDITIONS,
) -> dict[str, Any]:
    """Per-rollout returns of one genome with each part of the memory reset between
    rollouts.

    Returns:
        ``{"panels": [one panel, its "models" one per condition (label = condition)],
        "effect": {condition: per-rollout mean return minus the unreset one}}``.
    """
    from hebbjax.tasks import Probe

    key = jax.random.key(0) if key is None else key
    models = []
    for condition in conditions:
        probe = None if condition is None else Probe(reset_between_rollouts=condition)
        panel = evaluate_panel(
            [subject],
            task,
            task_set,
            key,
            n_tasks=n_tasks,
            repeats=repeats,
            probe=probe,
        )
        models.append(panel["models"][0] | dict(label=NAMES[condition]))
    panel |= dict(models=models)
    base = models[0]["return_mean"] if conditions[0] is None else None
    effect = {}
    if base is not None:
        for condition, m in zip(conditions[1:], models[1:], strict=True):
            effect[NAMES[condition]] = [
                a - b for a, b in zip(m["return_mean"], base, strict=True)
            ]
    return dict(
        analysis="memory resets between rollouts",
        model=getattr(subject, "label", "genome"),
        task_set=task_set if isinstance(task_set, str) else "given",
        n_tasks=n_tasks,
        repeats=repeats,
        panels=[panel],
        effect=effect,
    )


def draw_memory_resets(data: dict, title: str | None = None):
    """Per-rollout returns under each reset condition."""
    n = data["panels"][0]["models"][0]["n_lifetimes"]
    return draw_panels(
        data,
        lambda p: f"{p['task']}: memory reset at the start of each rollout",
        title
        or f"What plasticity stores: {data['model']} ({n} lifetimes per condition)",
    )

"""The papers' analyses and figures, one module per analysis.

Each analysis is a library function that returns the plotted data (a JSON-ready dict), a
``draw_*`` function that turns it into a matplotlib ``Figure``, and a ``hebbjax analyze NAME``
(or ``hebbjax plot``) entry; ``figures.save`` writes the PNG and the data as JSON beside it,
atomically. matplotlib and scikit-learn are imported inside the functions that need them, and
this package imports nothing heavy, so ``hebbjax --help`` stays instant.

Wang et al. 2022 (decomposed plasticity, mazes) and EPRNN:

- ``learning_curves``: validation score vs generations and wall-clock (Fig. 6; EPRNN Fig. 4);
- ``rollout_returns``: per-rollout returns, models side by side, 3 or 8 rollouts (Figs. 2-3);
- ``ood``: out-of-distribution tests, one table and one figure (sec. 4.3, Fig. 2c-f);
- ``trajectories``: the agent's path in each rollout on the maze (Fig. 4);
- ``memory_map``: t-SNE (or PCA) of W_t and h_t over lifetimes (Fig. 7; EPRNN Fig. 5);
- ``memory_reset``: hidden state or plastic weights reset between rollouts (appendix A.4);
- ``navigation``: the wheeled robot's paths, approach and goal rate against standing still
  (EPRNN sec. 4.1, Table 3).

Najarro & Risi 2020 and Palm et al. 2021 (ant):

- ``freeze``: plasticity frozen after t steps (Fig. 3 left);
- ``actuators``: actions saturated for a step range, recovery (Fig. 3 right);
- ``zeroing``: a fraction of the synapses zeroed at one step (Fig. 4);
- ``attractors``: first three principal components of the weights (Fig. 5);
- ``distance``: distance per morphology with the "solved" criterion (Table 1 of both).
"""

from __future__ import annotations

import importlib
from typing import Any, NamedTuple


class Analysis(NamedTuple):
    """A ``hebbjax analyze`` entry: module and functions by name (imported on use)."""

    module: str
    compute: str
    draw: str
    help: str
    paper: str


ANALYSES: dict[str, Analysis] = {
    "rollouts": Analysis(
        "rollout_returns", "rollout_returns", "draw_rollout_returns",
        "per-rollout returns of one or more genomes (3- or 8-rollout lifetimes)",
        "Wang et al. 2022 Figs. 2-3",
    ),
    "ood": Analysis(
        "ood", "ood_tests", "draw_ood",
        "out-of-distribution maze tests: 9->15, 15->21, 15->spacious, 15->crowded",
        "Wang et al. 2022 sec. 4.3, Fig. 2c-f",
    ),
    "trajectories": Analysis(
        "trajectories", "trajectories", "draw_trajectories",
        "the agent's path in each rollout, drawn on the maze",
        "Wang et al. 2022 Fig. 4",
    ),
    "memory": Analysis(
        "memory_map", "memory_map", "draw_memory_map",
        "t-SNE (or PCA) of the plastic weights and hidden state over lifetimes",
        "Wang et al. 2022 Fig. 7; EPRNN Fig. 5",
    ),
    "reset": Analysis(
        "memory_reset", "memory_resets", "draw_memory_resets",
        "what plasticity stores: reset hidden state or plastic weights between rollouts",
        "Wang et al. 2022 appendix A.4",
    ),
    "navigation": Analysis(
        "navigation", "navigation", "draw_navigation",
        "wheeled robot: paths, approach and goal rate against standing still / spinning",
        "EPRNN sec. 4.1, Table 3",
    ),
    "freeze": Analysis(
        "freeze", "freeze_plasticity", "draw_freeze_plasticity",
        "cumulative reward with plasticity frozen after t steps",
        "Najarro & Risi 2020 Fig. 3 left",
    ),
    "actuators": Analysis(
        "actuators", "actuator_freeze", "draw_actuator_freeze",
        "actions saturated over a step range (default 300-400) and the recovery",
        "Najarro & Risi 2020 Fig. 3 right",
    ),
    "zeroing": Analysis(
        "zeroing", "zero_synapses", "draw_zero_synapses",
        "a fraction of the synapses zeroed at one step: reward and weights around it",
        "Najarro & Risi 2020 Fig. 4",
    ),
    "attractors": Analysis(
        "attractors", "weight_attractors", "draw_weight_attractors",
        "first three principal components of the plastic weights, per morphology",
        "Najarro & Risi 2020 Fig. 5",
    ),
    "distance": Analysis(
        "distance", "distance_table", "draw_distance_table",
        "distance per morphology over 100 lifetimes, seen and held out, 'solved'",
        "Najarro & Risi 2020 Table 1; Palm et al. 2021 Table 1",
    ),
}  # fmt: skip


def functions(name: str) -> tuple[Any, Any]:
    """``(compute, draw)`` of analysis ``name`` (a ValueError lists the valid names)."""
    if name not in ANALYSES:
        raise ValueError(
            f"unknown analysis {name!r}; valid analyses: {', '.join(ANALYSES)}"
        )
    entry = ANALYSES[name]
    module = importlib.import_module(f"hebbjax.analysis.{entry.module}")
    return getattr(module, entry.compute), getattr(module, entry.draw)


__all__ = ["ANALYSES", "Analysis", "functions"]

"""The maze fitness of Wang et al. 2022 and its training-signal options.

Spec ``maze-decprnn-eprnn.md`` section 2.6: F = sum_r w_r (R_r - lambda) / sum_r w_r with
lambda = 1e-6 RMS(genome), R_r the rollout's return (1 - 0.01 T on reaching the goal at step
T, else -0.01 max_steps; section 2.4). ``score_within`` and ``late_credit`` change only this
fitness (what training ranks), never the lifetime or its returns (issue 16,
``benchmarks/time_to_quality.py``); ``stop_at_cap`` ends the last rollout at its cap, where
no later step can change that fitness.
"""

from __future__ import annotations

from collections.abc import Sequence

import jax
import jax.numpy as jnp
import numpy as np

from hebbjax.envs.maze import episode_return
from hebbjax.models.base import Params


def genome_rms(params: Params) -> jax.Array:
    """Root mean square over every element of the genome."""
    leaves = jax.tree.leaves(params)
    total = sum(jnp.sum(jnp.square(leaf.astype(jnp.float32))) for leaf in leaves)
    count = sum(leaf.size for leaf in leaves)
    return jnp.sqrt(total / count)


#: the task options under which the fitness is not the last rollout's return (the score)
FITNESS_OPTIONS = ("rollout_weights", "score_within", "late_credit")


def maze_fitness(
    weights: Sequence[float],
    score_within: int | Sequence[int | None] | None = None,
    max_steps: int = 200,
    late_credit: float = 0.0,
):
    """F = sum_r w_r (R_r - 1e-6 RMS(genome)) / sum_r w_r (spec 2.6).

    With ``score_within`` = K (one number, or one per rollout with None for no cap), R_r
    counts in full only for a rollout that reached the goal within K steps; a later success
    counts as ``late_credit`` c of its return and 1 - c of a failure's (-0.01
    ``max_steps``): c = 0 scores it as a failure. Only the fitness changes, not the
    lifetime or its per-rollout returns."""
    w = np.asarray(weights, np.float32)  # numpy: may be built inside a trace
    caps = None
    if score_within is not None:
        per_rollout = (
            score_within
            if isinstance(score_within, (tuple, list))
            else (score_within,) * len(w)
        )
        caps = np.array([max_steps if k is None else k for k in per_rollout], np.int32)

    def fitness(params, returns, steps, success):
        penalty = 1e-6 * genome_rms(params)
        if caps is not None:
            fail = episode_return(False, steps, max_steps)
            late = late_credit * returns + (1.0 - late_credit) * fail
            fast = steps <= caps
            returns = jnp.where(success > 0, jnp.where(fast, returns, late), fail)
        return jnp.sum(w * (returns - penalty)) / jnp.sum(w)

    return fitness


def check_score_within(
    score_within: int | Sequence[int | None] | None,
    max_steps: int,
    n_rollouts: int | None = None,
) -> int | tuple[int | None, ...] | None:
    """``score_within`` as an int in 1..max_steps, a tuple of one such int or None per
    rollout, or None."""
    if score_within is None:
        return None
    if isinstance(score_within, (tuple, list)):
        if n_rollouts is not None and len(score_within) != n_rollouts:
            raise ValueError(
                f"score_within has {len(score_within)} entries for {n_rollouts} "
                "rollouts: give one per rollout (null: no cap) or one number for all"
            )
        caps = tuple(
            None if k is None else check_score_within(k, max_steps)
            for k in score_within
        )
        return None if all(k is None for k in caps) else caps
    if isinstance(score_within, bool) or not isinstance(
        score_within, (int, np.integer)
    ):
        raise ValueError(
            "score_within must be a whole number of steps (or a list of one per "
            f"rollout), got {score_within!r}"
        )
    if not 1 <= score_within <= max_steps:
        raise ValueError(
            f"score_within must be in 1..max_steps ({max_steps}), got {score_within}"
        )
    return int(score_within)


def check_late_credit(late_credit: float, score_within: object) -> float:
    """``late_credit`` as a float in [0, 1]; nonzero only beside ``score_within``."""
    if isinstance(late_credit, bool) or not isinstance(
        late_credit, (int, float, np.integer, np.floating)
    ):
        raise ValueError(f"late_credit must be a number in [0, 1], got {late_credit!r}")
    if not 0.0 <= late_credit <= 1.0:
        raise ValueError(f"late_credit must be in [0, 1], got {late_credit}")
    if late_credit and score_within is None:
        raise ValueError(
            "late_credit weighs successes later than score_within steps: "
            "set score_within too (e.g. --task-opt score_within=40)"
        )
    return float(late_credit)


def check_stop_at_cap(
    stop_at_cap: bool,
    score_within: int | tuple[int | None, ...] | None,
    late_credit: float,
    n_rollouts: int,
) -> int | None:
    """The last rollout's step limit under ``stop_at_cap`` (its ``score_within`` cap), or
    None without it. Exact only where no step after the cap can change the fitness: the
    cap is on the last rollout (nothing runs after it) and a late success scores as a
    failure (``late_credit=0``)."""
    if not isinstance(stop_at_cap, (bool, np.bool_)):
        raise ValueError(f"stop_at_cap must be true or false, got {stop_at_cap!r}")
    if not stop_at_cap:
        return None
    last = score_within[-1] if isinstance(score_within, tuple) else score_within
    if last is None:
        raise ValueError(
            "stop_at_cap ends the last rollout at its score_within cap: give it one "
            f"(e.g. --task-opt score_within=25), got score_within={score_within!r} "
            f"for {n_rollouts} rollouts"
        )
    if late_credit:
        raise ValueError(
            f"stop_at_cap needs late_credit=0 (got {late_credit}): a success after the "
            "cap would then still count, and the steps after it matter"
        )
    return int(last)

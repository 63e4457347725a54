"""Evaluate one genome over a stacked set of tasks: one lifetime per task.

This is the validation/test protocol of Wang et al. 2022 (spec ``maze-decprnn-eprnn.md``
sections 2.6-2.7 and 3.3): per-rollout goal rates and mean returns with standard errors over
the set. Works for any ``Task``; the lifetime is ``jit(vmap(...))`` over tasks, in fixed-size
chunks so that a large set never recompiles and never holds every lifetime in memory at once.
"""

from __future__ import annotations

import functools
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from hebbjax.models.base import Model, Params
from hebbjax.parallel import local_mesh, sharded_vmap
from hebbjax.tasks.base import LifetimeResult, Task


@functools.lru_cache(maxsize=32)
def _batched(run):
    return jax.jit(sharded_vmap(run, in_axes=(None, 0, 0), mesh=local_mesh()))


def evaluate_lifetimes(
    model: Model,
    task: Task,
    params: Params,
    task_params: Any,
    key: jax.Array,
    chunk_size: int = 1024,
) -> LifetimeResult:
    """One lifetime of ``params`` on each task of a stacked set.

    Args:
        model, task: the network and the task.
        params: one genome.
        task_params: stacked task parameters (leading axis = tasks), e.g. a maze set.
        key: split into one key per task.
        chunk_size: lifetimes per compiled call; the last chunk is padded.
    Returns:
        ``LifetimeResult`` with a leading task axis on every field.
    """
    run = _batched(task.lifetime(model))
    n_tasks = jax.tree.leaves(task_params)[0].shape[0]
    keys = jax.random.split(key, n_tasks)
    size = min(chunk_size, n_tasks)
    chunks = []
    for lo in range(0, n_tasks, size):
        idx = np.minimum(np.arange(lo, lo + size), n_tasks - 1)
        part = jax.tree.map(lambda leaf, idx=idx: leaf[idx], task_params)
        # Each chunk is awaited and cut and joined on the host. Slicing and concatenating
        # the device-sharded results instead queues all-gather / all-to-all programs behind
        # the running chunk, and XLA:CPU's two-thread dispatch pool can then deadlock (a
        # launch waiting for a device with 32 computations in flight while the other thread
        # waits in an all-to-all; abort after 40 s in rendezvous.cc).
        result = jax.device_get(run(params, part, keys[idx]))
        chunks.append(jax.tree.map(lambda leaf, lo=lo: leaf[: n_tasks - lo], result))
    return jax.tree.map(lambda *parts: jnp.asarray(np.concatenate(parts)), *chunks)


GOAL_CRITERIA = ("positive-return", "reached")


def summarize_lifetimes(
    result: LifetimeResult, goal_criterion: str = "positive-return"
) -> dict[str, Any]:
    """Per-rollout goal rate and mean return, each with its standard error over lifetimes.

    ``reached_rate`` is the fraction of rollouts that reached the goal within the step
    limit; ``positive_return_rate`` the fraction with return > 0 (the goal within 99 of 200
    steps). The reference harness's "goal rate" (0.21 / 0.46 / 0.72 for the released
    genome) is the positive-return rate: only that reading fits its own mean returns (see
    tests/test_paper_genome.py). ``goal_rate`` is the one ``goal_criterion`` names, by
    default the reference's.
    """
    if goal_criterion not in GOAL_CRITERIA:
        raise ValueError(
            f"unknown goal criterion {goal_criterion!r}; valid: {', '.join(GOAL_CRITERIA)}"
        )
    n = result.returns.shape[0]
    success = np.asarray(result.success, np.float64)
    returns = np.asarray(result.returns, np.float64)
    fitness = np.asarray(result.fitness, np.float64)
    ddof = 1 if n > 1 else 0
    positive = (returns > 0).astype(np.float64)
    goal = positive if goal_criterion == "positive-return" else success
    return {
        "goal_rate": goal.mean(axis=0),
        "goal_rate_stderr": goal.std(axis=0, ddof=ddof) / np.sqrt(n),
        "goal_criterion": goal_criterion,
        "reached_rate": success.mean(axis=0),
        "positive_return_rate": positive.mean(axis=0),
        "mean_return": returns.mean(axis=0),
        "return_stderr": returns.std(axis=0, ddof=ddof) / np.sqrt(n),
        "mean_fitness": float(fitness.mean()),
        "n_lifetimes": int(n),
    }

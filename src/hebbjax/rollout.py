"""The one place that batches lifetimes, and the one place that summarises them.

Tasks and models are written for one example (``Task.lifetime(model)`` runs one lifetime);
this module maps them over population x tasks x repeats (training) or one genome x a set of
tasks x repeats (validation, ``hebbjax eval``, benchmarks, analyses), shards the batch over a
device mesh (``parallel.sharded_vmap``) and, on CPU, walks each device's share in cache-sized
blocks (``Task.block_lifetimes``). Every caller summarises with ``summarize`` (numpy, one set
of names, standard errors with ddof 1) or, inside a jitted generation, ``batch_metrics``
(the same names).

This is the evaluation protocol of Wang et al. 2022 (spec ``maze-decprnn-eprnn.md`` 2.6-2.7,
3.3: per-rollout returns and goal rates over a seeded set), of EPRNN (spec 4.1-4.2: the TEST
return over 1,600 seeded tasks) and of Najarro & Risi / Palm et al. (hebbian-ant-brax spec
1.5, 2.6: distance per morphology over 100 lifetimes).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from jax.sharding import Mesh

from hebbjax.compaction import (
    compacted_population,
    compacted_set,
    compaction_of,
    jitted_compacted_set,
    pools_population,
)
from hebbjax.models.base import Model, Params
from hebbjax.parallel import global_mesh, replicated, sharded_vmap
from hebbjax.tasks.base import Task
from hebbjax.tasks.lifetime import LifetimeResult, Probe


def n_tasks_of(task_params: Any) -> int:
    """The number of tasks in a stacked set (its leading axis)."""
    leaves = jax.tree.leaves(task_params)
    if not leaves:
        raise ValueError("a task set needs at least one array")
    return int(leaves[0].shape[0])


def block_rows(task: Task, lifetimes_per_row: int) -> int | None:
    """Rows per block for ``task.block_lifetimes`` (None: no blocking).

    Blocking keeps a CPU core's working set in its cache; an accelerator needs the whole
    batch at once to fill its cores, so off the CPU the option is ignored.
    """
    return _block_rows(task.block_lifetimes, lifetimes_per_row)


def _block_rows(block: int | None, lifetimes_per_row: int) -> int | None:
    if block is None or jax.default_backend() != "cpu":
        return None
    return max(1, int(block) // lifetimes_per_row)


def population_evaluator(
    model: Model, task: Task, mesh: Mesh | None = None
) -> Callable[[Params, Any, jax.Array], LifetimeResult]:
    """``(population, task_params[n_t], keys[n_t, r]) -> LifetimeResult[P, n_t, r]``.

    Every individual runs every (task, repeat) pair with the same keys (common random
    numbers, as the reference does). The population axis is sharded over ``mesh``. On CPU
    the lifetimes run in a pool (``compaction``) when the task's ``compact`` says so for
    this shape (``pools_population``), else in blocks.
    """
    parts = compaction_of(task, model, "all")
    pooled = None if parts is None else compacted_population(model, task, parts, mesh)
    lifetime = task.lifetime(model)
    over_repeats = jax.vmap(lifetime, in_axes=(None, None, 0))
    over_tasks = jax.vmap(over_repeats, in_axes=(None, 0, 0))

    def evaluate(population, task_params, keys):
        if pooled is not None and pools_population(task, keys.shape[0] * keys.shape[1]):
            return pooled(population, task_params, keys)
        rows = block_rows(task, keys.shape[0] * keys.shape[1])
        run = sharded_vmap(over_tasks, (0, None, None), mesh=mesh, batch_size=rows)
        return run(population, task_params, keys)

    return evaluate


def set_evaluator(
    model: Model, task: Task, mesh: Mesh | None = None, probe: Probe | None = None
) -> Callable[[Params, Any, jax.Array], Any]:
    """``(params, task_params[N], keys[N, r]) -> LifetimeResult[N, r]`` for one genome.

    With a recording ``probe`` it returns ``(LifetimeResult[N, r], trace[N, r, ...])``.
    The task axis is sharded over ``mesh``.
    """
    recording = probe is not None and bool(probe.record)
    if probe is None:
        parts = compaction_of(task, model, "sets")
        if parts is not None:
            return compacted_set(model, task.block_lifetimes, parts, mesh)
    block = None if recording else task.block_lifetimes
    return _set_evaluator(task.lifetime(model, probe), block, mesh)


def _set_evaluator(lifetime, block: int | None, mesh: Mesh | None):
    over_repeats = jax.vmap(lifetime, in_axes=(None, None, 0))

    def evaluate(params, task_params, keys):
        rows = _block_rows(block, keys.shape[1])
        run = sharded_vmap(over_repeats, (None, 0, 0), mesh=mesh, batch_size=rows)
        # every process of a multi-process run reads the whole result
        return replicated(run(params, task_params, keys), mesh)

    return evaluate


@functools.lru_cache(maxsize=32)
def _jitted_set_evaluator(lifetime, block: int | None, mesh: Mesh | None):
    return jax.jit(_set_evaluator(lifetime, block, mesh))


def resolve_set(task: Task, task_set: Any) -> Any:
    """Stacked task parameters from a set name (``Task.sets``) or the parameters."""
    return task.task_set(task_set) if isinstance(task_set, str) else task_set


def evaluate(
    model: Model,
    task: Task,
    params: Params,
    task_set: Any = "test",
    key: jax.Array | None = None,
    *,
    repeats: int = 1,
    n_tasks: int | None = None,
    chunk_size: int = 1024,
    mesh: Mesh | None = None,
    probe: Probe | None = None,
) -> Any:
    """Lifetimes of one genome on a set of tasks: ``LifetimeResult[N, repeats]``.

    Args:
        model, task: the network and the task.
        params: one genome.
        task_set: a set name of ``task.sets`` ("test", "validation", ...) or stacked task
            parameters (leading axis = tasks).
        key: split into one key per (task, repeat); default ``key(0)``.
        repeats: lifetimes per task (e.g. 100 per ant morphology).
        n_tasks: use only the first ``n_tasks`` tasks of the set.
        chunk_size: tasks per compiled call (the last chunk is padded), so a large set
            never recompiles and never holds every lifetime in memory at once.
        mesh: devices to shard over (default every device of every process).
        probe: traces and interventions; with a recording probe the result is
            ``(LifetimeResult, trace)``, each with leading axes (N, repeats).
    """
    if repeats < 1 or chunk_size < 1:
        raise ValueError(
            f"repeats and chunk_size must be >= 1, got {repeats}, {chunk_size}"
        )
    task_params = resolve_set(task, task_set)
    total = n_tasks_of(task_params)
    if n_tasks is not None:
        if not 1 <= n_tasks <= total:
            raise ValueError(
                f"n_tasks must be in 1..{total} (the set's size), got {n_tasks}"
            )
        task_params = jax.tree.map(lambda x: x[:n_tasks], task_params)
        total = n_tasks
    key = jax.random.key(0) if key is None else key
    keys = jax.random.split(key, (total, repeats))
    mesh = global_mesh() if mesh is None else mesh
    recording = probe is not None and bool(probe.record)
    block = None if recording else task.block_lifetimes
    parts = compaction_of(task, model, "sets") if probe is None else None
    if parts is None:
        run = _jitted_set_evaluator(task.lifetime(model, probe), block, mesh)
    else:
        try:
            run = jitted_compacted_set(model, task.block_lifetimes, parts, mesh)
        except TypeError:  # an unhashable model
            run = jax.jit(compacted_set(model, task.block_lifetimes, parts, mesh))
    size = min(chunk_size, total)
    chunks = []
    for lo in range(0, total, size):
        idx = np.minimum(np.arange(lo, lo + size), total - 1)
        part = jax.tree.map(lambda leaf, idx=idx: leaf[idx], task_params)
        # Each chunk is awaited, cut and joined on the host. Slicing and concatenating the
        # device-sharded results instead queues all-gather / all-to-all programs behind the
        # running chunk, and XLA:CPU's two-thread dispatch pool can then deadlock (a launch
        # waiting for a device with 32 computations in flight while the other thread waits
        # in an all-to-all; abort after 40 s in rendezvous.cc).
        out = jax.device_get(run(params, part, keys[idx]))
        chunks.append(jax.tree.map(lambda leaf, lo=lo: leaf[: total - lo], out))
    return jax.tree.map(lambda *parts: np.concatenate(parts), *chunks)


def batch_metrics(result: LifetimeResult) -> dict[str, jax.Array]:
    """Per-rollout means over every lifetime of a batch (rollout axis last), in a jit."""
    axes = tuple(range(result.returns.ndim - 1))
    return dict(
        return_mean=jnp.mean(result.returns, axis=axes),
        success_rate=jnp.mean(result.success, axis=axes),
        steps_mean=jnp.mean(result.steps, axis=axes),
        env_steps=jnp.sum(result.steps),
    )


def _mean_stderr(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    n = values.shape[0]
    mean = values.mean(axis=0)
    if n < 2:
        return mean, np.zeros_like(mean)
    return mean, values.std(axis=0, ddof=1) / np.sqrt(n)


def summarize(result: LifetimeResult) -> dict[str, Any]:
    """Statistics of a set of lifetimes (any leading axes; the rollout axis last).

    Every lifetime is one sample; standard errors use ddof 1. Per rollout (lists):
    ``return_mean``, ``return_stderr``, ``success_rate``, ``success_stderr``,
    ``positive_return_rate`` (the rollouts with return > 0: the reference harness's maze
    "goal rate", the goal within 99 of 200 steps) and ``steps_mean``. Over lifetimes:
    ``score`` (mean fitness; NaN when any lifetime's fitness is not finite),
    ``score_stderr``, ``n_lifetimes``, ``env_steps`` and ``n_nonfinite`` (lifetimes whose
    fitness is NaN or infinite). With several lifetimes per task (leading axes (tasks,
    repeats, ...), as ``evaluate`` returns them) also ``n_tasks`` and
    ``score_task_stderr``, the standard error over tasks of each task's mean fitness: a
    task's lifetimes share its maze (or morphology), so they are not independent samples
    of the task distribution, and ``score_stderr`` understates what another draw of the
    set would change.
    """
    returns = np.asarray(result.returns, np.float64)
    n_tasks = returns.shape[0] if returns.ndim >= 3 else None
    n_rollouts = returns.shape[-1]
    returns = returns.reshape(-1, n_rollouts)
    success = np.asarray(result.success, np.float64).reshape(-1, n_rollouts)
    steps = np.asarray(result.steps, np.float64).reshape(-1, n_rollouts)
    fitness = np.asarray(result.fitness, np.float64).reshape(-1)
    finite = np.isfinite(fitness)
    return_mean, return_stderr = _mean_stderr(returns)
    success_rate, success_stderr = _mean_stderr(success)
    score, score_stderr = (
        _mean_stderr(fitness[finite]) if finite.any() else (np.nan, 0.0)
    )
    out = {
        "score": float(score),
        "score_stderr": float(score_stderr),
        "return_mean": return_mean.tolist(),
        "return_stderr": return_stderr.tolist(),
        "success_rate": success_rate.tolist(),
        "success_stderr": success_stderr.tolist(),
        "positive_return_rate": (returns > 0).mean(axis=0).tolist(),
        "steps_mean": steps.mean(axis=0).tolist(),
        "n_lifetimes": int(fitness.shape[0]),
        "env_steps": int(steps.sum()),
        "n_nonfinite": int((~finite).sum()),
    }
    if n_tasks is not None:  # each task's mean over its finite lifetimes
        ok = finite.reshape(n_tasks, -1)
        counts = ok.sum(axis=1)
        sums = np.where(ok, fitness.reshape(n_tasks, -1), 0.0).sum(axis=1)
        per_task = sums[counts > 0] / counts[counts > 0]
        out["n_tasks"] = int(n_tasks)
        task_se = _mean_stderr(per_task)[1] if per_task.size else np.nan
        out["score_task_stderr"] = float(task_se)
    return out


def evaluate_sets(
    model: Model,
    task: Task,
    params: Params,
    sets: tuple[str, ...] | None = None,
    key: jax.Array | None = None,
    **kwargs: Any,
) -> dict[str, dict[str, Any]]:
    """``summarize`` of ``evaluate`` on each named set (default ``task.eval_sets``), with
    the set's role and description."""
    out = {}
    names = task.eval_sets if sets is None else sets
    key = jax.random.key(0) if key is None else key
    for k, name in zip(jax.random.split(key, len(names)), names, strict=True):
        result = evaluate(model, task, params, name, k, **kwargs)
        info = task.sets[name]
        out[name] = summarize(result) | dict(
            role=info.role, description=info.description
        )
    return out

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

from hebbjax.models.base import Model, Params, same_params
from hebbjax.parallel import global_mesh, replicated, sharded_rows, sharded_vmap
from hebbjax.tasks.base import Task
from hebbjax.tasks.lifetime import LifetimeParts, LifetimeResult, Probe


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


def compacted(
    parts: LifetimeParts,
    n_slots: int,
    shared: bool,
    every: int = 64,
    n_new: int | None = None,
    refill_at: int | None = None,
) -> Callable[[Params, Any, jax.Array, jax.Array, jax.Array, jax.Array], Any]:
    """Lifetimes run in a pool of ``n_slots``, a finished one's slot going to the next.

    ``run(genomes, task_params, keys, genome_of, task_of, key_of) -> LifetimeResult[L]``
    runs the L lifetimes ``l``: genome ``genome_of[l]`` (``genomes`` is one genome when
    ``shared``, else stacked), task ``task_of[l]``, key ``key_of[l]`` (rows of ``keys``),
    started in that order. The slots step together and a slot whose lifetime has ended is
    not stepped. Once ``refill_at`` lifetimes have ended (default an eighth of the slots;
    fewer when fewer are running), or after ``every`` steps, their results are stored and up
    to ``n_new`` (default a quarter of the slots) of their slots take the next lifetimes, in
    place. A refill is a few dozen small operations, about as costly as a few steps of the
    pool, hence the wait. Every lifetime's start (noise, resets, first memory) is computed
    up front in blocks of ``n_slots``, as a blocked evaluation would.

    A block that stops when its slowest lifetime ends (``blocked_vmap``) steps its early
    finishers for nothing; here they wait for the refill. Each lifetime is the same function
    of its genome, task and key as in ``episodic_lifetime``; only the batch it is computed
    in differs, which can change the last bit of a batched dot (XLA picks its kernel by
    shape). With a genome per slot (``shared=False``) every step reads each slot's own
    weights, where a block of one genome's lifetimes shares them.
    """
    if n_slots < 1 or every < 1:
        raise ValueError(f"n_slots and every must be >= 1, got {n_slots}, {every}")
    own = None if shared else 0
    advance = jax.vmap(parts.advance, in_axes=(own, 0, 0))
    finish = jax.vmap(parts.finish, in_axes=(own, 0))
    done = jax.vmap(parts.done)
    start = jax.vmap(parts.start, in_axes=(own, 0, 0))

    def pick(tree, index):
        return jax.tree.map(lambda x: x[index], tree)

    def where(flags, a, b):
        return jax.tree.map(
            lambda x, y: jnp.where(flags.reshape(-1, *(1,) * (x.ndim - 1)), x, y), a, b
        )

    def run(genomes, task_params, keys, genome_of, task_of, key_of):
        n_lives = key_of.shape[0]
        slots = min(n_slots, n_lives)
        new = max(1, min(slots, slots // 4 if n_new is None else n_new))
        threshold = max(1, new // 2) if refill_at is None else min(refill_at, new)

        def begin(lives):
            lives = jnp.minimum(lives, n_lives - 1)
            params = genomes if shared else pick(genomes, genome_of[lives])
            return start(params, pick(task_params, task_of[lives]), keys[key_of[lives]])

        # every lifetime's start (its noise, resets and first memory), computed up front
        # in blocks of ``slots``: one vectorised pass, as a blocked evaluation would,
        # instead of many small ones in the loop
        n_blocks = -(-n_lives // slots)
        starts = jax.lax.map(begin, jnp.arange(n_blocks * slots).reshape(n_blocks, -1))
        starts = jax.tree.map(lambda x: x.reshape(-1, *x.shape[2:]), starts)

        def lanes_of(lives):
            lives = jnp.minimum(lives, n_lives - 1)
            fixed, carry = pick(starts, lives)
            if shared:
                return fixed, carry
            return pick(genomes, genome_of[lives]), fixed, carry

        lanes = lanes_of(jnp.arange(slots))
        owner = jnp.arange(slots)  # the lifetime in each slot; n_lives and up: none
        results = jax.tree.map(
            lambda s: jnp.zeros((n_lives, *s.shape[1:]), s.dtype),
            jax.eval_shape(finish, genomes if shared else lanes[0], lanes[-1]),
        )

        def chunk(loop):
            lanes, owner, following, results = loop
            params = genomes if shared else lanes[0]
            fixed, carry = lanes[-2:]
            live = owner < n_lives
            wait_for = jnp.minimum(threshold, jnp.sum(live))

            def one(inner):
                k, _, carry = inner
                carry = where(live & ~done(carry), advance(params, fixed, carry), carry)
                return k + 1, jnp.sum(live & done(carry)), carry

            # step until enough lifetimes have ended to be worth a refill (the refill's
            # few dozen small operations cost about as much as a few steps of the pool)
            _, _, carry = jax.lax.while_loop(
                lambda inner: (inner[0] < every) & (inner[1] < wait_for),
                one,
                (jnp.int32(0), jnp.int32(0), carry),
            )
            ended = live & done(carry)
            results = jax.tree.map(
                lambda buf, v: buf.at[jnp.where(ended, owner, n_lives)].set(
                    v, mode="drop"
                ),
                results,
                finish(params, carry),
            )
            count = jnp.minimum(jnp.sum(ended), new)
            # the first ``count`` ended slots take lifetimes following, following + 1, ...
            (targets,) = jnp.nonzero(ended, size=new, fill_value=slots)
            targets = jnp.where(jnp.arange(new) < count, targets, slots)
            fresh = lanes_of(following + jnp.arange(new))
            lanes = jax.tree.map(
                lambda x, f: x.at[targets].set(f, mode="drop"),
                (*lanes[:-1], carry),
                fresh,
            )
            owner = owner.at[targets].set(following + jnp.arange(new), mode="drop")
            return lanes, owner, following + count, results

        loop = (lanes, owner, jnp.int32(slots), results)
        loop = jax.lax.while_loop(lambda loop: jnp.any(loop[1] < n_lives), chunk, loop)
        return loop[-1]

    return run


def _compaction(task: Task, model: Model, kind: str) -> LifetimeParts | None:
    """The task's lifetime steps when its ``kind`` ("sets" or "all") of evaluation compacts
    on this backend, else None."""
    if task.lifetime_parts is None or task.block_lifetimes is None:
        return None
    if task.compact == "off" or (task.compact == "sets" and kind != "sets"):
        return None
    if jax.default_backend() != "cpu":
        return None
    return task.lifetime_parts(model)


def population_evaluator(
    model: Model, task: Task, mesh: Mesh | None = None
) -> Callable[[Params, Any, jax.Array], LifetimeResult]:
    """``(population, task_params[n_t], keys[n_t, r]) -> LifetimeResult[P, n_t, r]``.

    Every individual runs every (task, repeat) pair with the same keys (common random
    numbers, as the reference does). The population axis is sharded over ``mesh``.
    """
    parts = _compaction(task, model, "all")
    if parts is not None:
        return _compacted_population(model, task, parts, mesh)
    lifetime = task.lifetime(model)
    over_repeats = jax.vmap(lifetime, in_axes=(None, None, 0))
    over_tasks = jax.vmap(over_repeats, in_axes=(None, 0, 0))

    def evaluate(population, task_params, keys):
        rows = block_rows(task, keys.shape[0] * keys.shape[1])
        run = sharded_vmap(over_tasks, (0, None, None), mesh=mesh, batch_size=rows)
        return run(population, task_params, keys)

    return evaluate


def _compacted_population(model: Model, task: Task, parts: LifetimeParts, mesh):
    pool = compacted(parts, task.block_lifetimes, shared=False)
    prepare = jax.vmap(getattr(model, "prepare", same_params))

    def rows(population, task_params, keys):
        n_p = jax.tree.leaves(population)[0].shape[0]
        n_t, n_r = keys.shape[:2]
        lives = jnp.arange(n_p * n_t * n_r)
        out = pool(
            prepare(population),
            task_params,
            keys.reshape(n_t * n_r, *keys.shape[2:]),
            lives // (n_t * n_r),
            (lives // n_r) % n_t,
            lives % (n_t * n_r),
        )
        return jax.tree.map(lambda x: x.reshape(n_p, n_t, n_r, *x.shape[1:]), out)

    return sharded_rows(rows, (0, None, None), mesh=mesh)


def set_evaluator(
    model: Model, task: Task, mesh: Mesh | None = None, probe: Probe | None = None
) -> Callable[[Params, Any, jax.Array], Any]:
    """``(params, task_params[N], keys[N, r]) -> LifetimeResult[N, r]`` for one genome.

    With a recording ``probe`` it returns ``(LifetimeResult[N, r], trace[N, r, ...])``.
    The task axis is sharded over ``mesh``.
    """
    recording = probe is not None and bool(probe.record)
    if probe is None:
        parts = _compaction(task, model, "sets")
        if parts is not None:
            return _compacted_set(model, task.block_lifetimes, parts, mesh)
    block = None if recording else task.block_lifetimes
    return _set_evaluator(task.lifetime(model, probe), block, mesh)


def _compacted_set(model: Model, n_slots: int, parts: LifetimeParts, mesh):
    pool = compacted(parts, n_slots, shared=True)
    prepare = getattr(model, "prepare", same_params)

    def rows(params, task_params, keys):
        n_t, n_r = keys.shape[:2]
        lives = jnp.arange(n_t * n_r)
        out = pool(
            prepare(params),
            task_params,
            keys.reshape(n_t * n_r, *keys.shape[2:]),
            lives,
            lives // n_r,
            lives,
        )
        return jax.tree.map(lambda x: x.reshape(n_t, n_r, *x.shape[1:]), out)

    run = sharded_rows(rows, (None, 0, 0), mesh=mesh)

    def evaluate(params, task_params, keys):
        return replicated(run(params, task_params, keys), mesh)

    return evaluate


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


@functools.lru_cache(maxsize=32)
def _jitted_compacted_set(model, n_slots: int, parts, mesh: Mesh | None):
    return jax.jit(_compacted_set(model, n_slots, parts, mesh))


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
    parts = _compaction(task, model, "sets") if probe is None else None
    if parts is None:
        run = _jitted_set_evaluator(task.lifetime(model, probe), block, mesh)
    else:
        try:
            run = _jitted_compacted_set(model, task.block_lifetimes, parts, mesh)
        except TypeError:  # an unhashable model
            run = jax.jit(_compacted_set(model, task.block_lifetimes, parts, mesh))
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
    fitness is NaN or infinite).
    """
    returns = np.asarray(result.returns, np.float64)
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
    return {
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

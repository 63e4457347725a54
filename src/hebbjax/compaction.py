"""Compaction inside a block: lifetimes in a pool of slots, a finished one's slot going to
the next (issue 19). Part of the rollout layer: ``hebbjax.rollout``'s evaluators use it for
tasks with ``Task.compact`` on CPU; measured in ``benchmarks/compaction.py``.

Wang et al. 2022 spec 2.6: a maze lifetime ends when its last rollout does, so lifetimes of
one block end at different steps.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
from jax.sharding import Mesh

from hebbjax.models.base import Model, Params, same_params
from hebbjax.parallel import replicated, sharded_rows
from hebbjax.tasks.base import Task
from hebbjax.tasks.lifetime import LifetimeParts


def where_lanes(flags: jax.Array, a: Any, b: Any) -> Any:
    """``a`` where ``flags`` (one per lane, the leading axis of every leaf), else ``b``: how
    a lane whose lifetime has ended keeps its state, as ``vmap`` of a ``while_loop`` does."""
    return jax.tree.map(
        lambda x, y: jnp.where(flags.reshape(-1, *(1,) * (x.ndim - 1)), x, y), a, b
    )


def compacted(
    parts: LifetimeParts,
    n_slots: int,
    shared: bool,
    every: int = 64,
    n_new: int | None = None,
    refill_at: int | None = None,
) -> Callable[[Params, Any, jax.Array, jax.Array, jax.Array, jax.Array], Any]:
    """Lifetimes run in a pool of ``n_slots``, a finished one's slot going to the next.

    ``run(genomes, task_params, keys, genome_of, task_of, key_of, starts=None) ->
    LifetimeResult[L]`` runs the L lifetimes ``l``: genome ``genome_of[l]`` (``genomes`` is
    one genome when ``shared``, else stacked), task ``task_of[l]``, key ``key_of[l]`` (rows
    of ``keys``), started in that order; ``starts``, when given, are the L lifetimes'
    ``parts.start`` outputs, stacked (else computed here). The slots step together and a
    slot whose lifetime has ended is not stepped. Once ``refill_at`` lifetimes have ended
    (default an eighth of the slots; fewer when fewer are running), or after ``every``
    steps, their results are stored and up to ``n_new`` (default a quarter of the slots) of
    their slots take the next lifetimes, in place. A refill is a few dozen small operations,
    about as costly as a few steps of the pool, hence the wait. Every lifetime's start
    (noise, resets, first memory) is computed up front, in blocks of ``n_slots`` unless
    given (``compacted_population`` gives them, computed once per (task, key) pair).

    A block that stops when its slowest lifetime ends (``blocked_vmap``) steps its early
    finishers at about half a live lifetime's cost (their weight update is skipped,
    ``benchmarks/block_waste.py``); here they wait for the refill. Each lifetime is the same function
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

    def run(genomes, task_params, keys, genome_of, task_of, key_of, starts=None):
        n_lives = key_of.shape[0]
        slots = min(n_slots, n_lives)
        new = max(1, min(slots, slots // 4 if n_new is None else n_new))
        threshold = max(1, new // 2) if refill_at is None else min(refill_at, new)

        def begin(lives):
            lives = jnp.minimum(lives, n_lives - 1)
            params = genomes if shared else pick(genomes, genome_of[lives])
            return start(params, pick(task_params, task_of[lives]), keys[key_of[lives]])

        if starts is None:
            # every lifetime's start (its noise, resets and first memory), computed up
            # front in blocks of ``slots``: one vectorised pass, as a blocked evaluation
            # would, instead of many small ones in the loop
            n_blocks = -(-n_lives // slots)
            lives = jnp.arange(n_blocks * slots).reshape(n_blocks, -1)
            starts = jax.lax.map(begin, lives)
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
                carry = where_lanes(
                    live & ~done(carry), advance(params, fixed, carry), carry
                )
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


#: ``compact="auto"`` pools a population's lifetimes when each genome runs at least this
#: many times ``block_lifetimes`` of them (the maze default was "auto" while a pool's
#: lifetimes each drew their own noise: the pool lost at 32 lifetimes per genome; since
#: their starts are mapped per (task, key) pair it wins from 8, and the default is "all").
POOL_FROM = 4


def compaction_of(task: Task, model: Model, kind: str) -> LifetimeParts | None:
    """The task's lifetime steps when its ``kind`` ("sets" or "all") of evaluation may
    compact on this backend, else None ("auto" decides per population shape:
    ``pools_population``)."""
    if task.lifetime_parts is None or task.block_lifetimes is None:
        return None
    if task.compact == "off" or (task.compact == "sets" and kind != "sets"):
        return None
    if jax.default_backend() != "cpu":
        return None
    return task.lifetime_parts(model)


def pools_population(task: Task, lifetimes_per_genome: int) -> bool:
    """Whether a population whose genomes each run ``lifetimes_per_genome`` lifetimes is
    evaluated in a pool (``compact`` "all", or "auto" and enough lifetimes per genome)."""
    if task.compact == "all":
        return True
    return task.compact == "auto" and (
        lifetimes_per_genome >= POOL_FROM * task.block_lifetimes
    )


def compacted_population(model: Model, task: Task, parts: LifetimeParts, mesh):
    pool = compacted(parts, task.block_lifetimes, shared=False)
    prepare = jax.vmap(getattr(model, "prepare", same_params))

    def rows(population, task_params, keys):
        n_p = jax.tree.leaves(population)[0].shape[0]
        n_t, n_r = keys.shape[:2]
        lives = jnp.arange(n_p * n_t * n_r)
        population = prepare(population)
        keys = keys.reshape(n_t * n_r, *keys.shape[2:])
        # every genome runs the same n_t x n_r (task, key) pairs: the starts are mapped
        # over the genomes outside and the pairs inside, so what depends on a pair alone
        # (the lifetime's noise, its rollouts' resets) is computed once per pair, as in a
        # blocked evaluation, not once per lifetime (the noise's threefry was 15 % of
        # a pool's time)
        pair_tasks = jax.tree.map(
            lambda x: x[jnp.arange(n_t * n_r) // n_r], task_params
        )
        starts = jax.vmap(
            jax.vmap(parts.start, in_axes=(None, 0, 0)), in_axes=(0, None, None)
        )(population, pair_tasks, keys)
        out = pool(
            population,
            task_params,
            keys,
            lives // (n_t * n_r),
            (lives // n_r) % n_t,
            lives % (n_t * n_r),
            jax.tree.map(lambda x: x.reshape(-1, *x.shape[2:]), starts),
        )
        return jax.tree.map(lambda x: x.reshape(n_p, n_t, n_r, *x.shape[1:]), out)

    return sharded_rows(rows, (0, None, None), mesh=mesh)


def compacted_set(model: Model, n_slots: int, parts: LifetimeParts, mesh):
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


@functools.lru_cache(maxsize=32)
def jitted_compacted_set(model, n_slots: int, parts, mesh: Mesh | None):
    return jax.jit(compacted_set(model, n_slots, parts, mesh))

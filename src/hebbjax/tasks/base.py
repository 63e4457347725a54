"""The task contract: what training, evaluation and analyses need from a meta-learning task.

A task is a typed record (a ``NamedTuple``, like gymnax's ``EnvParams`` fields, never a dict
read by string). Its ``lifetime(model, probe=None)`` turns (genome, task parameters, key) into
the ``LifetimeResult`` of one lifetime, for one example; ``hebbjax.rollout`` is the only place
that batches it over tasks, repeats and the population. Every task drives a gymnax
environment's ``reset``/``step`` (``env``) through the one lifetime loop of
``tasks/lifetime.py``, so each dynamics is written once.
"""

from __future__ import annotations

import functools
import numbers
from collections.abc import Callable, Mapping
from typing import Any, NamedTuple, TypeVar

import jax
import numpy as np

from hebbjax.models.base import Model, Params, same_params
from hebbjax.tasks.lifetime import LifetimeParts, LifetimeResult, Probe

Lifetime = Callable[[Params, Any, jax.Array], Any]


class TaskWords(NamedTuple):
    """What a task calls things, for summaries, tables and plots.

    Attributes:
        task: one task of the distribution ("maze", "sequence", "morphology set").
        rollout: one rollout of a lifetime ("rollout", "episode", "morphology").
        rollout_names: a label per rollout, e.g. ("TRAIN", "TEST"); default numbered.
        success: what a successful rollout means ("reached the goal").
        returns: what the return measures, with its unit ("return", "distance (m)").
    """

    task: str = "task"
    rollout: str = "rollout"
    rollout_names: tuple[str, ...] | None = None
    success: str = "success"
    returns: str = "return"

    def rollout_label(self, r: int) -> str:
        if self.rollout_names is not None:
            return self.rollout_names[r]
        return f"{self.rollout} {r + 1}"


class TaskSet(NamedTuple):
    """A named set of tasks: ``load()`` gives the stacked task parameters (leading axis =
    tasks), the same for every run and user; ``role`` says what it is for."""

    load: Callable[[], Any]
    role: str = "test"  # "validation", "test", "train", "held-out"
    description: str = ""


class Task(NamedTuple):
    """A meta-learning task.

    Attributes:
        name: the registry name.
        n_in, n_out: the network input and output sizes the task feeds and reads.
        n_rollouts: rollouts (episodes) per lifetime.
        env: the gymnax environment the lifetime steps.
        sample_params: one task drawn from the training distribution (a pytree).
        sets: named evaluation sets; "validation" (model selection during training) and
            "test" always exist, tasks may add their own (e.g. one per ant morphology).
        lifetime: ``lifetime(model, probe=None) -> run(params, task_params, key)``,
            returning a ``LifetimeResult`` (and a trace with a recording probe); memoised,
            so jitted callers do not recompile.
        words: how summaries and plots name things.
        rollout_weights: fitness weight of each rollout (what the fitness averages).
        eval_sets: the sets ``hebbjax eval`` reports by default.
        eval_repeats: lifetimes per task ``hebbjax eval`` runs by default (the ant: 100
            per morphology, as the papers).
        block_lifetimes: on CPU, evaluate about this many lifetimes at a time per device
            (a cache-sized block that stops when all its lifetimes have ended); None: all
            at once. Speed only: results do not depend on it.
        compact: on CPU, the block is a pool of ``block_lifetimes`` slots and a lifetime
            that ends early hands its slot to the next one (``compaction.compacted``), instead
            of being stepped until the block's slowest lifetime ends: "sets" for the
            evaluation of one genome on a set (validation, ``hebbjax eval``), "auto" also
            for a population whose genomes each run at least 4 x ``block_lifetimes``
            lifetimes (``compaction.POOL_FROM``), "all" for every population's too, "off".
            Speed only; needs ``lifetime_parts``.
        lifetime_parts: ``lifetime_parts(model) -> LifetimeParts``: the lifetime cut at
            its steps, for compaction (genome not prepared; memoised); None: not available.
        settings: the task's options, for display (``hebbjax tasks``) only.
    """

    name: str
    n_in: int
    n_out: int
    n_rollouts: int
    env: Any
    sample_params: Callable[[jax.Array], Any]
    sets: Mapping[str, TaskSet]
    lifetime: Callable[..., Lifetime]
    words: TaskWords = TaskWords()
    rollout_weights: tuple[float, ...] | None = None
    eval_sets: tuple[str, ...] = ("test",)
    eval_repeats: int = 1
    block_lifetimes: int | None = None
    settings: Mapping[str, Any] = {}
    compact: str = "off"
    lifetime_parts: Callable[..., LifetimeParts] | None = None

    def task_set(self, name: str) -> Any:
        """The stacked parameters of set ``name`` (a ValueError lists the valid sets)."""
        if name not in self.sets:
            raise ValueError(
                f"task {self.name!r} has no set {name!r}; valid sets: "
                + ", ".join(self.sets)
            )
        return self.sets[name].load()

    def validation_set(self) -> Any:
        return self.task_set("validation")

    def test_set(self) -> Any:
        return self.task_set("test")


T = TypeVar("T")


def checked_block(block_lifetimes: int | None) -> int | None:
    """``block_lifetimes`` of a task factory, or a ValueError naming the valid values."""
    if block_lifetimes is None:
        return None
    if (
        isinstance(block_lifetimes, bool)
        or not isinstance(block_lifetimes, numbers.Integral)
        or block_lifetimes < 1
    ):
        raise ValueError(
            f"block_lifetimes must be an int >= 1 or None, got {block_lifetimes!r}"
        )
    return int(block_lifetimes)


def per_model_cache(build: Callable[..., T]) -> Callable[..., T]:
    """Memoise ``build(model, probe=None)``, so every ``task.lifetime(model)`` call returns
    the same closure and jitted callers do not recompile; unhashable models get a fresh
    build.

    The lifetime it returns passes the genome through ``model.prepare`` first (once per
    lifetime, outside the time loop; under ``vmap`` over tasks and repeats it runs once per
    genome, since the genome is not mapped there).
    """

    def build_prepared(model: Model, probe: Probe | None = None):
        lifetime = build(model, probe)
        prepare = getattr(model, "prepare", same_params)
        if prepare is same_params:
            return lifetime

        @functools.wraps(lifetime)
        def prepared(params, *args, **kwargs):
            return lifetime(prepare(params), *args, **kwargs)

        return prepared

    cached = functools.lru_cache(maxsize=64)(build_prepared)

    def get(model: Model, probe: Probe | None = None) -> T:
        try:
            return cached(model, probe)
        except TypeError:
            return build_prepared(model, probe)

    return get


COMPACT = ("off", "sets", "auto", "all")


def checked_compact(compact: str) -> str:
    """``compact`` of a task factory, or a ValueError naming the valid values."""
    if compact not in COMPACT:
        raise ValueError(
            f"unknown compact {compact!r}; valid: {', '.join(COMPACT)} (which "
            "evaluations refill a finished lifetime's slot: none, one genome on a set, "
            "also a population whose genomes each run many lifetimes, every population)"
        )
    return compact


def per_model(build: Callable[[Model], T]) -> Callable[[Model], T]:
    """Memoise ``build(model)`` (unhashable models get a fresh build)."""
    cached = functools.lru_cache(maxsize=64)(build)

    def get(model: Model) -> T:
        try:
            return cached(model)
        except TypeError:
            return build(model)

    return get


def seeded_task_set(
    sample_params: Callable[[jax.Array], Any], seed: int, n: int
) -> Callable[[], Any]:
    """A ``TaskSet.load`` for a sampler: ``n`` tasks stacked, drawn from ``key(seed)``,
    the same for every run and user, computed once per task object."""

    @functools.cache
    def task_set():
        return jax.vmap(sample_params)(jax.random.split(jax.random.key(seed), n))

    return task_set


def seeded_sets(
    sample_params: Callable[[jax.Array], Any],
    validation_seed: int,
    test_seed: int,
    n_validation: int,
    n_test: int,
    what: str,
) -> dict[str, TaskSet]:
    """The ``validation`` and ``test`` sets of a sampled task: ``n`` ``what`` (e.g. "goals")
    drawn by ``seeded_task_set`` from each seed."""
    return dict(
        validation=TaskSet(
            seeded_task_set(sample_params, validation_seed, n_validation),
            "validation",
            f"{n_validation:,} seeded {what} (seed {validation_seed})",
        ),
        test=TaskSet(
            seeded_task_set(sample_params, test_seed, n_test),
            "test",
            f"{n_test:,} seeded {what} (seed {test_seed})",
        ),
    )


def weighted_fitness(weights: tuple[float, ...]) -> Callable[..., jax.Array]:
    """Fitness = the ``weights``-weighted mean of the rollout returns."""
    import jax.numpy as jnp

    w = np.asarray(weights, np.float32)  # numpy: may be built inside a trace

    def fitness(params, returns, steps, success):
        return jnp.sum(w * returns) / jnp.sum(w)

    return fitness


def check_rollout_weights(n_rollouts: int, weights) -> tuple[float, ...]:
    """``weights`` as a tuple of ``n_rollouts`` finite floats with a positive sum. A
    negative weight is allowed: (-0.5, 0, 1.5) is R3 + 0.5 (R3 - R1), a fitness that also
    rewards what a lifetime learns between its first and last rollouts (on the maze it is
    gamed: the goal is in view, so rollout 1 learns to see it and not enter; README)."""
    weights = tuple(float(w) for w in weights)
    if len(weights) != n_rollouts or not all(np.isfinite(weights)) or sum(weights) <= 0:
        raise ValueError(
            f"rollout_weights must be {n_rollouts} finite numbers with a positive sum, "
            f"got {weights}"
        )
    return weights


__all__ = [
    "LifetimeResult",
    "Probe",
    "Task",
    "TaskSet",
    "TaskWords",
    "check_rollout_weights",
    "checked_block",
    "checked_compact",
    "per_model",
    "per_model_cache",
    "seeded_sets",
    "seeded_task_set",
    "weighted_fitness",
]

"""The task contract: what the evolution loop needs from a meta-learning task.

A task turns (genome, task parameters, key) into the fitness of one lifetime, for one example;
the evolution loop vmaps it over tasks, repeats and the population.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, NamedTuple, TypeVar

import jax

from hebbjax.models.base import Model, Params


class LifetimeResult(NamedTuple):
    """What one lifetime returns. Per-rollout arrays have shape (n_rollouts,)."""

    fitness: jax.Array  # scalar, higher is better
    returns: jax.Array  # (n_rollouts,) return of each rollout
    steps: jax.Array  # (n_rollouts,) environment steps of each rollout
    success: jax.Array  # (n_rollouts,) 1.0 if the rollout reached its goal


class Task(NamedTuple):
    """A meta-learning task.

    - ``sample_params(key)``: one task drawn from the training distribution (an env-params pytree).
    - ``validation_set()`` / ``test_set()``: stacked env-params (leading axis = tasks), seeded, the
      same for every run and every user.
    - ``lifetime(model)``: returns ``run(params, task_params, key) -> LifetimeResult``.
    """

    name: str
    n_in: int
    n_out: int
    n_rollouts: int
    sample_params: Callable[[jax.Array], Any]
    validation_set: Callable[[], Any]
    test_set: Callable[[], Any]
    lifetime: Callable[[Model], Callable[[Params, Any, jax.Array], LifetimeResult]]
    info: dict[str, Any]


T = TypeVar("T")


def per_model_cache(build: Callable[[Model], T]) -> Callable[[Model], T]:
    """Memoise ``build(model)``, so every ``task.lifetime(model)`` call returns the same
    closure and jitted callers do not recompile; unhashable models get a fresh build."""
    cached = functools.lru_cache(maxsize=32)(build)

    def get(model: Model) -> T:
        try:
            return cached(model)
        except TypeError:
            return build(model)

    return get


def seeded_task_set(
    sample_params: Callable[[jax.Array], Any], seed: int, n: int
) -> Callable[[], Any]:
    """``Task.validation_set``/``test_set`` for a sampler: ``n`` tasks stacked, drawn from
    ``key(seed)``, the same for every run and user, computed once per task object."""

    @functools.cache
    def task_set():
        return jax.vmap(sample_params)(jax.random.split(jax.random.key(seed), n))

    return task_set

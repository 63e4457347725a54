"""One generation of meta-learning by evolution, compiled whole.

The reference outer loop (Wang et al. 2022 code, spec section 3) sends one individual per CPU
core; here one ``jit`` holds ask, the evaluation of every individual on the same n_t sampled tasks
x repeats (common random numbers, as the reference does), and tell. The population is batched
and sharded by ``hebbjax.rollout``, the one module that batches lifetimes.

Fitness is higher-is-better everywhere in hebbjax; it is negated exactly once, at evosax's
``tell``. Non-finite fitness is replaced by a value below the worst finite one and counted.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
from jax.sharding import Mesh

from hebbjax.models.base import Model, Params
from hebbjax.parallel import population_mesh
from hebbjax.rollout import (
    batch_metrics,
    n_tasks_of,
    population_evaluator,
    set_evaluator,
    summarize,
)
from hebbjax.tasks.base import Task


def sanitize_fitness(fitness: jax.Array) -> tuple[jax.Array, jax.Array]:
    """Replace NaN/inf by a value worse than every finite one; return it and the count."""
    finite = jnp.isfinite(fitness)
    worst = jnp.min(jnp.where(finite, fitness, jnp.inf))
    worst = jnp.where(jnp.isfinite(worst), worst - 1.0, -1e6)
    return jnp.where(finite, fitness, worst), jnp.sum(~finite)


def _strategy_step_size(state: Any) -> jax.Array:
    for name in ("std", "sigma"):
        value = getattr(state, name, None)
        if value is not None:
            return jnp.mean(jnp.asarray(value))
    return jnp.asarray(jnp.nan)


def make_generation_step(
    es: Any,
    es_params: Any,
    model: Model,
    task: Task,
    n_tasks: int,
    repeats: int,
    mesh: Mesh | None = None,
) -> Callable[[Any, jax.Array], tuple[Any, dict]]:
    """A jitted ``(es_state, key) -> (es_state, metrics)`` for one generation."""
    evaluate = population_evaluator(model, task, mesh)

    def generation(es_state, key):
        k_ask, k_tasks, k_life, k_tell = jax.random.split(key, 4)
        population, es_state = es.ask(k_ask, es_state, es_params)
        task_params = jax.vmap(task.sample_params)(jax.random.split(k_tasks, n_tasks))
        life_keys = jax.random.split(k_life, (n_tasks, repeats))
        result = evaluate(population, task_params, life_keys)
        fitness, n_nonfinite = sanitize_fitness(jnp.mean(result.fitness, axis=(1, 2)))
        with population_mesh(mesh):  # an update may sum over the population per device
            es_state, _ = es.tell(k_tell, population, -fitness, es_state, es_params)
        metrics = dict(
            fitness_mean=jnp.mean(fitness),
            fitness_max=jnp.max(fitness),
            fitness_min=jnp.min(fitness),
            fitness_std=jnp.std(fitness),
            n_nonfinite=n_nonfinite,
            step_size=_strategy_step_size(es_state),
            **batch_metrics(result),
        )
        return es_state, metrics

    return jax.jit(generation, donate_argnums=0)


def make_validator(
    model: Model, task: Task, repeats: int, mesh: Mesh | None = None
) -> Callable[[Params, Any, jax.Array], dict]:
    """``(params, task_set, key) -> summary`` evaluating one genome on a set: one jitted
    call, summarised on the host by ``rollout.summarize``."""
    evaluate = jax.jit(set_evaluator(model, task, mesh))

    def validate(params, task_set, key):
        keys = jax.random.split(key, (n_tasks_of(task_set), repeats))
        return summarize(jax.device_get(evaluate(params, task_set, keys)))

    return validate

"""One generation of meta-learning by evolution, compiled whole.

The reference outer loop (Wang et al. 2022 code, spec section 3) sends one individual per CPU
core; here one ``jit`` holds ask, the evaluation of every individual on the same n_t sampled tasks
x repeats (common random numbers, as the reference does), and tell. Lifetimes are ``lax.scan``s
inside the task; the population axis is vmapped and sharded over all local devices.

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
from hebbjax.parallel import sharded_vmap
from hebbjax.tasks.base import LifetimeResult, Task


def sanitize_fitness(fitness: jax.Array) -> tuple[jax.Array, jax.Array]:
    """Replace NaN/inf by a value worse than every finite one; return it and the count."""
    finite = jnp.isfinite(fitness)
    worst = jnp.min(jnp.where(finite, fitness, jnp.inf))
    worst = jnp.where(jnp.isfinite(worst), worst - 1.0, -1e6)
    return jnp.where(finite, fitness, worst), jnp.sum(~finite)


def block_rows(task: Task, lifetimes_per_row: int) -> int | None:
    """Rows per block for a task's ``block_lifetimes`` option (None: no blocking).

    Blocking keeps a CPU core's working set in its cache; an accelerator needs the whole
    batch at once to fill its cores, so off the CPU the option is ignored.
    """
    block = task.info.get("block_lifetimes")
    if block is None or jax.default_backend() != "cpu":
        return None
    return max(1, int(block) // lifetimes_per_row)


def population_evaluator(
    model: Model, task: Task, mesh: Mesh | None = None
) -> Callable[[Params, Any, jax.Array], LifetimeResult]:
    """``(population, task_params[n_t], keys[n_t, r]) -> LifetimeResult[P, n_t, r]``.

    Every individual runs every (task, repeat) pair with the same keys. With the task option
    ``block_lifetimes`` (maze: 32) each device evaluates its individuals in blocks of about
    that many lifetimes (whole individuals), so a block stays in cache and stops as soon as
    all its lifetimes have ended.
    """
    lifetime = task.lifetime(model)
    over_repeats = jax.vmap(lifetime, in_axes=(None, None, 0))
    over_tasks = jax.vmap(over_repeats, in_axes=(None, 0, 0))

    def evaluate(population, task_params, keys):
        rows = block_rows(task, keys.shape[0] * keys.shape[1])
        run = sharded_vmap(over_tasks, (0, None, None), mesh=mesh, batch_size=rows)
        return run(population, task_params, keys)

    return evaluate


def task_set_evaluator(
    model: Model, task: Task, mesh: Mesh | None = None
) -> Callable[[Params, Any, jax.Array], LifetimeResult]:
    """``(params, task_params[N], keys[N, r]) -> LifetimeResult[N, r]`` for one genome."""
    lifetime = task.lifetime(model)
    over_repeats = jax.vmap(lifetime, in_axes=(None, None, 0))

    def evaluate(params, task_params, keys):
        rows = block_rows(task, keys.shape[1])
        run = sharded_vmap(over_repeats, (None, 0, 0), mesh=mesh, batch_size=rows)
        return run(params, task_params, keys)

    return evaluate


def _strategy_step_size(state: Any) -> jax.Array:
    for name in ("std", "sigma"):
        value = getattr(state, name, None)
        if value is not None:
            return jnp.mean(jnp.asarray(value))
    return jnp.asarray(jnp.nan)


def result_summary(result: LifetimeResult) -> dict:
    """Per-rollout statistics of a batch of lifetimes (rollout axis last)."""
    axes = tuple(range(result.returns.ndim - 1))
    return dict(
        rollout_return=jnp.mean(result.returns, axis=axes),
        rollout_success=jnp.mean(result.success, axis=axes),
        rollout_steps=jnp.mean(result.steps, axis=axes),
        env_steps=jnp.sum(result.steps),
    )


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
        es_state, _ = es.tell(k_tell, population, -fitness, es_state, es_params)
        metrics = dict(
            fitness_mean=jnp.mean(fitness),
            fitness_max=jnp.max(fitness),
            fitness_min=jnp.min(fitness),
            fitness_std=jnp.std(fitness),
            n_nonfinite=n_nonfinite,
            step_size=_strategy_step_size(es_state),
            **result_summary(result),
        )
        return es_state, metrics

    return jax.jit(generation, donate_argnums=0)


def make_validator(
    model: Model, task: Task, repeats: int, mesh: Mesh | None = None
) -> Callable[[Params, Any, jax.Array], dict]:
    """A jitted ``(params, task_set, key) -> metrics`` evaluating one genome on a set."""
    evaluate = task_set_evaluator(model, task, mesh)

    def validate(params, task_set, key):
        n = jax.tree.leaves(task_set)[0].shape[0]
        keys = jax.random.split(key, (n, repeats))
        result = evaluate(params, task_set, keys)
        per_lifetime = result.returns  # (n, repeats, n_rollouts)
        flat = per_lifetime.reshape(-1, per_lifetime.shape[-1])
        stderr = jnp.std(flat, axis=0) / jnp.sqrt(flat.shape[0])
        return dict(
            score=jnp.mean(result.fitness),
            **result_summary(result),
            rollout_return_stderr=stderr,
        )

    return jax.jit(validate)

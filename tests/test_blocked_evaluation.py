"""Blocked evaluation (the maze task's ``block_lifetimes``) is a speed option only."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from hebbjax.models import make_model
from hebbjax.parallel import blocked_vmap, local_mesh
from hebbjax.rollout import population_evaluator, set_evaluator
from hebbjax.tasks import make_task


def test_blocked_vmap_equals_vmap_with_a_remainder_block():
    def fn(a, b, c):
        return {"sum": jnp.sum(a) * b + c, "first": a[0]}

    a = jnp.arange(7 * 3, dtype=jnp.float32).reshape(7, 3)
    c = jnp.linspace(0.0, 1.0, 7)
    expected = jax.vmap(fn, in_axes=(0, None, 0))(a, 2.0, c)
    for size in (1, 3, 7, 50):
        got = blocked_vmap(fn, (0, None, 0), size)(a, 2.0, c)
        jax.tree.map(np.testing.assert_array_equal, got, expected)
    with pytest.raises(ValueError, match="batch_size"):
        blocked_vmap(fn, (0, None, 0), 0)


def test_block_size_does_not_change_results():
    mesh = local_mesh()  # two forced host devices in the test session
    model = make_model("decprnn-postdn", hidden=8)
    keys = jax.random.split(jax.random.key(0), 5)
    population = jax.vmap(model.init_params)(keys)
    population = jax.tree.map(lambda x: 20 * x, population)  # some lifetimes end early
    by_population, by_task_set = [], []
    for block in (None, 4, 8):
        task = make_task("maze9", block_lifetimes=block)
        mazes = jax.vmap(task.sample_params)(jax.random.split(jax.random.key(1), 2))
        life_keys = jax.random.split(jax.random.key(2), (2, 2))
        evaluate = jax.jit(population_evaluator(model, task, mesh))
        by_population.append(evaluate(population, mazes, life_keys))
        one = jax.jit(set_evaluator(model, task, mesh))
        by_task_set.append(
            one(jax.tree.map(lambda x: x[0], population), mazes, life_keys)
        )
    assert by_population[0].steps.shape == (5, 2, 2, 3)
    assert int(by_population[0].steps.min()) < int(by_population[0].steps.max())
    for results in (by_population, by_task_set):
        for got in results[1:]:
            jax.tree.map(np.testing.assert_array_equal, got, results[0])
    with pytest.raises(ValueError, match="block_lifetimes"):
        make_task("maze", block_lifetimes=0)

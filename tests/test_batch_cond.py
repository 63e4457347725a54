"""``batch_cond``: lax.cond per element, and under vmap the expensive side runs only when
some element of the batch needs it (ES-MAML's once-per-lifetime inner loop)."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from hebbjax.batch_cond import batch_cond
from hebbjax.models import make_model
from hebbjax.tasks import make_task


def heavy(scale, tree):
    return {"a": tree["a"] * scale + 1.0, "b": tree["b"] - scale}


def light(scale, tree):
    return {"a": tree["a"], "b": tree["b"] + 0.5}


def reference(pred, scale, tree):
    return jax.lax.cond(pred, heavy, light, scale, tree)


def same(got, want):
    """Equal up to a multiply-add that XLA may contract differently in another program."""
    jax.tree.map(
        lambda g, w: np.testing.assert_allclose(
            np.asarray(g).reshape(np.shape(w)), w, rtol=1e-6, atol=1e-6
        ),
        got,
        want,
    )


def operands(n):
    key_a, key_b = jax.random.split(jax.random.key(0))
    tree = {
        "a": jax.random.normal(key_a, (n, 3, 2)),
        "b": jax.random.normal(key_b, (n,)),
    }
    return jnp.linspace(0.5, 2.0, n), tree


def test_equals_lax_cond_per_element_under_vmap_and_nested_vmap():
    scale, tree = operands(12)
    pred = jnp.array([True, False, False, True] * 3)
    want = jax.vmap(reference)(pred, scale, tree)
    got = jax.jit(jax.vmap(lambda p, s, t: batch_cond(p, heavy, light, s, t)))(
        pred, scale, tree
    )
    same(got, want)
    # blocks inside a share: vmap of vmap, and an unbatched operand
    nested = jax.vmap(
        jax.vmap(lambda p, t: batch_cond(p, heavy, light, 2.0, t)), in_axes=(0, 0)
    )
    reshaped = jax.tree.map(lambda x: x.reshape(3, 4, *x.shape[1:]), tree)
    got = jax.jit(nested)(pred.reshape(3, 4), reshaped)
    want = jax.vmap(lambda p, t: reference(p, 2.0, t))(pred, tree)
    same(got, want)
    # one predicate for the whole batch
    got = jax.vmap(lambda s, t: batch_cond(True, heavy, light, s, t))(scale, tree)
    want = jax.vmap(lambda s, t: reference(True, s, t))(scale, tree)
    same(got, want)
    # unbatched: plain lax.cond
    assert float(batch_cond(False, heavy, light, 1.0, {"a": 1.0, "b": 2.0})["b"]) == 2.5


def _calls_of_heavy(cond, pred):
    calls = []

    def counted(scale, tree):
        jax.debug.callback(lambda: calls.append(1))
        return heavy(scale, tree)

    scale, tree = operands(pred.shape[0])
    run = jax.jit(jax.vmap(lambda p, s, t: cond(p, counted, light, s, t)))
    jax.block_until_ready(run(pred, scale, tree))
    return len(calls)


def test_heavy_side_runs_only_when_some_element_needs_it():
    none = jnp.zeros(8, jnp.bool_)
    one = none.at[3].set(True)
    assert _calls_of_heavy(batch_cond, none) == 0
    assert _calls_of_heavy(batch_cond, one) > 0
    # plain lax.cond under vmap is a select: the heavy side runs regardless
    assert _calls_of_heavy(jax.lax.cond, none) > 0


@pytest.mark.parametrize("task_name", ["wrnav-noise0.01", "seqpred-l1-k10-n20"])
def test_es_maml_batched_lifetimes_equal_single_lifetimes(task_name):
    """The inner loop runs at the first TEST step of every lifetime (adapt once), batched
    or not; a traced plasticity flag gives the same memory as the static one."""
    task = make_task(task_name)
    model = make_model("es-maml", n_in=task.n_in, n_out=task.n_out, hidden=8)
    keys = jax.random.split(jax.random.key(0), 3)
    params = jax.vmap(model.init_params)(keys)
    params["inner_lr"] = jnp.full((3, 4), 0.05)
    task_params = jax.vmap(task.sample_params)(keys)
    life = task.lifetime(model)
    batched = jax.jit(jax.vmap(life))(params, task_params, keys)
    for i in range(3):
        one = jax.tree.map(lambda x, i=i: x[i], (params, task_params, keys))
        single = jax.jit(life)(*one)
        np.testing.assert_allclose(
            batched.fitness[i], single.fitness, rtol=1e-5, atol=1e-5
        )
    zero_shot = jax.vmap(task.lifetime(make_model(
        "es-maml-zero-shot", n_in=task.n_in, n_out=task.n_out, hidden=8
    )))(params, task_params, keys)  # fmt: skip
    assert np.any(np.abs(np.asarray(batched.fitness - zero_shot.fitness)) > 1e-4)

    step = jax.vmap(model.step, in_axes=(0, 0, 0, None))
    memory = jax.vmap(model.init_memory)(params, keys)
    x = jnp.ones((3, task.n_in), jnp.float32)
    _, memory = step(params, memory, x, True)
    for flag in (True, False):
        _, static = step(params, memory, x, flag)
        _, traced = jax.jit(step)(params, memory, x, jnp.bool_(flag))
        jax.tree.map(
            lambda a, b: np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6),
            static,
            traced,
        )
        assert bool(jnp.all(static.adapted)) is (not flag)

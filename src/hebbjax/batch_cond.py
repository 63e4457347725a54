"""A ``lax.cond`` that stays a branch under ``vmap``: run the expensive side only when some
lifetime of the batch needs it.

Under ``vmap`` a ``lax.cond`` with a batched predicate becomes a ``select``: both branches run
for every element at every call. A single-example core that does rare, expensive work behind
a condition (ES-MAML's inner loop, Song et al. 2019, run once per lifetime at the first frozen
step: Wang et al., EPRNN Sec. 4.2) then pays for it at every step of every lifetime.

``batch_cond(pred, true_fn, false_fn, *operands)`` is ``lax.cond`` for one example. Batched,
its rule computes ``any(pred)`` over the batch and branches on that scalar: when no element
needs ``true_fn`` only ``false_fn`` runs; otherwise both run for the whole batch and each
element takes its own side (the ``select`` of plain batching). Nested ``vmap``s (blocks of
lifetimes inside a device's share) apply the rule at each level, so the branch is taken on
the predicate of the whole block. Each element gets what ``lax.cond`` would give it.

The functions must be pure functions of their operands (no closed-over batched values):
pass everything that varies as an operand. Like every ``custom_vmap`` function it cannot be
differentiated in reverse mode (evolution never does; gradients inside the branches are fine).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp


def _broadcast(tree: Any, batched: Any, size: int) -> Any:
    """Every leaf of ``tree`` with a leading batch axis of ``size`` (added where absent)."""
    return jax.tree.map(
        lambda x, b: x if b else jnp.broadcast_to(x, (size, *jnp.shape(x))),
        tree,
        batched,
    )


def _select(pred: jax.Array, on_true: Any, on_false: Any) -> Any:
    """Per element of the leading axis: ``on_true`` where ``pred``, else ``on_false``."""

    def pick(a, b):
        p = pred.reshape(pred.shape + (1,) * (a.ndim - 1))
        return jnp.where(p, a, b)

    return jax.tree.map(pick, on_true, on_false)


def batch_cond(
    pred: jax.Array,
    true_fn: Callable[..., Any],
    false_fn: Callable[..., Any],
    *operands: Any,
) -> Any:
    """``lax.cond(pred, true_fn, false_fn, *operands)``; under ``vmap``, ``true_fn`` runs
    (for the whole batch) only when ``pred`` holds for some element."""

    @jax.custom_batching.custom_vmap
    def cond(p, *ops):
        return jax.lax.cond(p, true_fn, false_fn, *ops)

    @cond.def_vmap
    def rule(axis_size, in_batched, p, *ops):
        p_batched, *ops_batched = in_batched
        pairs = zip(ops, ops_batched, strict=True)
        ops = tuple(_broadcast(o, b, axis_size) for o, b in pairs)
        batched_true, batched_false = jax.vmap(true_fn), jax.vmap(false_fn)
        if not p_batched:  # one predicate for the batch: a branch as it is
            out = batch_cond(p, batched_true, batched_false, *ops)
        else:

            def both(p, *o):
                return _select(p, batched_true(*o), batched_false(*o))

            def neither(p, *o):
                return batched_false(*o)

            out = batch_cond(jnp.any(p), both, neither, p, *ops)
        return out, jax.tree.map(lambda _: True, out)

    return cond(jnp.asarray(pred, jnp.bool_), *operands)

"""The plasticity-rule contract (Wang et al. 2022, "decomposed plasticity", spec 1.3).

A rule is a factory that closes over the static shape of one plastic matrix
W (n_out x n_in: rows are post-synaptic, columns pre-synaptic) and returns a
``PlasticityRule`` NamedTuple:

- ``shapes``: the rule's evolved tensors (its share of the genome), keyed by the
  reference code's local tensor names (e.g. ``"A"`` or ``"W_Ax"``);
- ``init(params) -> PlasticState``: the state at the start of a lifetime;
- ``update(params, state, pre, post, mu=None, plastic=True) -> PlasticState``:
  one plastic update for a single example. ``mu`` is a scalar modulator, or
  ``None`` for the unmodulated path (a static choice). ``plastic`` may be a
  traced boolean; when false the returned state equals the input state exactly.

``ref_sep`` is the separator the reference code puts between a layer's prefix
and the rule's tensor names: "/" for most rules, "//" for type 3, giving e.g.
``PRNN_1/hebbian_h//W_Ax``; models use it to build reference tensor names.

A rule whose state is not the weight matrix itself (the factored decomposed form)
provides ``apply(params, state, v) -> W v`` and ``weight(params, state) -> W``;
models call the module functions ``apply_weight`` and ``plastic_weight``, which
fall back to ``state.weight`` for every other rule.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp

RuleParams = Mapping[str, jax.Array]


class PlasticState(NamedTuple):
    """Lifetime state of one plastic matrix: ``weight`` (n_out, n_in) and, for
    eligibility-trace rules only, ``trace`` (n_out, n_in); otherwise ``None``."""

    weight: jax.Array
    trace: jax.Array | None = None


class PlasticityRule(NamedTuple):
    shapes: Mapping[str, tuple[int, ...]]
    init: Callable[[RuleParams], PlasticState]
    update: Callable[..., PlasticState]
    n_out: int
    n_in: int
    ref_sep: str = "/"
    apply: Callable[..., jax.Array] | None = None
    weight: Callable[..., jax.Array] | None = None


def apply_weight(
    rule: PlasticityRule, params: RuleParams, state: Any, v: jax.Array
) -> jax.Array:
    """``W v`` for the rule's current plastic weight W (n_out,)."""
    if rule.apply is None:
        return state.weight @ v
    return rule.apply(params, state, v)


def plastic_weight(rule: PlasticityRule, params: RuleParams, state: Any) -> jax.Array:
    """The current plastic weight matrix W (n_out, n_in)."""
    if rule.weight is None:
        return state.weight
    return rule.weight(params, state)


def gate(plastic: Any, new: jax.Array, old: jax.Array) -> jax.Array:
    """``new`` where ``plastic`` is true, else ``old`` bit for bit (one select)."""
    return jnp.where(plastic, new, old)


def zero_weight(n_out: int, n_in: int) -> jax.Array:
    return jnp.zeros((n_out, n_in), jnp.float32)

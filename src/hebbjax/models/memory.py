"""Reading and editing a lifetime memory: plastic weights versus everything else.

A model's memory is an explicit pytree (``models/base.py``). Every plastic matrix in it is
the state of a ``PlasticityRule``: a ``PlasticState`` (``weight``, optional ``trace``) or the
decomposed rule's ``FactoredState``. Those nodes are the "plastic weights"; every other leaf
(hidden state, LSTM cell, ...) is the "hidden state". This split is what the papers'
analyses need, with no per-model code:

- traces of W_t and h_t (Wang et al. 2022 Fig. 7; EPRNN Fig. 5; Najarro & Risi Fig. 5);
- zeroing a fraction of the synapses (Najarro & Risi 2020 Fig. 4);
- resetting the hidden state or the plastic weights between rollouts (Wang et al. 2022,
  appendix A.4: what does plasticity store?).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp

from hebbjax.rules.base import PlasticState
from hebbjax.rules.decomposed import FactoredState

PLASTIC_TYPES = (PlasticState, FactoredState)


def _is_plastic(node: Any) -> bool:
    return isinstance(node, PLASTIC_TYPES)


def _name(path) -> str:
    return jax.tree_util.keystr(path, simple=True, separator="/") or "memory"


def plastic_weights(memory: Any) -> dict[str, jax.Array]:
    """Every plastic weight matrix of ``memory``, named by its place in the pytree.

    Raises:
        ValueError: for a factored decomposed state, whose W is not stored (use
            ``plastic_form="direct"``, float32-equal, to read W).
    """
    out = {}
    flat, _ = jax.tree_util.tree_flatten_with_path(memory, is_leaf=_is_plastic)
    for path, node in flat:
        if isinstance(node, FactoredState):
            raise ValueError(
                "plastic weights of the factored decomposed form are not stored; "
                "use plastic_form='direct' (float32-equal; the same genome) to read or "
                "edit W (hebbjax analyze / eval: --model-opt plastic_form=direct)"
            )
        if isinstance(node, PlasticState):
            out[_name(path)] = node.weight
    return out


def hidden_state(memory: Any) -> dict[str, jax.Array]:
    """Every leaf of ``memory`` outside the plastic states (hidden state, cell, ...)."""
    flat, _ = jax.tree_util.tree_flatten_with_path(memory, is_leaf=_is_plastic)
    return {_name(path): leaf for path, leaf in flat if not _is_plastic(leaf)}


def map_plastic_weights(memory: Any, fn: Callable[[jax.Array], jax.Array]) -> Any:
    """``memory`` with ``fn`` applied to every plastic weight matrix."""
    plastic_weights(memory)  # the factored form cannot be edited: say so

    def edit(node):
        if isinstance(node, PlasticState):
            return node._replace(weight=fn(node.weight))
        return node

    return jax.tree.map(edit, memory, is_leaf=_is_plastic)


def merge_memory(current: Any, initial: Any, *, plastic: bool, hidden: bool) -> Any:
    """``current`` with its plastic states and/or hidden leaves taken from ``initial``."""

    def pick(cur, ini):
        if _is_plastic(cur):
            return ini if plastic else cur
        return ini if hidden else cur

    return jax.tree.map(pick, current, initial, is_leaf=_is_plastic)


def zero_fraction(memory: Any, key: jax.Array, fraction: float) -> Any:
    """Each plastic synapse set to zero with probability ``fraction`` (one mask per
    matrix, drawn from ``key``)."""
    names = sorted(plastic_weights(memory))
    keys = dict(zip(names, jax.random.split(key, max(len(names), 1)), strict=False))
    flat, treedef = jax.tree_util.tree_flatten_with_path(memory, is_leaf=_is_plastic)
    out = []
    for path, node in flat:
        if isinstance(node, PlasticState):
            k = keys[_name(path)]
            keep = jax.random.uniform(k, node.weight.shape) >= fraction
            node = node._replace(weight=jnp.where(keep, node.weight, 0.0))
        out.append(node)
    return jax.tree_util.tree_unflatten(treedef, out)

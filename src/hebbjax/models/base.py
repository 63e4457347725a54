"""The model contract shared by every network in hebbjax.

A model is a factory's output: a ``Model`` NamedTuple of pure functions over explicit pytrees,
written for one example (no population or task axis; batching is ``vmap`` at the edge).

- ``init_params(key) -> params``: the genome, a dict pytree of float32 arrays only. Its element
  count is the paper's N_Gene.
- ``init_memory(params, key=None) -> memory``: the lifetime state at the start of a lifetime
  (hidden state, plastic weights, traces), a pytree of float32 arrays. ``key`` serves models
  whose lifetime starts from random weights (Najarro & Risi 2020: W ~ U[-0.1, 0.1] every
  lifetime; EPMLP(Random)); deterministic models ignore it. Tasks always pass one.
- ``step(params, memory, x, plastic=True) -> (out, memory)``: one time step. The output is computed
  from the current weights, then the plastic update runs (Wang et al. 2022, spec section 1.2).
  ``plastic`` may be a traced boolean; when false the plastic weights do not change (EPRNN's test
  phase) while the hidden state still evolves.
- ``prepare(params) -> params`` (optional; the identity by default): the genome in the layout
  the step reads fastest, computed once per lifetime outside its time loop by the tasks'
  lifetimes (``tasks.base.per_model_cache``); e.g. Meta-LSTM stores ``LSTM_1/fc/W``
  transposed (``layers.transpose_dense``). ``step`` gives the same result for either form, so
  callers that step a model themselves pass the genome as it is.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any, NamedTuple

import jax

Params = dict[str, Any]
Memory = Any


def same_params(params: Params) -> Params:
    """The default ``Model.prepare``: the genome as it is."""
    return params


class Model(NamedTuple):
    """A network as pure functions. ``n_mem`` is N_Mem as the paper counts it."""

    init_params: Callable[[jax.Array], Params]
    init_memory: Callable[[Params], Memory]
    step: Callable[..., tuple[jax.Array, Memory]]
    n_in: int
    n_out: int
    n_mem: int
    prepare: Callable[[Params], Params] = same_params


def count_leaves(tree: Any) -> int:
    """Number of scalar elements in a pytree (works on shapes, no arrays are built)."""
    return sum(math.prod(leaf.shape) for leaf in jax.tree.leaves(tree))


def n_gene(model: Model) -> int:
    """N_Gene: the genome's element count."""
    return count_leaves(jax.eval_shape(model.init_params, jax.random.key(0)))

"""ES-MAML (Song et al. 2019) as the EPRNN paper runs it (Wang et al., Sec. 4.2).

The PRNN layer is replaced by a fully connected tanh layer (appendix A.1); the inner loop
is four gradient-descent steps whose learning rates are the evolved ``inner_lr`` (spec
4.3: ``adapt_type="bp"`` for Sequence Predicting, ``"pg"`` for Wheeled Robot Navigating).

Design (hebbjax): a ``Model`` whose memory holds the fast weights and a buffer of what the
plastic (TRAIN) steps saw. Plastic steps only record; the first non-plastic step runs the
four GD steps on the whole buffer (batch MAML), then every TEST step uses the adapted
weights. Losses:

- ``"bp"``: predict the next input, ``mean_i |f(x_i) - x_{i+1}|^2`` over consecutive
  TRAIN inputs (Sequence Predicting: the next sequence value);
- ``"pg"``: REINFORCE on the TRAIN rollout. TRAIN actions are ``f(x) + explore_std N(0,1)``;
  the reward of action i is the signal in the next input (the model does not see
  ``-d_t``; the signal decreases monotonically with distance), with standardised
  reward-to-go as advantage and the Gaussian log-likelihood as surrogate.

``es-maml`` adapts after one TRAIN rollout ("one-rollout"); ``es-maml-zero-shot`` never
adapts. Cost note: under ``vmap`` an "adapt once" ``lax.cond`` becomes a select that computes
the adaptation at every TEST step (the wheeled robot: 100x the work); ``batch_cond`` keeps
it a branch, taken at the one step where some lifetime of the batch needs it.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import jax
import jax.numpy as jnp

from hebbjax.batch_cond import batch_cond
from hebbjax.models.base import Model
from hebbjax.models.eprnn import (
    decode,
    encode,
    fan_in_init,
    io_shapes,
    resolve_extra_layer,
)
from hebbjax.models.layers import dense, dense_shapes

ADAPT_TYPES = ("bp", "pg")


class MAMLMemory(NamedTuple):
    fast: dict  # the network tensors the inner loop adapts
    inputs: jax.Array  # (buffer, n_in) TRAIN inputs
    actions: jax.Array  # (buffer, n_out) TRAIN actions as executed
    count: jax.Array  # int32, TRAIN steps seen
    adapted: jax.Array  # bool
    key_data: jax.Array  # uint32 key data of the exploration noise


def es_maml(
    n_in: int = 3,
    n_out: int = 3,
    hidden: int = 64,
    extra_layer: bool | None = None,
    adapt: str | None = None,
    inner_steps: int = 4,
    buffer_size: int | None = None,
    explore_std: float = 0.1,
    inner_lr_init: float = 0.01,
) -> Model:
    """ES-MAML with evolved per-step inner learning rates.

    Args:
        n_in, n_out, hidden, extra_layer: as for ``eprnn``.
        adapt: ``"bp"`` or ``"pg"``; ``None`` = ``"bp"`` iff ``n_in == n_out``.
        inner_steps: GD steps after the TRAIN phase (at most 4, one rate each; 0 = zero-shot).
        buffer_size: TRAIN steps kept; ``None`` = 32 (bp) or 101 (pg).
        explore_std: std of the TRAIN exploration noise (pg only).
        inner_lr_init: initial value of the evolved inner learning rates.
    """
    extra = resolve_extra_layer(extra_layer, n_in, n_out)
    adapt = adapt or ("bp" if n_in == n_out else "pg")
    if adapt not in ADAPT_TYPES:
        raise ValueError(f"unknown adapt {adapt!r}; valid: {', '.join(ADAPT_TYPES)}")
    if adapt == "bp" and n_in != n_out:
        raise ValueError("adapt='bp' predicts the next input: needs n_in == n_out")
    if not 0 <= inner_steps <= 4:
        raise ValueError(f"inner_steps must be in 0..4, got {inner_steps}")
    size = buffer_size or (32 if adapt == "bp" else 101)
    explore = adapt == "pg" and inner_steps > 0
    shapes = io_shapes(n_in, n_out, hidden, extra) | dense_shapes(
        "fc_maml", hidden, hidden
    )
    base_init = fan_in_init(shapes)

    def init_params(key):
        params = base_init(key)
        return params | {"inner_lr": jnp.full((4,), inner_lr_init, jnp.float32)}

    def forward(weights, x):
        return decode(weights, jnp.tanh(dense(weights, "fc_maml", encode(weights, x))))

    def loss(weights, memory):
        idx = jnp.arange(size)
        valid = (idx + 1 < jnp.minimum(memory.count, size)).astype(jnp.float32)
        n_valid = jnp.maximum(jnp.sum(valid), 1.0)
        nxt = jnp.roll(memory.inputs, -1, axis=0)
        pred = jax.vmap(forward, in_axes=(None, 0))(weights, memory.inputs)
        if adapt == "bp":
            err = jnp.mean(jnp.square(pred - nxt), axis=1)
            return jnp.sum(valid * err) / n_valid
        reward = valid * nxt[:, -1]
        to_go = jnp.cumsum(reward[::-1])[::-1]
        mean = jnp.sum(valid * to_go) / n_valid
        std = jnp.sqrt(jnp.sum(valid * jnp.square(to_go - mean)) / n_valid)
        advantage = jax.lax.stop_gradient(valid * (to_go - mean) / (std + 1e-8))
        nll = jnp.sum(jnp.square(memory.actions - pred), axis=1) / (2 * explore_std**2)
        return jnp.sum(advantage * nll) / n_valid

    def adapted_weights(params, memory):
        fast = memory.fast
        for j in range(inner_steps):
            grads = jax.grad(loss)(fast, memory)
            fast = jax.tree.map(
                lambda w, g, j=j: w - params["inner_lr"][j] * g, fast, grads
            )
        return fast

    def init_memory(params, key=None):
        key = jax.random.key(0) if key is None else key
        return MAMLMemory(
            fast={k: v for k, v in params.items() if k != "inner_lr"},
            inputs=jnp.zeros((size, n_in), jnp.float32),
            actions=jnp.zeros((size, n_out), jnp.float32),
            count=jnp.int32(0),
            adapted=jnp.zeros((), jnp.bool_),
            key_data=jax.random.key_data(key),
        )

    def train_step(params, memory, x):
        out = forward(memory.fast, x)
        if explore:
            key = jax.random.fold_in(
                jax.random.wrap_key_data(memory.key_data), memory.count
            )
            out = out + explore_std * jax.random.normal(key, (n_out,), jnp.float32)
        slot = jnp.minimum(memory.count, size - 1)
        keep = memory.count < size
        inputs = memory.inputs.at[slot].set(jnp.where(keep, x, memory.inputs[slot]))
        actions = memory.actions.at[slot].set(
            jnp.where(keep, out, memory.actions[slot])
        )
        return out, memory._replace(
            inputs=inputs, actions=actions, count=memory.count + 1
        )

    def test_step(params, memory, x, plastic=False):
        """A frozen step; the first one (``plastic`` false: a traced flag may say this
        step is a TRAIN one, whose frozen side is discarded) runs the inner loop."""
        if inner_steps == 0:
            return forward(memory.fast, x), memory
        need = jnp.logical_not(memory.adapted | plastic)
        fast = batch_cond(
            need, adapted_weights, lambda params, memory: memory.fast, params, memory
        )
        adapted = memory.adapted | jnp.logical_not(plastic)
        memory = memory._replace(fast=fast, adapted=adapted)
        return forward(fast, x), memory

    def step(params, memory, x, plastic=True):
        if isinstance(plastic, bool):
            return (train_step if plastic else test_step)(params, memory, x)
        plastic_out = train_step(params, memory, x)
        frozen_out = test_step(params, memory, x, plastic)
        return jax.tree.map(
            lambda a, b: jnp.where(plastic, a, b), plastic_out, frozen_out
        )

    n_mem = sum(math.prod(s) for k, s in shapes.items() if k != "inner_lr")
    return Model(init_params, init_memory, step, n_in, n_out, n_mem)


def es_maml_zero_shot(
    n_in: int = 3, n_out: int = 3, hidden: int = 64, extra_layer: bool | None = None
) -> Model:
    """ES-MAML (zero-shot): the meta-learned initial network, never adapted."""
    return es_maml(n_in, n_out, hidden, extra_layer, inner_steps=0)

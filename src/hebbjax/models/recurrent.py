"""Non-plastic recurrent baselines of Table 1: Meta-RNN and Meta-LSTM.

Wang et al. 2022, "decomposed plasticity", Table 1; spec 1.2:

- Meta-RNN (``ModelRNNBase1``): s_t = tanh(W [x_t ; s_{t-1}] + b), input order
  [x, s]; out = W_o s_t + b_o. Names ``RNN_1/fc/W`` (h, n_in + h),
  ``RNN_1/fc/b``, ``FC_2/W``, ``FC_2/b``.
- Meta-LSTM (``ModelLSTMBase1``): z = W [x_t ; h_{t-1}] + b in R^{4h}, chunks
  (g, i, f, o) in that order; c_t = sigma(f) c_{t-1} + sigma(i) tanh(g),
  h_t = sigma(o) tanh(c_t); out = W_o h_t + b_o. Names ``LSTM_1/fc/W``
  (4h, n_in + h), ``LSTM_1/fc/b``, ``FC_2/W``, ``FC_2/b``.
"""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp

from hebbjax.models.base import Model
from hebbjax.models.layers import (
    check_lstm_gates,
    dense,
    dense_shapes,
    lstm_cell,
    normal_init,
    transpose_dense,
)


class RNNMemory(NamedTuple):
    h: jax.Array


class LSTMMemory(NamedTuple):
    h: jax.Array
    c: jax.Array


def meta_rnn(
    hidden: int = 64,
    n_in: int = 15,
    n_out: int = 5,
    init_scale: float = 0.05,
    layout: str = "pre-major",
) -> Model:
    """Meta-RNN(h): an Elman RNN; N_Mem = h.

    Args:
        hidden, n_in, n_out: layer sizes.
        init_scale: std of the genome initialisation.
        layout: how a lifetime stores ``RNN_1/fc/W``: "pre-major" (transposed, faster on
            CPU) or "post-major" (as the genome); ``layers.transpose_dense``.
    """
    shapes = {
        **dense_shapes("RNN_1/fc", hidden, n_in + hidden),
        **dense_shapes("FC_2", n_out, hidden),
    }

    def init_memory(params, key=None):
        return RNNMemory(jnp.zeros((hidden,), jnp.float32))

    def step(params, memory, x, plastic=True):
        h = jnp.tanh(dense(params, "RNN_1/fc", jnp.concatenate([x, memory.h])))
        return dense(params, "FC_2", h), RNNMemory(h)

    prepare = transpose_dense(("RNN_1/fc",), layout)
    return Model(
        normal_init(shapes, init_scale), init_memory, step, n_in, n_out, hidden, prepare
    )


def meta_rnn_32(hidden: int = 32, n_in: int = 15, n_out: int = 5, **kw) -> Model:
    """Meta-RNN(32): the small Elman RNN of Table 1."""
    return meta_rnn(hidden, n_in, n_out, **kw)


def meta_lstm(
    hidden: int = 64,
    n_in: int = 15,
    n_out: int = 5,
    init_scale: float = 0.05,
    layout: str = "pre-major",
    gates: str = "tanh",
) -> Model:
    """Meta-LSTM(h): an LSTM with gate order (g, i, f, o); N_Mem = 2h.

    Args:
        hidden, n_in, n_out: layer sizes.
        init_scale: std of the genome initialisation.
        layout: how a lifetime stores ``LSTM_1/fc/W``: "pre-major" (transposed, faster on
            CPU) or "post-major" (as the genome); ``layers.transpose_dense``.
        gates: "tanh" (the four gates in one tanh, faster on CPU) or "logistic" (each
            sigmoid on its own, as the reference writes it); ``layers.lstm_cell``.
    """
    check_lstm_gates(gates)
    shapes = {
        **dense_shapes("LSTM_1/fc", 4 * hidden, n_in + hidden),
        **dense_shapes("FC_2", n_out, hidden),
    }

    def init_memory(params, key=None):
        zeros = jnp.zeros((hidden,), jnp.float32)
        return LSTMMemory(zeros, zeros)

    def step(params, memory, x, plastic=True):
        z = dense(params, "LSTM_1/fc", jnp.concatenate([x, memory.h]))
        h, c = lstm_cell(z, memory.c, "gifo", gates)
        return dense(params, "FC_2", h), LSTMMemory(h, c)

    prepare = transpose_dense(("LSTM_1/fc",), layout)
    return Model(
        normal_init(shapes, init_scale),
        init_memory,
        step,
        n_in,
        n_out,
        2 * hidden,
        prepare,
    )

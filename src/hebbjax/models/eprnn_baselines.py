"""The baselines of the EPRNN comparison (Wang et al., "Do What Nature Did To Us", Sec. 4.2,
appendix A.1; spec ``maze-decprnn-eprnn.md`` section 4.3, "Baselines").

All share EPRNN's input and output layers (``eprnn.encode`` / ``eprnn.decode``, the WRNav
extra layer included) and differ only in the middle layer of H = 64 units:

- ES-RNN: ``h_t = tanh(W [h_{t-1}; z] + b)``, h_0 = 0;
- ES-LSTM: gates ``(g, i, f, o) = W [h_{t-1}; z] + b``, 64 hidden and 64 cell states;
- EPMLP (Soltoggio et al. 2018): a plastic FC layer ``h = tanh(W_t z + b)`` with the ABCD
  rule of Eq. 1, ``dW = diag(m) [A*(q z^T) + B*(1 z^T) + C*(q 1^T) + D]``,
  ``q = 0.5 h + 0.5`` and the pre-synaptic relu activity z used as is, and a per-neuron
  modulator ``m = sigmoid(W_m z + b_m)`` ("an additional dense layer with sigmoid");
- EPMLP (Random) (Najarro & Risi 2020): the same, but the plastic weights are not in
  the genome: each lifetime draws them from U(-0.1, 0.1) with ``init_memory``'s key.

Genome init as EPRNN's (``/W`` ~ N(0, 1/fan_in), the rest 0); every genome carries the
4-vector ``inner_lr`` the reference appends to all of them.
"""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp

from hebbjax.models.base import Model
from hebbjax.models.eprnn import (
    abcd_update,
    decode,
    encode,
    fan_in_init,
    gated_add,
    hebbian_shapes,
    io_shapes,
    resolve_extra_layer,
)
from hebbjax.models.layers import dense, dense_shapes

RANDOM_WEIGHT_BOUND = 0.1


class HiddenMemory(NamedTuple):
    h: jax.Array


class LSTMMemory(NamedTuple):
    h: jax.Array
    c: jax.Array


class PlasticLayerMemory(NamedTuple):
    w: jax.Array  # (H, H) plastic weights, (n_post, n_pre)


def es_rnn(
    n_in: int = 3, n_out: int = 3, hidden: int = 64, extra_layer: bool | None = None
) -> Model:
    """ES-RNN: a vanilla RNN middle layer; N_Mem = H."""
    extra = resolve_extra_layer(extra_layer, n_in, n_out)
    shapes = io_shapes(n_in, n_out, hidden, extra) | dense_shapes(
        "rnn", hidden, 2 * hidden
    )

    def init_memory(params, key=None):
        return HiddenMemory(jnp.zeros((hidden,), jnp.float32))

    def step(params, memory, x, plastic=True):
        z = encode(params, x)
        h = jnp.tanh(dense(params, "rnn", jnp.concatenate([memory.h, z])))
        return decode(params, h), HiddenMemory(h)

    return Model(fan_in_init(shapes), init_memory, step, n_in, n_out, hidden)


def es_lstm(
    n_in: int = 3, n_out: int = 3, hidden: int = 64, extra_layer: bool | None = None
) -> Model:
    """ES-LSTM: an LSTM middle layer with gate order (g, i, f, o); N_Mem = 2H."""
    extra = resolve_extra_layer(extra_layer, n_in, n_out)
    shapes = io_shapes(n_in, n_out, hidden, extra)
    shapes |= dense_shapes("lstm", 4 * hidden, 2 * hidden)

    def init_memory(params, key=None):
        zeros = jnp.zeros((hidden,), jnp.float32)
        return LSTMMemory(zeros, zeros)

    def step(params, memory, x, plastic=True):
        z = encode(params, x)
        gates = dense(params, "lstm", jnp.concatenate([memory.h, z]))
        g, i, f, o = jnp.split(gates, 4)
        c = jax.nn.sigmoid(f) * memory.c + jax.nn.sigmoid(i) * jnp.tanh(g)
        h = jax.nn.sigmoid(o) * jnp.tanh(c)
        return decode(params, h), LSTMMemory(h, c)

    return Model(fan_in_init(shapes), init_memory, step, n_in, n_out, 2 * hidden)


def epmlp(
    n_in: int = 3,
    n_out: int = 3,
    hidden: int = 64,
    extra_layer: bool | None = None,
    random_init: bool = False,
) -> Model:
    """EPMLP: a modulated plastic FC middle layer; N_Mem = H^2.

    Args:
        n_in, n_out, hidden, extra_layer: as for ``eprnn``.
        random_init: EPMLP (Random): plastic weights ~ U(-0.1, 0.1) drawn per lifetime
            from ``init_memory``'s key instead of an evolved ``plastic/W``.
    """
    extra = resolve_extra_layer(extra_layer, n_in, n_out)
    shapes = io_shapes(n_in, n_out, hidden, extra)
    shapes |= dense_shapes("plastic", hidden, hidden)
    shapes |= dense_shapes("modulator", hidden, hidden)
    shapes |= hebbian_shapes(hidden, hidden)
    if random_init:
        del shapes["plastic/W"]

    def init_memory(params, key=None):
        if not random_init:
            return PlasticLayerMemory(params["plastic/W"])
        if key is None:
            raise ValueError("epmlp-random draws its plastic weights: pass a key")
        bound = RANDOM_WEIGHT_BOUND
        w = jax.random.uniform(key, (hidden, hidden), jnp.float32, -bound, bound)
        return PlasticLayerMemory(w)

    def step(params, memory, x, plastic=True):
        z = encode(params, x)
        h = jnp.tanh(memory.w @ z + params["plastic/b"])
        out = decode(params, h)
        if plastic is False:
            return out, memory
        gate = jax.nn.sigmoid(dense(params, "modulator", z))
        dw = abcd_update(params, z, 0.5 * h + 0.5, gate)
        return out, PlasticLayerMemory(gated_add(memory.w, dw, plastic))

    return Model(fan_in_init(shapes), init_memory, step, n_in, n_out, hidden**2)


def epmlp_random(
    n_in: int = 3, n_out: int = 3, hidden: int = 64, extra_layer: bool | None = None
) -> Model:
    """EPMLP (Random): plastic weights redrawn from U(-0.1, 0.1) every lifetime."""
    return epmlp(n_in, n_out, hidden, extra_layer, random_init=True)

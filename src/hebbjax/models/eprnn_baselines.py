"""The baselines of the EPRNN comparison (Wang et al., "Do What Nature Did To Us", Sec. 4.2,
appendix A.1; spec ``maze-decprnn-eprnn.md`` section 4.3, "Baselines").

All share EPRNN's input and output layers (``eprnn.encode`` / ``eprnn.decode``, the WRNav
extra layer included) and differ only in the middle layer of H = 64 units:

- ES-RNN: ``h_t = tanh(W [h_{t-1}; z] + b)``; the initial state ``h_mem`` is evolved, as
  the reference's "rnn" layer does for every recurrent block (EPRNN's included);
- ES-LSTM: gates ``(g, i, f, o) = W [h_{t-1}; z] + b``. The reference's "lstm" layer of
  width H holds H/2 hidden and H/2 cell units (its ``true_output_num = output_num // 2``),
  so its output to the next layer is H/2 wide, and the evolved initial state ``h_mem`` is
  ``[h_0; c_0]`` (H values). ``half_width=False`` gives the paper text's reading instead:
  H hidden + H cell units;
- EPMLP (Soltoggio et al. 2018): a plastic FC layer ``h = tanh(W_t z + b)`` with the ABCD
  rule of Eq. 1, ``dW = diag(m) [A*(q z^T) + B*(1 z^T) + C*(q 1^T) + D]``,
  ``q = 0.5 h + 0.5`` and the pre-synaptic relu activity z used as is, and a per-neuron
  modulator ``m = sigmoid(W_m z + b_m)`` ("an additional dense layer with sigmoid");
- EPMLP (Random) (Najarro & Risi 2020): the same, but the plastic weights are not in
  the genome: each lifetime draws them from U(-0.1, 0.1) with ``init_memory``'s key.

Genome init as EPRNN's (``/W`` ~ N(0, 1/fan_in), the rest 0); every genome carries the
4-vector ``inner_lr`` the reference appends to all of them. ``evolve_initial_state=False``
fixes the ES-RNN / ES-LSTM initial state at zero instead. N_Gene for Sequence Predicting
l = 1: ES-RNN 12,677 (12,613 with a fixed zero state), ES-LSTM 14,789 (37,509 at full
width; 37,381 at full width with a fixed zero state).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import jax
import jax.numpy as jnp

from hebbjax.models.base import Model
from hebbjax.models.eprnn import (
    HEBBIAN,
    decode,
    encode,
    eprnn_rule,
    fan_in_init,
    io_prepare,
    io_shapes,
    resolve_extra_layer,
)
from hebbjax.models.layers import (
    dense,
    dense_shapes,
    lstm_cell,
    rule_params,
    rule_shapes,
)
from hebbjax.rules.base import PlasticState

RANDOM_WEIGHT_BOUND = 0.1


class HiddenMemory(NamedTuple):
    h: jax.Array


class LSTMMemory(NamedTuple):
    h: jax.Array
    c: jax.Array


class PlasticLayerMemory(NamedTuple):
    w: PlasticState  # (H, H) plastic weights, (n_post, n_pre)


def _initial_state(
    evolve: bool, size: int
) -> Callable[[dict[str, jax.Array]], jax.Array]:
    if evolve:
        return lambda params: params["h_mem"]
    return lambda params: jnp.zeros((size,), jnp.float32)


def es_rnn(
    n_in: int = 3,
    n_out: int = 3,
    hidden: int = 64,
    extra_layer: bool | None = None,
    evolve_initial_state: bool = True,
    layout: str = "pre-major",
) -> Model:
    """ES-RNN: a vanilla RNN middle layer; N_Mem = H.

    Args:
        n_in, n_out, hidden, extra_layer, layout: as for ``eprnn``.
        evolve_initial_state: the reference's evolved ``h_mem`` (H genes); ``False``
            starts every lifetime from h_0 = 0.
    """
    extra = resolve_extra_layer(extra_layer, n_in, n_out)
    shapes = io_shapes(n_in, n_out, hidden, extra)
    shapes |= dense_shapes("rnn", hidden, 2 * hidden)
    if evolve_initial_state:
        shapes["h_mem"] = (hidden,)
    initial = _initial_state(evolve_initial_state, hidden)

    def init_memory(params, key=None):
        return HiddenMemory(initial(params))

    def step(params, memory, x, plastic=True):
        z = encode(params, x)
        h = jnp.tanh(dense(params, "rnn", jnp.concatenate([memory.h, z])))
        return decode(params, h), HiddenMemory(h)

    prepare = io_prepare(extra, ("rnn",), layout)
    return Model(fan_in_init(shapes), init_memory, step, n_in, n_out, hidden, prepare)


def es_lstm(
    n_in: int = 3,
    n_out: int = 3,
    hidden: int = 64,
    extra_layer: bool | None = None,
    half_width: bool = True,
    evolve_initial_state: bool = True,
    layout: str = "pre-major",
) -> Model:
    """ES-LSTM: an LSTM middle layer with gate order (g, i, f, o); N_Mem = 2 x units.

    Args:
        n_in, n_out, hidden, extra_layer, layout: as for ``eprnn``.
        half_width: the reference code (default): the LSTM layer of width H has H/2
            hidden and H/2 cell units. ``False``: H of each (the paper's text).
        evolve_initial_state: the reference's evolved ``h_mem = [h_0; c_0]``;
            ``False`` starts every lifetime from zeros.
    """
    units = hidden // 2 if half_width else hidden
    if units < 1:
        raise ValueError(f"es-lstm with half_width needs hidden >= 2, got {hidden}")
    extra = resolve_extra_layer(extra_layer, n_in, n_out)
    shapes = io_shapes(n_in, n_out, hidden, extra)
    shapes |= dense_shapes("fc_hidden", hidden, units)  # reads the LSTM's h
    shapes |= dense_shapes("lstm", 4 * units, units + hidden)
    if evolve_initial_state:
        shapes["h_mem"] = (2 * units,)
    initial = _initial_state(evolve_initial_state, 2 * units)

    def init_memory(params, key=None):
        h_c = initial(params)
        return LSTMMemory(h_c[:units], h_c[units:])

    def step(params, memory, x, plastic=True):
        z = encode(params, x)
        gates = dense(params, "lstm", jnp.concatenate([memory.h, z]))
        h, c = lstm_cell(gates, memory.c, "gifo")
        return decode(params, h), LSTMMemory(h, c)

    prepare = io_prepare(extra, ("lstm",), layout)
    return Model(
        fan_in_init(shapes), init_memory, step, n_in, n_out, 2 * units, prepare
    )


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
    rule = eprnn_rule(hidden, hidden)
    shapes |= rule_shapes(HEBBIAN, rule)
    if random_init:
        del shapes["plastic/W"]

    def init_memory(params, key=None):
        if not random_init:
            return PlasticLayerMemory(PlasticState(params["plastic/W"]))
        if key is None:
            raise ValueError("epmlp-random draws its plastic weights: pass a key")
        bound = RANDOM_WEIGHT_BOUND
        w = jax.random.uniform(key, (hidden, hidden), jnp.float32, -bound, bound)
        return PlasticLayerMemory(PlasticState(w))

    def step(params, memory, x, plastic=True):
        z = encode(params, x)
        h = jnp.tanh(memory.w.weight @ z + params["plastic/b"])
        out = decode(params, h)
        if plastic is False:
            return out, memory
        gate = jax.nn.sigmoid(dense(params, "modulator", z))
        w = rule.update(
            rule_params(params, HEBBIAN, rule),
            memory.w,
            z,
            0.5 * h + 0.5,
            gate,
            plastic,
        )
        return out, PlasticLayerMemory(w)

    return Model(fan_in_init(shapes), init_memory, step, n_in, n_out, hidden**2)


def epmlp_random(
    n_in: int = 3, n_out: int = 3, hidden: int = 64, extra_layer: bool | None = None
) -> Model:
    """EPMLP (Random): plastic weights redrawn from U(-0.1, 0.1) every lifetime."""
    return epmlp(n_in, n_out, hidden, extra_layer, random_init=True)

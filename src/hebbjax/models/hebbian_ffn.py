"""Random-weight Hebbian networks for the ant, and Palm et al.'s static and LSTM baselines.

Najarro & Risi 2020, "Meta-learning through Hebbian plasticity in random networks" (sec. 3,
Eq. 1; spec ``hebbian-ant-brax.md`` 1.1-1.3, 2.1-2.2, 2.6): a feed-forward network without
biases, 27 -> 128 -> 64 -> 8 for the Brax ant, tanh on every layer (the output too: for the
ant the post-tanh output is the action and drives plasticity). Its weights are drawn from
U[-0.1, 0.1] at the start of every lifetime (``init_memory``'s key) and change only through the
per-synapse ABCD_lr rule (``rules/abcd_lr.py``, coefficients [A, B, C, eta, D])::

    dW_ji = eta_ji (A_ji o_i o_j + B_ji o_i + C_ji o_j + D_ji)

All activations of a step come from the current weights; every layer is then updated from those
activations (spec 1.2). The genome is the coefficients only: 12,160 synapses x 5 = 60,800.

Baselines of Palm, Najarro & Risi 2021 (spec 2.6): ``static_ffn``, the same network with evolved
weights and no plasticity (12,160 genes), and ``lstm_ant``, an LSTM(128, with biases) followed by
tanh layers 64 and n_out (with biases).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import jax
import jax.numpy as jnp

from hebbjax.models.base import Model
from hebbjax.models.layers import (
    dense,
    dense_shapes,
    lstm_cell,
    normal_init,
    rule_params,
    rule_shapes,
)
from hebbjax.rules import RuleFactory, resolve_rule
from hebbjax.rules.base import PlasticState

ANT_IN, ANT_OUT, ANT_HIDDEN = 27, 8, (128, 64)


def _sizes(n_in: int, hidden: int | Sequence[int], n_out: int) -> list[int]:
    hidden = (hidden, hidden) if isinstance(hidden, int) else tuple(hidden)
    return [n_in, *hidden, n_out]


class HebbianMemory(NamedTuple):
    """Plastic weights of each layer, (n_out, n_in), W_1 first."""

    weights: tuple[PlasticState, ...]


def hebbian_ffn(
    n_in: int = ANT_IN,
    n_out: int = ANT_OUT,
    hidden: int | Sequence[int] = ANT_HIDDEN,
    init_scale: float = 1.0,
    weight_init: float = 0.1,
    rule: str | RuleFactory = "abcd-lr",
) -> Model:
    """Najarro & Risi's Hebbian network: random weights, per-synapse ABCD_lr rules.

    Args:
        n_in, n_out: observation and action sizes (Brax ant: 27, 8).
        hidden: hidden layer sizes (an int means two layers of that size).
        init_scale: std of the coefficients' initial draw (the reference: N(0, 1)).
        weight_init: lifetime weights start U[-weight_init, weight_init].
        rule: the plasticity rule of every layer (a registered name or a factory
            ``(n_out, n_in) -> PlasticityRule`` whose state holds ``weight``).

    Returns:
        A ``Model``; genome ``layer_{l}/coeffs`` (n_out_l, n_in_l, 5) in [A, B, C, eta, D]
        order (for the default rule); memory a ``HebbianMemory``. ``init_memory`` needs
        a key.
    """
    sizes = _sizes(n_in, hidden, n_out)
    factory = resolve_rule(rule)
    rules = [factory(o, i) for i, o in zip(sizes[:-1], sizes[1:], strict=True)]
    prefixes = [f"layer_{k + 1}" for k in range(len(rules))]
    shapes = {}
    for prefix, r in zip(prefixes, rules, strict=True):
        shapes |= rule_shapes(prefix, r)

    def init_memory(params, key=None):
        if key is None:
            raise ValueError("hebbian-ffn draws its weights each lifetime: pass a key")
        keys = jax.random.split(key, len(rules))
        return HebbianMemory(
            tuple(
                r.init(rule_params(params, prefix, r))._replace(
                    weight=jax.random.uniform(
                        k, (r.n_out, r.n_in), jnp.float32, -weight_init, weight_init
                    )
                )
                for k, r, prefix in zip(keys, rules, prefixes, strict=True)
            )
        )

    def step(params, memory, x, plastic=True):
        acts = [x]
        for state in memory.weights:
            acts.append(jnp.tanh(state.weight @ acts[-1]))
        new = tuple(
            r.update(rule_params(params, prefix, r), state, pre, post, None, plastic)
            for r, prefix, state, pre, post in zip(
                rules, prefixes, memory.weights, acts[:-1], acts[1:], strict=True
            )
        )
        return acts[-1], HebbianMemory(new)

    n_mem = sum(r.n_out * r.n_in for r in rules)
    return Model(normal_init(shapes, init_scale), init_memory, step, n_in, n_out, n_mem)


def static_ffn(
    n_in: int = ANT_IN,
    n_out: int = ANT_OUT,
    hidden: int | Sequence[int] = ANT_HIDDEN,
    init_scale: float = 1.0,
) -> Model:
    """Palm et al.'s static baseline: the same bias-free tanh network, weights evolved.

    Args:
        n_in, n_out, hidden: layer sizes as in ``hebbian_ffn``.
        init_scale: std of the weights' initial draw (N(0, 1) as the reference's ES mean).
    """
    sizes = _sizes(n_in, hidden, n_out)
    names = [f"layer_{k + 1}/W" for k in range(len(sizes) - 1)]
    shapes = {
        name: (o, i) for name, i, o in zip(names, sizes[:-1], sizes[1:], strict=True)
    }

    def init_memory(params, key=None):
        return ()

    def step(params, memory, x, plastic=True):
        for name in names:
            x = jnp.tanh(params[name] @ x)
        return x, memory

    return Model(normal_init(shapes, init_scale), init_memory, step, n_in, n_out, 0)


class AntLSTMMemory(NamedTuple):
    h: jax.Array
    c: jax.Array


def lstm_ant(
    n_in: int = ANT_IN,
    n_out: int = ANT_OUT,
    hidden: int | Sequence[int] = ANT_HIDDEN,
    init_scale: float = 1.0,
) -> Model:
    """Palm et al.'s LSTM baseline: LSTM(hidden[0]) -> tanh(hidden[1]) -> tanh(n_out).

    Gate order (g, i, f, o) as ``meta_lstm``; every layer has biases; N_Mem = 2 hidden[0].
    """
    h_size, mid = _sizes(n_in, hidden, n_out)[1:3]
    shapes = {
        **dense_shapes("LSTM_1/fc", 4 * h_size, n_in + h_size),
        **dense_shapes("FC_2", mid, h_size),
        **dense_shapes("FC_3", n_out, mid),
    }

    def init_memory(params, key=None):
        zeros = jnp.zeros((h_size,), jnp.float32)
        return AntLSTMMemory(zeros, zeros)

    def step(params, memory, x, plastic=True):
        z = dense(params, "LSTM_1/fc", jnp.concatenate([x, memory.h]))
        h, c = lstm_cell(z, memory.c, "gifo")
        out = jnp.tanh(dense(params, "FC_3", jnp.tanh(dense(params, "FC_2", h))))
        return out, AntLSTMMemory(h, c)

    return Model(
        normal_init(shapes, init_scale), init_memory, step, n_in, n_out, 2 * h_size
    )

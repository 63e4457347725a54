"""Pixel networks for CarRacing: Najarro & Risi's Hebbian CNN and Palm et al.'s baselines.

Najarro & Risi 2020, sec. 4 and ``policies.CNN_heb`` (spec ``hebbian-ant-brax.md`` 1.1-1.3):
two evolved, non-plastic convolutions without biases, conv(3->6, 3x3, stride 1) -> tanh ->
max-pool 2 -> conv(6->8, 5x5, stride 2) -> tanh -> max-pool 2, flattened in (channel, row,
column) order to 648 features (84 -> 82 -> 41 -> 19 -> 9), then three bias-free layers
648 -> 128 -> 64 -> 3, tanh, tanh and linear. The fully connected weights start
U[-0.1, 0.1] every lifetime (``init_memory``'s key) and change only by the per-synapse
ABCD_lr rule (``rules/abcd_lr.py``) driven by the raw linear output; after every update each
layer is divided by its largest absolute weight (fitness_functions.py lines 225-230). The
action is ``[tanh(o_0), sigmoid(o_1), sigmoid(o_2)]``. The paper counts 92,690 weights (1,362
convolutional); the genome is 1,362 conv weights + 91,328 x 5 coefficients = 458,002.

Palm, Najarro & Risi (paper 004 sec. 4; ``agents/racer``): ``static_cnn``, the same network with
evolved fully connected weights (92,690 genes), and ``lstm_cnn``, whose first fully connected
layer is an LSTM cell (648 -> 128, torch's ``lstm_cell`` with ``bias_ih`` and ``bias_hh``, gate
order i, f, g, o, zero initial state each lifetime), then bias-free tanh 64 and the same
action head (408,082 genes).

Input: one observation (3, 84, 84) in [0, 1] as ``envs.car_racing`` returns it (a flat
21,168-vector is reshaped). The convolutions treat axis 1 as height and axis 2 as width, like
torch's NCHW; with the env's ``"najarro"`` layout ``[c, x, y]`` this is exactly his network on
his ``np.swapaxes`` input, so his saved genomes load unchanged (``"palm"`` for Palm's).
"""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp

from hebbjax.models.base import Model
from hebbjax.models.layers import lstm_cell, normal_init
from hebbjax.rules.abcd_lr import abcd_lr_rule
from hebbjax.rules.base import PlasticState, gate

OBS_SHAPE = (3, 84, 84)
CONV_SHAPES = {"conv_1/W": (6, 3, 3, 3), "conv_2/W": (8, 6, 5, 5)}
N_FEATURES = 648
FC_SIZES = (N_FEATURES, 128, 64, 3)
N_ACTIONS = 3
N_IN = 3 * 84 * 84


def _conv(x: jax.Array, w: jax.Array, stride: int) -> jax.Array:
    y = jax.lax.conv_general_dilated(
        x[None],
        w,
        (stride, stride),
        "VALID",
        dimension_numbers=("NCHW", "OIHW", "NCHW"),
    )
    return y[0]


def _max_pool2(x: jax.Array) -> jax.Array:
    c, h, w = x.shape
    h2, w2 = h // 2, w // 2
    return x[:, : 2 * h2, : 2 * w2].reshape(c, h2, 2, w2, 2).max(axis=(2, 4))


def cnn_features(params: dict, x: jax.Array) -> jax.Array:
    """The 648 features of Najarro's two static convolutions (``CNN_heb.forward``)."""
    x = jnp.reshape(x, OBS_SHAPE)
    x = _max_pool2(jnp.tanh(_conv(x, params["conv_1/W"], 1)))
    x = _max_pool2(jnp.tanh(_conv(x, params["conv_2/W"], 2)))
    return x.reshape(-1)


def car_action(o: jax.Array) -> jax.Array:
    """[steer, gas, brake] = [tanh, sigmoid, sigmoid] of the raw output (both papers)."""
    return jnp.stack([jnp.tanh(o[0]), jax.nn.sigmoid(o[1]), jax.nn.sigmoid(o[2])])


def _check_sizes(name: str, n_in: int, n_out: int) -> None:
    """The CNN reads one 3x84x84 frame and writes [steer, gas, brake]: no other sizes."""
    if (n_in, n_out) != (N_IN, N_ACTIONS):
        raise ValueError(
            f"{name} reads 3x84x84 frames (n_in={N_IN}) and writes {N_ACTIONS} actions; "
            f"got n_in={n_in}, n_out={n_out} (use it on a car task)"
        )


class HebbianCNNMemory(NamedTuple):
    """Plastic weights of the three fully connected layers, (n_out, n_in), W_1 first."""

    weights: tuple[PlasticState, ...]


def hebbian_cnn(
    n_in: int = N_IN,
    n_out: int = N_ACTIONS,
    init_scale: float = 1.0,
    weight_init: float = 0.1,
    normalize: bool = True,
) -> Model:
    """Najarro & Risi's CarRacing network (``CNN_heb`` + ABCD_lr + max-abs normalisation).

    Args:
        n_in, n_out: fixed by the network (21,168 and 3); accepted so that training can
            pass a car task's sizes.
        init_scale: std of the genome's initial draw (the reference: N(0, 1) for the
            coefficients and the convolutions).
        weight_init: lifetime weights start U[-weight_init, weight_init].
        normalize: divide each layer by its max |w| after every update (the car's setting).

    Returns:
        A ``Model``; genome ``conv_1/W`` (6, 3, 3, 3), ``conv_2/W`` (8, 6, 5, 5) and
        ``layer_{l}/coeffs`` (n_out, n_in, 5) in [A, B, C, eta, D] order; step returns the
        action. ``init_memory`` needs a key.
    """
    _check_sizes("hebbian-cnn", n_in, n_out)
    rules = [
        abcd_lr_rule(o, i) for i, o in zip(FC_SIZES[:-1], FC_SIZES[1:], strict=True)
    ]
    names = [f"layer_{k + 1}/coeffs" for k in range(len(rules))]
    shapes = dict(CONV_SHAPES)
    shapes.update(
        {name: r.shapes["coeffs"] for name, r in zip(names, rules, strict=True)}
    )

    def init_memory(params, key=None):
        if key is None:
            raise ValueError("hebbian-cnn draws its weights each lifetime: pass a key")
        keys = jax.random.split(key, len(rules))
        return HebbianCNNMemory(
            tuple(
                PlasticState(
                    jax.random.uniform(
                        k, (r.n_out, r.n_in), jnp.float32, -weight_init, weight_init
                    )
                )
                for k, r in zip(keys, rules, strict=True)
            )
        )

    def step(params, memory, x, plastic=True):
        acts = [cnn_features(params, x)]
        for k, state in enumerate(memory.weights):
            o = state.weight @ acts[-1]
            acts.append(o if k == len(rules) - 1 else jnp.tanh(o))
        new = []
        for rule, name, state, pre, post in zip(
            rules, names, memory.weights, acts[:-1], acts[1:], strict=True
        ):
            upd = rule.update({"coeffs": params[name]}, state, pre, post, None, plastic)
            if normalize:
                w = upd.weight
                w = w / jnp.max(jnp.abs(w))
                upd = PlasticState(gate(plastic, w, state.weight))
            new.append(upd)
        return car_action(acts[-1]), HebbianCNNMemory(tuple(new))

    n_mem = sum(r.n_out * r.n_in for r in rules)
    return Model(
        normal_init(shapes, init_scale),
        init_memory,
        step,
        N_IN,
        N_ACTIONS,
        n_mem,
    )


def static_cnn(
    n_in: int = N_IN, n_out: int = N_ACTIONS, init_scale: float = 1.0
) -> Model:
    """Palm et al.'s static baseline: the same CNN with evolved, fixed FC weights."""
    _check_sizes("static-cnn", n_in, n_out)
    names = [f"layer_{k + 1}/W" for k in range(3)]
    shapes = dict(CONV_SHAPES)
    shapes.update(
        {n: (o, i) for n, i, o in zip(names, FC_SIZES[:-1], FC_SIZES[1:], strict=True)}
    )

    def init_memory(params, key=None):
        return ()

    def step(params, memory, x, plastic=True):
        h = cnn_features(params, x)
        h = jnp.tanh(params["layer_1/W"] @ h)
        h = jnp.tanh(params["layer_2/W"] @ h)
        return car_action(params["layer_3/W"] @ h), memory

    return Model(normal_init(shapes, init_scale), init_memory, step, N_IN, N_ACTIONS, 0)


class LSTMCNNMemory(NamedTuple):
    h: jax.Array
    c: jax.Array


def lstm_cnn(
    n_in: int = N_IN, n_out: int = N_ACTIONS, init_scale: float = 1.0, hidden: int = 128
) -> Model:
    """Palm et al.'s LSTM baseline: CNN -> LSTM cell(648 -> hidden) -> tanh(64) -> action.

    torch ``_VF.lstm_cell`` semantics: gates = W_ih x + b_ih + W_hh h + b_hh split (i, f, g,
    o); c' = sigma(f) c + sigma(i) tanh(g); h' = sigma(o) tanh(c'). N_Mem = 2 hidden.
    """
    _check_sizes("lstm-cnn", n_in, n_out)
    shapes = dict(CONV_SHAPES)
    shapes.update(
        {
            "lstm/W_ih": (4 * hidden, N_FEATURES),
            "lstm/W_hh": (4 * hidden, hidden),
            "lstm/b_ih": (4 * hidden,),
            "lstm/b_hh": (4 * hidden,),
            "layer_2/W": (64, hidden),
            "layer_3/W": (N_ACTIONS, 64),
        }
    )

    def init_memory(params, key=None):
        zeros = jnp.zeros((hidden,), jnp.float32)
        return LSTMCNNMemory(zeros, zeros)

    def step(params, memory, x, plastic=True):
        f = cnn_features(params, x)
        z = (
            params["lstm/W_ih"] @ f
            + params["lstm/b_ih"]
            + params["lstm/W_hh"] @ memory.h
            + params["lstm/b_hh"]
        )
        h, c = lstm_cell(z, memory.c, "ifgo")
        out = params["layer_3/W"] @ jnp.tanh(params["layer_2/W"] @ h)
        return car_action(out), LSTMCNNMemory(h, c)

    return Model(
        normal_init(shapes, init_scale), init_memory, step, N_IN, N_ACTIONS, 2 * hidden
    )

"""EPRNN: the per-neuron modulated plastic RNN of Wang et al., "Do What Nature Did To Us".

Spec ``maze-decprnn-eprnn.md`` section 4.3 (reference EPA@c1d974d: neural_network.py,
plasticity_rule.py), for one example:

    z    = relu(W1 x + b1)                 (WRNav: then z = relu(We z + be))
    S_t  = sigmoid(W_m [z; h_{t-1}] + b_m)  per-neuron modulator
    h_t  = tanh(W_r [h_{t-1}; z] + b_r)     W_r[:, :H] is the plastic block
    u    = sigmoid(W2 h_t + b2);   out = W3 u + b3

and, only when ``plastic``, ``W_r[:, :H] += diag(S_t) [A*(q p^T) + B*(1 p^T) + C*(q 1^T) + D]``
with ``p = 0.5 h_{t-1} + 0.5``, ``q = 0.5 h_t + 0.5`` (note B multiplies the pre-synaptic
and C the post-synaptic term, swapped with respect to the DecPRNN code). No scale, clip or
decay. The initial hidden state ``h_mem`` is evolved.

Genome init: every ``/W`` ~ N(0, 1/fan_in); biases, Hebbian A-D, ``h_mem`` and the
unused 4-vector ``inner_lr`` (always appended by the reference) are 0. Sizes: 37,575
(SeqPred, l = 3) and 41,670 (WRNav, extra layer, 3 in / 2 out).

The shared input/output layers (``io_shapes``, ``encode``, ``decode``) serve every model
of the paper's comparison (appendix A.1): only the middle layer differs.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import NamedTuple

import jax
import jax.numpy as jnp

from hebbjax.models.base import Model
from hebbjax.models.layers import (
    Shapes,
    dense,
    dense_shapes,
    rule_params,
    rule_shapes,
    transpose_dense,
)
from hebbjax.rules.abcd import abcd_rule
from hebbjax.rules.base import PlasticState

N_INNER_LR = 4
# genome leaves whose names contain one of these get the 1e-3 ES noise (spec 4.4)
PLASTICITY_GENE_MARKERS = ("hebbian", "inner_lr")


def resolve_extra_layer(extra_layer: bool | None, n_in: int, n_out: int) -> bool:
    """``None`` picks the paper's depth: the extra layer iff input and output sizes differ.

    Sequence Predicting maps l -> l (3 hidden layers); Wheeled Robot Navigating maps
    3 -> 2 (4 hidden layers), so the default follows the task shape the trainer passes.
    """
    return n_in != n_out if extra_layer is None else bool(extra_layer)


def io_shapes(
    n_in: int, n_out: int, hidden: int, extra_layer: bool, inner_lr: bool = True
) -> Shapes:
    """The shared input (1 or 2 relu layers) and output (sigmoid + linear) layers."""
    shapes = dense_shapes("fc_in", hidden, n_in)
    if extra_layer:
        shapes |= dense_shapes("fc_extra", hidden, hidden)
    shapes |= dense_shapes("fc_hidden", hidden, hidden)
    shapes |= dense_shapes("fc_out", n_out, hidden)
    if inner_lr:
        shapes["inner_lr"] = (N_INNER_LR,)
    return shapes


def encode(params: Mapping[str, jax.Array], x: jax.Array) -> jax.Array:
    z = jax.nn.relu(dense(params, "fc_in", x))
    if "fc_extra/b" in params:  # W may be stored transposed (``io_prepare``)
        z = jax.nn.relu(dense(params, "fc_extra", z))
    return z


def decode(params: Mapping[str, jax.Array], h: jax.Array) -> jax.Array:
    return dense(params, "fc_out", jax.nn.sigmoid(dense(params, "fc_hidden", h)))


def io_prepare(extra: bool, own: tuple[str, ...] = (), layout: str = "pre-major"):
    """``Model.prepare`` of the EPRNN-family models: ``fc_in`` (H x l: its contiguous axis
    is 1-3 floats), ``fc_extra``, ``fc_hidden`` and the model's ``own`` layers read
    transposed in a lifetime (``layers.transpose_dense``; 1.7x faster ES-LSTM lifetimes
    on Sequence Predicting, the same fitness). ``fc_out`` (l x H) keeps its layout."""
    names = ("fc_in", *(("fc_extra",) if extra else ()), "fc_hidden", *own)
    return transpose_dense(names, layout)


def fan_in_init(shapes: Shapes) -> Callable[[jax.Array], dict[str, jax.Array]]:
    """``init_params(key)``: ``/W`` tensors ~ N(0, 1/fan_in), everything else 0."""
    names = sorted(shapes)

    def init_params(key: jax.Array) -> dict[str, jax.Array]:
        keys = jax.random.split(key, len(names))
        out = {}
        for name, k in zip(names, keys, strict=True):
            shape = shapes[name]
            if name.endswith("/W"):
                scale = 1.0 / jnp.sqrt(jnp.float32(shape[-1]))
                out[name] = scale * jax.random.normal(k, shape, jnp.float32)
            else:
                out[name] = jnp.zeros(shape, jnp.float32)
        return out

    return init_params


HEBBIAN = "hebbian"


def eprnn_rule(n_post: int, n_pre: int):
    """EPRNN's rule: the one ABCD statement (``rules/abcd.py``) with B on the
    pre-synaptic and C on the post-synaptic term, no scale, gated per neuron."""
    return abcd_rule(n_post, n_pre, scale=None, convention="pre-first")


class EPRNNMemory(NamedTuple):
    h: jax.Array  # (H,) hidden state
    w_rec: PlasticState  # (H, H) plastic recurrent block, (n_post, n_pre)


def eprnn(
    n_in: int = 3,
    n_out: int = 3,
    hidden: int = 64,
    extra_layer: bool | None = None,
    modulated: bool = True,
    layout: str = "pre-major",
) -> Model:
    """EPRNN: plastic recurrent block with a per-neuron modulator (spec 4.3).

    Args:
        n_in, n_out: input and output sizes (SeqPred l, l; WRNav 3, 2).
        hidden: H, the size of every hidden layer (64 in the paper).
        extra_layer: the WRNav extra relu layer; ``None`` = iff ``n_in != n_out``.
        modulated: ``False`` gives EPRNN (w/o m): S_t = 1 and no modulator layer.
        layout: "pre-major" (lifetimes read the feed-forward layers transposed,
            ``io_prepare``) or "post-major" (as the genome).
    Returns:
        A ``Model`` with N_Mem = H + H^2 (hidden state and plastic block).
    """
    extra = resolve_extra_layer(extra_layer, n_in, n_out)
    shapes = io_shapes(n_in, n_out, hidden, extra)
    shapes |= dense_shapes("recurrent", hidden, 2 * hidden)
    rule = eprnn_rule(hidden, hidden)
    shapes |= rule_shapes(HEBBIAN, rule)
    shapes["h_mem"] = (hidden,)
    if modulated:
        shapes |= dense_shapes("modulator", hidden, 2 * hidden)

    def init_memory(params, key=None):
        w_rec = PlasticState(params["recurrent/W"][:, :hidden])
        return EPRNNMemory(params["h_mem"], w_rec)

    def step(params, memory, x, plastic=True):
        z = encode(params, x)
        h_prev = memory.h
        drive = params["recurrent/W"][:, hidden:] @ z + params["recurrent/b"]
        h = jnp.tanh(memory.w_rec.weight @ h_prev + drive)
        out = decode(params, h)
        if plastic is False:
            return out, EPRNNMemory(h, memory.w_rec)
        if modulated:
            gate = jax.nn.sigmoid(
                dense(params, "modulator", jnp.concatenate([z, h_prev]))
            )
        else:
            gate = jnp.ones((hidden,), jnp.float32)
        w_rec = rule.update(
            rule_params(params, HEBBIAN, rule),
            memory.w_rec,
            0.5 * h_prev + 0.5,
            0.5 * h + 0.5,
            gate,
            plastic,
        )
        return out, EPRNNMemory(h, w_rec)

    prepare = io_prepare(extra, ("modulator",) if modulated else (), layout)
    return Model(
        fan_in_init(shapes),
        init_memory,
        step,
        n_in,
        n_out,
        hidden + hidden**2,
        prepare,
    )


def eprnn_nomod(
    n_in: int = 3,
    n_out: int = 3,
    hidden: int = 64,
    extra_layer: bool | None = None,
    layout: str = "pre-major",
) -> Model:
    """EPRNN (w/o m): the ABCD rule on the recurrent block without the modulator."""
    return eprnn(n_in, n_out, hidden, extra_layer, modulated=False, layout=layout)

"""Plastic feed-forward nets of Table 1: DecPDNN, DecPDNN(PreDN), DecPDNN(PostDN).

Wang et al. 2022, "decomposed plasticity", Table 1; spec 1.2 and 1.4
(``ModelPFC{NoMod,PreMod,AfterMod}``, ``hebbian_type=3``):

    h1 = tanh(W1(t) x + b1),  h2 = tanh(W2(t) h1 + b2),  out = W_o h2 + b_o,

then W1 (h x n_in; pre = x, post = h1) and W2 (h x h; pre = h1, post = h2) are
updated by the decomposed rule; both start at zero each lifetime (spec 1.6).
PreDN: mu1 = sigma(w.x + c) scales W1, mu2 = sigma(w'.h1 + c') scales W2.
PostDN: mu1 = sigma(w.h1 + c) scales W1, mu2 = sigma(w'.h2 + c') scales W2.

Genome names: ``FC_1/W`` (n_out, h), ``FC_1/b``; ``FC_Mh/W``, ``FC_Mh/b``
(mu1) and ``FC_Mx/W``, ``FC_Mx/b`` (mu2); ``PFC_1/fc/b``,
``PFC_1/hebbian//W_{Ax,...,Dy}`` (W1) and likewise ``PFC_2`` (W2).
"""

from __future__ import annotations

from typing import Literal, NamedTuple

import jax.numpy as jnp

from hebbjax.models.base import Model
from hebbjax.models.layers import (
    dense,
    dense_shapes,
    normal_init,
    rule_params,
    rule_shapes,
    scalar_sigmoid,
)
from hebbjax.models.prnn import decomposed
from hebbjax.rules import RuleFactory, resolve_rule
from hebbjax.rules.base import PlasticState, apply_weight

PREFIX_1 = "PFC_1/hebbian"
PREFIX_2 = "PFC_2/hebbian"


class PlasticDNNMemory(NamedTuple):
    """Plastic states of W1 and W2 (``PlasticState``, or ``FactoredState`` with
    plastic_form="factored")."""

    w1: PlasticState
    w2: PlasticState


def plastic_dnn(
    *,
    modulation: Literal["none", "pre", "post"] = "none",
    rule: str | RuleFactory = "decomposed",
    hidden: int = 64,
    n_in: int = 15,
    n_out: int = 5,
    init_scale: float = 0.05,
) -> Model:
    """A two-layer plastic feed-forward net.

    Args:
        modulation: "none", "pre" (PreDN) or "post" (PostDN).
        rule: the rule of both layers: a registered name ("decomposed", type 3, the
            paper's DecPDNN; "abcd", type 1; ...) or a factory
            ``(n_out, n_in) -> PlasticityRule`` whose state holds ``weight``.
        hidden, n_in, n_out: layer sizes.
        init_scale: std of the genome initialisation.

    Returns:
        A ``Model``; memory is a ``PlasticDNNMemory``; N_Mem = h*n_in + h*h.
    """
    factory = resolve_rule(rule)
    rule_1, rule_2 = factory(hidden, n_in), factory(hidden, hidden)
    if modulation == "none":
        mod_shapes = {}
    elif modulation == "pre":
        mod_shapes = {
            **dense_shapes("FC_Mh", 1, n_in),
            **dense_shapes("FC_Mx", 1, hidden),
        }
    elif modulation == "post":
        mod_shapes = {
            **dense_shapes("FC_Mh", 1, hidden),
            **dense_shapes("FC_Mx", 1, hidden),
        }
    else:
        raise ValueError(f"unknown modulation {modulation!r}; valid: none, pre, post")
    shapes = {
        **dense_shapes("FC_1", n_out, hidden),
        **mod_shapes,
        "PFC_1/fc/b": (hidden,),
        "PFC_2/fc/b": (hidden,),
        **rule_shapes(PREFIX_1, rule_1),
        **rule_shapes(PREFIX_2, rule_2),
    }

    def init_memory(params, key=None):
        return PlasticDNNMemory(
            rule_1.init(rule_params(params, PREFIX_1, rule_1)),
            rule_2.init(rule_params(params, PREFIX_2, rule_2)),
        )

    def step(params, memory, x, plastic=True):
        p1 = rule_params(params, PREFIX_1, rule_1)
        p2 = rule_params(params, PREFIX_2, rule_2)
        h1 = jnp.tanh(apply_weight(rule_1, p1, memory.w1, x) + params["PFC_1/fc/b"])
        h2 = jnp.tanh(apply_weight(rule_2, p2, memory.w2, h1) + params["PFC_2/fc/b"])
        mu1 = mu2 = None
        if modulation == "pre":
            mu1 = scalar_sigmoid(params, "FC_Mh", x)
            mu2 = scalar_sigmoid(params, "FC_Mx", h1)
        elif modulation == "post":
            mu1 = scalar_sigmoid(params, "FC_Mh", h1)
            mu2 = scalar_sigmoid(params, "FC_Mx", h2)
        out = dense(params, "FC_1", h2)
        return out, PlasticDNNMemory(
            rule_1.update(p1, memory.w1, x, h1, mu1, plastic),
            rule_2.update(p2, memory.w2, h1, h2, mu2, plastic),
        )

    n_mem = hidden * n_in + hidden * hidden
    return Model(normal_init(shapes, init_scale), init_memory, step, n_in, n_out, n_mem)


def decpdnn(
    hidden: int = 64,
    n_in: int = 15,
    n_out: int = 5,
    modulated_scale: float = 1.0,
    plastic_form: Literal["direct", "factored"] = "direct",
    rule: str | RuleFactory | None = None,
    init_scale: float = 0.05,
) -> Model:
    """DecPDNN: two decomposed-plastic layers, no neuromodulation."""
    return plastic_dnn(
        rule=decomposed(modulated_scale, plastic_form) if rule is None else rule,
        hidden=hidden,
        n_in=n_in,
        n_out=n_out,
        init_scale=init_scale,
    )


def decpdnn_predn(
    hidden: int = 64,
    n_in: int = 15,
    n_out: int = 5,
    modulated_scale: float = 1.0,
    plastic_form: Literal["direct", "factored"] = "direct",
    rule: str | RuleFactory | None = None,
    init_scale: float = 0.05,
) -> Model:
    """DecPDNN(PreDN): modulators from each layer's input (x and h1)."""
    return plastic_dnn(
        modulation="pre",
        rule=decomposed(modulated_scale, plastic_form) if rule is None else rule,
        hidden=hidden,
        n_in=n_in,
        n_out=n_out,
        init_scale=init_scale,
    )


def decpdnn_postdn(
    hidden: int = 64,
    n_in: int = 15,
    n_out: int = 5,
    modulated_scale: float = 1.0,
    plastic_form: Literal["direct", "factored"] = "direct",
    rule: str | RuleFactory | None = None,
    init_scale: float = 0.05,
) -> Model:
    """DecPDNN(PostDN): modulators from each layer's output (h1 and h2)."""
    return plastic_dnn(
        modulation="post",
        rule=decomposed(modulated_scale, plastic_form) if rule is None else rule,
        hidden=hidden,
        n_in=n_in,
        n_out=n_out,
        init_scale=init_scale,
    )

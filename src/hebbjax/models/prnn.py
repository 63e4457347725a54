"""Plastic RNNs of Table 1: PRNN, DecPRNN, PRNN(ET), Scratch-ET, Evolving & Merging.

Wang et al. 2022, "decomposed plasticity" (Eq. 1-2 forward pass, Eq. 3-7
rules; spec 1.2-1.7). One step, for input x_t (n_in) and state h_{t-1}:

1. pre-modulators (PreDN) from x_t and h_{t-1};
2. h_t = tanh(W_h h_{t-1} + W_x x_t + b) with the *current* plastic weights;
3. post-modulators (PostDN) [mu_h, mu_x] = sigmoid(W_M h_t + b_M);
4. out = W_o h_t + b_o;
5. plastic update of W_h (pre = h_{t-1}, post = h_t) and W_x (pre = x_t,
   post = h_t), taking effect at step t+1.

Plastic weights start at zero every lifetime (spec 1.6) except PRNN(ET)'s W_h.

Genome tensor names (sorted = reference flat layout): ``FC_1/W`` (n_out, h),
``FC_1/b`` (output layer); ``FC_M/W`` (2, h), ``FC_M/b`` (PostDN, row 0 -> mu_h,
row 1 -> mu_x); ``FC_Mh/W`` (1, n_in), ``FC_Mh/b`` (PreDN mu_x, from x_t) and
``FC_Mx/W`` (1, h), ``FC_Mx/b`` (PreDN mu_h, from h_{t-1}) -- the reference's
names are swapped relative to use; ``PRNN_1//b`` (recurrent bias); rule tensors
``PRNN_1/hebbian_h/{A,B,C,D}`` (type 1), ``PRNN_1/hebbian_h//W_{Ax,...,Dy}``
(type 3), ``PRNN_1/hebbian_h/\\eta`` and ``.../Memory`` (type 2),
``PRNN_1/hebbian_h/Cluster`` (type 4, name inferred), likewise ``hebbian_x``.
The summed PreDN option uses hebbjax names ``FC_Ma`` (2, n_in, from x_t) and
``FC_Mb`` (2, h, from h_{t-1}).
"""

from __future__ import annotations

import functools
from typing import Any, Literal, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from hebbjax.models.base import Model
from hebbjax.models.layers import (
    dense,
    dense_shapes,
    normal_init,
    prepare_rules,
    rule_params,
    rule_shapes,
    scalar_sigmoid,
)
from hebbjax.rules import RuleFactory, resolve_rule
from hebbjax.rules.base import apply_weight
from hebbjax.rules.cluster_abcd import cluster_abcd_rule
from hebbjax.rules.decomposed import decomposed_rule
from hebbjax.rules.eligibility_trace import eligibility_trace_rule

Modulation = Literal["none", "pre", "post"]
PREFIX_H = "PRNN_1/hebbian_h"
PREFIX_X = "PRNN_1/hebbian_x"


class PlasticRNNMemory(NamedTuple):
    """h (hidden,), w_h / w_x plastic states; ``w_x`` is None when W_x is static.

    The states are ``PlasticState``s, or ``FactoredState``s with plastic_form="factored"
    (``rules.base.plastic_weight`` gives W in either case)."""

    h: jax.Array
    w_h: Any
    w_x: Any


def _modulator_shapes(modulation, predn, hidden, n_in):
    if modulation == "none":
        return {}
    if modulation == "post":
        return dense_shapes("FC_M", 2, hidden)
    if predn == "paper":
        return {**dense_shapes("FC_Mh", 1, n_in), **dense_shapes("FC_Mx", 1, hidden)}
    if predn == "summed":
        return {**dense_shapes("FC_Ma", 2, n_in), **dense_shapes("FC_Mb", 2, hidden)}
    raise ValueError(f"unknown predn {predn!r}; valid: 'paper', 'summed'")


def plastic_rnn(
    *,
    rule: str | RuleFactory = "abcd",
    rule_x: str | RuleFactory | None = None,
    static_x: bool = False,
    modulation: Modulation = "none",
    predn: Literal["paper", "summed"] = "paper",
    hidden: int = 64,
    n_in: int = 15,
    n_out: int = 5,
    init_scale: float = 0.05,
) -> Model:
    """A plastic RNN with a chosen rule and neuromodulation.

    Args:
        rule: the rule of W_h (and of W_x unless ``rule_x`` is given): a registered
            name (``hebbjax.RULES``: "abcd" type 1, "decomposed" type 3, ...) or a
            factory ``(n_out, n_in) -> PlasticityRule``.
        rule_x: the rule of W_x, default ``rule``.
        static_x: W_x is a static evolved matrix, the initial weight of ``rule_x``
            (PRNN(ET), type 2); only W_h is plastic.
        modulation: "none", "pre" (PreDN) or "post" (PostDN).
        predn: "paper" (Table 1: two scalar modulators, 81 genes) or "summed"
            (the later 2-dim sum of two sigmoids, 162 genes).
        hidden, n_in, n_out: layer sizes.
        init_scale: std of the genome initialisation.

    Returns:
        A ``Model``; memory is a ``PlasticRNNMemory``.
    """
    if modulation not in ("none", "pre", "post"):
        raise ValueError(f"unknown modulation {modulation!r}; valid: none, pre, post")
    rule_h = resolve_rule(rule)(hidden, hidden)
    rule_x = resolve_rule(rule if rule_x is None else rule_x)(hidden, n_in)
    for name, r, shape in (
        ("W_h", rule_h, (hidden, hidden)),
        ("W_x", rule_x, (hidden, n_in)),
    ):
        if (r.n_out, r.n_in) != shape:
            raise ValueError(
                f"the rule of {name} has shape {(r.n_out, r.n_in)}, not {shape}"
            )

    shapes = {
        **dense_shapes("FC_1", n_out, hidden),
        "PRNN_1//b": (hidden,),
        **_modulator_shapes(modulation, predn, hidden, n_in),
        **rule_shapes(PREFIX_H, rule_h),
        **rule_shapes(PREFIX_X, rule_x),
    }

    def init_memory(params, key=None):
        w_h = rule_h.init(rule_params(params, PREFIX_H, rule_h))
        w_x = None if static_x else rule_x.init(rule_params(params, PREFIX_X, rule_x))
        return PlasticRNNMemory(jnp.zeros((hidden,), jnp.float32), w_h, w_x)

    def step(params, memory, x, plastic=True):
        p_h = rule_params(params, PREFIX_H, rule_h)
        p_x = rule_params(params, PREFIX_X, rule_x)
        h_prev = memory.h
        if static_x:
            w_x_in = rule_x.init(p_x).weight @ x
        else:
            w_x_in = apply_weight(rule_x, p_x, memory.w_x, x)
        mu_h = mu_x = None
        if modulation == "pre" and predn == "paper":
            mu_x = scalar_sigmoid(params, "FC_Mh", x)
            mu_h = scalar_sigmoid(params, "FC_Mx", h_prev)
        elif modulation == "pre":
            mu = jax.nn.sigmoid(dense(params, "FC_Ma", x)) + jax.nn.sigmoid(
                dense(params, "FC_Mb", h_prev)
            )
            mu_h, mu_x = mu[0], mu[1]
        w_h_in = apply_weight(rule_h, p_h, memory.w_h, h_prev)
        h = jnp.tanh(w_h_in + w_x_in + params["PRNN_1//b"])
        if modulation == "post":
            mu = jax.nn.sigmoid(dense(params, "FC_M", h))
            mu_h, mu_x = mu[0], mu[1]
        out = dense(params, "FC_1", h)
        new_h = rule_h.update(p_h, memory.w_h, h_prev, h, mu_h, plastic)
        new_x = (
            None if static_x else rule_x.update(p_x, memory.w_x, x, h, mu_x, plastic)
        )
        return out, PlasticRNNMemory(h, new_h, new_x)

    n_mem = hidden * hidden + hidden if static_x else hidden * (hidden + n_in + 1)
    prepare = prepare_rules({PREFIX_H: rule_h, PREFIX_X: rule_x})
    return Model(
        normal_init(shapes, init_scale), init_memory, step, n_in, n_out, n_mem, prepare
    )


def decomposed(
    modulated_scale: float = 1.0, plastic_form: str = "direct"
) -> RuleFactory:
    """The decomposed rule (type 3) with the model-level options of Table 1's models."""
    return functools.partial(
        decomposed_rule, modulated_scale=modulated_scale, form=plastic_form
    )


def prnn(
    hidden: int = 64,
    n_in: int = 15,
    n_out: int = 5,
    rule: str | RuleFactory = "abcd",
    init_scale: float = 0.05,
) -> Model:
    """PRNN: full ABCD rule (type 1), no neuromodulation."""
    return plastic_rnn(
        rule=rule, hidden=hidden, n_in=n_in, n_out=n_out, init_scale=init_scale
    )


def prnn_predn(
    hidden: int = 64,
    n_in: int = 15,
    n_out: int = 5,
    rule: str | RuleFactory = "abcd",
    predn: Literal["paper", "summed"] = "paper",
    init_scale: float = 0.05,
) -> Model:
    """PRNN(PreDN): type 1 with pre-synaptic modulators (Table-1 version by default)."""
    return plastic_rnn(
        rule=rule,
        modulation="pre",
        predn=predn,
        hidden=hidden,
        n_in=n_in,
        n_out=n_out,
        init_scale=init_scale,
    )


def prnn_postdn(
    hidden: int = 64,
    n_in: int = 15,
    n_out: int = 5,
    rule: str | RuleFactory = "abcd",
    init_scale: float = 0.05,
) -> Model:
    """PRNN(PostDN): type 1 with modulators from the new hidden state h_t."""
    return plastic_rnn(
        rule=rule,
        modulation="post",
        hidden=hidden,
        n_in=n_in,
        n_out=n_out,
        init_scale=init_scale,
    )


def decprnn(
    hidden: int = 64,
    n_in: int = 15,
    n_out: int = 5,
    modulated_scale: float = 1.0,
    plastic_form: Literal["direct", "factored"] = "direct",
    init_scale: float = 0.05,
) -> Model:
    """DecPRNN: decomposed rule (type 3), no neuromodulation."""
    return plastic_rnn(
        rule=decomposed(modulated_scale, plastic_form),
        hidden=hidden,
        n_in=n_in,
        n_out=n_out,
        init_scale=init_scale,
    )


def decprnn_predn(
    hidden: int = 64,
    n_in: int = 15,
    n_out: int = 5,
    modulated_scale: float = 1.0,
    plastic_form: Literal["direct", "factored"] = "direct",
    predn: Literal["paper", "summed"] = "paper",
    init_scale: float = 0.05,
) -> Model:
    """DecPRNN(PreDN): decomposed rule with pre-synaptic modulators."""
    return plastic_rnn(
        rule=decomposed(modulated_scale, plastic_form),
        modulation="pre",
        predn=predn,
        hidden=hidden,
        n_in=n_in,
        n_out=n_out,
        init_scale=init_scale,
    )


def decprnn_postdn(
    hidden: int = 64,
    n_in: int = 15,
    n_out: int = 5,
    modulated_scale: float = 1.0,
    plastic_form: Literal["direct", "factored"] = "direct",
    init_scale: float = 0.05,
) -> Model:
    """DecPRNN(PostDN): decomposed rule, modulators from h_t (the paper's best model).

    Args:
        hidden, n_in, n_out: layer sizes.
        modulated_scale: factor on the modulated update (1.0, default: the April-2022 code
            that produced Table 1, and the scale at which the released genome does best,
            goal rate 0.82 against 0.72; 0.20 from July 2022 on).
        plastic_form: "direct" (W stored) or "factored" (rank-1 state; float32-equal).
        init_scale: std of the genome initialisation.
    """
    return plastic_rnn(
        rule=decomposed(modulated_scale, plastic_form),
        modulation="post",
        hidden=hidden,
        n_in=n_in,
        n_out=n_out,
        init_scale=init_scale,
    )


def prnn_scratch_et(
    hidden: int = 64, n_in: int = 15, n_out: int = 5, init_scale: float = 0.05
) -> Model:
    """PRNN(Scratch-ET): eligibility trace on W_h from zero, static W_x, PostDN."""
    return plastic_rnn(
        rule=eligibility_trace_rule,
        rule_x=functools.partial(eligibility_trace_rule, evolved_init=True),
        static_x=True,
        modulation="post",
        hidden=hidden,
        n_in=n_in,
        n_out=n_out,
        init_scale=init_scale,
    )


def prnn_et(
    hidden: int = 64, n_in: int = 15, n_out: int = 5, init_scale: float = 0.05
) -> Model:
    """PRNN(ET): Scratch-ET with evolved W_h(0) (5,577 genes, not the paper's 5,511).

    The paper's 5,511 is not reproducible from the reference code (spec 1.7);
    this is the closest consistent variant: Scratch-ET + h^2 evolved W_h(0), PostDN.
    """
    evolved = functools.partial(eligibility_trace_rule, evolved_init=True)
    return plastic_rnn(
        rule=evolved,
        rule_x=evolved,
        static_x=True,
        modulation="post",
        hidden=hidden,
        n_in=n_in,
        n_out=n_out,
        init_scale=init_scale,
    )


def merged_prnn_postdn(
    hidden: int = 64,
    n_in: int = 15,
    n_out: int = 5,
    assignment_h: np.ndarray | None = None,
    assignment_x: np.ndarray | None = None,
    n_clusters_h: int | None = None,
    n_clusters_x: int | None = None,
    init_scale: float = 0.05,
) -> Model:
    """Evolving & Merging stage 2: PRNN(PostDN) with cluster-tied ABCD (type 4).

    The static assignment maps come from k-means on a stage-1 PRNN(PostDN)
    genome (K = 2h for W_h, h + n_in for W_x); without them a deterministic
    map is used (``default_assignment``), which has the right N_Gene.
    """
    k_h = 2 * hidden if n_clusters_h is None else n_clusters_h
    k_x = hidden + n_in if n_clusters_x is None else n_clusters_x
    return plastic_rnn(
        rule=functools.partial(
            cluster_abcd_rule, n_clusters=k_h, assignment=assignment_h
        ),
        rule_x=functools.partial(
            cluster_abcd_rule, n_clusters=k_x, assignment=assignment_x
        ),
        modulation="post",
        hidden=hidden,
        n_in=n_in,
        n_out=n_out,
        init_scale=init_scale,
    )

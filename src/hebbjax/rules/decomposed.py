"""Decomposed plasticity rule, reference ``hebbian_type=3`` (DecPRNN, DecPDNN).

Wang et al. 2022, "decomposed plasticity" (Eq. 5-7; spec 1.3): the ABCD
coefficient matrices are rank one, A = a_y a_x^T, B = b_y b_x^T, C = c_y c_x^T,
D = d_y d_x^T, with a_y..d_y in R^n_out and a_x..d_x in R^n_in, so

    H = A * (q p^T) + B * (q 1^T) + C * (1 p^T) + D = U V^T,
    U = [a_y*q, b_y*q, c_y, d_y] (n_out x 4),  V = [a_x*p, b_x, c_x*p, d_x] (n_in x 4).

    W <- W + modulated_scale * mu * H   (modulated; 0.20 in the reference from
                                          July 2022 on, 1.0 in the April 2022 code)
    W <- W + H                          (unmodulated: no 0.20 factor)

The update is applied in the exact rank-4 form, as the sum of four broadcast outer
products that XLA fuses with the addition into one pass over W (a (n_out x 4) @ (4 x n_in)
matmul would write a temporary matrix and read it again, about 25 % slower per step on
CPU); the four n_out x n_in coefficient matrices are never built.

Optional factored form (``form="factored"``). With f_s the step factor (scale * mu_s, or 1)
and W(0) = 0, summing the updates gives, exactly in real arithmetic,

    W(t) = diag(a_y) M diag(a_x) + (b_y * Q) b_x^T + c_y (c_x * P)^T + m d_y d_x^T,
    M = sum_s f_s q_s p_s^T,  Q = sum_s f_s q_s,  P = sum_s f_s p_s,  m = sum_s f_s,

so the state (M, Q, P, m) needs one rank-1 update per step instead of rank 4, and
W v = a_y * (M (a_x * v)) + (b_y * Q)(b_x . v) + c_y ((c_x * P) . v) + m d_y (d_x . v).
It rounds differently from the direct form (float32 agreement, tested); the direct form
stays the default.

Storage (``layout``, ``rules/base.py``): W (direct) or M (factored) is stored
pre-synaptic-major, transposed, when n_in < n_out ("auto"; the input-side W_x, 64 x 15, of
the Table-1 models), so the contiguous axis under ``vmap`` is the long one. Each element of
the update is the same expression in either layout (the same numbers, transposed); the
matvec ``v @ W^T`` sums in another order than ``W @ v``.
"""

from __future__ import annotations

from typing import Literal, NamedTuple

import jax
import jax.numpy as jnp

from hebbjax.rules.base import (
    Layout,
    PlasticityRule,
    PlasticState,
    PreMajorState,
    choose_layout,
    gate,
    zero_weight,
)

#: Names follow the reference ``Hebbian3`` tensors (sorted: Ax, Ay, Bx, ...).
VECTOR_NAMES = ("W_Ax", "W_Ay", "W_Bx", "W_By", "W_Cx", "W_Cy", "W_Dx", "W_Dy")


class FactoredState(NamedTuple):
    """The factored decomposed state: ``m`` (n_out, n_in), ``q`` (n_out,), ``p``
    (n_in,) and the scalar ``scale`` (the sums M, Q, P, m of the module docstring)."""

    m: jax.Array
    q: jax.Array
    p: jax.Array
    scale: jax.Array


class PreMajorFactoredState(FactoredState):
    """A ``FactoredState`` whose ``m`` is stored transposed, M^T (n_in, n_out)."""

    __slots__ = ()


def decomposed_rule(
    n_out: int,
    n_in: int,
    modulated_scale: float = 1.0,
    form: Literal["direct", "factored"] = "direct",
    layout: Layout = "auto",
) -> PlasticityRule:
    """Rank-one-per-term (decomposed) ABCD rule.

    Args:
        n_out: post-synaptic size (rows of W).
        n_in: pre-synaptic size (columns of W).
        modulated_scale: factor on the modulated update (1.0 default: the April-2022
            code that produced Table 1; 0.20 reproduces the reference from July 2022 on).
        form: "direct" (state = W, rank-4 update) or "factored" (state = M, Q, P, m,
            rank-1 update; equal to the direct form up to float32 rounding).
        layout: how the state's matrix is stored ("auto", "post-major", "pre-major";
            see the module docstring); W is (n_out, n_in) in every reading.

    Returns:
        A ``PlasticityRule`` with the eight vectors ``W_Ax`` (n_in), ``W_Ay``
        (n_out), ... ``W_Dy`` (n_out).
    """
    if form not in ("direct", "factored"):
        raise ValueError(f"unknown form {form!r}; valid: direct, factored")
    pre_major = choose_layout(n_out, n_in, layout) == "pre-major"
    shapes = {
        name: (n_in,) if name.endswith("x") else (n_out,) for name in VECTOR_NAMES
    }

    def outer_sum(u, v, transposed):
        # the same sum, term by term, in either orientation (bit-identical elements)
        if transposed:
            return sum(uk[None, :] * vk[:, None] for uk, vk in zip(u, v, strict=True))
        return sum(uk[:, None] * vk[None, :] for uk, vk in zip(u, v, strict=True))

    def init(params):
        if pre_major:
            return PreMajorState(jnp.zeros((n_in, n_out), jnp.float32))
        return PlasticState(zero_weight(n_out, n_in))

    def update(params, state, pre, post, mu=None, plastic=True):
        factor = 1.0 if mu is None else modulated_scale * mu
        u = (
            factor * (params["W_Ay"] * post),
            factor * (params["W_By"] * post),
            factor * params["W_Cy"],
            factor * params["W_Dy"],
        )
        v = (params["W_Ax"] * pre, params["W_Bx"], params["W_Cx"] * pre, params["W_Dx"])
        if isinstance(state, PreMajorState):
            new = state.stored + outer_sum(u, v, True)
            return PreMajorState(gate(plastic, new, state.stored), state.trace)
        h = outer_sum(u, v, False)
        return PlasticState(gate(plastic, state.weight + h, state.weight))

    if form == "direct":
        return PlasticityRule(shapes, init, update, n_out, n_in, ref_sep="//")

    def init_factored(params):
        zeros = jnp.zeros
        cls = PreMajorFactoredState if pre_major else FactoredState
        m_shape = (n_in, n_out) if pre_major else (n_out, n_in)
        return cls(
            zeros(m_shape, jnp.float32),
            zeros((n_out,), jnp.float32),
            zeros((n_in,), jnp.float32),
            zeros((), jnp.float32),
        )

    def update_factored(params, state, pre, post, mu=None, plastic=True):
        factor = jnp.float32(1.0) if mu is None else modulated_scale * mu
        fq = factor * post
        if isinstance(state, PreMajorFactoredState):
            m = state.m + pre[:, None] * fq[None, :]
        else:
            m = state.m + fq[:, None] * pre[None, :]
        new = type(state)(m, state.q + fq, state.p + factor * pre, state.scale + factor)
        return jax.tree.map(lambda a, b: gate(plastic, a, b), new, state)

    def apply(params, state, v):
        av = params["W_Ax"] * v
        mv = av @ state.m if isinstance(state, PreMajorFactoredState) else state.m @ av
        return (
            params["W_Ay"] * mv
            + params["W_By"] * state.q * jnp.dot(params["W_Bx"], v)
            + params["W_Cy"] * jnp.dot(params["W_Cx"] * state.p, v)
            + state.scale * params["W_Dy"] * jnp.dot(params["W_Dx"], v)
        )

    def weight(params, state):
        m = state.m.T if isinstance(state, PreMajorFactoredState) else state.m
        return (
            params["W_Ay"][:, None] * m * params["W_Ax"][None, :]
            + (params["W_By"] * state.q)[:, None] * params["W_Bx"][None, :]
            + params["W_Cy"][:, None] * (params["W_Cx"] * state.p)[None, :]
            + state.scale * params["W_Dy"][:, None] * params["W_Dx"][None, :]
        )

    return PlasticityRule(
        shapes,
        init_factored,
        update_factored,
        n_out,
        n_in,
        ref_sep="//",
        apply=apply,
        weight=weight,
    )

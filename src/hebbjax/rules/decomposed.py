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
"""

from __future__ import annotations

from typing import Literal, NamedTuple

import jax
import jax.numpy as jnp

from hebbjax.rules.base import PlasticityRule, PlasticState, gate, zero_weight

#: Names follow the reference ``Hebbian3`` tensors (sorted: Ax, Ay, Bx, ...).
VECTOR_NAMES = ("W_Ax", "W_Ay", "W_Bx", "W_By", "W_Cx", "W_Cy", "W_Dx", "W_Dy")


class FactoredState(NamedTuple):
    """The factored decomposed state: ``m`` (n_out, n_in), ``q`` (n_out,), ``p``
    (n_in,) and the scalar ``scale`` (the sums M, Q, P, m of the module docstring)."""

    m: jax.Array
    q: jax.Array
    p: jax.Array
    scale: jax.Array


def decomposed_rule(
    n_out: int,
    n_in: int,
    modulated_scale: float = 0.20,
    form: Literal["direct", "factored"] = "direct",
) -> PlasticityRule:
    """Rank-one-per-term (decomposed) ABCD rule.

    Args:
        n_out: post-synaptic size (rows of W).
        n_in: pre-synaptic size (columns of W).
        modulated_scale: factor on the modulated update (0.20 default, the paper
            genome's semantics; 1.0 reproduces the April-2022 code).
        form: "direct" (state = W, rank-4 update) or "factored" (state = M, Q, P, m,
            rank-1 update; equal to the direct form up to float32 rounding).

    Returns:
        A ``PlasticityRule`` with the eight vectors ``W_Ax`` (n_in), ``W_Ay``
        (n_out), ... ``W_Dy`` (n_out).
    """
    shapes = {
        name: (n_in,) if name.endswith("x") else (n_out,) for name in VECTOR_NAMES
    }

    def init(params):
        return PlasticState(zero_weight(n_out, n_in))

    def update(params, state, pre, post, mu=None, plastic=True):
        u = (
            params["W_Ay"] * post,
            params["W_By"] * post,
            params["W_Cy"],
            params["W_Dy"],
        )
        v = (params["W_Ax"] * pre, params["W_Bx"], params["W_Cx"] * pre, params["W_Dx"])
        factor = 1.0 if mu is None else modulated_scale * mu
        h = sum(
            (factor * uk)[:, None] * vk[None, :] for uk, vk in zip(u, v, strict=True)
        )
        return PlasticState(gate(plastic, state.weight + h, state.weight))

    if form == "direct":
        return PlasticityRule(shapes, init, update, n_out, n_in, ref_sep="//")
    if form != "factored":
        raise ValueError(f"unknown form {form!r}; valid: direct, factored")

    def init_factored(params):
        zeros = jnp.zeros
        return FactoredState(
            zero_weight(n_out, n_in),
            zeros((n_out,), jnp.float32),
            zeros((n_in,), jnp.float32),
            zeros((), jnp.float32),
        )

    def update_factored(params, state, pre, post, mu=None, plastic=True):
        factor = jnp.float32(1.0) if mu is None else modulated_scale * mu
        fq = factor * post
        new = FactoredState(
            state.m + fq[:, None] * pre[None, :],
            state.q + fq,
            state.p + factor * pre,
            state.scale + factor,
        )
        return jax.tree.map(lambda a, b: gate(plastic, a, b), new, state)

    def apply(params, state, v):
        return (
            params["W_Ay"] * (state.m @ (params["W_Ax"] * v))
            + params["W_By"] * state.q * jnp.dot(params["W_Bx"], v)
            + params["W_Cy"] * jnp.dot(params["W_Cx"] * state.p, v)
            + state.scale * params["W_Dy"] * jnp.dot(params["W_Dx"], v)
        )

    def weight(params, state):
        return (
            params["W_Ay"][:, None] * state.m * params["W_Ax"][None, :]
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

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
"""

from __future__ import annotations

from hebbjax.rules.base import PlasticityRule, PlasticState, gate, zero_weight

#: Names follow the reference ``Hebbian3`` tensors (sorted: Ax, Ay, Bx, ...).
VECTOR_NAMES = ("W_Ax", "W_Ay", "W_Bx", "W_By", "W_Cx", "W_Cy", "W_Dx", "W_Dy")


def decomposed_rule(
    n_out: int, n_in: int, modulated_scale: float = 0.20
) -> PlasticityRule:
    """Rank-one-per-term (decomposed) ABCD rule.

    Args:
        n_out: post-synaptic size (rows of W).
        n_in: pre-synaptic size (columns of W).
        modulated_scale: factor on the modulated update (0.20 default, the paper
            genome's semantics; 1.0 reproduces the April-2022 code).

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

    return PlasticityRule(shapes, init, update, n_out, n_in, ref_sep="//")

"""Per-synapse ABCD_lr rule of Najarro & Risi 2020 (hebbian-ant-brax spec 1.3), the
learning-rate variant of the one ABCD statement in ``rules/abcd.py``.

"Meta-learning through Hebbian plasticity in random networks": every synapse
has five evolved coefficients in the order [A, B, C, eta, D] and

    dW_ji = eta_ji * (A_ji o_i o_j + B_ji o_i + C_ji o_j + D_ji),   W <- W + dW

with o_i the pre-synaptic activity (layer input, index i) and o_j the
post-synaptic activity (layer output after its nonlinearity, index j). Note that
here B multiplies the *pre*-synaptic activity and C the *post*-synaptic one,
the opposite of the Wang et al. type-1 convention.

Layout: hebbjax stores the coefficients as ``coeffs`` (n_out, n_in, 5), i.e.
``coeffs[j, i, k]``, in the orientation of W. The reference keeps one flat
array per network in which layer l's block is (n_in, n_out, 5) row-major
(row index i * n_out + j), layers concatenated in order;
``from_reference_layout`` / ``to_reference_layout`` convert one layer's block.
"""

from __future__ import annotations

import numpy as np

from hebbjax.rules.abcd import abcd_term, modulate
from hebbjax.rules.base import PlasticityRule, PlasticState, gate, zero_weight

COEFF_ORDER = ("A", "B", "C", "eta", "D")


def abcd_lr_rule(n_out: int, n_in: int) -> PlasticityRule:
    """Najarro & Risi's ABCD_lr rule with per-synapse learning rate.

    Args:
        n_out: post-synaptic size (rows of W).
        n_in: pre-synaptic size (columns of W).

    Returns:
        A ``PlasticityRule`` with one tensor ``coeffs`` (n_out, n_in, 5) in the
        order [A, B, C, eta, D]. ``mu``, when given, multiplies dW.
    """

    def init(params):
        return PlasticState(zero_weight(n_out, n_in))

    def update(params, state, pre, post, mu=None, plastic=True):
        c = params["coeffs"]
        a, b, cc, eta, d = (c[..., k] for k in range(5))
        delta = eta * abcd_term(a, b, cc, d, pre, post, "pre-first")
        if mu is not None:
            delta = modulate(mu, delta)
        return PlasticState(gate(plastic, state.weight + delta, state.weight))

    return PlasticityRule({"coeffs": (n_out, n_in, 5)}, init, update, n_out, n_in)


def from_reference_layout(block: np.ndarray, n_out: int, n_in: int) -> np.ndarray:
    """One layer's reference coefficients (flat or (n_in, n_out, 5)) -> (n_out, n_in, 5)."""
    return np.asarray(block).reshape(n_in, n_out, 5).transpose(1, 0, 2)


def to_reference_layout(coeffs: np.ndarray) -> np.ndarray:
    """hebbjax (n_out, n_in, 5) -> the reference (n_in, n_out, 5) block."""
    return np.asarray(coeffs).transpose(1, 0, 2)

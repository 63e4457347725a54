"""Full ABCD Hebbian rule, reference ``hebbian_type=1`` (PRNN of Table 1).

Spec 1.3 of the maze/DecPRNN spec (Wang et al. 2022, "decomposed plasticity",
the generalised Hebbian rule of their Eq. 3): every connection has its own
evolved A, B, C, D (each n_out x n_in) and

    H = 0.05 * (A * (q p^T) + B * (q 1^T) + C * (1 p^T) + D)
    W <- W + mu * H   (modulated),     W <- W + H   (unmodulated)

with pre-synaptic p (n_in), post-synaptic q (n_out). No clipping, no decay.
"""

from __future__ import annotations

import jax.numpy as jnp

from hebbjax.rules.base import PlasticityRule, PlasticState, gate, zero_weight


def abcd_rule(n_out: int, n_in: int, scale: float = 0.05) -> PlasticityRule:
    """Full per-connection ABCD rule.

    Args:
        n_out: post-synaptic size (rows of W).
        n_in: pre-synaptic size (columns of W).
        scale: the constant factor on H (0.05 in every reference version).

    Returns:
        A ``PlasticityRule`` with tensors ``A, B, C, D`` of shape (n_out, n_in).
    """
    shapes = {name: (n_out, n_in) for name in ("A", "B", "C", "D")}

    def init(params):
        return PlasticState(zero_weight(n_out, n_in))

    def update(params, state, pre, post, mu=None, plastic=True):
        hebb = (
            params["A"] * jnp.outer(post, pre)
            + params["B"] * post[:, None]
            + params["C"] * pre[None, :]
            + params["D"]
        )
        factor = scale if mu is None else scale * mu
        new = state.weight + factor * hebb
        return PlasticState(gate(plastic, new, state.weight))

    return PlasticityRule(shapes, init, update, n_out, n_in)

"""Eligibility-trace rule, reference ``hebbian_type=2`` (PRNN(ET), Scratch-ET).

Wang et al. 2022, "decomposed plasticity", Table 1 ET rows; spec 1.3 (the
EPA-SEP/HEAD version, in force from 2022-07-07). One evolved scalar eta_raw:

    eta = 0.5 * s(eta_raw + 10) + 0.5,     s(z) = z / (|z| + 1)
    E   <- eta * (q p^T) + (1 - eta) * E                 (E = 0 each lifetime)
    W   <- clip(W + 0.001 * mu * E, -5, 5)               (mu = 1 unmodulated)

W starts at zero (``'R'`` initialisation, Scratch-ET) or at an evolved matrix
``Memory`` (``'P'`` initialisation, PRNN(ET)); see spec 1.6.
"""

from __future__ import annotations

import jax.numpy as jnp

from hebbjax.rules.base import PlasticityRule, PlasticState, gate, zero_weight

ETA_NAME = "\\eta"  # the reference tensor name, a literal backslash
MEMORY_NAME = "Memory"


def eligibility_trace_rule(
    n_out: int,
    n_in: int,
    evolved_init: bool = False,
    step_scale: float = 0.001,
    clip: float = 5.0,
) -> PlasticityRule:
    """Eligibility-trace rule with one evolved trace rate.

    Args:
        n_out: post-synaptic size (rows of W).
        n_in: pre-synaptic size (columns of W).
        evolved_init: if true, W(0) is the evolved tensor ``Memory`` (n_out, n_in);
            otherwise W(0) = 0.
        step_scale: factor on the trace when it is added to W (0.001).
        clip: W is clipped to [-clip, clip] after every update (5).

    Returns:
        A ``PlasticityRule`` whose ``shapes`` hold ``\\eta`` (1,) and, with
        ``evolved_init``, ``Memory``; its state carries the trace E.
    """
    shapes = {ETA_NAME: (1,)}
    if evolved_init:
        shapes[MEMORY_NAME] = (n_out, n_in)

    def init(params):
        weight = params[MEMORY_NAME] if evolved_init else zero_weight(n_out, n_in)
        return PlasticState(weight, zero_weight(n_out, n_in))

    def update(params, state, pre, post, mu=None, plastic=True):
        z = params[ETA_NAME][0] + 10.0
        eta = 0.5 * z / (jnp.abs(z) + 1.0) + 0.5
        trace = eta * jnp.outer(post, pre) + (1.0 - eta) * state.trace
        factor = step_scale if mu is None else step_scale * mu
        weight = jnp.clip(state.weight + factor * trace, -clip, clip)
        return PlasticState(
            gate(plastic, weight, state.weight), gate(plastic, trace, state.trace)
        )

    return PlasticityRule(shapes, init, update, n_out, n_in)

"""The generalised Hebbian ABCD rule, stated once, with its scaled, gated and
learning-rate variants.

    H = A * (q p^T) + B * (q 1^T) + C * (1 p^T) + D          (Wang et al. 2022, Eq. 3)

with pre-synaptic p (n_in), post-synaptic q (n_out) and per-connection A, B, C, D
(n_out x n_in). Two conventions name the middle terms the other way round, and the two
orders of summation round differently in float32, so ``abcd_term`` keeps both:

- ``"post-first"`` (Wang et al. 2022 reference ``hebbian_type=1``, spec 1.3): B multiplies
  the post-synaptic and C the pre-synaptic activity, summed in that order;
- ``"pre-first"`` (Najarro & Risi 2020 ABCD_lr, hebbian-ant-brax spec 1.3; EPRNN, spec
  4.3): B multiplies the pre-synaptic and C the post-synaptic activity.

The rules built on it:

- ``abcd_rule`` (PRNN, type 1): ``W <- W + scale * mu * H`` (``scale`` = 0.05; ``mu`` a
  scalar modulator or, EPRNN's per-neuron gate, a vector over the post-synaptic units);
- ``abcd_lr_rule`` (``rules/abcd_lr.py``): ``W <- W + mu * eta * H``, a per-synapse rate;
- ``cluster_abcd_rule`` (``rules/cluster_abcd.py``): coefficients looked up in a table.

``abcd_rule`` stores an input-side W (n_in < n_out) transposed (``layout``, see
``rules/base.py``); the update of each element is the same expression in either layout.
Its ``prepare`` transposes the coefficients once per lifetime (left to the step, XLA:CPU
fuses the four transposes into every update: 4 strided reads per element).
"""

from __future__ import annotations

from typing import Literal

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

Convention = Literal["post-first", "pre-first"]
#: suffix of a coefficient matrix stored transposed by the rule's ``prepare``
TRANSPOSED = "^T"
CONVENTIONS = ("post-first", "pre-first")


def abcd_term(
    a,
    b,
    c,
    d,
    pre: jax.Array,
    post: jax.Array,
    convention: Convention,
    transposed: bool = False,
):
    """``A * (q p^T) + B * (q 1^T) + C * (1 p^T) + D`` (post-first) or with B and C
    on the pre- and post-synaptic terms (pre-first), (n_out, n_in); with
    ``transposed`` the coefficients and the result are (n_in, n_out), each element the
    same expression."""
    q, p = (
        (post[None, :], pre[:, None]) if transposed else (post[:, None], pre[None, :])
    )
    if convention == "post-first":
        return a * (q * p) + b * q + c * p + d
    return a * (q * p) + b * p + c * q + d


def modulate(mu, update: jax.Array, transposed: bool = False) -> jax.Array:
    """``mu * update`` for a scalar ``mu`` or a per-post-synaptic-unit vector (n_out,)."""
    mu = jnp.asarray(mu)
    if mu.ndim == 1:
        mu = mu[None, :] if transposed else mu[:, None]
    return mu * update


def check_convention(convention: str) -> None:
    if convention not in CONVENTIONS:
        raise ValueError(
            f"unknown ABCD convention {convention!r}; valid: {', '.join(CONVENTIONS)}"
        )


def abcd_rule(
    n_out: int,
    n_in: int,
    scale: float | None = 0.05,
    convention: Convention = "post-first",
    layout: Layout = "auto",
) -> PlasticityRule:
    """Full per-connection ABCD rule.

    Args:
        n_out: post-synaptic size (rows of W).
        n_in: pre-synaptic size (columns of W).
        scale: the constant factor on H (0.05 in every Wang et al. 2022 reference
            version); None for no factor (EPRNN).
        convention: which of B and C multiplies the post-synaptic activity (see the
            module docstring).
        layout: storage of W ("auto", "post-major", "pre-major"; ``rules/base.py``).

    Returns:
        A ``PlasticityRule`` with tensors ``A, B, C, D`` of shape (n_out, n_in). The
        modulator ``mu`` of ``update`` may be a scalar or a vector (n_out,).
    """
    check_convention(convention)
    pre_major = choose_layout(n_out, n_in, layout) == "pre-major"
    shapes = {name: (n_out, n_in) for name in ("A", "B", "C", "D")}

    def init(params):
        if pre_major:
            return PreMajorState(jnp.zeros((n_in, n_out), jnp.float32))
        return PlasticState(zero_weight(n_out, n_in))

    def prepare(params):
        """The coefficients of a pre-major W stored transposed, ``A^T`` ... ``D^T``."""
        return {k + TRANSPOSED: params[k].T for k in "ABCD"}

    def update(params, state, pre, post, mu=None, plastic=True):
        transposed = isinstance(state, PreMajorState)
        if not transposed:
            coeffs = [params[k] for k in "ABCD"]
        elif "A" + TRANSPOSED in params:  # prepared once per lifetime
            coeffs = [params[k + TRANSPOSED] for k in "ABCD"]
        else:  # XLA:CPU fuses these into every step's update (strided reads)
            coeffs = [params[k].T for k in "ABCD"]
        hebb = abcd_term(*coeffs, pre, post, convention, transposed)
        if scale is None:
            delta = hebb if mu is None else modulate(mu, hebb, transposed)
        else:
            factor = scale if mu is None else scale * jnp.asarray(mu)
            delta = modulate(factor, hebb, transposed)
        if transposed:
            new = gate(plastic, state.stored + delta, state.stored)
            return PreMajorState(new, state.trace)
        return PlasticState(gate(plastic, state.weight + delta, state.weight))

    return PlasticityRule(
        shapes, init, update, n_out, n_in, prepare=prepare if pre_major else None
    )

"""The plasticity-rule contract (Wang et al. 2022, "decomposed plasticity", spec 1.3).

A rule is a factory that closes over the static shape of one plastic matrix
W (n_out x n_in: rows are post-synaptic, columns pre-synaptic) and returns a
``PlasticityRule`` NamedTuple:

- ``shapes``: the rule's evolved tensors (its share of the genome), keyed by the
  reference code's local tensor names (e.g. ``"A"`` or ``"W_Ax"``);
- ``init(params) -> PlasticState``: the state at the start of a lifetime;
- ``update(params, state, pre, post, mu=None, plastic=True) -> PlasticState``:
  one plastic update for a single example. ``mu`` is a scalar modulator, or
  ``None`` for the unmodulated path (a static choice). ``plastic`` may be a
  traced boolean; when false the returned state equals the input state exactly.

``prepare(params) -> params`` (optional): the rule's tensors in the form its ``update``
reads fastest, computed once per lifetime outside the time loop by the model's
``Model.prepare`` (e.g. the ABCD rule of a pre-synaptic-major W_x reads ``A^T``, the
coefficients transposed, instead of transposing ``A`` at every step); the names it
returns replace the genome's. ``init`` and ``update`` accept either form and give the
same numbers bit for bit.

``ref_sep`` is the separator the reference code puts between a layer's prefix
and the rule's tensor names: "/" for most rules, "//" for type 3, giving e.g.
``PRNN_1/hebbian_h//W_Ax``; models use it to build reference tensor names.

A rule whose state is not the weight matrix itself (the factored decomposed form)
provides ``apply(params, state, v) -> W v`` and ``weight(params, state) -> W``;
models call the module functions ``apply_weight`` and ``plastic_weight``, which
fall back to ``state.weight`` for every other rule.

Storage layout. A plastic matrix is W (n_out, n_in) in every formula and every public
reading, but a rule may *store* it pre-synaptic-major, W^T (n_in, n_out), in a
``PreMajorState``: under ``vmap`` the contiguous axis of a (batch, 64, 15) input-side
matrix is 15 floats long (two AVX vectors, one of them masked), of a (batch, 15, 64) one
64 floats (eight full vectors), which makes its update and its matvec about 2x faster per
element. ``PreMajorState`` is a ``PlasticState`` whose ``weight`` reads (and whose
``_replace(weight=...)`` writes) the (n_out, n_in) view, so traces, interventions and
tests that read ``state.weight`` are unchanged; rules read ``stored`` and dispatch on the
state's type, so a model that builds a plain ``PlasticState`` itself (EPRNN) keeps the
post-synaptic-major path. ``choose_layout`` puts the longer axis last ("auto").
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Literal, NamedTuple

import jax
import jax.numpy as jnp

RuleParams = Mapping[str, jax.Array]


class PlasticState(NamedTuple):
    """Lifetime state of one plastic matrix: ``weight`` (n_out, n_in) and, for
    eligibility-trace rules only, ``trace`` (n_out, n_in); otherwise ``None``."""

    weight: jax.Array
    trace: jax.Array | None = None


class PreMajorState(PlasticState):
    """A ``PlasticState`` stored transposed: slot 0 holds W^T (n_in, n_out).

    ``stored`` is the array as stored; ``weight`` is W (n_out, n_in), as for every
    ``PlasticState`` (``models/memory.py`` reads and edits plastic weights through it).
    ``trace`` (unused by the rules that store this layout) is kept as given.
    """

    __slots__ = ()

    @property
    def stored(self) -> jax.Array:
        return tuple.__getitem__(self, 0)

    @property
    def weight(self) -> jax.Array:  # type: ignore[override]
        return jnp.swapaxes(self.stored, -1, -2)

    def _replace(self, /, **fields: Any) -> PreMajorState:
        if "weight" in fields:
            fields["weight"] = jnp.swapaxes(fields["weight"], -1, -2)
        return PlasticState._replace(self, **fields)

    @classmethod
    def from_weight(cls, weight: jax.Array, trace: Any = None) -> PreMajorState:
        """The state of W (n_out, n_in), stored as W^T."""
        return cls(jnp.swapaxes(weight, -1, -2), trace)

    def __repr__(self) -> str:
        return f"PreMajorState(stored={self.stored!r}, trace={self.trace!r})"


Layout = Literal["auto", "post-major", "pre-major"]
LAYOUTS = ("auto", "post-major", "pre-major")


def choose_layout(n_out: int, n_in: int, layout: str = "auto") -> str:
    """The storage of W: "post-major" (n_out, n_in) or "pre-major" (n_in, n_out).

    "auto" stores the longer axis last (contiguous): pre-major iff n_in < n_out, so
    square and wide matrices keep the reference orientation.
    """
    if layout not in LAYOUTS:
        raise ValueError(f"unknown layout {layout!r}; valid: {', '.join(LAYOUTS)}")
    if layout == "auto":
        return "pre-major" if n_in < n_out else "post-major"
    return layout


class PlasticityRule(NamedTuple):
    shapes: Mapping[str, tuple[int, ...]]
    init: Callable[[RuleParams], PlasticState]
    update: Callable[..., PlasticState]
    n_out: int
    n_in: int
    ref_sep: str = "/"
    apply: Callable[..., jax.Array] | None = None
    weight: Callable[..., jax.Array] | None = None
    prepare: Callable[[RuleParams], RuleParams] | None = None


def apply_weight(
    rule: PlasticityRule, params: RuleParams, state: Any, v: jax.Array
) -> jax.Array:
    """``W v`` for the rule's current plastic weight W (n_out,)."""
    if rule.apply is not None:
        return rule.apply(params, state, v)
    if isinstance(state, PreMajorState):
        return v @ state.stored
    return state.weight @ v


def plastic_weight(rule: PlasticityRule, params: RuleParams, state: Any) -> jax.Array:
    """The current plastic weight matrix W (n_out, n_in)."""
    if rule.weight is None:
        return state.weight
    return rule.weight(params, state)


def gate(plastic: Any, new: jax.Array, old: jax.Array) -> jax.Array:
    """``new`` where ``plastic`` is true, else ``old`` bit for bit (one select)."""
    return jnp.where(plastic, new, old)


def zero_weight(n_out: int, n_in: int) -> jax.Array:
    return jnp.zeros((n_out, n_in), jnp.float32)

"""Plasticity rules as pure functions (Wang et al. 2022 spec 1.3; Najarro & Risi 2020).

A rule is a factory ``rule(n_out, n_in, **options) -> PlasticityRule`` that closes over
the static shape of one plastic matrix (``shapes``, ``init``, ``update``). ``RULES`` maps
names to factories; models take a factory or a registered name (``resolve_rule``), so a
rule written in user code plugs into the plastic models without touching hebbjax::

    hebbjax.RULES.register("oja", oja_rule)
    model = hebbjax.make_model("prnn-postdn", rule="oja")

Variants are ``functools.partial``s of a factory, as optax's.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from hebbjax.registry import Registry
from hebbjax.rules.abcd import abcd_rule, abcd_term
from hebbjax.rules.abcd_lr import (
    abcd_lr_rule,
    from_reference_layout,
    to_reference_layout,
)
from hebbjax.rules.base import PlasticityRule, PlasticState
from hebbjax.rules.cluster_abcd import cluster_abcd_rule, default_assignment
from hebbjax.rules.decomposed import decomposed_rule
from hebbjax.rules.eligibility_trace import eligibility_trace_rule

RuleFactory = Callable[..., PlasticityRule]

RULES: Registry[RuleFactory] = Registry("rule")
RULES.register("abcd", abcd_rule)
RULES.register("decomposed", decomposed_rule)
RULES.register("eligibility-trace", eligibility_trace_rule)
RULES.register("cluster-abcd", cluster_abcd_rule)
RULES.register("abcd-lr", abcd_lr_rule)


def resolve_rule(rule: str | RuleFactory, **options: Any) -> RuleFactory:
    """A rule factory from a registered name or a factory, with ``options`` bound.

    Raises:
        ValueError: an unknown name (listing the valid ones), or an object that is not
            callable.
    """
    factory = RULES.get(rule) if isinstance(rule, str) else rule
    if not callable(factory):
        raise ValueError(
            f"a rule must be a registered name or a factory (n_out, n_in) -> "
            f"PlasticityRule, got {rule!r}; valid names: {', '.join(RULES)}"
        )
    if not options:
        return factory
    import functools

    return functools.partial(factory, **options)


__all__ = [
    "RULES",
    "PlasticState",
    "PlasticityRule",
    "RuleFactory",
    "abcd_lr_rule",
    "abcd_rule",
    "abcd_term",
    "cluster_abcd_rule",
    "decomposed_rule",
    "default_assignment",
    "eligibility_trace_rule",
    "from_reference_layout",
    "resolve_rule",
    "to_reference_layout",
]

"""Plasticity rules as pure functions (Wang et al. 2022 spec 1.3; Najarro & Risi 2020).

Each factory closes over the static shape of one plastic matrix (n_out, n_in)
and returns a ``PlasticityRule`` (``shapes``, ``init``, ``update``).
"""

from hebbjax.registry import Registry
from hebbjax.rules.abcd import abcd_rule
from hebbjax.rules.abcd_lr import (
    abcd_lr_rule,
    from_reference_layout,
    to_reference_layout,
)
from hebbjax.rules.base import PlasticityRule, PlasticState
from hebbjax.rules.cluster_abcd import cluster_abcd_rule, default_assignment
from hebbjax.rules.decomposed import decomposed_rule
from hebbjax.rules.eligibility_trace import eligibility_trace_rule

RULES: Registry = Registry("rule")
RULES.register("abcd", abcd_rule)
RULES.register("decomposed", decomposed_rule)
RULES.register("eligibility-trace", eligibility_trace_rule)
RULES.register("cluster-abcd", cluster_abcd_rule)
RULES.register("abcd-lr", abcd_lr_rule)

__all__ = [
    "RULES",
    "PlasticState",
    "PlasticityRule",
    "abcd_lr_rule",
    "abcd_rule",
    "cluster_abcd_rule",
    "decomposed_rule",
    "default_assignment",
    "eligibility_trace_rule",
    "from_reference_layout",
    "to_reference_layout",
]

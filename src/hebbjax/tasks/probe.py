"""What a lifetime records and how it is intervened in (``tasks/lifetime.py`` runs it).

Traces of the per-step signals and the interventions of the papers' analyses: plasticity off
from a step, a fraction of the plastic synapses zeroed (Najarro & Risi 2020 Fig. 4), actions
overridden, memory reset between rollouts (Wang et al. 2022 sec. 4).
"""

from __future__ import annotations

from typing import Any, NamedTuple

TRACE_FIELDS = (
    "obs",
    "input",
    "output",
    "action",
    "reward",
    "done",
    "position",
    "hidden",
    "weights",
)
RESETS = ("hidden", "plastic", "both")


class Probe(NamedTuple):
    """What to record in a lifetime and how to intervene in it (all static, hashable).

    Steps are counted from the start of the lifetime (0, 1, ...), across rollouts.

    Attributes:
        record: trace fields to record, from ``TRACE_FIELDS``.
        every: record every k-th step (0, k, 2k, ...).
        freeze_plasticity_at: plasticity is off from this step on.
        zero_at, zero_fraction: at this step, before the network acts, each plastic synapse
            is set to zero with probability ``zero_fraction`` (Najarro & Risi 2020 Fig. 4).
        override_actions: ``(start, stop, value)``: the action of steps start..stop-1 is
            ``value`` (a number, or a tuple for vector actions), e.g. saturated actuators.
        reset_between_rollouts: "hidden", "plastic" or "both": that part of the memory is
            put back to its value at the start of the lifetime whenever a rollout begins.
    """

    record: tuple[str, ...] = ()
    every: int = 1
    freeze_plasticity_at: int | None = None
    zero_at: int | None = None
    zero_fraction: float = 0.0
    override_actions: tuple[int, int, Any] | None = None
    reset_between_rollouts: str | None = None

    def check(self) -> Probe:
        unknown = sorted(set(self.record) - set(TRACE_FIELDS))
        if unknown:
            raise ValueError(
                f"unknown trace field(s) {unknown}; valid: {', '.join(TRACE_FIELDS)}"
            )
        if self.every < 1:
            raise ValueError(f"every must be >= 1, got {self.every}")
        if not 0.0 <= self.zero_fraction <= 1.0:
            raise ValueError(
                f"zero_fraction must be in [0, 1], got {self.zero_fraction}"
            )
        if self.reset_between_rollouts not in (None, *RESETS):
            raise ValueError(
                f"unknown reset_between_rollouts {self.reset_between_rollouts!r}; "
                f"valid: {', '.join(RESETS)}"
            )
        if self.override_actions is not None:
            start, stop, _ = self.override_actions
            if not 0 <= start <= stop:
                raise ValueError(
                    f"override_actions needs 0 <= start <= stop, got {(start, stop)}"
                )
        return self

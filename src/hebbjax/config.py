"""Run configuration: a frozen dataclass, saved as JSON beside every checkpoint.

The reference outer loop (Wang et al. 2022 code, spec section 3.2) is the ``paper`` preset:
population 360, parents 180, sigma0 0.01, c_cov 0.02, 2 mazes per generation (4 from generation
4,000, 8 from 8,000), 4 repeats each, validation of the mean every 100 generations on 1,024 mazes,
15,000 generations. The ``small`` preset is a laptop-sized run that finishes in minutes: the
same strategy with a larger initial step (0.05), 128 individuals, 8 mazes x 1 repeat, 400
generations, validation on 256 mazes every 25.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

PRESETS: dict[str, dict[str, Any]] = {
    "small": dict(
        strategy="paper-cmaes",
        population=128,
        generations=400,
        schedule=((0, 8),),
        repeats=1,
        sigma0=0.05,
        validate_every=25,
        n_validation=256,
        validation_repeats=1,
        checkpoint_every=25,
    ),
    "paper": dict(
        strategy="paper-cmaes",
        population=360,
        generations=15000,
        schedule=((0, 2), (4000, 4), (8000, 8)),
        repeats=4,
        sigma0=0.01,
        validate_every=100,
        n_validation=1024,
        validation_repeats=4,
        checkpoint_every=500,
    ),
}


@dataclass(frozen=True)
class TrainConfig:
    """Everything that defines a training run. Derived values are properties."""

    task: str = "maze"
    model: str = "decprnn-postdn"
    preset: str = "small"
    strategy: str = "paper-cmaes"
    population: int = 128
    generations: int = 400
    seed: int = 0
    # (first generation, tasks per generation) pairs, in increasing order.
    schedule: tuple[tuple[int, int], ...] = ((0, 8),)
    repeats: int = 1
    sigma0: float = 0.05
    validate_every: int = 25
    n_validation: int = 256
    validation_repeats: int = 1
    checkpoint_every: int = 25
    model_kwargs: dict[str, Any] = field(default_factory=dict)
    task_kwargs: dict[str, Any] = field(default_factory=dict)
    strategy_kwargs: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        checks = [
            (self.population >= 2, f"population must be >= 2, got {self.population}"),
            (
                self.generations >= 1,
                f"generations must be >= 1, got {self.generations}",
            ),
            (self.repeats >= 1, f"repeats must be >= 1, got {self.repeats}"),
            (self.sigma0 > 0, f"sigma0 must be > 0, got {self.sigma0}"),
            (
                self.validate_every >= 1,
                f"validate_every must be >= 1, got {self.validate_every}",
            ),
            (
                self.n_validation >= 1,
                f"n_validation must be >= 1, got {self.n_validation}",
            ),
            (
                self.validation_repeats >= 1,
                "validation_repeats must be >= 1",
            ),
            (
                self.checkpoint_every >= 1,
                f"checkpoint_every must be >= 1, got {self.checkpoint_every}",
            ),
            (len(self.schedule) >= 1, "schedule needs at least one entry"),
        ]
        for ok, message in checks:
            if not ok:
                raise ValueError(message)
        starts = [s for s, _ in self.schedule]
        if starts[0] != 0 or starts != sorted(set(starts)):
            raise ValueError(
                f"schedule must start at generation 0 and increase, got {self.schedule}"
            )
        if any(n < 1 for _, n in self.schedule):
            raise ValueError(f"tasks per generation must be >= 1: {self.schedule}")

    def tasks_at(self, generation: int) -> int:
        """Tasks (mazes) per generation at ``generation``, from the schedule."""
        n = self.schedule[0][1]
        for start, count in self.schedule:
            if generation >= start:
                n = count
        return n

    @classmethod
    def from_preset(cls, preset: str = "small", **overrides: Any) -> TrainConfig:
        if preset not in PRESETS:
            raise ValueError(
                f"unknown preset {preset!r}; valid presets: {', '.join(PRESETS)}"
            )
        values = dict(PRESETS[preset], preset=preset)
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)

    def to_json(self) -> str:
        return json.dumps(dataclasses.asdict(self), indent=2, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> TrainConfig:
        raw = json.loads(text)
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = set(raw) - names
        if unknown:
            raise ValueError(f"unknown config keys {sorted(unknown)}")
        raw["schedule"] = tuple(tuple(pair) for pair in raw.get("schedule", ()))
        return cls(**raw)

    @classmethod
    def load(cls, path: str | Path) -> TrainConfig:
        return cls.from_json(Path(path).read_text())

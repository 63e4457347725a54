"""Run configuration: a frozen dataclass, saved as JSON beside every checkpoint.

The reference outer loop (Wang et al. 2022 code, spec section 3.2) is the ``paper`` preset:
population 360, parents 180, sigma0 0.01, c_cov 0.02, 2 mazes per generation (4 from generation
4,000, 8 from 8,000), 4 repeats each, validation of the mean every 100 generations on 1,024 mazes,
15,000 generations. The ``small`` preset is a laptop-sized run that finishes in minutes: the
same strategy with a larger initial step (0.05), 128 individuals, 8 mazes x 1 repeat, 400
generations, validation on 256 mazes every 25. The ``hour`` preset (maze tasks only) is the
fastest route to a high score found on this 2-core CPU (issue 16, ``benchmarks/time_to_quality``):
the small preset's start, 8 -> 64 mazes per generation and a floor of 0.02 under the step size,
about an hour; on 9x9 sep-CMA-ES with the third rollout scored only within 40 steps (the maze
task's ``score_within``; the rollout ends at the cap, ``stop_at_cap``), from generation 1,500
within 25, to generation 4,000, then 256 mazes per generation scored on rollouts 2 and 3
(``rollout_weights``; a schedule with task options) to 4,600, the best of two starts kept at
generation 2,000 (``starts``, ``select_at``: two seeds in seven settle in a region that ends
near +0.5, and show it on validation by then); on 15x15 those phases (one start), the
256-maze one on the paper's fitness, train on 9x9 mazes (the options ``size`` and
``crowd``) inside the 15x15 run, then 32 15x15 mazes per generation from 4,400 (a
curriculum). The ant and car tasks change the small and paper
presets (``TASK_PRESETS``):
Najarro & Risi's outer loop for ``paper``, and set sizes they hold.

``strategy_schedule`` changes the outer loop during a run (``hebbjax.evolution.phases``):
each entry's strategy starts at the mean the previous one reached (options ``sigma0``,
``population``; ``continue: true`` keeps the previous strategy and its state and changes
only the population or options it names).

A run can be launched from a config file (``TrainConfig.from_file``: JSON, or TOML with the
same keys), e.g. the ``config.json`` another run wrote.
"""

from __future__ import annotations

import dataclasses
import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hebbjax.errors import ConfigError
from hebbjax.presets import PRESETS, TASK_PRESET_OF, TASK_PRESETS, preset_values

__all__ = [
    "LOGGERS",
    "PRESENTATION",
    "PRESETS",
    "TASK_PRESETS",
    "TASK_PRESET_OF",
    "TrainConfig",
    "preset_values",
    "read_config_file",
    "schedule_entries",
]

LOGGERS = ("csv", "tensorboard", "wandb")
# fields that change how a run reports, not what it computes: free to change on --resume
PRESENTATION = ("loggers", "log_every", "plugins", "preset")


def schedule_entries(value: Any, name: str = "schedule") -> tuple[tuple[Any, ...], ...]:
    """A schedule (or ``strategy_schedule``) read from JSON or TOML (lists) as
    ``TrainConfig``'s tuples; ``TrainConfig`` checks the entries themselves."""
    try:
        if isinstance(value, (str, dict)):
            raise TypeError
        return tuple(tuple(entry) for entry in value)
    except TypeError:
        what = "strategy" if name == "strategy_schedule" else "tasks"
        raise ConfigError(
            f"{name} must be a list of [generation, {what}] pairs or [generation, "
            f"{what}, {{options}}] triples, got {value!r}"
        ) from None


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
    # (first generation, tasks per generation) pairs, in increasing order; an entry may
    # carry a third item, task options that replace task_kwargs' from that generation on
    # in the training fitness (a curriculum: ``task_options_at``)
    schedule: tuple[tuple[Any, ...], ...] = ((0, 8),)
    repeats: int = 1
    sigma0: float = 0.05
    validate_every: int = 25
    n_validation: int = 256
    validation_repeats: int = 1
    checkpoint_every: int = 25
    model_kwargs: dict[str, Any] = field(default_factory=dict)
    task_kwargs: dict[str, Any] = field(default_factory=dict)
    strategy_kwargs: dict[str, Any] = field(default_factory=dict)
    # metrics writers beside metrics.jsonl: any of "csv", "tensorboard", "wandb"
    loggers: tuple[str, ...] = ()
    # modules that register the run's own models, tasks, rules or strategies
    plugins: tuple[str, ...] = ()
    # the genome the search starts from (a curriculum: a run directory, whose final mean
    # genome is taken, a genome file or a packaged name); None: the model's init from seed
    init: str | None = None
    # best of several starts (restarts against a multimodal fitness): ``starts``
    # independent searches (seeds seed, seed + 1, ...) to generation ``select_at``, then
    # the one whose mean scores best on validation goes on to ``generations``, exactly
    # as a run of its seed alone would (``hebbjax.evolution.starts``); 1: one search
    starts: int = 1
    select_at: int = 0
    # later outer loops: (first generation, strategy, {options}) entries, in increasing
    # order; from its generation the search goes on under the entry's strategy, started
    # at the current mean with step size options["sigma0"] (default ``sigma0``) and the
    # other options as its strategy options (e.g. sep-CMA-ES to the plateau, then
    # OpenAI-ES's antithetic gradient: ``hebbjax.evolution.phases.strategy_stage``)
    strategy_schedule: tuple[tuple[Any, ...], ...] = ()

    def __post_init__(self) -> None:
        for f in dataclasses.fields(self):
            _check_type(f.name, getattr(self, f.name), f.type)
        checks = [
            (self.population >= 2, f"population must be >= 2, got {self.population}"),
            (
                self.generations >= 1,
                f"generations must be >= 1, got {self.generations}",
            ),
            (self.repeats >= 1, f"repeats must be >= 1, got {self.repeats}"),
            (
                math.isfinite(self.sigma0) and self.sigma0 > 0,
                f"sigma0 must be a finite number > 0, got {self.sigma0}",
            ),
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
                f"validation_repeats must be >= 1, got {self.validation_repeats}",
            ),
            (
                self.checkpoint_every >= 1,
                f"checkpoint_every must be >= 1, got {self.checkpoint_every}",
            ),
            (len(self.schedule) >= 1, "schedule needs at least one entry"),
            (self.starts >= 1, f"starts must be >= 1, got {self.starts}"),
            (
                self.starts == 1 or 1 <= self.select_at < self.generations,
                f"with starts {self.starts}, select_at (the generation at which the "
                f"best start is kept) must be >= 1 and below generations "
                f"{self.generations}, got {self.select_at}",
            ),
            (
                set(self.loggers) <= set(LOGGERS),
                f"unknown logger(s) {sorted(set(self.loggers) - set(LOGGERS))}; "
                f"valid: {', '.join(LOGGERS)}",
            ),
        ]
        for ok, message in checks:
            if not ok:
                raise ConfigError(message)
        if any(
            len(entry) not in (2, 3) or not all(_is_int(x) for x in entry[:2])
            for entry in self.schedule
        ):
            raise ConfigError(
                "schedule entries must be (first generation, tasks) pairs or (first "
                f"generation, tasks, {{task options}}) triples, got {self.schedule}"
            )
        if any(
            len(entry) == 3 and not isinstance(entry[2], dict)
            for entry in self.schedule
        ):
            raise ConfigError(
                "a schedule entry's third item is a mapping of task options (e.g. "
                f'{{"score_within": 40}}), got {self.schedule}'
            )
        starts = [entry[0] for entry in self.schedule]
        if starts[0] != 0 or starts != sorted(set(starts)):
            raise ConfigError(
                f"schedule must start at generation 0 and increase, got {self.schedule}"
            )
        if any(entry[1] < 1 for entry in self.schedule):
            raise ConfigError(f"tasks per generation must be >= 1: {self.schedule}")
        self._check_strategy_schedule()

    def _check_strategy_schedule(self) -> None:
        entries = self.strategy_schedule
        if any(
            len(e) not in (2, 3)
            or not _is_int(e[0])
            or not isinstance(e[1], str)
            or (len(e) == 3 and not isinstance(e[2], dict))
            for e in entries
        ):
            raise ConfigError(
                "strategy_schedule entries must be (first generation, strategy) pairs "
                "or (first generation, strategy, {options}) triples, e.g. [4400, "
                f'"openai-es", {{"sigma0": 0.02}}], got {entries}'
            )
        firsts = [e[0] for e in entries]
        if firsts != sorted(set(firsts)) or any(g < 1 for g in firsts):
            raise ConfigError(
                "strategy_schedule generations must be >= 1 and increase (generation "
                f"0 runs --strategy), got {entries}"
            )
        for i, e in enumerate(entries):
            options = e[2] if len(e) == 3 else {}
            population = options.get("population", self.population)
            if not (_is_int(population) and population >= 2):
                raise ConfigError(
                    f"strategy_schedule entry {list(e)}: population must be an "
                    f"integer >= 2, got {population!r}"
                )
            if options.get("continue", False) not in (True, False):
                raise ConfigError(
                    f"strategy_schedule entry {list(e)}: continue must be true or false"
                )
            if options.get("continue"):
                before = entries[i - 1][1] if i else self.strategy
                if e[1] != before or "sigma0" in options:
                    raise ConfigError(
                        f"strategy_schedule entry {list(e)}: continue keeps the previous "
                        f"stage's strategy ({before}) and its state, step size "
                        "included: name that strategy and give no sigma0"
                    )
            sigma0 = e[2].get("sigma0", self.sigma0) if len(e) == 3 else self.sigma0
            if not (_is_number(sigma0) and math.isfinite(sigma0) and sigma0 > 0):
                raise ConfigError(
                    f"strategy_schedule entry {list(e)}: sigma0 must be a finite "
                    f"number > 0, got {sigma0!r}"
                )

    @property
    def total_generations(self) -> int:
        """Generations trained in all: the starts' before ``select_at`` included."""
        return self.generations + (self.starts - 1) * self.select_at

    def _entry_at(self, generation: int) -> tuple[Any, ...]:
        return [e for e in self.schedule if generation >= e[0]][-1]

    def tasks_at(self, generation: int) -> int:
        """Tasks (mazes) per generation at ``generation``, from the schedule."""
        return self._entry_at(generation)[1]

    def task_options_at(self, generation: int) -> dict[str, Any]:
        """The task options the training fitness uses at ``generation``: ``task_kwargs``
        with the schedule entry's own options over them (validation keeps
        ``task_kwargs``: one yardstick for the whole run)."""
        entry = self._entry_at(generation)
        return self.task_kwargs | (entry[2] if len(entry) == 3 else {})

    @classmethod
    def from_preset(cls, preset: str = "small", **overrides: Any) -> TrainConfig:
        task = overrides.get("task") or cls.task
        values = dict(preset_values(preset, task), preset=preset)
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)

    def to_json(self) -> str:
        return json.dumps(dataclasses.asdict(self), indent=2, sort_keys=True)

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> TrainConfig:
        """A config from a dict of its fields (a ``ConfigError`` names unknown keys)."""
        if not isinstance(raw, dict):
            raise ConfigError(
                f"a config is a mapping of fields, got {type(raw).__name__}"
            )
        names = [f.name for f in dataclasses.fields(cls)]
        unknown = sorted(set(raw) - set(names))
        if unknown:
            raise ConfigError(
                f"unknown config key(s) {unknown}; valid keys: {', '.join(names)}"
            )
        raw = dict(raw)
        for name in ("schedule", "strategy_schedule"):
            if name in raw:
                raw[name] = schedule_entries(raw[name], name)
        for name in ("loggers", "plugins"):
            if isinstance(raw.get(name), list):
                raw[name] = tuple(raw[name])
        return cls(**raw)

    @classmethod
    def from_json(cls, text: str) -> TrainConfig:
        try:
            raw = json.loads(text)
        except json.JSONDecodeError as err:
            raise ConfigError(f"config is not valid JSON: {err}") from None
        return cls.from_dict(raw)

    @classmethod
    def from_file(cls, path: str | Path) -> TrainConfig:
        """A config from a ``.json`` or ``.toml`` file with ``TrainConfig``'s keys."""
        try:
            return cls.from_dict(read_config_file(path))
        except ConfigError as err:
            raise ConfigError(f"config {path}: {err}") from None

    load = from_file

    def differences(
        self, other: TrainConfig, ignore: tuple[str, ...] = ()
    ) -> list[str]:
        """The fields whose values differ from ``other``'s (``ignore`` excepted), as saved:
        a tuple option equals the list its JSON reads back as."""
        a, b = json.loads(self.to_json()), json.loads(other.to_json())
        return sorted(k for k in a if k not in ignore and a[k] != b[k])


def read_config_file(path: str | Path) -> dict[str, Any]:
    """The fields in a ``.json`` or ``.toml`` config file (possibly only some of them)."""
    path = Path(path)
    try:
        text = path.read_text()
    except (OSError, UnicodeDecodeError) as err:
        reason = getattr(err, "strerror", None) or err
        raise ConfigError(f"cannot read config {path}: {reason}") from None
    if path.suffix == ".toml":
        import tomllib

        try:
            raw = tomllib.loads(text)
        except tomllib.TOMLDecodeError as err:
            raise ConfigError(f"config {path} is not valid TOML: {err}") from None
    else:
        try:
            raw = json.loads(text)
        except json.JSONDecodeError as err:
            raise ConfigError(f"config {path} is not valid JSON: {err}") from None
    if not isinstance(raw, dict):
        raise ConfigError(f"config {path} must hold a mapping of fields")
    return raw


def _is_int(x: Any) -> bool:
    return isinstance(x, int) and not isinstance(x, bool)


def _is_number(x: Any) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool)


def _check_type(name: str, value: Any, annotation: str) -> None:
    """A ``ConfigError`` when a field's value has the wrong type (e.g. from a file)."""
    kinds = {
        "int": int,
        "float": (int, float),
        "str": str,
        "str | None": (str, type(None)),
        "dict[str, Any]": dict,
    }
    want = kinds.get(annotation)
    if annotation.startswith("tuple"):
        want = tuple
    if want is None:
        return
    wrong = not isinstance(value, want) or (
        want in (int, (int, float)) and isinstance(value, bool)
    )
    if wrong:
        raise ConfigError(f"{name} must be {annotation}, got {value!r}")

"""Phases of a training schedule: the tasks per generation and the task options of the
training fitness at a generation (``TrainConfig.schedule`` entries ``[generation, tasks]`` or
``[generation, tasks, {options}]``; e.g. the 9x9 hour's 40-step cap lifted at generation
4,000), and the outer loop that steps it (``TrainConfig.strategy_schedule`` entries
``[generation, strategy, {options}]``: stage 0 is ``strategy``, stage k the k-th entry). A
generation's compiled step depends on all three; validation keeps ``task_kwargs``.

A new stage starts its strategy at the mean the previous one reached (``es.init(key,
mean, params)``; its step size ``options["sigma0"]``, default the run's ``sigma0``): what
carries over is the genome, not the strategy's state (a covariance or an optimizer's
moments mean nothing to another algorithm). ``options["population"]`` sets the stage's
population (default the run's). ``options["continue"]: true`` keeps the previous stage's
strategy, its options and its state (mean, step size, covariance, paths) and changes only
what the entry gives, e.g. the population (64 genomes on 512 mazes instead of 128 on 256
for the 9x9 hour's last phase was one such experiment; a state holds no population-sized
array, the recombination weights and learning rates follow the new population). A
checkpoint written after generation g - 1 holds the state of the stage that stepped
g - 1 (``checkpoint_stage``), so a run resumed there switches at the same generation as
one that was never stopped.
"""

from __future__ import annotations

import json
from typing import Any, NamedTuple

import jax

from hebbjax.config import TrainConfig
from hebbjax.evolution.strategies import make_strategy
from hebbjax.tasks import make_task


def phase_key(config: TrainConfig, generation: int) -> tuple[int, int, str]:
    """What a generation's compiled step depends on: its strategy stage, tasks and task
    options."""
    options = json.dumps(config.task_options_at(generation), sort_keys=True)
    return strategy_stage(config, generation), config.tasks_at(generation), options


def task_at(config: TrainConfig, task: Any, generation: int) -> Any:
    """The task whose fitness trains ``generation`` (``task``, built from
    ``config.task_kwargs``, unless the schedule gives that generation other options)."""
    options = config.task_options_at(generation)
    return task if options == config.task_kwargs else make_task(config.task, **options)


def strategy_stage(config: TrainConfig, generation: int) -> int:
    """The stage whose strategy steps ``generation``: 0 (``config.strategy``) until the
    first ``strategy_schedule`` entry's generation, then k from the k-th entry's."""
    return sum(1 for entry in config.strategy_schedule if generation >= entry[0])


def checkpoint_stage(config: TrainConfig, generation: int) -> int:
    """The stage whose state a checkpoint written at ``generation`` holds (the stage that
    stepped generation - 1; stage 0 at generation 0)."""
    return strategy_stage(config, generation - 1) if generation > 0 else 0


class Stage(NamedTuple):
    """One outer loop of a run: its strategy, initial step size, strategy options,
    population, and whether it continues the previous stage's state."""

    strategy: str
    sigma0: float
    options: dict[str, Any]
    population: int
    continues: bool = False


def stage_of(config: TrainConfig, stage: int) -> Stage:
    """Stage ``stage`` of a run (0: ``config.strategy``; k: the k-th
    ``strategy_schedule`` entry, see the module docstring)."""
    if stage == 0:
        return Stage(
            config.strategy,
            config.sigma0,
            dict(config.strategy_kwargs),
            config.population,
        )
    entry = config.strategy_schedule[stage - 1]
    options = dict(entry[2]) if len(entry) == 3 else {}
    if options.pop("continue", False):
        before = stage_of(config, stage - 1)
        population = int(options.pop("population", before.population))
        return Stage(
            entry[1], before.sigma0, before.options | options, population, True
        )
    population = int(options.pop("population", config.population))
    return Stage(
        entry[1], float(options.pop("sigma0", config.sigma0)), options, population
    )


def stage_settings(
    config: TrainConfig, stage: int
) -> tuple[str, float, dict[str, Any]]:
    """``(strategy, sigma0, strategy options)`` of a stage."""
    s = stage_of(config, stage)
    return s.strategy, s.sigma0, s.options


def make_stage(config: TrainConfig, stage: int, solution: Any) -> tuple[Any, Any]:
    """``(es, es_params)`` of a stage's strategy for genomes shaped like ``solution``."""
    s = stage_of(config, stage)
    return make_strategy(
        s.strategy, s.population, solution, std_init=s.sigma0, **s.options
    )


def stage_key(k_es: jax.Array, config: TrainConfig, stage: int) -> jax.Array:
    """The key a stage's strategy is initialised with: stage 0 ``k_es`` itself (runs
    without a strategy schedule keep their keys), stage k ``k_es`` folded with the
    generation it starts at."""
    if stage == 0:
        return k_es
    return jax.random.fold_in(k_es, config.strategy_schedule[stage - 1][0])

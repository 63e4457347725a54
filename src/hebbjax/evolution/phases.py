"""Phases of a training schedule: the tasks per generation and the task options of the
training fitness at a generation (``TrainConfig.schedule`` entries ``[generation, tasks]`` or
``[generation, tasks, {options}]``; e.g. the 9x9 hour's 40-step cap lifted at generation
4,000), and the outer loop that steps it (``TrainConfig.strategy_schedule`` entries
``[generation, strategy, {options}]``: stage 0 is ``strategy``, stage k the k-th entry). A
generation's compiled step depends on all three; validation keeps ``task_kwargs``.

A new stage starts its strategy at the mean the previous one reached (``es.init(key,
mean, params)``; its step size ``options["sigma0"]``, default the run's ``sigma0``): what
carries over is the genome, not the strategy's state (a covariance or an optimizer's
moments mean nothing to another algorithm). A checkpoint written after generation g - 1
holds the state of the stage that stepped g - 1 (``checkpoint_stage``), so a run resumed
there switches at the same generation as one that was never stopped.
"""

from __future__ import annotations

import json
from typing import Any

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


def stage_settings(
    config: TrainConfig, stage: int
) -> tuple[str, float, dict[str, Any]]:
    """``(strategy, sigma0, strategy options)`` of a stage."""
    if stage == 0:
        return config.strategy, config.sigma0, dict(config.strategy_kwargs)
    entry = config.strategy_schedule[stage - 1]
    options = dict(entry[2]) if len(entry) == 3 else {}
    return entry[1], float(options.pop("sigma0", config.sigma0)), options


def make_stage(config: TrainConfig, stage: int, solution: Any) -> tuple[Any, Any]:
    """``(es, es_params)`` of a stage's strategy for genomes shaped like ``solution``."""
    name, sigma0, options = stage_settings(config, stage)
    return make_strategy(name, config.population, solution, std_init=sigma0, **options)


def stage_key(k_es: jax.Array, config: TrainConfig, stage: int) -> jax.Array:
    """The key a stage's strategy is initialised with: stage 0 ``k_es`` itself (runs
    without a strategy schedule keep their keys), stage k ``k_es`` folded with the
    generation it starts at."""
    if stage == 0:
        return k_es
    return jax.random.fold_in(k_es, config.strategy_schedule[stage - 1][0])

"""Phases of a training schedule: the tasks per generation and the task options of the
training fitness at a generation (``TrainConfig.schedule`` entries ``[generation, tasks]`` or
``[generation, tasks, {options}]``; e.g. the 9x9 hour's 40-step cap lifted at generation
4,000). A generation's compiled step depends on both; validation keeps ``task_kwargs``."""

from __future__ import annotations

import json
from typing import Any

from hebbjax.config import TrainConfig
from hebbjax.tasks import make_task


def phase_key(config: TrainConfig, generation: int) -> tuple[int, str]:
    """What a generation's compiled step depends on: its tasks and task options."""
    options = json.dumps(config.task_options_at(generation), sort_keys=True)
    return config.tasks_at(generation), options


def task_at(config: TrainConfig, task: Any, generation: int) -> Any:
    """The task whose fitness trains ``generation`` (``task``, built from
    ``config.task_kwargs``, unless the schedule gives that generation other options)."""
    options = config.task_options_at(generation)
    return task if options == config.task_kwargs else make_task(config.task, **options)

"""hebbjax: evolving plasticity rules and plastic recurrent networks in JAX.

The public API, imported lazily (``import hebbjax`` costs nothing until a name is used)::

    import hebbjax

    task = hebbjax.make_task("maze9")
    model = hebbjax.make_model("decprnn-postdn", n_in=task.n_in, n_out=task.n_out)
    config = hebbjax.TrainConfig(task="maze9", model="decprnn-postdn", generations=50)
    result = hebbjax.train(config, "runs/demo")
    summary = hebbjax.summarize(hebbjax.evaluate(model, task, result.best_params, "test"))

Registries (``MODELS``, ``TASKS``, ``RULES``, ``STRATEGIES``) accept new entries from user
code (``hebbjax.RULES.register("my-rule", my_rule)``); training, evaluation and resuming
see them.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

_EXPORTS = {
    "MODELS": "hebbjax.models",
    "make_model": "hebbjax.models",
    "model_summary": "hebbjax.models",
    "Model": "hebbjax.models.base",
    "n_gene": "hebbjax.models.base",
    "TASKS": "hebbjax.tasks",
    "make_task": "hebbjax.tasks",
    "task_summary": "hebbjax.tasks",
    "Task": "hebbjax.tasks.base",
    "TaskSet": "hebbjax.tasks.base",
    "TaskWords": "hebbjax.tasks.base",
    "Episodes": "hebbjax.tasks.lifetime",
    "LifetimeResult": "hebbjax.tasks.lifetime",
    "Probe": "hebbjax.tasks.lifetime",
    "episodic_lifetime": "hebbjax.tasks.lifetime",
    "gymnax_task": "hebbjax.tasks.gymnax_task",
    "RULES": "hebbjax.rules",
    "PlasticityRule": "hebbjax.rules",
    "PlasticState": "hebbjax.rules",
    "STRATEGIES": "hebbjax.evolution.strategies",
    "make_strategy": "hebbjax.evolution.strategies",
    "TrainConfig": "hebbjax.config",
    "PRESETS": "hebbjax.config",
    "train": "hebbjax.evolution.train",
    "TrainResult": "hebbjax.evolution.train",
    "evaluate": "hebbjax.rollout",
    "evaluate_sets": "hebbjax.rollout",
    "summarize": "hebbjax.rollout",
    "load_genome": "hebbjax.models.genome_io",
    "save_genome_npz": "hebbjax.models.genome_io",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        value = getattr(importlib.import_module(_EXPORTS[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'hebbjax' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*globals(), *_EXPORTS])

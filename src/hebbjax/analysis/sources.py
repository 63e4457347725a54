"""The genomes an analysis looks at: a run's best or mean genome, or a genome file (the
paper's released DecPRNN(PostDN), ``paper:decprnn-postdn``), with the model and task they
belong to.

A ``Subject`` is what every analysis takes: a label for legends, the model and its genome,
and the task it was trained on (name and options), so an analysis can rebuild that task or a
variant of it (``task_for``: 8 rollouts, another maze size, a longer ant lifetime).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any, NamedTuple

from hebbjax.errors import DataError, RunError
from hebbjax.models.base import Model, Params


class Subject(NamedTuple):
    """A genome to analyse.

    Attributes:
        label: how legends and titles name it.
        model_name, model_kwargs: the registered model and its options.
        model: the network.
        params: the genome.
        task_name, task_kwargs: the task it was trained on and its options.
        source: where it came from (a run directory or a genome file).
    """

    label: str
    model_name: str
    model_kwargs: Mapping[str, Any]
    model: Model
    params: Params
    task_name: str
    task_kwargs: Mapping[str, Any]
    source: str


def ready(task: Any) -> Any:
    """``task`` with its environment's lazily built state built now, outside any trace.

    A workaround: the Brax ant builds its physics on first use (``BraxAnt.physics``, an
    ``lru_cache``d ``make_ant``); built first inside a jitted lifetime, the cached arrays
    are tracers and the next traced lifetime (another ``Probe``) fails with an
    ``UnexpectedTracerError``.
    """
    getattr(task.env, "physics", None)
    return task


def task_for(subject: Subject, name: str | None = None, **overrides: Any):
    """The subject's training task (or task ``name``) with its options plus ``overrides``.

    The options of the training task that the other task does not take are dropped (an ant
    run's ``backend`` goes to every ant task; a maze run's ``r_slot`` to every maze task).
    """
    from hebbjax.options import accepted
    from hebbjax.tasks import TASKS, make_task

    name = name or subject.task_name
    named, open_ended = accepted(TASKS.get(name))
    kwargs = {k: v for k, v in subject.task_kwargs.items() if open_ended or k in named}
    kwargs.pop("name", None)
    return ready(make_task(name, **(kwargs | overrides)))


def _build(model_name: str, model_kwargs: Mapping[str, Any], task) -> Model:
    from hebbjax.models import make_model

    return make_model(
        model_name, n_in=task.n_in, n_out=task.n_out, **dict(model_kwargs)
    )


def from_run(
    run_dir: str | Path,
    which: str = "best",
    label: str | None = None,
    model_kwargs: Mapping[str, Any] | None = None,
):
    """The ``which`` ("best" or "mean") genome of a run directory written by ``train``.

    ``model_kwargs`` override the run's own model options (e.g. ``plastic_form="direct"``
    to read the plastic weights of a run trained in the factored form: the same genome)."""
    from hebbjax.config import TrainConfig
    from hebbjax.evolution.run_files import CONFIG
    from hebbjax.models.genome_io import load_genome
    from hebbjax.tasks import make_task

    run_dir = Path(run_dir)
    if which not in ("best", "mean"):
        raise RunError(f"unknown genome {which!r}; valid: best, mean")
    if not (run_dir / CONFIG).is_file():
        raise RunError(f"no hebbjax run in {run_dir} (missing {CONFIG})")
    # the run's plugins (config.plugins) are the caller's to import (the CLI does)
    config = TrainConfig.from_file(run_dir / CONFIG)
    genome_file = run_dir / f"{which}_genome.npz"
    if not genome_file.is_file():
        raise RunError(f"run {run_dir} has no {genome_file.name} yet")
    task = make_task(config.task, **config.task_kwargs)
    options = {**config.model_kwargs, **(model_kwargs or {})}
    model = _build(config.model, options, task)
    params = load_genome(genome_file, model, fmt="npz")
    return Subject(
        label=label or f"{config.model} ({run_dir.name}, {which})",
        model_name=config.model,
        model_kwargs=options,
        model=model,
        params=params,
        task_name=config.task,
        task_kwargs=dict(config.task_kwargs),
        source=str(run_dir),
    )


def from_genome(
    genome: str,
    model_name: str | None = None,
    task_name: str | None = None,
    model_kwargs: Mapping[str, Any] | None = None,
    fmt: str = "auto",
    label: str | None = None,
) -> Subject:
    """A genome file (``.npy`` flat, ``.npz`` named) or a packaged ``paper:...`` genome.

    A packaged genome knows its model and task (``hebbjax.data.GENOME_MODELS``); a file
    needs ``model_name`` (and ``task_name``, default "maze").
    """
    from hebbjax import data
    from hebbjax.models.genome_io import load_genome
    from hebbjax.tasks import make_task

    path = data.path(genome)
    if data.is_named(genome) and genome in data.GENOME_MODELS:
        default_model, default_task = data.GENOME_MODELS[genome]
        model_name = model_name or default_model
        task_name = task_name or default_task
    if model_name is None:
        raise DataError(f"genome {genome} needs a model name (hebbjax models)")
    task_name = task_name or "maze"
    task = make_task(task_name)
    model = _build(model_name, model_kwargs or {}, task)
    params = load_genome(path, model, fmt=fmt)
    return Subject(
        label=label or f"{model_name} ({genome})",
        model_name=model_name,
        model_kwargs=dict(model_kwargs or {}),
        model=model,
        params=params,
        task_name=task_name,
        task_kwargs={},
        source=str(genome),
    )


def describe(subject: Subject) -> str:
    """``decprnn-postdn (paper:decprnn-postdn), trained on maze15`` for titles."""
    return f"{subject.label}, trained on {subject.task_name}"

"""The training driver: a Python loop around jitted generations, resumable to the bit.

What a run leaves in its directory is described in ``evolution/run_files.py``; every file is
written atomically and ``checkpoint.npz`` last, so a run killed at any moment (or stopped by
``stop()``, e.g. on SIGINT/SIGTERM) continues with ``resume=True`` to the same final genomes
and metrics as an uninterrupted run. A checkpoint exists from generation 0 on.

Randomness is a pure function of (seed, generation): generation g uses
``fold_in(k_run, g)``, validation always the same ``k_val``.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import math
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, NamedTuple

import jax
import numpy as np

from hebbjax.checkpoint import (
    CheckpointError,
    atomic_write_bytes,
    flatten_named,
    load_checkpoint,
    save_checkpoint,
    unflatten_named,
)
from hebbjax.config import TrainConfig
from hebbjax.errors import ConfigError
from hebbjax.evolution.loop import make_generation_step, make_validator
from hebbjax.evolution.phases import (
    checkpoint_stage,
    make_stage,
    phase_key,
    stage_key,
    stage_of,
    strategy_stage,
    task_at,
)
from hebbjax.evolution.run_files import (
    CHECKPOINT,
    CONFIG,
    GENOMES,
    INIT_GENOME,
    METRICS,
    MetricsLog,
    RunLock,
    check_new_run_dir,
    check_resume,
    load_init_genome,
    make_run_dir,
    read_metrics,
    remove_stale_temporaries,
)
from hebbjax.evolution.starts import count_work, kept_seed, train_starts
from hebbjax.evolution.strategies import make_strategy
from hebbjax.models import make_model
from hebbjax.models.base import Model, n_gene
from hebbjax.models.genome_io import save_genome_npz
from hebbjax.parallel import agree, global_mesh, is_writer, replicate_on
from hebbjax.rollout import n_tasks_of
from hebbjax.tasks import make_task
from hebbjax.tasks.base import Task

__all__ = [
    "CHECKPOINT",
    "CONFIG",
    "METRICS",
    "TIMING_FIELDS",
    "RunSetup",
    "TrainResult",
    "build_run",
    "read_metrics",
    "train",
]

# Fields of a metrics record that measure the machine, not the science.
TIMING_FIELDS = (
    "wall_seconds",
    "env_steps_per_s",
    "compile_seconds",
    "elapsed_seconds",
)


class RunSetup(NamedTuple):
    model: Model
    task: Task
    es: Any
    es_params: Any
    init_params: Any


class TrainResult(NamedTuple):
    mean_params: Any
    best_params: Any
    best_score: float
    best_generation: int
    history: list[dict]
    interrupted: bool = False


def build_run(config: TrainConfig, init_params: Any = None) -> RunSetup:
    """Model, task and strategy of a config (raises ValueError on bad names or options).

    ``init_params`` overrides the initial genome (e.g. a merged genome, ``hebbjax merge``).
    """
    task = make_task(config.task, **config.task_kwargs)
    for entry in config.schedule:  # a curriculum's options fail here, not hours later
        task_at(config, task, entry[0])
    model = make_model(
        config.model, n_in=task.n_in, n_out=task.n_out, **config.model_kwargs
    )
    if init_params is None and config.init is not None:
        init_params = load_init_genome(config.init, model)
    if init_params is None:
        init_params = model.init_params(jax.random.key(config.seed))
    es, es_params = make_strategy(
        config.strategy,
        config.population,
        init_params,
        std_init=config.sigma0,
        **config.strategy_kwargs,
    )
    for stage in range(1, len(config.strategy_schedule) + 1):
        make_stage(config, stage, init_params)  # a later stage's options fail now
    return RunSetup(model, task, es, es_params, init_params)


def run_keys(seed: int) -> tuple[jax.Array, jax.Array, jax.Array]:
    """``(k_es, k_run, k_val)`` of a run: the strategy's init, the generations (generation
    g uses ``fold_in(k_run, g)``) and validation."""
    return tuple(jax.random.split(jax.random.fold_in(jax.random.key(seed), 1), 3))


def _to_python(tree: Any) -> Any:
    def convert(x):
        a = np.asarray(x)
        if a.ndim == 0:
            v = a.item()
            return None if isinstance(v, float) and not math.isfinite(v) else v
        return [None if not math.isfinite(v) else v for v in a.astype(float).tolist()]

    return jax.tree.map(convert, tree)


def train(
    config: TrainConfig,
    out_dir: str | Path,
    *,
    resume: bool = False,
    progress_fn: Callable[[int, dict], None] | None = None,
    use_all_devices: bool = True,
    init_params: Any = None,
    stop: Callable[[], bool] | None = None,
) -> TrainResult:
    """Run (or continue) evolution as configured, writing everything to ``out_dir``.

    Args:
        config: the run.
        out_dir: the run directory (created; must not hold another run unless resuming).
        resume: continue the run in ``out_dir`` (``config`` may only extend
            ``generations`` and change how it reports: loggers, plugins).
        progress_fn: ``(generation, record)`` after every generation.
        use_all_devices: shard the population over every local device.
        init_params: the initial genome (default: the model's init from ``config.seed``).
        stop: polled after every generation; when it returns True the run writes a
            checkpoint and returns with ``interrupted=True``.
    """
    out = Path(out_dir)
    if config.starts > 1:  # the best of several starts first (hebbjax.evolution.starts)
        progress_fn = count_work(config, progress_fn)
        if not (out / CHECKPOINT).is_file():
            interrupted = train_starts(
                config,
                out,
                train,
                resume=resume,
                progress_fn=progress_fn,
                use_all_devices=use_all_devices,
                init_params=init_params,
                stop=stop,
            )
            if interrupted is not None:
                return interrupted
            resume = True
    failure: Exception | None = None
    try:
        if resume and not (out / CHECKPOINT).is_file():
            # killed before its first checkpoint: nothing was computed, start it again
            if (out / CONFIG).is_file() and not read_metrics(out):
                resume = False
            else:
                raise CheckpointError(f"nothing to resume: no {CHECKPOINT} in {out}")
        elif not resume:
            check_new_run_dir(out)
    except ValueError as err:
        failure = err
    agree(failure)
    # a resume takes its state from the checkpoint: the starting genome is not read again
    begin = dataclasses.replace(config, init=None) if resume else config
    setup = build_run(begin, init_params)
    model, task, es, es_params = setup.model, setup.task, setup.es, setup.es_params
    n_sets = n_tasks_of(task.validation_set())
    if config.n_validation > n_sets:
        raise ConfigError(
            f"n_validation {config.n_validation} exceeds the {n_sets} tasks of "
            f"{config.task}'s validation set"
        )
    mesh = global_mesh() if use_all_devices else None
    make_run_dir(out)
    with RunLock(out) if is_writer() else contextlib.nullcontext():
        return _train_locked(
            config,
            out,
            setup,
            model,
            task,
            es,
            es_params,
            mesh,
            resume,
            progress_fn,
            stop,
        )


def _train_locked(
    config, out, setup, model, task, es, es_params, mesh, resume, progress_fn, stop
):
    writer = is_writer()  # process 0 alone writes the run directory
    if writer:
        remove_stale_temporaries(out)
    k_es, k_run, k_val = run_keys(kept_seed(out, config))
    start, best_score, best_gen = 0, -math.inf, -1
    best_params = setup.init_params
    if resume:
        arrays, meta = load_checkpoint(out / CHECKPOINT)
        start = int(meta["generation"])
        check_resume(meta.get("config", {}), config, out, start)
    # the strategy stage the checkpoint's state belongs to (hebbjax.evolution.phases)
    stage = checkpoint_stage(config, start)
    if stage:
        es, es_params = make_stage(config, stage, setup.init_params)
    es_state = es.init(stage_key(k_es, config, stage), setup.init_params, es_params)
    if resume:
        es_state = unflatten_named(es_state, arrays, "es_state")
        best_params = unflatten_named(best_params, arrays, "best_params")
        if meta["best_score"] is not None:
            best_score = float(meta["best_score"])
        best_gen = int(meta["best_generation"])
        history = [r for r in read_metrics(out) if r["generation"] < start]
    else:
        history = []
    # the generation returns its state replicated over the mesh: start it there, so the
    # second generation does not compile again for another sharding
    es_state = replicate_on(es_state, mesh)
    if writer:
        if config.init is not None and not resume:
            save_genome_npz(out / INIT_GENOME, setup.init_params)
        atomic_write_bytes(out / CONFIG, config.to_json().encode())
    log = MetricsLog(out, config.loggers, json.loads(config.to_json()), writer)
    log.start(history)

    validation_set = jax.tree.map(
        lambda x: x[: config.n_validation], task.validation_set()
    )
    validate = make_validator(model, task, config.validation_repeats, mesh)
    jitted_mean = jax.jit(es.get_mean)  # the current stage's (rebound at a switch)

    def get_mean(state):
        # one awaited program, not one small dispatch per genome leaf: dozens of queued
        # multi-device programs ahead of the validator's collectives can deadlock
        # XLA:CPU's dispatch pool (see rollout.evaluate)
        return jax.block_until_ready(jitted_mean(state))

    def checkpoint(generation: int) -> None:
        # genomes first, the checkpoint last: it is the commit point
        mean = get_mean(es_state)  # every process takes part in the computation
        if not writer:
            return
        save_genome_npz(out / GENOMES[0], best_params)
        save_genome_npz(out / GENOMES[1], mean)
        arrays = flatten_named(es_state, "es_state")
        arrays |= flatten_named(best_params, "best_params")
        meta = dict(
            generation=generation,
            best_score=None if not math.isfinite(best_score) else best_score,
            best_generation=best_gen,
            config=json.loads(config.to_json()),
            n_gene=n_gene(model),
        )
        if hasattr(es, "n_genes"):  # a strategy that evolves other numbers (gmm-es)
            meta["strategy_genes"] = es.n_genes
        save_checkpoint(out / CHECKPOINT, arrays, meta)

    def run_validation(generation: int) -> dict:
        nonlocal best_score, best_params, best_gen
        mean = get_mean(es_state)
        record = _to_python(validate(mean, validation_set, k_val))
        if record["score"] is not None and record["score"] > best_score:
            best_score, best_params, best_gen = record["score"], mean, generation
        return record

    # the files derived from the checkpoint are rewritten from it: never stale
    checkpoint(start)
    steps: dict[tuple[int, int, str], Any] = {}  # phase_key -> compiled generation
    t_start = time.perf_counter()
    interrupted = False
    try:
        for generation in range(start, config.generations):
            record: dict[str, Any] = {"generation": generation}
            if generation % config.validate_every == 0:
                record["validation"] = run_validation(generation)
            if strategy_stage(config, generation) != stage:
                # the next outer loop starts where this one's mean stands
                mean = get_mean(es_state)
                stage = strategy_stage(config, generation)
                es, es_params = make_stage(config, stage, mean)
                settings = stage_of(config, stage)
                if not settings.continues:
                    key = stage_key(k_es, config, stage)
                    es_state = replicate_on(es.init(key, mean, es_params), mesh)
                jitted_mean = jax.jit(es.get_mean)
                record["strategy"] = settings.strategy
                record["population"] = settings.population
            n_tasks = config.tasks_at(generation)
            phase = phase_key(config, generation)
            key = jax.random.fold_in(k_run, generation)
            compile_seconds = 0.0
            if phase not in steps:
                t0 = time.perf_counter()
                fitness_task = task_at(config, task, generation)
                fn = make_generation_step(
                    es, es_params, model, fitness_task, n_tasks, config.repeats, mesh
                )
                # compiled ahead to time the compilation; the jitted function reuses
                # that executable (calling the AOT object itself fails when the step
                # closes over large constants, e.g. a Brax system: hoisted const args)
                fn.lower(es_state, key).compile()
                steps[phase] = fn
                compile_seconds = time.perf_counter() - t0
            t0 = time.perf_counter()
            es_state, metrics = steps[phase](es_state, key)
            metrics = jax.block_until_ready(metrics)
            wall = time.perf_counter() - t0
            record |= _to_python(metrics)
            record |= dict(
                n_tasks=n_tasks,
                wall_seconds=wall,
                compile_seconds=compile_seconds,
                env_steps_per_s=record["env_steps"] / wall,
                elapsed_seconds=time.perf_counter() - t_start,
            )
            history.append(record)
            log.append(record, history)
            done = generation + 1
            interrupted = stop is not None and stop() and done < config.generations
            if done == config.generations:
                history[-1]["final_validation"] = run_validation(done)
                log.rewrite(history)
                checkpoint(done)
            elif done % config.checkpoint_every == 0 or interrupted:
                checkpoint(done)
            if progress_fn is not None:
                progress_fn(generation, record)
            if interrupted:
                break
    finally:
        log.close()
    return TrainResult(
        mean_params=get_mean(es_state),
        best_params=best_params,
        best_score=best_score,
        best_generation=best_gen,
        history=history,
        interrupted=interrupted,
    )

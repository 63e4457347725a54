"""The training driver: a Python loop around jitted generations, resumable to the bit.

What a run leaves in its directory:

- ``config.json``: the ``TrainConfig``;
- ``metrics.jsonl``: one JSON object per generation (fitness statistics, per-rollout returns and
  goal rates, step size, non-finite count, environment steps, wall time, throughput, compile time,
  and the validation record on validation generations);
- ``checkpoint.npz``: everything needed to continue (strategy state, generation, best genome by
  validation score), plain arrays written atomically;
- ``best_genome.npz`` / ``mean_genome.npz``: genomes as named arrays, for ``hebbjax eval``.

Randomness is a pure function of (seed, generation), so a run killed at any moment and resumed
from its last checkpoint reaches the same final genome and metrics as an uninterrupted run.
"""

from __future__ import annotations

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
from hebbjax.evolution.loop import make_generation_step, make_validator
from hebbjax.evolution.strategies import make_strategy
from hebbjax.models import make_model
from hebbjax.models.base import Model, n_gene
from hebbjax.models.genome_io import save_genome_npz
from hebbjax.parallel import local_mesh
from hebbjax.tasks import make_task
from hebbjax.tasks.base import Task

CHECKPOINT = "checkpoint.npz"
METRICS = "metrics.jsonl"
CONFIG = "config.json"
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


def build_run(config: TrainConfig, init_params: Any = None) -> RunSetup:
    """Model, task and strategy of a config (raises ValueError on bad names).

    ``init_params`` overrides the initial genome (e.g. a merged genome, ``hebbjax merge``).
    """
    task = make_task(config.task, **config.task_kwargs)
    model = make_model(
        config.model, n_in=task.n_in, n_out=task.n_out, **config.model_kwargs
    )
    if init_params is None:
        init_params = model.init_params(jax.random.key(config.seed))
    es, es_params = make_strategy(
        config.strategy,
        config.population,
        init_params,
        std_init=config.sigma0,
        **config.strategy_kwargs,
    )
    return RunSetup(model, task, es, es_params, init_params)


def _to_python(tree: Any) -> Any:
    def convert(x):
        a = np.asarray(x)
        if a.ndim == 0:
            v = a.item()
            return None if isinstance(v, float) and not math.isfinite(v) else v
        return [None if not math.isfinite(v) else v for v in a.astype(float).tolist()]

    return jax.tree.map(convert, tree)


def read_metrics(out_dir: str | Path) -> list[dict]:
    """Complete metrics records of a run (a torn last line from a kill is ignored)."""
    path = Path(out_dir) / METRICS
    if not path.exists():
        return []
    records = []
    for line in path.read_text().splitlines():
        try:
            records.append(json.loads(line))
        except json.JSONDecodeError:
            break
    return records


def _append_metrics(path: Path, record: dict) -> None:
    with open(path, "a") as f:
        f.write(json.dumps(record) + "\n")
        f.flush()


def train(
    config: TrainConfig,
    out_dir: str | Path,
    *,
    resume: bool = False,
    progress_fn: Callable[[int, dict], None] | None = None,
    use_all_devices: bool = True,
    init_params: Any = None,
) -> TrainResult:
    """Run (or continue) evolution as configured, writing everything to ``out_dir``."""
    out = Path(out_dir)
    ckpt_path = out / CHECKPOINT
    if resume and not ckpt_path.exists():
        raise CheckpointError(f"nothing to resume: no {CHECKPOINT} in {out}")
    if not resume and ckpt_path.exists():
        raise ValueError(
            f"{out} already holds a run; pass --resume to continue it or choose a new --out"
        )
    setup = build_run(config, init_params)
    model, task, es, es_params = setup.model, setup.task, setup.es, setup.es_params
    mesh = local_mesh() if use_all_devices else None

    root = jax.random.key(config.seed)
    k_es, k_run, k_val = jax.random.split(jax.random.fold_in(root, 1), 3)
    es_state = es.init(k_es, setup.init_params, es_params)
    start, best_score, best_gen = 0, -math.inf, -1
    best_params = setup.init_params

    if resume:
        arrays, meta = load_checkpoint(ckpt_path)
        if meta.get("config") != json.loads(config.to_json()):
            saved = meta.get("config", {})
            diff = sorted(
                k
                for k in set(saved) | set(json.loads(config.to_json()))
                if k != "generations"
                and saved.get(k) != json.loads(config.to_json()).get(k)
            )
            if diff:
                raise CheckpointError(
                    f"checkpoint in {out} was written with a different config "
                    f"(differs in: {', '.join(diff)})"
                )
        es_state = unflatten_named(es_state, arrays, "es_state")
        best_params = unflatten_named(best_params, arrays, "best_params")
        start = int(meta["generation"])
        best_score = (
            float(meta["best_score"]) if meta["best_score"] is not None else -math.inf
        )
        best_gen = int(meta["best_generation"])
        history = [r for r in read_metrics(out) if r["generation"] < start]
        atomic_write_bytes(
            out / METRICS, "".join(json.dumps(r) + "\n" for r in history).encode()
        )
    else:
        out.mkdir(parents=True, exist_ok=True)
        history = []
        (out / METRICS).unlink(missing_ok=True)
    atomic_write_bytes(out / CONFIG, config.to_json().encode())

    validation_set = jax.tree.map(
        lambda x: x[: config.n_validation], task.validation_set()
    )
    validate = make_validator(model, task, config.validation_repeats, mesh)
    jitted_mean = jax.jit(es.get_mean)

    def get_mean(state):
        # one awaited program, not one small dispatch per genome leaf: dozens of queued
        # multi-device programs ahead of the validator's collectives can deadlock
        # XLA:CPU's dispatch pool (see evaluate.evaluate_lifetimes)
        return jax.block_until_ready(jitted_mean(state))

    steps: dict[int, Any] = {}
    t_start = time.perf_counter()

    def checkpoint(generation: int) -> None:
        arrays = flatten_named(es_state, "es_state")
        arrays |= flatten_named(best_params, "best_params")
        meta = dict(
            generation=generation,
            best_score=None if not math.isfinite(best_score) else best_score,
            best_generation=best_gen,
            config=json.loads(config.to_json()),
            n_gene=n_gene(model),
        )
        save_checkpoint(ckpt_path, arrays, meta)
        save_genome_npz(out / "best_genome.npz", best_params)
        save_genome_npz(out / "mean_genome.npz", get_mean(es_state))

    def run_validation(generation: int) -> dict:
        nonlocal best_score, best_params, best_gen
        mean = get_mean(es_state)
        record = _to_python(validate(mean, validation_set, k_val))
        if record["score"] is not None and record["score"] > best_score:
            best_score, best_params, best_gen = record["score"], mean, generation
        return record

    for generation in range(start, config.generations):
        record: dict[str, Any] = {"generation": generation}
        if generation % config.validate_every == 0:
            record["validation"] = run_validation(generation)
        n_tasks = config.tasks_at(generation)
        key = jax.random.fold_in(k_run, generation)
        compile_seconds = 0.0
        if n_tasks not in steps:
            t0 = time.perf_counter()
            fn = make_generation_step(
                es, es_params, model, task, n_tasks, config.repeats, mesh
            )
            steps[n_tasks] = fn.lower(es_state, key).compile()
            compile_seconds = time.perf_counter() - t0
        t0 = time.perf_counter()
        es_state, metrics = steps[n_tasks](es_state, key)
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
        _append_metrics(out / METRICS, record)
        done = generation + 1
        if done % config.checkpoint_every == 0 or done == config.generations:
            if done == config.generations:
                history[-1]["final_validation"] = run_validation(done)
                atomic_write_bytes(
                    out / METRICS,
                    "".join(json.dumps(r) + "\n" for r in history).encode(),
                )
            checkpoint(done)
        if progress_fn is not None:
            progress_fn(generation, record)

    return TrainResult(
        mean_params=get_mean(es_state),
        best_params=best_params,
        best_score=best_score,
        best_generation=best_gen,
        history=history,
    )

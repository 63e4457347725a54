"""Best of several starts: ``TrainConfig.starts`` independent searches to ``select_at``, then
the one whose mean genome scores best on validation goes on alone.

A restart strategy against a multimodal fitness (IPOP-CMA-ES restarts a search that has
stalled, Auger & Hansen 2005; here the searches run to a fixed generation and the best is
kept). On the 9x9 maze the search settles early in one of two regions: two seeds in seven
return to the goal on long paths and end near +0.5 where the others reach +0.77, and the two
kinds are told apart by generation 2,000-2,500 (``benchmarks/time_to_quality_late.py``).

Start k is a whole run of seed ``seed + k`` in ``<run>/starts/<k>/`` (resumable, readable with
``hebbjax eval --run``), stopped at ``select_at``. The kept start's files become the run's
(its checkpoint last: the commit point), ``starts.json`` records every start's validation
score, and the run goes on with the kept start's keys: what it computes is exactly what a
run of that seed alone computes. A run killed at any moment resumes to the same result.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

from hebbjax.checkpoint import atomic_write_bytes, load_checkpoint, save_checkpoint
from hebbjax.config import TrainConfig
from hebbjax.evolution.run_files import (
    CHECKPOINT,
    CONFIG,
    GENOMES,
    INIT_GENOME,
    METRICS,
    STARTS,
    RunLock,
    check_new_run_dir,
    check_resume,
    make_run_dir,
    read_metrics,
)
from hebbjax.parallel import agree, is_writer

STARTS_RECORD = "starts.json"


def start_config(config: TrainConfig, k: int) -> TrainConfig:
    """Start ``k``'s own run: seed ``seed + k``, stopped at ``select_at`` (its metrics in
    ``metrics.jsonl`` alone: the run's loggers write the run's own records)."""
    return dataclasses.replace(
        config,
        seed=config.seed + k,
        generations=config.select_at,
        starts=1,
        select_at=0,
        loggers=(),
    )


def kept_seed(out: Path, config: TrainConfig) -> int:
    """The seed whose keys the run uses: the kept start's, once the starts are done."""
    record = out / STARTS_RECORD
    if config.starts == 1 or not record.is_file():
        return config.seed
    return int(json.loads(record.read_text())["seed"])


def generations_done(out: Path, config: TrainConfig) -> int:
    """Generations a run in ``out`` has trained, its starts' included (a progress bar's)."""
    done = len(read_metrics(out))
    if config.starts == 1 or (out / CHECKPOINT).is_file():
        return done + (config.starts - 1) * config.select_at
    return sum(len(read_metrics(out / STARTS / str(k))) for k in range(config.starts))


def start_score(history: list[dict]) -> float:
    """A finished start's validation score at ``select_at`` (-inf where not finite)."""
    score = history[-1].get("final_validation", {}).get("score") if history else None
    return -math.inf if score is None else float(score)


def count_work(config: TrainConfig, progress_fn: Callable | None) -> Callable | None:
    """``progress_fn`` with each record's ``work``: generations trained in all, the
    starts' counted before the run's own (a start's records carry theirs already)."""
    if progress_fn is None:
        return None
    before = (config.starts - 1) * config.select_at

    def progress(generation: int, record: dict) -> None:
        if "start" not in record:
            record = record | {"work": before + generation + 1}
        progress_fn(generation, record)

    return progress


def train_starts(
    config: TrainConfig, out: Path, train_fn, *, resume: bool, **train_kwargs: Any
) -> Any:
    """Train every start to ``select_at`` (resuming those begun), under the run's lock,
    and make the best one the run in ``out``. ``train_fn`` is ``train``; returns the
    interrupted start's result, or None when the run in ``out`` is ready to go on."""
    failure: Exception | None = None
    try:
        if not resume:
            check_new_run_dir(out)
        elif (out / CONFIG).is_file():  # the starts may not change under a resume
            check_resume(json.loads((out / CONFIG).read_text()), config, out, 0)
    except ValueError as err:
        failure = err
    agree(failure)
    make_run_dir(out)
    with RunLock(out) if is_writer() else contextlib.nullcontext():
        interrupted = _run_starts(config, out, train_fn, **train_kwargs)
    agree(None)  # every process waits for the kept start's files
    return interrupted


def _run_starts(config: TrainConfig, out: Path, train_fn, **train_kwargs: Any) -> Any:
    progress_fn = train_kwargs.pop("progress_fn", None)
    if is_writer():
        atomic_write_bytes(out / CONFIG, config.to_json().encode())
    scores = []
    for k in range(config.starts):
        run = out / STARTS / str(k)

        def progress(generation: int, record: dict, k: int = k) -> None:
            if progress_fn is not None:
                work = k * config.select_at + generation + 1
                progress_fn(generation, record | {"start": k, "work": work})

        result = train_fn(
            start_config(config, k),
            run,
            resume=(run / CONFIG).is_file(),
            progress_fn=progress,
            **train_kwargs,
        )
        if result.interrupted:
            return result
        scores.append(start_score(result.history))
    kept = max(range(config.starts), key=lambda k: (scores[k], -k))
    if is_writer():
        _install(config, out, kept, scores)
    return None


def _install(config: TrainConfig, out: Path, kept: int, scores: list[float]) -> None:
    """The kept start's files as the run's; its checkpoint, written last, commits it."""
    source = out / STARTS / str(kept)
    for name in (*GENOMES, INIT_GENOME):
        if (source / name).is_file():
            atomic_write_bytes(out / name, (source / name).read_bytes())
    atomic_write_bytes(out / METRICS, (source / METRICS).read_bytes())
    record = dict(
        select_at=config.select_at,
        seeds=[config.seed + k for k in range(config.starts)],
        scores=[None if not math.isfinite(s) else s for s in scores],
        kept=kept,
        seed=config.seed + kept,
    )
    atomic_write_bytes(out / STARTS_RECORD, json.dumps(record, indent=1).encode())
    arrays, meta = load_checkpoint(source / CHECKPOINT)
    meta["config"] = json.loads(config.to_json())
    save_checkpoint(out / CHECKPOINT, arrays, meta)

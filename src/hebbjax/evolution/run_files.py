"""A run directory: what ``train`` writes, in an order that survives a kill at any moment.

Files (all written atomically: temporary file, fsync, rename; readable as the umask allows):

- ``config.json``: the ``TrainConfig``;
- ``metrics.jsonl``: one JSON object per generation (appended; a torn last line is ignored);
- ``metrics.csv`` and ``tensorboard/`` (``TrainConfig.loggers``): the same records;
- ``best_genome.npz`` / ``mean_genome.npz``: genomes as named arrays, for ``hebbjax eval``;
- ``init_genome.npz`` (``TrainConfig.init``): the genome the run started from, copied when
  it starts (the run's record of its start; a resume needs only the checkpoint);
- ``checkpoint.npz``: everything needed to continue. It is written **last** at every
  checkpoint, so it is the commit point: the other files are derived from the state it holds
  (genomes) or cut back to it (metrics) when a run resumes, and a run killed at any moment
  resumes to exactly the files of an uninterrupted run.

A run holds ``.lock`` (an ``flock``) while it runs, so two processes never write one
directory. Stale temporary files of a killed write are removed when a run starts.
"""

from __future__ import annotations

import csv
import dataclasses
import fcntl
import io
import json
import math
import os
from pathlib import Path
from typing import Any

from hebbjax.checkpoint import CheckpointError, atomic_write_bytes
from hebbjax.config import PRESENTATION, TrainConfig
from hebbjax.errors import DataError, RunError

CHECKPOINT = "checkpoint.npz"
METRICS = "metrics.jsonl"
CONFIG = "config.json"
CSV = "metrics.csv"
TENSORBOARD = "tensorboard"
LOCK = ".lock"
GENOMES = ("best_genome.npz", "mean_genome.npz")
INIT_GENOME = "init_genome.npz"
STARTS = "starts"  # the starts' own runs (hebbjax.evolution.starts)
RUN_FILES = (CHECKPOINT, METRICS, CONFIG, CSV, *GENOMES, INIT_GENOME)


def check_new_run_dir(out: Path) -> None:
    """A ``RunError`` when ``out`` cannot hold a new run (a file, or a directory that
    already holds a run or a run's results). A run killed before its first checkpoint
    is started again with ``--resume``."""
    if out.exists() and not out.is_dir():
        raise RunError(f"--out {out} is a file, not a directory")
    if (out / CHECKPOINT).exists():
        raise RunError(
            f"{out} already holds a run; pass --resume to continue it or choose a new --out"
        )
    if (out / STARTS).is_dir():  # killed before it kept one of its starts
        raise RunError(
            f"{out} holds a run stopped while its starts ran; pass --resume to continue "
            "it or choose a new --out"
        )
    leftovers = [name for name in RUN_FILES if (out / name).exists()]
    if leftovers:
        raise RunError(
            f"{out} holds a run's files ({', '.join(leftovers)}) but no checkpoint; "
            "choose a new --out or remove them"
        )


#: the settings a resumed run may change: how it reports, and ``generations`` (to extend it)
RESUME_MAY_CHANGE = (*PRESENTATION, "generations")


def check_resume(saved: dict, config: TrainConfig, out: Path, done: int) -> None:
    """A ``RunError`` naming every setting ``config`` changes in the run it resumes
    (``saved``: the run's saved config, ``done``: its generations so far)."""
    fields = {f.name for f in dataclasses.fields(TrainConfig)}
    try:
        saved_config = TrainConfig.from_dict(
            {k: v for k, v in saved.items() if k in fields}
        )
    except ValueError as err:
        raise CheckpointError(
            f"checkpoint in {out} has an unreadable config: {err}"
        ) from None
    changed = saved_config.differences(config, ignore=RESUME_MAY_CHANGE)
    if changed:
        raise RunError(
            f"--resume continues the run in {out} as configured; these settings differ "
            f"from it: {', '.join(changed)}"
        )
    if config.generations < done:
        raise RunError(
            f"the run in {out} has done {done} generations; --generations "
            f"{config.generations} would shorten it (give at least {done})"
        )


def make_run_dir(out: Path) -> None:
    """Create the run directory (process 0 of a multi-process run), every process told
    when it cannot be."""
    from hebbjax.parallel import agree, is_writer

    failure = None
    try:
        if is_writer():
            out.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        failure = RunError(f"cannot create the run directory {out}: {err.strerror}")
    agree(failure)


class RunLock:
    """An exclusive ``flock`` on ``<run>/.lock`` for the life of a run."""

    def __init__(self, out: Path):
        self.path = out / LOCK
        self.file: Any = None

    def __enter__(self) -> RunLock:
        self.file = open(self.path, "a+")
        try:
            fcntl.flock(self.file, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            self.file.seek(0)
            holder = self.file.read().strip() or "another process"
            self.file.close()
            raise RunError(
                f"{self.path.parent} is in use by {holder}; wait for it or choose a "
                "new --out"
            ) from None
        self.file.seek(0)
        self.file.truncate()
        self.file.write(f"pid {os.getpid()}")
        self.file.flush()
        return self

    def __exit__(self, *exc: Any) -> None:
        fcntl.flock(self.file, fcntl.LOCK_UN)
        self.file.close()


def remove_stale_temporaries(out: Path) -> None:
    """Delete ``.<name>.*.tmp`` files left by a write that was killed."""
    for tmp in out.glob(".*.tmp"):
        tmp.unlink(missing_ok=True)


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


def _flat(record: dict, prefix: str = "") -> dict[str, Any]:
    """``{"validation": {"score": 1}, "return_mean": [1, 2]}`` ->
    ``{"validation/score": 1, "return_mean/0": 1, "return_mean/1": 2}``."""
    out: dict[str, Any] = {}
    for key, value in record.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            out |= _flat(value, f"{name}/")
        elif isinstance(value, list):
            out |= {f"{name}/{i}": v for i, v in enumerate(value)}
        else:
            out[name] = value
    return out


def csv_text(history: list[dict]) -> str:
    """The metrics records as CSV, one row per generation, nested fields flattened."""
    rows = [_flat(r) for r in history]
    columns: list[str] = []
    for row in rows:
        columns += [c for c in row if c not in columns]
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return buf.getvalue()


class MetricsLog:
    """``metrics.jsonl`` and the optional writers (CSV, TensorBoard, W&B) of a run."""

    def __init__(
        self, out: Path, loggers: tuple[str, ...], config: dict, enabled: bool = True
    ):
        self.out = out
        self.enabled = enabled  # False on every process but 0 of a multi-process run
        self.loggers = loggers if enabled else ()
        self.config = config
        self.tensorboard: Any = None
        self.wandb: Any = None

    def start(self, history: list[dict]) -> None:
        """Rewrite every file to ``history`` (the records before the resumed generation)."""
        if not self.enabled:
            return
        atomic_write_bytes(
            self.out / METRICS, "".join(json.dumps(r) + "\n" for r in history).encode()
        )
        if "csv" in self.loggers:
            atomic_write_bytes(self.out / CSV, csv_text(history).encode())
        if "tensorboard" in self.loggers:
            try:
                from tensorboardX import SummaryWriter
            except ImportError:
                raise RunError(
                    "the tensorboard logger needs tensorboardX: pip install tensorboardX"
                ) from None
            # purge_step drops events a killed run wrote after its last checkpoint
            start = history[-1]["generation"] + 1 if history else 0
            self.tensorboard = SummaryWriter(
                str(self.out / TENSORBOARD), purge_step=start, flush_secs=10
            )
        if "wandb" in self.loggers:
            try:
                import wandb
            except ImportError:
                raise RunError(
                    "the wandb logger needs wandb: pip install wandb"
                ) from None
            self.wandb = wandb.init(
                dir=str(self.out), config=self.config, resume="allow",
                id=self.out.resolve().name,
            )  # fmt: skip

    def append(self, record: dict, history: list[dict]) -> None:
        if not self.enabled:
            return
        with open(self.out / METRICS, "a") as f:
            f.write(json.dumps(record) + "\n")
            f.flush()
        if "csv" in self.loggers:
            atomic_write_bytes(self.out / CSV, csv_text(history).encode())
        scalars = {
            k: v
            for k, v in _flat(record).items()
            if isinstance(v, int | float)
            and not isinstance(v, bool)
            and k != "generation"
        }
        if self.tensorboard is not None:
            for name, value in scalars.items():
                if math.isfinite(value):
                    self.tensorboard.add_scalar(name, value, record["generation"])
        if self.wandb is not None:
            self.wandb.log(scalars, step=record["generation"])

    def rewrite(self, history: list[dict]) -> None:
        """Rewrite ``metrics.jsonl`` (and CSV) whole, e.g. after the final validation."""
        if not self.enabled:
            return
        atomic_write_bytes(
            self.out / METRICS, "".join(json.dumps(r) + "\n" for r in history).encode()
        )
        if "csv" in self.loggers:
            atomic_write_bytes(self.out / CSV, csv_text(history).encode())

    def close(self) -> None:
        if self.tensorboard is not None:
            self.tensorboard.close()
        if self.wandb is not None:
            self.wandb.finish()


def load_init_genome(source: str, model: Any) -> Any:
    """The genome ``TrainConfig.init`` names, for ``model``.

    ``source``: a run directory (its final mean genome, ``mean_genome.npz``), a genome
    file (``.npz`` of named tensors as runs write them, or ``.npy`` in the reference
    code's flat layout) or a packaged name (``paper:decprnn-postdn``). A ``DataError``
    names what is wrong (not a run, no genome yet, another model's layout).
    """
    try:
        return _load_init_genome(source, model)
    except DataError as err:
        raise DataError(f"--init {source}: {err}") from None


def _load_init_genome(source: str, model: Any) -> Any:
    from hebbjax import data
    from hebbjax.models.genome_io import load_genome

    if data.is_named(source):
        return load_genome(source, model, fmt="epann")
    path = Path(source)
    if path.is_dir():
        if not (path / CONFIG).is_file():
            raise DataError(
                f"a directory that is not a hebbjax run (no {CONFIG}); give a run "
                "directory, a genome file (.npz, .npy) or a packaged name"
            )
        path = path / GENOMES[1]
        if not path.is_file():
            raise DataError(f"the run has no {GENOMES[1]} yet")
    return load_genome(path, model)  # the file says which format

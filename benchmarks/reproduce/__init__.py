"""Reproductions of the papers' tables at stated budgets (``python -m benchmarks.reproduce.table1``)."""

import os
from pathlib import Path

#: ``hebbjax.evolution.run_files``' CONFIG and GENOMES (read without importing jax)
RUN_FILES = ("config.json", "best_genome.npz", "mean_genome.npz")


def keep_genomes(run_dir: Path, dest: Path) -> list[str]:
    """Copy a finished run's config and genomes into ``dest`` (committed beside the
    table, since run directories are not: ``hebbjax eval --run dest`` and later checks
    read them without retraining). Atomic per file; returns the names copied."""
    names = [n for n in RUN_FILES if (Path(run_dir) / n).exists()]
    if names:
        Path(dest).mkdir(parents=True, exist_ok=True)
    for name in names:
        tmp = Path(dest) / f".{name}.tmp"
        tmp.write_bytes((Path(run_dir) / name).read_bytes())
        os.replace(tmp, Path(dest) / name)
    return names


def write_atomic(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` through a temporary file and a rename: a reader (or a
    killed run) sees the old file or the new one, never half of one."""
    tmp = Path(path).with_name(f".{Path(path).name}.tmp")
    with open(tmp, "w") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)

"""Reproductions of the papers' tables at stated budgets (``python -m benchmarks.reproduce.table1``)."""

from pathlib import Path

from hebbjax.checkpoint import atomic_write_bytes  # jax-free

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
        atomic_write_bytes(Path(dest) / name, (Path(run_dir) / name).read_bytes())
    return names

"""Carry unfinished long runs across machines: their resume files, committed.

The reproduction scripts (``benchmarks/reproduce/``, ``eprnn_compare``, ``time_to_quality``)
resume from run directories that are not committed (``runs/`` and ``results/**/runs/`` are
ignored: they churn). A run longer than one sitting on a fresh clone would start over; this
script snapshots the files a run needs to continue (checkpoint, config, metrics, session and
branch records, genomes) into ``benchmarks/results/carry/`` (committed), and puts them back.

    python -m benchmarks.carry save RUN_DIR [RUN_DIR ...]   # snapshot (atomic copies)
    python -m benchmarks.carry restore                     # before restarting the scripts
    python -m benchmarks.carry list

``restore`` copies a snapshot back only where the run directory has no checkpoint or an
older one (fewer generations in its ``metrics.jsonl``), so it never rewinds a live run.
``save`` drops snapshots whose run has since finished elsewhere only when asked (``--prune``).
"""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CARRY = ROOT / "benchmarks" / "results" / "carry"
FILES = (
    "checkpoint.npz",
    "config.json",
    "metrics.jsonl",
    "sessions.json",
    "branch.json",
    "clock.json",  # time_to_quality: a run without its clock starts over
    "points.jsonl",
    "best_genome.npz",
    "mean_genome.npz",
)


def snapshot_dir(rel: Path) -> Path:
    """``runs/eprnn/cell`` -> ``carry/runs+eprnn+cell`` (a folder named ``runs`` would be
    ignored by git)."""
    return CARRY / "+".join(rel.parts)


def run_dir_of(snap: Path) -> Path:
    return ROOT.joinpath(*snap.name.split("+"))


def _copy_atomic(src: Path, dst: Path) -> None:
    dst.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=dst.parent, prefix=f".{dst.name}.", suffix=".tmp")
    os.close(fd)
    try:
        shutil.copyfile(src, tmp)
        os.replace(tmp, dst)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def generations(run_dir: Path) -> int:
    """Lines of the run's metrics (a proxy for its progress; 0 without metrics)."""
    path = run_dir / "metrics.jsonl"
    if not path.exists():
        return 0
    with path.open("rb") as f:
        return sum(1 for _ in f)


def save(run_dirs: list[Path]) -> None:
    for run in run_dirs:
        run = run.resolve()
        if not (run / "checkpoint.npz").exists():
            raise SystemExit(f"{run}: no checkpoint.npz, nothing to carry")
        rel = run.relative_to(ROOT)
        # the checkpoint last: a snapshot with a checkpoint is complete
        for name in sorted(FILES, key=lambda n: n == "checkpoint.npz"):
            if (run / name).exists():
                _copy_atomic(run / name, snapshot_dir(rel) / name)
        print(f"saved {rel} ({generations(run)} metric lines)")


def snapshots() -> list[Path]:
    return sorted(p.parent for p in CARRY.rglob("checkpoint.npz"))


def restore() -> None:
    for snap in snapshots():
        run = run_dir_of(snap)
        rel = run.relative_to(ROOT)
        have, carried = generations(run), generations(snap)
        if (run / "checkpoint.npz").exists() and have >= carried:
            print(f"kept {rel}: the run is at {have} lines, the snapshot {carried}")
            continue
        for name in sorted(FILES, key=lambda n: n == "checkpoint.npz"):
            if (snap / name).exists():
                _copy_atomic(snap / name, run / name)
        print(f"restored {rel} ({carried} metric lines)")


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = p.add_subparsers(dest="command", required=True)
    s = sub.add_parser("save", help="snapshot run directories")
    s.add_argument("runs", nargs="+", type=Path)
    s.add_argument("--prune", action="store_true", help="drop the other snapshots")
    sub.add_parser("restore", help="put the snapshots back where they are newer")
    sub.add_parser("list", help="the snapshots")
    args = p.parse_args(argv)
    if args.command == "save":
        if args.prune:
            keep = {snapshot_dir(r.resolve().relative_to(ROOT)) for r in args.runs}
            for snap in snapshots():
                if snap not in keep:
                    shutil.rmtree(snap)
        save(args.runs)
    elif args.command == "restore":
        restore()
    else:
        for snap in snapshots():
            rel = run_dir_of(snap).relative_to(ROOT)
            print(f"{rel} ({generations(snap)} metric lines)")


if __name__ == "__main__":
    main()

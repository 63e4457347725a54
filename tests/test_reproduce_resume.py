"""Long runs survive a fresh clone: carried snapshots, committed tables (no jax)."""

import json

from benchmarks import carry
from benchmarks.reproduce import ant_tables as at


def _run(path, lines: int, payload: bytes = b"ckpt") -> None:
    path.mkdir(parents=True, exist_ok=True)
    (path / "checkpoint.npz").write_bytes(payload)
    (path / "config.json").write_text("{}")
    (path / "metrics.jsonl").write_text("{}\n" * lines)


def test_carry_round_trip_and_never_rewinds(tmp_path, monkeypatch):
    monkeypatch.setattr(carry, "ROOT", tmp_path)
    monkeypatch.setattr(carry, "CARRY", tmp_path / "carry")
    run = tmp_path / "runs" / "eprnn" / "cell-a"
    _run(run, 5, b"gen5")
    carry.save([run])
    snap = carry.snapshot_dir(run.relative_to(tmp_path))
    assert "runs" not in snap.relative_to(tmp_path).parts  # git ignores runs/
    assert carry.run_dir_of(snap) == run
    # a fresh clone: the run directory is gone, restore brings it back
    for f in run.iterdir():
        f.unlink()
    carry.restore()
    assert (run / "checkpoint.npz").read_bytes() == b"gen5"
    assert carry.generations(run) == 5
    # a live run further along is kept
    _run(run, 9, b"gen9")
    carry.restore()
    assert (run / "checkpoint.npz").read_bytes() == b"gen9"


def test_ant_tables_keeps_committed_rows(tmp_path):
    budget = at.BUDGET
    row = at.ROW["a-static"]
    done = dict(key=row.key, config=at.config_fields(row, budget), wall_seconds=1.0)
    other = dict(done, key="b-static", config={"generations": -1})
    (tmp_path / "ant_tables.json").write_text(json.dumps({"rows": [done, other]}))
    rows = [at.ROW["a-static"], at.ROW["b-static"], at.ROW["a-hebbian"]]
    kept = at.committed_results(tmp_path, rows, budget, skip={})
    assert list(kept) == ["a-static"]  # b-static: another budget; a-hebbian: absent
    assert at.committed_results(tmp_path, rows, budget, skip={"a-static": 1}) == {}

"""Long runs survive a fresh clone: carried snapshots, committed tables (no jax)."""

import json

import pytest
from benchmarks import carry
from benchmarks.reproduce import ant_rows
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


def test_a_carried_time_to_quality_run_resumes(tmp_path, monkeypatch):
    """A time-to-quality run continues only with its clock beside its checkpoint: the
    carry keeps both (and the validation points), so a fresh clone resumes it."""
    from benchmarks import time_to_quality as ttq

    monkeypatch.setattr(carry, "ROOT", tmp_path)
    monkeypatch.setattr(carry, "CARRY", tmp_path / "carry")
    run = tmp_path / "benchmarks" / "results" / "time_to_quality" / "runs" / "exp"
    _run(run, 3)
    (run / "clock.json").write_text('{"0": [0.0, 0.0], "3": [9.0, 9.0]}')
    (run / "points.jsonl").write_text('{"generation": 0}\n')
    carry.save([run])
    for f in run.iterdir():
        f.unlink()
    carry.restore()
    assert ttq.can_resume(run)
    assert (run / "points.jsonl").read_text() == '{"generation": 0}\n'


def test_ant_tables_keeps_committed_rows(tmp_path):
    budget = ant_rows.BUDGET
    row = ant_rows.ROW["a-static"]
    done = dict(
        key=row.key, config=ant_rows.config_fields(row, budget), wall_seconds=1.0
    )
    other = dict(done, key="b-static", config={"generations": -1})
    (tmp_path / "ant_tables.json").write_text(json.dumps({"rows": [done, other]}))
    rows = [
        ant_rows.ROW["a-static"],
        ant_rows.ROW["b-static"],
        ant_rows.ROW["a-hebbian"],
    ]
    kept = at.committed_results(tmp_path, rows, budget, skip={})
    assert list(kept) == ["a-static"]  # b-static: another budget; a-hebbian: absent
    assert at.committed_results(tmp_path, rows, budget, skip={"a-static": 1}) == {}


def _table1_main(tmp_path, monkeypatch, argv, trained):
    """table1.main on a committed table of two rows, training replaced by ``trained``."""
    from benchmarks.reproduce import table1 as t1

    import hebbjax.cli

    rows = [dict(key="meta-dnn", v="committed"), dict(key="dnn", v="committed")]
    (tmp_path / "table1.json").write_text(json.dumps({"rows": rows}))
    written = []
    monkeypatch.setattr(hebbjax.cli, "use_all_cpu_cores", lambda: None)
    monkeypatch.setattr(t1, "_preload", lambda: None)
    monkeypatch.setattr(t1, "baselines", lambda size: {})
    monkeypatch.setattr(t1, "write_outputs", lambda rows, *a: written.append(rows))
    monkeypatch.setattr(
        t1,
        "run_row",
        lambda row, args, runs: (
            trained.get(row.key) or t1._committed_row(args, row.key)
        ),
    )
    t1.main([*argv, "--out", str(tmp_path)])
    return written[-1]


def test_table1_one_row_keeps_the_others(tmp_path, monkeypatch):
    """Running or reporting one row rewrites the table with every other committed row
    still in it, in the table's order; ``--fresh`` trains the selected row again."""
    out = _table1_main(tmp_path, monkeypatch, ["--report-only", "--models", "dnn"], {})
    assert [(r["key"], r["v"]) for r in out] == [
        ("dnn", "committed"),
        ("meta-dnn", "committed"),
    ]
    new = {"dnn": dict(key="dnn", v="trained")}
    out = _table1_main(tmp_path, monkeypatch, ["--models", "dnn"], new)
    assert [r["v"] for r in out] == ["trained", "committed"]
    # without --fresh the committed row stands (run_row returns it when no run exists)
    out = _table1_main(tmp_path, monkeypatch, ["--models", "dnn"], {})
    assert [r["v"] for r in out] == ["committed", "committed"]
    out = _table1_main(tmp_path, monkeypatch, ["--fresh", "--models", "dnn"], {})
    assert [r["key"] for r in out] == ["meta-dnn"]  # dnn dropped: it must train again


def _ant_main(tmp_path, monkeypatch, saved):
    """``ant_tables.main`` on a committed table of ``saved`` rows, training replaced:
    returns (main(argv), the run keys trained, the results written each time)."""
    import hebbjax.cli

    (tmp_path / "ant_tables.json").write_text(json.dumps({"rows": saved}))
    written, trained = [], []
    monkeypatch.setattr(hebbjax.cli, "use_all_cpu_cores", lambda: None)
    monkeypatch.setattr(
        at, "write_outputs", lambda results, *a: written.append(results)
    )

    def run_row(row, budget, runs):
        trained.append(ant_rows.run_key(row.key, budget["seed"]))
        return dict(key=trained[-1], v="trained")

    monkeypatch.setattr(at, "run_row", run_row)
    return (lambda argv: at.main([*argv, "--out", str(tmp_path)])), trained, written


def _saved(key, seed=0, **extra):
    return dict(key=key, config=ant_rows.config_fields(ant_rows.ROW[ant_rows.split_key(key)[0]], ant_rows.BUDGET | {"seed": seed}), **extra)  # fmt: skip


def test_ant_tables_one_row_keeps_the_others(tmp_path, monkeypatch):
    """As for table1: ``--rows`` rewrites the table with the other committed rows kept,
    and ``--fresh`` trains the selected row again instead of reading it back."""
    saved = [_saved(k, v="committed") for k in ("b-static", "a-static")]
    main, trained, written = _ant_main(tmp_path, monkeypatch, saved)
    main(["--rows", "a-static"])
    assert trained == [] and list(written[-1]) == ["a-static", "b-static"]
    main(["--fresh", "--rows", "a-static"])
    assert trained == ["a-static"]
    assert [(k, r["v"]) for k, r in written[-1].items()] == [
        ("a-static", "trained"),
        ("b-static", "committed"),
    ]


def test_ant_seeds_train_beside_the_committed_seed_zero(tmp_path, monkeypatch):
    """``--seeds 1 2`` trains the other seeds into their own run keys and keeps the
    committed seed 0; a committed seed is not trained again; ``--fresh`` only drops the
    selected seeds."""
    saved = [
        _saved("a-static"),
        _saved("a-static-seed2", 2),
        _saved("a-static-seed3", 0),  # saved at seed 0's config: not seed 3's, dropped
    ]
    main, trained, written = _ant_main(tmp_path, monkeypatch, saved)
    main(["--rows", "a-static", "--seeds", "1", "2"])
    assert trained == ["a-static-seed1"]
    assert list(written[-1]) == ["a-static", "a-static-seed1", "a-static-seed2"]
    trained.clear()
    main(["--rows", "a-static", "--seeds", "2", "--fresh"])
    assert trained == ["a-static-seed2"]
    # seed 1 is absent only because write_outputs is replaced (it never reached the
    # table file); --fresh dropped and retrained seed 2 alone
    assert list(written[-1]) == ["a-static", "a-static-seed2"]
    with pytest.raises(SystemExit):
        at.parse_args(["--seeds", "1", "1"])


def test_eprnn_queue_runs_the_cells_with_a_paper_value_first():
    """The headline column at the paper's budget first, then every cell the paper gives a
    value for, and the illegible High-Noise cells last."""
    from benchmarks import eprnn_cells as ecc

    queue = ecc.tables_queue(2000, 1000)
    assert [c.generations for c in queue[:3]] == [ecc.PAPER_GENERATIONS] * 3
    assert len(set(queue)) == len(queue) == len(ecc.PAPER) * 7
    known = [c.model in ecc.PAPER[c.task] for c in queue]
    assert known == sorted(known, reverse=True)  # no known cell after an unknown one
    assert queue[-1].task == "wrnav-noise0.2" and not known[-1]


def test_finished_rows_keep_their_genomes_beside_the_table(tmp_path, monkeypatch):
    """A row that finishes copies its config and genomes out of its (uncommitted) run
    directory into ``genomes/<row>``, so later checks need no retraining."""
    from benchmarks.reproduce import keep_genomes

    import hebbjax.cli

    run = tmp_path / "runs" / "x"
    run.mkdir(parents=True)
    assert (
        keep_genomes(run, tmp_path / "kept") == [] and not (tmp_path / "kept").exists()
    )
    (run / "config.json").write_text("{}")
    (run / "mean_genome.npz").write_bytes(b"mean")
    (run / "checkpoint.npz").write_bytes(b"not kept")
    assert keep_genomes(run, tmp_path / "kept") == ["config.json", "mean_genome.npz"]
    assert (tmp_path / "kept" / "mean_genome.npz").read_bytes() == b"mean"

    monkeypatch.setattr(hebbjax.cli, "use_all_cpu_cores", lambda: None)
    monkeypatch.setattr(at, "write_outputs", lambda *a: None)

    def run_row(row, budget, runs):
        (runs / row.key).mkdir(parents=True, exist_ok=True)
        (runs / row.key / "best_genome.npz").write_bytes(row.key.encode())
        return dict(key=row.key)

    monkeypatch.setattr(at, "run_row", run_row)
    at.main(["--rows", "a-static", "--out", str(tmp_path)])
    kept = tmp_path / "genomes" / "a-static" / "best_genome.npz"
    assert kept.read_bytes() == b"a-static"


def test_kept_run_files_are_the_trainers():
    from benchmarks.reproduce import RUN_FILES

    from hebbjax.evolution.run_files import CONFIG, GENOMES

    assert RUN_FILES == (CONFIG, *GENOMES)

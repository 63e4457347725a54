"""benchmarks/time_to_quality.py: what a killed run leaves behind; the stop_at_cap report."""

import pytest
from benchmarks import time_to_quality as ttq


def test_a_run_killed_before_its_clock_starts_over(tmp_path):
    """A checkpoint without clock.json (killed between the two writes) cannot say how
    long it trained: the run starts over instead of failing on resume."""
    run = tmp_path / "exp"
    assert not ttq.can_resume(run)  # nothing there
    run.mkdir()
    (run / "checkpoint.npz").write_bytes(b"")
    (run / "metrics.jsonl").write_text("{}\n")
    assert not ttq.can_resume(run) and not run.exists()
    run.mkdir()
    (run / "checkpoint.npz").write_bytes(b"")
    (run / "clock.json").write_text('{"0": [0.0, 0.0]}')
    assert ttq.can_resume(run) and run.exists()


def test_running_experiments_are_reported_until_they_finish(tmp_path):
    """A long run carried across sessions shows in results.md (and the curves) with its
    points so far and its own schedule; a finished one and a stray directory do not."""
    import json

    name = "maze9to15-sep-hour-then-n16to64"  # a branch: its schedule is in config.json
    run = tmp_path / "runs" / name
    run.mkdir(parents=True)
    points = [
        dict(generation=g, score=s, wall_seconds=60.0 * m, lifetimes=1e6 * m, load=2.0)
        for g, s, m in ((5500, -0.30, 61), (5550, -0.20, 62), (5600, -0.25, 63))
    ]
    (run / "points.jsonl").write_text("".join(json.dumps(p) + "\n" for p in points))
    (run / "config.json").write_text(json.dumps({"schedule": [[0, 8], [5500, 16]]}))
    done = tmp_path / "runs" / "maze9-snes-p128-n8"
    done.mkdir()
    (done / "points.jsonl").write_text(json.dumps(points[0]) + "\n")
    (done / "final.json").write_text("{}")
    (tmp_path / "runs" / "not-an-experiment").mkdir()
    (tmp_path / "runs" / "not-an-experiment" / "points.jsonl").write_text("{}\n")

    found = ttq.running(tmp_path)
    assert [r["name"] for r in found] == [name]
    assert found[0]["spec"]["schedule"] == [[0, 8], [5500, 16]]
    ttq.write_outputs([], tmp_path, "", found)
    report = (tmp_path / "results.md").read_text()
    row = next(x for x in report.splitlines() if x.startswith(f"| {name}"))
    assert "8 -> 16 (g5500)" in row and "| 5600 |" in row
    assert "-0.250 (5600)" in row and "-0.200 (5550)" in row  # latest, best
    assert json.loads((tmp_path / "results.json").read_text()) == []
    assert (tmp_path / "curves.png").exists()
    assert "Within a lifetime" not in report  # 15x15 only: no 9x9 run to show

    # a 9x9 run with its validations' rollout returns gets a within-lifetime row
    nine = tmp_path / "runs" / "maze9-paper-preset"
    nine.mkdir()
    points = [
        p | dict(lifetimes=1e6 * m) for p, m in zip(points, (15, 16, 17), strict=True)
    ]
    (nine / "points.jsonl").write_text("".join(json.dumps(p) + "\n" for p in points))
    (nine / "config.json").write_text(json.dumps({"schedule": [[0, 2]]}))
    metrics = [
        dict(generation=p["generation"], validation=dict(return_mean=[-0.5, 0.0, r3]))
        for p, r3 in zip(points, (0.1, 0.2, 0.3), strict=True)
    ]
    (nine / "metrics.jsonl").write_text("".join(json.dumps(m) + "\n" for m in metrics))
    ttq.write_outputs([], tmp_path, "", ttq.running(tmp_path))
    report = (tmp_path / "results.md").read_text()
    row = next(
        x for x in report.splitlines() if x.startswith("| maze9-paper-preset | - |")
    )
    assert row.endswith("| - | -0.50 / +0.15 / +0.65 |")  # 16 M: the two at 15 and 16 M


def test_schedule_column_names_each_entrys_task_options():
    from benchmarks.time_to_quality_report import _mazes

    assert _mazes([[0, 8], [1500, 16]]) == "8 -> 16 (g1500)"
    phased = [[0, 8, {"score_within": 40}], [4000, 256]]
    assert _mazes(phased) == "8 (score_within=40) -> 256 (g4000)"


def test_a_branch_of_a_branch_keeps_its_sources_whole_schedule():
    """A branch's schedule is its source's up to the branch generation: when the source is
    itself a branch, the source's effective schedule (its own source's phases, then its
    late phases), not the source spec's bare default."""
    from benchmarks.time_to_quality import EXPERIMENTS, make_config

    name = "maze9to15-sep-then-n256"
    source = EXPERIMENTS[name]["branch_from"]
    assert EXPERIMENTS[source]["branch_from"]  # the case: a branch of a branch
    schedule = make_config(name, EXPERIMENTS[name], 9150).schedule
    src = make_config(source, EXPERIMENTS[source], 5500).schedule
    assert src[:4] == ((0, 8), (1500, 16), (3000, 32), (5000, 64))
    assert schedule == src + ((9150, 256),)
    # a branch point inside the source's late phases drops the phases after it
    assert make_config(name, EXPERIMENTS[name], 7000).schedule[-2:] == (
        (6500, 32),
        (7000, 256),
    )
    # a late phase may carry its own task options: the source's capped phases to g0, then
    # the branch's (rollouts 2 and 3 capped)
    name = "maze9-hour-s3-r2r3"
    schedule = make_config(name, EXPERIMENTS[name], 1600).schedule
    r2r3 = EXPERIMENTS[name]["schedule_after"][0][2]
    assert r2r3["score_within"] == [None, 25, 25]
    assert [entry[:2] for entry in schedule] == [
        (0, 8), (1500, 16), (1600, 16), (3000, 32), (4000, 256)
    ]  # fmt: skip
    assert schedule[1][2] == {"score_within": 25, "stop_at_cap": True}
    assert schedule[2][2] == schedule[3][2] == r2r3 and len(schedule[4]) == 2


def test_stop_at_cap_benchmark_report_and_missing_runs(tmp_path, capsys):
    """The stop_at_cap report shows each shape's speed-up and flags a fitness that
    changed; without the runs it centres on, a usage error (exit 2) says how to get them."""
    from benchmarks.stop_at_cap import main, markdown

    row = dict(
        genome="random", mazes=8, cap=40, same_fitness=True, fitness_mean=-1.4,
        lifetime_steps=[400.0, 300.0], rollout3_steps=[139.4, 35.4],
        median_s=[0.2, 0.1], first_call_s=[3.0, 3.0], times_s=[[0.2], [0.1]],
    )  # fmt: skip
    report = dict(written="now", devices=2, load=1.0, repeats=1)
    text = markdown(report | dict(rows=[row, dict(row, same_fitness=False)]))
    assert "| 128 x 8, cap 40 | -1.400 | yes | 139.4 -> 35.4 | 400 -> 300 |" in text
    assert "| 2.00x |" in text and "| **no** |" in text
    with pytest.raises(SystemExit) as err:
        main(["--runs", str(tmp_path), "--out", str(tmp_path)])
    assert err.value.code == 2 and "carry restore" in capsys.readouterr().err


def test_a_branch_counts_its_sources_lifetimes_before_the_branch(tmp_path):
    """Lifetimes per task (population x repeats) are the run's that ran the generation: a
    branch with a larger population counts its source's before the branch generation,
    else a 1,024-genome branch of a 128-genome run would count its past 8x over."""
    import json

    from benchmarks.time_to_quality_experiments import EXPERIMENTS

    name = "maze9-hour-s4-p1024-from4000"
    assert EXPERIMENTS[name]["population"] == 1024
    source = EXPERIMENTS[name]["branch_from"]
    assert EXPERIMENTS[source]["population"] == 128
    run_dir = tmp_path / "runs" / name
    # not branched yet: every generation is its own
    assert ttq.source_lifetimes(name, tmp_path)(0) == 1024
    run_dir.mkdir(parents=True)
    (run_dir / "branch.json").write_text(
        json.dumps(dict(source=source, generation=4000))
    )
    per_task = ttq.source_lifetimes(name, tmp_path)
    assert [per_task(g) for g in (0, 3999, 4000, 4400)] == [128, 128, 1024, 1024]


def test_report_names_a_branchs_source_population():
    """A row of a branch that changed the population shows both, not the branch's alone
    over phases its source ran."""
    from benchmarks.time_to_quality_experiments import EXPERIMENTS
    from benchmarks.time_to_quality_report import _setup_cells

    for name, cell in (
        ("maze9-hour-s4-p1024-smax0.04", "| 128 -> 1024 (g4000) x 8 "),
        ("maze9-hour-s4-std0.02", "| 128 x 8 "),
    ):
        row = _setup_cells(dict(name=name, spec=EXPERIMENTS[name]))
        assert cell in row, row

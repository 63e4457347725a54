"""The pure parts of benchmarks/reproduce/ant_tables.py: units, queue state, rendering."""

import json
from pathlib import Path

import pytest
from benchmarks.reproduce import ant_claims, ant_report, ant_rows
from benchmarks.reproduce import ant_tables as at


def test_units_match_the_spec_conversion():
    # spec 1.5: summed progress ~ 60.6 x metres; 100 units = 1.65 m
    assert ant_rows.units_of(1.0) == pytest.approx(60.606, rel=1e-4)
    assert ant_rows.units_of(1.65) == pytest.approx(100.0)
    # 960 policy steps of 0.0165 s: 960 units is 15.84 m in 15.84 s, 1 m/s
    assert ant_rows.paper_speed(960.0) == pytest.approx(1.0)


def test_every_row_has_a_paper_value_per_column():
    for row in ant_rows.ROWS:
        assert len(row.paper) == len(ant_rows.COLUMNS[row.table]), row.key
        assert row.paper_solved in ((), (True, True, True), (True, True, False))
    assert (
        ant_rows.ROW["a-static"].paper_solved[-1] is False
    )  # static fails the unseen leg


def test_config_fields_share_one_budget_per_table():
    budget = ant_rows.BUDGET
    fields = {k: ant_rows.config_fields(ant_rows.ROW[k], budget) for k in ant_rows.ROW}
    shared = ("population", "generations", "sigma0", "task_kwargs", "schedule")
    for table in ("A", "B"):
        keys = [r.key for r in ant_rows.ROWS if r.table == table]
        for name in shared:
            assert len({json.dumps(fields[k][name]) for k in keys}) == 1, name
    assert fields["b-shared-128"]["strategy_kwargs"]["rho"] == 128
    assert fields["b-shared-128"]["strategy_kwargs"]["optimizer"] == "adam"
    assert fields["sweep-rho-1"]["strategy_kwargs"]["chunk_size"] == 1
    assert fields["a-hebbian"]["task"] == "ant-damage"
    assert fields["b-lstm"]["task"] == "ant-palm"


def test_queue_state(tmp_path):
    row = ant_rows.ROW["a-hebbian"]
    fields = ant_rows.config_fields(row, ant_rows.BUDGET)
    run = tmp_path / row.key
    assert at.row_state(run, fields) == "pending"
    run.mkdir()
    (run / "checkpoint.npz").write_bytes(b"")
    assert at.row_state(run, fields) == "partial"
    (run / "result.json").write_text(json.dumps(dict(config=fields)))
    assert at.row_state(run, fields) == "done"
    longer = ant_rows.config_fields(row, ant_rows.BUDGET | dict(generations=400))
    assert at.row_state(run, longer) == "partial"  # resumes to the larger budget
    (run / "checkpoint.npz").unlink()
    assert at.row_state(run, longer) == "stale"
    state = at.queue_state(tmp_path, [row, ant_rows.ROW["a-static"]], ant_rows.BUDGET)
    assert state == {"a-hebbian": "done", "a-static": "pending"}


def _stats(name, mean, solved):
    return dict(set=f"variant:{name}", mean_m=mean, std_m=0.5, solved_fraction=solved)


def test_render_table_puts_ours_beside_the_paper():
    rows = [_stats("default", 3.3, 1.0), _stats("short-xp-yn", 1.65, 0.5)]
    rows.append(_stats("short-xp-yp", 0.5, 0.0))
    result = dict(
        mean=dict(rows=rows),
        sessions=[dict(load_end=(4.0, 4.5, 5.0))],
        wall_seconds=123.0,
    )
    lines = ant_report.render_table("A", {"a-hebbian": result})
    text = "\n".join(lines)
    assert lines[0].count("|") == len(ant_rows.COLUMNS["A"]) + 3
    assert "3.30 ± 0.50 m = 200 ± 30 u, solved 100%" in text
    assert "1051 ± 113 u (1.09 m/s), solved True" in text
    assert "| 123 (4.5) |" in text
    assert text.count("not run yet") == len(ant_rows.COLUMNS["A"])  # the static row


def test_memory_lines_estimate_the_population_for_rho_1():
    memory = dict(
        rows=[
            dict(rho="16", n_rules=760, population=500, chunk=8, state_mb=35.3,
                 peak_rss_mb=1442.0),
            dict(rho="1", n_rules=12160, population=16, chunk=1, state_mb=564.3,
                 peak_rss_mb=3212.6),
        ]
    )  # fmt: skip
    lines = ant_report.memory_lines(memory)
    assert "yes, measured" in lines[2]
    assert "estimated 3,325 MB" in lines[3]


def test_progress_of_an_unfinished_row_is_rendered(tmp_path):
    run = tmp_path / "runs" / "b-lstm"
    assert ant_report.progress_of(run) is None
    run.mkdir(parents=True)
    records = [
        dict(generation=0, fitness_mean=-0.5, wall_seconds=30.0, validation=dict(score=-1)),
        dict(generation=1, fitness_mean=0.25, wall_seconds=40.0),
    ]  # fmt: skip
    lines = [json.dumps(r) for r in records]
    (run / "metrics.jsonl").write_text("\n".join(lines) + '\n{"generation": 2, "fi')
    p = ant_report.progress_of(run)
    assert p["generations_done"] == 2
    assert p["curve"] == [(0, -0.5), (1, 0.25)]
    assert p["wall_seconds"] == 70.0
    text = "\n".join(ant_report.render_table("B", {}, "mean", {"b-lstm": p}, 200))
    assert "training: generation 2/200, population mean 0.25 m" in text
    assert "last validation -1.00 m (gen 0)" in text
    assert "| 70 so far (40.0 s/gen) |" in text


def test_claims_use_two_standard_errors():
    def result(*means):
        cols = ant_rows.COLUMNS["A"]
        return dict(mean=dict(rows=[dict(_stats(c, m, 0.0), std_m=1.0) for c, m in zip(cols, means, strict=True)]))  # fmt: skip

    # se of one column: 1 / sqrt(100) = 0.1 each, difference se = 0.141
    claims = ant_claims.judge_claims(
        {"a-static": result(2, 2, 1), "a-hebbian": result(1, 1, 1.2)}
    )
    verdict = {c["claim"]: c["verdict"] for c in claims}
    assert verdict["static beats Hebbian on the seen morphologies"] == "held"
    assert (
        verdict["Hebbian beats static on the unseen left-front damage"] == "undecided"
    )
    assert verdict["LSTM beats Static on the held-out long front"].startswith(
        "not test"
    )
    claims = ant_claims.judge_claims(
        {"a-static": result(2, 2, 2), "a-hebbian": result(1, 1, 1)}
    )
    assert claims[1]["verdict"] == "reversed"


def test_another_backend_writes_beside_the_spring_tables():
    """``--backend mjx`` is a recheck: its default output is ``results/ant/mjx``, its budget
    (and so the resume check of every row) names mjx, and the report says which physics."""
    spring = at.parse_args([])
    assert spring.out == ant_rows.OUT and spring.budget["backend"] == "spring"
    mjx = at.parse_args(["--backend", "mjx", "--rows", "a-static"])
    assert mjx.out == ant_rows.OUT / "mjx" and mjx.budget["backend"] == "mjx"
    assert at.parse_args(["--backend", "mjx", "--out", "x"]).out == Path("x")
    fields = ant_rows.config_fields(ant_rows.ROW["a-static"], mjx.budget)
    assert fields["task_kwargs"]["backend"] == "mjx"
    assert "recheck" in ant_report.physics_caveat(
        "mjx"
    ) and "`mjx`" in ant_report.physics_caveat("spring")


def _result(table, means, seed=0, std=1.0):
    rows = [
        dict(_stats(c, m, 0.5), std_m=std)
        for c, m in zip(ant_rows.COLUMNS[table], means, strict=True)
    ]
    return dict(
        mean=dict(rows=rows),
        sessions=[dict(load_end=(1.0, 2.0, 3.0))],
        wall_seconds=10.0,
        seed=seed,
    )


def test_run_keys_name_each_seed():
    assert ant_rows.run_key("a-static", 0) == "a-static"
    assert ant_rows.run_key("a-static", 2) == "a-static-seed2"
    for key in ("a-static", "a-static-seed2", "sweep-rho-N-seed11"):
        base, seed = ant_rows.split_key(key)
        assert ant_rows.run_key(base, seed) == key
    assert ant_rows.split_key("sweep-rho-N-seed11") == ("sweep-rho-N", 11)


def test_the_best_seed_is_chosen_on_the_training_morphologies_only():
    """Seed 1 walks furthest on the held-out left-front damage, seed 2 on the two
    training morphologies: seed 2 is the row's best (the papers' highest-performing
    run, chosen without the unseen morphology)."""
    results = {
        "a-hebbian": _result("A", (1.0, 1.0, 1.0)),
        "a-hebbian-seed1": _result("A", (1.0, 1.5, 9.0), 1),
        "a-hebbian-seed2": _result("A", (2.0, 1.5, 0.0), 2),
        "a-static": _result("A", (3.0, 3.0, 0.5)),
    }
    assert ant_claims.best_seeds(results) == {"a-hebbian": 2, "a-static": 0}
    assert list(ant_claims.seed_groups(results)["a-hebbian"]) == [0, 1, 2]


def test_claims_are_judged_on_the_best_seeds_and_seed_by_seed():
    results = {
        "a-static": _result("A", (3.0, 3.0, 0.5)),
        "a-static-seed1": _result("A", (1.0, 1.0, 0.5), 1),
        "a-hebbian": _result("A", (1.0, 1.0, 1.0)),
        "a-hebbian-seed1": _result("A", (2.0, 2.0, 3.0), 1),
    }
    claims = {c["claim"]: c for c in ant_claims.judge_claims_by_seed(results)}
    seen = claims["static beats Hebbian on the seen morphologies"]
    # best seeds: static seed 0 (3 m), Hebbian seed 1 (2 m): held; pairs: held, reversed
    assert seen["verdict"] == "held" and "seed 0 vs 1" in seen["evidence"]
    assert seen["same_seed"] == "held in 1 of 2 (seed 0: held, seed 1: reversed)"
    unseen = claims["Hebbian beats static on the unseen left-front damage"]
    assert unseen["verdict"] == "held"  # 3.0 vs 0.5 m, se 0.14
    # Table B has one seed per row: none of its claims is listed
    assert all(
        c["claim"] in {x[0] for x in ant_claims.CLAIMS[:2]} for c in claims.values()
    )
    assert ant_claims.judge_claims_by_seed({"a-static": results["a-static"]}) == []


def test_render_seeds_lists_every_seed_and_marks_the_best(tmp_path):
    results = {
        "a-static": _result("A", (3.0, 3.0, 0.5)),
        "a-static-seed1": _result("A", (1.0, 1.0, 0.5), 1),
        "b-static": _result("B", (1.0,) * 5),
    }
    assert ant_claims.render_seeds({"a-static": results["a-static"]}) == []
    run = tmp_path / "a-static-seed2"
    run.mkdir()
    record = dict(generation=4, fitness_mean=0.5, wall_seconds=3.0)
    (run / "metrics.jsonl").write_text(json.dumps(record) + "\n")
    progress = {"a-static-seed2": ant_report.progress_of(run)}
    text = "\n".join(ant_claims.render_seeds(results, progress, 200))
    assert "| static weights | 0 **best** | 3.00 ± 1.00 m" in text
    assert "| static weights | 1 | 1.00 ± 1.00 m" in text and "| 1.00 m |" in text
    assert "| static weights | 2 | training: generation 5/200" in text
    assert "| Static |" not in text  # b-static has one seed: not listed
    assert "static beats Hebbian" not in text  # no Hebbian row: no claim to judge
    assert "three independent" in text


def test_a_nan_never_wins_and_rows_without_a_common_seed_say_so():
    results = {
        "a-static": _result("A", (float("nan"), 1.0, 1.0)),
        "a-static-seed1": _result("A", (0.1, 0.1, 0.1), 1),
        "a-hebbian-seed2": _result("A", (1.0, 1.0, 1.0), 2),
    }
    assert ant_claims.best_seeds(results) == {"a-static": 1, "a-hebbian": 2}
    claims = ant_claims.judge_claims_by_seed(results)
    assert claims and all(c["same_seed"] == "no seed in common" for c in claims)


def test_a_finished_seed_shows_while_seed_zero_trains(tmp_path):
    """Seed 1 finished, seed 0 still training: the Seeds section lists both."""
    run = tmp_path / "a-static"
    run.mkdir()
    record = dict(generation=9, fitness_mean=0.5, wall_seconds=3.0)
    (run / "metrics.jsonl").write_text(json.dumps(record) + "\n")
    results = {"a-static-seed1": _result("A", (1.0, 1.0, 0.5), 1)}
    text = "\n".join(
        ant_claims.render_seeds(results, {"a-static": ant_report.progress_of(run)})
    )
    assert "| static weights | 0 | training: generation 10/200" in text
    assert "| static weights | 1 **best** | 1.00 ± 1.00 m" in text


def test_the_report_with_seeds(tmp_path):
    """write_outputs with a row of two seeds: the caveat names it, the Seeds section
    stands before the rho sweep, the JSON keeps the best seeds and claims."""

    def full(table, means, seed=0, key="a-static"):
        res = _result(table, means, seed)
        row = ant_rows.ROW[key]
        return res | dict(
            best=res["mean"],
            config=ant_rows.config_fields(row, ant_rows.BUDGET | {"seed": seed}),
            curve=[(0, 0.0), (1, 1.0)],
            table=table,
            label=row.label,
        )

    results = {
        "a-static": full("A", (3.0, 3.0, 0.5)),
        "a-static-seed1": full("A", (1.0, 1.0, 0.5), 1),
    }
    ant_report.write_outputs(results, ant_rows.BUDGET, tmp_path)
    text = (tmp_path / "ant_tables.md").read_text()
    assert "the rows with several seeds (A static weights (2))" in text
    assert text.index("## Seeds") < text.index("## rho sweep")
    assert "| static weights | 0 **best** |" in text
    assert "| (A) model | seed | `default` |" in text
    data = json.loads((tmp_path / "ant_tables.json").read_text())
    assert data["best_seeds"] == {"a-static": 0}
    assert (tmp_path / "ant_tables.png").exists()

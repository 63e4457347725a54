"""The pure parts of benchmarks/eprnn_compare.py: seeds, finished rows, the report."""

import json
from pathlib import Path

import pytest
from benchmarks import eprnn_cells as ecc
from benchmarks import eprnn_compare as ec
from benchmarks import eprnn_compare_report as ecr


def _row(model="eprnn", seed=0, statistic=-1.0, test=-1.5, status="done"):
    row = dict(
        task="wrnav-noise0.05",
        model=model,
        generations=2000,
        population=398,
        n_gene=41_670,
        status=status,
        paper=ecc.PAPER["wrnav-noise0.05"][model],
        paper_statistic=statistic,
        test_mean_genome=test,
        test_mean_genome_stderr=0.4,
        test_best_genome=test,
        test_best_genome_stderr=0.4,
        trivial=-38.777,
        curve=[(1000, -20.0), (2000, statistic)],
        median_generation_seconds=0.8,
    )
    return row | ({"seed": seed} if seed else {})


def test_seeds_run_seed_by_seed_in_their_own_directories():
    cells = [ecc.Cell("wrnav-noise0.05", m, 2000) for m in ("eprnn", "es-rnn")]
    queue = ecc.with_seeds(cells, [0, 2])
    assert [(c.model, c.seed) for c in queue] == [
        ("eprnn", 0), ("es-rnn", 0), ("eprnn", 2), ("es-rnn", 2),
    ]  # fmt: skip
    runs = Path("runs")
    assert ec.run_dir_for(runs, queue[0]) == runs / "wrnav-noise0.05_eprnn_g2000"
    assert ec.run_dir_for(runs, queue[2]) == runs / "wrnav-noise0.05_eprnn_g2000_s2"
    assert ec.make_config(queue[2], 398, 0.02, 100).seed == 2
    assert ecc.cell_of(_row()) == queue[0] and ecc.cell_of(_row(seed=2)) == queue[2]


def test_another_seeds_row_does_not_finish_a_cell():
    """A seed-1 row equal in every other setting is not seed 0's result (rows written
    before seeds carry no seed and are seed 0)."""
    settings = dict(task="wrnav-noise0.05", model="eprnn", generations=2000)
    seed0 = ecc.Cell("wrnav-noise0.05", "eprnn", 2000)
    seed1 = seed0._replace(seed=1)
    assert not ecc.is_finished([_row(seed=1)], seed0, settings)
    assert ecc.is_finished([_row(seed=1)], seed1, settings | {"seed": 1})
    assert ecc.is_finished([_row()], seed0, settings)
    assert not ecc.is_finished([_row()], seed0, settings | {"population": 200})


def test_the_report_averages_the_statistic_over_seeds():
    rows = [
        _row(statistic=-15.0, test=-16.0),
        _row(seed=1, statistic=-17.0, test=-18.0),
        _row(seed=2, statistic=-38.0, test=-38.5, status="running (5/2000)"),
        _row("es-rnn", statistic=-19.0),
    ]
    (group,) = ecr.over_seeds(rows)  # es-rnn has one seed; seed 2 is still running
    assert group["seeds"] == [0, 1]
    assert group["statistic_mean"] == pytest.approx(-16.0)
    assert group["statistic_std"] == pytest.approx(2**0.5)
    assert group["test_mean"] == pytest.approx(-17.0)
    text = ecr.results_markdown(rows)
    assert "| wrnav-noise0.05 | eprnn (seed 1) | 41,670 |" in text
    assert "| wrnav-noise0.05 | eprnn | 41,670 |" in text
    assert "| wrnav-noise0.05 | eprnn | 2,000 | 0, 1 | -15.000, -17.000 " in text
    assert "| -16.000 +- 1.414 | -15.070 | -17.000 | -38.777 |" in text
    assert "Over seeds" not in ecr.results_markdown(rows[:1] + rows[3:])


def test_seeds_must_be_distinct():
    with pytest.raises(SystemExit):
        ec.main(
            ["--cell", "wrnav-noise0.05:eprnn=10", "--seeds", "1", "1", "--dry-run"]
        )


def test_seeds_at_other_settings_are_not_averaged():
    rows = [
        _row(statistic=-15.0),
        _row(seed=1, statistic=-17.0) | {"learning_rate": 0.2},
    ]
    rows[0]["learning_rate"] = 0.02
    assert ecr.over_seeds(rows) == []
    rows[1]["learning_rate"] = 0.02
    assert len(ecr.over_seeds(rows)) == 1


def test_finished_rows_of_another_process_are_kept(tmp_path):
    """Two queues on one --out: each write keeps the other's finished rows; a cell (and
    seed) of this process wins over the file's."""
    path = tmp_path / "results.json"
    assert ecr.merge_finished([_row()], path) == [_row()]  # no file yet
    theirs = [
        _row(seed=1, statistic=-20.0),
        _row(statistic=-99.0),  # this process's cell: ours wins
        _row("es-rnn", status="running (3/2000)"),  # not finished: theirs to rewrite
    ]
    path.write_text(json.dumps(theirs))
    merged = ecr.merge_finished([_row(statistic=-15.0)], path)
    assert [(ecc.cell_of(r).seed, r["paper_statistic"]) for r in merged] == [
        (0, -15.0),
        (1, -20.0),
    ]


def _small_config(cell):
    import dataclasses

    config = ec.make_config(cell, population=8, lr=0.02, validate_every=2)
    return dataclasses.replace(
        config, schedule=((0, 2),), n_validation=8, checkpoint_every=2
    )


def test_a_longer_cell_continues_the_shorter_run_to_the_same_genome(tmp_path):
    """A cell given more generations than a finished run of it copies that run and
    resumes it (the shorter run is kept): the same final mean genome as from scratch."""
    import chex

    from hebbjax.evolution.run_files import read_metrics
    from hebbjax.evolution.train import train

    short = ecc.Cell("seqpred-l1-k10-n20", "es-rnn", 4)
    long = short._replace(generations=6)
    runs = tmp_path / "runs"
    short_dir = ec.run_dir_for(runs, short)
    train(_small_config(short), short_dir)
    target = ec.run_dir_for(runs, long)
    assert (
        ec.continue_shorter(runs, long, _small_config(long), target) == short_dir.name
    )
    assert ec.continued_from(target) == short_dir.name
    continued = train(_small_config(long), target, resume=True)
    scratch = train(_small_config(long), tmp_path / "scratch")
    assert len(continued.history) == 6
    # the first 4 generations were copied, not trained again (their clocks are the same)
    assert continued.history[:4] == read_metrics(short_dir)
    assert (short_dir / "checkpoint.npz").exists()  # kept
    chex.assert_trees_all_equal(continued.mean_params, scratch.mean_params)


def test_only_a_finished_shorter_run_of_the_same_cell_at_the_same_settings(tmp_path):
    """Another seed, a longer run, an unfinished run or changed settings: none is
    continued."""
    import dataclasses

    runs = tmp_path
    cell = ecc.Cell("wrnav-noise0.2", "epmlp", 4000)

    def fake(c, done, config=None):
        path = ec.run_dir_for(runs, c)
        path.mkdir()
        (path / "checkpoint.npz").write_bytes(b"")
        (path / "metrics.jsonl").write_text("{}\n" * done)
        config = config or ec.make_config(c, 398, 0.02, 100)
        (path / "config.json").write_text(config.to_json())
        return path

    config = ec.make_config(cell, 398, 0.02, 100)
    fake(cell._replace(generations=2000, seed=1), 2000)  # another seed
    fake(cell._replace(model="epmlp-random", generations=2000), 2000)  # another model
    fake(cell._replace(generations=5000), 5000)  # longer
    fake(cell._replace(generations=3000), 2900)  # unfinished
    assert ec.shorter_run(runs, cell, config) is None
    changed = dataclasses.replace(
        ec.make_config(cell._replace(generations=1000), 398, 0.02, 100), sigma0=0.02
    )
    fake(cell._replace(generations=1000), 1000, changed)  # other settings
    assert ec.shorter_run(runs, cell, config) is None
    kept = fake(cell._replace(generations=500), 500)
    fake(cell._replace(generations=200), 200)
    assert ec.shorter_run(runs, cell, config) == kept  # the longest that fits

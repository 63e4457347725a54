"""Best of several starts (``TrainConfig.starts``): the kept start is the best on validation,
the run goes on exactly as a run of its seed alone, and a stopped run resumes to the same."""

import json

import numpy as np
import pytest

from hebbjax.cli import main
from hebbjax.config import TrainConfig
from hebbjax.errors import ConfigError, RunError
from hebbjax.evolution.run_files import read_metrics
from hebbjax.evolution.train import TIMING_FIELDS, train

BASE = dict(
    task="maze9",
    model="decprnn-postdn",
    strategy="sep-cma-es",
    population=6,
    generations=24,
    schedule=((0, 2),),
    sigma0=0.05,
    validate_every=4,
    n_validation=16,
    checkpoint_every=5,
    model_kwargs={"hidden": 8},
    task_kwargs={"max_steps": 30},
    seed=3,
)
STARTS = BASE | dict(starts=3, select_at=8)


def science(records):
    """The records without the machine's timings, and without the final validation a start
    makes at ``select_at`` (a run of that seed alone validates there as an ordinary one)."""
    return [
        {
            k: v
            for k, v in r.items()
            if k not in TIMING_FIELDS and k != "final_validation"
        }
        for r in records
    ]


def genome(path):
    with np.load(path) as data:
        return {k: data[k] for k in data.files}


def assert_same_run(a, b):
    ga, gb = genome(a / "mean_genome.npz"), genome(b / "mean_genome.npz")
    assert ga.keys() == gb.keys()
    for name in ga:
        np.testing.assert_array_equal(ga[name], gb[name], err_msg=name)
    assert science(read_metrics(a)) == science(read_metrics(b))


def stop_at(n):
    """A ``stop`` that asks the run to stop after its ``n``-th generation in all."""
    calls = []

    def stop():
        calls.append(1)
        return len(calls) == n

    return stop


@pytest.fixture(scope="module")
def best_of_three(tmp_path_factory):
    out = tmp_path_factory.mktemp("starts") / "run"
    train(TrainConfig(**STARTS), out)
    return out


def test_the_kept_start_is_the_best_on_validation(best_of_three):
    record = json.loads((best_of_three / "starts.json").read_text())
    assert record["seeds"] == [3, 4, 5] and record["select_at"] == 8
    finals = [
        read_metrics(best_of_three / "starts" / str(k))[-1]["final_validation"]["score"]
        for k in range(3)
    ]
    assert record["scores"] == finals
    assert len(set(finals)) == 3, "the starts must be different searches"
    assert record["kept"] == int(np.argmax(finals))
    assert record["seed"] == 3 + record["kept"]
    for k in range(3):  # each start stopped at select_at
        assert len(read_metrics(best_of_three / "starts" / str(k))) == 8


def test_the_run_goes_on_as_the_kept_seed_alone(best_of_three, tmp_path):
    kept = json.loads((best_of_three / "starts.json").read_text())["seed"]
    alone = tmp_path / "alone"
    train(TrainConfig(**BASE | dict(seed=kept)), alone)
    assert_same_run(best_of_three, alone)
    config = TrainConfig.load(best_of_three / "config.json")
    assert config == TrainConfig(**STARTS)


def test_a_run_stopped_anywhere_resumes_to_the_same(best_of_three, tmp_path):
    # stopped in start 1, then in the run after the starts: total work 24 + 2 x 8
    for stop_after in (11, 30):
        out = tmp_path / f"stopped{stop_after}"
        first = train(TrainConfig(**STARTS), out, stop=stop_at(stop_after))
        assert first.interrupted
        train(TrainConfig(**STARTS), out, resume=True)
        assert_same_run(best_of_three, out)
        a = json.loads((best_of_three / "starts.json").read_text())
        assert json.loads((out / "starts.json").read_text()) == a


def test_a_kill_before_the_kept_start_commits_resumes_to_the_same(
    best_of_three, tmp_path
):
    # the run's checkpoint is written last: without it the starts are kept again
    import shutil

    out = tmp_path / "uncommitted"
    shutil.copytree(best_of_three, out)
    (out / "checkpoint.npz").unlink()
    train(TrainConfig(**STARTS), out, resume=True)
    assert_same_run(best_of_three, out)


def test_bad_starts_settings_name_the_problem(tmp_path, capsys):
    with pytest.raises(ConfigError, match="select_at"):
        TrainConfig(**BASE | dict(starts=2))
    with pytest.raises(ConfigError, match="below generations 24"):
        TrainConfig(**BASE | dict(starts=2, select_at=24))
    with pytest.raises(ConfigError, match="starts must be >= 1"):
        TrainConfig(**BASE | dict(starts=0))
    assert main(["train", "--starts", "2", "--out", str(tmp_path / "x")]) == 2
    assert "select_at" in capsys.readouterr().err


def test_a_stopped_starts_run_needs_resume(tmp_path):
    out = tmp_path / "run"
    train(TrainConfig(**STARTS), out, stop=stop_at(3))
    with pytest.raises(RunError, match="--resume"):
        train(TrainConfig(**STARTS), out)
    with pytest.raises(RunError, match="differ from it: starts"):
        train(TrainConfig(**STARTS | dict(starts=4)), out, resume=True)


def test_cli_prints_each_start(tmp_path, capsys):
    flags = [
        "--task", "maze9", "--strategy", "sep-cma-es", "--population", "6",
        "--generations", "8", "--tasks-per-gen", "2", "--validate-every", "4",
        "--n-validation", "8", "--model-opt", "hidden=8", "--task-opt",
        "max_steps=30", "--starts", "2", "--select-at", "4", "--progress-every", "2",
    ]  # fmt: skip
    assert main(["train", *flags, "--out", str(tmp_path / "cli")]) == 0
    err = capsys.readouterr().err
    assert "best of 2 starts at generation 4" in err
    assert "start 1: gen      0  validation score" in err
    assert "gen 12/12" in err  # 8 generations + start 1's 4
    assert (tmp_path / "cli" / "starts.json").is_file()

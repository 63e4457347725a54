"""Later outer loops (``TrainConfig.strategy_schedule``): a stage starts its strategy at the
mean the previous one reached, a run stopped anywhere resumes to the same result, and bad
entries are refused with the valid form named."""

import json

import numpy as np
import pytest

from hebbjax.cli import main
from hebbjax.config import TrainConfig
from hebbjax.errors import ConfigError
from hebbjax.evolution.phases import (
    Stage,
    checkpoint_stage,
    stage_of,
    stage_settings,
    strategy_stage,
)
from hebbjax.evolution.run_files import read_metrics
from hebbjax.evolution.train import TIMING_FIELDS, train

SWITCH = 6
BASE = dict(
    task="maze9",
    model="decprnn-postdn",
    strategy="sep-cma-es",
    population=6,
    generations=12,
    schedule=((0, 4),),
    sigma0=0.05,
    validate_every=3,
    n_validation=16,
    checkpoint_every=4,
    model_kwargs={"hidden": 8},
    task_kwargs={"max_steps": 50},
    seed=2,
)
STAGED = BASE | dict(
    strategy_schedule=((SWITCH, "openai-es", {"sigma0": 0.01, "learning_rate": 0.003}),)
)
#: the same strategy and state from SWITCH on, ranking 4 genomes instead of 6
FEWER = BASE | dict(
    strategy_kwargs={"std_min": 0.01},
    strategy_schedule=((SWITCH, "sep-cma-es", {"continue": True, "population": 4}),),
)


def science(records, drop=()):
    drop = (*TIMING_FIELDS, *drop)
    return [{k: v for k, v in r.items() if k not in drop} for r in records]


def genome(path):
    with np.load(path) as data:
        return {k: data[k] for k in data.files}


@pytest.fixture(scope="module")
def staged(tmp_path_factory):
    out = tmp_path_factory.mktemp("stages") / "run"
    return train(TrainConfig(**STAGED), out), out


def test_stages_by_generation():
    config = TrainConfig(**STAGED)
    assert [strategy_stage(config, g) for g in (0, SWITCH - 1, SWITCH, 11)] == [
        0,
        0,
        1,
        1,
    ]
    assert checkpoint_stage(config, SWITCH) == 0  # written after generation SWITCH - 1
    assert checkpoint_stage(config, SWITCH + 1) == 1
    assert stage_settings(config, 1) == ("openai-es", 0.01, {"learning_rate": 0.003})
    assert stage_settings(config, 0) == ("sep-cma-es", 0.05, {})


def test_the_second_stage_starts_at_the_first_ones_mean(staged, tmp_path):
    result, out = staged
    records = read_metrics(out)
    assert [r["generation"] for r in records if "strategy" in r] == [SWITCH]
    # the first stage alone, to the switch: the staged run's first SWITCH generations
    first = tmp_path / "first"
    train(TrainConfig(**BASE | dict(generations=SWITCH)), first)
    head = ("final_validation",)
    assert science(read_metrics(first), head) == science(records, head)[:SWITCH]
    # the step size is the new strategy's constant sigma0 from the switch on
    sizes = [r["step_size"] for r in records]
    assert all(s == pytest.approx(0.01) for s in sizes[SWITCH:])
    assert all(s != pytest.approx(0.01) for s in sizes[:SWITCH])
    # and its mean moved on from the first stage's
    start = genome(first / "mean_genome.npz")
    end = genome(out / "mean_genome.npz")
    assert any(not np.array_equal(start[k], end[k]) for k in start)


def test_a_continued_stage_keeps_the_state_and_changes_the_population(tmp_path):
    config = TrainConfig(**FEWER)
    assert stage_of(config, 0) == Stage("sep-cma-es", 0.05, {"std_min": 0.01}, 6)
    assert stage_of(config, 1) == Stage(
        "sep-cma-es", 0.05, {"std_min": 0.01}, 4, continues=True
    )
    out = tmp_path / "fewer"
    train(config, out)
    records = read_metrics(out)
    assert [(r["generation"], r["population"]) for r in records if "strategy" in r] == [
        (SWITCH, 4)
    ]
    # the first stage alone to the switch is the run's first SWITCH generations; from the
    # switch the step size goes on from the state's (a fresh stage would start at sigma0)
    first = tmp_path / "first"
    train(TrainConfig(**FEWER | dict(generations=SWITCH)), first)
    head = ("final_validation", "strategy", "population")
    assert science(read_metrics(first), head) == science(records, head)[:SWITCH]
    sizes = [r["step_size"] for r in records]
    fresh = TrainConfig(
        **FEWER | dict(strategy_schedule=((SWITCH, "sep-cma-es", {"population": 4}),))
    )
    train(fresh, tmp_path / "restarted")
    restarted = [r["step_size"] for r in read_metrics(tmp_path / "restarted")]
    assert sizes[:SWITCH] == restarted[:SWITCH]
    assert sizes[SWITCH] != restarted[SWITCH]
    # 4 genomes a generation from the switch: the lifetimes a generation show it
    steps = [r["env_steps"] for r in records]
    assert max(steps[SWITCH:]) < min(steps[:SWITCH])


@pytest.mark.parametrize(
    "spec, stop_after",
    [(STAGED, SWITCH), (STAGED, SWITCH + 1), (FEWER, SWITCH + 1)],  # both sides
)
def test_a_stopped_run_resumes_to_the_same(staged, tmp_path, spec, stop_after):
    whole = staged[1] if spec is STAGED else tmp_path / "whole"
    if spec is not STAGED:
        train(TrainConfig(**spec), whole)
    out = tmp_path / "run"
    calls = []

    def stop():
        calls.append(1)
        return len(calls) == stop_after

    first = train(TrainConfig(**spec), out, stop=stop)
    assert first.interrupted
    train(TrainConfig(**spec), out, resume=True)
    a, b = genome(whole / "mean_genome.npz"), genome(out / "mean_genome.npz")
    for name in a:
        np.testing.assert_array_equal(a[name], b[name], err_msg=name)
    assert science(read_metrics(whole)) == science(read_metrics(out))


@pytest.mark.parametrize(
    "entries, words",
    [
        (((0, "openai-es"),), "generations must be >= 1"),
        (((8, "openai-es"), (4, "snes")), "increase"),
        (((4, 7),), "(first generation, strategy)"),
        (((4, "openai-es", {"sigma0": -1.0}),), "sigma0 must be a finite number > 0"),
        (((4, "snes", {"population": 1}),), "population must be an integer >= 2"),
        (((4, "snes", {"continue": "yes"}),), "continue must be true or false"),
        (((4, "snes", {"continue": True}),), "keeps the previous stage's strategy"),
        (
            ((4, "sep-cma-es", {"continue": True, "sigma0": 0.1}),),
            "give no sigma0",
        ),
    ],
)
def test_bad_entries_are_refused(entries, words):
    with pytest.raises(
        ConfigError, match=words.replace("(", r"\(").replace(")", r"\)")
    ):
        TrainConfig(**BASE | dict(strategy_schedule=entries))


def test_an_unknown_strategy_or_option_fails_before_training(tmp_path):
    from hebbjax.evolution.train import build_run

    with pytest.raises(ValueError, match="openai-es"):
        build_run(TrainConfig(**BASE | dict(strategy_schedule=((4, "openai-ess"),))))
    with pytest.raises(ValueError, match="learning_rat"):
        build_run(
            TrainConfig(
                **BASE
                | dict(strategy_schedule=((4, "openai-es", {"learning_rat": 1}),))
            )
        )


def test_the_cli_flag_and_config_files(tmp_path, capsys):
    out = tmp_path / "run"
    flags = ["train", "--task", "maze9", "--model", "decprnn-postdn", "--out", str(out)]
    flags += ["--strategy", "sep-cma-es", "--population", "4", "--generations", "4"]
    flags += ["--tasks-per-gen", "1", "--validate-every", "2", "--n-validation", "4"]
    flags += ["--model-opt", "hidden=4", "--task-opt", "max_steps=10", "--quiet"]
    stages = '[[2, "openai-es", {"sigma0": 0.01}]]'
    assert main([*flags, "--strategy-schedule", stages]) == 0
    saved = json.loads((out / "config.json").read_text())
    assert saved["strategy_schedule"] == [[2, "openai-es", {"sigma0": 0.01}]]
    assert TrainConfig.from_file(out / "config.json").strategy_schedule == (
        (2, "openai-es", {"sigma0": 0.01}),
    )
    with pytest.raises(SystemExit) as exit_info:
        main([*flags, "--strategy-schedule", '{"4": "snes"}'])
    assert exit_info.value.code == 2
    assert "[first generation, strategy]" in capsys.readouterr().err

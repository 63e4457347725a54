"""Every bad input gets one line naming the problem (and the valid choices), exit code 2.

A table of inputs a hostile user might try, by class: names, numbers, options, files,
output paths, run directories and resume. Each row: the argv (with ``{tmp}`` for a scratch
folder and ``{genome}``, ``{mazes}`` for prepared files), the exit code, and words the one
error line must hold.
"""

import json
import os
import zipfile

import numpy as np
import pytest

from hebbjax.cli import main
from hebbjax.data import path as data_path

TRAIN = ["train", "--task", "maze9", "--population", "4", "--generations", "1",
         "--quiet", "--out", "{tmp}/run-{i}"]  # fmt: skip
EVAL = ["eval", "--model", "decprnn-postdn", "--task", "maze15", "--n-tasks", "2"]

CASES = [
    # names
    (["train", "--model", "decprnn-postdm"], "did you mean 'decprnn-postdn'"),
    (["train", "--task", "maze16"], "valid task names: maze9"),
    (["train", "--strategy", "cmaes"], "valid strategy names: sep-cma-es"),
    (["train", "--task", "gymnax:Cartpole-v1"], "did you mean 'gymnax:CartPole-v1'"),
    (["eval", "--genome", "{genome}", "--model", "nope"], "unknown model 'nope'"),
    (["models", "--options", "nope"], "unknown model 'nope'"),
    (["strategies", "--options", "nope"], "unknown strategy 'nope'"),
    (["baselines", "--task", "seqpred-l1-k10-n20"], "maze tasks only"),
    (["eval", "--genome", "paper:decprnn-postdm"], "valid names: paper:decprnn-postdn"),
    # numbers
    ([*TRAIN, "--population", "1"], "population must be >= 2"),
    ([*TRAIN, "--sigma0", "inf"], "must be a finite number > 0"),
    ([*TRAIN, "--sigma0", "nan"], "must be a finite number > 0"),
    ([*TRAIN, "--sigma0", "-0.1"], "must be a finite number > 0"),
    ([*TRAIN, "--generations", "0"], "must be >= 1"),
    ([*TRAIN, "--tasks-per-gen", "0"], "must be >= 1"),
    ([*TRAIN, "--n-validation", "5000"], "exceeds the 1024 tasks"),
    ([*EVAL, "--genome", "{genome}", "--n-tasks", "5000"], "holds 2048 tasks"),
    # options
    (
        [*TRAIN, "--model-opt", "nosuch=1"],
        "unknown model option 'nosuch'; valid options: hidden",
    ),
    ([*TRAIN, "--model-opt", "hidden=abc"], "hidden must be a whole number"),
    ([*TRAIN, "--model-opt", "hidden=-3"], "hidden must be a whole number >= 1"),
    ([*TRAIN, "--model-opt", "hidden=0"], "hidden must be a whole number >= 1"),
    ([*TRAIN, "--model-opt", "modulated_scale=inf"], "modulated_scale must be finite"),
    (
        [*TRAIN, "--model", "prnn-postdn", "--model-opt", "rule=hebb"],
        "valid rule names: abcd",
    ),
    ([*TRAIN, "--model-opt", "rule=abcd"], "unknown model option 'rule'"),
    ([*TRAIN, "--model-opt", "hidden"], "expects KEY=VALUE"),
    ([*TRAIN, "--task-opt", "n_rollouts=0"], "n_rollouts must be a whole number >= 1"),
    ([*TRAIN, "--task-opt", "max_steps=0"], "max_steps must be a whole number >= 1"),
    ([*TRAIN, "--task-opt", "name=x"], "set by hebbjax"),
    (
        [*TRAIN, "--task-opt", "nosuch=9"],
        "unknown task option 'nosuch'; valid options: size",
    ),
    ([*TRAIN, "--task-opt", "obs_sign=upside"], "valid: paper, metagym-head"),
    ([*TRAIN, "--strategy-opt", "nosuch=1"], "unknown parameter"),
    ([*TRAIN, "--strategy-opt", "c_cov=fast"], "c_cov must be a number"),
    ([*TRAIN, "--log", "stdout"], "valid: csv, tensorboard, wandb"),
    # files
    ([*EVAL, "--genome", "{tmp}/missing.npy"], "no genome file"),
    ([*EVAL, "--genome", "{empty_npy}"], "not a readable genome file"),
    ([*EVAL, "--genome", "{text_npy}"], "not a numpy array file"),
    (
        [*EVAL, "--genome", "{truncated_npz}", "--genome-format", "npz"],
        "not a readable genome file",
    ),
    ([*EVAL, "--genome", "{truncated_npz}"], "not a readable genome file"),  # auto
    ([*EVAL, "--genome", "{short_npy}"], "expected (1347,)"),
    ([*EVAL, "--genome", "{nan_npy}"], "non-finite genes"),
    (
        [*EVAL, "--genome", "{genome}", "--genome-format", "npz"],
        "use --genome-format epann",
    ),
    (
        [*EVAL, "--genome", "{genome}", "--mazes", "{empty_mazes}"],
        "the maze set is empty",
    ),
    ([*EVAL, "--genome", "{genome}", "--mazes", "{unreachable}"], "cannot be reached"),
    (
        [*EVAL, "--genome", "{genome}", "--mazes", "paper:maze9-validation"],
        "holds 9x9 mazes",
    ),
    (
        [*EVAL, "--genome", "{genome}", "--mazes", "{truncated_npz}"],
        "not a readable npz maze file",
    ),
    (
        [*EVAL, "--genome", "{genome}", "--mazes", "{text_npy}"],
        "not a readable npz maze file",
    ),
    ([*EVAL, "--genome", "{genome}", "--set", "train"], "valid sets: validation, test"),
    (["train", "--config", "{tmp}/nope.json"], "cannot read config"),
    (["train", "--config", "{bad_json}"], "not valid JSON"),
    (["train", "--config", "{bad_toml}"], "not valid TOML"),
    (["train", "--config", "{unknown_key}"], "unknown config key(s) ['populaton']"),
    (["train", "--config", "{wrong_type}"], "population must be int"),
    (["eval", "--run", "{tmp}"], "no hebbjax run"),
    (["eval", "--run", "{bad_run}"], "not valid JSON"),
    # output paths
    ([*TRAIN[:-1], "{a_file}"], "is a file, not a directory"),
    ([*TRAIN[:-1], "/proc/hebbjax-run"], "cannot create the run directory"),
    # run directories and resume
    ([*TRAIN[:-1], "{results_only}"], "holds a run's files"),
    (["train", "--resume", "--out", "{tmp}/none", "--quiet"], "nothing to resume"),
    (["train", "--resume", "--out", "{damaged_run}", "--quiet"], "damaged"),
    (
        ["train", "--resume", "--out", "{damaged_run}", "--preset", "paper"],
        "drop --config/--preset",
    ),
]
IDS = [f"{i:02d}-{' '.join(argv)[:60]}" for i, (argv, _) in enumerate(CASES)]


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("bad")
    genome = np.load(data_path("paper:decprnn-postdn"))
    out = {"tmp": str(tmp), "genome": str(data_path("paper:decprnn-postdn"))}

    def put(name, writer):
        p = tmp / name
        writer(p)
        out[name.split(".")[0]] = str(p)

    put("empty_npy.npy", lambda p: p.write_bytes(b""))
    put("text_npy.npy", lambda p: p.write_text("not numbers\n"))
    put("short_npy.npy", lambda p: np.save(p, genome[:100]))
    put(
        "nan_npy.npy",
        lambda p: np.save(p, np.where(np.arange(genome.size) == 7, np.nan, genome)),
    )
    np.savez(tmp / "whole.npz", a=np.zeros(1000))
    put(
        "truncated_npz.npz",
        lambda p: p.write_bytes((tmp / "whole.npz").read_bytes()[:300]),
    )
    put("empty_mazes.npz", lambda p: np.savez(
        p, walls=np.zeros((0, 15, 15), np.int8), start=np.zeros((0, 2), np.int32),
        goal=np.zeros((0, 2), np.int32)))  # fmt: skip
    with np.load(data_path("paper:maze15-validation")) as d:
        walls, start, goal = (
            d["walls"][:2].copy(),
            d["start"][:2].copy(),
            d["goal"][:2].copy(),
        )
    gx, gy = goal[1]
    walls[1, gx - 1 : gx + 2, gy - 1 : gy + 2] = 1  # wall the goal in
    walls[1, gx, gy] = 0
    put("unreachable.npz", lambda p: np.savez(p, walls=walls, start=start, goal=goal))
    put("bad_json.json", lambda p: p.write_text("{population: 4"))
    put("bad_toml.toml", lambda p: p.write_text("population = = 4"))
    put("unknown_key.json", lambda p: p.write_text(json.dumps({"populaton": 4})))
    put("wrong_type.json", lambda p: p.write_text(json.dumps({"population": "many"})))
    put("a_file.txt", lambda p: p.write_text("x"))
    bad_run = tmp / "bad_run"
    bad_run.mkdir()
    (bad_run / "config.json").write_text("{")
    out["bad_run"] = str(bad_run)
    results_only = tmp / "results_only"
    results_only.mkdir()
    (results_only / "metrics.jsonl").write_text("{}\n")
    out["results_only"] = str(results_only)
    damaged = tmp / "damaged_run"
    damaged.mkdir()
    (damaged / "config.json").write_text(json.dumps({"task": "maze9", "population": 4}))
    with zipfile.ZipFile(damaged / "checkpoint.npz", "w") as z:
        z.writestr("x.npy", b"\x93NUMPY")
    out["damaged_run"] = str(damaged)
    return out


@pytest.mark.parametrize(("argv", "words"), CASES, ids=IDS)
def test_bad_input_is_one_line_and_exit_2(argv, words, files, capsys):
    argv = [a.format(i=CASES.index((argv, words)), **files) for a in argv]
    try:
        code = main(argv)
    except SystemExit as exit:  # argparse's own checks
        code = exit.code
    err = capsys.readouterr().err.strip()
    assert code == 2, err
    last = err.splitlines()[-1]
    assert "Traceback" not in err
    assert words in last, last
    assert last.startswith("hebbjax ") or last.startswith("usage:") or "error:" in last


def test_eval_json_is_valid_with_non_finite_results(files, tmp_path, capsys):
    genome = np.load(files["genome"]) * 1e30  # finite genes, non-finite outputs
    path = tmp_path / "huge.npy"
    np.save(path, genome.astype(np.float32))
    code = main([*EVAL, "--genome", str(path), "--json"])
    captured = capsys.readouterr()
    assert code == 0
    summary = json.loads(captured.out)["maze15"]["test"]  # strict JSON: no bare NaN
    assert "NaN" not in captured.out
    if summary["n_nonfinite"]:
        assert summary["score"] is None and "non-finite" in captured.err


def test_files_are_readable_as_the_umask_allows(tmp_path):
    from hebbjax.checkpoint import atomic_write_bytes

    old = os.umask(0o022)
    try:
        atomic_write_bytes(tmp_path / "f.json", b"{}")
    finally:
        os.umask(old)
    assert (tmp_path / "f.json").stat().st_mode & 0o777 == 0o644
    assert not list(tmp_path.glob(".*.tmp"))

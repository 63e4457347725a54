"""Crash safety as an invariant: a run killed at any moment, then resumed, ends with exactly
the files of an uninterrupted run (metrics up to timing fields, genomes, checkpoint, config).

Kill moments: inside every atomic write of a run (the process dies just before the rename,
its temporary file written: ``HEBBJAX_KILL_AT_WRITE``), and at random times. SIGINT and
SIGTERM stop a run cleanly with a checkpoint. The default suite covers a sample of moments
and SIGTERM; ``-m slow`` covers every write of the run, more random kills and SIGINT.
"""

import json
import os
import random
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from hebbjax.checkpoint import load_checkpoint
from hebbjax.evolution.train import TIMING_FIELDS, read_metrics

FLAGS = [
    "--task", "maze9", "--model", "decprnn-postdn", "--strategy", "sep-cma-es",
    "--population", "6", "--generations", "9", "--tasks-per-gen", "2", "--sigma0", "0.05",
    "--validate-every", "4", "--n-validation", "8", "--checkpoint-every", "3",
    "--model-opt", "hidden=8", "--task-opt", "max_steps=30", "--quiet", "--log", "csv",
]  # fmt: skip


def _env(tmp_path, **extra):
    env = dict(os.environ, PYTHONUNBUFFERED="1", HEBBJAX_CPU_DEVICES="2")
    env["HEBBJAX_CACHE"] = str(tmp_path.parent / "jax-cache")  # shared across runs
    env["XLA_FLAGS"] = os.environ["HEBBJAX_TEST_XLA_FLAGS"]  # not the device count
    return env | {k: str(v) for k, v in extra.items()}


def _train(out, tmp_path, *extra, env=None, wait=True):
    proc = subprocess.Popen(
        [sys.executable, "-m", "hebbjax", "train", *FLAGS, "--out", str(out), *extra],
        env=env or _env(tmp_path),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    if wait:
        _finish(proc)
    return proc


def _finish(proc, timeout=300):
    """Wait, and keep stderr as ``proc.err`` (the pipe closed)."""
    _, proc.err = proc.communicate(timeout=timeout)
    return proc.returncode


def _files(run):
    """Everything a run leaves that must not depend on interruptions."""
    metrics = [
        {k: v for k, v in r.items() if k not in TIMING_FIELDS}
        for r in read_metrics(run)
    ]
    arrays, meta = load_checkpoint(run / "checkpoint.npz")
    genomes = {}
    for name in ("best_genome.npz", "mean_genome.npz"):
        with np.load(run / name) as data:
            genomes[name] = {k: data[k] for k in data.files}
    csv_rows = (run / "metrics.csv").read_text().splitlines()
    header = csv_rows[0].split(",")
    keep = [i for i, c in enumerate(header) if c not in TIMING_FIELDS]
    csv = [[row.split(",")[i] for i in keep] for row in csv_rows]
    return dict(
        metrics=metrics,
        arrays=arrays,
        meta=meta,
        genomes=genomes,
        config=json.loads((run / "config.json").read_text()),
        csv=csv,
        temporaries=sorted(p.name for p in run.glob(".*.tmp")),
    )


def _assert_same(a, b):
    assert a["metrics"] == b["metrics"]
    assert a["meta"] == b["meta"] and a["config"] == b["config"]
    assert a["arrays"].keys() == b["arrays"].keys()
    for k in a["arrays"]:
        np.testing.assert_array_equal(a["arrays"][k], b["arrays"][k], err_msg=k)
    for name in a["genomes"]:
        for k in a["genomes"][name]:
            np.testing.assert_array_equal(a["genomes"][name][k], b["genomes"][name][k])
    assert a["csv"] == b["csv"]
    assert b["temporaries"] == []


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("crash")
    out = tmp / "reference"
    log = tmp / "writes.log"
    proc = _train(out, tmp / "x", env=_env(tmp / "x", HEBBJAX_WRITE_LOG=log))
    assert proc.returncode == 0, proc.err
    writes = log.read_text().split()
    return _files(out), writes, tmp


def _kill_at_write(n, reference, tmp_path):
    files, writes, _ = reference
    out = tmp_path / f"killed-at-{n}"
    proc = _train(out, tmp_path, env=_env(tmp_path, HEBBJAX_KILL_AT_WRITE=n))
    assert proc.returncode == 137, f"write {n} ({writes[n - 1]}): {proc.err}"
    resumed = _train(out, tmp_path, "--resume")
    assert resumed.returncode == 0, resumed.err
    _assert_same(files, _files(out))


def test_the_run_writes_in_commit_order(reference):
    _, writes, _ = reference
    # every checkpoint is preceded by the genomes derived from it
    for i, name in enumerate(writes):
        if name == "checkpoint.npz":
            assert writes[i - 2 : i] == ["best_genome.npz", "mean_genome.npz"]
    assert writes[-1] == "checkpoint.npz"


@pytest.mark.parametrize(
    "where",
    [
        "first checkpoint",
        pytest.param("a genome", marks=pytest.mark.slow),  # every write: -m slow
        "last checkpoint",
    ],
)
def test_kill_inside_a_write_then_resume(where, reference, tmp_path):
    _, writes, _ = reference
    n = {
        "first checkpoint": writes.index("checkpoint.npz") + 1,
        "a genome": len(writes) - writes[::-1].index("mean_genome.npz"),
        "last checkpoint": len(writes),
    }[where]
    _kill_at_write(n, reference, tmp_path)


@pytest.mark.slow
def test_kill_inside_every_write_then_resume(reference, tmp_path):
    _, writes, _ = reference
    for n in range(1, len(writes) + 1):
        _kill_at_write(n, reference, tmp_path)


@pytest.mark.slow
@pytest.mark.parametrize("seed", range(5))
def test_kill_at_a_random_time_then_resume(seed, reference, tmp_path):
    files, _, _ = reference
    out = tmp_path / f"random-{seed}"
    proc = _train(out, tmp_path, wait=False)
    time.sleep(random.Random(seed).uniform(2.0, 12.0))
    proc.send_signal(signal.SIGKILL)
    _finish(proc)
    if (out / "config.json").exists():  # a run killed before its first checkpoint
        resumed = _train(out, tmp_path, "--resume")  # starts again
    else:
        resumed = _train(out, tmp_path)
    assert resumed.returncode == 0, resumed.err
    _assert_same(files, _files(out))


# one handler serves both signals: SIGINT runs with -m slow
@pytest.mark.parametrize(
    "sig", [pytest.param(signal.SIGINT, marks=pytest.mark.slow), signal.SIGTERM]
)
def test_a_signal_stops_with_a_checkpoint(sig, reference, tmp_path):
    files, writes, _ = reference
    out = tmp_path / f"signal-{sig}"
    # the signal arrives inside the first checkpoint's write (mid-run, generation 3 of 9):
    # sent by the process to itself there, so the run cannot end before it arrives
    at = writes.index("checkpoint.npz") + 1
    proc = _train(
        out, tmp_path, env=_env(tmp_path, HEBBJAX_SIGNAL_AT_WRITE=f"{at}:{sig}")
    )
    err = proc.err
    assert proc.returncode == 128 + sig, err
    assert "checkpoint written" in err and "--resume" in err
    _, meta = load_checkpoint(out / "checkpoint.npz")
    assert meta["generation"] == len(read_metrics(out)) < 9
    resumed = _train(out, tmp_path, "--resume")
    assert resumed.returncode == 0, resumed.err
    _assert_same(files, _files(out))


def test_two_runs_on_one_directory(reference, tmp_path):
    out = tmp_path / "shared"
    first = _train(out, tmp_path, "--generations", "100000", wait=False)
    deadline = time.time() + 300
    while time.time() < deadline and not (out / "checkpoint.npz").exists():
        time.sleep(0.05)
    second = _train(out, tmp_path, "--resume", "--generations", "100000")
    assert second.returncode == 2, second.err
    assert "in use by pid" in second.err
    first.send_signal(signal.SIGTERM)  # stops cleanly after its generation
    assert _finish(first) == 128 + signal.SIGTERM, first.err

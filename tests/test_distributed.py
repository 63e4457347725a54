"""The same run on two local processes (jax.distributed, gloo CPU collectives) as on one.

2 processes x 1 device and 1 process x 2 devices shard the population the same way and give
bit-identical genomes and metrics; 1 process x 1 device evaluates the population as one block,
whose vectorised float32 arithmetic rounds differently in the last bit, so it is compared
within 1e-6. Process 0 alone writes the run directory.
"""

import json
import os
import socket
import subprocess
import sys

import numpy as np
import pytest

from hebbjax.evolution.train import TIMING_FIELDS

FLAGS = [
    "--task", "maze9", "--population", "6", "--generations", "3", "--tasks-per-gen", "2",
    "--validate-every", "2", "--n-validation", "8", "--checkpoint-every", "2",
    "--model-opt", "hidden=8", "--task-opt", "max_steps=30", "--strategy", "sep-cma-es",
    "--quiet",
]  # fmt: skip


def _env(devices: int, tmp_path) -> dict:
    env = dict(os.environ, HEBBJAX_CPU_DEVICES=str(devices), PYTHONUNBUFFERED="1")
    env["HEBBJAX_CACHE"] = str(tmp_path / "cache")
    env["XLA_FLAGS"] = os.environ["HEBBJAX_TEST_XLA_FLAGS"]  # not the device count
    return env


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("localhost", 0))
        return s.getsockname()[1]


def _command(out, *extra):
    return [sys.executable, "-m", "hebbjax", "train", *FLAGS, "--out", str(out), *extra]


def _load(run):
    with np.load(run / "mean_genome.npz") as data:
        genome = {k: data[k] for k in data.files}
    metrics = [
        json.loads(line)
        for line in (run / "metrics.jsonl").read_text().split("\n")
        if line
    ]
    science = [{k: v for k, v in r.items() if k not in TIMING_FIELDS} for r in metrics]
    return genome, science


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("distributed")
    port = _free_port()
    procs = [
        subprocess.Popen(
            _command(
                tmp / "two-processes",
                "--distributed",
                "--coordinator",
                f"localhost:{port}",
                "--num-processes",
                "2",
                "--process-id",
                str(i),
            ),
            env=_env(1, tmp),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )  # fmt: skip
        for i in (0, 1)
    ]
    try:
        for i, proc in enumerate(procs):
            out, err = proc.communicate(timeout=600)
            assert proc.returncode == 0, f"process {i}: {err[-3000:]}"
            if i == 1:
                assert "done:" not in err  # process 1 reports nothing
    finally:  # a failed process leaves its peer waiting on the coordinator
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
                proc.communicate()
    for name, devices in (("one-process-two-devices", 2), ("one-device", 1)):
        done = subprocess.run(
            _command(tmp / name), env=_env(devices, tmp), capture_output=True, text=True,
            timeout=600,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr[-3000:]
    return {name: _load(tmp / name) for name in
            ("two-processes", "one-process-two-devices", "one-device")}  # fmt: skip


def test_two_processes_equal_one_process_with_two_devices(runs):
    genome_a, metrics_a = runs["two-processes"]
    genome_b, metrics_b = runs["one-process-two-devices"]
    for name in genome_a:
        np.testing.assert_array_equal(genome_a[name], genome_b[name], err_msg=name)
    assert metrics_a == metrics_b
    assert len(metrics_a) == 3 and "final_validation" in metrics_a[-1]


def test_one_device_agrees_within_float32_rounding(runs):
    genome_a, metrics_a = runs["two-processes"]
    genome_c, metrics_c = runs["one-device"]
    for name in genome_a:
        np.testing.assert_allclose(genome_a[name], genome_c[name], rtol=1e-6, atol=1e-6)
    for a, c in zip(metrics_a, metrics_c, strict=True):
        np.testing.assert_allclose(
            a["fitness_mean"], c["fitness_mean"], rtol=1e-5, atol=1e-6
        )
        assert a["env_steps"] == c["env_steps"]

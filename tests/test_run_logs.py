"""What a researcher reads of a run: progress lines in a log, TensorBoard events and CSV,
config files that relaunch a run, plugins seen by every command, files others can read."""

import json
import struct
from pathlib import Path

import numpy as np
import pytest

from hebbjax.cli import main
from hebbjax.evolution.train import read_metrics

EXAMPLE = str(Path(__file__).parents[1] / "examples" / "custom_rule_and_strategy.py")
TINY = ["--task", "maze9", "--population", "4", "--generations", "30", "--tasks-per-gen",
        "1", "--validate-every", "15", "--n-validation", "4", "--checkpoint-every", "10",
        "--model-opt", "hidden=4", "--task-opt", "max_steps=10", "--strategy", "sep-cma-es",
        "--no-compile-cache"]  # fmt: skip


def read_events(folder: Path) -> dict[str, list[tuple[int, float]]]:
    """Scalars of TensorBoard event files, read as TensorBoard does (TFRecord frames of
    ``Event`` protos)."""
    from tensorboardX.proto.event_pb2 import Event

    scalars: dict[str, list[tuple[int, float]]] = {}
    for path in sorted(folder.glob("events.out.tfevents.*")):
        data = path.read_bytes()
        offset = 0
        while offset < len(data):
            (length,) = struct.unpack("<Q", data[offset : offset + 8])
            record = data[offset + 12 : offset + 12 + length]
            offset += 12 + length + 4
            event = Event()
            event.ParseFromString(record)
            for value in event.summary.value:
                scalars.setdefault(value.tag, []).append(
                    (event.step, value.simple_value)
                )
    return scalars


@pytest.fixture(scope="module")
def logged_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("logs") / "run"
    assert main(["train", *TINY, "--out", str(out), "--log", "csv,tensorboard"]) == 0
    return out


def test_plain_progress_lines_in_a_log(tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["train", *TINY, "--out", str(out), "--progress-every", "10"]) == 0
    err = capsys.readouterr().err
    lines = [
        line for line in err.splitlines() if line.startswith("gen ") and "/30" in line
    ]
    done = [int(line.split()[1].split("/")[0]) for line in lines]
    assert {10, 20, 30} <= set(done) and max(
        b - a for a, b in zip(done, done[1:], strict=False)
    ) <= 10
    for line in lines:  # full lines: nothing cut, every field present
        assert "best" in line and "val" in line and "steps/s" in line and "ETA" in line
        assert "…" not in line


def test_tensorboard_and_csv(logged_run):
    scalars = read_events(logged_run / "tensorboard")
    records = read_metrics(logged_run)
    assert [s for s, _ in scalars["fitness_mean"]] == list(range(30))
    np.testing.assert_allclose(
        [v for _, v in scalars["fitness_mean"]], [r["fitness_mean"] for r in records],
        rtol=1e-6,
    )  # fmt: skip
    assert [s for s, _ in scalars["validation/score"]] == [0, 15]
    csv = (logged_run / "metrics.csv").read_text().splitlines()
    assert len(csv) == 31 and "validation/score" in csv[0].split(",")


def test_a_run_relaunches_from_its_config(logged_run, tmp_path):
    out = tmp_path / "again"
    assert main(["train", "--config", str(logged_run / "config.json"), "--out", str(out),
                 "--quiet", "--no-compile-cache"]) == 0  # fmt: skip
    a = json.loads((logged_run / "config.json").read_text())
    b = json.loads((out / "config.json").read_text())
    assert a == b
    assert [r["fitness_mean"] for r in read_metrics(out)] == [
        r["fitness_mean"] for r in read_metrics(logged_run)
    ]
    toml = tmp_path / "run.toml"
    toml.write_text('task = "maze9"\npopulation = 4\ngenerations = 2\nn_validation = 4\n'
                    'model_kwargs = { hidden = 4 }\n')  # fmt: skip
    assert main(["train", "--config", str(toml), "--sigma0", "0.02", "--out",
                 str(tmp_path / "toml"), "--quiet"]) == 0  # fmt: skip
    config = json.loads((tmp_path / "toml" / "config.json").read_text())
    assert (config["population"], config["sigma0"], config["preset"]) == (
        4,
        0.02,
        "small",
    )
    assert config["validate_every"] == 25  # from the preset, unset in the file


def _forget_plugin():
    import sys

    from hebbjax.evolution.strategies import STRATEGIES
    from hebbjax.rules import RULES

    RULES._items.pop("oja", None)
    STRATEGIES._items.pop("pgpe-fast", None)
    sys.modules.pop("custom_rule_and_strategy", None)


def test_plugins_work_in_every_command(tmp_path, capsys):
    out = tmp_path / "oja"
    argv = ["--import", EXAMPLE, "train", *TINY, "--model", "prnn-postdn", "--model-opt",
            "rule=oja", "--strategy", "pgpe-fast", "--out", str(out), "--quiet",
            "--generations", "2"]  # fmt: skip
    try:
        assert main(argv) == 0
        config = json.loads((out / "config.json").read_text())
        assert config["plugins"] == [EXAMPLE]
        _forget_plugin()  # as in a fresh process
        # eval --run imports the run's plugins from its config
        capsys.readouterr()
        assert main(["eval", "--run", str(out), "--set", "validation", "--n-tasks", "2",
                     "--json"]) == 0  # fmt: skip
        assert "maze9" in json.loads(capsys.readouterr().out)
        assert main(["rules", "--json"]) == 0
        assert "oja" in capsys.readouterr().out
    finally:
        _forget_plugin()


def test_run_files_are_readable_by_others(logged_run):
    for name in ("config.json", "metrics.jsonl", "checkpoint.npz", "mean_genome.npz"):
        assert (logged_run / name).stat().st_mode & 0o044, name

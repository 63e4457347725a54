"""Checkpoints are atomic plain arrays with clear errors; configs round-trip and validate."""

import json

import jax.numpy as jnp
import numpy as np
import pytest

from hebbjax.checkpoint import (
    CheckpointError,
    flatten_named,
    load_checkpoint,
    save_checkpoint,
    unflatten_named,
)
from hebbjax.config import TrainConfig


def test_checkpoint_round_trip_and_shapes(tmp_path):
    tree = {"a": jnp.arange(3.0), "b": {"c": jnp.ones((2, 2), jnp.int32)}}
    path = tmp_path / "ck.npz"
    save_checkpoint(path, flatten_named(tree, "s"), {"generation": 7})
    arrays, meta = load_checkpoint(path)
    assert meta == {"generation": 7}
    back = unflatten_named(tree, arrays, "s")
    np.testing.assert_array_equal(back["a"], tree["a"])
    assert back["b"]["c"].dtype == np.int32
    wrong = {"a": jnp.arange(4.0), "b": {"c": jnp.ones((2, 2), jnp.int32)}}
    with pytest.raises(CheckpointError, match="shape"):
        unflatten_named(wrong, arrays, "s")
    with pytest.raises(CheckpointError, match="lacks"):
        unflatten_named({"z": jnp.zeros(1)}, arrays, "s")
    # no temporary files are left behind
    assert [p.name for p in tmp_path.iterdir()] == ["ck.npz"]


def test_damaged_checkpoint_is_a_clear_error(tmp_path):
    path = tmp_path / "ck.npz"
    save_checkpoint(path, {"x": np.zeros(100)}, {"generation": 1})
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(CheckpointError, match="damaged"):
        load_checkpoint(path)
    with pytest.raises(CheckpointError, match="no checkpoint"):
        load_checkpoint(tmp_path / "missing.npz")


def test_checkpoint_never_pickles(tmp_path):
    path = tmp_path / "ck.npz"
    with pytest.raises(ValueError, match="dtype object"):
        save_checkpoint(path, {"x": np.array([object()], dtype=object)}, {})
    assert not path.exists()


def test_config_round_trip_and_validation():
    config = TrainConfig.from_preset("paper", model="decprnn", generations=10)
    assert config.population == 360 and config.strategy == "paper-cmaes"
    again = TrainConfig.from_json(config.to_json())
    assert again == config
    assert [config.tasks_at(g) for g in (0, 3999, 4000, 8000)] == [2, 2, 4, 8]
    with pytest.raises(ValueError, match="population"):
        TrainConfig(population=1)
    with pytest.raises(ValueError, match="schedule"):
        TrainConfig(schedule=((5, 2),))
    with pytest.raises(ValueError, match="unknown preset"):
        TrainConfig.from_preset("huge")
    with pytest.raises(ValueError, match="unknown config key"):
        TrainConfig.from_json(json.dumps({"populaton": 3}))

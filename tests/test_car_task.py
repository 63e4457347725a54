"""The car tasks (Najarro & Risi's ``car``, Palm et al.'s ``car-palm``): sets, models built for
them, one lifetime with the early stop, the variations, and ``hebbjax eval`` per variation.

Each compiled lifetime costs ~30 s on CPU (the renderer dominates): one probed lifetime is
shared by the lifetime tests, and the CLI test compiles one more."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from hebbjax.cli import main
from hebbjax.config import TrainConfig
from hebbjax.models import make_model
from hebbjax.models.base import n_gene
from hebbjax.models.genome_io import save_genome_npz
from hebbjax.tasks import make_task
from hebbjax.tasks.car import VARIATION_NAMES, CarTask, coefficient_mean_square
from hebbjax.tasks.lifetime import Probe

MAX_STEPS = 24


def test_tasks_sets_and_models():
    car, palm = make_task("car"), make_task("car-palm")
    assert (car.n_in, car.n_out, car.n_rollouts) == (3 * 84 * 84, 3, 1)
    assert palm.n_rollouts == 4 and palm.settings["neg_reward_limit"] == 19
    assert car.settings["neg_reward_limit"] == 20 and car.eval_sets == ("test",)
    assert palm.eval_sets == tuple(f"variant:{v}" for v in VARIATION_NAMES)
    val = palm.validation_set()
    assert val.track_seed.shape[:2] == (64, 4) and val.variation.shape == (64, 4)
    assert (np.asarray(val.variation) == [0, 1, 2, 3]).all()
    # one track per lifetime, and the fixed sets are the same on every call
    assert len(np.unique(np.asarray(val.track_seed).reshape(-1, 2), axis=0)) == 256
    assert palm.validation_set() is val
    default, right = (
        palm.task_set("variant:default"),
        palm.task_set("variant:pushed-right"),
    )
    np.testing.assert_array_equal(default.track_seed, right.track_seed)
    assert (np.asarray(right.variation) == VARIATION_NAMES.index("pushed-right")).all()
    np.testing.assert_array_equal(palm.test_set().variation, right.variation)
    assert palm.sets["variant:pushed-right"].role == "held-out"
    assert palm.sets["variant:pushed-left"].role == "train"
    sample = palm.sample_params(jax.random.key(0))
    assert sample.track_seed.shape[0] == 4
    for name, genes in (("hebbian-cnn", 458_002), ("static-cnn", 92_690)):
        model = make_model(name, n_in=car.n_in, n_out=car.n_out)
        assert n_gene(model) == genes
    make_model("lstm-cnn", n_in=car.n_in, n_out=car.n_out)
    with pytest.raises(ValueError, match="3x84x84"):
        make_model("hebbian-cnn", n_in=27, n_out=8)
    with pytest.raises(ValueError, match="valid: najarro, palm"):
        make_task("car", protocol="monza")
    with pytest.raises(ValueError, match="n_in=21168"):
        car.lifetime(make_model("meta-rnn", n_in=4, n_out=3))
    # Najarro's penalty: the Hebbian coefficients only, not the convolutions
    params = {"conv_1/W": jnp.full((2,), 10.0), "layer_1/coeffs": jnp.full((2, 5), 2.0)}
    assert float(coefficient_mean_square(params)) == pytest.approx(4.0)
    assert float(coefficient_mean_square({"conv_1/W": jnp.ones(3)})) == 0.0


@pytest.fixture(scope="module")
def standing_still():
    """Every variation on one track, the network's actions overridden to zero (a car that
    stands still): one compiled Hebbian lifetime with positions and actions traced."""
    task = make_task("car-palm", max_steps=MAX_STEPS)
    model = make_model("hebbian-cnn", n_in=task.n_in, n_out=task.n_out)
    params = model.init_params(jax.random.key(0))
    n = len(VARIATION_NAMES)
    seeds = jnp.broadcast_to(jax.random.key_data(jax.random.key(7)), (n, 2))
    five = CarTask(seeds, jnp.arange(n, dtype=jnp.int32))
    probe = Probe(record=("position", "action"), override_actions=(0, MAX_STEPS, 0.0))
    result, trace = jax.jit(task.lifetime(model, probe))(
        params, five, jax.random.key(1)
    )
    return task, jax.device_get(result), jax.device_get(trace)


def test_a_lifetime_runs_and_stops_early(standing_still):
    task, result, trace = standing_still
    steps = dict(zip(VARIATION_NAMES, np.asarray(result.steps).tolist(), strict=True))
    assert np.isfinite(result.fitness) and np.isfinite(result.returns).all()
    assert np.allclose(result.fitness, np.mean(result.returns))  # palm: no penalty
    # the reset's tiles are paid with the first step, then -0.1 per frame: Palm's limit
    # 19 stops the still car after 20 negative rewards, before the 24-step limit
    assert steps["default"] == steps["half-friction"] == 21 < MAX_STEPS
    returns = dict(zip(VARIATION_NAMES, np.asarray(result.returns), strict=True))
    assert returns["default"] == pytest.approx(returns["half-friction"])
    assert (np.asarray(trace["action"])[trace["valid"]] == 0.0).all()


def test_a_variation_differs_from_default(standing_still):
    _, result, trace = standing_still
    pos = np.asarray(trace["position"])  # (variation, step, 2)
    valid = np.asarray(trace["valid"])
    last = {v: pos[i][valid[i]][-1] - pos[i][0] for i, v in enumerate(VARIATION_NAMES)}
    assert np.linalg.norm(last["default"]) < 0.05  # standing still
    np.testing.assert_allclose(last["half-friction"], last["default"], atol=1e-4)
    # the side force pushes the idle car, to opposite sides
    left, right = last["pushed-left"], last["pushed-right"]
    assert np.linalg.norm(left) > 0.1 and np.linalg.norm(right) > 0.1
    np.testing.assert_allclose(left, -right, rtol=0.1, atol=0.02)


def test_eval_prints_every_variation(tmp_path, capsys):
    run = tmp_path / "run"
    run.mkdir()
    opts = dict(max_steps=8, n_validation=1, n_test=2)
    config = TrainConfig(task="car-palm", model="static-cnn", task_kwargs=opts)
    (run / "config.json").write_text(config.to_json())
    model = make_model("static-cnn")
    save_genome_npz(run / "best_genome.npz", model.init_params(jax.random.key(0)))
    assert main(["eval", "--run", str(run), "--n-tasks", "1"]) == 0
    out = capsys.readouterr().out
    for variation in VARIATION_NAMES:
        role = "held-out" if variation == "pushed-right" else "train"
        assert f"set variant:{variation} (1 lifetimes, {role}): score" in out
    rows = [line.split() for line in out.splitlines() if "variation 1" in line]
    assert len(rows) == 5 and all(np.isfinite(float(r[4])) for r in rows)


@pytest.mark.slow
def test_without_early_stop_an_idle_car_runs_to_the_limit():
    task = make_task("car", max_steps=30, early_stop=False)
    model = make_model("static-cnn", n_in=task.n_in, n_out=task.n_out)
    probe = Probe(override_actions=(0, 30, 0.0))
    run = jax.jit(task.lifetime(model, probe))
    first = jax.tree.map(lambda x: x[0], task.test_set())
    result = run(model.init_params(jax.random.key(0)), first, jax.random.key(1))
    assert (
        int(result.steps[0]) == 30
    )  # with the early stop: 22 (more than 20 negatives)

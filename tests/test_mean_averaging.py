"""benchmarks/mean_averaging.py: a continuation is the run itself, resumable to the bit."""

import numpy as np
from benchmarks import mean_averaging as ma
from jax.flatten_util import ravel_pytree

from hebbjax.config import TrainConfig
from hebbjax.evolution.train import train
from hebbjax.models.genome_io import load_genome

TINY = dict(
    task="maze9",
    model="decprnn-postdn",
    strategy="sep-cma-es",
    population=6,
    schedule=((0, 2), (3, 3)),  # the continuation crosses a schedule change
    repeats=1,
    sigma0=0.05,
    validate_every=100,
    n_validation=4,
    checkpoint_every=100,
    model_kwargs={"hidden": 8},
    task_kwargs={"max_steps": 20},
)


def _flat_mean(run_dir, setup):
    genome = load_genome(run_dir / "mean_genome.npz", setup.model, fmt="npz")
    return np.asarray(ravel_pytree(genome)[0])


def test_continuation_is_training_and_resumes(tmp_path):
    """Two generations of training continued for three give the mean genome of five
    generations of training, bit for bit; stopped after one and continued, the same
    means; the candidates are the means and their averages."""
    train(TrainConfig(generations=2, **TINY), tmp_path / "short")
    train(TrainConfig(generations=5, **TINY), tmp_path / "long")
    setup, g0, means = ma.continue_run(tmp_path / "short", tmp_path / "c1", {}, 3, 2)
    assert g0 == 2 and means.shape[0] == 4
    assert np.array_equal(means[-1], _flat_mean(tmp_path / "long", setup))
    assert np.array_equal(means[0], _flat_mean(tmp_path / "short", setup))
    ma.continue_run(tmp_path / "short", tmp_path / "c2", {}, 1, 1)  # killed after one
    _, g0b, resumed = ma.continue_run(tmp_path / "short", tmp_path / "c2", {}, 3, 1)
    assert g0b == 2 and np.array_equal(resumed, means)

    cands = ma.candidates(means, g0, 2, windows=(2, 9), decays=(0.5,))
    assert set(cands) == {"mean at 2", "mean at 4", "mean at 5",
                          "average of the last 2", "EMA 0.5"}  # fmt: skip
    np.testing.assert_allclose(cands["average of the last 2"], means[-2:].mean(0))
    ema = ((means[0] * 0.5 + means[1] * 0.5) * 0.5 + means[2] * 0.5) * 0.5 + means[
        3
    ] * 0.5
    np.testing.assert_allclose(cands["EMA 0.5"], ema, rtol=1e-6)


def test_walk_stats_tell_a_random_walk_from_a_drift():
    rng = np.random.default_rng(0)
    walk = np.cumsum(rng.normal(size=(401, 50)), axis=0)
    stats = ma.walk_stats(walk)
    assert 0.8 < stats["net"] / stats["random_walk"] < 1.25
    drift = np.cumsum(np.ones((401, 50)), axis=0)
    stats = ma.walk_stats(drift)
    assert stats["net"] / stats["random_walk"] > 15

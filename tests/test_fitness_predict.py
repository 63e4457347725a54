"""Tests of the fitness-prediction arithmetic (``benchmarks/fitness_predict.py``, issue 16):
on lifetimes drawn with a known per-genome effect, the score itself predicts the held-out
score, a fitness blind to the effect does not, and more mazes predict better."""

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.fitness_predict import CANDIDATES, judge, maze_ranks  # noqa: E402


def _lifetimes(p=64, m=1024, seed=0):
    """Rollout 3 succeeds in 10 + noise steps shifted by a genome effect; rollouts 1 and 2
    are noise unrelated to the genome; 2% of rollout-3 lifetimes fail."""
    rng = np.random.default_rng(seed)
    effect = rng.normal(0, 3, (p, 1))
    steps = np.stack(
        [
            rng.integers(5, 150, (p, m)),
            rng.integers(5, 40, (p, m)),
            np.clip(np.round(20 + effect + rng.normal(0, 8, (p, m))), 1, 200),
        ],
        -1,
    ).astype(np.float64)
    success = np.ones_like(steps)
    success[..., 2] = rng.random((p, m)) > 0.02
    returns = np.where(success > 0, 1 - 0.01 * steps, -2.0)
    return returns, steps, success, rng.normal(size=(p, 5))


def test_the_score_predicts_itself_and_blind_fitness_does_not():
    returns, steps, success, eps = _lifetimes()
    out = judge(returns, steps, success, eps, draws=10)
    assert set(out["rows"]) == set(CANDIDATES)
    score = out["rows"]["R3 (the score)"]
    rho_64, rho_256, rho_all = (score[n][0] for n in (64, 256, 512))
    assert 0.2 < rho_64 < rho_256 < rho_all, (rho_64, rho_256, rho_all)
    # R1 + R2 + R3 carries the score in a third of its variance: weaker, not blind
    assert out["rows"]["R1 + R2 + R3"][512][0] < rho_all
    assert 0.5 < out["truth_split_half"] <= 1.0
    # a fitness of rollouts the genome does not affect predicts nothing
    blind = judge(returns[..., [0, 1, 0]], steps, success, eps, draws=10)
    assert abs(blind["rows"]["R3 (the score)"][512][0]) < 0.3


def test_maze_ranks_are_centred_within_each_maze():
    table = np.array([[0.5, -2.0], [0.7, 0.9], [0.7, 0.1]])
    ranks = maze_ranks(table)
    np.testing.assert_allclose(ranks.mean(0), [1 / 6, 1 / 6])  # (1+2+3)/9 - 0.5
    np.testing.assert_allclose(ranks[:, 0], [1 / 3 - 0.5, 2.5 / 3 - 0.5, 2.5 / 3 - 0.5])
    np.testing.assert_allclose(ranks[:, 1], [1 / 3 - 0.5, 1 - 0.5, 2 / 3 - 0.5])

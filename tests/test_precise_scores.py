"""benchmarks/precise_scores.py: the standard error is over mazes and pairs are per maze."""

import numpy as np
import pytest
from benchmarks.precise_scores import report, stats


def _entry(val, test):
    side = dict(r1_mean=0.0, goal_rate=1.0, steps=[50.0, 20.0, 20.0])
    return dict(
        generation=100,
        repeats=8,
        validation=side | dict(r3=list(val)),
        test=side | dict(r3=list(test)),
    )


def test_stats_and_paired_differences():
    rng = np.random.default_rng(0)
    maze = rng.normal(0.7, 0.3, 400)  # per-maze difficulty, shared by both genomes
    a, b = maze + 0.02, maze.copy()
    mean, se = stats(a)
    assert mean == pytest.approx(a.mean())
    assert se == pytest.approx(a.std(ddof=1) / 20)
    cache = {"A": _entry(a, a), "B": _entry(b, b)}
    text = report(cache, ["A:B"])
    # the shared maze difficulty cancels in the pair: +0.0200 +- 0.0000, while each
    # genome's own s.e. over mazes is about 0.015
    assert "| A - B | +0.0200 +- 0.0000 | +0.0200 +- 0.0000 |" in text
    assert f"{se:.4f}" in text

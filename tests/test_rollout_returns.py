import json

import pytest
from benchmarks.rollout_returns import at_lifetimes, main, read_run, table


def _run(tmp_path, name, validations):
    run = tmp_path / name
    run.mkdir()
    points, metrics = [], [{"generation": 0, "fitness_mean": -1.0}]  # no validation
    for gen, lifetimes, returns in validations:
        points.append(dict(generation=gen, lifetimes=lifetimes, score=returns[-1]))
        metrics.append(dict(generation=gen, validation=dict(return_mean=returns)))
    (run / "points.jsonl").write_text("".join(json.dumps(p) + "\n" for p in points))
    (run / "metrics.jsonl").write_text("".join(json.dumps(m) + "\n" for m in metrics))
    return run


def test_returns_at_equal_lifetimes(tmp_path, capsys):
    vals = [
        (g, g * 1000, [0.1 * k, 0.0, 0.2 * k]) for k, g in enumerate(range(0, 600, 100))
    ]
    rows = read_run(_run(tmp_path, "a", vals))
    assert [r["generation"] for r in rows] == [0, 100, 200, 300, 400, 500]
    hit = at_lifetimes(rows, 350_000)  # validations at 100, 200, 300 k lifetimes
    assert hit["generation"] == 300
    assert hit["returns"] == pytest.approx([0.2, 0.0, 0.4])
    assert at_lifetimes(rows, 600_000) is None  # not reached yet
    _run(tmp_path, "b", vals[:2])
    lines = table(["a", "b"], [0.35, 0.5], tmp_path)
    assert lines[2] == "| a | +0.20 / +0.40 / +0.20 | +0.40 / +0.80 / +0.40 |"
    assert lines[3] == "| b | - | - |"
    with pytest.raises(SystemExit) as e:
        main(["a", "c", "--dir", str(tmp_path)])
    assert e.value.code == 2
    assert "no run ['c']" in capsys.readouterr().err
    with pytest.raises(SystemExit) as e:
        main(["a", "--at", "500000", "--dir", str(tmp_path)])
    assert e.value.code == 2
    assert "millions of lifetimes" in capsys.readouterr().err


def test_failure_breakdown_splits_the_score():
    """The last rollout's score is its successes' part minus its failures' cost, and a
    failure after an earlier success is told from one where the goal was never found."""
    import numpy as np
    from benchmarks.rollout_failures import breakdown, main

    success = np.array([[1, 1, 1], [0, 1, 0], [0, 0, 0], [1, 0, 1]])
    steps = np.array([[50, 10, 12], [200, 30, 200], [200, 200, 200], [80, 200, 20]])
    b = breakdown(success, steps)
    assert b["goal_rate"] == [0.5, 0.5, 0.5]
    assert (b["last_failures"], b["last_failures_after_a_success"]) == (2, 1)
    assert b["last_failures_never_found"] == 1
    assert b["steps_reached_mean"] == [65.0, 20.0, 16.0]
    returns = np.where(success[:, -1], 1 - 0.01 * steps[:, -1], -2.0)
    score = b["successes_part"] - b["failures_cost"]
    assert score == pytest.approx(returns.mean())
    with pytest.raises(SystemExit):
        main(["no-such-run"])

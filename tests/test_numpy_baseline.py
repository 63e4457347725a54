"""Tests of the plain-numpy CPU baseline (benchmarks/numpy_baseline.py).

End-to-end check against the reference numbers of shared/fixtures/README.md and spec
5.5: the released DecPRNN(PostDN) genome on the paper-era 15x15 validation mazes.
"""

import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks import numpy_baseline as nb  # noqa: E402


def test_genome_sizes_and_layout():
    assert nb.n_gene("decprnn-postdn") == 1347
    assert nb.n_gene("prnn-postdn") == 20743
    assert nb.n_gene("meta-lstm") == 20805
    rows = {name: (a, b) for name, _, a, b in nb.layout("decprnn-postdn")}
    # Offsets of the released checkpoint (fixtures README).
    assert rows["FC_1/W"] == (0, 320)
    assert rows["FC_1/b"] == (320, 325)
    assert rows["FC_M/W"] == (325, 453)
    assert rows["FC_M/b"] == (453, 455)
    assert rows["PRNN_1//b"] == (455, 519)
    assert rows["PRNN_1/hebbian_h//W_Ax"] == (519, 583)
    assert rows["PRNN_1/hebbian_h//W_Dy"] == (967, 1031)
    assert rows["PRNN_1/hebbian_x//W_Ax"] == (1031, 1046)
    assert rows["PRNN_1/hebbian_x//W_Ay"] == (1046, 1110)
    assert rows["PRNN_1/hebbian_x//W_Dy"] == (1283, 1347)


def test_observation_and_moves():
    walls = np.ones((5, 5), np.int8)
    walls[1:4, 1:4] = 0
    walls[2, 3] = 1
    env = nb.Maze2D(walls, (1, 1), (3, 1))
    obs = env.reset()
    # obs[3i + j] = G[x-1+i][y-1+j]; wall +1, free 0, goal -1.
    np.testing.assert_array_equal(obs, [1, 1, 1, 1, 0, 0, 1, 0, 0])
    obs, r, done, reached = env.step(0)  # (-1, 0) into the border: stays
    assert (env.x, env.y, done) == (1, 1, False) and r == pytest.approx(-0.01)
    obs, r, done, reached = env.step(1)  # (+1, 0): free
    assert (env.x, env.y) == (2, 1)
    np.testing.assert_array_equal(obs, [1, 0, 0, 1, 0, 0, 1, -1, 0])
    obs, r, done, reached = env.step(1)  # enters the goal
    assert done and reached and r == pytest.approx(0.99)


def test_decomposed_update_is_rank4_form():
    rng = np.random.default_rng(3)
    g = nb.random_genome("decprnn-postdn", rng)
    p = nb.unflatten("decprnn-postdn", g)
    model = nb.DecPRNNPostDN(g)
    model.reset()
    assert not model.W_h.any() and not model.W_x.any()
    x = rng.standard_normal(nb.M).astype(np.float32)
    model.step(x)
    h1 = model.h
    model.step(x)
    h2 = model.h
    mu = nb._sigmoid(p["FC_M/W"] @ h2 + p["FC_M/b"])

    def v(k):
        return p[f"PRNN_1/hebbian_h//W_{k}"]

    # Second-step W_h increment: 0.2 mu_h U V^T with pre = h1, post = h2.
    U = np.stack([v("Ay") * h2, v("By") * h2, v("Cy"), v("Dy")], 1)
    V = np.stack([v("Ax") * h1, v("Bx"), v("Cx") * h1, v("Dx")], 1)
    first = 0.2 * nb._sigmoid(p["FC_M/W"] @ h1 + p["FC_M/b"])[0]
    U1 = np.stack([v("Ay") * h1, v("By") * h1, v("Cy"), v("Dy")], 1)
    V1 = np.stack([v("Ax") * 0, v("Bx"), v("Cx") * 0, v("Dx")], 1)
    expected = first * U1 @ V1.T + 0.2 * mu[0] * U @ V.T
    np.testing.assert_allclose(model.W_h, expected, rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize("model", nb.MODELS)
def test_random_genome_returns_valid_and_deterministic_greedy(model):
    walls, start, goal = nb.load_mazes()
    g = nb.random_genome(model, np.random.default_rng(0))
    assert g.dtype == np.float32 and g.shape == (nb.n_gene(model),)
    assert abs(g.std() - 0.05) < 0.005
    valid = {round(1 - 0.01 * t, 2) for t in range(1, 201)} | {-2.0}
    rng = np.random.default_rng(1)
    for k in range(3):
        res = nb.run_lifetime(model, g, walls[k], start[k], goal[k], rng)
        assert len(res["returns"]) == 3
        assert len(res["actions"]) == sum(res["steps"])
        for ret, t, ok in zip(
            res["returns"], res["steps"], res["success"], strict=True
        ):
            assert round(ret, 2) in valid
            assert round(ret, 2) == (round(1 - 0.01 * t, 2) if ok else -2.0)
    # Greedy head with explicit first actions: deterministic, no RNG needed.
    a = nb.run_lifetime(model, g, walls[5], start[5], goal[5], None, True, [0, 2, 3])
    b = nb.run_lifetime(model, g, walls[5], start[5], goal[5], None, True, [0, 2, 3])
    assert a == b and a["first_actions"] == [0, 2, 3]
    with pytest.raises(ValueError):
        nb.run_lifetime(model, g, walls[5], start[5], goal[5], None, False, [0, 2, 3])


def test_paper_genome_goal_rates():
    """Released DecPRNN(PostDN) genome, scale 0.2, stochastic head, 200 mazes.

    The reference table reports rollout "goal rates" 0.21 / 0.46 / 0.72 with mean
    returns -1.24 / -0.52 / +0.04 (300 lifetimes). The two rows are only consistent if
    the rate is P(return > 0), i.e. goal reached in < 100 steps: a 21 % rate of reaching
    the goal within 200 steps caps the mean return at 0.21*0.99 - 0.79*2 = -1.37. The
    fraction that reaches the goal within 200 steps is about 0.36 / 0.66 / 0.82.
    """
    g = np.load(nb.PAPER_GENOME_FILE)
    results, _ = nb.run_lifetimes("decprnn-postdn", g, 200, seed=0)
    returns = np.array([r["returns"] for r in results])
    success = np.array([r["success"] for r in results])
    np.testing.assert_allclose((returns > 0).mean(0), [0.21, 0.46, 0.72], atol=0.07)
    np.testing.assert_allclose(returns.mean(0), [-1.24, -0.52, 0.04], atol=0.2)
    np.testing.assert_allclose(success.mean(0), [0.36, 0.66, 0.82], atol=0.07)
    # Learning within a lifetime: the third rollout beats the first.
    assert returns[:, 2].mean() > returns[:, 0].mean() + 0.8


def test_reference_dtypes_mode():
    walls, start, goal = nb.load_mazes()
    g = np.load(nb.PAPER_GENOME_FILE)
    kw = dict(greedy=True, first_actions=[1, 1, 1])
    a = nb.run_lifetime("decprnn-postdn", g, walls[0], start[0], goal[0], None, **kw)
    b = nb.run_lifetime(
        "decprnn-postdn",
        g,
        walls[0],
        start[0],
        goal[0],
        None,
        **kw,
        reference_dtypes=True,
    )
    assert len(b["returns"]) == 3 and len(b["actions"]) == sum(b["steps"])
    # Same semantics up to float32 rounding: the first actions agree.
    assert a["actions"][:20] == b["actions"][:20]

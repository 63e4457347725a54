"""The maze Task: input layout (spec 2.5), action head (1.5), lifetime and fitness (2.6)."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from hebbjax.envs.maze import MazeParams
from hebbjax.envs.maze_sets import load_maze_npz
from hebbjax.models.base import Model
from hebbjax.parallel import local_mesh
from hebbjax.rollout import _jitted_set_evaluator, evaluate, summarize
from hebbjax.tasks import TASKS, Probe, Task, make_task, maze_task
from hebbjax.tasks.maze import make_lifetime, select_action
from hebbjax.tasks.maze_fitness import genome_rms

LAYOUT = [
    "#######",
    "#S..#.#",
    "#.#.#.#",
    "#..G..#",
    "###.#.#",
    "#.....#",
    "#######",
]
PATH = [1, 1, 3, 3]  # (1,1) -> (2,1) -> (3,1) -> (3,2) -> (3,3) = goal
START_VIEW = [1, 1, 1, 1, 0, 0, 1, 0, 1]  # paper sign, around (1, 1)
BUFFER = 16


def handcrafted() -> MazeParams:
    walls = np.array([[c == "#" for c in row] for row in LAYOUT], np.int8)
    return MazeParams(
        walls=jnp.asarray(walls),
        start=jnp.array([1, 1], jnp.int32),
        goal=jnp.array([3, 3], jnp.int32),
    )


def scripted_model(script, n_solved_steps=10**6, n_in=15, gate=20.0):
    """Follows ``script`` cyclically for its first ``n_solved_steps`` steps, then bumps the
    wall with action 0; records its first BUFFER inputs and counts its steps."""
    script = jnp.asarray(script, jnp.int32)

    def init_params(key):
        return {"gate": jnp.full((1,), gate, jnp.float32)}

    def init_memory(params, key=None):
        return {"count": jnp.zeros((), jnp.float32), "xs": jnp.zeros((BUFFER, n_in))}

    def step(params, memory, x, plastic=True):
        i = memory["count"].astype(jnp.int32)
        action = jnp.where(i < n_solved_steps, script[i % script.shape[0]], 0)
        out = jnp.concatenate([10.0 * jax.nn.one_hot(action, 4), params["gate"]])
        xs = memory["xs"].at[i].set(x, mode="drop")
        return out, {"count": memory["count"] + 1, "xs": xs}

    return Model(init_params, init_memory, step, n_in=n_in, n_out=5, n_mem=0)


def final_memory(trace):
    """The memory after the last step that ran, from a probe's ``hidden`` trace."""
    last = int(np.asarray(trace["valid"]).sum()) - 1
    return {name: np.asarray(v)[last] for name, v in trace["hidden"].items()}


def lifetime(model, key=0, **kw):
    """(LifetimeResult, final memory) of one lifetime on the handcrafted maze."""
    run = jax.jit(make_lifetime(model, probe=Probe(record=("hidden",)), **kw))
    params = model.init_params(jax.random.key(0))
    result, trace = run(params, handcrafted(), jax.random.key(key))
    return result, final_memory(trace)


def test_three_successful_rollouts_and_input_layout():
    result, memory = lifetime(scripted_model(PATH), r_slot="zero")
    np.testing.assert_allclose(result.returns, [0.96, 0.96, 0.96], atol=1e-6)
    np.testing.assert_array_equal(result.steps, [4, 4, 4])
    np.testing.assert_array_equal(result.success, [1.0, 1.0, 1.0])
    xs = np.asarray(memory["xs"])
    assert float(memory["count"]) == 12  # no model step after the last rollout
    assert not xs[12:].any()
    for r in range(3):
        x = xs[4 * r : 4 * r + 4]
        np.testing.assert_array_equal(x[0, :9], START_VIEW)  # back at the start
        assert sorted(x[0, 9:13]) == [0, 0, 0, 1]  # random previous action
        for t, a in enumerate(PATH[:3]):
            np.testing.assert_array_equal(x[t + 1, 9:13], np.eye(4)[a])
        assert x[3, 4] == 0 and x[3, 5] == -1.0  # goal to the right at (3, 3)
        assert not x[:, 13:].any()  # r_slot = 0 and d_slot = 0


def test_previous_reward_slot_is_the_default():
    """The April-2022 code (Table 1): the previous step's reward, 0 at each rollout start."""
    _, memory = lifetime(scripted_model(PATH))
    xs = np.asarray(memory["xs"])
    np.testing.assert_allclose(xs[:12, 13], [0, -0.01, -0.01, -0.01] * 3, atol=1e-8)
    assert not xs[:, 14].any()


def test_random_previous_action_at_each_rollout_start():
    keys = jax.random.split(jax.random.key(3), 64)
    model = scripted_model(PATH)
    probe = Probe(record=("input",))
    run = jax.jit(jax.vmap(make_lifetime(model, probe=probe), in_axes=(None, None, 0)))
    _, trace = run(model.init_params(jax.random.key(0)), handcrafted(), keys)
    first = np.asarray(trace["input"])[:, [0, 4, 8], 9:13].argmax(-1)
    for r in range(3):
        assert set(first[:, r]) == {0, 1, 2, 3}
    assert (first[:, 0] != first[:, 1]).any()


def test_timeouts_and_masking_after_the_last_rollout():
    # solves rollout 1 in 4 steps, then bumps into the wall for two 200-step rollouts
    result, memory = lifetime(scripted_model(PATH, n_solved_steps=4))
    np.testing.assert_allclose(result.returns, [0.96, -2.0, -2.0], atol=1e-6)
    np.testing.assert_array_equal(result.steps, [4, 200, 200])
    np.testing.assert_array_equal(result.success, [1.0, 0.0, 0.0])
    assert float(memory["count"]) == 404
    np.testing.assert_array_equal(np.asarray(memory["xs"])[4, :9], START_VIEW)
    penalty = 1e-6 * 20.0  # RMS of the one-element genome
    assert float(result.fitness) == pytest.approx(-2.0 - penalty, abs=1e-7)

    result, memory = lifetime(scripted_model([0]), n_rollouts=2, rollout_weights=(1, 3))
    np.testing.assert_array_equal(result.steps, [200, 200])
    assert float(memory["count"]) == 400


def test_fitness_weights_and_penalty():
    model = scripted_model(PATH, n_solved_steps=8, gate=5.0)
    weights = (0.0, 0.0, 0.16, 0.22, 0.36, 0.64, 0.8, 1.0)
    result, _ = lifetime(model, n_rollouts=8)
    returns = np.array([0.96, 0.96] + [-2.0] * 6)
    np.testing.assert_allclose(result.returns, returns, atol=1e-6)
    expected = np.sum(np.array(weights) * (returns - 1e-6 * 5.0)) / np.sum(weights)
    assert float(result.fitness) == pytest.approx(expected, abs=1e-6)
    # a negative weight: R3 + 0.5 (R3 - R1), here 1.5 (-2) - 0.5 (0.96)
    result, _ = lifetime(model, n_rollouts=3, rollout_weights=(-0.5, 0.0, 1.5))
    assert float(result.fitness) == pytest.approx(-3.48 - 1e-6 * 5.0, abs=1e-6)
    for bad in ((-1.0, 0.0, 1.0), (0.0, float("nan"), 1.0)):
        with pytest.raises(ValueError, match="positive sum"):
            maze_task(rollout_weights=bad)
    params = {"a": jnp.array([3.0, -4.0]), "b": jnp.zeros((2, 1))}
    assert float(genome_rms(params)) == pytest.approx(np.sqrt(25 / 4))


def test_score_within_changes_the_fitness_not_the_returns():
    """A success later than ``score_within`` steps is scored as a failure (-2) in the
    fitness; the returns (what validation and test report) stay the lifetime's."""
    model = scripted_model(PATH)  # every rollout reaches the goal in 4 steps
    penalty = 1e-6 * 20.0
    cases = ((None, 0, 0.96), (4, 0, 0.96), (3, 0, -2.0), (4, 0.25, 0.96))
    # a late success keeps late_credit of its return, the rest is the failure's
    cases += ((3, 0.25, 0.25 * 0.96 - 0.75 * 2.0), (3, 1, 0.96))
    for within, credit, expected in cases:
        result, _ = lifetime(model, score_within=within, late_credit=credit)
        np.testing.assert_allclose(result.returns, [0.96] * 3, atol=1e-6)
        np.testing.assert_array_equal(result.steps, [4, 4, 4])
        assert float(result.fitness) == pytest.approx(expected - penalty, abs=1e-6)
    task = maze_task(size=7, score_within=50, late_credit=0.5)
    assert task.settings["score_within"] == 50
    assert task.settings["late_credit"] == 0.5
    for bad in (0, 201, 2.5, True):
        with pytest.raises(ValueError, match="score_within"):
            maze_task(score_within=bad)
    for bad in (-0.1, 1.5, "half", True):
        with pytest.raises(ValueError, match="late_credit"):
            maze_task(score_within=40, late_credit=bad)
    with pytest.raises(ValueError, match="set score_within too"):
        maze_task(late_credit=0.5)
    # one cap per rollout (None: uncapped): here only rollout 2's success is late
    weights = dict(rollout_weights=(1, 1, 1))
    for within, expected in (
        ((None, 3, None), (0.96 * 2 - 2) / 3),
        ((None,) * 3, 0.96),
    ):
        result, _ = lifetime(model, score_within=within, **weights)
        assert float(result.fitness) == pytest.approx(expected - penalty, abs=1e-6)
    assert maze_task(score_within=[None, None, 40]).settings["score_within"] == (
        None,
        None,
        40,
    )
    with pytest.raises(ValueError, match="2 entries for 3 rollouts"):
        maze_task(score_within=[40, 40])
    with pytest.raises(ValueError, match="1..max_steps"):
        maze_task(score_within=[None, 0, 40])


def test_stop_at_cap_ends_the_last_rollout_and_keeps_the_fitness():
    """``stop_at_cap`` ends the last rollout at its cap: every fitness stays the same bit
    for bit, pooled or blocked, and the rollouts before it are untouched; it needs a cap
    on the last rollout and ``late_credit=0``."""
    from hebbjax.models import make_model
    from hebbjax.rollout import population_evaluator

    mesh = local_mesh()
    model = make_model("decprnn-postdn", hidden=16)
    population = jax.vmap(model.init_params)(jax.random.split(jax.random.key(0), 3))
    for compact in ("all", "off"):
        out = {}
        for stop in (False, True):
            task = make_task(
                "maze9", score_within=12, stop_at_cap=stop, compact=compact,
                block_lifetimes=4,
            )  # fmt: skip
            mazes = jax.vmap(task.sample_params)(jax.random.split(jax.random.key(1), 4))
            keys = jax.random.split(jax.random.key(2), (4, 2))
            out[stop] = jax.jit(population_evaluator(model, task, mesh))(
                population, mazes, keys
            )
        full, stopped = out[False], out[True]
        assert (np.asarray(full.steps)[..., 2] > 12).mean() > 0.5  # there is a tail
        assert (np.asarray(stopped.steps)[..., 2] <= 12).all()
        np.testing.assert_array_equal(full.fitness, stopped.fitness)
        np.testing.assert_array_equal(full.returns[..., :2], stopped.returns[..., :2])
        late = np.asarray(full.steps)[..., 2] > 12
        np.testing.assert_array_equal(np.asarray(stopped.success)[..., 2][late], 0.0)
    assert maze_task(score_within=40, stop_at_cap=True).settings["stop_at_cap"]
    for kwargs, match in (
        (dict(), "give it one"),
        (dict(score_within=[40, None, None]), "give it one"),
        (dict(score_within=40, late_credit=0.5), "late_credit=0"),
        (dict(score_within=40, stop_at_cap="yes"), "true or false"),
    ):
        with pytest.raises(ValueError, match=match):
            maze_task(**({"stop_at_cap": True} | kwargs))


def test_dnn_gets_the_input_prefix():
    result, memory = lifetime(scripted_model(PATH, n_in=9))
    assert memory["xs"].shape == (BUFFER, 9)
    np.testing.assert_array_equal(memory["xs"][0], START_VIEW)
    np.testing.assert_array_equal(result.success, [1, 1, 1])


def test_action_head_distribution():
    out = jnp.array([1.0, 0.0, 0.5, 0.0, 0.3])
    n = 40_000
    k_u, k_g = jax.random.split(jax.random.key(7))
    u = jax.random.uniform(k_u, (n,))
    g = jax.random.gumbel(k_g, (n, 4))
    actions = np.asarray(jax.vmap(select_action, in_axes=(None, 0, 0))(out, u, g))
    p_greedy = 0.5 * np.tanh(0.3) + 0.5
    soft = np.exp([1.0, 0.0, 0.5, 0.0])
    expected = (1 - p_greedy) * soft / soft.sum() + p_greedy * np.eye(4)[0]
    freq = np.bincount(actions, minlength=4) / n
    np.testing.assert_allclose(freq, expected, atol=4 * np.sqrt(0.25 / n))
    assert int(select_action(out, jnp.float32(0.99), g[0], greedy=True)) == 0
    tie = jnp.array([2.0, 2.0, 1.0, 2.0, 50.0])
    assert int(select_action(tie, jnp.float32(0.5), g[0])) == 0  # first index on ties


@pytest.fixture(scope="module")
def maze9(fixtures_dir):
    mazes = load_maze_npz(fixtures_dir / "maze9_paper_validation.npz")
    return jax.tree.map(lambda x: x[:96], mazes)


def random_policy():
    def step(params, memory, x, plastic=True):
        return params["out"], memory

    return Model(
        init_params=lambda key: {"out": jnp.array([0, 0, 0, 0, -30.0])},
        init_memory=lambda params, key=None: jnp.zeros(()),
        step=step,
        n_in=15,
        n_out=5,
        n_mem=1,
    )


def test_lifetime_returns_are_exact_and_chunking_is_invisible(maze9):
    task = make_task("maze9", use_cache=False)
    model = random_policy()
    params = model.init_params(jax.random.key(0))
    key = jax.random.key(11)
    result = evaluate(model, task, params, maze9, key)
    chunked = evaluate(model, task, params, maze9, key, chunk_size=40)
    for a, b in zip(result, chunked, strict=True):
        np.testing.assert_array_equal(a, b)
        # chunks are joined on the host: no multi-device slicing or concatenation is
        # queued (those collectives could deadlock XLA:CPU's 2-thread dispatch pool)
        assert isinstance(b, np.ndarray)
    result = jax.tree.map(lambda x: x[:, 0], result)  # one repeat
    steps, returns, success = (
        np.asarray(x) for x in result[2:0:-1] + (result.success,)
    )
    assert result.returns.shape == (96, 3)
    assert ((steps >= 1) & (steps <= 200)).all()
    np.testing.assert_array_equal(success == 1, returns > -2)
    np.testing.assert_array_equal(steps[success == 0], 200)
    expected = np.where(success == 1, 1 - 0.01 * steps, -2.0).astype(np.float32)
    np.testing.assert_allclose(returns, expected, atol=1e-6)
    assert 0.1 < success.mean() < 0.6  # random walks on 9x9 mazes succeed sometimes
    # the jitted batch function is cached: a second evaluation does not recompile
    batched = _jitted_set_evaluator(
        task.lifetime(model), task.block_lifetimes, local_mesh()
    )
    evaluate(model, task, params, maze9, jax.random.key(12), chunk_size=40)
    size = batched._cache_size()
    evaluate(model, task, params, maze9, jax.random.key(13), chunk_size=40)
    assert batched._cache_size() == size
    summary = summarize(result)
    # the reference harness's "goal rate" is the rate of positive returns
    np.testing.assert_allclose(summary["positive_return_rate"], (returns > 0).mean(0))
    assert summary["n_lifetimes"] == 96
    np.testing.assert_allclose(summary["success_rate"], success.mean(0))
    n = returns.shape[0]
    np.testing.assert_allclose(
        summary["return_stderr"], returns.std(0, ddof=1) / np.sqrt(n), rtol=1e-6
    )
    assert summary["score"] == pytest.approx(float(np.mean(result.fitness)), rel=1e-6)


def test_summarize_standard_error_over_tasks():
    """Several lifetimes per task: the task means' spread, not the lifetimes', is what
    another draw of the set would change (and it is larger when tasks differ)."""
    from hebbjax.tasks import LifetimeResult

    fitness = np.array([[0, 0.1, -0.1], [1, 1.1, 0.9], [2, 2.1, 1.9], [3, 3.1, 2.9]])
    returns = np.repeat(fitness[..., None], 3, axis=-1)
    ones = np.ones_like(returns)
    s = summarize(LifetimeResult(fitness, returns, ones, ones))
    assert s["n_tasks"] == 4 and s["n_lifetimes"] == 12
    expected = np.std([0, 1, 2, 3], ddof=1) / 2  # the task means 0..3, 4 tasks
    assert s["score_task_stderr"] == pytest.approx(expected)
    assert s["score_stderr"] < s["score_task_stderr"]
    # a non-finite lifetime leaves its task's mean (task 0: (0.1 - 0.1) / 2 = 0)
    fitness[0, 0] = np.nan
    s = summarize(LifetimeResult(fitness, returns, ones, ones))
    assert s["score_task_stderr"] == pytest.approx(expected)
    assert s["n_nonfinite"] == 1
    # no finite lifetime at all: no standard error (and no warning)
    nan = np.full_like(fitness, np.nan)
    assert np.isnan(
        summarize(LifetimeResult(nan, returns, ones, ones))["score_task_stderr"]
    )
    # one lifetime per task: no second standard error
    single = summarize(
        LifetimeResult(fitness[:, 1], returns[:, 1], ones[:, 1], ones[:, 1])
    )
    assert "score_task_stderr" not in single and "n_tasks" not in single


def test_task_contract_under_jit_vmap():
    task = make_task("maze9", use_cache=False)
    assert isinstance(task, Task)
    assert (task.n_in, task.n_out, task.n_rollouts) == (15, 5, 3)
    mazes = jax.vmap(task.sample_params)(jax.random.split(jax.random.key(0), 4))
    assert mazes.walls.shape == (4, 9, 9)
    model = random_policy()
    run = jax.jit(jax.vmap(task.lifetime(model), in_axes=(None, 0, 0)))
    out = run(
        model.init_params(jax.random.key(0)),
        mazes,
        jax.random.split(jax.random.key(1), 4),
    )
    assert out.fitness.shape == (4,) and out.success.shape == (4, 3)
    assert task.lifetime(model) is task.lifetime(model)  # cached: no recompiles


def test_registry():
    assert TASKS.names()[:6] == [  # other papers' tasks register after these
        "maze9",
        "maze15",
        "maze21",
        "maze15-crowded",
        "maze15-spacious",
        "maze",
    ]
    expect = {"maze9": (9, 0.30), "maze15": (15, 0.35), "maze21": (21, 0.35)}
    expect |= {
        "maze15-crowded": (15, 0.45),
        "maze15-spacious": (15, 0.15),
        "maze": (15, 0.35),
    }
    for name, (size, crowd) in expect.items():
        task = make_task(name)
        assert task.name == name
        assert (task.settings["size"], task.settings["crowd"]) == (size, crowd)
        assert task.rollout_weights == (0.0, 0.0, 1.0)
    assert make_task("maze", n_rollouts=8).rollout_weights[2:4] == (0.16, 0.22)
    with pytest.raises(ValueError, match="maze15-crowded"):
        make_task("maze16")
    with pytest.raises(ValueError, match="r_slot"):
        maze_task(r_slot="reward")
    with pytest.raises(ValueError, match="rollout_weights"):
        maze_task(n_rollouts=2, rollout_weights=(1.0,))
    with pytest.raises(ValueError, match="n_in=16"):
        make_lifetime(scripted_model(PATH, n_in=16))

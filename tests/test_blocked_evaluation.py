"""Blocked evaluation (the maze task's ``block_lifetimes``) is a speed option only."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from hebbjax.models import make_model
from hebbjax.parallel import blocked_vmap, local_mesh
from hebbjax.rollout import population_evaluator, set_evaluator
from hebbjax.tasks import make_task


def test_blocked_vmap_equals_vmap_with_a_remainder_block():
    def fn(a, b, c):
        return {"sum": jnp.sum(a) * b + c, "first": a[0]}

    a = jnp.arange(7 * 3, dtype=jnp.float32).reshape(7, 3)
    c = jnp.linspace(0.0, 1.0, 7)
    expected = jax.vmap(fn, in_axes=(0, None, 0))(a, 2.0, c)
    for size in (1, 3, 7, 50):
        got = blocked_vmap(fn, (0, None, 0), size)(a, 2.0, c)
        jax.tree.map(np.testing.assert_array_equal, got, expected)
    with pytest.raises(ValueError, match="batch_size"):
        blocked_vmap(fn, (0, None, 0), 0)


def test_block_size_does_not_change_results():
    mesh = local_mesh()  # two forced host devices in the test session
    model = make_model("decprnn-postdn", hidden=8)
    keys = jax.random.split(jax.random.key(0), 5)
    population = jax.vmap(model.init_params)(keys)
    population = jax.tree.map(lambda x: 20 * x, population)  # some lifetimes end early
    by_population, by_task_set = [], []
    for block in (None, 4, 8):
        task = make_task("maze9", block_lifetimes=block, compact="off")
        mazes = jax.vmap(task.sample_params)(jax.random.split(jax.random.key(1), 2))
        life_keys = jax.random.split(jax.random.key(2), (2, 2))
        evaluate = jax.jit(population_evaluator(model, task, mesh))
        by_population.append(evaluate(population, mazes, life_keys))
        one = jax.jit(set_evaluator(model, task, mesh))
        by_task_set.append(
            one(jax.tree.map(lambda x: x[0], population), mazes, life_keys)
        )
    assert by_population[0].steps.shape == (5, 2, 2, 3)
    assert int(by_population[0].steps.min()) < int(by_population[0].steps.max())
    for results in (by_population, by_task_set):
        for got in results[1:]:
            jax.tree.map(np.testing.assert_array_equal, got, results[0])
    with pytest.raises(ValueError, match="block_lifetimes"):
        make_task("maze", block_lifetimes=0)


@pytest.mark.parametrize("shared", [True, False])
@pytest.mark.parametrize(
    "n_slots, every, n_new, refill_at",
    [
        (1, 1, None, None),
        (3, 64, None, None),
        (4, 5, 1, 1),
        (8, 2, 8, 3),
        (64, 7, 2, 1),
    ],
)
def test_compacted_pool_runs_every_lifetime_once(
    shared, n_slots, every, n_new, refill_at
):
    """Lifetimes of known lengths (task t runs lengths[t] steps, adding genome x key each
    step): each result says which genome, task and key its lifetime ran with, and for how
    many steps, whatever the pool's size and refill settings."""
    from hebbjax.compaction import compacted
    from hebbjax.tasks.lifetime import LifetimeParts, LifetimeResult

    def start(params, length, key):
        return key, (jnp.int32(0), jnp.float32(0.0), length)

    def advance(params, key, carry):
        i, total, length = carry
        return i + 1, total + params * key, length

    def finish(params, carry):
        i, total, _ = carry
        return LifetimeResult(total, total[None], i[None], jnp.ones(1))

    parts = LifetimeParts(start, advance, lambda c: c[0] >= c[2], finish)
    rng = np.random.default_rng(0)
    n_lives = 23
    lengths = jnp.asarray(rng.integers(1, 40, 9), jnp.int32)
    keys = jnp.asarray(rng.normal(size=11), jnp.float32)
    genomes = jnp.asarray([1.0, 10.0, 100.0], jnp.float32)
    genome_of = jnp.asarray(rng.integers(0, 3, n_lives))
    task_of = jnp.asarray(rng.integers(0, 9, n_lives))
    key_of = jnp.asarray(rng.integers(0, 11, n_lives))
    run = jax.jit(compacted(parts, n_slots, shared, every, n_new, refill_at))
    out = run(
        genomes[0] if shared else genomes, lengths, keys, genome_of, task_of, key_of
    )
    params = jnp.full(n_lives, genomes[0]) if shared else genomes[genome_of]
    steps = np.asarray(lengths[task_of])
    np.testing.assert_array_equal(out.steps[:, 0], steps)
    expected = np.asarray(params * keys[key_of]) * steps
    np.testing.assert_allclose(out.fitness, expected, rtol=1e-5)
    np.testing.assert_array_equal(out.success, 1.0)


def test_compaction_gives_the_blocked_lifetimes():
    """The maze's compacted evaluators run the same lifetimes as the blocked ones: the
    same genome, maze and key per result (lifetimes of 20 to 600 steps)."""
    mesh = local_mesh()
    model = make_model("decprnn-postdn", hidden=16)
    population = jax.vmap(model.init_params)(jax.random.split(jax.random.key(0), 5))
    results = {}
    for mode in ("off", "all"):
        task = make_task("maze9", block_lifetimes=4, compact=mode)
        mazes = jax.vmap(task.sample_params)(jax.random.split(jax.random.key(1), 3))
        keys = jax.random.split(jax.random.key(2), (3, 2))
        by_population = jax.jit(population_evaluator(model, task, mesh))
        one = jax.jit(set_evaluator(model, task, mesh))
        results[mode] = (
            by_population(population, mazes, keys),
            one(jax.tree.map(lambda x: x[1], population), mazes, keys),
        )
    blocked, pooled = results["off"], results["all"]
    assert int(blocked[0].steps.min()) < 100 < int(blocked[0].steps.max())
    assert blocked[0].steps.shape == pooled[0].steps.shape == (5, 3, 2, 3)
    assert blocked[1].steps.shape == pooled[1].steps.shape == (3, 2, 3)
    # A lifetime computed in another batch can differ in the last bit of a dot, which a
    # sampled action can amplify: nearly all must agree exactly.
    for got, want in zip(pooled, blocked, strict=True):
        same = np.all(np.asarray(got.steps == want.steps), axis=-1)
        assert same.mean() >= 0.9, same
        np.testing.assert_allclose(
            np.asarray(got.returns)[same], np.asarray(want.returns)[same], atol=1e-5
        )
    with pytest.raises(ValueError, match="compact"):
        make_task("maze", compact="yes")


def test_auto_pools_a_population_only_with_many_lifetimes_per_genome():
    """compact="auto" blocks a population whose genomes each run fewer than POOL_FROM x
    block_lifetimes lifetimes and pools it from there, as "all" (the maze default) does."""
    from hebbjax.compaction import POOL_FROM, pools_population

    assert make_task("maze9").compact == "all"
    auto = make_task("maze9", block_lifetimes=2, compact="auto")
    assert auto.compact == "auto"
    assert not pools_population(auto, POOL_FROM * 2 - 1)
    assert pools_population(auto, POOL_FROM * 2)
    assert pools_population(make_task("maze9", block_lifetimes=2, compact="all"), 1)
    assert not pools_population(make_task("maze9", compact="sets"), 10**6)

    mesh = local_mesh()
    model = make_model("decprnn-postdn", hidden=16)
    population = jax.vmap(model.init_params)(jax.random.split(jax.random.key(0), 3))
    out = {}
    for mode in ("auto", "all", "off"):
        task = make_task("maze9", block_lifetimes=2, compact=mode)
        mazes = jax.vmap(task.sample_params)(jax.random.split(jax.random.key(1), 4))
        keys = jax.random.split(jax.random.key(2), (4, 2))  # 8 lifetimes per genome
        out[mode] = jax.jit(population_evaluator(model, task, mesh))(
            population, mazes, keys
        )
    # pooled exactly as "all"; the blocked lifetimes are the same up to a dot's last bit
    np.testing.assert_array_equal(out["auto"].returns, out["all"].returns)
    np.testing.assert_array_equal(out["auto"].steps, out["all"].steps)
    same = np.all(np.asarray(out["auto"].steps == out["off"].steps), axis=-1)
    assert same.mean() >= 0.9, same


def test_compaction_benchmark_report_and_bad_parts(tmp_path, capsys):
    """The benchmark's report groups each evaluation's rows under its blocked one and
    says when each part was measured; an unknown part is a usage error (exit 2)."""
    from benchmarks.compaction import main, markdown

    row = dict(task="maze9", genome="released", first_call_s=1.0, score=0.5)
    rows = [
        dict(row, kind="set", compact="off", median_s=2.0, times_s=[2.0]),
        dict(row, kind="set", compact="sets", median_s=1.0, times_s=[1.0]),
        *(
            dict(row, kind="population", shape="2 genomes x 8 mazes x 1 repeats",
                 part="late", compact=mode, median_s=t, times_s=[t, t])
            for mode, t in (("off", 3.0), ("auto", 2.0), ("all", 1.5))
        ),
    ]  # fmt: skip
    text = markdown(
        dict(written="now", devices=2, load=1.0, rows=rows,
             parts_written={"set": "then", "late": "now"})
    )  # fmt: skip
    assert "set then (1 calls); late now (2 calls)" in text
    assert (
        "| one genome, 1,024 validation mazes | maze9 | released | sets | 2.000 |"
        in text
    )
    assert (
        "| 2 genomes x 8 mazes x 1 repeats | maze9 | released | auto | 3.000 | 2.000 | 1.50x"
        in text
    )
    assert "| all | 3.000 | 1.500 | 2.00x" in text
    with pytest.raises(SystemExit) as exit_info:
        main(["--parts", "late,fast", "--out", str(tmp_path)])
    assert exit_info.value.code == 2
    assert "unknown fast; valid: set, population, late" in capsys.readouterr().err


def test_block_waste_time_share_and_report():
    """The cost part turns step waste into a time share: no waste or free ended slots
    cost nothing, ended slots as dear as live ones cost the step waste itself."""
    from benchmarks.block_waste import _share, report

    assert _share(0.0, 0.5) == 0.0
    assert _share(0.5, 0.0) == 0.0
    assert _share(0.52, 1.0) == pytest.approx(0.52)
    assert _share(0.5, 0.5) == pytest.approx(1 / 3)
    steps = dict(
        task="maze9", genome="released", mean_lifetime_steps=78.0,
        block_steps_per_lifetime=163.0, step_limit=600, waste=0.5,
        waste_without_early_stop=0.87,
    )  # fmt: skip
    cost = dict(
        part="cost", model="m", genome="released", lanes=32, live_step_s=60e-6,
        ended_step_s=30e-6, ratio=0.5, written="now", load=1.0,
    )  # fmt: skip
    text = "\n".join(report([steps, cost]))
    assert "| m | released | 60.0 | 30.0 | 0.50 | 33.3% |" in text
    assert "## Time" not in "\n".join(report([steps]))

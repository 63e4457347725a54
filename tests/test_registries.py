"""Contract tests over the registries (every task, rule and strategy), the gymnax adapter,
the public API, and user extensions seen by training."""

import importlib.util
import inspect
import math
import sys
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import hebbjax
from hebbjax.evolution.loop import make_generation_step
from hebbjax.evolution.strategies import STRATEGIES, make_strategy
from hebbjax.models import make_model
from hebbjax.rules import RULES
from hebbjax.tasks import TASKS, make_task

CHEAP = dict(backend="spring", seconds=0.1, use_cache=False, max_steps=4)


def cheap_task(name: str):
    """The registered task with whatever cost options its factory takes, made small."""
    factory = TASKS.get(name)
    accepted = inspect.signature(factory).parameters
    return make_task(name, **{k: v for k, v in CHEAP.items() if k in accepted})


# the two ant protocols' lifetimes (20 s of Brax compile each) run in test_ant_env's
# default tests already; here with -m slow
_BRAX_TWINS = ("ant-damage", "ant-palm")


@pytest.mark.parametrize(
    "name",
    [
        pytest.param(n, marks=pytest.mark.slow) if n in _BRAX_TWINS else n
        for n in TASKS.names()
    ],
)
def test_every_task_runs_a_lifetime_under_jit_vmap(name):
    task = cheap_task(name)
    assert {"validation", "test"} <= set(task.sets)
    assert set(task.eval_sets) <= set(task.sets)
    assert task.env is not None and task.n_rollouts >= 1
    model = make_model("meta-rnn", n_in=task.n_in, n_out=task.n_out, hidden=4)
    tasks = jax.vmap(task.sample_params)(jax.random.split(jax.random.key(0), 2))
    run = jax.jit(jax.vmap(task.lifetime(model), in_axes=(None, 0, 0)))
    result = run(
        model.init_params(jax.random.key(1)),
        tasks,
        jax.random.split(jax.random.key(2), 2),
    )
    assert result.fitness.shape == (2,)
    assert result.returns.shape == result.steps.shape == (2, task.n_rollouts)
    assert np.isfinite(np.asarray(result.fitness)).all()
    assert task.lifetime(model) is task.lifetime(model)


@pytest.mark.parametrize(
    "env_id, n_in, n_out", [("CartPole-v1", 4 + 2 + 1, 2), ("Acrobot-v1", 6 + 3 + 1, 3),
                            ("MetaMaze-misc", 15 + 4 + 1, 4), ("Pendulum-v1", 3 + 1 + 1, 1)],
)  # fmt: skip
def test_gymnax_environments_as_tasks(env_id, n_in, n_out):
    task = make_task(f"gymnax:{env_id}", max_steps=20)
    assert (task.n_in, task.n_out) == (n_in, n_out)
    model = make_model("prnn-postdn", n_in=n_in, n_out=n_out, hidden=4)
    tasks = jax.tree.map(lambda x: x[:3], task.validation_set())
    run = jax.jit(jax.vmap(task.lifetime(model), in_axes=(None, 0, 0)))
    result = run(
        model.init_params(jax.random.key(0)),
        tasks,
        jax.random.split(jax.random.key(1), 3),
    )
    steps = np.asarray(result.steps)
    assert ((steps >= 1) & (steps <= 20)).all()
    if env_id == "CartPole-v1":  # +1 per step: the return is the episode length
        np.testing.assert_allclose(result.returns, steps)
        np.testing.assert_array_equal(result.success, steps >= 20)


def test_gymnax_task_options_and_errors():
    spread = make_task("gymnax:CartPole-v1", param_spread=0.2, inputs=("obs",))
    assert spread.n_in == 4
    params = spread.validation_set()["params"]
    assert np.std(np.asarray(params["gravity"])) > 0.1
    with pytest.raises(ValueError, match="did you mean 'gymnax:CartPole-v1'"):
        make_task("gymnax:Cartpole-v1")
    with pytest.raises(ValueError, match="valid: greedy, sample"):
        make_task("gymnax:CartPole-v1", action="tanh")
    with pytest.raises(ValueError, match="return>X"):
        make_task("gymnax:CartPole-v1", success="lasted")
    assert "gymnax:Acrobot-v1" in TASKS and "gymnax:nope" not in TASKS


@pytest.mark.parametrize("name", RULES.names())
def test_every_rule_updates_under_jit_and_freezes(name):
    rule = RULES.get(name)(5, 4)
    params = {
        k: 0.3 * jax.random.normal(jax.random.fold_in(jax.random.key(0), i), s)
        for i, (k, s) in enumerate(sorted(rule.shapes.items()))
    }
    state = rule.init(params)
    pre, post = jnp.linspace(-1, 1, 4), jnp.linspace(1, -1, 5)
    step = jax.jit(
        lambda s, flag: rule.update(params, s, pre, post, jnp.float32(0.5), flag)
    )
    moved, frozen = step(state, True), step(state, False)
    jax.tree.map(np.testing.assert_array_equal, frozen, state)
    assert any(
        np.any(a != b)
        for a, b in zip(jax.tree.leaves(moved), jax.tree.leaves(state), strict=True)
    )


def test_models_take_rules_by_name_or_factory():
    by_name = make_model("prnn-postdn", rule="decomposed", hidden=8)
    reference = make_model("decprnn-postdn", hidden=8)
    assert hebbjax.n_gene(by_name) == hebbjax.n_gene(reference)
    params = reference.init_params(jax.random.key(0))
    x = jnp.ones(15)
    out_a, _ = by_name.step(params, by_name.init_memory(params), x)
    out_b, _ = reference.step(params, reference.init_memory(params), x)
    np.testing.assert_array_equal(out_a, out_b)
    with pytest.raises(ValueError, match="valid rule names: abcd"):
        make_model("prnn", rule="hebbian")
    lr = make_model("hebbian-ffn", rule="abcd", n_in=3, n_out=2, hidden=4)
    assert set(jax.eval_shape(lr.init_params, jax.random.key(0))) == {
        f"layer_{k}/{c}" for k in (1, 2, 3) for c in "ABCD"
    }


def _sphere(genome):
    return sum(jnp.sum((leaf - 0.5) ** 2) for leaf in jax.tree.leaves(genome))


GENOME = {"w": jnp.zeros((3, 4)), "b": jnp.zeros(3)}


@pytest.mark.parametrize("name", STRATEGIES.names())
def test_every_strategy_asks_and_tells_under_jit(name):
    """init, one generation of ask / tell (fitness negated once) and get_mean."""
    es, params = make_strategy(name, 8, GENOME, std_init=0.1)

    @jax.jit
    def generation(key):
        k_init, k_ask, k_tell = jax.random.split(key, 3)
        state = es.init(k_init, GENOME, params)
        population, state = es.ask(k_ask, state, params)
        fitness = -jax.vmap(_sphere)(population)  # higher is better in hebbjax
        state, _ = es.tell(k_tell, population, -fitness, state, params)
        return population, es.get_mean(state)

    population, mean = generation(jax.random.key(0))
    assert jax.tree.map(jnp.shape, mean) == jax.tree.map(jnp.shape, GENOME)
    assert jax.tree.leaves(population)[0].shape[0] == 8
    assert all(np.isfinite(np.asarray(x)).all() for x in jax.tree.leaves(mean))


def _one_generation(name: str) -> dict:
    task = make_task("gymnax:CartPole-v1", n_rollouts=1, max_steps=3)
    model = make_model("meta-dnn", n_in=task.n_in, n_out=task.n_out, hidden=2)
    genome = model.init_params(jax.random.key(0))
    es, es_params = make_strategy(name, 8, genome, std_init=0.1)
    state = es.init(jax.random.key(1), genome, es_params)
    step = make_generation_step(es, es_params, model, task, n_tasks=2, repeats=1)
    state, metrics = step(state, jax.random.key(2))
    state, metrics = step(state, jax.random.key(3))
    mean = es.get_mean(state)
    assert jax.tree.map(jnp.shape, mean) == jax.tree.map(jnp.shape, genome)
    assert np.isfinite(float(metrics["fitness_max"]))
    assert int(metrics["n_nonfinite"]) == 0
    return metrics


@pytest.mark.parametrize("name", ["paper-cmaes", "simple-ga", "sv-open-es"])
def test_one_family_member_runs_a_jitted_generation(name):
    """A distribution-, a population-based and a Stein-variational strategy through the
    training path (the full sweep is ``test_every_strategy_runs_a_generation``)."""
    _one_generation(name)


@pytest.mark.slow
@pytest.mark.parametrize("name", STRATEGIES.names())
def test_every_strategy_runs_a_generation(name):
    _one_generation(name)


def test_public_api():
    for name in ("make_model", "make_task", "make_strategy", "TrainConfig", "train",
                 "evaluate", "summarize", "MODELS", "TASKS", "RULES", "STRATEGIES", "Probe"):  # fmt: skip
        assert getattr(hebbjax, name) is not None
    assert hebbjax.make_task is make_task
    with pytest.raises(AttributeError):
        hebbjax.nothing_here  # noqa: B018


def test_user_rule_and_strategy_train_and_resume(tmp_path):
    path = Path(__file__).parents[1] / "examples" / "custom_rule_and_strategy.py"
    spec = importlib.util.spec_from_file_location("user_example", path)
    example = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(example)  # registers "oja" and "pgpe-fast"
    try:
        config = hebbjax.TrainConfig(
            task="maze9", model="prnn-postdn", strategy="pgpe-fast", population=8,
            generations=2, validate_every=1, n_validation=4, checkpoint_every=1,
            model_kwargs={"rule": "oja", "hidden": 4}, task_kwargs={"use_cache": False},
        )  # fmt: skip
        first = hebbjax.train(config, tmp_path / "run")
        assert "PRNN_1/hebbian_h/eta" in first.mean_params
        longer = hebbjax.TrainConfig(**{**config.__dict__, "generations": 3})
        resumed = hebbjax.train(longer, tmp_path / "run", resume=True)
        assert len(resumed.history) == 3 and math.isfinite(resumed.best_score)
    finally:
        RULES._items.pop("oja", None)
        STRATEGIES._items.pop("pgpe-fast", None)
        sys.modules.pop("user_example", None)

"""Contract tests over every registered outer-loop strategy."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from evosax.algorithms import CMA_ES, SNES, Open_ES, Sep_CMA_ES

from hebbjax.evolution import strategies
from hebbjax.evolution.evosax_adapters import evosax_algorithms, kebab
from hebbjax.evolution.paper_cmaes import PaperCMAES
from hebbjax.evolution.strategies import STRATEGIES, make_strategy

SOLUTION = {"w": jnp.zeros((2, 3)), "b": jnp.zeros(2)}  # D = 8
POPULATION = 16
EVOSAX_CLASS = {
    "sep-cma-es": Sep_CMA_ES,
    "cma-es": CMA_ES,
    "openai-es": Open_ES,
    "snes": SNES,
    "paper-cmaes": PaperCMAES,
}


def sphere(solution):
    return sum(jnp.sum(leaf**2) for leaf in jax.tree.leaves(solution))


def test_registry_names_and_factories():
    # strategies of other papers (eprnn-es, ...) register after these
    assert STRATEGIES.names()[: len(EVOSAX_CLASS)] == list(EVOSAX_CLASS)
    evosax_names = {kebab(n): cls for n, cls in evosax_algorithms().items()}
    for name in STRATEGIES:
        factory = STRATEGIES.get(name)
        if hasattr(factory, "__name__"):  # hebbjax's own factories
            assert factory.__name__ == name.replace("-", "_")
            assert getattr(strategies, name.replace("-", "_")) is factory
        else:  # every other evosax algorithm, under evosax's own name
            assert factory.args == (evosax_names[name],)
    # every evosax algorithm is reachable by name
    assert set(evosax_names) <= set(STRATEGIES)
    assert len(STRATEGIES) >= len(evosax_names) + 4


def test_unknown_strategy_lists_valid_names():
    with pytest.raises(ValueError, match="sep-cma-es, cma-es, openai-es, snes"):
        make_strategy("sep-cmaes", POPULATION, SOLUTION)


def test_unknown_param_override_is_a_value_error():
    with pytest.raises(ValueError, match="std_init"):
        make_strategy("sep-cma-es", POPULATION, SOLUTION, stdinit=0.1)
    with pytest.raises(ValueError, match="even"):
        make_strategy("openai-es", 15, SOLUTION)
    with pytest.raises(ValueError, match="adam, sgd"):
        make_strategy("openai-es", POPULATION, SOLUTION, optimizer="rmsprop")
    with pytest.raises(ValueError, match="unknown parameter.*constructor options"):
        make_strategy("simple-ga", POPULATION, SOLUTION, elite=0.5)


@pytest.mark.parametrize("name", list(EVOSAX_CLASS))
def test_init_ask_tell_under_jit(name):
    es, params = make_strategy(name, POPULATION, SOLUTION)
    assert isinstance(es, EVOSAX_CLASS[name])
    mean = jax.tree.map(jnp.ones_like, SOLUTION)

    @jax.jit
    def first_generation(key):
        key_init, key_ask, key_tell = jax.random.split(key, 3)
        state = es.init(key_init, mean, params)
        x, state = es.ask(key_ask, state, params)
        fitness = jax.vmap(sphere)(x)
        new_state, metrics = es.tell(key_tell, x, fitness, state, params)
        return x, state, new_state, metrics

    x, state, new_state, metrics = first_generation(jax.random.key(0))
    assert jax.tree.map(jnp.shape, x) == {"w": (POPULATION, 2, 3), "b": (POPULATION, 2)}
    assert new_state.mean.shape == (8,)
    assert int(new_state.generation_counter) == 1
    np.testing.assert_allclose(jnp.mean(state.std), 0.01, rtol=1e-6)
    assert np.isfinite(float(metrics["best_fitness_in_generation"]))
    assert np.all(np.isfinite(new_state.mean))
    assert jax.tree.map(jnp.shape, es.get_mean(new_state)) == {"w": (2, 3), "b": (2,)}


@pytest.mark.parametrize("name", list(EVOSAX_CLASS))
def test_a_few_generations_improve_the_sphere(name):
    es, params = make_strategy(name, POPULATION, SOLUTION)
    mean = jax.tree.map(jnp.ones_like, SOLUTION)

    @jax.jit
    def run(key):
        state = es.init(key, mean, params)

        def generation(state, key):
            key_ask, key_tell = jax.random.split(key)
            x, state = es.ask(key_ask, state, params)
            state, _ = es.tell(key_tell, x, jax.vmap(sphere)(x), state, params)
            return state, sphere(es.get_mean(state))

        return jax.lax.scan(generation, state, jax.random.split(key, 30))[1]

    mean_fitness = np.asarray(run(jax.random.key(1)))
    assert np.all(np.isfinite(mean_fitness))
    assert mean_fitness[-1] < 0.9 * float(sphere(mean))


def test_overrides_reach_params():
    es, params = make_strategy("paper-cmaes", 8, SOLUTION, std_init=0.1, c_cov=0.05)
    assert float(params.std_init) == pytest.approx(0.1)
    assert float(params.c_cov) == pytest.approx(0.05)
    es, params = make_strategy("sep-cma-es", 8, SOLUTION, std_init=0.2, std_max=2.0)
    assert float(params.std_init) == pytest.approx(0.2) and params.std_max == 2.0

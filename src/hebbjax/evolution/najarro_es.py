"""Najarro & Risi's outer loop: OpenAI-ES with SGD, as evosax ``Open_ES``.

Najarro & Risi 2020, "Meta-learning through Hebbian plasticity in random networks"
([E] evolution_strategy_hebb.py; spec ``hebbian-ant-brax.md`` 1.4 and 4.5):
antithetic sampling, SGD lr 0.2 x 0.995^t (floor 1e-3), sigma 0.1 x 0.999^t (floor 0.01),
centred ranks then standardised, update mu += lr / (P sigma) sum_i F~_i eps_i. It is also
Palm et al.'s rho = 1 ``NormalPopulation`` ([S] normal_population.py, spec 2.3).
"""

from __future__ import annotations

from typing import Any

import optax


def najarro_es(
    population_size: int,
    solution: Any,
    *,
    std_init: float = 0.1,
    learning_rate: float = 0.2,
    lr_decay: float = 0.995,
    lr_min: float = 1e-3,
    std_decay: float = 0.999,
    std_min: float = 0.01,
) -> tuple[Any, Any]:
    """[E]'s OpenAI-ES as evosax ``Open_ES`` (spec 4.5); P must be even."""
    from evosax.algorithms import Open_ES
    from evosax.core.fitness_shaping import (
        centered_rank_fitness_shaping_fn,
        standardize_fitness_shaping_fn,
    )

    from hebbjax.evolution.evosax_adapters import allow_rank_promotion

    if population_size % 2:
        raise ValueError(f"najarro-es needs an even population, got {population_size}")

    def rank_then_standardize(population, fitness, state, params):
        ranks = centered_rank_fitness_shaping_fn(population, fitness, state, params)
        return standardize_fitness_shaping_fn(population, ranks, state, params)

    es = allow_rank_promotion(Open_ES)(
        population_size,
        solution,
        use_antithetic_sampling=True,
        optimizer=optax.sgd(
            optax.exponential_decay(learning_rate, 1, lr_decay, end_value=lr_min)
        ),
        std_schedule=optax.exponential_decay(std_init, 1, std_decay, end_value=std_min),
        fitness_shaping_fn=rank_then_standardize,
    )
    return es, es.default_params

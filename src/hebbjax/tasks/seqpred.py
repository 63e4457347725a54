"""Sequence Predicting as a hebbjax ``Task`` (Wang et al., EPRNN, Sec. 4.1 and Table 2).

Spec ``maze-decprnn-eprnn.md`` section 4.1. A lifetime is the reference's two "rollouts"
``[(0.0, "TRAIN", plastic), (1.0, "TEST", frozen)]`` on one task:

- TRAIN: K steps with plasticity on; inputs ``y_0 .. y_{K-1}``; unscored (return 0);
- TEST: N steps with plasticity off and the hidden state carried over; the first input is
  the zero vector, then the network's own previous output; test step k is scored against
  ``y_{K+k}``.

Fitness = the TEST return = ``-(1/N) sum_k mean_d (y_{K+k,d} - a_{k,d})^2``, the paper's
negative MSE. ``LifetimeResult`` rows are the two phases: ``returns = (0, score)``,
``steps = (K, N)`` and ``success = (0, 0)`` (a regression task has no goal).
Validation and test sets are 1,600 seeded tasks each, as the reference's test set.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from hebbjax.envs.seqpred import SequencePrediction, sample_seqpred_params
from hebbjax.models.base import Model, Params
from hebbjax.tasks.base import (
    LifetimeResult,
    Task,
    per_model_cache,
    seeded_task_set,
)

N_VALIDATION = 1600
N_TEST = 1600


def seqpred_lifetime(model: Model, env: SequencePrediction):
    """``run(params, task_params, key) -> LifetimeResult`` for one task and one genome."""
    if model.n_in != env.dim or model.n_out != env.dim:
        raise ValueError(
            f"sequence predicting with l={env.dim} needs n_in = n_out = {env.dim}; "
            f"model has n_in={model.n_in}, n_out={model.n_out}"
        )

    def phase(params, task_params, plastic: bool, length: int):
        def body(carry, _):
            memory, state, obs = carry
            out, memory = model.step(params, memory, obs, plastic=plastic)
            obs, state, reward, _, _ = env.step_env(
                jax.random.key(0), state, out, task_params
            )
            return (memory, state, obs), reward

        return lambda carry: jax.lax.scan(body, carry, None, length=length)

    def run(params: Params, task_params, key: jax.Array) -> LifetimeResult:
        k_reset, k_memory = jax.random.split(key)
        obs, state = env.reset_env(k_reset, task_params)
        carry = (model.init_memory(params, k_memory), state, obs)
        carry, train_rewards = phase(params, task_params, True, env.k_train)(carry)
        _, test_rewards = phase(params, task_params, False, env.n_test)(carry)
        returns = jnp.stack([jnp.sum(train_rewards), jnp.sum(test_rewards)])
        return LifetimeResult(
            fitness=returns[1],
            returns=returns,
            steps=jnp.array([env.k_train, env.n_test], jnp.int32),
            success=jnp.zeros(2, jnp.float32),
        )

    return run


N_MEANINGS = ("test", "total")


def seqpred_task(
    dim: int = 1,
    k_train: int = 10,
    n_test: int = 20,
    n_means: str = "test",
    validation_seed: int = 20210901,
    test_seed: int = 20210902,
    name: str | None = None,
) -> Task:
    """Sequence Predicting with l = ``dim`` sinusoids, K = ``k_train`` and N = ``n_test``.

    Args:
        dim, k_train, n_test: the (l, K, N) of the paper's Table 2.
        n_means: what N counts. ``"test"`` (default; the reference config
            ``config_SeqPred_task.py``, spec 4.1): N TEST steps predicting
            ``y_{K+1} .. y_{K+N}``. ``"total"`` (the paper's Sec. 4.1 text): N is the
            whole sequence, so TEST predicts ``y_{K+1} .. y_N`` in N - K steps.
        validation_seed, test_seed: seeds of the 1,600 validation and test tasks.
        name: task name; default ``seqpred-l{dim}-k{k_train}-n{n_test}``.
    Returns:
        A ``Task`` with 2 rollouts (TRAIN, TEST).
    """
    if n_means not in N_MEANINGS:
        raise ValueError(
            f"n_means must be one of {', '.join(N_MEANINGS)}, got {n_means!r}"
        )
    steps = n_test if n_means == "test" else n_test - k_train
    if steps < 1:
        raise ValueError(f"n_means='total' needs N > K, got N={n_test}, K={k_train}")
    env = SequencePrediction(dim, k_train, steps)

    lifetime = per_model_cache(lambda model: seqpred_lifetime(model, env))

    def sample_params(key: jax.Array):
        return sample_seqpred_params(key, dim, env.n_steps)

    return Task(
        name=name or f"seqpred-l{dim}-k{k_train}-n{n_test}",
        n_in=dim,
        n_out=dim,
        n_rollouts=2,
        sample_params=sample_params,
        validation_set=seeded_task_set(sample_params, validation_seed, N_VALIDATION),
        test_set=seeded_task_set(sample_params, test_seed, N_TEST),
        lifetime=lifetime,
        info=dict(
            dim=dim,
            k_train=k_train,
            n_test=steps,
            n_means=n_means,
            rollout_weights=(0.0, 1.0),
            validation_seed=validation_seed,
            test_seed=test_seed,
        ),
    )

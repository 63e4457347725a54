"""Sequence Predicting as a hebbjax ``Task`` (Wang et al., EPRNN, Sec. 4.1 and Table 2).

Spec ``maze-decprnn-eprnn.md`` section 4.1, over the ``SequencePrediction`` environment
(``envs/seqpred.py``). A lifetime is one episode of K + N steps on one task, the reference's
two "rollouts" ``[(0.0, "TRAIN", plastic), (1.0, "TEST", frozen)]`` as two rollouts of one
sequence (the environment continues from TRAIN into TEST):

- TRAIN: K steps with plasticity on; inputs ``y_0 .. y_{K-1}``; unscored (reward 0);
- TEST: N steps with plasticity off and the hidden state carried over; the first input is
  the zero vector, then the network's own previous output; test step k is scored against
  ``y_{K+k}``.

Fitness = the TEST return = ``-(1/N) sum_k mean_d (y_{K+k,d} - a_{k,d})^2``, the paper's
negative MSE. ``LifetimeResult`` rows are the two phases: ``returns = (0, score)``,
``steps = (K, N)`` and ``success = (0, 0)`` (a regression task has no goal). Validation and
test sets are 1,600 seeded tasks each, as the reference's test set.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from hebbjax.envs.seqpred import SequencePrediction, sample_seqpred_params
from hebbjax.models.base import Model
from hebbjax.tasks.base import (
    Task,
    TaskWords,
    checked_block,
    per_model_cache,
    seeded_sets,
)
from hebbjax.tasks.lifetime import Episodes, Probe, episodic_lifetime

N_VALIDATION = 1600
N_TEST = 1600
WORDS = TaskWords(
    task="sequence",
    rollout="phase",
    rollout_names=("TRAIN", "TEST"),
    success="(none: regression)",
    returns="negative test MSE",
)


def seqpred_episodes(env: SequencePrediction) -> Episodes:
    """K plastic TRAIN steps, then N frozen TEST steps of the same sequence (spec 4.1)."""

    def reset(noise, r, task_params):
        obs, state = env.reset_env(jax.random.key(0), task_params)
        return obs, state, jnp.zeros((env.dim,), jnp.float32)

    return Episodes(
        env=env,
        n_rollouts=2,
        max_steps=(env.k_train, env.n_test),
        noise=lambda key: jax.random.split(key)[1],
        memory_key=lambda k_memory: k_memory,
        reset=reset,
        encode=lambda obs, prev_action, prev_reward, t: obs,
        act=lambda out, noise, i: out,
        env_key=lambda noise, i, r, t: jax.random.key(0),
        success=lambda total, steps, terminated: jnp.float32(0.0),
        plastic=(True, False),
        terminates=False,
        continue_env=True,
    )


def seqpred_lifetime(model: Model, env: SequencePrediction, probe: Probe | None = None):
    """``run(params, task_params, key) -> LifetimeResult`` for one task and one genome."""
    if model.n_in != env.dim or model.n_out != env.dim:
        raise ValueError(
            f"sequence predicting with l={env.dim} needs n_in = n_out = {env.dim}; "
            f"model has n_in={model.n_in}, n_out={model.n_out}"
        )

    def fitness(params, returns, steps, success):
        return returns[1]

    return episodic_lifetime(model, seqpred_episodes(env), fitness, probe)


N_MEANINGS = ("test", "total")


def seqpred_task(
    dim: int = 1,
    k_train: int = 10,
    n_test: int = 20,
    n_means: str = "test",
    validation_seed: int = 20210901,
    test_seed: int = 20210902,
    name: str | None = None,
    block_lifetimes: int | None = 64,
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
        block_lifetimes: on CPU, lifetimes evaluated together per device (64: each
            lifetime's 64 x 64 plastic block, 16 KB, stays in cache; 2.5-2.8x faster EPRNN
            and 1.5-2.3x faster ES-RNN / ES-LSTM generations than one batch of all
            lifetimes); ``None`` evaluates a device's share at once.
    Returns:
        A ``Task`` with 2 rollouts (TRAIN, TEST) of one sequence.
    """
    if n_means not in N_MEANINGS:
        raise ValueError(
            f"n_means must be one of {', '.join(N_MEANINGS)}, got {n_means!r}"
        )
    steps = n_test if n_means == "test" else n_test - k_train
    if steps < 1:
        raise ValueError(f"n_means='total' needs N > K, got N={n_test}, K={k_train}")
    env = SequencePrediction(dim, k_train, steps)

    def sample_params(key: jax.Array):
        return sample_seqpred_params(key, dim, env.n_steps)

    return Task(
        name=name or f"seqpred-l{dim}-k{k_train}-n{n_test}",
        n_in=dim,
        n_out=dim,
        n_rollouts=2,
        env=env,
        sample_params=sample_params,
        sets=seeded_sets(
            sample_params, validation_seed, test_seed, N_VALIDATION, N_TEST, "sequences"
        ),
        lifetime=per_model_cache(
            lambda model, probe=None: seqpred_lifetime(model, env, probe)
        ),
        words=WORDS,
        block_lifetimes=checked_block(block_lifetimes),
        rollout_weights=(0.0, 1.0),
        settings=dict(
            dim=dim,
            k_train=k_train,
            n_test=steps,
            n_means=n_means,
            validation_seed=validation_seed,
            test_seed=test_seed,
        ),
    )

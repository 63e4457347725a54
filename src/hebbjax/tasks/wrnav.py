"""Wheeled Robot Navigating as a hebbjax ``Task`` (Wang et al., EPRNN, Sec. 4.1, Table 3).

Spec ``maze-decprnn-eprnn.md`` section 4.2. A lifetime is two episodes on one task, the
reference's ``[(0.0, "TRAIN", plastic), (1.0, "TEST", frozen)]``: each restarts the robot
at (0, 0), heading 0, previous action (0, 0); the network memory (hidden state and
plastic weights) carries over from TRAIN to TEST; plasticity is on in TRAIN only.

Each episode is one ``lax.scan`` of 101 steps; after the terminal transition (goal
reached or step > 100) every quantity is frozen by masking (spec pitfall 6.11).
``LifetimeResult``: ``returns`` = sum of ``-d_t`` per episode, ``steps`` = episode
lengths, ``success`` = reached the goal (``d_t < 0.02``); fitness = the TEST return, the
paper's score. Validation and test sets are 1,600 seeded tasks each.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from hebbjax.envs.wrnav import WheeledRobotNavigation, sample_wrnav_params
from hebbjax.models.base import Model, Params
from hebbjax.tasks.base import (
    LifetimeResult,
    Task,
    per_model_cache,
    seeded_task_set,
)

N_VALIDATION = 1600
N_TEST = 1600


def wrnav_lifetime(model: Model, env: WheeledRobotNavigation):
    """``run(params, task_params, key) -> LifetimeResult`` for one task and one genome."""
    if model.n_in != 3 or model.n_out != 2:
        raise ValueError(
            "wheeled-robot navigation feeds 3 inputs and reads 2 outputs; "
            f"model has n_in={model.n_in}, n_out={model.n_out}"
        )
    limit = env.episode_limit

    def episode(params, task_params, memory, key, plastic: bool):
        k_reset, k_steps = jax.random.split(key)
        obs, state = env.reset_env(k_reset, task_params)

        def body(carry, k_step):
            memory, state, obs, total, steps, reached, active = carry
            out, new_memory = model.step(params, memory, obs, plastic=plastic)
            new_obs, new_state, reward, terminated, _ = env.step_env(
                k_step, state, out, task_params
            )
            done = terminated | env.is_truncated(new_state, task_params)

            def keep(new, old):
                return jax.tree.map(lambda a, b: jnp.where(active, a, b), new, old)

            carry = (
                keep(new_memory, memory),
                keep(new_state, state),
                keep(new_obs, obs),
                total + jnp.where(active, reward, 0.0),
                steps + active.astype(jnp.int32),
                reached | (active & terminated),
                active & ~done,
            )
            return carry, None

        carry = (
            memory,
            state,
            obs,
            jnp.float32(0.0),
            jnp.int32(0),
            jnp.zeros((), jnp.bool_),
            jnp.ones((), jnp.bool_),
        )
        carry, _ = jax.lax.scan(body, carry, jax.random.split(k_steps, limit))
        memory, _, _, total, steps, reached, _ = carry
        return memory, total, steps, reached

    def run(params: Params, task_params, key: jax.Array) -> LifetimeResult:
        k_memory, k_train, k_test = jax.random.split(key, 3)
        memory = model.init_memory(params, k_memory)
        memory, r_train, n_train, ok_train = episode(
            params, task_params, memory, k_train, True
        )
        _, r_test, n_test, ok_test = episode(params, task_params, memory, k_test, False)
        return LifetimeResult(
            fitness=r_test,
            returns=jnp.stack([r_train, r_test]),
            steps=jnp.stack([n_train, n_test]),
            success=jnp.stack([ok_train, ok_test]).astype(jnp.float32),
        )

    return run


def wrnav_task(
    noise_std: float = 0.01,
    max_steps: int = 100,
    clip_actions: bool = False,
    validation_seed: int = 20210903,
    test_seed: int = 20210904,
    name: str | None = None,
) -> Task:
    """Wheeled-robot navigation with signal noise ``noise_std`` (Table 3: .01/.05/.2).

    Args:
        noise_std: std of the signal noise.
        max_steps: an episode ends once its step count exceeds this (101 steps at most).
        clip_actions: clip wheel commands to [-1, 1] (the reference leaves them raw).
        validation_seed, test_seed: seeds of the 1,600 validation and test tasks.
        name: task name; default ``wrnav-noise{noise_std}``.
    Returns:
        A ``Task`` with 2 rollouts (TRAIN, TEST).
    """
    env = WheeledRobotNavigation(noise_std, max_steps, clip_actions)

    lifetime = per_model_cache(lambda model: wrnav_lifetime(model, env))

    def sample_params(key: jax.Array):
        return sample_wrnav_params(key, max_steps)

    return Task(
        name=name or f"wrnav-noise{noise_std:g}",
        n_in=3,
        n_out=2,
        n_rollouts=2,
        sample_params=sample_params,
        validation_set=seeded_task_set(sample_params, validation_seed, N_VALIDATION),
        test_set=seeded_task_set(sample_params, test_seed, N_TEST),
        lifetime=lifetime,
        info=dict(
            noise_std=noise_std,
            max_steps=max_steps,
            clip_actions=clip_actions,
            rollout_weights=(0.0, 1.0),
            validation_seed=validation_seed,
            test_seed=test_seed,
        ),
    )

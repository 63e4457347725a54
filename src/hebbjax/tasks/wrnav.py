"""Wheeled Robot Navigating as a hebbjax ``Task`` (Wang et al., EPRNN, Sec. 4.1, Table 3).

Spec ``maze-decprnn-eprnn.md`` section 4.2, over the ``WheeledRobotNavigation`` environment
(``envs/wrnav.py``). A lifetime is two episodes on one task, the reference's
``[(0.0, "TRAIN", plastic), (1.0, "TEST", frozen)]``: each restarts the robot at (0, 0),
heading 0, previous action (0, 0); the network memory (hidden state and plastic weights)
carries over from TRAIN to TEST; plasticity is on in TRAIN only. An episode ends after its
terminal transition (goal reached or step > 100; spec pitfall 6.11).
``LifetimeResult``: ``returns`` = sum of ``-d_t`` per episode, ``steps`` = episode
lengths, ``success`` = reached the goal (``d_t < 0.02``); fitness = the TEST return, the
paper's score. Validation and test sets are 1,600 seeded tasks each.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from hebbjax.envs.wrnav import WheeledRobotNavigation, sample_wrnav_params
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
    task="goal",
    rollout="episode",
    rollout_names=("TRAIN", "TEST"),
    success="reached the goal (d < 0.02)",
    returns="return (sum of -distance)",
)


def wrnav_episodes(env: WheeledRobotNavigation) -> Episodes:
    """TRAIN (plastic) and TEST (frozen) episodes, each from the start pose (spec 4.2)."""
    limit = env.episode_limit

    def noise(key):
        k_memory, *k_episodes = jax.random.split(key, 3)
        pairs = [jax.random.split(k) for k in k_episodes]
        return dict(
            memory=k_memory,
            reset=jnp.stack([k_reset for k_reset, _ in pairs]),
            steps=jnp.stack([jax.random.split(k_steps, limit) for _, k_steps in pairs]),
        )

    def reset(noise, r, task_params):
        obs, state = env.reset_env(noise["reset"][r], task_params)
        return obs, state, jnp.zeros((2,), jnp.float32)

    return Episodes(
        env=env,
        n_rollouts=2,
        max_steps=limit,
        noise=noise,
        memory_key=lambda noise: noise["memory"],
        reset=reset,
        encode=lambda obs, prev_action, prev_reward, t: obs,
        act=lambda out, noise, i: out,
        env_key=lambda noise, i, r, t: noise["steps"][r, t],
        success=lambda total, steps, terminated: terminated,
        plastic=(True, False),
        position=lambda state: state.pos,
    )


def wrnav_lifetime(
    model: Model, env: WheeledRobotNavigation, probe: Probe | None = None
):
    """``run(params, task_params, key) -> LifetimeResult`` for one task and one genome."""
    if model.n_in != 3 or model.n_out != 2:
        raise ValueError(
            "wheeled-robot navigation feeds 3 inputs and reads 2 outputs; "
            f"model has n_in={model.n_in}, n_out={model.n_out}"
        )

    def fitness(params, returns, steps, success):
        return returns[1]

    return episodic_lifetime(model, wrnav_episodes(env), fitness, probe)


def wrnav_task(
    noise_std: float = 0.01,
    max_steps: int = 100,
    clip_actions: bool = False,
    validation_seed: int = 20210903,
    test_seed: int = 20210904,
    name: str | None = None,
    block_lifetimes: int | None = 64,
) -> Task:
    """Wheeled-robot navigation with signal noise ``noise_std`` (Table 3: .01/.05/.2).

    Args:
        noise_std: std of the signal noise.
        max_steps: an episode ends once its step count exceeds this (101 steps at most).
        clip_actions: clip wheel commands to [-1, 1] (the reference leaves them raw).
        validation_seed, test_seed: seeds of the 1,600 validation and test tasks.
        name: task name; default ``wrnav-noise{noise_std}``.
        block_lifetimes: on CPU, lifetimes evaluated together per device (64: each
            lifetime's 64 x 64 plastic block, 16 KB, stays in cache; 2.5-2.8x faster EPRNN
            and 1.5-2.3x faster ES-RNN / ES-LSTM generations than one batch of all
            lifetimes); ``None`` evaluates a device's share at once.
    Returns:
        A ``Task`` with 2 rollouts (TRAIN, TEST).
    """
    env = WheeledRobotNavigation(noise_std, max_steps, clip_actions)

    def sample_params(key: jax.Array):
        return sample_wrnav_params(key, max_steps)

    return Task(
        name=name or f"wrnav-noise{noise_std:g}",
        n_in=3,
        n_out=2,
        n_rollouts=2,
        env=env,
        sample_params=sample_params,
        sets=seeded_sets(
            sample_params, validation_seed, test_seed, N_VALIDATION, N_TEST, "goals"
        ),
        lifetime=per_model_cache(
            lambda model, probe=None: wrnav_lifetime(model, env, probe)
        ),
        words=WORDS,
        block_lifetimes=checked_block(block_lifetimes),
        rollout_weights=(0.0, 1.0),
        settings=dict(
            noise_std=noise_std,
            max_steps=max_steps,
            clip_actions=clip_actions,
            validation_seed=validation_seed,
            test_seed=test_seed,
        ),
    )

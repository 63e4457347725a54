"""Any gymnax environment as a meta-learning task: ``hebbjax train --task gymnax:CartPole-v1``.

The lifetime is the one loop of ``tasks/lifetime.py`` (the meta-RL lifetime of Wang et al.
2022 spec 2.6, Duan et al.'s RL^2 and Miconi et al.'s backpropamine mazes): ``n_rollouts``
episodes of the environment with the network memory (hidden state, plastic weights) carried
across them. A *task* is one draw of the environment's parameters (optionally perturbed
around gymnax's defaults, ``param_spread``) and a reset key: with ``reset="same"`` every
rollout of a lifetime starts from the same initial state (the same goal, the same maze), so
what one rollout learns pays in the next; with ``reset="fresh"`` each rollout starts anew.

Adapters:

- input: the flattened observation, optionally followed by the previous action (one-hot for
  discrete actions) and the previous reward (``inputs``), as the maze task feeds them;
- action: discrete, the argmax of the first ``n`` outputs (``action="greedy"``) or a softmax
  sample (``"sample"``, Gumbel noise drawn from the lifetime key); continuous, the outputs
  squashed into the action box (``"tanh"``) or clipped (``"clip"``);
- success: ``"terminated"`` (the episode ended before its step limit: it reached its goal,
  e.g. Acrobot), ``"truncated"`` (it lasted the whole episode, e.g. CartPole) or ``"return>X"`` / ``"return>=X"``;
  ``"auto"`` picks one per environment.

Fitness is the ``rollout_weights``-weighted mean of the rollout returns (equal by default).
"""

from __future__ import annotations

import dataclasses
import math
import re
from collections.abc import Sequence
from typing import Any

import jax
import jax.numpy as jnp

from hebbjax.models.base import Model
from hebbjax.tasks.base import (
    Task,
    TaskWords,
    check_rollout_weights,
    per_model_cache,
    seeded_sets,
    weighted_fitness,
)
from hebbjax.tasks.lifetime import Episodes, Probe, episodic_lifetime

INPUTS = ("obs", "prev_action", "prev_reward")
DISCRETE_ACTIONS = ("greedy", "sample")
BOX_ACTIONS = ("tanh", "clip")
RESETS = ("same", "fresh")
AUTO_SUCCESS = {
    "CartPole-v1": "truncated",
    "Acrobot-v1": "terminated",
    "MountainCar-v0": "terminated",
    "MountainCarContinuous-v0": "terminated",
    "MetaMaze-misc": "return>0",
}
N_VALIDATION = 256
N_TEST = 1024


def gymnax_env_ids() -> list[str]:
    import gymnax

    return list(gymnax.registered_envs)


def _make_env(env_id: str):
    import gymnax

    if env_id not in gymnax.registered_envs:
        raise ValueError(
            f"unknown gymnax environment {env_id!r}; valid: "
            + ", ".join(gymnax.registered_envs)
        )
    return gymnax.make(env_id)


def _success_rule(success: str, env_id: str, limit: int):
    # gymnax's own ``done`` includes its time limit: "terminated" means before the limit
    if success == "auto":
        success = AUTO_SUCCESS.get(env_id, "return>0")
    if success == "terminated":
        return success, lambda total, steps, terminated: terminated & (steps < limit)
    if success == "truncated":
        return success, lambda total, steps, terminated: steps >= limit
    match = re.fullmatch(r"return(>=|>)(-?[0-9.eE+-]+)", success.replace(" ", ""))
    if match is None:
        raise ValueError(
            f"unknown success criterion {success!r}; valid: auto, terminated, truncated, "
            "return>X, return>=X"
        )
    op, value = match.group(1), float(match.group(2))
    if op == ">=":
        return success, lambda total, steps, terminated: total >= value
    return success, lambda total, steps, terminated: total > value


def _float_fields(params: Any) -> dict[str, float]:
    """The environment parameters a task may perturb: plain float fields."""
    out = {}
    for field in dataclasses.fields(params):
        value = getattr(params, field.name)
        if isinstance(value, float) and not isinstance(value, bool):
            out[field.name] = value
    return out


def gymnax_task(
    env_id: str,
    n_rollouts: int = 3,
    rollout_weights: Sequence[float] | None = None,
    inputs: Sequence[str] = INPUTS,
    action: str | None = None,
    success: str = "auto",
    reset: str = "same",
    param_spread: float = 0.0,
    max_steps: int | None = None,
    validation_seed: int = 20261201,
    test_seed: int = 20261202,
    name: str | None = None,
) -> Task:
    """A meta-learning task over the gymnax environment ``env_id``.

    Args:
        env_id: a gymnax environment id (``gymnax.registered_envs``).
        n_rollouts: episodes per lifetime, memory kept across them.
        rollout_weights: fitness weight of each rollout (default equal).
        inputs: what the network sees: any of "obs", "prev_action", "prev_reward" (in
            that order).
        action: "greedy" or "sample" for discrete actions, "tanh" or "clip" for boxes;
            default greedy / tanh.
        success: "auto", "terminated", "truncated", "return>X" or "return>=X".
        reset: "same" (every rollout starts from the task's initial state) or "fresh".
        param_spread: each float parameter of the environment is scaled by U[1-s, 1+s]
            per task (0: every task has gymnax's defaults and differs only by its reset).
        max_steps: step limit per rollout (default the environment's).
        validation_seed, test_seed: seeds of the validation (256) and test (1,024) sets.
        name: task name; default ``gymnax:<env_id>``.
    """
    env, default = _make_env(env_id)
    space = env.action_space(default)
    discrete = hasattr(space, "n")
    action = ("greedy" if discrete else "tanh") if action is None else action
    valid_actions = DISCRETE_ACTIONS if discrete else BOX_ACTIONS
    if action not in valid_actions:
        raise ValueError(
            f"unknown action adapter {action!r} for {env_id}'s "
            f"{'discrete' if discrete else 'box'} actions; valid: {', '.join(valid_actions)}"
        )
    inputs = tuple(inputs)
    if not inputs or any(i not in INPUTS for i in inputs):
        raise ValueError(
            f"inputs must be a subset of {', '.join(INPUTS)}, got {inputs}"
        )
    inputs = tuple(i for i in INPUTS if i in inputs)
    if reset not in RESETS:
        raise ValueError(f"unknown reset {reset!r}; valid: {', '.join(RESETS)}")
    if not 0.0 <= param_spread < 1.0:
        raise ValueError(f"param_spread must be in [0, 1), got {param_spread}")
    if n_rollouts < 1:
        raise ValueError(f"n_rollouts must be >= 1, got {n_rollouts}")
    weights = check_rollout_weights(
        n_rollouts, (1.0,) * n_rollouts if rollout_weights is None else rollout_weights
    )
    limit = int(default.max_steps_in_episode if max_steps is None else max_steps)
    if limit < 1:
        raise ValueError(f"max_steps must be >= 1, got {limit}")
    success_name, success_fn = _success_rule(success, env_id, limit)

    obs_shape = env.observation_space(default).shape
    obs_size = math.prod(obs_shape)
    n_actions = int(space.n) if discrete else math.prod(space.shape)
    n_in = obs_size * ("obs" in inputs) + n_actions * ("prev_action" in inputs)
    n_in += "prev_reward" in inputs
    floats = _float_fields(default)

    def env_params(task_params):
        values = {k: task_params["params"][k] for k in floats}
        return default.replace(max_steps_in_episode=limit, **values)

    def sample_params(key: jax.Array):
        k_params, k_reset = jax.random.split(key)
        scales = jax.random.uniform(
            k_params,
            (len(floats),),
            jnp.float32,
            1.0 - param_spread,
            1.0 + param_spread,
        )
        values = {
            k: jnp.float32(v) * s
            for (k, v), s in zip(floats.items(), scales, strict=True)
        }
        return dict(params=values, reset=jax.random.key_data(k_reset))

    def episodes() -> Episodes:
        def noise(key):
            k_memory, k_act, k_env = jax.random.split(key, 3)
            return dict(memory=k_memory, act=k_act, env=k_env)

        def reset_fn(noise, r, task_params):
            base = jax.random.wrap_key_data(task_params["reset"])
            k = base if reset == "same" else jax.random.fold_in(base, r)
            obs, state = env.reset_env(k, env_params(task_params))
            prev = jnp.zeros((), jnp.int32) if discrete else jnp.zeros(space.shape)
            return jnp.asarray(obs, jnp.float32), state, prev

        def encode(obs, prev_action, prev_reward, t):
            parts = []
            if "obs" in inputs:
                parts.append(jnp.reshape(obs, (-1,)).astype(jnp.float32))
            if "prev_action" in inputs:
                if discrete:
                    parts.append(
                        jax.nn.one_hot(prev_action, n_actions, dtype=jnp.float32)
                    )
                else:
                    parts.append(jnp.reshape(prev_action, (-1,)).astype(jnp.float32))
            if "prev_reward" in inputs:
                parts.append(jnp.reshape(prev_reward, (1,)).astype(jnp.float32))
            return jnp.concatenate(parts)

        def act(out, noise, i):
            if discrete:
                logits = out[:n_actions]
                if action == "sample":
                    gumbel = jax.random.gumbel(
                        jax.random.fold_in(noise["act"], i), (n_actions,)
                    )
                    logits = logits + gumbel
                return jnp.argmax(logits).astype(jnp.int32)
            low = jnp.asarray(space.low, jnp.float32)
            high = jnp.asarray(space.high, jnp.float32)
            raw = jnp.reshape(out[:n_actions], space.shape)
            if action == "tanh":
                return low + 0.5 * (jnp.tanh(raw) + 1.0) * (high - low)
            return jnp.clip(raw, low, high)

        return Episodes(
            env=env,
            n_rollouts=n_rollouts,
            max_steps=limit,
            noise=noise,
            memory_key=lambda noise: noise["memory"],
            reset=reset_fn,
            encode=encode,
            act=act,
            env_key=lambda noise, i, r, t: jax.random.fold_in(noise["env"], i),
            success=success_fn,
            env_params=env_params,
        )

    def build_lifetime(model: Model, probe: Probe | None = None):
        if model.n_in != n_in or model.n_out < n_actions:
            raise ValueError(
                f"{env_id} feeds {n_in} inputs ({'+'.join(inputs)}) and reads "
                f"{n_actions} outputs; model has n_in={model.n_in}, n_out={model.n_out}"
            )
        return episodic_lifetime(model, episodes(), weighted_fitness(weights), probe)

    return Task(
        name=name or f"gymnax:{env_id}",
        n_in=n_in,
        n_out=n_actions,
        n_rollouts=n_rollouts,
        env=env,
        sample_params=sample_params,
        sets=seeded_sets(
            sample_params, validation_seed, test_seed, N_VALIDATION, N_TEST, "tasks"
        ),
        lifetime=per_model_cache(build_lifetime),
        words=TaskWords(task=f"{env_id} task", rollout="episode", success=success_name),
        rollout_weights=weights,
        settings=dict(
            env_id=env_id,
            n_rollouts=n_rollouts,
            inputs=",".join(inputs),
            action=action,
            success=success_name,
            reset=reset,
            param_spread=param_spread,
            max_steps=limit,
        ),
    )

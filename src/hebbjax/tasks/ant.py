"""Walking with the Brax ant across morphologies, as a hebbjax ``Task``.

Najarro & Risi 2020 (sec. 4.2: train on the standard and one damaged morphology, test on an
unseen damaged one) and Palm, Najarro & Risi 2021 (train on four variants, one held out);
spec ``hebbian-ant-brax.md`` sections 1.2, 1.5-1.6, 2.2, 2.5-2.6, 3.6 and 5.

Design (recorded here because the papers' protocols are not in one piece of code):

- A **task parameter** is a vector of morphology indices (into the protocol's variants,
  ``Task.settings["variants"]``). ``sample_params`` returns the *training* morphologies, so a
  lifetime runs one ant per training morphology (each with fresh U[-0.1, 0.1] weights and
  its own reset noise, as Palm's ``MetaAgent``) and **fitness = mean distance over the training
  morphologies - l2_penalty * mean(genome^2)** (spec 1.4, 2.2). Train with ``tasks_per_gen=1``.
  The "rollouts" of a lifetime are these morphologies, side by side.
- Each morphology's lifetime is the one lifetime loop (``tasks/lifetime.py``) over the gymnax
  ``BraxAnt`` environment, which holds the burn-in and Najarro's early stop.
- Sets: ``validation`` is the training set (shape (1, n_train)): the best genome is the one
  with the best mean training fitness, as [P]'s ``best.t``; ``test`` the held-out variants,
  each in a lifetime of its own; and one set per variant (``variant:<name>``, a single
  lifetime of that morphology), which ``hebbjax eval`` evaluates with ``--repeats 100`` as the
  papers' per-morphology table.
- Distance is the torso's displacement along +x during the policy phase (metres; [E]'s
  pybullet "progress" sum is about 60.6 x this). The lifetime is ``seconds`` long; the number of
  control steps is ``round(seconds / control_dt)``. The default control_dt 0.02 s and 20 s give
  1000 plastic steps (spec 3.6).
- Optional zero-action burn-in (``burn_in_seconds``; no forward pass effect, no plasticity).
- ``early_stop`` reproduces [E]'s termination: after ``grace_steps`` policy steps, the
  lifetime stops once the torso z < ``min_z`` or after more than ``patience`` consecutive
  steps of negative progress. ``success`` is 1.0 for a lifetime that was never stopped.

Protocols: ``default`` (train and test on the default ant), ``najarro`` (train default +
``short-xp-yn``, test ``short-xp-yp``, the left front lower leg), ``palm`` (train default,
``long-yn``, ``short-xp-yp``, ``short-xn-yp``; test ``long-yp``). Variant names: ``envs/ant.py``.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from hebbjax.envs.ant import BACKENDS, check_variants, n_frames_for
from hebbjax.envs.ant_gymnax import AntParams, BraxAnt
from hebbjax.models.base import Model, Params
from hebbjax.tasks.base import Task, TaskSet, TaskWords, per_model_cache
from hebbjax.tasks.lifetime import Episodes, LifetimeResult, Probe, episodic_lifetime

PROTOCOLS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "default": (("default",), ("default",)),
    "najarro": (("default", "short-xp-yn"), ("short-xp-yp",)),
    "palm": (("default", "long-yn", "short-xp-yp", "short-xn-yp"), ("long-yp",)),
}
OBS_SIZE, ACTION_SIZE = 27, 8


def genome_mean_square(params: Params) -> jax.Array:
    """mean(h^2) over every element of the genome ([E]'s L2 penalty term)."""
    leaves = jax.tree.leaves(params)
    total = sum(jnp.sum(jnp.square(leaf.astype(jnp.float32))) for leaf in leaves)
    return total / sum(leaf.size for leaf in leaves)


def ant_episodes(env: BraxAnt) -> Episodes:
    """One ant lifetime on the morphology of ``AntParams`` (spec 1.2)."""

    def noise(key):
        k_env, k_memory = jax.random.split(key)
        return dict(env=k_env, memory=k_memory)

    def reset(noise, r, params):
        obs, state = env.reset_env(noise["env"], params)
        return obs, state, jnp.zeros((env.num_actions,), jnp.float32)

    return Episodes(
        env=env,
        n_rollouts=1,
        max_steps=env.max_steps,
        noise=noise,
        memory_key=lambda noise: noise["memory"],
        reset=reset,
        encode=lambda obs, prev_action, prev_reward, t: obs,
        act=lambda out, noise, i: out,
        env_key=lambda noise, i, r, t: jax.random.key(0),
        success=lambda total, steps, stopped: ~stopped,
        position=env.torso_position,
        terminates=env.early_stop,
    )


def ant_task(
    protocol: str = "default",
    backend: str = "mjx",
    seconds: float = 20.0,
    control_dt: float = 0.02,
    burn_in_seconds: float = 0.0,
    early_stop: bool = True,
    min_z: float = 0.2,
    grace_steps: int = 200,
    patience: int = 30,
    l2_penalty: float = 0.01,
    reset_noise_scale: float = 0.1,
    name: str | None = None,
) -> Task:
    """The Brax ant walking task.

    Args:
        protocol: "default", "najarro" or "palm" (training and held-out variants).
        backend: Brax pipeline, "mjx" (default) or "spring" (fast; tests).
        seconds: lifetime length in simulated seconds (burn-in included).
        control_dt: seconds per control (and plasticity) step.
        burn_in_seconds: zero-action steps at the start ([E]: 40 steps of 0.0165 s).
        early_stop: [E]'s termination rule (see the module docstring).
        min_z, grace_steps, patience: its torso height, grace period and patience.
        l2_penalty: weight of mean(genome^2) subtracted from the fitness.
        reset_noise_scale: Brax's reset noise.
        name: task name; default ``f"ant-{protocol}"``.
    """
    if protocol not in PROTOCOLS:
        raise ValueError(
            f"unknown ant protocol {protocol!r}; valid: {', '.join(PROTOCOLS)}"
        )
    if backend not in BACKENDS:
        raise ValueError(f"unknown backend {backend!r}; valid: {', '.join(BACKENDS)}")
    n_frames_for(backend, control_dt)
    train, test = PROTOCOLS[protocol]
    variants = check_variants(tuple(dict.fromkeys(train + test)))
    n_steps = round(seconds / control_dt)
    n_burn = round(burn_in_seconds / control_dt)
    if n_steps < 1 or not 0 <= n_burn < n_steps:
        raise ValueError(
            f"need seconds >= control_dt and 0 <= burn_in_seconds < seconds, got "
            f"seconds={seconds}, burn_in_seconds={burn_in_seconds}"
        )
    train_idx = np.asarray([variants.index(v) for v in train], np.int32)
    test_idx = np.asarray([variants.index(v) for v in test], np.int32)
    env = BraxAnt(
        variants,
        backend,
        control_dt,
        max_steps=n_steps - n_burn,
        reset_noise_scale=reset_noise_scale,
        burn_in_steps=n_burn,
        early_stop=early_stop,
        min_z=min_z,
        grace_steps=grace_steps,
        patience=patience,
    )

    def build_lifetime(model: Model, probe: Probe | None = None):
        one = episodic_lifetime(
            model, ant_episodes(env), lambda p, returns, s, ok: returns[0], probe
        )
        over_morphologies = jax.vmap(one, in_axes=(None, 0, 0))

        def run(params: Params, indices, key):
            keys = jax.random.split(key, indices.shape[0])
            out = over_morphologies(params, AntParams(variant=indices), keys)
            result, trace = (out, None) if probe is None or not probe.record else out
            penalty = l2_penalty * genome_mean_square(params)
            result = LifetimeResult(
                jnp.mean(result.returns[:, 0]) - penalty,
                result.returns[:, 0],
                result.steps[:, 0],
                result.success[:, 0],
            )
            return result if trace is None else (result, trace)

        return run

    def single(index: int):
        return lambda: jnp.asarray([[index]], jnp.int32)

    sets = dict(
        validation=TaskSet(
            lambda: jnp.asarray(train_idx)[None],
            "validation",
            "one lifetime per training morphology: " + ", ".join(train),
        ),
        test=TaskSet(
            lambda: jnp.asarray(test_idx)[:, None],
            "test",
            "held-out morphologies, one lifetime each: " + ", ".join(test),
        ),
    )
    for v, variant in enumerate(variants):
        role = "train" if variant in train else "held-out"
        sets[f"variant:{variant}"] = TaskSet(
            single(v), role, f"one lifetime of the {variant} ant ({role})"
        )
    return Task(
        name=name or f"ant-{protocol}",
        n_in=OBS_SIZE,
        n_out=ACTION_SIZE,
        n_rollouts=len(train),
        env=env,
        sample_params=lambda key: jnp.asarray(train_idx),
        sets=sets,
        lifetime=per_model_cache(build_lifetime),
        words=TaskWords(
            task="morphology set",
            rollout="morphology",
            rollout_names=tuple(train),
            success="never stopped early",
            returns="distance along +x (m)",
        ),
        rollout_weights=(1.0,) * len(train),
        eval_sets=tuple(f"variant:{v}" for v in variants),
        eval_repeats=100,
        settings=dict(
            protocol=protocol,
            backend=backend,
            seconds=seconds,
            control_dt=control_dt,
            n_steps=n_steps,
            burn_in_seconds=burn_in_seconds,
            early_stop=early_stop,
            l2_penalty=l2_penalty,
            train_variants=",".join(train),
            test_variants=",".join(test),
            variants=variants,
        ),
    )

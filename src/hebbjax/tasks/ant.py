"""Walking with the Brax ant across morphologies, as a hebbjax ``Task``.

Najarro & Risi 2020 (sec. 4.2: train on the standard and one damaged morphology, test on an
unseen damaged one) and Palm, Najarro & Risi 2021 (train on four variants, one held out);
spec ``hebbian-ant-brax.md`` sections 1.2, 1.5-1.6, 2.2, 2.5-2.6, 3.6 and 5.

Design (recorded here because the papers' protocols are not in one piece of code):

- A **task parameter** is a vector of morphology indices (into the protocol's stacked variant
  systems, ``info["variants"]``). ``sample_params`` returns the *training* morphologies, so a
  lifetime runs one ant per training morphology (each with fresh U[-0.1, 0.1] weights and
  its own reset noise, as Palm's ``MetaAgent``) and **fitness = mean distance over the training
  morphologies - l2_penalty * mean(genome^2)** (spec 1.4, 2.2). Train with ``tasks_per_gen=1``.
- ``validation_set()`` is the training set (shape (1, n_train)): the best genome is the one
  with the best mean training fitness, as [P]'s ``best.t``. ``test_set()`` repeats each
  held-out variant n_train times (shape (n_test, n_train)).
- Distance is the torso's displacement along +x during the policy phase (metres; [E]'s
  pybullet "progress" sum is about 60.6 x this). The lifetime is ``seconds`` long; the number of
  control steps is ``round(seconds / control_dt)`` and the whole lifetime is one ``lax.scan``.
  The default control_dt 0.02 s and 20 s give 1000 plastic steps (spec 3.6).
- Optional zero-action burn-in (``burn_in_seconds``; no forward pass effect, no plasticity).
- ``early_stop`` reproduces [E]'s termination as masks: after ``grace_steps`` policy steps,
  the lifetime stops counting once the torso z < ``min_z`` or after more than ``patience``
  consecutive steps of negative progress. ``success`` is 1.0 for a lifetime that was never
  stopped.
- ``info["summarize"](model, params, key, n_lifetimes=100)`` is the evaluation protocol: distance
  on every variant of the protocol (training and held out), mean +- standard error over
  ``n_lifetimes`` lifetimes. ``hebbjax eval --run`` uses it.

Protocols: ``default`` (train and test on the default ant), ``najarro`` (train default +
``short-xp-yn``, test ``short-xp-yp``, the left front lower leg), ``palm`` (train default,
``long-yn``, ``short-xp-yp``, ``short-xn-yp``; test ``long-yp``). Variant names: ``envs/ant.py``.
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from hebbjax.envs.ant import (
    BACKENDS,
    check_variants,
    forward_displacement,
    make_ant,
    n_frames_for,
    variant_system,
)
from hebbjax.models.base import Model, Params
from hebbjax.tasks.base import LifetimeResult, Task, per_model_cache

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


def make_morphology_lifetime(
    model: Model,
    physics: Any,
    *,
    n_steps: int,
    n_burn: int = 0,
    early_stop: bool = True,
    min_z: float = 0.2,
    grace_steps: int = 200,
    patience: int = 30,
):
    """``run(params, index, key) -> (distance, policy_steps, survived)`` on variant ``index``.

    One lifetime: reset, ``n_burn`` zero-action steps, then ``n_steps - n_burn`` policy steps,
    each a forward pass with the current weights, an env step, and the plastic update.
    """

    def run(params, index, key):
        sys = variant_system(physics, index)
        k_env, k_mem = jax.random.split(key)
        state = physics.reset(sys, k_env)
        memory = model.init_memory(params, k_mem)

        def step(carry, t):
            state, memory, alive, neg, dist, count = carry
            burning = t < n_burn
            out, new_memory = model.step(params, memory, state.obs, ~burning)
            action = jnp.where(burning, 0.0, out)
            new_state = physics.step(sys, state, action)
            pos = new_state.pipeline_state.x.pos[0]
            dx = forward_displacement(state, new_state)
            counted = alive & ~burning
            dist = dist + jnp.where(counted, dx, 0.0)
            count = count + counted.astype(jnp.int32)
            if early_stop:
                past_grace = (t - n_burn) >= grace_steps
                neg = jnp.where(past_grace & (dx < 0), neg + 1, 0)
                alive = alive & ~(past_grace & ((pos[2] < min_z) | (neg > patience)))
            memory = jax.tree.map(
                lambda new, old: jnp.where(burning, old, new), new_memory, memory
            )
            return (new_state, memory, alive, neg, dist, count), None

        carry = (state, memory, jnp.bool_(True), jnp.int32(0))
        carry += (jnp.float32(0.0), jnp.int32(0))
        carry, _ = jax.lax.scan(step, carry, jnp.arange(n_steps))
        return carry[4], carry[5], carry[2].astype(jnp.float32)

    return run


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
        early_stop: [E]'s termination rule, as masks (see the module docstring).
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
    options = dict(
        n_steps=n_steps,
        n_burn=n_burn,
        early_stop=early_stop,
        min_z=min_z,
        grace_steps=grace_steps,
        patience=patience,
    )

    def physics():
        return make_ant(variants, backend, control_dt, reset_noise_scale)

    morphology_lifetime = per_model_cache(
        lambda model: make_morphology_lifetime(model, physics(), **options)
    )

    def build_lifetime(model: Model):
        one = morphology_lifetime(model)
        over_morphologies = jax.vmap(one, in_axes=(None, 0, 0))

        def run(params, indices, key) -> LifetimeResult:
            keys = jax.random.split(key, indices.shape[0])
            dist, steps, survived = over_morphologies(params, indices, keys)
            penalty = l2_penalty * genome_mean_square(params)
            return LifetimeResult(jnp.mean(dist) - penalty, dist, steps, survived)

        return run

    lifetime = per_model_cache(build_lifetime)

    def summarize(
        model: Model, params: Params, key: jax.Array, n_lifetimes: int = 100
    ) -> dict:
        one = morphology_lifetime(model)
        batched = jax.jit(jax.vmap(jax.vmap(one, (None, None, 0)), (None, 0, 0)))
        keys = jax.random.split(key, (len(variants), n_lifetimes))
        dist, steps, survived = jax.device_get(
            batched(params, jnp.arange(len(variants), dtype=jnp.int32), keys)
        )
        rows = []
        for v, name_v in enumerate(variants):
            d = np.asarray(dist[v], np.float64)
            ok = np.isfinite(d)
            n_ok = max(int(ok.sum()), 1)
            rows.append(
                dict(
                    variant=name_v,
                    role="train" if name_v in train else "test",
                    distance_mean=float(d[ok].mean()) if ok.any() else float("nan"),
                    distance_stderr=float(d[ok].std(ddof=1) / np.sqrt(n_ok))
                    if ok.sum() > 1
                    else 0.0,
                    distance_std=float(d[ok].std(ddof=1)) if ok.sum() > 1 else 0.0,
                    survived_rate=float(np.mean(survived[v])),
                    n_nonfinite=int((~ok).sum()),
                )
            )
        return dict(
            protocol=protocol,
            backend=backend,
            seconds=seconds,
            n_lifetimes=n_lifetimes,
            variants=rows,
        )

    info: dict[str, Any] = dict(
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
        summarize=summarize,
    )
    return Task(
        name=name or f"ant-{protocol}",
        n_in=OBS_SIZE,
        n_out=ACTION_SIZE,
        n_rollouts=len(train),
        sample_params=lambda key: jnp.asarray(train_idx),
        validation_set=lambda: jnp.asarray(train_idx)[None],
        test_set=lambda: jnp.asarray(np.repeat(test_idx[:, None], len(train), 1)),
        lifetime=lifetime,
        info=info,
    )

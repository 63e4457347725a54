"""Racing CarRacing-v0 from pixels as hebbjax ``Task``s: Najarro & Risi 2020, Palm et al. 2021.

Najarro & Risi 2020 (paper 003 sec. 4; spec ``hebbian-ant-brax.md`` 1.2, 1.5): one episode per
fitness evaluation on a freshly generated track, fitness = the episode return (+1000/N per new
tile, -0.1 per frame) minus 0.01 mean(h^2) over the Hebbian coefficients, the episode cut after
more than 20 consecutive negative rewards and at 1,000 steps. Palm, Najarro & Risi 2021 (paper
004 sec. 4, Table 2; spec 2.2, 2.5-2.6): the mean return over four training variations
(default, half and double friction, pushed left), each a lifetime of its own on its own track,
with "pushed right" held out; they stop at 20 negative rewards (``neg_reward_limit=19``).

Design, as ``tasks/ant.py``:

- A **task parameter** is a ``CarTask``: one track seed (PRNG key data) and one variation
  index (into ``VARIATIONS``) per lifetime, side by side. The lifetime generates each track
  in JAX from its seed (``envs.car_racing.sample_track``: a task stays a few bytes, and under
  the population ``vmap`` a shared task's track is built once), then runs the one lifetime
  loop (``tasks/lifetime.py``) over the gymnax ``CarRacing`` env with fresh network memory.
  ``car``: one lifetime per task on the default car; ``car-palm``: four, one per training
  variation. Train with ``tasks_per_gen`` tracks (sets) per generation, shared by the
  population (common random numbers).
- The action is the network output clipped to the action box ([-1, 1], [0, 1], [0, 1]):
  the car models already squash theirs ([tanh, sigmoid, sigmoid]), so for them it is the
  identity; any other model gets a valid action.
- Sets are fixed track seeds, the same for every run: ``validation`` (64 tasks, model
  selection) and ``test`` (100 tracks; ``car``: default car, ``car-palm``: pushed right), and
  for ``car-palm`` one set per variation, ``variant:<name>``: the 100 test tracks with that
  variation, which ``hebbjax eval`` reports as the per-variation rows of paper 004 Table 2.
- ``success``: a rollout that scored at least 900 (gym's "solved" threshold).
- The observation layout defaults to Najarro's ``[c, x, y]`` for both tasks, so a genome
  moves between them unchanged; ``layout="palm"`` loads Palm's genomes.
"""

from __future__ import annotations

import functools
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from hebbjax.envs.car_racing import VARIATIONS, CarParams, CarRacing, sample_track
from hebbjax.envs.car_racing import constants as C
from hebbjax.models.base import Model, Params
from hebbjax.tasks.base import (
    Task,
    TaskSet,
    TaskWords,
    checked_block,
    per_model_cache,
)
from hebbjax.tasks.lifetime import Episodes, LifetimeResult, Probe, episodic_lifetime

PROTOCOLS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "najarro": (("default",), ("default",)),
    "palm": (
        ("default", "half-friction", "double-friction", "pushed-left"),
        ("pushed-right",),
    ),
}
NEG_REWARD_LIMITS = {"najarro": C.NEG_REWARD_LIMIT, "palm": C.NEG_REWARD_LIMIT - 1}
L2_PENALTIES = {"najarro": 0.01, "palm": 0.0}
VARIATION_NAMES = tuple(VARIATIONS)
N_IN, N_OUT = 3 * 84 * 84, 3
SOLVED = 900.0  # gym's reward threshold for CarRacing-v0
ACTION_LOW = (-1.0, 0.0, 0.0)
ACTION_HIGH = (1.0, 1.0, 1.0)


class CarTask(NamedTuple):
    """One task: a track seed and a variation per lifetime, side by side (leading axis)."""

    track_seed: jax.Array  # (n, *key_data) uint32, ``jax.random.key_data`` of a key
    variation: jax.Array  # (n,) int32 index into ``VARIATION_NAMES``


def coefficient_mean_square(params: Params) -> jax.Array:
    """mean(h^2) over the genome's ``*/coeffs`` leaves (Najarro's penalty covers only the
    Hebbian coefficients, not the evolved convolutions); 0 for a genome without any."""
    leaves = [v for k, v in params.items() if k.endswith("coeffs")]
    if not leaves:
        return jnp.float32(0.0)
    total = sum(jnp.sum(jnp.square(leaf.astype(jnp.float32))) for leaf in leaves)
    return total / sum(leaf.size for leaf in leaves)


def car_episodes(env: CarRacing, max_steps: int) -> Episodes:
    """One episode of ``env`` on the ``CarParams`` of one lifetime."""
    low = jnp.asarray(ACTION_LOW, jnp.float32)
    high = jnp.asarray(ACTION_HIGH, jnp.float32)

    def reset(noise, r, params):
        obs, state = env.reset_env(noise, params)  # deterministic start on the track
        return obs, state, jnp.zeros((N_OUT,), jnp.float32)

    return Episodes(
        env=env,
        n_rollouts=1,
        max_steps=max_steps,
        noise=lambda key: key,
        memory_key=lambda key: key,
        reset=reset,
        encode=lambda obs, prev_action, prev_reward, t: jnp.reshape(obs, (-1,)),
        act=lambda out, noise, i: jnp.clip(out[:N_OUT], low, high),
        env_key=lambda noise, i, r, t: noise,  # the env draws nothing
        success=lambda total, steps, terminated: total >= SOLVED,
        position=lambda state: state.car.position,
    )


def car_task(
    protocol: str = "najarro",
    max_steps: int = C.MAX_STEPS,
    early_stop: bool = True,
    neg_reward_limit: int | None = None,
    l2_penalty: float | None = None,
    layout: str = "najarro",
    block_lifetimes: int | None = 16,
    validation_seed: int = 20261301,
    test_seed: int = 20261302,
    n_validation: int = 64,
    n_test: int = 100,
    name: str | None = None,
) -> Task:
    """CarRacing from pixels.

    Args:
        protocol: "najarro" (the default car on random tracks) or "palm" (four training
            variations, pushed right held out).
        max_steps: step limit of an episode (gym's TimeLimit: 1,000).
        early_stop: end an episode after more than ``neg_reward_limit`` consecutive
            negative rewards (Najarro's early stop); False: only the step limit, the lap
            and the playfield end it.
        neg_reward_limit: default 20 (Najarro: stop at 21), 19 for "palm" (stop at 20).
        l2_penalty: weight of mean(coeffs^2) subtracted from the fitness; default 0.01
            (Najarro) for "najarro", 0 for "palm".
        layout: observation layout, "najarro" ([c, x, y], his ``swapaxes``) or "palm".
        block_lifetimes: on CPU, lifetimes evaluated together per device (16: the env's
            best throughput on 2 cores, ``benchmarks/results/car/speed.md``; early-stopped
            blocks end early). Speed only.
        validation_seed, test_seed: seeds of the fixed track sets.
        n_validation, n_test: tasks in the validation and test sets (64, 100).
        name: task name; default "car" or "car-palm".
    """
    if protocol not in PROTOCOLS:
        raise ValueError(
            f"unknown car protocol {protocol!r}; valid: {', '.join(PROTOCOLS)}"
        )
    if layout not in ("najarro", "palm"):
        raise ValueError(f"unknown layout {layout!r}; valid: najarro, palm")
    if max_steps < 1 or n_validation < 1 or n_test < 1:
        raise ValueError(
            f"max_steps, n_validation and n_test must be >= 1, got {max_steps}, "
            f"{n_validation}, {n_test}"
        )
    if neg_reward_limit is None:
        neg_reward_limit = NEG_REWARD_LIMITS[protocol]
    if neg_reward_limit < 0:
        raise ValueError(f"neg_reward_limit must be >= 0, got {neg_reward_limit}")
    penalty = L2_PENALTIES[protocol] if l2_penalty is None else float(l2_penalty)
    limit = neg_reward_limit if early_stop else max_steps
    train, test = PROTOCOLS[protocol]
    train_idx = np.asarray([VARIATION_NAMES.index(v) for v in train], np.int32)
    friction = np.asarray([f for f, _ in VARIATIONS.values()], np.float32)
    side_force = np.asarray([s for _, s in VARIATIONS.values()], np.float32)
    env = CarRacing(layout=layout, auto_reset=False, max_steps=max_steps)

    def car_params(track_seed, variation) -> CarParams:
        return CarParams(
            max_steps_in_episode=max_steps,
            track=sample_track(jax.random.wrap_key_data(track_seed)),
            friction=jnp.asarray(friction)[variation],
            side_force=jnp.asarray(side_force)[variation],
            neg_reward_limit=jnp.int32(limit),
        )

    def build_lifetime(model: Model, probe: Probe | None = None):
        if model.n_in != N_IN or model.n_out < N_OUT:
            raise ValueError(
                f"the car feeds 3x84x84 frames (n_in={N_IN}) and reads {N_OUT} outputs; "
                f"model has n_in={model.n_in}, n_out={model.n_out}"
            )
        one = episodic_lifetime(
            model, car_episodes(env, max_steps), lambda p, ret, s, ok: ret[0], probe
        )
        side_by_side = jax.vmap(one, in_axes=(None, 0, 0))

        def run(params: Params, task: CarTask, key):
            cars = jax.vmap(car_params)(task.track_seed, task.variation)
            keys = jax.random.split(key, task.variation.shape[0])
            out = side_by_side(params, cars, keys)
            result, trace = (out, None) if probe is None or not probe.record else out
            result = LifetimeResult(
                jnp.mean(result.returns[:, 0])
                - penalty * coefficient_mean_square(params),
                result.returns[:, 0],
                result.steps[:, 0],
                result.success[:, 0],
            )
            return result if trace is None else (result, trace)

        return run

    def tasks(seed: int, n: int, variations) -> CarTask:
        """``n`` tasks of ``len(variations)`` lifetimes, each on its own seeded track."""
        keys = jax.random.split(jax.random.key(seed), (n, len(variations)))
        idx = np.broadcast_to(np.asarray(variations, np.int32), (n, len(variations)))
        return CarTask(jax.random.key_data(keys), jnp.asarray(idx))

    def sample_params(key: jax.Array) -> CarTask:
        keys = jax.random.split(key, len(train_idx))
        return CarTask(jax.random.key_data(keys), jnp.asarray(train_idx))

    def fixed(seed: int, n: int, variations):
        return functools.cache(lambda: tasks(seed, n, variations))

    test_names = ", ".join(test)
    sets = dict(
        validation=TaskSet(
            fixed(validation_seed, n_validation, train_idx),
            "validation",
            f"{n_validation} tasks (seed {validation_seed}), one track per training "
            f"variation: {', '.join(train)}",
        ),
        test=TaskSet(
            fixed(test_seed, n_test, [VARIATION_NAMES.index(v) for v in test]),
            "test",
            f"{n_test} tracks (seed {test_seed}), {test_names}",
        ),
    )
    if protocol == "palm":
        for v, variation in enumerate(VARIATION_NAMES):
            role = "train" if variation in train else "held-out"
            sets[f"variant:{variation}"] = TaskSet(
                fixed(test_seed, n_test, [v]),
                role,
                f"the {n_test} test tracks, {variation} car ({role})",
            )
    many = len(train) > 1
    return Task(
        name=name or ("car" if protocol == "najarro" else f"car-{protocol}"),
        n_in=N_IN,
        n_out=N_OUT,
        n_rollouts=len(train),
        env=env,
        sample_params=sample_params,
        sets=sets,
        lifetime=per_model_cache(build_lifetime),
        words=TaskWords(
            task="track set" if many else "track",
            rollout="variation" if many else "episode",
            success=f"return >= {SOLVED:g} (solved)",
            returns="return (1000 per lap - 0.1 per frame)",
        ),
        rollout_weights=(1.0,) * len(train),
        eval_sets=(
            tuple(f"variant:{v}" for v in VARIATION_NAMES) if many else ("test",)
        ),
        block_lifetimes=checked_block(block_lifetimes),
        settings=dict(
            protocol=protocol,
            max_steps=max_steps,
            early_stop=early_stop,
            neg_reward_limit=neg_reward_limit,
            l2_penalty=penalty,
            layout=layout,
            train_variations=",".join(train),
            test_variations=test_names,
            variations=VARIATION_NAMES,
        ),
    )

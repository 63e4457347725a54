"""The maze meta-RL task of Wang et al. 2022 (decomposed plasticity), as a hebbjax ``Task``.

Spec ``maze-decprnn-eprnn.md``: the network input of section 2.5, the action head of section
1.5 and the lifetime and fitness of section 2.6, over the ``MetaMaze2D`` environment
(``envs/maze.py``, sections 2.3-2.4). A lifetime runs ``n_rollouts`` episodes on one maze; the
model memory is initialised once and carried across rollouts; each rollout restarts at the
maze start with a uniformly random previous action. Fitness is
F = sum_r w_r (R_r - lambda) / sum_r w_r with lambda = 1e-6 RMS(genome)
(``tasks/maze_fitness.py``, with its training-signal options).

The lifetime is the one loop of ``tasks/lifetime.py``: a ``lax.while_loop`` over steps, a
rollout that ends (goal or step limit) hands over to the next one on the next step, and the
loop stops after the last rollout, exactly as the reference stops stepping after the terminal
transition (spec pitfall 6.11). Its random numbers are drawn up front from the lifetime key
(previous actions, the greedy coin and the Gumbel noise of each step), so a lifetime is a
pure function of (genome, maze, key).
"""

from __future__ import annotations

from collections.abc import Sequence

import jax
import jax.numpy as jnp

from hebbjax.envs.maze import MetaMaze2D, episode_return, obs_sign_value
from hebbjax.envs.maze_gen import sample_maze
from hebbjax.envs.maze_sets import N_TEST, N_VALIDATION, maze_set
from hebbjax.models.base import Model
from hebbjax.tasks.base import (
    Task,
    TaskSet,
    TaskWords,
    check_rollout_weights,
    checked_block,
    checked_compact,
    per_model,
    per_model_cache,
)
from hebbjax.tasks.lifetime import Episodes, Probe, episodic_lifetime, lifetime_parts
from hebbjax.tasks.maze_fitness import (
    check_late_credit,
    check_score_within,
    check_stop_at_cap,
    maze_fitness,
)

N_INPUT = 15  # 9 view cells, 4 previous-action one-hot, reward slot, done slot
N_OUTPUT = 5  # 4 action logits and the greedy gate
DEFAULT_WEIGHTS = {3: (0.0, 0.0, 1.0), 8: (0.0, 0.0, 0.16, 0.22, 0.36, 0.64, 0.8, 1.0)}
R_SLOTS = ("zero", "prev-reward")
WORDS = TaskWords(
    task="maze", success="reached the goal", returns="return (1 - 0.01 steps)"
)


def select_action(
    out: jax.Array, u: jax.Array, gumbel: jax.Array, greedy: bool = False
) -> jax.Array:
    """The action head of spec 1.5, with its randomness passed in.

    ``p_greedy = 0.5 tanh(out[4]) + 0.5``; if ``u < p_greedy`` the argmax of ``out[:4]`` (first
    index on ties), else a softmax sample drawn as ``argmax(out[:4] + gumbel)``. With
    ``greedy=True`` always the argmax.
    """
    logits = out[:4]
    best = jnp.argmax(logits)
    if greedy:
        return best.astype(jnp.int32)
    p_greedy = 0.5 * jnp.tanh(out[4]) + 0.5
    sampled = jnp.argmax(logits + gumbel)
    return jnp.where(u < p_greedy, best, sampled).astype(jnp.int32)


def maze_episodes(
    env: MetaMaze2D,
    n_in: int,
    *,
    n_rollouts: int = 3,
    r_slot: str = "prev-reward",
    greedy: bool = False,
    first_actions: Sequence[int] | None = None,
    last_limit: int | None = None,
) -> Episodes:
    """The maze lifetime's ``Episodes`` (spec 2.5-2.6) for a network with ``n_in`` inputs
    (a DNN reads only the first 9: the view). ``last_limit`` ends the last rollout after
    that many steps instead of ``env.max_steps`` (its failure return stays
    -0.01 ``max_steps``)."""
    max_steps = env.max_steps
    n_steps = n_rollouts * max_steps
    limits = max_steps
    if last_limit is not None:
        limits = (max_steps,) * (n_rollouts - 1) + (int(last_limit),)
    if first_actions is not None:
        fixed = tuple(int(a) for a in first_actions)
        if len(fixed) != n_rollouts or not all(0 <= a < 4 for a in fixed):
            raise ValueError(
                f"first_actions must be {n_rollouts} actions in 0..3, got {first_actions}"
            )

    def noise(key):
        k_prev, k_u, k_gumbel, k_memory = jax.random.split(key, 4)
        if first_actions is None:
            firsts = jax.random.randint(k_prev, (n_rollouts + 1,), 0, 4, jnp.int32)
        else:
            firsts = jnp.asarray(fixed, jnp.int32)
        u = jax.random.uniform(k_u, (n_steps,))
        gumbel = jax.random.gumbel(k_gumbel, (n_steps, 4))
        return dict(firsts=firsts, u=u, gumbel=gumbel, memory=k_memory)

    def reset(noise, r, maze):
        obs, state = env.reset_env(jax.random.key(0), maze)
        return obs, state, noise["firsts"][r]

    def encode(obs, prev_action, prev_reward, t):
        reward_in = 0.0 if r_slot == "zero" else jnp.where(t > 0, -0.01, 0.0)
        x = jnp.concatenate(
            [
                obs,
                jax.nn.one_hot(prev_action, 4, dtype=jnp.float32),
                jnp.stack([jnp.float32(reward_in), jnp.float32(0.0)]),
            ]
        )
        return x[:n_in]

    return Episodes(
        env=env,
        n_rollouts=n_rollouts,
        max_steps=limits,
        noise=noise,
        memory_key=lambda noise: noise["memory"],
        reset=reset,
        encode=encode,
        act=lambda out, noise, i: select_action(
            out, noise["u"][i], noise["gumbel"][i], greedy
        ),
        env_key=lambda noise, i, r, t: jax.random.key(0),
        success=lambda total, steps, reached: reached,
        rollout_return=lambda total, steps, reached: episode_return(
            reached, steps, max_steps
        ),
        position=lambda state: state.pos,
    )


def make_lifetime(
    model: Model,
    *,
    n_rollouts: int = 3,
    rollout_weights: Sequence[float] | None = None,
    obs_sign: str = "paper",
    r_slot: str = "prev-reward",
    max_steps: int = 200,
    greedy: bool = False,
    first_actions: Sequence[int] | None = None,
    probe: Probe | None = None,
    size: int = 15,
    parts: bool = False,
    score_within: int | Sequence[int | None] | None = None,
    late_credit: float = 0.0,
    stop_at_cap: bool = False,
):
    """``run(params, maze, key) -> LifetimeResult`` for one maze and one genome
    (``parts=True``: its ``LifetimeParts``, for compacted evaluation).

    With a recording ``probe`` it returns ``(LifetimeResult, trace)``.
    ``first_actions`` fixes the previous action fed at the first step of each rollout
    (``n_rollouts`` ints in 0..3) instead of drawing it uniformly from the key; with
    ``greedy=True`` the lifetime is then a deterministic function of genome and maze (used to
    compare with the numpy baseline).
    """
    if model.n_in > N_INPUT or model.n_out < N_OUTPUT:
        raise ValueError(
            f"the maze task feeds {N_INPUT} inputs and reads {N_OUTPUT} outputs; "
            f"model has n_in={model.n_in}, n_out={model.n_out}"
        )
    _check_slots(r_slot, obs_sign)
    weights = _rollout_weights(n_rollouts, rollout_weights)
    env = MetaMaze2D(size=size, max_steps=max_steps, obs_sign=obs_sign)
    score_within = check_score_within(score_within, max_steps, n_rollouts)
    late_credit = check_late_credit(late_credit, score_within)
    spec = maze_episodes(
        env,
        model.n_in,
        n_rollouts=n_rollouts,
        r_slot=r_slot,
        greedy=greedy,
        first_actions=first_actions,
        last_limit=check_stop_at_cap(
            stop_at_cap, score_within, late_credit, n_rollouts
        ),
    )
    fitness = maze_fitness(weights, score_within, max_steps, late_credit)
    if parts:
        return lifetime_parts(model, spec, fitness, probe)
    return episodic_lifetime(model, spec, fitness, probe)


def _rollout_weights(n_rollouts: int, weights: Sequence[float] | None) -> tuple:
    if n_rollouts < 1:
        raise ValueError(f"n_rollouts must be >= 1, got {n_rollouts}")
    if weights is None:
        weights = DEFAULT_WEIGHTS.get(n_rollouts, (0.0,) * (n_rollouts - 1) + (1.0,))
    return check_rollout_weights(n_rollouts, weights)


def maze_task(
    size: int = 15,
    crowd: float = 0.35,
    n_rollouts: int = 3,
    rollout_weights: Sequence[float] | None = None,
    obs_sign: str = "paper",
    r_slot: str = "prev-reward",
    max_steps: int = 200,
    greedy: bool = False,
    validation_seed: int = 20220906,
    test_seed: int = 20221218,
    use_cache: bool = True,
    name: str | None = None,
    block_lifetimes: int | None = 32,
    compact: str = "all",
    score_within: int | Sequence[int | None] | None = None,
    late_credit: float = 0.0,
    stop_at_cap: bool = False,
) -> Task:
    """The maze meta-RL task (spec 2.1-2.6).

    Args:
        size, crowd: maze side and target interior wall fraction of the training mazes.
        n_rollouts: episodes per lifetime on one maze.
        rollout_weights: fitness weight of each rollout; default (0, 0, 1) for 3 rollouts,
            (0, 0, .16, .22, .36, .64, .8, 1) for 8, else only the last rollout counts.
        obs_sign: ``"paper"`` (wall +1, goal -1) or ``"metagym-head"``.
        r_slot: ``"prev-reward"`` (default: the April-2022 code that produced Table 1: the
            previous step's reward, -0.01, and 0 on each rollout's first step) or ``"zero"``
            (the reference from 2022-08-12 on: always 0).
        max_steps: step limit per rollout.
        greedy: always take the argmax action (deterministic; for tests and demos).
        validation_seed, test_seed: seeds of the 1,024 validation and 2,048 test mazes.
        use_cache: cache generated sets on disk (see ``maze_sets.cache_dir``).
        name: task name; default ``f"maze{size}"``.
        block_lifetimes: the evolution loop evaluates about this many lifetimes at a time
            per device (a cache-sized block that stops when all its lifetimes have
            ended); None evaluates a device's whole share at once. Speed only: the
            results do not depend on it.
        compact: which evaluations give a finished lifetime's place in the block to
            the next lifetime instead of stepping it until the block's slowest one ends
            (``compaction.compacted``): "all" (default: a genome on a set, e.g. the
            validation, 1.3x for the released genome; and every population: 1.2-1.6x
            around the released genome at 8-32 lifetimes per genome, 1.9x at the 9x9
            hour's 256, 0.98-1.2x around a random one), "sets" (only sets), "auto"
            (sets, and populations whose genomes each run at least 4 x
            ``block_lifetimes`` lifetimes), "off". Speed only: each lifetime is the same
            function of genome, maze and key (``benchmarks/compaction.py``).
        score_within: the fitness counts a rollout's return only when it reached the
            goal within this many steps (else the failure return, -0.01 max_steps);
            None (default, the paper) counts every return. A training signal that pays
            for reaching the goal fast in the scored rollout (time_to_quality.py). Only
            the fitness changes (what training ranks, and ``summarize``'s ``score``);
            the lifetime and its per-rollout returns do not: the paper's score is the
            last rollout's return (``return_mean[-1]``), or evaluate with
            ``score_within=None`` (``--task-opt score_within=null``). A list gives one
            cap per rollout, null for none (``--task-opt 'score_within=[null,null,40]'``).
        late_credit: with ``score_within``, the share c in [0, 1] of a late success's
            return that the fitness keeps (the rest, 1 - c, is the failure return):
            0 (default) scores a late success as a failure, 1 as its own return.
        stop_at_cap: end the last rollout at its ``score_within`` cap (needs
            ``late_credit=0``): the steps after it cannot change the fitness, so training
            ranks the same genomes bit for bit and spends no steps on them (speed only,
            for the fitness; the lifetime's last-rollout returns, steps and successes
            then count a late success as the failure the fitness scores it as).
    Returns:
        A ``Task`` whose ``lifetime(model)`` is ``run(params, maze, key) -> LifetimeResult``.
    """
    weights = _rollout_weights(n_rollouts, rollout_weights)
    if max_steps < 1:
        raise ValueError(f"max_steps must be >= 1, got {max_steps}")
    score_within = check_score_within(score_within, max_steps, n_rollouts)
    late_credit = check_late_credit(late_credit, score_within)
    check_stop_at_cap(stop_at_cap, score_within, late_credit, n_rollouts)
    options = dict(
        n_rollouts=n_rollouts,
        rollout_weights=weights,
        score_within=score_within,
        late_credit=late_credit,
        stop_at_cap=stop_at_cap,
        obs_sign=obs_sign,
        r_slot=r_slot,
        max_steps=max_steps,
        greedy=greedy,
        size=size,
    )
    _check_slots(r_slot, obs_sign)
    checked_block(block_lifetimes)
    checked_compact(compact)
    if not 0.0 <= crowd < 1.0:
        raise ValueError(f"crowd must be in [0, 1), got {crowd}")
    env = MetaMaze2D(size=size, max_steps=max_steps, obs_sign=obs_sign)

    def lifetime(model: Model, probe: Probe | None = None):
        return make_lifetime(model, probe=probe, **options)

    def sample_params(key: jax.Array):
        return sample_maze(key, size, crowd, max_steps)

    def validation_set():
        return maze_set(
            size, crowd, N_VALIDATION, validation_seed, max_steps, use_cache
        )

    def test_set():
        return maze_set(size, crowd, N_TEST, test_seed, max_steps, use_cache)

    return Task(
        name=name or f"maze{size}",
        n_in=N_INPUT,
        n_out=N_OUTPUT,
        n_rollouts=n_rollouts,
        env=env,
        sample_params=sample_params,
        sets=dict(
            validation=TaskSet(
                validation_set,
                "validation",
                f"{N_VALIDATION:,} seeded mazes (seed {validation_seed})",
            ),
            test=TaskSet(
                test_set, "test", f"{N_TEST:,} seeded mazes (seed {test_seed})"
            ),
        ),
        lifetime=per_model_cache(lifetime),
        words=WORDS,
        rollout_weights=weights,
        block_lifetimes=block_lifetimes,
        compact=checked_compact(compact),
        lifetime_parts=per_model(
            lambda model: make_lifetime(model, parts=True, **options)
        ),
        settings=dict(
            size=size,
            crowd=crowd,
            n_rollouts=n_rollouts,
            rollout_weights=weights,
            obs_sign=obs_sign,
            r_slot=r_slot,
            max_steps=max_steps,
            greedy=greedy,
            score_within=score_within,
            late_credit=late_credit,
            stop_at_cap=stop_at_cap,
            validation_seed=validation_seed,
            test_seed=test_seed,
        ),
    )


def _check_slots(r_slot: str, obs_sign: str) -> None:
    if r_slot not in R_SLOTS:
        raise ValueError(f"unknown r_slot {r_slot!r}; valid: {', '.join(R_SLOTS)}")
    obs_sign_value(obs_sign)

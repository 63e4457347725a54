"""The maze meta-RL task of Wang et al. 2022 (decomposed plasticity), as a hebbjax ``Task``.

Spec ``maze-decprnn-eprnn.md``: the network input of section 2.5, the action head of section
1.5 and the lifetime and fitness of section 2.6. A lifetime runs ``n_rollouts`` episodes on one
maze; the model memory is initialised once and carried across rollouts; each rollout restarts at
the maze start with a uniformly random previous action. Fitness is
F = sum_r w_r (R_r - lambda) / sum_r w_r with lambda = 1e-6 RMS(genome).

The whole lifetime is one ``lax.while_loop`` over steps with a rollout counter: a rollout that
ends (goal or step limit) hands over to the next one on the next step, and the loop stops after
the last rollout, exactly as the reference stops stepping after the terminal transition (spec
pitfall 6.11). Under ``vmap`` a batch of lifetimes runs until its longest lifetime ends and the
ended ones are frozen by the batching rule's select, so a block of lifetimes whose agents all
reached their goals early costs only the steps it ran (up to ``n_rollouts * max_steps``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import jax
import jax.numpy as jnp

from hebbjax.envs.maze import (
    egocentric_view,
    episode_return,
    move,
    obs_sign_value,
    observation_grid,
)
from hebbjax.envs.maze_gen import sample_maze
from hebbjax.envs.maze_sets import N_TEST, N_VALIDATION, maze_set
from hebbjax.models.base import Model, Params
from hebbjax.tasks.base import LifetimeResult, Task, per_model_cache

N_INPUT = 15  # 9 view cells, 4 previous-action one-hot, reward slot, done slot
N_OUTPUT = 5  # 4 action logits and the greedy gate
DEFAULT_WEIGHTS = {3: (0.0, 0.0, 1.0), 8: (0.0, 0.0, 0.16, 0.22, 0.36, 0.64, 0.8, 1.0)}
R_SLOTS = ("zero", "prev-reward")


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


def genome_rms(params: Params) -> jax.Array:
    """Root mean square over every element of the genome."""
    leaves = jax.tree.leaves(params)
    total = sum(jnp.sum(jnp.square(leaf.astype(jnp.float32))) for leaf in leaves)
    count = sum(leaf.size for leaf in leaves)
    return jnp.sqrt(total / count)


def make_lifetime(
    model: Model,
    *,
    n_rollouts: int = 3,
    rollout_weights: Sequence[float] | None = None,
    obs_sign: str = "paper",
    r_slot: str = "zero",
    max_steps: int = 200,
    greedy: bool = False,
    with_memory: bool = False,
    first_actions: Sequence[int] | None = None,
) -> Callable[[Params, object, jax.Array], LifetimeResult]:
    """``run(params, maze, key) -> LifetimeResult`` for one maze and one genome.

    With ``with_memory=True`` it returns ``(LifetimeResult, final_memory)`` instead, for
    analysing the plastic state at the end of a lifetime. ``first_actions`` fixes the
    previous action fed at the first step of each rollout (``n_rollouts`` ints in 0..3)
    instead of drawing it uniformly from the key; with ``greedy=True`` the lifetime is then
    a deterministic function of genome and maze (used to compare with the numpy baseline).
    """
    if model.n_in > N_INPUT or model.n_out < N_OUTPUT:
        raise ValueError(
            f"the maze task feeds {N_INPUT} inputs and reads {N_OUTPUT} outputs; "
            f"model has n_in={model.n_in}, n_out={model.n_out}"
        )
    _check_slots(r_slot, obs_sign)
    weights = jnp.asarray(_rollout_weights(n_rollouts, rollout_weights), jnp.float32)
    n_steps = n_rollouts * max_steps
    rollout_ids = jnp.arange(n_rollouts)
    if first_actions is not None:
        fixed = tuple(int(a) for a in first_actions)
        if len(fixed) != n_rollouts or not all(0 <= a < 4 for a in fixed):
            raise ValueError(
                f"first_actions must be {n_rollouts} actions in 0..3, got {first_actions}"
            )
        # the extra entry keeps "the next rollout's a_prev" defined after the last one
        fixed_first = jnp.asarray(fixed + (fixed[-1],), jnp.int32)

    def run(params: Params, maze, key: jax.Array) -> LifetimeResult:
        grid = observation_grid(maze, obs_sign)
        start = maze.start.astype(jnp.int32)
        k_prev, k_u, k_gumbel, k_memory = jax.random.split(key, 4)
        if first_actions is None:
            # one extra entry: "the next rollout's a_prev" is defined after the last one
            firsts = jax.random.randint(k_prev, (n_rollouts + 1,), 0, 4, jnp.int32)
        else:
            firsts = fixed_first
        u = jax.random.uniform(k_u, (n_steps,))
        gumbel = jax.random.gumbel(k_gumbel, (n_steps, 4))

        def running(carry):
            return carry[4] < n_rollouts

        # Inside the loop the lifetime is always active (r < n_rollouts): the loop exits
        # after the last rollout, and under vmap the batching rule freezes ended lifetimes.
        def step(carry):
            i, memory, pos, t, r, a_prev, returns, steps, success = carry
            u_t, gumbel_t = u[i], gumbel[i]
            reward_in = 0.0 if r_slot == "zero" else jnp.where(t > 0, -0.01, 0.0)
            x = jnp.concatenate(
                [
                    egocentric_view(grid, pos),
                    jax.nn.one_hot(a_prev, 4, dtype=jnp.float32),
                    jnp.stack([jnp.float32(reward_in), jnp.float32(0.0)]),
                ]
            )
            out, new_memory = model.step(params, memory, x[: model.n_in])
            action = select_action(out, u_t, gumbel_t, greedy)
            new_pos = move(maze.walls, pos, action)
            reached = jnp.all(new_pos == maze.goal)
            t_next = t + 1
            done = reached | (t_next >= max_steps)
            slot = done & (rollout_ids == r)
            returns = jnp.where(
                slot, episode_return(reached, t_next, max_steps), returns
            )
            steps = jnp.where(slot, t_next, steps)
            success = jnp.where(slot, reached.astype(jnp.float32), success)
            return (
                i + 1,
                new_memory,
                jnp.where(done, start, new_pos),
                jnp.where(done, 0, t_next),
                r + done.astype(jnp.int32),
                jnp.where(done, firsts[jnp.minimum(r + 1, n_rollouts)], action),
                returns,
                steps,
                success,
            )

        carry = (
            jnp.int32(0),
            model.init_memory(params, k_memory),
            start,
            jnp.int32(0),
            jnp.int32(0),
            firsts[0],
            jnp.zeros(n_rollouts, jnp.float32),
            jnp.zeros(n_rollouts, jnp.int32),
            jnp.zeros(n_rollouts, jnp.float32),
        )
        carry = jax.lax.while_loop(running, step, carry)
        returns, steps, success = carry[6:]
        penalty = 1e-6 * genome_rms(params)
        fitness = jnp.sum(weights * (returns - penalty)) / jnp.sum(weights)
        result = LifetimeResult(fitness, returns, steps, success)
        return (result, carry[1]) if with_memory else result

    return run


def _rollout_weights(n_rollouts: int, weights: Sequence[float] | None) -> tuple:
    if weights is None:
        weights = DEFAULT_WEIGHTS.get(n_rollouts, (0.0,) * (n_rollouts - 1) + (1.0,))
    weights = tuple(float(w) for w in weights)
    if len(weights) != n_rollouts or sum(weights) <= 0 or min(weights) < 0:
        raise ValueError(
            f"rollout_weights must be {n_rollouts} non-negative numbers with a positive "
            f"sum, got {weights}"
        )
    return weights


def maze_task(
    size: int = 15,
    crowd: float = 0.35,
    n_rollouts: int = 3,
    rollout_weights: Sequence[float] | None = None,
    obs_sign: str = "paper",
    r_slot: str = "zero",
    max_steps: int = 200,
    greedy: bool = False,
    validation_seed: int = 20220906,
    test_seed: int = 20221218,
    use_cache: bool = True,
    name: str | None = None,
    block_lifetimes: int | None = 32,
) -> Task:
    """The maze meta-RL task (spec 2.1-2.6).

    Args:
        size, crowd: maze side and target interior wall fraction of the training mazes.
        n_rollouts: episodes per lifetime on one maze.
        rollout_weights: fitness weight of each rollout; default (0, 0, 1) for 3 rollouts,
            (0, 0, .16, .22, .36, .64, .8, 1) for 8, else only the last rollout counts.
        obs_sign: ``"paper"`` (wall +1, goal -1) or ``"metagym-head"``.
        r_slot: ``"zero"`` (paper era, always 0) or ``"prev-reward"`` (April 2022: -0.01, and
            0 on each rollout's first step).
        max_steps: step limit per rollout.
        greedy: always take the argmax action (deterministic; for tests and demos).
        validation_seed, test_seed: seeds of the 1,024 validation and 2,048 test mazes.
        use_cache: cache generated sets on disk (see ``maze_sets.cache_dir``).
        name: task name; default ``f"maze{size}"``.
        block_lifetimes: the evolution loop evaluates about this many lifetimes at a time
            per device (a cache-sized block that stops when all its lifetimes have
            ended); None evaluates a device's whole share at once. Speed only: the
            results do not depend on it.
    Returns:
        A ``Task`` whose ``lifetime(model)`` is ``run(params, maze, key) -> LifetimeResult``.
    """
    weights = _rollout_weights(n_rollouts, rollout_weights)
    options = dict(
        n_rollouts=n_rollouts,
        rollout_weights=weights,
        obs_sign=obs_sign,
        r_slot=r_slot,
        max_steps=max_steps,
        greedy=greedy,
    )
    _check_slots(r_slot, obs_sign)
    if block_lifetimes is not None and block_lifetimes < 1:
        raise ValueError(f"block_lifetimes must be >= 1 or None, got {block_lifetimes}")

    lifetime = per_model_cache(lambda model: make_lifetime(model, **options))

    def sample_params(key: jax.Array):
        return sample_maze(key, size, crowd, max_steps)

    def validation_set():
        return maze_set(
            size, crowd, N_VALIDATION, validation_seed, max_steps, use_cache
        )

    def test_set():
        return maze_set(size, crowd, N_TEST, test_seed, max_steps, use_cache)

    info = dict(size=size, crowd=crowd, validation_seed=validation_seed, **options)
    info["test_seed"] = test_seed
    info["block_lifetimes"] = block_lifetimes
    return Task(
        name=name or f"maze{size}",
        n_in=N_INPUT,
        n_out=N_OUTPUT,
        n_rollouts=n_rollouts,
        sample_params=sample_params,
        validation_set=validation_set,
        test_set=test_set,
        lifetime=lifetime,
        info=info,
    )


def _check_slots(r_slot: str, obs_sign: str) -> None:
    if r_slot not in R_SLOTS:
        raise ValueError(f"unknown r_slot {r_slot!r}; valid: {', '.join(R_SLOTS)}")
    obs_sign_value(obs_sign)

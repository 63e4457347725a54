"""The maze meta-RL task of Wang et al. 2022 (decomposed plasticity), as a hebbjax ``Task``.

Spec ``maze-decprnn-eprnn.md``: the network input of section 2.5, the action head of section
1.5 and the lifetime and fitness of section 2.6. A lifetime runs ``n_rollouts`` episodes on one
maze; the model memory is initialised once and carried across rollouts; each rollout restarts at
the maze start with a uniformly random previous action. Fitness is
F = sum_r w_r (R_r - lambda) / sum_r w_r with lambda = 1e-6 RMS(genome).

The whole lifetime is one ``lax.scan`` of ``n_rollouts * max_steps`` steps with a rollout
counter: a rollout that ends (goal or step limit) hands over to the next one on the next scan
step, and after the last rollout every quantity (memory, position, returns) is frozen by
``jnp.where`` masking, exactly as the reference stops stepping after the terminal transition
(spec pitfall 6.11).
"""

from __future__ import annotations

import functools
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
from hebbjax.tasks.base import LifetimeResult, Task

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
) -> Callable[[Params, object, jax.Array], LifetimeResult]:
    """``run(params, maze, key) -> LifetimeResult`` for one maze and one genome.

    With ``with_memory=True`` it returns ``(LifetimeResult, final_memory)`` instead, for
    analysing the plastic state at the end of a lifetime.
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

    def run(params: Params, maze, key: jax.Array) -> LifetimeResult:
        grid = observation_grid(maze, obs_sign)
        start = maze.start.astype(jnp.int32)
        k_prev, k_u, k_gumbel, k_memory = jax.random.split(key, 4)
        # one extra entry so that "the next rollout's a_prev" is defined after the last one
        first_actions = jax.random.randint(k_prev, (n_rollouts + 1,), 0, 4, jnp.int32)
        u = jax.random.uniform(k_u, (n_steps,))
        gumbel = jax.random.gumbel(k_gumbel, (n_steps, 4))

        def step(carry, noise):
            memory, pos, t, r, a_prev, returns, steps, success = carry
            u_t, gumbel_t = noise
            active = r < n_rollouts
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
            ends = done & active
            slot = ends & (rollout_ids == r)
            returns = jnp.where(
                slot, episode_return(reached, t_next, max_steps), returns
            )
            steps = jnp.where(slot, t_next, steps)
            success = jnp.where(slot, reached.astype(jnp.float32), success)
            memory = jax.tree.map(
                lambda new, old: jnp.where(active, new, old), new_memory, memory
            )
            next_a = jnp.where(
                done, first_actions[jnp.minimum(r + 1, n_rollouts)], action
            )
            carry = (
                memory,
                jnp.where(active, jnp.where(done, start, new_pos), pos),
                jnp.where(active, jnp.where(done, 0, t_next), t),
                r + ends.astype(jnp.int32),
                jnp.where(active, next_a, a_prev),
                returns,
                steps,
                success,
            )
            return carry, None

        carry = (
            model.init_memory(params, k_memory),
            start,
            jnp.int32(0),
            jnp.int32(0),
            first_actions[0],
            jnp.zeros(n_rollouts, jnp.float32),
            jnp.zeros(n_rollouts, jnp.int32),
            jnp.zeros(n_rollouts, jnp.float32),
        )
        carry, _ = jax.lax.scan(step, carry, (u, gumbel))
        returns, steps, success = carry[5:]
        penalty = 1e-6 * genome_rms(params)
        fitness = jnp.sum(weights * (returns - penalty)) / jnp.sum(weights)
        result = LifetimeResult(fitness, returns, steps, success)
        return (result, carry[0]) if with_memory else result

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

    @functools.lru_cache(maxsize=32)
    def cached_lifetime(model: Model):
        return make_lifetime(model, **options)

    def lifetime(model: Model):
        try:
            return cached_lifetime(model)
        except TypeError:  # an unhashable model: build a fresh closure
            return make_lifetime(model, **options)

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

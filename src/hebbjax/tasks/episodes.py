"""What a task states about its lifetime: ``Episodes`` (``tasks/lifetime.py`` runs it).

Wang et al. 2022 spec 2.6; EPRNN spec 4.1-4.2; Najarro & Risi 2020 sec. 3: a lifetime is
``n_rollouts`` episodes of one environment with the network memory kept across them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

import jax


class Episodes(NamedTuple):
    """How a task's lifetime drives its environment (all functions of one lifetime).

    - ``noise(key)``: every random number of the lifetime, drawn from its key at once;
    - ``memory_key(noise)``: the key of ``model.init_memory``;
    - ``reset(noise, r, task_params) -> (obs, env_state, first_prev_action)``: the start of
      rollout ``r`` (computed for every rollout before the loop);
    - ``env_params(task_params)``: the environment parameters ``env.step_env`` gets
      (default: the task parameters themselves);
    - ``encode(obs, prev_action, prev_reward, t) -> x``: the network input at step ``t`` of
      a rollout (``prev_reward`` is 0 at ``t = 0``);
    - ``act(out, noise, i) -> action``: the action from the network output at lifetime step ``i``;
    - ``env_key(noise, i, r, t)``: the key of ``env.step_env``;
    - ``plastic``: per rollout, whether plasticity is on (EPRNN: the TRAIN rollout only);
      the loop runs each run of rollouts with the same flag separately, so a frozen rollout
      does not even compute the plastic update;
    - ``rollout_return(total, steps, terminated)``: the return of an ended rollout (default:
      the sum of its rewards);
    - ``success(total, steps, terminated)``: whether an ended rollout succeeded;
    - ``position(env_state)``: where the agent is, for trajectories (None: not recorded);
    - ``terminates``: whether a rollout can end before ``max_steps`` (False: a scan);
    - ``continue_env``: rollouts after the first continue the environment where the last
      one stopped instead of resetting it (EPRNN's Sequence Predicting: TRAIN then TEST of
      one sequence).

    ``max_steps`` is the step limit of every rollout, or a tuple with one per rollout.
    """

    env: Any
    n_rollouts: int
    max_steps: int | tuple[int, ...]
    noise: Callable[[jax.Array], Any]
    memory_key: Callable[[Any], jax.Array]
    reset: Callable[[Any, Any, Any], tuple[Any, Any, Any]]
    encode: Callable[..., jax.Array]
    act: Callable[[jax.Array, Any, jax.Array], Any]
    env_key: Callable[..., jax.Array]
    success: Callable[..., jax.Array]
    plastic: tuple[bool, ...] | None = None
    rollout_return: Callable[..., jax.Array] | None = None
    position: Callable[[Any], jax.Array] | None = None
    terminates: bool = True
    continue_env: bool = False
    env_params: Callable[[Any], Any] | None = None

    def limits(self) -> tuple[int, ...]:
        if isinstance(self.max_steps, int):
            return (self.max_steps,) * self.n_rollouts
        if len(self.max_steps) != self.n_rollouts:
            raise ValueError(
                f"max_steps needs one limit per rollout ({self.n_rollouts}), got "
                f"{self.max_steps}"
            )
        return tuple(int(m) for m in self.max_steps)

    def segments(self) -> list[tuple[int, int, bool]]:
        """Runs of consecutive rollouts with the same plasticity: (first, end, plastic)."""
        flags = (True,) * self.n_rollouts if self.plastic is None else self.plastic
        if len(flags) != self.n_rollouts:
            raise ValueError(
                f"plastic needs one flag per rollout ({self.n_rollouts}), got {flags}"
            )
        out = []
        for r, flag in enumerate(flags):
            if out and out[-1][2] == bool(flag):
                out[-1] = (out[-1][0], r + 1, bool(flag))
            else:
                out.append((r, r + 1, bool(flag)))
        return out

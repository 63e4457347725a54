"""The Brax ant with morphology variants as a gymnax environment.

Najarro & Risi 2020 and Palm, Najarro & Risi 2021 on Brax (spec ``hebbian-ant-brax.md``
sections 1.6, 2.5 and 6): the same physics as ``envs.ant.make_ant``, exposed through gymnax's
``Environment`` so any gymnax user can run it. The morphology is data: ``AntParams.variant``
indexes the stacked variant systems, so a batch of morphologies is a ``vmap`` over params.
The reward of a step is the torso's displacement along +x in metres (the fitness the papers
sum over a lifetime); episodes are truncated at ``max_steps_in_episode`` (gymnax's six-value
``step`` reports it as ``truncated``).

Two options of Najarro's pybullet protocol (spec 1.5) live here, so a task needs no copy of
them: ``burn_in_steps`` zero-action steps inside ``reset`` (the policy starts after them), and
``early_stop``: after ``grace_steps`` policy steps an episode terminates once the torso is
below ``min_z`` or after more than ``patience`` consecutive steps of negative progress.
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
from flax import struct
from gymnax.environments import environment, spaces

from hebbjax.envs.ant import (
    VARIANTS,
    forward_displacement,
    make_ant,
    variant_system,
)


@struct.dataclass(kw_only=True)
class AntParams(environment.EnvParams):
    """``variant``: index into the environment's ``variants`` (vmappable)."""

    max_steps_in_episode: int = struct.field(pytree_node=False, default=500)
    variant: jax.Array


@struct.dataclass(kw_only=True)
class AntState(environment.EnvState):
    """The Brax state of the ant, the policy step count and the run of consecutive steps
    with negative progress (for ``early_stop``)."""

    time: jax.Array
    brax_state: Any
    negative_run: jax.Array


class BraxAnt(environment.Environment[AntState, AntParams]):
    """The Brax ant; ``variants`` are names from ``envs.ant.VARIANTS``.

    Args:
        variants: the morphologies ``AntParams.variant`` can index, in order.
        backend: Brax pipeline, ``mjx`` (default) or ``spring``.
        control_dt: seconds per step.
        max_steps: steps per episode (``default_params``).
        reset_noise_scale: Brax's reset noise.
        burn_in_steps: zero-action steps inside ``reset``.
        early_stop, min_z, grace_steps, patience: Najarro's termination rule.
    """

    def __init__(
        self,
        variants: tuple[str, ...] = tuple(VARIANTS),
        backend: str = "mjx",
        control_dt: float = 0.02,
        max_steps: int = 500,
        reset_noise_scale: float = 0.1,
        burn_in_steps: int = 0,
        early_stop: bool = False,
        min_z: float = 0.2,
        grace_steps: int = 200,
        patience: int = 30,
    ):
        super().__init__()
        self._physics_args = (tuple(variants), backend, control_dt, reset_noise_scale)
        self.max_steps = max_steps
        self.burn_in_steps = burn_in_steps
        self.early_stop = early_stop
        self.min_z = min_z
        self.grace_steps = grace_steps
        self.patience = patience

    @property
    def physics(self):
        """The Brax ant and its stacked variants, built on first use (seconds)."""
        with jax.numpy_rank_promotion("allow"):
            return make_ant(*self._physics_args)

    @property
    def default_params(self) -> AntParams:
        return AntParams(max_steps_in_episode=self.max_steps, variant=jnp.int32(0))

    def _sys(self, params: AntParams) -> Any:
        return variant_system(self.physics, params.variant)

    def reset_env(
        self, key: jax.Array, params: AntParams
    ) -> tuple[jax.Array, AntState]:
        sys = self._sys(params)
        brax_state = self.physics.reset(sys, key)
        if self.burn_in_steps:
            zero = jnp.zeros((self.physics.action_size,), jnp.float32)
            brax_state = jax.lax.fori_loop(
                0,
                self.burn_in_steps,
                lambda _, s: self.physics.step(sys, s, zero),
                brax_state,
            )
        state = AntState(
            time=jnp.int32(0), brax_state=brax_state, negative_run=jnp.int32(0)
        )
        return brax_state.obs, state

    def step_env(
        self, key: jax.Array, state: AntState, action: jax.Array, params: AntParams
    ) -> tuple[jax.Array, AntState, jax.Array, jax.Array, dict[str, Any]]:
        del key
        new = self.physics.step(self._sys(params), state.brax_state, action)
        reward = forward_displacement(state.brax_state, new)
        past_grace = state.time >= self.grace_steps
        run = jnp.where(past_grace & (reward < 0), state.negative_run + 1, 0)
        stopped = past_grace & (
            (new.pipeline_state.x.pos[0, 2] < self.min_z) | (run > self.patience)
        )
        state = AntState(time=state.time + 1, brax_state=new, negative_run=run)
        # without early_stop the ant never falls out of the episode
        # (terminate_when_unhealthy=False); gymnax truncates at max_steps_in_episode
        terminated = jnp.logical_and(self.early_stop, stopped)
        return new.obs, state, reward, terminated, {}

    def get_obs(self, state: AntState, params: AntParams, key=None) -> jax.Array:
        return state.brax_state.obs

    def torso_position(self, state: AntState) -> jax.Array:
        """The torso's (x, y, z) in metres."""
        return state.brax_state.pipeline_state.x.pos[0]

    def is_terminated(self, state: AntState, params: AntParams) -> jax.Array:
        return jnp.zeros((), jnp.bool_)

    @property
    def name(self) -> str:
        return "BraxAnt-hebbjax"

    @property
    def num_actions(self) -> int:
        return self.physics.action_size

    def action_space(self, params: AntParams | None = None) -> spaces.Box:
        return spaces.Box(-1.0, 1.0, (self.physics.action_size,), jnp.float32)

    def observation_space(self, params: AntParams) -> spaces.Box:
        return spaces.Box(-jnp.inf, jnp.inf, (self.physics.obs_size,), jnp.float32)

    def state_space(self, params: AntParams) -> spaces.Dict:
        return spaces.Dict({"time": spaces.Discrete(params.max_steps_in_episode + 1)})

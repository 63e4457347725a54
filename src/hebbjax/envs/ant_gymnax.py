"""The Brax ant with morphology variants as a gymnax environment.

Najarro & Risi 2020 and Palm, Najarro & Risi 2021 on Brax (spec ``hebbian-ant-brax.md``
sections 1.6, 2.5 and 6): the same physics as ``envs.ant.make_ant``, exposed through gymnax's
``Environment`` so any gymnax user can run it. The morphology is data: ``AntParams.variant``
indexes the stacked variant systems, so a batch of morphologies is a ``vmap`` over params.
The reward of a step is the torso's displacement along +x in metres (the fitness the papers
sum over a lifetime); episodes are truncated at ``max_steps_in_episode`` (gymnax's six-value
``step`` reports it as ``truncated``) and never terminate early.
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
    """The Brax state of the ant and the step count."""

    time: jax.Array
    brax_state: Any


class BraxAnt(environment.Environment[AntState, AntParams]):
    """The Brax ant; ``variants`` are names from ``envs.ant.VARIANTS``.

    Args:
        variants: the morphologies ``AntParams.variant`` can index, in order.
        backend: Brax pipeline, ``mjx`` (default) or ``spring``.
        control_dt: seconds per step.
        max_steps: steps per episode (``default_params``).
    """

    def __init__(
        self,
        variants: tuple[str, ...] = tuple(VARIANTS),
        backend: str = "mjx",
        control_dt: float = 0.02,
        max_steps: int = 500,
    ):
        super().__init__()
        self.physics = make_ant(tuple(variants), backend, control_dt)
        self.max_steps = max_steps

    @property
    def default_params(self) -> AntParams:
        return AntParams(max_steps_in_episode=self.max_steps, variant=jnp.int32(0))

    def _sys(self, params: AntParams) -> Any:
        return variant_system(self.physics, params.variant)

    def reset_env(
        self, key: jax.Array, params: AntParams
    ) -> tuple[jax.Array, AntState]:
        brax_state = self.physics.reset(self._sys(params), key)
        return brax_state.obs, AntState(time=jnp.int32(0), brax_state=brax_state)

    def step_env(
        self, key: jax.Array, state: AntState, action: jax.Array, params: AntParams
    ) -> tuple[jax.Array, AntState, jax.Array, jax.Array, dict[str, Any]]:
        del key
        new = self.physics.step(self._sys(params), state.brax_state, action)
        reward = forward_displacement(state.brax_state, new)
        state = AntState(time=state.time + 1, brax_state=new)
        # the ant never falls out of the episode (terminate_when_unhealthy=False, as in the
        # papers' fixed-length lifetimes); gymnax truncates at max_steps_in_episode
        terminated = self.is_terminated(state, params)
        return new.obs, state, reward, terminated, {}

    def get_obs(self, state: AntState, params: AntParams, key=None) -> jax.Array:
        return state.brax_state.obs

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

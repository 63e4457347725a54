"""Sequence Predicting: the generalised supervised task of Wang et al. (EPRNN, Sec. 4.1).

Spec ``maze-decprnn-eprnn.md`` section 4.1 (reference EPA@c1d974d:
env_sequence_predicting.py). A task is ``l`` independent sinusoids
``y_t[d] = A_d sin(omega_d t + phi_d)`` with ``A ~ U(1, 3)``, ``phi ~ U(0, 2 pi)`` and
``omega = 2 pi / n``, ``n ~ U(10, 100)``, ``t = 0, 1, 2, ...``.

One episode is the whole EPRNN lifetime of ``k_train + n_test`` steps:

- step ``t < K`` (TRAIN): the observation is ``y_t``; the action (the network's output)
  is not scored, reward 0;
- then TEST: the first observation is the zero vector, every later one is the agent's own
  previous action (autoregressive roll-out). The action at test step ``k = 1..N`` is
  compared with ``y_{K+k}`` (so ``y_K`` is never seen) and earns
  ``-(1/N) mean_d (y_{K+k,d} - a_d)^2``; the episode return is the paper's score, a
  negative MSE.

``l``, ``K`` and ``N`` fix shapes and live in the constructor; the sinusoid parameters are
a vmappable ``SeqPredParams`` pytree.
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
from flax import struct
from gymnax.environments import environment, spaces

AMPLITUDE_RANGE = (1.0, 3.0)
PERIOD_RANGE = (10.0, 100.0)


@struct.dataclass(kw_only=True)
class SeqPredParams(environment.EnvParams):
    """One task: per-dimension amplitude, angular frequency and phase, each (l,)."""

    max_steps_in_episode: int = struct.field(pytree_node=False, default=30)
    amplitude: jax.Array
    omega: jax.Array
    phase: jax.Array


@struct.dataclass(kw_only=True)
class SeqPredState(environment.EnvState):
    """Steps taken so far and the last action (the next test-phase observation)."""

    time: jax.Array
    last_action: jax.Array


def sample_seqpred_params(key: jax.Array, dim: int, n_steps: int = 30) -> SeqPredParams:
    """One task from the training distribution of spec 4.1."""
    k_a, k_n, k_phi = jax.random.split(key, 3)
    amplitude = jax.random.uniform(k_a, (dim,), jnp.float32, *AMPLITUDE_RANGE)
    period = jax.random.uniform(k_n, (dim,), jnp.float32, *PERIOD_RANGE)
    phase = jax.random.uniform(k_phi, (dim,), jnp.float32, 0.0, 2.0 * jnp.pi)
    return SeqPredParams(
        max_steps_in_episode=n_steps,
        amplitude=amplitude,
        omega=2.0 * jnp.pi / period,
        phase=phase,
    )


def sequence_value(params: SeqPredParams, t: jax.Array) -> jax.Array:
    """``y_t`` (l,) for an integer or traced time index ``t``."""
    return params.amplitude * jnp.sin(
        params.omega * jnp.asarray(t, jnp.float32) + params.phase
    )


class SequencePrediction(environment.Environment[SeqPredState, SeqPredParams]):
    """Predict the continuation of a few sinusoids (spec 4.1).

    Args:
        dim: l, the number of sinusoids (observation and action size).
        k_train: K, the TRAIN steps that show the ground truth.
        n_test: N, the TEST steps scored against ``y_{K+1} .. y_{K+N}``.
    """

    def __init__(self, dim: int = 1, k_train: int = 10, n_test: int = 20):
        super().__init__()
        if dim < 1 or k_train < 1 or n_test < 1:
            raise ValueError(
                f"dim, k_train and n_test must be >= 1, got {dim}, {k_train}, {n_test}"
            )
        self.dim = dim
        self.k_train = k_train
        self.n_test = n_test

    @property
    def n_steps(self) -> int:
        return self.k_train + self.n_test

    @property
    def default_params(self) -> SeqPredParams:
        ones = jnp.ones((self.dim,), jnp.float32)
        return SeqPredParams(
            max_steps_in_episode=self.n_steps,
            amplitude=2.0 * ones,
            omega=2.0 * jnp.pi / 20.0 * ones,
            phase=0.0 * ones,
        )

    def step_env(
        self,
        key: jax.Array,
        state: SeqPredState,
        action: jax.Array,
        params: SeqPredParams,
    ) -> tuple[jax.Array, SeqPredState, jax.Array, jax.Array, dict[str, Any]]:
        del key
        action = jnp.asarray(action, jnp.float32)
        t = state.time
        in_test = t >= self.k_train
        # test step k = t - K + 1 is scored against y_{K + k} = y_{t + 1}
        error = jnp.mean(jnp.square(sequence_value(params, t + 1) - action))
        reward = jnp.where(in_test, -error / self.n_test, 0.0)
        state = SeqPredState(time=t + 1, last_action=action)
        # the episode only ends by its length, a truncation (gymnax's is_truncated)
        terminated = self.is_terminated(state, params)
        info = {"discount": self.discount(state, params), "squared_error": error}
        return self.get_obs(state, params), state, reward, terminated, info

    def reset_env(
        self, key: jax.Array, params: SeqPredParams
    ) -> tuple[jax.Array, SeqPredState]:
        del key
        state = SeqPredState(
            time=jnp.int32(0), last_action=jnp.zeros((self.dim,), jnp.float32)
        )
        return self.get_obs(state, params), state

    def get_obs(self, state: SeqPredState, params: SeqPredParams, key=None):
        t = state.time
        truth = sequence_value(params, t)
        # the first TEST input is the zero vector ("observation invalid" in the reference)
        test_input = jnp.where(t == self.k_train, 0.0, state.last_action)
        return jnp.where(t < self.k_train, truth, test_input)

    def is_terminated(self, state: SeqPredState, params: SeqPredParams) -> jax.Array:
        return jnp.zeros((), jnp.bool_)

    def is_truncated(self, state: SeqPredState, params: SeqPredParams) -> jax.Array:
        return state.time >= self.n_steps

    @property
    def name(self) -> str:
        return "SequencePrediction"

    @property
    def num_actions(self) -> int:
        return self.dim

    def action_space(self, params: SeqPredParams | None = None) -> spaces.Box:
        return spaces.Box(-jnp.inf, jnp.inf, (self.dim,), jnp.float32)

    def observation_space(self, params: SeqPredParams | None = None) -> spaces.Box:
        return spaces.Box(-jnp.inf, jnp.inf, (self.dim,), jnp.float32)

    def state_space(self, params: SeqPredParams | None = None) -> spaces.Dict:
        return spaces.Dict(
            {
                "time": spaces.Discrete(self.n_steps + 1),
                "last_action": spaces.Box(-jnp.inf, jnp.inf, (self.dim,), jnp.float32),
            }
        )

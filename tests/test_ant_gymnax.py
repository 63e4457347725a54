"""The Brax ant as a gymnax environment: the morphology is vmappable params data."""

import jax
import jax.numpy as jnp
import numpy as np
from gymnax.environments.environment import Environment

from hebbjax.envs.ant_gymnax import AntParams, BraxAnt


def test_brax_ant_is_a_gymnax_environment_batched_over_morphologies():
    env = BraxAnt(("default", "short-xp-yp"), backend="spring", max_steps=3)
    assert isinstance(env, Environment)
    params = AntParams(max_steps_in_episode=3, variant=jnp.array([0, 1], jnp.int32))
    keys = jax.random.split(jax.random.key(0), 2)
    obs, state = jax.vmap(env.reset)(keys, params)
    assert obs.shape == (2, env.physics.obs_size)
    action = jnp.zeros((2, env.num_actions))
    step = jax.jit(jax.vmap(env.step))
    for t in range(3):
        obs, state, reward, terminated, truncated, info = step(
            keys, state, action, params
        )
        assert reward.shape == (2,) and not bool(terminated.any())
        assert bool(truncated.all()) == (t == 2)
    assert np.isfinite(np.asarray(obs)).all()
    # a different morphology is a different system: same actions, different trajectories
    same = jnp.stack([keys[0], keys[0]])
    first = jax.vmap(env.reset)(same, params)[1]
    moved = step(same, first, jnp.ones((2, env.num_actions)), params)[1]
    pos = np.asarray(moved.brax_state.pipeline_state.q)
    assert not np.allclose(pos[0], pos[1])
    assert env.action_space().shape == (8,)

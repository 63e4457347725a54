"""benchmarks/policy_gradient.py: the replay under jax.grad is the lifetime it scores."""

import jax
import jax.numpy as jnp
import numpy as np
from benchmarks.policy_gradient import action_probs, replay

from hebbjax.models import make_model
from hebbjax.tasks import Probe, make_task


def test_replay_reproduces_the_lifetime_and_its_action_distribution():
    model = make_model("decprnn-postdn")
    task = make_task("maze9", use_cache=False)
    params = model.init_params(jax.random.key(3))
    maze = task.sample_params(jax.random.key(4))
    run = task.lifetime(model, Probe(record=("input", "output", "action")))
    result, trace = jax.jit(run)(params, maze, jax.random.key(5))
    valid = np.asarray(trace["valid"])
    n = int(valid.sum())
    assert n > 100 and valid[:n].all()  # three rollouts, memory carried across them
    outputs = jax.jit(replay(model))(params, trace["input"][:n])
    np.testing.assert_allclose(outputs, trace["output"][:n], rtol=1e-5, atol=1e-5)
    probs = np.asarray(action_probs(outputs))
    np.testing.assert_allclose(probs.sum(-1), 1.0, rtol=1e-5)
    taken = probs[np.arange(n), np.asarray(trace["action"][:n])]
    assert (taken > 0).all()
    # a greedy output puts p_g + (1 - p_g) softmax on its argmax
    out = jnp.array([0.0, 2.0, 1.0, -1.0, 10.0])
    assert float(action_probs(out)[1]) > 0.999
    # the taken actions' log-probability has a finite gradient through every step's
    # plastic update
    actions = trace["action"][:n]

    def log_prob(p):
        probs = action_probs(replay(model)(p, trace["input"][:n]))
        return jnp.log(probs[jnp.arange(n), actions]).sum()

    leaves = jax.tree.leaves(jax.grad(log_prob)(params))
    assert all(np.isfinite(np.asarray(g)).all() for g in leaves)
    assert sum(float(jnp.abs(g).sum()) for g in leaves) > 0

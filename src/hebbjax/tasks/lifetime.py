"""The one lifetime loop: n rollouts of a gymnax environment, network memory kept across them.

Every task in hebbjax is a meta-learning lifetime of the same shape (Wang et al. 2022 spec 2.6;
EPRNN spec 4.1-4.2; Najarro & Risi 2020 sec. 3): the model memory is initialised once, then
``n_rollouts`` episodes run one after the other; each step feeds the task's encoding of the
observation to ``model.step`` (the plastic update happens inside it), turns the output into an
action and steps the environment with ``env.step_env``. A task states only what differs
(``Episodes``: its randomness, resets, input and action adapters, returns); the loop, the
traces and the interventions are written here once.

The loop is a ``lax.while_loop`` over the lifetime's steps with a rollout counter, so a rollout
that ends hands over to the next one on the next step and the loop stops after the last
rollout; under ``vmap`` a batch of lifetimes runs until its longest one ends. Tasks whose
episodes never end early (``Episodes.terminates=False``) run a ``lax.scan`` instead, which
spares the batched loop's per-step selects over the whole memory.

A ``Probe`` records traces (per-step observations, inputs, outputs, actions, rewards,
positions, hidden state, plastic weights; all or every k-th step) and intervenes (plasticity
off from step t, a fraction of the plastic synapses zeroed at step t, actions overridden over
a step range, hidden state or plastic weights reset between rollouts). Without a probe none of
it is traced: the plain lifetime compiles to the loop alone.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from hebbjax.models.base import Model, Params
from hebbjax.models.memory import (
    hidden_state,
    merge_memory,
    plastic_weights,
    zero_fraction,
)
from hebbjax.tasks.episodes import Episodes
from hebbjax.tasks.probe import RESETS, TRACE_FIELDS, Probe

__all__ = [
    "RESETS",
    "TRACE_FIELDS",
    "Episodes",
    "LifetimeParts",
    "LifetimeResult",
    "Probe",
    "episodic_lifetime",
    "lifetime_parts",
]


class LifetimeResult(NamedTuple):
    """What one lifetime returns. Per-rollout arrays have shape (n_rollouts,)."""

    fitness: jax.Array  # scalar, higher is better
    returns: jax.Array  # (n_rollouts,) return of each rollout
    steps: jax.Array  # (n_rollouts,) environment steps of each rollout
    success: jax.Array  # (n_rollouts,) 1.0 if the rollout succeeded (the task says how)


def _stack(trees: list) -> Any:
    return jax.tree.map(lambda *xs: jnp.stack(xs), *trees)


def _pick(tree: Any, index: jax.Array) -> Any:
    return jax.tree.map(lambda x: x[index], tree)


def _where(flag: jax.Array, a: Any, b: Any) -> Any:
    return jax.tree.map(lambda x, y: jnp.where(flag, x, y), a, b)


class _Carry(NamedTuple):
    i: jax.Array  # lifetime step
    memory: Any
    state: Any  # environment state
    obs: Any
    t: jax.Array  # step within the rollout
    r: jax.Array  # rollout
    prev_action: Any
    prev_reward: jax.Array
    total: jax.Array  # reward so far in the rollout
    returns: jax.Array
    steps: jax.Array
    success: jax.Array


class LifetimeParts(NamedTuple):
    """One lifetime cut at its steps, for evaluators that keep a pool of lifetimes running
    and give a finished lifetime's slot to the next one (``rollout``'s compaction).

    - ``start(params, task_params, key) -> (fixed, carry)``: what stays fixed for the
      lifetime (its noise, rollout resets, environment parameters) and the loop state;
    - ``advance(params, fixed, carry) -> carry``: one step (plasticity as the rollout says);
    - ``done(carry)``: the lifetime has ended (``advance`` must not be called after);
    - ``finish(params, carry) -> LifetimeResult``.

    ``episodic_lifetime`` runs the same functions in one loop, so a lifetime computed either
    way is the same.
    """

    start: Callable[[Params, Any, jax.Array], tuple[Any, Any]]
    advance: Callable[[Params, Any, Any], Any]
    done: Callable[[Any], jax.Array]
    finish: Callable[[Params, Any], LifetimeResult]


class _Fixed(NamedTuple):
    noise: Any
    resets: Any  # (obs, env_state, first_prev_action) of every rollout, stacked
    env_params: Any
    memory0: Any  # the first memory, kept only for reset_between_rollouts
    key: Any  # the lifetime key, kept only for zero_at


def lifetime_parts(
    model: Model,
    spec: Episodes,
    fitness: Callable[[Params, jax.Array, jax.Array, jax.Array], jax.Array],
    probe: Probe | None = None,
    *,
    values: bool = False,
) -> LifetimeParts:
    """The steps of ``episodic_lifetime`` (same arguments) as ``LifetimeParts``.

    With ``values=True``, ``advance`` returns ``(carry, values)``: the probe's trace fields
    of the step (the recording loop of ``episodic_lifetime`` uses it); ``advance`` then also
    takes a static ``plastic`` flag.
    """
    probe = Probe() if probe is None else probe.check()
    n_r, limits = spec.n_rollouts, spec.limits()
    segments = spec.segments()
    rollout_ids = np.arange(n_r)  # numpy: the parts may first be built inside a trace
    uniform_limit = len(set(limits)) == 1
    record = probe.record
    if "position" in record and spec.position is None:
        raise ValueError(f"{type(spec.env).__name__} has no agent position to record")
    zeroing = probe.zero_at is not None and probe.zero_fraction > 0.0

    def start(params: Params, task_params: Any, key: jax.Array):
        noise = spec.noise(key)
        memory0 = model.init_memory(params, spec.memory_key(noise))
        resets = _stack([spec.reset(noise, r, task_params) for r in range(n_r)])
        env_params = (
            task_params if spec.env_params is None else spec.env_params(task_params)
        )
        fixed = _Fixed(
            noise,
            resets,
            env_params,
            memory0 if probe.reset_between_rollouts is not None else None,
            key if zeroing else None,
        )
        obs0, state0, action0 = _pick(resets, 0)
        carry = _Carry(
            i=jnp.int32(0),
            memory=memory0,
            state=state0,
            obs=obs0,
            t=jnp.int32(0),
            r=jnp.int32(0),
            prev_action=action0,
            prev_reward=jnp.float32(0.0),
            total=jnp.float32(0.0),
            returns=jnp.zeros(n_r, jnp.float32),
            steps=jnp.zeros(n_r, jnp.int32),
            success=jnp.zeros(n_r, jnp.float32),
        )
        return fixed, carry

    def intervene(memory, i, key):
        if not zeroing:
            return memory
        zeroed = zero_fraction(
            memory, jax.random.fold_in(key, 0x2E50), probe.zero_fraction
        )
        return _where(i == probe.zero_at, zeroed, memory)

    def override(action, i):
        if probe.override_actions is None:
            return action
        start, stop, value = probe.override_actions
        forced = jnp.broadcast_to(
            jnp.asarray(value, jnp.result_type(action)), jnp.shape(action)
        )
        return jnp.where((i >= start) & (i < stop), forced, action)

    def step(params: Params, fixed: _Fixed, c: _Carry, plastic) -> tuple[_Carry, dict]:
        noise = fixed.noise
        memory = intervene(c.memory, c.i, fixed.key)
        x = spec.encode(c.obs, c.prev_action, c.prev_reward, c.t)
        if probe.freeze_plasticity_at is not None and plastic is not False:
            frozen = c.i < probe.freeze_plasticity_at
            plastic = frozen if plastic is True else plastic & frozen
        out, memory = model.step(params, memory, x, plastic)
        action = override(spec.act(out, noise, c.i), c.i)
        obs, state, reward, terminated, _ = spec.env.step_env(
            spec.env_key(noise, c.i, c.r, c.t), c.state, action, fixed.env_params
        )
        terminated = jnp.asarray(terminated, jnp.bool_)
        t_next = c.t + 1
        total = c.total + reward
        limit = limits[0] if uniform_limit else jnp.asarray(limits)[c.r]
        done = t_next >= limit
        if spec.terminates:
            done = terminated | done
        ret = (
            total
            if spec.rollout_return is None
            else spec.rollout_return(total, t_next, terminated)
        )
        slot = done & (rollout_ids == c.r)
        ok = jnp.asarray(spec.success(total, t_next, terminated), jnp.float32)
        values = {}
        if record:
            values = dict(obs=c.obs, input=x, output=out, action=action)
            values |= dict(reward=reward, done=done)
            if "position" in record:
                values["position"] = spec.position(state)
            if "hidden" in record:
                values["hidden"] = hidden_state(memory)
            if "weights" in record:
                values["weights"] = plastic_weights(memory)
            values = {k: values[k] for k in record}
            values |= dict(valid=jnp.bool_(True), step=c.i, rollout=c.r, t=c.t)
        r_next = c.r + done.astype(jnp.int32)
        nxt_obs, nxt_state, nxt_action = _pick(
            fixed.resets, jnp.minimum(r_next, n_r - 1)
        )
        if probe.reset_between_rollouts is not None:
            how = probe.reset_between_rollouts
            fresh = merge_memory(
                memory,
                fixed.memory0,
                plastic=how in ("plastic", "both"),
                hidden=how in ("hidden", "both"),
            )
            memory = _where(done, fresh, memory)
        zero = jnp.float32(0.0)
        if spec.continue_env:
            nxt_state, nxt_obs = state, obs
        new = _Carry(
            i=c.i + 1,
            memory=memory,
            state=_where(done, nxt_state, state),
            obs=_where(done, nxt_obs, obs),
            t=jnp.where(done, 0, t_next),
            r=r_next,
            prev_action=_where(done, nxt_action, action),
            prev_reward=jnp.where(done, zero, reward).astype(jnp.float32),
            total=jnp.where(done, zero, total).astype(jnp.float32),
            returns=jnp.where(slot, ret, c.returns),
            steps=jnp.where(slot, t_next, c.steps),
            success=jnp.where(slot, ok, c.success),
        )
        return new, values

    def advance(params: Params, fixed: _Fixed, c: _Carry) -> _Carry:
        if len(segments) == 1:
            plastic = segments[0][2]
        else:  # the rollout's flag, read at run time (the update is computed, then gated)
            plastic = jnp.asarray(spec.plastic, jnp.bool_)[jnp.minimum(c.r, n_r - 1)]
        return step(params, fixed, c, plastic)[0]

    def finish(params: Params, c: _Carry) -> LifetimeResult:
        score = fitness(params, c.returns, c.steps, c.success)
        return LifetimeResult(score, c.returns, c.steps, c.success)

    return LifetimeParts(
        start=start,
        advance=step if values else advance,
        done=lambda c: c.r >= n_r,
        finish=finish,
    )


def episodic_lifetime(
    model: Model,
    spec: Episodes,
    fitness: Callable[[Params, jax.Array, jax.Array, jax.Array], jax.Array],
    probe: Probe | None = None,
) -> Callable[[Params, Any, jax.Array], Any]:
    """``run(params, task_params, key) -> LifetimeResult`` (and a trace dict with a probe).

    Args:
        model: the network.
        spec: the task's ``Episodes``.
        fitness: ``(params, returns, steps, success) -> scalar`` of one lifetime.
        probe: traces and interventions (see ``Probe``); None for the plain lifetime.

    The trace is a dict of arrays with a leading axis over recorded steps
    (``ceil(n_rollouts * max_steps / every)``): the requested fields plus ``valid`` (the
    step ran), ``step``, ``rollout`` and ``t`` (step within the rollout). ``hidden`` and
    ``weights`` are dicts named by place in the memory (``models/memory.py``); positions,
    hidden state and weights are read after the step.
    """
    probe = Probe() if probe is None else probe.check()
    parts = lifetime_parts(model, spec, fitness, probe, values=True)
    limits = spec.limits()
    segments = spec.segments()
    n_total = sum(limits)
    record, every = probe.record, probe.every
    n_slots = -(-n_total // every)

    def run(params: Params, task_params: Any, key: jax.Array):
        fixed, carry = parts.start(params, task_params, key)
        trace = None
        if record:
            shapes = jax.eval_shape(
                lambda c: parts.advance(params, fixed, c, True)[1], carry
            )
            trace = jax.tree.map(
                lambda s: jnp.zeros((n_slots + 1, *s.shape), s.dtype), shapes
            )

        def step(both, plastic):
            c, trace = both
            new, values = parts.advance(params, fixed, c, plastic)
            if record:
                # off-stride steps write the extra last slot, dropped at the end
                slot = jnp.where(c.i % every == 0, c.i // every, n_slots)
                trace = jax.tree.map(lambda buf, v: buf.at[slot].set(v), trace, values)
            return new, trace

        both = (carry, trace)
        for first, end, plastic in segments:
            body = functools.partial(step, plastic=plastic)
            if spec.terminates:
                both = jax.lax.while_loop(lambda b, end=end: b[0].r < end, body, both)
            else:
                length = sum(limits[first:end])
                both = jax.lax.fori_loop(0, length, lambda _, b, f=body: f(b), both)
        carry, trace = both
        result = parts.finish(params, carry)
        if not record:
            return result
        return result, jax.tree.map(lambda buf: buf[:-1], trace)

    return run

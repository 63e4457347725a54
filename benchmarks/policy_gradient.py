"""Policy-gradient fine-tuning of a maze genome: does a gradient through the plastic lifetime
lift the 9x9 hour's plateau? (issue 16)

The hour's evolution strategy ranks whole genomes on a scalar fitness; near its plateau
(+0.77) the genomes of a generation differ by less than the maze noise
(``fitness_noise_maze9-hour.md``). A lifetime also says which of its actions paid off. This
script fine-tunes a genome theta (a run's mean) by REINFORCE (Williams 1992) through the
whole plastic lifetime, with the maze's own stochastic policy (spec 1.5):

    pi(a | x_1..t; theta) = p_g 1[a = argmax l] + (1 - p_g) softmax(l)_a,
    p_g = 0.5 tanh(o_5) + 0.5,  (l, o_5) = the network's output at step t,

    grad J = E[ sum_t A_t grad_theta log pi(a_t | x_1..t; theta) ],
    A_t = G_r(t) - (mean of G_r(t) over the other K - 1 lifetimes on the same maze),
    G_r = sum_{r' >= r} w_r' R_r' / sum_r' w_r'   (the fitness's rollouts from r on).

A batch is M random mazes x K lifetimes each; the lifetimes run as training runs them (their
inputs and actions recorded by a ``Probe``), then the network is replayed on the recorded
inputs under ``jax.grad`` (a scan over the steps; the plastic weights depend on theta through
every earlier step, the actions are fixed); Adam on the genome, the gradient clipped to norm 1.
The log-probability of a greedy step is differentiable through p_g only. Every ``--eval-every``
updates the genome is scored on the 1,024 validation (evaluation key 0) and the 2,048 test
mazes (key 1): the same lifetimes' keys at every evaluation, so rows compare paired.

Resumable: the genome, the optimiser state and the log are saved (atomically) at every
evaluation; a batch's keys are ``fold_in(seed, update)``, so a resumed run is the same run.

    python -m benchmarks.policy_gradient --run maze9-hour-s1-r2r3 --lr 2e-4 --minutes 12

Writes ``benchmarks/results/time_to_quality/policy_gradient-<name>.{json,npz}`` and
``policy_gradient.md`` over all of them.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

OUT = Path(__file__).resolve().parent / "results" / "time_to_quality"
RUNS = OUT / "runs"
#: replay lengths (steps; past the last, the whole lifetime's): one compile each
BUCKETS = (128, 192, 256, 384)


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--run", default="maze9-hour-s1-r2r3", help="a time-to-quality run")
    p.add_argument("--lr", type=float, default=2e-4)
    p.add_argument("--minutes", type=float, default=12.0, help="training wall-clock")
    p.add_argument("--mazes", type=int, default=16, help="M mazes per update")
    p.add_argument("--repeats", type=int, default=8, help="K lifetimes per maze (>= 2)")
    p.add_argument("--weights", default="0.5,1,1", help="rollout weights w_r")
    p.add_argument("--eval-every", type=int, default=250)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--name", default=None)
    p.add_argument("--report-only", action="store_true")
    args = p.parse_args(argv)
    args.weights = tuple(float(w) for w in args.weights.split(","))
    if args.repeats < 2:
        p.error("--repeats must be >= 2 (the baseline leaves one lifetime out)")
    if len(args.weights) != 3 or sum(args.weights) <= 0:
        p.error(f"--weights needs 3 numbers with a positive sum, got {args.weights}")
    args.name = args.name or (
        f"{args.run}-lr{args.lr:g}-m{args.mazes}k{args.repeats}"
        f"-w{'_'.join(f'{w:g}' for w in args.weights)}"
    )
    return args


def action_probs(out):
    """The maze action head's distribution over the 4 actions (spec 1.5), from the
    network's outputs (..., 5): p_g at the argmax plus (1 - p_g) of the softmax."""
    import jax
    import jax.numpy as jnp

    logits, p_g = out[..., :4], 0.5 * jnp.tanh(out[..., 4:5]) + 0.5
    greedy = jax.nn.one_hot(jnp.argmax(logits, axis=-1), 4, dtype=out.dtype)
    return p_g * greedy + (1.0 - p_g) * jax.nn.softmax(logits, axis=-1)


def replay(model):
    """``run(params, inputs) -> outputs``: the network stepped on a lifetime's recorded
    inputs (T, n_in) from a fresh memory, plasticity on, as the lifetime stepped it (the
    memory carries across rollouts); differentiable in ``params``."""
    import jax

    def run(params, inputs):
        def body(memory, x):
            out, memory = model.step(params, memory, x)
            return memory, out

        return jax.lax.scan(body, model.init_memory(params), inputs)[1]

    return run


def make_trainer(model, task, args):
    """``(update(params, opt_state, i) -> (params, opt_state, stats), opt)``."""
    import jax
    import jax.numpy as jnp
    import optax

    from hebbjax.tasks import Probe

    m, k = args.mazes, args.repeats
    record = task.lifetime(model, Probe(record=("input", "action")))
    w = jnp.asarray(args.weights, jnp.float32) / sum(args.weights)
    base_key = jax.random.key(args.seed)
    outputs = replay(model)

    def log_prob(params, inputs, actions):
        probs = action_probs(outputs(params, inputs))
        taken = jnp.take_along_axis(probs, actions[:, None], axis=-1)[:, 0]
        return jnp.log(jnp.maximum(taken, 1e-12))

    @jax.jit
    def lifetimes(params, i):
        k_maze, k_life = jax.random.split(jax.random.fold_in(base_key, i))
        mazes = jax.vmap(task.sample_params)(jax.random.split(k_maze, m))
        keys = jax.random.split(k_life, m * k).reshape(m, k)
        run = jax.vmap(jax.vmap(record, (None, None, 0)), (None, 0, 0))
        return run(params, mazes, keys)

    @jax.jit
    def gradient(params, returns, trace):
        to_go = jnp.cumsum((returns * w)[..., ::-1], -1)[..., ::-1]  # (M, K, 3)
        baseline = (to_go.sum(1, keepdims=True) - to_go) / (k - 1)
        rollout = jnp.clip(trace["rollout"], 0, returns.shape[-1] - 1)
        adv = jnp.take_along_axis(to_go - baseline, rollout, -1) * trace["valid"]

        def loss(p):
            lp = jax.vmap(jax.vmap(lambda x, a: log_prob(p, x, a)))(
                trace["input"], trace["action"]
            )
            return -jnp.sum(adv * lp) / (m * k)

        return jax.grad(loss)(params)

    opt = optax.chain(optax.clip_by_global_norm(1.0), optax.adam(args.lr))

    @jax.jit
    def apply(params, opt_state, grads):
        updates, opt_state = opt.update(grads, opt_state, params)
        return optax.apply_updates(params, updates), opt_state

    def update(params, opt_state, i):
        result, trace = lifetimes(params, i)
        n = int(trace["valid"].sum(-1).max())
        length = next((b for b in BUCKETS if b >= n), trace["valid"].shape[-1])
        trace = jax.tree.map(lambda x: x[:, :, :length], trace)
        grads = gradient(params, result.returns, trace)
        params, opt_state = apply(params, opt_state, grads)
        stats = dict(returns=result.returns.mean((0, 1)), length=length)
        return params, opt_state, stats

    return update, opt


def run(args) -> dict:
    import numpy as np

    from benchmarks.time_to_quality import evaluate_set
    from hebbjax.analysis.sources import from_run, task_for
    from hebbjax.checkpoint import (
        atomic_write_bytes,
        flatten_named,
        load_checkpoint,
        save_checkpoint,
        unflatten_named,
    )

    subject = from_run(RUNS / args.run, "mean")
    model, params, task = subject.model, subject.params, task_for(subject)
    update, opt = make_trainer(model, task, args)
    opt_state = opt.init(params)
    sets = {name: task.sets[name].load() for name in ("validation", "test")}

    def score(p):
        rows = {}
        for seed, name in enumerate(sets):
            s = evaluate_set(model, task, p, sets[name], seed)
            rows[name], rows[f"{name}_se"] = s["score"], s["stderr"]
        return rows

    state_path = OUT / f"policy_gradient-{args.name}.npz"
    json_path = OUT / f"policy_gradient-{args.name}.json"
    log, i, seconds = [], 0, 0.0
    if state_path.is_file():
        arrays, meta = load_checkpoint(state_path)
        params = unflatten_named(params, arrays, "params")
        opt_state = unflatten_named(opt_state, arrays, "opt")
        log, i, seconds = meta["log"], meta["update"], meta["seconds"]
        compile_s = meta["compile_seconds"]
        print(f"resumed at update {i} ({seconds / 60:.1f} min)")
    else:
        log.append(dict(update=0, minutes=0.0, **score(params)))
        compile_s = 0.0
    header = dict(vars(args)) | dict(model=subject.model_name, task=subject.task_name)
    compiled = set()  # replay lengths compiled in this process
    while seconds < args.minutes * 60:
        t0 = time.perf_counter()
        params, opt_state, stats = update(params, opt_state, i)
        dt = time.perf_counter() - t0
        if stats["length"] in compiled:
            seconds += dt
        else:  # a new replay length compiles: not counted as training time
            compiled.add(stats["length"])
            compile_s += dt
        i += 1
        if i % 50 == 0:
            r = np.round(np.asarray(stats["returns"]), 3)
            print(f"{i} {seconds / 60:.1f} min returns {r}", flush=True)
        if i % args.eval_every == 0 or seconds >= args.minutes * 60:
            log.append(dict(update=i, minutes=seconds / 60, **score(params)))
            print("  eval", log[-1], flush=True)
            arrays = flatten_named(params, "params") | flatten_named(opt_state, "opt")
            meta = dict(log=log, update=i, seconds=seconds, compile_seconds=compile_s)
            save_checkpoint(state_path, arrays, meta)
            result = header | dict(log=log, compile_seconds=compile_s)
            atomic_write_bytes(json_path, json.dumps(result, indent=1).encode())
    return json.loads(json_path.read_text())


def report() -> str:
    lines = [
        "# Policy-gradient fine-tuning at the 9x9 plateau (issue 16)",
        "",
        "Written by `python -m benchmarks.policy_gradient` (module docstring: REINFORCE",
        "through the plastic lifetime, leave-one-out baseline per maze, Adam). Validation:",
        "1,024 mazes, evaluation key 0; test: 2,048 mazes, key 1 (the same lifetimes' keys",
        "in every row: rows of a table compare paired). Minutes: the updates' wall-clock",
        "(an update that compiled a new replay length not counted; compile seconds in the",
        "JSON) on a machine shared with other jobs: read the updates, not the minutes.",
    ]
    for path in sorted(OUT.glob("policy_gradient-*.json")):
        r = json.loads(path.read_text())
        lines += [
            "",
            f"## {r['run']}: lr {r['lr']:g}, {r['mazes']} mazes x {r['repeats']} "
            f"lifetimes per update, rollout weights {r['weights']}",
            "",
            "| update | minutes | validation | test |",
            "|---|---|---|---|",
        ]
        for row in r["log"]:
            lines.append(
                f"| {row['update']} | {row['minutes']:.1f} | "
                f"{row['validation']:+.3f} +- {row['validation_se']:.3f} | "
                f"{row['test']:+.3f} +- {row['test_se']:.3f} |"
            )
    return "\n".join(lines) + "\n"


def main(argv=None) -> None:
    from hebbjax.checkpoint import atomic_write_bytes

    args = parse_args(argv)
    if not args.report_only:
        run(args)
    text = report()
    atomic_write_bytes(OUT / "policy_gradient.md", text.encode())
    print(text)


if __name__ == "__main__":
    main()

"""Where the time of an EPRNN generation goes, on CPU (Wang et al., EPRNN, spec 4.1-4.4).

A generation of Sequence Predicting evaluates P = 398 genomes x 16 tasks = 6,368 lifetimes
of K + N = 30 steps; each lifetime owns a 64 x 64 plastic block (16 KB) and each genome
brings four 64 x 64 Hebbian tensors (64 KB). Three measurements, side by side, each the
median of ``--reps`` interleaved repetitions (the variants of a section take turns, so a
change in the machine's load hits them alike):

1. ``cell``: ``model.step`` alone in a ``lax.scan`` of T steps over the generation's batch
   (genome axis outside, task axis inside, as ``rollout.population_evaluator``), no
   environment: EPRNN with the plastic update on and off (the update's own cost is the
   difference), EPRNN (w/o m), ES-RNN, ES-LSTM;
2. ``lifetime``: the task's whole lifetime (``task.lifetime(model)``: environment and
   loop included), all lifetimes in one ``vmap`` versus cache-sized blocks
   (``hebbjax.parallel.blocked_vmap``, i.e. ``sharded_vmap(batch_size=...)`` on one
   device), for each block size in lifetimes;
3. the same lifetime sweep for the maze (DecPRNN-PostDN, the reference point of the
   throughput benchmark), with ``--maze``.
4. ``generation``: whole ``eprnn-es`` generations of EPRNN, ES-RNN and ES-LSTM on both
   tasks under the settings before and after the speed work of issue 17 (genome layers read
   as stored vs transposed, ``Model.prepare``; one batch of lifetimes vs blocks of 64, the
   tasks' default now), and ``ask + tell`` alone, the strategy's own share.

    python -m benchmarks.eprnn_speed [--population 398] [--reps 7] [--maze]

Writes ``benchmarks/results/eprnn/speed.{json,md}``. One XLA device
(``HEBBJAX_CPU_DEVICES``, default 1) as the comparison queue runs; timings on a shared
machine: read the ratios.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from pathlib import Path

OUT = Path(__file__).resolve().parent / "results" / "eprnn"
CELL_MODELS = (
    ("eprnn", True),
    ("eprnn", False),
    ("eprnn-nomod", True),
    ("es-rnn", True),
    ("es-lstm", True),
)


def timed(fns: dict, reps: int) -> dict[str, dict]:
    """Compile each ``fn()`` once, then run them round-robin; median seconds per name.

    Both wall time and this process's CPU time (all threads): on a shared machine the
    CPU time is the steadier measure of the work, the wall time what a run waits.
    """
    import jax

    compile_s = {}
    for name, fn in fns.items():
        t0 = time.perf_counter()
        jax.block_until_ready(fn())
        compile_s[name] = time.perf_counter() - t0
    walls = {name: [] for name in fns}
    cpus = {name: [] for name in fns}
    for _ in range(reps):
        for name, fn in fns.items():
            t0, c0 = time.perf_counter(), time.process_time()
            jax.block_until_ready(fn())
            walls[name].append(time.perf_counter() - t0)
            cpus[name].append(time.process_time() - c0)
    return {
        name: dict(
            median_s=statistics.median(w),
            min_s=min(w),
            median_cpu_s=statistics.median(cpus[name]),
            first_call_s=compile_s[name],
        )
        for name, w in walls.items()
    }


def population(model, size: int, key):
    """``size`` genomes near a random one (the ES's offspring), float32."""
    import jax

    base = model.init_params(key)
    keys = jax.random.split(jax.random.fold_in(key, 1), size)
    return jax.vmap(
        lambda k: jax.tree.map(
            lambda x: (
                x + 0.01 * jax.random.normal(jax.random.fold_in(k, x.size), x.shape)
            ),
            base,
        )
    )(keys)


def cell_section(task_name: str, pop: int, n_tasks: int, reps: int) -> list[dict]:
    import jax
    import jax.numpy as jnp

    from hebbjax.models import make_model
    from hebbjax.tasks import make_task

    task = make_task(task_name)
    steps = 30
    xs = jax.random.normal(jax.random.key(3), (n_tasks, steps, task.n_in), jnp.float32)
    fns, meta = {}, {}
    for name, plastic in CELL_MODELS:
        model = make_model(name, n_in=task.n_in, n_out=task.n_out)
        params = population(model, pop, jax.random.key(0))

        def lifetime(p, x_seq, model=model, plastic=plastic):
            def body(memory, x):
                out, memory = model.step(p, memory, x, plastic)
                return memory, out

            _, outs = jax.lax.scan(body, model.init_memory(p, jax.random.key(0)), x_seq)
            return outs.sum()

        run = jax.jit(jax.vmap(jax.vmap(lifetime, (None, 0)), (0, None)))
        label = f"{name} ({'plastic' if plastic else 'frozen'})"
        fns[label] = lambda run=run, params=params: run(params, xs)
        meta[label] = dict(model=name, plastic=plastic)
    rows = []
    agent_steps = pop * n_tasks * steps
    for label, t in timed(fns, reps).items():
        rows.append(
            meta[label]
            | t
            | dict(
                section="cell",
                variant=label,
                task=task_name,
                agent_steps=agent_steps,
                msteps_per_s=agent_steps / t["median_s"] / 1e6,
                us_per_lifetime_step=t["median_s"] / agent_steps * 1e6,
            )
        )
    return rows


def lifetime_section(
    task_name: str, model_name: str, pop: int, n_tasks: int, blocks, reps: int
) -> list[dict]:
    import jax
    import numpy as np

    from hebbjax.models import make_model
    from hebbjax.parallel import blocked_vmap
    from hebbjax.tasks import make_task

    task = make_task(task_name)
    model = make_model(model_name, n_in=task.n_in, n_out=task.n_out)
    params = population(model, pop, jax.random.key(0))
    task_params = jax.vmap(task.sample_params)(
        jax.random.split(jax.random.key(1), n_tasks)
    )
    keys = jax.random.split(jax.random.key(2), (n_tasks, 1))
    lifetime = task.lifetime(model)
    over_tasks = jax.vmap(jax.vmap(lifetime, (None, None, 0)), (None, 0, 0))
    fns = {}
    for block in blocks:
        rows = None if block is None else max(1, block // n_tasks)
        run = jax.jit(blocked_vmap(over_tasks, (0, None, None), batch_size=rows))
        label = "all at once" if block is None else f"blocks of {rows * n_tasks}"
        fns[label] = lambda run=run: run(params, task_params, keys)
    steps = int(np.asarray(jax.device_get(next(iter(fns.values()))().steps)).sum())
    out = []
    timings = timed(fns, reps)
    base = timings.get("all at once")
    for label, t in timings.items():
        out.append(
            t
            | dict(
                section="lifetime",
                variant=label,
                task=task_name,
                model=model_name,
                agent_steps=steps,
                msteps_per_s=steps / t["median_s"] / 1e6,
                speedup_vs_all_at_once=(
                    None if base is None else base["median_s"] / t["median_s"]
                ),
                cpu_speedup_vs_all_at_once=(
                    None if base is None else base["median_cpu_s"] / t["median_cpu_s"]
                ),
            )
        )
    return out


#: (label, model layout, task block_lifetimes): the settings before and after issue 17's
#: speed work, side by side in one run
GENERATION_VARIANTS = (
    ("before: post-major, one batch", "post-major", None),
    ("after: pre-major, blocks of 64", "pre-major", 64),
)


def generation_section(
    task_name: str, model_name: str, pop: int, n_tasks: int, reps: int
) -> list[dict]:
    """Whole ``eprnn-es`` generations (ask, lifetimes, tell) and ask + tell alone, under
    the settings of ``GENERATION_VARIANTS``, interleaved."""
    import jax
    import jax.numpy as jnp

    from hebbjax.evolution.loop import make_generation_step
    from hebbjax.evolution.strategies import make_strategy
    from hebbjax.models import make_model
    from hebbjax.parallel import local_mesh
    from hebbjax.tasks import make_task

    fns, states, steps = {}, {}, {}
    for label, layout, block in GENERATION_VARIANTS:
        task = make_task(task_name, block_lifetimes=block)
        model = make_model(model_name, n_in=task.n_in, n_out=task.n_out, layout=layout)
        init = model.init_params(jax.random.key(0))
        es, es_params = make_strategy("eprnn-es", pop, init)
        step = make_generation_step(
            es, es_params, model, task, n_tasks, 1, local_mesh()
        )
        states[label] = es.init(jax.random.key(0), init, es_params)

        def run(label=label, step=step):
            states[label], metrics = step(states[label], jax.random.key(1))
            steps[label] = metrics["env_steps"]
            return metrics

        fns[label] = run
    # ask + tell alone (the same in both variants)
    at_state = [es.init(jax.random.key(0), init, es_params)]

    @jax.jit
    def ask_tell(state, key):
        population, state = es.ask(key, state, es_params)
        rows = jax.tree.leaves(population)[0].reshape(pop, -1)
        state, _ = es.tell(key, population, jnp.sum(rows[:, :8], 1), state, es_params)
        return state

    def run_ask_tell():
        at_state[0] = ask_tell(at_state[0], jax.random.key(2))
        return at_state[0]

    fns["ask + tell alone"] = run_ask_tell
    timings = timed(fns, reps)
    base = timings[GENERATION_VARIANTS[0][0]]
    out = []
    for label, t in timings.items():
        n = int(steps[label]) if label in steps else None
        out.append(
            t
            | dict(
                section="generation",
                variant=label,
                task=task_name,
                model=model_name,
                agent_steps=n,
                msteps_per_s=None if n is None else n / t["median_s"] / 1e6,
                speedup_vs_all_at_once=base["median_s"] / t["median_s"],
                cpu_speedup_vs_all_at_once=base["median_cpu_s"] / t["median_cpu_s"],
            )
        )
    return out


def markdown(rows: list[dict], header: str) -> str:
    lines = [header, ""]
    for section in ("cell", "lifetime", "generation"):
        part = [r for r in rows if r["section"] == section]
        if not part:
            continue
        if section == "cell":
            ref = next(r for r in part if r["variant"] == "eprnn (frozen)")
            ref_wall, ref_cpu = ref["median_s"], ref["median_cpu_s"]
            lines += [
                "### 1. `model.step` alone (30 steps, no environment)",
                "",
                "| task | variant | agent steps | median s (CPU s) | M steps/s "
                "| us per lifetime-step | x EPRNN frozen (CPU) |",
                "|---|---|---|---|---|---|---|",
            ]
            for r in part:
                lines.append(
                    f"| {r['task']} | {r['variant']} | {r['agent_steps']:,} "
                    f"| {r['median_s']:.3f} ({r['median_cpu_s']:.3f}) "
                    f"| {r['msteps_per_s']:.2f} | {r['us_per_lifetime_step']:.3f} "
                    f"| {r['median_s'] / ref_wall:.2f} "
                    f"({r['median_cpu_s'] / ref_cpu:.2f}) |"
                )
        else:
            lines += [
                "",
                "### 2. the task's lifetime, all at once vs cache-sized blocks"
                if section == "lifetime"
                else "### 3. whole eprnn-es generations, before vs after (and ask + tell)",
                "",
                "| task | model | variant | agent steps | median s (CPU s) | M steps/s "
                "| speed-up vs "
                + ("all at once" if section == "lifetime" else "before")
                + " (CPU) |",
                "|---|---|---|---|---|---|---|",
            ]
            for r in part:
                up, up_cpu = (
                    r["speedup_vs_all_at_once"],
                    r["cpu_speedup_vs_all_at_once"],
                )
                speedup = "" if up is None else f"{up:.2f} ({up_cpu:.2f})"
                lines.append(
                    f"| {r['task']} | {r['model']} | {r['variant']} "
                    f"| {r['agent_steps'] or 0:,} | {r['median_s']:.3f} "
                    f"({r['median_cpu_s']:.3f}) | {r['msteps_per_s'] or 0:.2f} "
                    f"| {speedup} |"
                )
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--population", type=int, default=398)
    parser.add_argument("--reps", type=int, default=7)
    parser.add_argument(
        "--blocks", default="none,16,32,64,128,256,512", help="lifetimes per block"
    )
    parser.add_argument("--sections", default="cell,lifetime,generation")
    parser.add_argument("--maze", action="store_true", help="also the maze sweep")
    parser.add_argument(
        "--single-thread",
        action="store_true",
        help="XLA without its Eigen thread pool (--xla_cpu_multi_thread_eigen=false)",
    )
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args(argv)
    os.environ.setdefault("HEBBJAX_CPU_DEVICES", "1")
    if args.single_thread:
        flags = os.environ.get("XLA_FLAGS", "")
        os.environ["XLA_FLAGS"] = f"{flags} --xla_cpu_multi_thread_eigen=false"
    from hebbjax.cli import use_all_cpu_cores

    use_all_cpu_cores()
    import jax

    blocks = [None if b == "none" else int(b) for b in args.blocks.split(",")]
    sections = args.sections.split(",")
    rows: list[dict] = []
    load0 = os.getloadavg()[0]
    t0 = time.perf_counter()
    if "cell" in sections:
        rows += cell_section("seqpred-l1-k10-n20", args.population, 16, args.reps)
    if "lifetime" in sections:
        for task_name, n_tasks in (("seqpred-l1-k10-n20", 16), ("wrnav-noise0.01", 4)):
            rows += lifetime_section(
                task_name, "eprnn", args.population, n_tasks, blocks, args.reps
            )
        if args.maze:
            rows += lifetime_section(
                "maze", "decprnn-postdn", args.population // 4, 8, blocks, args.reps
            )
    if "generation" in sections:
        for task_name, n_tasks in (("seqpred-l1-k10-n20", 16), ("wrnav-noise0.01", 4)):
            for model_name in ("eprnn", "es-rnn", "es-lstm"):
                rows += generation_section(
                    task_name, model_name, args.population, n_tasks, args.reps
                )
    header = (
        f"## EPRNN speed on {jax.device_count()} XLA CPU device(s), "
        f"P = {args.population}, {args.reps} reps (median), XLA_FLAGS "
        f"`{os.environ.get('XLA_FLAGS', '').strip()}`; load average "
        f"{load0:.1f} -> {os.getloadavg()[0]:.1f} over {time.perf_counter() - t0:.0f} s"
    )
    args.out.mkdir(parents=True, exist_ok=True)
    from hebbjax.checkpoint import atomic_write_bytes

    text = markdown(rows, header)
    atomic_write_bytes(args.out / "speed.json", json.dumps(rows, indent=1).encode())
    atomic_write_bytes(args.out / "speed.md", text.encode())
    print(text)


if __name__ == "__main__":
    main()

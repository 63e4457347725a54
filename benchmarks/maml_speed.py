"""ES-MAML's once-per-lifetime inner loop under ``vmap``: ``batch_cond`` against ``lax.cond``.

ES-MAML (Song et al. 2019, as Wang et al.'s EPRNN paper runs it, Sec. 4.2) adapts its network
with four gradient steps at the first TEST step of a lifetime. Written as ``lax.cond`` in the
single-lifetime step, batching turns it into a ``select`` and the inner loop runs at every
TEST step of every lifetime (the wheeled robot: 101 of them). ``hebbjax.batch_cond`` branches
on whether any lifetime of the batch needs it. This benchmark evaluates one generation's
population (P genomes x the queue's tasks per generation, the blocked default evaluator on
every device) both ways, interleaved, and checks that the fitnesses agree.

    python -m benchmarks.maml_speed [--population 398] [--reps 3]

Writes ``benchmarks/results/eprnn/maml_speed.{json,md}``.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

from benchmarks import write_report
from benchmarks.eprnn_speed import population, timed

OUT = Path(__file__).resolve().parent / "results" / "eprnn"
TASKS = (("seqpred-l1-k10-n20", 16), ("wrnav-noise0.01", 4))


def plain_cond(pred, true_fn, false_fn, *operands):
    """The code before ``batch_cond``: a ``lax.cond`` (a select under ``vmap``)."""
    import jax

    return jax.lax.cond(pred, true_fn, false_fn, *operands)


def evaluator(task_name: str, size: int, n_tasks: int, cond):
    """``fn() -> fitness`` of ``size`` ES-MAML genomes on ``n_tasks`` tasks, with the
    model's inner-loop branch written with ``cond``."""
    import importlib

    import jax

    from hebbjax.models import make_model
    from hebbjax.parallel import local_mesh
    from hebbjax.rollout import population_evaluator
    from hebbjax.tasks import make_task

    module = importlib.import_module("hebbjax.models.es_maml")
    task = make_task(task_name)
    saved = module.batch_cond
    module.batch_cond = cond  # read when the step is traced, i.e. at the first call
    try:
        model = make_model("es-maml", n_in=task.n_in, n_out=task.n_out)
        params = population(model, size, jax.random.key(0))
        mazes = jax.vmap(task.sample_params)(
            jax.random.split(jax.random.key(1), n_tasks)
        )
        keys = jax.random.split(jax.random.key(2), (n_tasks, 1))
        run = jax.jit(population_evaluator(model, task, local_mesh()))
        compiled = run.lower(params, mazes, keys).compile()
    finally:
        module.batch_cond = saved
    return lambda: compiled(params, mazes, keys).fitness


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--population", type=int, default=398)
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args(argv)
    from hebbjax.cli import use_all_cpu_cores

    use_all_cpu_cores()
    import jax
    import numpy as np

    from hebbjax.batch_cond import batch_cond

    load0, t0 = os.getloadavg()[0], time.perf_counter()
    rows = []
    for task_name, n_tasks in TASKS:
        fns = {
            "lax.cond (select)": evaluator(
                task_name, args.population, n_tasks, plain_cond
            ),
            "batch_cond": evaluator(task_name, args.population, n_tasks, batch_cond),
        }
        times = timed(fns, args.reps)
        before, after = (np.asarray(fn()) for fn in fns.values())
        base = times["lax.cond (select)"]["median_s"]
        for name, t in times.items():
            rows.append(
                dict(
                    task=task_name,
                    variant=name,
                    lifetimes=args.population * n_tasks,
                    speedup=base / t["median_s"],
                    max_abs_fitness_difference=float(np.max(np.abs(after - before))),
                    identical=bool(np.array_equal(after, before)),
                    **t,
                )
            )
            print(json.dumps(rows[-1]), flush=True)
    lines = [
        f"## ES-MAML: one generation's evaluation, {jax.device_count()} XLA CPU "
        f"device(s), P = {args.population}, median of {args.reps} interleaved "
        f"calls; load average {load0:.1f} -> {os.getloadavg()[0]:.1f} over "
        f"{time.perf_counter() - t0:.0f} s (`python -m benchmarks.maml_speed`, "
        f"{time.strftime('%Y-%m-%d %H:%M')})",
        "",
        "| task | inner-loop branch | lifetimes | median s (CPU s) | first call s "
        "| speed-up | fitness: max abs difference |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['task']} | {r['variant']} | {r['lifetimes']:,} "
            f"| {r['median_s']:.3f} ({r['median_cpu_s']:.3f}) "
            f"| {r['first_call_s']:.1f} | {r['speedup']:.1f}x "
            f"| {r['max_abs_fitness_difference']:.2g} |"
        )
    write_report(args.out, "maml_speed", rows, lines)


if __name__ == "__main__":
    main()

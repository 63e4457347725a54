"""The shared noise table against fresh threefry normals (issues 17 and 19).

At the EPRNN sizes (P = 398: 199 pairs x 37,317 genes for EPRNN on sequence prediction,
41,670 on the wheeled robot, 14,789 for ES-LSTM) the outer loop's noise draw is most of
ask + tell: 199 x D threefry normals every generation (398 x D for sep-CMA-ES).
``noise="table"`` (Salimans et al. 2017, Sec. 2.1) reads each pair's normals from one table
of 2^24 normals drawn once, at one random offset per pair. This benchmark times, side by
side in one run (interleaved calls, medians), ask + tell alone (random fitness) and the whole
generation (``evolution.loop.make_generation_step``: ask, the evaluation on every device,
tell) with each noise source, for the models and tasks of the EPRNN tables at the queue's
tasks per generation, with ``eprnn-es`` and with the evosax presets ``openai-es`` and
``sep-cma-es``; and Palm et al.'s ``gmm-es`` on the ant (P = 200, rho = 64, 5-s spring
lifetimes: ``benchmarks.asktell``'s case), whose noise is P x N x K normals for the rules.

    python -m benchmarks.noise_table [--reps 7]

Writes ``benchmarks/results/eprnn/noise_table.{json,md}``.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

from benchmarks import write_report
from benchmarks.asktell import ASKTELL_CASES
from benchmarks.eprnn_speed import timed

OUT = Path(__file__).resolve().parent / "results" / "eprnn"
#: strategy and ``benchmarks.asktell`` case: (task, model, population (None: --population),
#: tasks per generation (the queue's), repeats, task options, strategy options)
CASES = (
    ("eprnn-es", ("seqpred-l1-k10-n20", "eprnn", None, 16, 1, {}, {})),
    ("eprnn-es", ("seqpred-l1-k10-n20", "es-lstm", None, 16, 1, {}, {})),
    ("eprnn-es", ("wrnav-noise0.01", "eprnn", None, 4, 1, {}, {})),
    ("openai-es", ("seqpred-l1-k10-n20", "eprnn", None, 16, 1, {}, {})),
    ("sep-cma-es", ("seqpred-l1-k10-n20", "eprnn", None, 16, 1, {}, {})),
    ("gmm-es", ASKTELL_CASES["gmm-es"]),
)
NOISES = ("threefry", "table")


def runners(strategy: str, case: tuple, noise: str):
    """``(ask_tell, generation, genes)``: thunks that advance their own state one step
    (``benchmarks.asktell``'s), and the genome's size."""
    import jax

    from benchmarks.asktell import ask_tell_runner, case_setup, generation_runner

    task, model, population, n_tasks, reps, task_kw, es_kw = case
    case = (task, model, population, n_tasks, reps, task_kw, es_kw | {"noise": noise})
    setup, state, mesh = case_setup(strategy, case)
    keys = (jax.random.key(i) for i in range(10**6))
    return (
        ask_tell_runner(setup, state, mesh, population, keys),
        generation_runner(setup, state, mesh, n_tasks, reps, keys),
        setup.es.num_dims,
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--population", type=int, default=398)
    parser.add_argument("--reps", type=int, default=7)
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args(argv)
    from hebbjax.cli import use_all_cpu_cores

    use_all_cpu_cores()
    import jax

    load0, t0 = os.getloadavg()[0], time.perf_counter()
    rows = []
    for strategy, case in CASES:
        task, model, population, n_tasks = case[:4]
        population = population or args.population
        case = (task, model, population, *case[3:])
        fns, dims = {}, 0
        for noise in NOISES:
            a, g, dims = runners(strategy, case, noise)
            fns[f"{noise}/ask+tell"], fns[f"{noise}/generation"] = a, g
        times = timed(fns, args.reps)
        for part in ("ask+tell", "generation"):
            base = times[f"threefry/{part}"]["median_s"]
            for noise in NOISES:
                t = times[f"{noise}/{part}"]
                rows.append(
                    dict(task=task, model=model, strategy=strategy, n_gene=dims, part=part, noise=noise,
                         population=population, tasks_per_generation=n_tasks,
                         speedup=base / t["median_s"], **t)
                )  # fmt: skip
                print(json.dumps(rows[-1]), flush=True)
    lines = [
        f"## Strategy noise: shared table vs threefry, {jax.device_count()} XLA CPU "
        f"device(s), P per row (--population {args.population}), median of {args.reps} interleaved calls; "
        f"load average {load0:.1f} -> {os.getloadavg()[0]:.1f} over "
        f"{time.perf_counter() - t0:.0f} s (`python -m benchmarks.noise_table`, "
        f"{time.strftime('%Y-%m-%d %H:%M')})",
        "",
        "| task | model | strategy | P | genes | part | noise | median s (CPU s) "
        "| first call s | speed-up |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['task']} | {r['model']} | {r['strategy']} | {r['population']} "
            f"| {r['n_gene']:,} | {r['part']} "
            f"| {r['noise']} "
            f"| {r['median_s']:.3f} ({r['median_cpu_s']:.3f}) | {r['first_call_s']:.1f} "
            f"| {r['speedup']:.2f}x |"
        )
    write_report(args.out, "noise_table", rows, lines)


if __name__ == "__main__":
    main()

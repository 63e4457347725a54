"""Ending the scored rollout at its cap against stepping it to 200, side by side (issue 16).

The 9x9 hour (``--preset hour``) scores rollout 3 only when it reaches the goal within 40
steps (to generation 1,500), then 25 (to 4,000): every step of rollout 3 after the cap is
computed and cannot change the fitness. The maze task's ``stop_at_cap`` ends the rollout
there (``tasks/maze_fitness.check_stop_at_cap``). This script evaluates the hour's capped
population shapes (128 genomes x 8 mazes at cap 40, x 16 and x 32 at cap 25), pooled as
training pools them, with the option off and on, interleaved, medians of ``--repeats``
calls after a first (compiling) call, and checks that the fitness is the same bit for bit.
The genomes are drawn (sigma 0.03, the hour's step size there) around a random genome and
around final mean genomes of the hour's runs (``--runs``): a returner on short paths (seed
2), one on long paths (seed 0) and the explorer of the 40-step hour.

    python -m benchmarks.stop_at_cap [--repeats 5]

Writes ``benchmarks/results/stop_at_cap.{json,md}``.
"""

from __future__ import annotations

import argparse
import functools
from pathlib import Path

from benchmarks.compaction import interleaved, population_around

OUT = Path(__file__).resolve().parent / "results"
RUNS = OUT / "time_to_quality" / "runs"
#: label -> the run whose final mean genome the population is drawn around (None: random)
CENTRES = {
    "random": None,
    "seed 0 cap 25 (returns in 45 steps)": "maze9-hour-s0-cap25",
    "seed 2 cap 25 (returns in 22 steps)": "maze9-hour-s2-cap25",
    "40-step explorer (within-40 seed 0)": "maze9-sep-cma-es-hour-within40",
}
#: the hour's capped phases: (mazes per generation, cap)
SHAPES = ((8, 40), (16, 25), (32, 25))
SIGMA = 0.03


def rows(repeats: int, runs: Path) -> list[dict]:
    import jax
    import numpy as np
    from jax.flatten_util import ravel_pytree

    from hebbjax.models import load_genome, make_model
    from hebbjax.parallel import local_mesh
    from hebbjax.rollout import population_evaluator
    from hebbjax.tasks import make_task

    mesh = local_mesh()
    model = make_model("decprnn-postdn")
    random, unravel = ravel_pytree(model.init_params(jax.random.key(5)))
    out = []
    for label, run in CENTRES.items():
        if run is None:
            centre = random
        else:
            genome = load_genome(runs / run / "mean_genome.npz", model, "npz")
            centre = ravel_pytree(genome)[0]
        population = population_around(centre, unravel, SIGMA, 128)
        for n_t, cap in SHAPES:
            mazes = jax.vmap(make_task("maze9").sample_params)(
                jax.random.split(jax.random.key(2), n_t)
            )
            keys = jax.random.split(jax.random.key(3), (n_t, 1))
            calls = {}
            for stop in (False, True):
                task = make_task("maze9", score_within=cap, stop_at_cap=stop)
                evaluate = jax.jit(population_evaluator(model, task, mesh))
                calls[stop] = functools.partial(evaluate, population, mazes, keys)
            firsts, times, results = interleaved(calls, repeats)
            full, stopped = results[False], results[True]
            steps = {s: np.asarray(r.steps).sum(-1).mean() for s, r in results.items()}
            out.append(
                dict(
                    genome=label,
                    mazes=n_t,
                    cap=cap,
                    same_fitness=bool(np.array_equal(full.fitness, stopped.fitness)),
                    fitness_mean=float(np.mean(full.fitness)),
                    lifetime_steps=[float(steps[False]), float(steps[True])],
                    rollout3_steps=[
                        float(np.asarray(r.steps)[..., 2].mean())
                        for r in (full, stopped)
                    ],
                    median_s=[float(np.median(times[s])) for s in (False, True)],
                    first_call_s=[firsts[False], firsts[True]],
                    times_s=[times[False], times[True]],
                )
            )
            print(_line(out[-1]), flush=True)
    return out


def _line(row: dict) -> str:
    full, stopped = row["median_s"]
    return (
        f"| {row['genome']} | 128 x {row['mazes']}, cap {row['cap']} | "
        f"{row['fitness_mean']:+.3f} | {'yes' if row['same_fitness'] else '**no**'} | "
        f"{row['rollout3_steps'][0]:.1f} -> {row['rollout3_steps'][1]:.1f} | "
        f"{row['lifetime_steps'][0]:.0f} -> {row['lifetime_steps'][1]:.0f} | "
        f"{full:.3f} | {stopped:.3f} | {full / stopped:.2f}x | "
        f"{row['first_call_s'][0]:.1f} / {row['first_call_s'][1]:.1f} |"
    )


def markdown(report: dict) -> str:
    lines = [
        "# Ending the scored rollout at its cap (`stop_at_cap`, issue 16)",
        "",
        f"Written {report['written']} by `python -m benchmarks.stop_at_cap` on "
        f"{report['devices']} host devices, load average {report['load']:.1f} at the "
        f"start; medians of {report['repeats']} interleaved calls after a first call "
        "(compile + run, its own column). DecPRNN(PostDN) on 9x9 mazes, populations "
        f"of 128 drawn with sigma {SIGMA} around each genome, pooled as in training "
        "(`compact=all`, pools of 32).",
        "",
        "| genome | shape | mean fitness | same fitness | rollout-3 steps | "
        "lifetime steps | stepped to 200 (s) | stopped at cap (s) | speed-up | "
        "first call (s) |",
        "|---|---|---|---|---|---|---|---|---|---|",
        *(_line(row) for row in report["rows"]),
        "",
    ]
    return "\n".join(lines)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--runs", type=Path, default=RUNS)
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args(argv)
    if args.repeats < 1:
        parser.error(f"--repeats must be >= 1, got {args.repeats}")
    missing = [
        r for r in CENTRES.values() if r and not (args.runs / r).is_dir()
    ]  # the runs come with benchmarks.carry restore
    if missing:
        parser.error(
            f"--runs {args.runs}: no run {', '.join(missing)} "
            "(python -m benchmarks.carry restore)"
        )

    from benchmarks import start_report, write_report

    report = start_report(args.repeats)
    report["rows"] = rows(args.repeats, args.runs)
    write_report(args.out, "stop_at_cap", report, markdown(report).splitlines())


if __name__ == "__main__":
    main()

"""How much of a blocked evaluation is spent on lifetimes that have already ended (issue 19).

``rollout.population_evaluator`` walks each device's share in blocks of about
``block_lifetimes`` lifetimes (one genome's n_t x repeats lifetimes in the paper preset); a
block's loop runs until its slowest lifetime ends, and the lifetimes that ended earlier are
stepped and masked until then. This script counts, for one paper-preset generation
(population 360 around a genome, sigma 0.01, 8 mazes x 4 repeats), the agent-steps the
lifetimes need against the steps their blocks run:

    waste = 1 - sum(lifetime steps) / sum over blocks(block lifetimes x its longest lifetime)

for a random genome (every lifetime runs to the step limit) and for the released
DecPRNN(PostDN) genome (many reach the goal early), on 15x15 and 9x9 mazes. The waste is what
compaction inside a block (refilling a finished lifetime's slot with the next lifetime) could
save at most.

    python -m benchmarks.block_waste [--genome ../shared/fixtures/decprnn_postdn_paper_genome.npy]

Writes ``benchmarks/results/block_waste.{json,md}``. Counts steps; no timing.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from benchmarks import write_report

OUT = Path(__file__).resolve().parent / "results"
GENOME = (
    Path(__file__).resolve().parents[2]
    / "shared/fixtures/decprnn_postdn_paper_genome.npy"
)


def waste(
    task_name: str, genome, label: str, population: int, n_tasks: int, repeats: int
):
    import jax
    import numpy as np
    from jax.flatten_util import ravel_pytree

    from hebbjax.models import load_genome, make_model
    from hebbjax.rollout import population_evaluator
    from hebbjax.tasks import make_task

    task = make_task(task_name)
    model = make_model("decprnn-postdn")
    mean = (
        model.init_params(jax.random.key(0))
        if genome is None
        else load_genome(genome, model)
    )

    flat, unravel = ravel_pytree(mean)
    pop = jax.vmap(lambda k: unravel(flat + 0.01 * jax.random.normal(k, flat.shape)))(
        jax.random.split(jax.random.key(1), population)
    )
    mazes = jax.vmap(task.sample_params)(jax.random.split(jax.random.key(2), n_tasks))
    keys = jax.random.split(jax.random.key(3), (n_tasks, repeats))
    result = jax.jit(population_evaluator(model, task))(pop, mazes, keys)
    steps = np.asarray(result.steps).reshape(population, n_tasks * repeats, -1).sum(-1)
    per_block = n_tasks * repeats  # lifetimes of one genome = one block (block 32)
    needed = int(steps.sum())
    run = int((steps.max(axis=1) * per_block).sum())
    limit = int(
        np.asarray(result.steps).shape[-1] * task.settings.get("max_steps", 200)
    )
    return dict(
        task=task_name,
        genome=label,
        block_lifetimes=per_block,
        mean_lifetime_steps=float(steps.mean()),
        block_steps_per_lifetime=run / steps.size,
        step_limit=limit,
        waste=1 - needed / run,
        waste_without_early_stop=1 - needed / (limit * steps.size),
    )


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--genome", type=Path, default=GENOME)
    p.add_argument("--out", type=Path, default=OUT)
    args = p.parse_args(argv)
    rows = []
    for task_name in ("maze15", "maze9"):
        for label, genome in (("random", None), ("released", args.genome)):
            row = waste(task_name, genome, label, 360, 8, 4)
            print(json.dumps(row), flush=True)
            rows.append(row)
    lines = [
        "# Steps spent on ended lifetimes inside a block (issue 19)",
        "",
        f"Written {time.strftime('%Y-%m-%d %H:%M:%S')} by `python -m benchmarks.block_waste`:"
        " one paper-preset generation (360 genomes around the mean, sigma 0.01, 8 mazes x 4"
        " repeats = 32 lifetimes per genome, one genome per block). Step counts, not timings.",
        "",
        "| task | mean genome | mean lifetime (steps) | steps its block runs | step limit "
        "| waste inside blocks | waste without the blocks' early stop |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['task']} | {r['genome']} | {r['mean_lifetime_steps']:.0f} "
            f"| {r['block_steps_per_lifetime']:.0f} | {r['step_limit']} "
            f"| {r['waste']:.1%} | {r['waste_without_early_stop']:.1%} |"
        )
    write_report(args.out, "block_waste", rows, lines)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

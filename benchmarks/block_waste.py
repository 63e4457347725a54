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

Steps are not time: an ended lifetime in a block costs less than a live one. Its slot's
state is kept by a select (``jnp.where`` over the carry, as ``vmap`` of a ``while_loop``
does), which XLA fuses into the plastic-weight update, and LLVM hoists the slot's flag out
of that fusion's loops (one branch per slot, the machine code shows it), so an ended slot
skips its weight update; the matvecs, environment and the rest run for every slot. The
``cost`` part times one block of 32 lifetimes of one genome (the maze default
``block_lifetimes``) stepped from its start (every slot live) and after all its lifetimes
ended, one device, and turns the step counts into the time share spent on ended lifetimes
(what compaction can save at most):

    time share = w r / ((1 - w) + w r),  w = step waste, r = ended / live step cost

    python -m benchmarks.block_waste [--genome ../shared/fixtures/decprnn_postdn_paper_genome.npy]
        [--parts steps,cost]

Writes ``benchmarks/results/block_waste.{json,md}`` (``--parts`` keeps the other part's
rows).
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


#: the models the cost part times: (registry name, options, label)
COST_MODELS = (
    ("decprnn-postdn", {}, "decprnn-postdn"),
    ("decprnn-postdn", {"plastic_form": "factored"}, "decprnn-postdn, factored"),
    ("prnn-postdn", {}, "prnn-postdn"),
    ("decpdnn-postdn", {}, "decpdnn-postdn"),
    ("meta-lstm", {}, "meta-lstm"),
)


def step_cost(
    name: str, options: dict, label: str, genome, lanes: int, window: int, repeats: int
) -> dict:
    """Seconds per step of one block of ``lanes`` lifetimes of one genome on 9x9 mazes,
    every slot live (from the start) against every slot ended, in the blocked form (the
    carry kept by a select where a lifetime has ended)."""
    import jax
    import jax.numpy as jnp
    import numpy as np

    from hebbjax.compaction import where_lanes
    from hebbjax.models import load_genome, make_model
    from hebbjax.tasks import make_task

    task = make_task("maze9")
    model = make_model(name, **options)
    params = (
        load_genome(genome, model)
        if name == "decprnn-postdn"
        else model.init_params(jax.random.key(0))
    )
    params = model.prepare(params)
    parts = task.lifetime_parts(model)
    advance = jax.vmap(parts.advance, in_axes=(None, 0, 0))
    done = jax.vmap(parts.done)
    keys = jax.random.split(jax.random.key(1), lanes)
    mazes = jax.vmap(task.sample_params)(keys)
    fixed, live = jax.jit(jax.vmap(parts.start, in_axes=(None, 0, 0)))(
        params, mazes, keys
    )

    def kept(c):  # a step of the block: a lifetime that has ended keeps its state
        return where_lanes(~done(c), advance(params, fixed, c), c)

    steps = jax.jit(lambda c: jax.lax.fori_loop(0, window, lambda _, c: kept(c), c))
    finish = jax.jit(lambda c: jax.lax.while_loop(lambda c: ~jnp.all(done(c)), kept, c))
    ended = jax.block_until_ready(finish(live))
    times, warm = {}, {}
    for state, carry in (("live", live), ("ended", ended)):
        warm[state] = jax.block_until_ready(steps(carry))  # also the window's end state
        runs = []
        for _ in range(repeats):
            t0 = time.perf_counter()
            jax.block_until_ready(steps(carry))
            runs.append((time.perf_counter() - t0) / window)
        times[state] = float(np.median(runs))
    return dict(
        part="cost",
        model=label,
        genome="released" if name == "decprnn-postdn" else "random",
        lanes=lanes,
        ended_during_live_window=int(np.sum(np.asarray(done(warm["live"])))),
        live_step_s=times["live"],
        ended_step_s=times["ended"],
        ratio=times["ended"] / times["live"],
    )


def _share(waste_steps: float, ratio: float) -> float:
    return waste_steps * ratio / ((1 - waste_steps) + waste_steps * ratio)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--genome", type=Path, default=GENOME)
    p.add_argument("--out", type=Path, default=OUT)
    p.add_argument("--parts", default="steps,cost", help="steps, cost or both")
    p.add_argument("--repeats", type=int, default=9)
    args = p.parse_args(argv)
    parts = [x for x in args.parts.split(",") if x]
    unknown = sorted(set(parts) - {"steps", "cost"})
    if unknown:
        p.error(f"unknown part(s) {unknown}; valid parts: steps, cost")
    old_path = args.out / "block_waste.json"
    old = json.loads(old_path.read_text()) if old_path.exists() else []
    rows = [r for r in old if r.get("part", "steps") not in parts]
    if "steps" in parts:
        for task_name in ("maze15", "maze9"):
            for label, genome in (("random", None), ("released", args.genome)):
                row = waste(task_name, genome, label, 360, 8, 4)
                row.update(part="steps", written=time.strftime("%Y-%m-%d %H:%M:%S"))
                print(json.dumps(row), flush=True)
                rows.append(row)
    if "cost" in parts:
        import os

        for name, options, label in COST_MODELS:
            row = step_cost(name, options, label, args.genome, 32, 16, args.repeats)
            row.update(
                written=time.strftime("%Y-%m-%d %H:%M:%S"), load=os.getloadavg()[0]
            )
            print(json.dumps(row), flush=True)
            rows.append(row)
    write_report(args.out, "block_waste", rows, report(rows))
    return 0


def report(rows: list[dict]) -> list[str]:
    steps = [r for r in rows if r.get("part", "steps") == "steps"]
    costs = [r for r in rows if r.get("part") == "cost"]
    lines = [
        "# Steps and time spent on ended lifetimes inside a block (issue 19)",
        "",
        "Written by `python -m benchmarks.block_waste`.",
        "",
        "## Steps (`--parts steps`"
        + (f", {steps[0].get('written', '2026-12-03 09:55:47')}" if steps else "")
        + ")",
        "",
        "One paper-preset generation (360 genomes around the mean, sigma 0.01, 8 mazes x 4"
        " repeats = 32 lifetimes per genome, one genome per block). Step counts.",
        "",
        "| task | mean genome | mean lifetime (steps) | steps its block runs | step limit "
        "| waste inside blocks | waste without the blocks' early stop |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in steps:
        lines.append(
            f"| {r['task']} | {r['genome']} | {r['mean_lifetime_steps']:.0f} "
            f"| {r['block_steps_per_lifetime']:.0f} | {r['step_limit']} "
            f"| {r['waste']:.1%} | {r['waste_without_early_stop']:.1%} |"
        )
    if not costs:
        return lines
    w9 = next(
        (
            r["waste"]
            for r in steps
            if (r["task"], r["genome"]) == ("maze9", "released")
        ),
        None,
    )
    lines += [
        "",
        f"## Time (`--parts cost`, {costs[0]['written']}, load {costs[0]['load']:.1f})",
        "",
        f"One block of {costs[0]['lanes']} lifetimes of one genome on 9x9 mazes, one "
        "device, medians of 16-step windows: every slot live (from the lifetimes' start) "
        "against every slot ended. 'time share' is the share of a block's time spent on "
        "ended lifetimes at the step waste above (9x9, released genome: "
        + ("not measured" if w9 is None else f"{w9:.1%}")
        + ").",
        "",
        "| model | genome | live step (us) | ended step (us) | ended / live "
        "| time share at that waste |",
        "|---|---|---|---|---|---|",
    ]
    for r in costs:
        share = "-" if w9 is None else f"{_share(w9, r['ratio']):.1%}"
        lines.append(
            f"| {r['model']} | {r['genome']} | {r['live_step_s'] * 1e6:.1f} "
            f"| {r['ended_step_s'] * 1e6:.1f} | {r['ratio']:.2f} | {share} |"
        )
    return lines


if __name__ == "__main__":
    raise SystemExit(main())

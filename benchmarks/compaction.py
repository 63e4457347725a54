"""Compaction inside a block against the blocked evaluation, side by side (issue 19).

A blocked evaluation (``Task.block_lifetimes``) steps each block of lifetimes until its
slowest lifetime ends; ``benchmarks/block_waste.py`` counted that about half of those steps
go to lifetimes that have already ended once a genome reaches its goals early. The
compacted evaluation (``compaction.compacted``, the maze task's ``compact`` option) keeps a pool
of ``block_lifetimes`` slots and gives a finished lifetime's slot to the next one. This
script times both on the same lifetimes, interleaved, medians of ``--repeats`` calls after
a first (compiling) call, timed separately:

- one genome on the 1,024-maze validation set (``rollout.evaluate``: validation during
  training and ``hebbjax eval``), the released DecPRNN(PostDN) genome, 15x15 and 9x9;
- a population: 64 genomes around the released genome or around a random one (sigma 0.01),
  8 mazes x 4 repeats each (the paper preset's 32 lifetimes per genome), 15x15 and 9x9; and
  the 9x9 hour's earlier shapes, 128 genomes x 8 or 32 mazes;
- the 9x9 hour's last phase (``--preset hour``, generation 4,000 on): 128 genomes around the
  released or a random genome x 256 mazes, blocked against pools of 32 (``compact="all"``,
  the maze default, pools this shape) and of 128 slots.

    python -m benchmarks.compaction [--repeats 5] [--parts set,population,late]

Writes ``benchmarks/results/compaction.{json,md}``.
"""

from __future__ import annotations

import argparse
import functools
import json
import time
from pathlib import Path

OUT = Path(__file__).resolve().parent / "results"
GENOME = (
    Path(__file__).resolve().parents[2]
    / "shared/fixtures/decprnn_postdn_paper_genome.npy"
)


def _timed(call) -> tuple[float, object]:
    import jax

    t0 = time.perf_counter()
    out = jax.block_until_ready(call())
    return time.perf_counter() - t0, out


def interleaved(calls: dict, repeats: int) -> tuple[dict, dict, dict]:
    """``(first, times, outs)`` per key of ``calls``: each call's first (compiling) call,
    then ``repeats`` timed calls taken in turns, so every variant sees the same machine."""
    first = {key: _timed(call)[0] for key, call in calls.items()}
    times: dict = {key: [] for key in calls}
    outs = {}
    for _ in range(repeats):
        for key, call in calls.items():
            t, outs[key] = _timed(call)
            times[key].append(t)
    return first, times, outs


def population_around(centre, unravel, sigma: float, n: int):
    """``n`` genomes drawn with ``sigma`` around the flat genome ``centre`` (key 1)."""
    import jax

    return jax.vmap(
        lambda k: unravel(centre + sigma * jax.random.normal(k, centre.shape))
    )(jax.random.split(jax.random.key(1), n))


def set_rows(genome_path: Path, repeats: int) -> list[dict]:
    import numpy as np

    from hebbjax.models import load_genome, make_model
    from hebbjax.rollout import evaluate, summarize
    from hebbjax.tasks import make_task

    model = make_model("decprnn-postdn")
    genome = load_genome(genome_path, model)
    rows = []
    for name in ("maze15", "maze9"):
        tasks = {mode: make_task(name, compact=mode) for mode in ("off", "sets")}
        calls = {
            mode: functools.partial(evaluate, model, task, genome, "validation")
            for mode, task in tasks.items()
        }
        firsts, times, outs = interleaved(calls, repeats)
        for mode in calls:
            s = summarize(outs[mode])
            rows.append(
                dict(
                    kind="set",
                    task=name,
                    genome="released",
                    compact=mode,
                    first_call_s=firsts[mode],
                    median_s=float(np.median(times[mode])),
                    times_s=times[mode],
                    score=s["score"],
                    goal_rate=s["positive_return_rate"],
                    env_steps=s["env_steps"],
                )
            )
    return rows


#: (maze, genomes, mazes, repeats, the genome the population is drawn around,
#: {label: task options}); the label "off" is the blocked evaluation compared against
POPULATION_CASES = {
    "population": [
        (name, 64, 8, 4, label, {"off": {"compact": "off"}, "all": {"compact": "all"}})
        for name in ("maze15", "maze9")
        for label in ("released", "random")
    ]
    # the 9x9 hour's shapes before its last phase: 128 genomes x 8 and 32 mazes
    + [
        (
            "maze9",
            128,
            n_t,
            1,
            label,
            {
                "off": {"compact": "off"},
                "all": {"compact": "all"},
                "all, 128 slots": {"compact": "all", "block_lifetimes": 128},
            },
        )
        for n_t in (8, 32)
        for label in ("released", "random")
    ],
    "late": [
        (
            "maze9",
            128,
            256,
            1,
            label,
            {
                "off": {"compact": "off"},
                "all (the default)": {"compact": "all"},
                "all, 128 slots": {"compact": "all", "block_lifetimes": 128},
            },
        )
        for label in ("released", "random")
    ],
}


def population_rows(genome_path: Path, repeats: int, part: str) -> list[dict]:
    import jax
    import numpy as np
    from jax.flatten_util import ravel_pytree

    from hebbjax.models import load_genome, make_model
    from hebbjax.parallel import local_mesh
    from hebbjax.rollout import population_evaluator
    from hebbjax.tasks import make_task

    mesh = local_mesh()
    model = make_model("decprnn-postdn")
    released = ravel_pytree(load_genome(genome_path, model))[0]
    random, unravel = ravel_pytree(model.init_params(jax.random.key(5)))
    means = {"released": released, "random": random}
    rows = []
    for name, n_p, n_t, n_r, label, modes in POPULATION_CASES[part]:
        population = population_around(means[label], unravel, 0.01, n_p)
        calls = {}
        for mode, options in modes.items():
            task = make_task(name, **options)
            mazes = jax.vmap(task.sample_params)(
                jax.random.split(jax.random.key(2), n_t)
            )
            keys = jax.random.split(jax.random.key(3), (n_t, n_r))
            run = jax.jit(population_evaluator(model, task, mesh))
            calls[mode] = functools.partial(run, population, mazes, keys)
        firsts, times, outs = interleaved(calls, repeats)
        for mode in calls:
            result = outs[mode]
            rows.append(
                dict(
                    kind="population",
                    shape=f"{n_p} genomes x {n_t} mazes x {n_r} repeats",
                    task=name,
                    genome=label,
                    compact=mode,
                    first_call_s=firsts[mode],
                    median_s=float(np.median(times[mode])),
                    times_s=times[mode],
                    score=float(np.mean(result.fitness)),
                    mean_lifetime_steps=float(np.asarray(result.steps).sum(-1).mean()),
                    env_steps=int(np.asarray(result.steps).sum()),
                )
            )
    return rows


def _groups(rows: list[dict]) -> list[list[dict]]:
    """Rows of one evaluation (the blocked one first), in order."""
    groups: list[list[dict]] = []
    for row in rows:
        key = (row["kind"], row["task"], row["genome"], row.get("shape"))
        if groups and key == groups[-1][0]["key"]:
            groups[-1].append(row)
        else:
            groups.append([{"key": key}, row])
    return [g[1:] for g in groups]


def markdown(report: dict) -> str:
    lines = [
        "# Compaction inside a block against the blocked evaluation (issue 19)",
        "",
        f"Written {report['written']} by `python -m benchmarks.compaction` on "
        f"{report['devices']} host devices, load average {report['load']:.1f} at the "
        "start; medians of interleaved calls after a first call (compile + run, its own "
        "column). DecPRNN(PostDN), `block_lifetimes` 32 (the "
        "maze default: blocks of 32 lifetimes, or a pool of 32 slots per device) unless "
        "the row says otherwise. Parts and when they were measured (the load average is "
        "that of the latest): "
        + "; ".join(
            f"{part} {when} ({_calls(report['rows'], part)} calls)"
            for part, when in report.get("parts_written", {}).items()
        )
        + ".",
        "",
        "| evaluation | maze | genome | compacted | blocked (s) | compacted (s) | "
        "speed-up | first call blocked / compacted (s) | score blocked / compacted |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for blocked, *compacted in _groups(report["rows"]):
        what = (
            "one genome, 1,024 validation mazes"
            if blocked["kind"] == "set"
            else blocked.get("shape", "64 genomes x 8 mazes x 4 repeats")
        )
        for row in compacted:
            lines.append(
                f"| {what} | {blocked['task']} | {blocked['genome']} | "
                f"{row['compact']} | {blocked['median_s']:.3f} | "
                f"{row['median_s']:.3f} | "
                f"{blocked['median_s'] / row['median_s']:.2f}x | "
                f"{blocked['first_call_s']:.1f} / {row['first_call_s']:.1f} | "
                f"{blocked['score']:.4f} / {row['score']:.4f} |"
            )
    lines += [
        "",
        "Scores: each lifetime is the same function of genome, maze and key either way;",
        "a lifetime computed in another batch can differ in the last bit of a batched dot",
        "(XLA chooses the kernel by shape), which a sampled action can amplify, so the",
        "scores agree to sampling noise, not bit for bit.",
        "",
    ]
    return "\n".join(lines)


PARTS = ("set", "population", "late")


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--genome", type=Path, default=GENOME)
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument(
        "--parts",
        default=",".join(PARTS),
        help="which evaluations to time (comma-separated; the others keep the rows "
        f"of the last report): {', '.join(PARTS)}",
    )
    args = parser.parse_args(argv)
    parts = [p for p in args.parts.split(",") if p]
    unknown = sorted(set(parts) - set(PARTS))
    if unknown or not parts:
        parser.error(
            f"--parts {args.parts!r}: unknown {', '.join(unknown) or 'none given'}; "
            f"valid: {', '.join(PARTS)}"
        )
    if args.repeats < 1:
        parser.error(f"--repeats must be >= 1, got {args.repeats}")
    if not args.genome.exists():
        parser.error(f"--genome {args.genome} does not exist")

    from benchmarks import start_report

    report = start_report(args.repeats)

    from hebbjax.checkpoint import atomic_write_bytes

    previous = args.out / "compaction.json"
    old = json.loads(previous.read_text()) if previous.exists() else {"rows": []}
    report["parts_written"] = {}
    for part in PARTS:
        if part not in parts:
            kept = [r for r in old["rows"] if _part_of(r) == part]
            report["rows"] += kept
            if kept:
                report["parts_written"][part] = old.get("parts_written", {}).get(
                    part, old.get("written")
                )
            continue
        report["parts_written"][part] = report["written"]
        if part == "set":
            report["rows"] += [
                dict(r, part=part) for r in set_rows(args.genome, args.repeats)
            ]
        else:
            rows = population_rows(args.genome, args.repeats, part)
            report["rows"] += [dict(r, part=part) for r in rows]
    args.out.mkdir(parents=True, exist_ok=True)
    text = markdown(report)
    atomic_write_bytes(
        args.out / "compaction.json", json.dumps(report, indent=1).encode()
    )
    atomic_write_bytes(args.out / "compaction.md", text.encode())
    print(text)


def _calls(rows: list[dict], part: str) -> int:
    """The timed calls per row of a part."""
    return next(len(r["times_s"]) for r in rows if _part_of(r) == part)


def _part_of(row: dict) -> str:
    """A row's part (rows written before rows named their part: set or population)."""
    return row.get("part") or ("set" if row["kind"] == "set" else "population")


if __name__ == "__main__":
    main()

"""Final genomes scored precisely: several lifetimes on every validation and test maze (issue 16).

The runs of ``time_to_quality.py`` are scored with one lifetime per maze (1,024 validation,
2,048 test mazes): a standard error of 0.006-0.009 near +0.77, as large as the differences
the 9x9 hour's late-phase variants are judged by (and as the distance to the paper's 0.782).
A genome's score is the expected last-rollout return over mazes and the policy's own action
noise; here each maze runs ``--repeats`` lifetimes (one key per maze and repeat, split from
``key(seed)`` as ``hebbjax eval`` does: the same for every genome, common random numbers),
and the table gives

- the score and its standard error over mazes (the per-maze means' spread / sqrt(mazes):
  what the set says of the maze distribution);
- per pair ``A - B`` of ``--pairs``, the mean of the per-maze differences and its standard
  error (same mazes, same keys: the paired comparison the late-phase questions need).

Scores are cached per run and generation in ``precise.json`` (written atomically after each
run): adding runs or pairs re-scores only the runs that trained on since they were scored.

    python -m benchmarks.precise_scores --runs maze9-hour-s1-r2r3 paper --repeats 8
    python -m benchmarks.precise_scores --pairs maze9-hour-s1-r2r3-then-n1024:maze9-hour-s1-r2r3

A run is a time-to-quality run directory name (its final mean genome), ``paper`` (the
released DecPRNN(PostDN) genome) or a ``.npz`` genome file of the Table-1 DecPRNN(PostDN). Writes ``results/time_to_quality/precise.{json,md}``.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

OUT = Path(__file__).resolve().parent / "results" / "time_to_quality"
SETS = ("validation", "test")


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--runs", nargs="*", default=[])
    p.add_argument("--pairs", nargs="*", default=[], metavar="A:B")
    p.add_argument("--repeats", type=int, default=8)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--task", default="maze9")
    p.add_argument("--report-only", action="store_true")
    args = p.parse_args(argv)
    for pair in args.pairs:
        if pair.count(":") != 1:
            p.error(f"--pairs takes A:B, got {pair!r}")
    return args


def generation_of(name: str) -> int | None:
    """The generations a run's final mean has seen (None for a genome file)."""
    if name == "paper" or name.endswith(".npz"):
        return None
    lines = (OUT / "runs" / name / "metrics.jsonl").read_text().strip().splitlines()
    return json.loads(lines[-1])["generation"] + 1


def subject_of(name: str):
    """A run's final mean, the released genome or a genome file, as an analysis
    ``Subject`` (model, genome, training task)."""
    from hebbjax.analysis.sources import from_genome, from_run

    table1 = dict(model_name="decprnn-postdn", model_kwargs={"modulated_scale": 1.0})
    if name == "paper":
        return from_genome("paper:decprnn-postdn", **table1)
    if name.endswith(".npz"):  # a genome file of the Table-1 DecPRNN(PostDN)
        return from_genome(name, **table1)
    return from_run(OUT / "runs" / name, "mean")


def per_maze_scores(name: str, task_name: str, repeats: int, seed: int) -> dict:
    """Per set: the last rollout's return averaged over each maze's lifetimes."""
    import jax
    import numpy as np

    from hebbjax.analysis.sources import task_for
    from hebbjax.rollout import evaluate

    subject = subject_of(name)
    task = task_for(subject, task_name)
    out = dict(generation=generation_of(name), repeats=repeats, seed=seed)
    out["task"] = task_name
    for set_name in SETS:
        result = evaluate(
            subject.model,
            task,
            subject.params,
            set_name,
            jax.random.key(seed),
            repeats=repeats,
        )
        returns = np.asarray(result.returns, np.float64)  # (mazes, repeats, rollouts)
        out[set_name] = dict(
            r3=returns[..., -1].mean(axis=1).round(5).tolist(),
            r1_mean=float(returns[..., 0].mean()),
            goal_rate=float(np.asarray(result.success)[..., -1].mean()),
            steps=[float(s) for s in np.asarray(result.steps).mean((0, 1))],
        )
    return out


def stats(r3) -> tuple[float, float]:
    """Mean and standard error over mazes of per-maze scores (or of per-maze
    differences)."""
    import numpy as np

    per_maze = np.asarray(r3)
    return float(per_maze.mean()), float(per_maze.std(ddof=1) / np.sqrt(per_maze.size))


def report(cache: dict, pairs: list[str]) -> str:
    import numpy as np

    lines = [
        "# Final genomes scored precisely (issue 16)",
        "",
        "Written by `python -m benchmarks.precise_scores`: each genome runs `repeats`",
        "lifetimes on every maze of the 9x9 validation (1,024) and test (2,048) sets, the",
        "same keys for every genome; score = mean last-rollout return, +- its standard",
        "error over mazes. `mean` = the two sets' scores averaged. One lifetime a maze, as",
        "the runs' own validations and `results.md` score, has s.e. 0.006-0.009 here.",
        "",
        "| genome | generation | lifetimes / maze | validation | test | mean | "
        "rollout 1 (val) | steps 1 / 3 (val) | goal rate 3 (val) |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for name, r in cache.items():
        (v, v_se), (t, t_se) = stats(r["validation"]["r3"]), stats(r["test"]["r3"])
        val = r["validation"]
        lines.append(
            f"| {name} | {r['generation'] or '-'} | {r['repeats']} | "
            f"{v:+.4f} +- {v_se:.4f} | {t:+.4f} +- {t_se:.4f} | {(v + t) / 2:+.4f} | "
            f"{val['r1_mean']:+.3f} | {val['steps'][0]:.0f} / {val['steps'][-1]:.1f} | "
            f"{val['goal_rate']:.3f} |"
        )
    if pairs:
        lines += [
            "",
            "Paired differences (per maze, same keys):",
            "",
            "| A - B | validation | test |",
            "|---|---|---|",
        ]
        for pair in pairs:
            a, b = pair.split(":")
            cells = []
            for s in SETS:
                d = stats(np.asarray(cache[a][s]["r3"]) - np.asarray(cache[b][s]["r3"]))
                cells.append(f"{d[0]:+.4f} +- {d[1]:.4f}")
            lines.append(f"| {a} - {b} | {cells[0]} | {cells[1]} |")
    return "\n".join(lines) + "\n"


def main(argv=None) -> None:
    from hebbjax.checkpoint import atomic_write_bytes

    args = parse_args(argv)
    path = OUT / "precise.json"
    saved = json.loads(path.read_text()) if path.is_file() else {}
    cache, pairs = saved.get("scores", {}), saved.get("pairs", [])
    pairs += [p for p in args.pairs if p not in pairs]
    # every run named or already scored: one that trained on since is scored again
    wanted = [*args.runs, *(n for p in pairs for n in p.split(":")), *cache]
    for name in dict.fromkeys(wanted):
        generation = generation_of(name)
        old = cache.get(name)
        if not args.report_only and (
            old is None
            or (old["generation"], old["repeats"]) != (generation, args.repeats)
        ):
            print(f"scoring {name} (generation {generation}) ...", flush=True)
            cache[name] = per_maze_scores(name, args.task, args.repeats, args.seed)
            atomic_write_bytes(
                path, json.dumps(dict(scores=cache, pairs=pairs)).encode()
            )
    atomic_write_bytes(path, json.dumps(dict(scores=cache, pairs=pairs)).encode())
    text = report(cache, pairs)
    atomic_write_bytes(OUT / "precise.md", text.encode())
    print(text)


if __name__ == "__main__":
    main()

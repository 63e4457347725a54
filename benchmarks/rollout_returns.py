"""Within-lifetime learning of time-to-quality runs: the validation return of each rollout.

The paper's score is the last rollout's return (Wang et al. 2022, Table 1: rollout 3 of a
lifetime in a fixed maze), but two genomes with one score can learn differently: the
released genome scores R1/R2/R3 = +0.40/+0.78/+0.80 on the test mazes (it explores, then
returns to the remembered goal), the sep-CMA-ES hour's +0.57/+0.66/+0.68 (it explores fast
and remembers little; ``results/time_to_quality/basins.md``). This table reads every
validation of the named runs (``metrics.jsonl``: the mean genome's return per rollout on the
1,024 validation mazes) and prints R1, R3 and R3 - R1 at equal numbers of lifetimes, so
runs with different fitness weights or step sizes compare on the same axis.

    python -m benchmarks.rollout_returns maze9-sep-cma-es-p128-n8to64-smin0.02 \\
        maze9-sep-cma-es-hour-w-0.5 --at 1 2 4 8 16
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from hebbjax.evolution.run_files import read_metrics

RUNS = Path(__file__).resolve().parent / "results" / "time_to_quality" / "runs"


def read_run(run_dir: Path) -> list[dict]:
    """(lifetimes, generation, per-rollout validation returns) of each validation of a
    run, in order: ``points.jsonl`` gives the lifetimes, ``metrics.jsonl`` the returns."""
    lines = (run_dir / "points.jsonl").read_text().splitlines()
    lifetimes = {
        p["generation"]: p["lifetimes"] for p in map(json.loads, filter(None, lines))
    }
    return [
        dict(
            generation=r["generation"],
            lifetimes=lifetimes[r["generation"]],
            returns=r["validation"]["return_mean"],
        )
        for r in read_metrics(run_dir)
        if "validation" in r and r["generation"] in lifetimes
    ]


def at_lifetimes(rows: list[dict], target: float, window: int = 3) -> dict | None:
    """The mean of the ``window`` validations nearest below ``target`` lifetimes (one
    validation of 1,024 mazes has s.e. about 0.02; the mean genome moves between them);
    None where the run has not reached ``target``."""
    before = [r for r in rows if r["lifetimes"] <= target]
    if not before or rows[-1]["lifetimes"] < target:
        return None
    near = before[-window:]
    n = len(near[0]["returns"])
    mean = [sum(r["returns"][i] for r in near) / len(near) for i in range(n)]
    return dict(generation=near[-1]["generation"], returns=mean)


def table(names: list[str], at: list[float], runs: Path = RUNS) -> list[str]:
    """Markdown rows: per run and lifetime budget, R1 / R3 / R3 - R1 (mean of the last
    three validations at or below that budget)."""
    head = "| run | " + " | ".join(f"{m:g} M: R1 / R3 / R3-R1" for m in at) + " |"
    lines = [head, "|---|" + "---|" * len(at)]
    for name in names:
        rows = read_run(runs / name)
        cells = []
        for m in at:
            hit = at_lifetimes(rows, m * 1e6)
            if hit is None:
                cells.append("-")
                continue
            r1, r3 = hit["returns"][0], hit["returns"][-1]
            cells.append(f"{r1:+.2f} / {r3:+.2f} / {r3 - r1:+.2f}")
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return lines


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.rollout_returns")
    parser.add_argument("runs", nargs="+", help="run names under --dir")
    parser.add_argument(
        "--at", nargs="+", type=float, default=[1, 2, 4, 8, 16], help="M lifetimes"
    )
    parser.add_argument("--dir", type=Path, default=RUNS)
    args = parser.parse_args(argv)
    bad = [a for a in args.at if not 0 < a < 1e4]
    if bad:
        parser.error(
            f"--at takes millions of lifetimes (0 < M < 10,000), got {bad[0]:g}"
            + (f"; did you mean {bad[0] / 1e6:g}?" if bad[0] >= 1e4 else "")
        )
    missing = [n for n in args.runs if not (args.dir / n / "metrics.jsonl").exists()]
    if missing:
        available = sorted(p.parent.name for p in args.dir.glob("*/metrics.jsonl"))
        parser.error(f"no run {missing} under {args.dir}; runs there: {available}")
    print("\n".join(table(args.runs, args.at, args.dir)))


if __name__ == "__main__":
    main()

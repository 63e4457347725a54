"""Where a maze score is lost: third-rollout failures against path length.

The paper's score is the last rollout's return, 1 - 0.01 T on reaching the goal at step T,
else -2 (spec 2.4, 2.6): one failure costs as much as 28 extra steps on each of ten
successes. For the final mean genome of each named time-to-quality run (and the released
genome) this evaluates the 2,048 test mazes and prints, per rollout, the goal rate and the
steps when reached; for rollout 3, how many failures follow a success in rollout 1 or 2
(the goal was found, then lost: memory) or none (exploration), and the score split into the
successes' part and the failures' cost.

    python -m benchmarks.rollout_failures maze9-sep-cma-es-hour-within40 --released
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

RUNS = Path(__file__).resolve().parent / "results" / "time_to_quality" / "runs"


def breakdown(success: np.ndarray, steps: np.ndarray, max_steps: int = 200) -> dict:
    """Statistics of lifetimes' ``success`` and ``steps`` ([N, rollouts])."""
    ok = success > 0
    last, found = ok[:, -1], ok[:, :-1].any(axis=1)
    reached = [steps[ok[:, r], r] for r in range(ok.shape[1])]
    fail_cost = 0.01 * max_steps * (~last).mean()
    return dict(
        n=int(len(ok)),
        goal_rate=ok.mean(axis=0).round(4).tolist(),
        steps_reached_mean=[float(np.mean(s)) if len(s) else None for s in reached],
        last_steps_reached_median=float(np.median(reached[-1]))
        if len(reached[-1])
        else None,
        last_failures=int((~last).sum()),
        last_failures_after_a_success=int((~last & found).sum()),
        last_failures_never_found=int((~last & ~found).sum()),
        successes_part=float(np.where(last, 1 - 0.01 * steps[:, -1], 0).mean()),
        failures_cost=float(fail_cost),
    )


def evaluate_genome(config, genome: str, fmt: str) -> dict:
    import jax

    from hebbjax.evolution.train import build_run
    from hebbjax.models.genome_io import load_genome
    from hebbjax.rollout import evaluate

    setup = build_run(config)
    params = load_genome(genome, setup.model, fmt=fmt)
    result = evaluate(setup.model, setup.task, params, "test", jax.random.key(2))
    n_rollouts = setup.task.n_rollouts
    success = np.asarray(result.success).reshape(-1, n_rollouts)
    steps = np.asarray(result.steps).reshape(-1, n_rollouts)
    return breakdown(success, steps, setup.task.settings["max_steps"])


def row(name: str, b: dict) -> str:
    rates = " / ".join(f"{g:.3f}" for g in b["goal_rate"])
    steps = " / ".join(
        "-" if s is None else f"{s:.1f}" for s in b["steps_reached_mean"]
    )
    score = b["successes_part"] - b["failures_cost"]
    return (
        f"| {name} | {rates} | {steps} | {b['last_steps_reached_median']:.0f} | "
        f"{b['last_failures']} ({b['last_failures_after_a_success']} / "
        f"{b['last_failures_never_found']}) | {b['successes_part']:+.3f} - "
        f"{b['failures_cost']:.3f} = {score:+.3f} |"
    )


def main(argv: list[str] | None = None) -> None:
    import sys

    argv = sys.argv[1:] if argv is None else argv
    parser = argparse.ArgumentParser(prog="python -m benchmarks.rollout_failures")
    parser.add_argument("runs", nargs="*", help="run names under --dir")
    parser.add_argument(
        "--released", action="store_true", help="the released genome too"
    )
    parser.add_argument("--dir", type=Path, default=RUNS)
    parser.add_argument(
        "--out", type=Path, help="also write the table and numbers to OUT.md / OUT.json"
    )
    args = parser.parse_args(argv)
    missing = [n for n in args.runs if not (args.dir / n / "mean_genome.npz").exists()]
    if missing:
        available = sorted(p.parent.name for p in args.dir.glob("*/mean_genome.npz"))
        parser.error(f"no run {missing} under {args.dir}; runs there: {available}")
    if not args.runs and not args.released:
        parser.error("name a run or give --released")
    from hebbjax.config import TrainConfig

    out = {}
    for name in args.runs:
        config = TrainConfig.from_file(args.dir / name / "config.json")
        out[name] = evaluate_genome(
            config, str(args.dir / name / "mean_genome.npz"), "npz"
        )
    if args.released:
        config = TrainConfig(
            task="maze9", model="decprnn-postdn", model_kwargs={"modulated_scale": 1.0}
        )
        out["released genome"] = evaluate_genome(
            config, "paper:decprnn-postdn", "epann"
        )
    lines = [
        "| genome | goal rate R1 / R2 / R3 | steps when reached | R3 median | "
        "R3 failures (after a success / never found) | R3: successes - failures = score |",
        "|---|---|---|---|---|---|",
        *(row(name, b) for name, b in out.items()),
    ]
    print("\n".join(lines))
    if args.out:
        from hebbjax.checkpoint import atomic_write_bytes

        command = "python -m benchmarks.rollout_failures " + " ".join(argv or [])
        head = f"# Third-rollout failures and path lengths (2,048 test mazes)\n\n`{command}`\n\n"
        text = head + "\n".join(lines) + "\n"
        atomic_write_bytes(args.out.with_suffix(".md"), text.encode())
        data = json.dumps(out, indent=1).encode()
        atomic_write_bytes(args.out.with_suffix(".json"), data)


if __name__ == "__main__":
    main()

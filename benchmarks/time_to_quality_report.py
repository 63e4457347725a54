"""The report of ``benchmarks/time_to_quality.py``: ``results.{json,md}`` and ``curves.png``
from the finished experiments' ``final.json`` and the running ones' ``points.jsonl``
(validation score against wall-clock and lifetimes, the first crossing of each target
score, the within-lifetime returns of rollouts 1 and 3)."""

from __future__ import annotations

import json
import time
from pathlib import Path

from benchmarks.time_to_quality_experiments import EXPERIMENTS

PAPER = {"maze9": 0.782, "maze15": 0.271}
#: validation scores whose first crossing is timed, per task (the last: the paper's Table 1)
TARGETS = {"maze9": (0.5, 0.6, 0.7, 0.78), "maze15": (-0.5, -0.25, 0.0, 0.271)}


def reached(points: list[dict], task: str) -> dict[str, dict | None]:
    """For each of the task's targets, the first validation point at or above it."""
    return {
        str(t): next(
            (
                dict(
                    minutes=p["wall_seconds"] / 60,
                    lifetimes=p["lifetimes"],
                    generation=p["generation"],
                    load=p["load"],
                )
                for p in points
                if p["score"] >= t
            ),
            None,
        )
        for t in TARGETS[task]
    }


def _smooth(xs: list[float], k: int = 3) -> list[float]:
    return [sum(xs[max(0, i - k + 1) : i + 1]) / len(xs[max(0, i - k + 1) : i + 1]) for i in range(len(xs))]  # fmt: skip


def _mazes(schedule) -> str:
    """Mazes per generation: ``8``, or ``8 -> 16 (g1500) -> 32 (g3000)`` for a schedule
    (an entry's own task options beside it: ``64 (g4000, score_within=None)``)."""

    def options(entry) -> str:
        opts = entry[2] if len(entry) == 3 else {}
        return "".join(f", {k}={v}" for k, v in opts.items())

    first, *later = schedule
    head = str(first[1]) + (f" ({options(first)[2:]})" if options(first) else "")
    return " -> ".join([head] + [f"{e[1]} (g{e[0]}{options(e)})" for e in later])


def running(out: Path) -> list[dict]:
    """The experiments with validation points but no final result yet (long runs that
    go on in later sessions, ``benchmarks/carry.py``): name, spec and points so far."""
    found = []
    for run_dir in sorted((out / "runs").glob("*/points.jsonl")):
        run_dir = run_dir.parent
        if run_dir.name not in EXPERIMENTS or (run_dir / "final.json").exists():
            continue
        text = (run_dir / "points.jsonl").read_text().splitlines()
        points = [json.loads(x) for x in text if x]
        if points:  # a branch's schedule is its own (config.json), as in final.json
            schedule = json.loads((run_dir / "config.json").read_text())["schedule"]
            spec = EXPERIMENTS[run_dir.name] | {"schedule": schedule}
            found.append(dict(name=run_dir.name, spec=spec, points=points))
    return found


def _population(spec: dict) -> str:
    """The population; a branch's source's first where the branch changed it."""
    source = EXPERIMENTS.get(spec.get("branch_from") or "", {})
    if source and source["population"] != spec["population"]:
        g0 = spec["branch_min_generation"]
        return f"{_population(source)} -> {spec['population']} (g{g0})"
    return str(spec["population"])


def _setup_cells(r: dict) -> str:
    """A report row's first cells: ``| name | strategy options | P x mazes x rep |``."""
    s = r["spec"]
    return (
        f"| {r['name']} | {s['strategy']} {s['strategy_kwargs'] or ''} | "
        f"{_population(s)} x {_mazes(s['schedule'])} x {s['repeats']} |"
    )


def _reach(r: dict) -> str:
    """Minutes to each of the task's target scores (``-`` where not reached)."""
    hit = reached(r["points"], r["spec"]["task"])
    return " / ".join("-" if v is None else f"{v['minutes']:.0f}" for v in hit.values())


def _running_lines(runs: list[dict]) -> list[str]:
    lines = [
        "",
        "## Running (not finished: carried across sessions, `benchmarks/carry.py`)",
        "",
        "| experiment | strategy | P x mazes x rep | gens so far | min so far (mean load) "
        "| M lifetimes | latest val (gen) | best val (gen) | minutes to a score |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in runs:
        pts = r["points"]
        last, best = pts[-1], max(pts, key=lambda p: p["score"])
        load = sum(p["load"] for p in pts) / len(pts)
        lines.append(
            f"{_setup_cells(r)} "
            f"{last['generation']} | {last['wall_seconds'] / 60:.0f} ({load:.1f}) | "
            f"{last['lifetimes'] / 1e6:.2f} | {last['score']:+.3f} ({last['generation']}) | "
            f"{best['score']:+.3f} ({best['generation']}) | {_reach(r)} |"
        )
    return lines


def _rollout_lines(runs: list[dict], run_dirs: Path) -> list[str]:
    """What each run's mean genome learns within a lifetime: validation R1 / R3 / R3 - R1
    at equal lifetimes (``benchmarks/rollout_returns.py``; the paper's score is R3)."""
    from benchmarks.rollout_returns import table

    names = [
        r["name"]
        for r in runs
        if r["spec"]["task"] == "maze9"
        and (run_dirs / r["name"] / "metrics.jsonl").exists()
    ]
    if not names:
        return []
    return [
        "",
        "## Within a lifetime: validation return of rollouts 1 and 3 (9x9)",
        "",
        "The mean genome's return in the first and third rollout on the 1,024 validation "
        "mazes, at equal lifetimes (mean of the last three validations at or below each "
        "budget; `python -m benchmarks.rollout_returns RUN ...`). The released genome: "
        "R1 / R3 +0.40 / +0.80 on the test mazes (explores, then returns); the sep hour's "
        "final genome +0.57 / +0.68 (explores fast, remembers little).",
        "",
        *table(names, [0.5, 1, 2, 4, 8, 16], run_dirs),
    ]


def write_outputs(
    results: list[dict], out: Path, notes: str = "", in_progress: list[dict] = ()
) -> None:
    """``results.{json,md}`` and ``curves.png``: the finished experiments, then the
    ``in_progress`` ones (``running``: in the report and the curves, not the json)."""
    results = [r for r in results if r]
    (out / "results.json").write_text(json.dumps(results, indent=1))
    lines = [
        "# Time to quality: DecPRNN(PostDN), Table-1 variant (modulated_scale=1.0, "
        "r_slot=prev-reward)",
        "",
        f"Written {time.strftime('%Y-%m-%d %H:%M:%S')} by "
        "`python -m benchmarks.time_to_quality`. Clock = wall seconds spent in training "
        "(generations, compiles, validations), over all sessions of a run; load = the "
        "1-minute load average of the 2-core machine (shared) at each validation.",
        "",
        "| experiment | strategy | P x mazes x rep | sigma0 | gens | min (mean load) "
        "| M lifetimes | best val (gen) | final val, 1,024 | final test, 2,048 "
        "| minutes to a score (maze9: 0.5 / 0.6 / 0.7 / 0.78; maze15: -0.5 / -0.25 / "
        "0 / 0.271) |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        s = r["spec"]
        pts = r["points"]
        best = max(pts, key=lambda p: p["score"]) if pts else None
        lines.append(
            f"{_setup_cells(r)} {s['sigma0']} | "
            f"{r['final_generation']} | {r['final_wall_seconds'] / 60:.0f} "
            f"({r['mean_load'] or 0:.1f}) | {r['final_lifetimes'] / 1e6:.2f} | "
            + (f"{best['score']:+.3f} ({best['generation']}) | " if best else "- | ")
            + f"{r['validation_1024']['score']:+.3f} +- {r['validation_1024']['stderr']:.3f}"
            f" | {r['test_2048']['score']:+.3f} +- {r['test_2048']['stderr']:.3f} | "
            f"{_reach(r)} |"
        )
    if in_progress:
        lines += _running_lines(list(in_progress))
    lines += _rollout_lines(results + list(in_progress), out / "runs")
    noise = [
        json.loads(f.read_text()) for f in sorted((out / "runs").glob("*/noise.json"))
    ]
    if noise:
        lines += [
            "",
            "## Selection noise (``--diagnose``)",
            "",
            "The population of a run's last checkpoint, evaluated on two independent draws "
            "of n mazes (common random numbers within a draw, as in training): rank "
            "correlation of the two fitness vectors, overlap of their top halves (0.5 = "
            "chance), population fitness std and the std of a draw-to-draw difference.",
            "",
            "| run | generation | n mazes | Spearman | top-half overlap | fitness mean "
            "| population std | noise std |",
            "|---|---|---|---|---|---|---|---|",
        ]
        for d in noise:
            for n, v in d["by_mazes"].items():
                lines.append(
                    f"| {d['name']} | {d['generation']} | {n} | {v['spearman']:.2f} | "
                    f"{v['top_half_overlap']:.2f} | {v['fitness_mean']:+.3f} | "
                    f"{v['fitness_std']:.3f} | {v['draw_difference_std']:.3f} |"
                )
    if notes:
        lines += ["", notes]
    (out / "results.md").write_text("\n".join(lines) + "\n")

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    curves = results + list(in_progress)
    tasks = sorted({r["spec"]["task"] for r in curves})
    fig, axes = plt.subplots(
        len(tasks), 2, figsize=(13, 4.2 * len(tasks)), squeeze=False
    )
    for row, task in zip(axes, tasks, strict=True):
        for r in curves:
            if r["spec"]["task"] != task or not r["points"]:
                continue
            pts = r["points"]
            scores = _smooth([p["score"] for p in pts])
            ls = "-" if "final_generation" in r else "--"  # dashed: still running
            label = r["name"] + ("" if ls == "-" else " (running)")
            (line,) = row[0].plot(
                [p["wall_seconds"] / 60 for p in pts], scores, lw=1, ls=ls, label=label
            )
            row[1].plot(
                [p["lifetimes"] / 1e6 for p in pts],
                scores,
                lw=1,
                ls=ls,
                color=line.get_color(),
            )
        for ax in row:
            ax.axhline(PAPER[task], color="k", ls=":", lw=1, label="paper Table 1")
            ax.set_ylabel(f"{task} validation score (mean genome, 3-point mean)")
        row[0].axvline(60, color="grey", ls="--", lw=1)
        row[0].set_xlabel("training wall-clock, minutes (shared 2-core machine)")
        row[1].set_xlabel("lifetimes evaluated, millions")
        row[0].legend(fontsize=6)
    fig.tight_layout()
    fig.savefig(out / "curves.png", dpi=100)
    plt.close(fig)

"""``python -m benchmarks`` (``make bench``): hebbjax against the one-core CPU baseline.

Measures, in one run (each part in its own subprocess, see ``benchmarks/throughput.py``):

- this machine's ceilings (matmul FLOP/s, L2 / last-level-cache / main-memory bandwidth) and,
  for each maze model, its cost model (FLOP and bytes per agent-step), its roofline and the
  fraction of it the full inner loop reaches (``benchmarks/roofline.py``, issue 19);
- the plain-numpy baseline's env steps/s on one core (DecPRNN(PostDN), PRNN(PostDN),
  Meta-LSTM), next to the original code's 6,500-7,000 steps/s (spec 5.3);
- hebbjax agent-steps/s of the full inner loop for populations 1..4,096 and the three models,
  compile time apart from run time, on 2 forced host devices and on 1;
- the block size of the population evaluator;
- seconds per generation of the paper preset (360 individuals x 8 mazes x 4 repeats x
  3 rollouts, ``make_generation_step`` with ``paper-cmaes``), from a random mean (lifetimes
  that run to the step limit) and from the released genome (many end early);
- how a generation's cost grows with population, lifetime length and hidden size;
- each outer loop's own cost (``asktell``): ask + tell alone, the evaluation alone and the
  whole generation, for ``paper-cmaes``, ``eprnn-es``, ``sep-cma-es``, ``openai-es``
  (EPRNN genome), ``najarro-es`` and ``gmm-es`` (ant), at their papers' population sizes;
- peak RSS of every part.

Writes ``benchmarks/results/throughput.{json,md,png}`` and prints hebbjax / baseline-per-core
and the roofline table. ``--quick`` is a smoke test of every part (about 2-4 minutes); the
full run takes about 10-15 minutes on an idle 2-core machine. ``--jobs limits,sweep`` runs only
those parts (names: ``JOB_NAMES``) and keeps the other parts of the existing
``throughput.json``, each part stamped with when and how it was measured. The machine may be
shared: every number is a median of repeats, the load average is printed beside them, and the
1-vs-2-device and form comparisons are best read as ratios.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

from benchmarks.throughput_report import (
    JOB_NAMES,
    headline,
    markdown,
    plot,
    summarize,
)

RESULTS = Path(__file__).parent / "results"
MODELS = ("decprnn-postdn", "prnn-postdn", "meta-lstm")
#: the models swept besides DecPRNN(PostDN) (the baseline exists for MODELS only)
OTHER_SWEPT = ("prnn-postdn", "decpdnn-postdn", "meta-lstm", "meta-rnn")

PLANS = {
    "quick": dict(
        limits=["--quick"],
        baseline=["--lifetimes", "2", "--repeats", "1"],
        sweep2=["--populations", "1", "16", "64", "--train-populations", "8"],
        sweep1=["--populations", "64", "--forms", "direct"],
        blocks=["--populations", "64", "--blocks", "16", "0", "--forms", "direct"],
        generation2=["--populations", "16", "--n-tasks", "2", "--task-repeats", "2"],
        generation1=["--populations", "16", "--n-tasks", "2", "--task-repeats", "2"],
        scaling=["--populations", "8", "16", "--rollouts", "1", "--hidden", "32"]
        + ["--n-tasks", "2", "--task-repeats", "1"],
        asktell=["--strategies", "paper-cmaes", "eprnn-es"],
        repeats="1",
    ),
    "full": dict(
        limits=[],
        baseline=["--lifetimes", "30", "--repeats", "3"],
        sweep2=["--populations", "1", "4", "16", "64", "256", "1024", "4096"]
        + ["--train-populations", "512"],
        sweep2_other=["--populations", "1", "16", "256", "1024", "4096"]
        + ["--train-populations", "512"],
        sweep1=["--populations", "64", "1024", "--forms", "direct", "factored"],
        blocks=["--populations", "1024", "--blocks", "8", "16", "32", "128", "0"]
        + ["--forms", "direct", "factored"]
        + ["--models", "decprnn-postdn", "prnn-postdn", "meta-lstm"],
        generation2=["--populations", "360", "--n-tasks", "8", "--task-repeats", "4"]
        + ["--forms", "direct", "factored", "--means", "init", "paper"],
        generation1=["--populations", "360", "--n-tasks", "8", "--task-repeats", "4"],
        scaling=["--populations", "32", "128", "512", "--rollouts", "1", "8"]
        + ["--hidden", "32", "128", "--n-tasks", "4", "--task-repeats", "2"],
        asktell=[],
        repeats="5",
    ),
}


def run_job(job: str, devices: int | None, extra: list[str], log) -> dict:
    """Run one measurement job in a fresh process; return its JSON result."""
    env = dict(os.environ)
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        env[var] = "1"
    if devices is not None:
        flags = env.get("XLA_FLAGS", "").split()
        flags = [f for f in flags if "xla_force_host_platform_device_count" not in f]
        flags.append(f"--xla_force_host_platform_device_count={devices}")
        env["XLA_FLAGS"] = " ".join(flags)
    cmd = [sys.executable, "-m", "benchmarks.throughput", job, *extra]
    label = f"{job} ({devices} device{'s' if devices != 1 else ''})" if devices else job
    print(f"[bench] {label}: {' '.join(extra)}", flush=True)
    t0 = time.perf_counter()
    proc = subprocess.run(
        cmd,
        cwd=Path(__file__).resolve().parents[1],
        env=env,
        capture_output=True,
        text=True,
    )
    log.write(f"$ {label}: {' '.join(cmd)}\n{proc.stderr}\n")
    if proc.returncode != 0:
        raise RuntimeError(f"benchmark job {label} failed:\n{proc.stderr[-3000:]}")
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    result["wall_seconds"] = time.perf_counter() - t0
    result["measured_at"] = time.strftime("%Y-%m-%d %H:%M:%S")  # when it finished
    result["load_average_after"] = os.getloadavg()
    print(f"[bench]   done in {result['wall_seconds']:.0f} s", flush=True)
    return result


def collect(mode: str, parts: list[str], log) -> dict:
    """Run the parts named in ``parts`` (keys of ``JOB_NAMES``); return ``jobs``."""
    plan = PLANS[mode]
    rep = ["--repeats", plan["repeats"]]
    gen_rep = ["--repeats", "3" if mode == "full" else "1"]
    jobs = {}
    if "limits" in parts:
        jobs["limits"] = run_job("limits", 2, plan["limits"] + rep, log)
    if "baseline" in parts:
        jobs["baseline"] = run_job(
            "baseline", None, ["--models", *MODELS, *plan["baseline"]], log
        )
    if "sweep" in parts:
        forms = ["--forms", "direct", "factored"]
        sweeps = [
            run_job(
                "sweep",
                2,
                ["--models", "decprnn-postdn", *plan["sweep2"], *forms] + rep,
                log,
            )
        ]
        others = plan.get("sweep2_other", plan["sweep2"])
        sweeps.append(
            run_job("sweep", 2, ["--models", *OTHER_SWEPT, *others, *forms] + rep, log)
        )
        jobs["sweep_2_devices"] = dict(
            rows=[r for s in sweeps for r in s["rows"]],
            peak_rss_mb=max(s["peak_rss_mb"] for s in sweeps),
            devices=2,
            measured_at=sweeps[-1]["measured_at"],
            load_average_after=sweeps[-1]["load_average_after"],
        )
    if "sweep1" in parts:
        jobs["sweep_1_device"] = run_job("sweep", 1, plan["sweep1"] + rep, log)
    if "blocks" in parts:
        jobs["blocks"] = run_job("blocks", 2, plan["blocks"] + rep, log)
    if "generation" in parts:
        jobs["paper_generation"] = run_job(
            "generation", 2, plan["generation2"] + gen_rep, log
        )
    if "generation1" in parts:
        jobs["paper_generation_1_device"] = run_job(
            "generation", 1, plan["generation1"] + gen_rep, log
        )
    if "scaling" in parts:
        jobs["scaling"] = run_job("scaling", 2, plan["scaling"] + gen_rep, log)
    if "asktell" in parts:
        jobs["ask_tell"] = run_job("asktell", 2, plan["asktell"] + rep, log)
    for job in jobs.values():
        job["mode"] = mode
    return jobs


def parse_parts(text: str | None) -> list[str]:
    """``"limits,sweep"`` -> ["limits", "sweep"]; None -> every part."""
    if text is None:
        return list(JOB_NAMES)
    parts = [p.strip() for p in text.split(",") if p.strip()]
    unknown = [p for p in parts if p not in JOB_NAMES]
    if unknown or not parts:
        raise SystemExit(
            f"unknown benchmark part(s) {unknown}; valid: {', '.join(JOB_NAMES)}"
        )
    return parts


def previous_jobs(path: Path) -> dict:
    """The parts of an earlier ``throughput.json`` (empty if there is none)."""
    try:
        return json.loads(path.read_text()).get("jobs", {})
    except (OSError, ValueError):
        return {}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--quick", action="store_true", help="small smoke-test run")
    parser.add_argument(
        "--jobs",
        default=None,
        help="comma-separated parts to run (default: all); the others are kept from "
        f"the existing throughput.json. Parts: {', '.join(JOB_NAMES)}",
    )
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument(
        "--render",
        action="store_true",
        help="measure nothing: rewrite throughput.{json,md,png} from the parts saved "
        "in the existing throughput.json (after a change to the report)",
    )
    args = parser.parse_args(argv)
    mode = "quick" if args.quick else "full"
    t0 = time.perf_counter()
    if args.render:
        saved = args.out / "throughput.json"
        if not saved.exists():
            raise SystemExit(f"--render needs {saved}; run the benchmark first")
        old = json.loads(saved.read_text())
        jobs, mode = old.get("jobs", {}), old.get("mode", mode)
        parts = old.get("parts_run", [])  # what the saved run measured
    else:
        parts = parse_parts(args.jobs)
        args.out.mkdir(parents=True, exist_ok=True)
        jobs = {} if args.jobs is None else previous_jobs(args.out / "throughput.json")
        with open(args.out / "throughput.log", "w") as log:
            jobs.update(collect(mode, parts, log))
    summary = summarize(jobs, mode)
    summary["parts_run"] = parts
    summary["total_wall_seconds"] = time.perf_counter() - t0
    if args.render:  # the run's own date, machine and duration, not the rendering's
        for key in ("date", "machine", "total_wall_seconds"):
            if key in old:
                summary[key] = old[key]
    from hebbjax.checkpoint import atomic_write_bytes

    atomic_write_bytes(
        args.out / "throughput.json", (json.dumps(summary, indent=2) + "\n").encode()
    )
    atomic_write_bytes(args.out / "throughput.md", markdown(summary).encode())
    if "sweep_2_devices" in jobs:
        plot(summary, args.out / "throughput.png")
    print(headline(summary))
    print(
        f"results in {args.out}/throughput.{{json,md,png}} "
        f"({summary['total_wall_seconds'] / 60:.1f} min)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())

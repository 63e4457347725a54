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
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

from benchmarks.roofline import (
    limits_markdown,
    roofline_rows,
    rows_markdown,
    rows_text,
)

RESULTS = Path(__file__).parent / "results"
ORIGINAL_STEPS_PER_S = (6500, 7000)  # spec 5.3, DecPRNN(PostDN), random genomes
MODELS = ("decprnn-postdn", "prnn-postdn", "meta-lstm")
#: the models swept besides DecPRNN(PostDN) (the baseline exists for MODELS only)
OTHER_SWEPT = ("prnn-postdn", "decpdnn-postdn", "meta-lstm", "meta-rnn")
#: CLI part name -> key in ``jobs``
JOB_NAMES = {
    "limits": "limits",
    "baseline": "baseline",
    "sweep": "sweep_2_devices",
    "sweep1": "sweep_1_device",
    "blocks": "blocks",
    "generation": "paper_generation",
    "generation1": "paper_generation_1_device",
    "scaling": "scaling",
    "asktell": "ask_tell",
}

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


def _one_lifetime(rows: list[dict]) -> list[dict]:
    """Sweep rows with one lifetime per individual (not the training configuration)."""
    return [r for r in rows if r.get("lifetimes_per_genome", 1) == 1]


def _sweep_line(r: dict) -> str:
    share = f"{r['cpu_share']:.2f}" if "cpu_share" in r else "-"
    k = r.get("lifetimes_per_genome", 1)
    population = r["population"] if k == 1 else f"{r['population']} x {k}"
    return (
        f"| {r['model']} | {r['form']} | {population} | {_fmt(r['steps_per_s'])} "
        f"| {r['run_seconds']:.3f} | {r['compile_seconds']:.1f} | {share} |"
    )


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


def _devices_comparison(rows1: list[dict], rows2: list[dict]) -> list[dict]:
    devices = []
    for r1 in rows1:
        match = [
            r
            for r in rows2
            if (r["model"], r["form"], r["population"])
            == (r1["model"], r1["form"], r1["population"])
        ]
        if match:
            devices.append(
                dict(
                    model=r1["model"],
                    form=r1["form"],
                    population=r1["population"],
                    steps_per_s_1_device=r1["steps_per_s"],
                    steps_per_s_2_devices=match[0]["steps_per_s"],
                    speedup=match[0]["steps_per_s"] / r1["steps_per_s"],
                )
            )
    return devices


def summarize(jobs: dict, mode: str) -> dict:
    """The headline numbers of whichever parts ``jobs`` holds."""
    s = dict(
        mode=mode,
        date=time.strftime("%Y-%m-%d %H:%M:%S"),
        machine=dict(
            processor=platform.processor() or platform.machine(),
            cpu_count=os.cpu_count(),
            load_average_at_end=os.getloadavg(),
        ),
    )
    rows2 = _one_lifetime(jobs.get("sweep_2_devices", {}).get("rows", []))
    dec = [r for r in rows2 if r["model"] == "decprnn-postdn"]
    if dec:
        best = max(dec, key=lambda r: r["steps_per_s"])
        s["hebbjax_steps_per_s_best"] = best["steps_per_s"]
        s["hebbjax_best"] = best
        s["hebbjax_steps_per_s_best_direct_form"] = max(
            r["steps_per_s"] for r in dec if r["form"] == "direct"
        )
        s["compile_seconds"] = dict(
            sweep_median_by_model={
                m: statistics.median(
                    r["compile_seconds"] for r in rows2 if r["model"] == m
                )
                for m in dict.fromkeys(r["model"] for r in rows2)
            }
        )
    if "baseline" in jobs:
        base = jobs["baseline"]["models"]
        s["baseline_steps_per_s"] = base["decprnn-postdn"]["steps_per_s"]
        s["baseline_steps_per_s_by_model"] = {
            m: v["steps_per_s"] for m, v in base.items()
        }
        s["original_code_steps_per_s"] = list(ORIGINAL_STEPS_PER_S)
        if dec:
            s["ratio_vs_baseline_core"] = (
                s["hebbjax_steps_per_s_best"] / s["baseline_steps_per_s"]
            )
            s["ratio_vs_original_core"] = s[
                "hebbjax_steps_per_s_best"
            ] / statistics.mean(ORIGINAL_STEPS_PER_S)
    gens = jobs.get("paper_generation", {}).get("rows", [])
    if gens:
        gen_default = next(
            g for g in gens if g["form"] == "direct" and g["mean"] == "init"
        )
        s["paper_generation_seconds"] = gen_default["seconds"]
        s["paper_generation_seconds_best"] = min(g["seconds"] for g in gens)
        s["paper_generation_reference_cpu_seconds"] = 920
        s.setdefault("compile_seconds", {})["paper_generation"] = gen_default[
            "compile_seconds"
        ]
    s["peak_rss_mb"] = {k: v["peak_rss_mb"] for k, v in jobs.items()}
    if "sweep_1_device" in jobs:
        s["devices_comparison"] = _devices_comparison(
            jobs["sweep_1_device"]["rows"], rows2
        )
    if gens and "paper_generation_1_device" in jobs:
        g1 = jobs["paper_generation_1_device"]["rows"][0]
        s["paper_generation_1_vs_2_devices"] = dict(
            seconds_1_device=g1["seconds"],
            seconds_2_devices=next(
                g["seconds"]
                for g in gens
                if (g["form"], g["mean"], g["population"])
                == (g1["form"], g1["mean"], g1["population"])
            ),
        )
    if "limits" in jobs and rows2:
        s["roofline"] = roofline_rows(
            jobs["limits"]["costs"],
            jobs["limits"]["limits"],
            jobs["sweep_2_devices"]["rows"],  # one lifetime per genome, and as trained
        )
    s["jobs"] = jobs
    return s


def _fmt(x: float) -> str:
    return f"{x:,.0f}"


def _summary_lines(s: dict) -> list[str]:
    rows = []
    if "baseline_steps_per_s" in s:
        rows += [
            f"| baseline, numpy one core, DecPRNN(PostDN) | {_fmt(s['baseline_steps_per_s'])} steps/s |",
            "| original code, one core (spec 5.3) | 6,500-7,000 steps/s |",
        ]
    if "hebbjax_best" in s:
        rows += [
            f"| hebbjax best, DecPRNN(PostDN), full inner loop | {_fmt(s['hebbjax_steps_per_s_best'])} steps/s "
            f"({s['hebbjax_best']['form']} form, population {s['hebbjax_best']['population']}, 2 devices) |",
            f"| hebbjax best, direct (default) form | {_fmt(s['hebbjax_steps_per_s_best_direct_form'])} steps/s |",
        ]
    if "ratio_vs_baseline_core" in s:
        rows += [
            f"| ratio hebbjax / baseline core | {s['ratio_vs_baseline_core']:.1f}x |",
            f"| ratio hebbjax / original core | {s['ratio_vs_original_core']:.0f}x |",
        ]
    if "paper_generation_seconds" in s:
        rows += [
            f"| paper-preset generation (direct form, random mean) | {s['paper_generation_seconds']:.2f} s "
            "(reference: ~920 CPU-s) |",
            f"| paper-preset generation, best variant | {s['paper_generation_seconds_best']:.2f} s |",
            f"| compile, paper-preset generation | {s['compile_seconds']['paper_generation']:.1f} s |",
        ]
    return ["## Summary", "", "| quantity | value |", "|---|---|", *rows, ""]


def _roofline_lines(s: dict) -> list[str]:
    limits = s["jobs"]["limits"]["limits"]
    return [
        "## Roofline: each model against this machine's limits (issue 19)",
        "",
        "Ceilings measured in the same run on the 2 devices the sweep uses "
        "(`benchmarks/machine_limits.py`):",
        "",
        *limits_markdown(limits),
        "",
        "Cost model per agent-step from each model's own shapes (`benchmarks/cost_model.py`: "
        "FLOP of the model step, bytes = genome read + lifetime memory read and written + "
        "plastic matrices read again by their matvec); roofline = min(matmul peak / FLOP, "
        "bandwidth / bytes), with the bandwidth of the level that holds a device's block of "
        "lifetimes (`benchmarks/roofline.py`). Measured = best agent-steps/s of the full inner "
        "loop (env + model + sampling) in the sweep below, so the env's share counts against "
        "the fraction.",
        "",
        *rows_markdown(s["roofline"]),
        "",
    ]


def _parts_line(j: dict) -> str:
    stamps = [
        f"{name} ({j[key].get('mode', '?')}, {j[key].get('measured_at', 'date not recorded')})"
        for name, key in JOB_NAMES.items()
        if key in j
    ]
    return "Parts and when they were measured: " + "; ".join(stamps) + "."


def markdown(s: dict) -> str:
    j = s["jobs"]
    lines = [
        f"# hebbjax throughput ({s['mode']} run, {s['date']})",
        "",
        f"Machine: {s['machine']['cpu_count']} CPU cores ({s['machine']['processor']}); "
        f"load average at the end {tuple(round(x, 1) for x in s['machine']['load_average_at_end'])} "
        "(the machine is shared: read ratios, not absolutes). Medians of repeats.",
        "",
        _parts_line(j),
        "",
        *_summary_lines(s),
    ]
    if "roofline" in s:
        lines += _roofline_lines(s)
    if "baseline_steps_per_s_by_model" in s:
        lines += [
            "## Baseline (plain numpy, one core, float32, random N(0, 0.05^2) genomes)",
            "",
            "| model | steps/s |",
            "|---|---|",
        ]
        lines += [
            f"| {m} | {_fmt(v)} |"
            for m, v in s["baseline_steps_per_s_by_model"].items()
        ]
    if "sweep_2_devices" in j:
        lines += [
            "",
            "## Full inner loop against population (2 devices; one lifetime per individual)",
            "",
            "| model | form | population | agent-steps/s | run s | compile s | CPU share |",
            "|---|---|---|---|---|---|---|",
        ]
        sweep = j["sweep_2_devices"]["rows"]
        for r in _one_lifetime(sweep):
            lines.append(_sweep_line(r))
        trained = [r for r in sweep if r.get("lifetimes_per_genome", 1) > 1]
        if trained:
            lines += [
                "",
                "As trained: each individual on "
                f"{trained[0]['lifetimes_per_genome']} mazes, its lifetimes evaluated "
                "together in a block (the genome is read once for all of them):",
                "",
                "| model | form | population x mazes | agent-steps/s | run s | compile s "
                "| CPU share |",
                "|---|---|---|---|---|---|---|",
            ]
            lines += [_sweep_line(r) for r in trained]
    if "devices_comparison" in s:
        lines += [
            "",
            "## 1 vs 2 devices",
            "",
            "| model | form | population | 1 device | 2 devices | speed-up |",
            "|---|---|---|---|---|---|",
        ]
        for d in s["devices_comparison"]:
            lines.append(
                f"| {d['model']} | {d['form']} | {d['population']} | {_fmt(d['steps_per_s_1_device'])} "
                f"| {_fmt(d['steps_per_s_2_devices'])} | {d['speedup']:.2f}x |"
            )
    if "paper_generation_1_vs_2_devices" in s:
        g = s["paper_generation_1_vs_2_devices"]
        lines.append(
            f"\nGeneration, direct form, random mean: {g['seconds_1_device']:.2f} s on 1 device, "
            f"{g['seconds_2_devices']:.2f} s on 2."
        )
    if "blocks" in j:
        lines += [
            "",
            "## Block size (2 devices; 'None' = whole share at once)",
            "",
            "| model | block_lifetimes | form | agent-steps/s |",
            "|---|---|---|---|",
        ]
        for r in j["blocks"]["rows"]:
            lines.append(
                f"| {r.get('model', 'decprnn-postdn')} | {r['block_lifetimes']} "
                f"| {r['form']} | {_fmt(r['steps_per_s'])} |"
            )
    if "paper_generation" in j:
        lines += [
            "",
            "## Generation (paper-cmaes: ask + evaluate + tell), 2 devices",
            "",
            "| population x tasks x repeats | form | mean | agent-steps | s / generation | steps/s | compile s |",
            "|---|---|---|---|---|---|---|",
        ]
        for r in j["paper_generation"]["rows"]:
            lines.append(
                f"| {r['population']} x {r['n_tasks']} x {r['repeats_per_task']} | {r['form']} | {r['mean']} "
                f"| {_fmt(r['agent_steps'])} | {r['seconds']:.2f} | {_fmt(r['steps_per_s'])} | {r['compile_seconds']:.1f} |"
            )
    if "scaling" in j:
        lines += [
            "",
            "## Scaling of a generation (direct form, random mean, 2 devices)",
            "",
            "| axis | value | population | agent-steps | s / generation | us / agent-step |",
            "|---|---|---|---|---|---|",
        ]
        for r in j["scaling"]["rows"]:
            lines.append(
                f"| {r['axis']} | {r['value']} | {r['population']} | {_fmt(r['agent_steps'])} "
                f"| {r['seconds']:.3f} | {r['us_per_agent_step']:.2f} |"
            )
    if "ask_tell" in j:
        lines += [
            "",
            "## The outer loop's own cost: ask + tell alone vs the evaluation (2 devices)",
            "",
            "| strategy | task | model | P x N_Gene | lifetimes | ask + tell s (CPU s) "
            "| evaluation s | generation s | ask + tell share |",
            "|---|---|---|---|---|---|---|---|---|",
        ]
        for r in j["ask_tell"]["rows"]:
            at, ev, gen = r["ask_tell"], r["evaluate"], r["generation"]
            lines.append(
                f"| {r['strategy']} | {r['task']} | {r['model']} "
                f"| {r['population']} x {r['n_gene']:,} | {r['lifetimes']:,} "
                f"| {at['seconds']:.3f} ({at['cpu_seconds']:.3f}) | {ev['seconds']:.3f} "
                f"| {gen['seconds']:.3f} | {r['ask_tell_share']:.0%} |"
            )
        for r in j["ask_tell"]["rows"]:
            if "generation_whole_update" in r:
                split, whole = r["generation"], r["generation_whole_update"]
                lines += [
                    "",
                    f"{r['strategy']}: the generation with its update split over the "
                    f"devices {split['seconds']:.3f} s ({split['cpu_seconds']:.3f} CPU s), "
                    f"with the update summed whole on every device {whole['seconds']:.3f} s "
                    f"({whole['cpu_seconds']:.3f} CPU s): "
                    f"{whole['seconds'] / split['seconds']:.2f}x (timed interleaved).",
                ]
    lines += ["", "## Peak memory (RSS, MiB)", "", "| part | MiB |", "|---|---|"]
    lines += [f"| {k} | {v:,.0f} |" for k, v in s["peak_rss_mb"].items()]
    return "\n".join(lines) + "\n"


def plot(s: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4.5))
    rows = _one_lifetime(s["jobs"]["sweep_2_devices"]["rows"])
    for model in dict.fromkeys(r["model"] for r in rows):
        for form in ("direct", "factored"):
            pts = sorted(
                (r["population"], r["steps_per_s"])
                for r in rows
                if r["model"] == model and r["form"] == form
            )
            if pts:
                label = model if form == "direct" else f"{model} (factored)"
                ax.plot(*zip(*pts, strict=True), marker="o", label=label)
    if "baseline_steps_per_s" in s:
        ax.axhline(
            s["baseline_steps_per_s"],
            color="k",
            ls="--",
            label="numpy baseline, 1 core",
        )
    ax.axhspan(
        *ORIGINAL_STEPS_PER_S, color="grey", alpha=0.4, label="original code, 1 core"
    )
    ax.set(
        xscale="log",
        yscale="log",
        xlabel="population (lifetimes in flight)",
        ylabel="agent-steps / s",
        title="Full maze inner loop, 2 CPU devices",
    )
    ax.legend(fontsize=8)
    fig.tight_layout()
    from hebbjax.checkpoint import atomic_open

    with atomic_open(path) as f:
        fig.savefig(f, dpi=120, format="png")
    plt.close(fig)


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


def headline(s: dict) -> str:
    """The console summary: the speed-up line and the roofline table."""
    lines = []
    if "ratio_vs_baseline_core" in s:
        lines.append(
            f"hebbjax {s['hebbjax_steps_per_s_best']:,.0f} agent-steps/s "
            f"(DecPRNN(PostDN), {s['hebbjax_best']['form']} form, population "
            f"{s['hebbjax_best']['population']}) / numpy baseline "
            f"{s['baseline_steps_per_s']:,.0f} per core = "
            f"{s['ratio_vs_baseline_core']:.1f}x "
            f"({s['ratio_vs_original_core']:.0f}x the original code's core)"
        )
    if "paper_generation_seconds" in s:
        lines.append(f"paper-preset generation {s['paper_generation_seconds']:.2f} s")
    if "roofline" in s:
        lim = s["jobs"]["limits"]["limits"]
        bw = lim["bandwidth"]
        load = ", ".join(f"{x:.1f}" for x in s["machine"]["load_average_at_end"])
        lines.append(
            f"limits: matmul {lim['matmul']['gflop_per_s']:.0f} GFLOP/s, read+write "
            f"L2 {bw['l2']['gb_per_s']:.0f} / L3 {bw['llc']['gb_per_s']:.0f} / DRAM "
            f"{bw['dram']['gb_per_s']:.0f} GB/s (load average now {load}); roofline:"
        )
        lines.append(rows_text(s["roofline"]))
    return "\n".join(lines)


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

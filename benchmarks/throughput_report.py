"""The throughput report (``benchmarks/results/throughput.{md,png}``) from the parts
``python -m benchmarks`` measured: headline ratios against the one-core baseline, the sweep,
the roofline table (issue 19) and each part's provenance."""

from __future__ import annotations

import os
import platform
import statistics
import time
from pathlib import Path

from benchmarks.roofline import (
    limits_markdown,
    roofline_rows,
    rows_markdown,
    rows_text,
)

ORIGINAL_STEPS_PER_S = (6500, 7000)  # spec 5.3, DecPRNN(PostDN), random genomes
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
            jobs["sweep_2_devices"]["rows"],  # one lifetime per genome, and blocked
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
                "Blocked by genome: each individual on "
                f"{trained[0]['lifetimes_per_genome']} mazes, its lifetimes evaluated "
                "together in a block (the genome is read once for all of them; training "
                'pools lifetimes by default, the maze\'s compact="all", where each slot '
                "reads its own genome: benchmarks/results/compaction.md):",
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

"""EPRNN's comparison as results.json, results.md and curves.png
(``benchmarks/results/eprnn/``): each row beside the paper's value (Tables 2-3), the
paper's statistic over seeds, the validation curves."""

from __future__ import annotations

import io
import json
import statistics
from pathlib import Path

from benchmarks.eprnn_cells import (
    COMMON_GENERATION,
    Cell,
    cell_of,
)


def fmt_value(value, spec: str = ".3f") -> str:
    return "n/a" if value is None else format(value, spec)


def label(cell: Cell) -> str:
    """The model column: the model, and its seed when not 0."""
    return cell.model + (f" (seed {cell.seed})" if cell.seed else "")


#: the settings a cell's seeds must share to be averaged (besides task, model, generations)
SEED_INDEPENDENT = ("population", "learning_rate", "n_gene", "num_extremes")


def over_seeds(rows: list[dict]) -> list[dict]:
    """The paper's statistic averaged over the seeds of each cell that has finished more
    than one (the paper: mean over 3 independent runs), in the rows' order."""
    groups: dict[tuple, list[dict]] = {}
    for r in rows:
        if r["status"] == "done":  # seeds of one cell at the same settings
            same = tuple(r.get(k) for k in SEED_INDEPENDENT)
            groups.setdefault((cell_of(r)._replace(seed=0), same), []).append(r)
    out = []
    for (cell, _), done in groups.items():
        if len(done) < 2:
            continue
        stats = [r["paper_statistic"] for r in done]
        tests = [r["test_mean_genome"] for r in done]
        out.append(
            dict(
                task=cell.task,
                model=cell.model,
                generations=cell.generations,
                seeds=sorted(r.get("seed", 0) for r in done),
                statistic_mean=statistics.fmean(stats),
                statistic_std=statistics.stdev(stats),
                statistics=stats,
                test_mean=statistics.fmean(tests),
                paper=done[0]["paper"],
                trivial=done[0]["trivial"],
            )
        )
    return out


def results_markdown(rows: list[dict]) -> str:
    lines = [
        "| task | model | genes | P x gens (paper 398 x 15,000) | status "
        "| paper: top-3 of last 10 val | ours: top-3 of last 10 val "
        "| test: final mean genome | test: best-val genome | do nothing "
        f"| val @ gen {COMMON_GENERATION:,} | s/gen |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        at_common = dict(map(tuple, r["curve"])).get(COMMON_GENERATION)
        done = r["status"] == "done"
        if done:
            mean = f"{r['test_mean_genome']:.3f} +- {r['test_mean_genome_stderr']:.3f}"
            best = f"{r['test_best_genome']:.3f} +- {r['test_best_genome_stderr']:.3f}"
        last = (
            f"{r['curve'][-1][1]:.3f} (val, gen {r['curve'][-1][0]})"
            if r["curve"]
            else "n/a"
        )
        status = r["status"]
        if r.get("continued_from"):
            status += f" (continues {r['continued_from']})"
        lines.append(
            f"| {r['task']} | {label(cell_of(r))} | {r['n_gene']:,} "
            f"| {r['population']} x {r['generations']:,} | {status} "
            f"| {fmt_value(r['paper'])} | {fmt_value(r['paper_statistic'])} "
            f"| {mean if done else last} | {best if done else '...'} "
            f"| {r['trivial']:.3f} | {fmt_value(at_common)} "
            f"| {fmt_value(r['median_generation_seconds'], '.2f')} |"
        )
    seeded = over_seeds(rows)
    if seeded:
        lines += [
            "",
            "Over seeds (the paper's statistic is the mean over 3 independent runs): the "
            "top-3-of-last-10 statistic of each finished seed, their mean +- std (ddof 1), "
            "and the mean of the final mean genomes' test scores.",
            "",
            "| task | model | gens | seeds | statistic per seed | mean +- std | paper "
            "| test, mean over seeds | do nothing |",
            "|---|---|---|---|---|---|---|---|---|",
        ]
        for g in seeded:
            per = ", ".join(f"{v:.3f}" for v in g["statistics"])
            lines.append(
                f"| {g['task']} | {g['model']} | {g['generations']:,} "
                f"| {', '.join(map(str, g['seeds']))} | {per} "
                f"| {g['statistic_mean']:.3f} +- {g['statistic_std']:.3f} "
                f"| {fmt_value(g['paper'])} | {g['test_mean']:.3f} | {g['trivial']:.3f} |"
            )
    nav = [r for r in rows if r.get("navigation")]
    if nav:
        lines += [
            "",
            "Wheeled robot, final mean genome, TEST (frozen) episode of 512 test tasks "
            "(`hebbjax analyze navigation`): does it navigate, or stay at the do-nothing "
            "optimum (standing still, turning on the spot or circling the start score the "
            "same)?",
            "",
            "| task | model | gens | return | do nothing | goal reached | >= halfway "
            "closer | mean approach | never 0.1 from start | verdict |",
            "|---|---|---|---|---|---|---|---|---|---|",
        ]
        for r in nav:
            n = r["navigation"]
            lines.append(
                f"| {r['task']} | {label(cell_of(r))} | {r['generations']:,} "
                f"| {n['return']:.2f} | {n['do_nothing_return']:.2f} "
                f"| {n['goal_rate']:.0%} | {n['closer_fraction']:.0%} "
                f"| {n['approach']:+.2f} | {n['near_start']:.0%} | {n['verdict']} |"
            )
    return "\n".join(lines) + "\n"


def curves_png(rows: list[dict]) -> bytes:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    tasks = list(dict.fromkeys(r["task"] for r in rows))
    cols = min(4, len(tasks))
    nrows = -(-len(tasks) // cols)
    fig, axes = plt.subplots(
        nrows, cols, figsize=(3.8 * cols, 3.0 * nrows), squeeze=False
    )
    for ax, task in zip(axes.flat, tasks, strict=False):
        for r in rows:
            if r["task"] == task and r["curve"]:
                gens, scores = zip(*r["curve"], strict=True)
                name = f"{label(cell_of(r))} ({r['generations']:,})"
                (line,) = ax.plot(gens, scores, label=name, lw=1)
                if r["paper"] is not None:
                    ax.axhline(r["paper"], ls=":", color=line.get_color(), lw=1)
        trivial = next(r["trivial"] for r in rows if r["task"] == task)
        ax.axhline(trivial, ls="--", color="grey", lw=1, label="do nothing")
        ax.set_title(task, fontsize=8)
        ax.set_xlabel("generation", fontsize=7)
        ax.set_ylabel("validation score (mean genome)", fontsize=7)
        ax.tick_params(labelsize=6)
        ax.legend(fontsize=5)
    for ax in list(axes.flat)[len(tasks) :]:
        ax.axis("off")
    fig.suptitle("eprnn-es, P = 398; dotted: the paper (15,000 gens)", fontsize=8)
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100)
    plt.close(fig)
    return buf.getvalue()


def merge_finished(rows: list[dict], path: Path) -> list[dict]:
    """``rows`` and the finished rows another process has written to ``path`` meanwhile
    (two queues on one ``--out`` would otherwise overwrite each other's rows); a cell
    (and seed) of ``rows`` wins over the file's."""
    try:
        disk = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError):
        return rows
    ours = {cell_of(r) for r in rows}
    theirs = [r for r in disk if r.get("status") == "done" and cell_of(r) not in ours]
    return rows + theirs


def write_outputs(rows: list[dict], out: Path) -> None:
    """results.json, results.md and curves.png, each written atomically."""
    from hebbjax.checkpoint import atomic_write_bytes

    out.mkdir(parents=True, exist_ok=True)
    atomic_write_bytes(out / "results.json", json.dumps(rows, indent=1).encode())
    atomic_write_bytes(out / "results.md", results_markdown(rows).encode())
    if rows:
        atomic_write_bytes(out / "curves.png", curves_png(rows))

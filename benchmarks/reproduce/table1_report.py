"""Table 1 as Markdown, JSON and a figure (``benchmarks/results/reproduce/table1*``): our
test scores beside the paper's (Wang et al. 2022, Table 1), the claims of its section 4.2
judged on them, and the budget."""

from __future__ import annotations

import argparse
import json
import math
import os
import time
from pathlib import Path

from benchmarks.reproduce.table1_rows import PAPER_BASELINES, TASK_KWARGS
from hebbjax.checkpoint import atomic_write_bytes

# ---------------------------------------------------------------------------------------
# Claims of section 4.2 of the paper, judged on our scores.


def _compare(a: dict, b: dict, relation: str) -> tuple[str, str]:
    """Verdict of "a <relation> b" from two test rows (2 s.e. of the difference)."""
    sa, ea = a["test"]["score"], a["test"]["score_stderr"]
    sb, eb = b["test"]["score"], b["test"]["score_stderr"]
    diff, se = sa - sb, math.hypot(ea, eb)
    text = f"{a['label']} {sa:+.3f} vs {b['label']} {sb:+.3f} (diff {diff:+.3f} +- {se:.3f})"
    if relation == ">":
        if diff > 2 * se:
            return "held", text
        if diff < -2 * se:
            return "not held", text
        return "not testable at this budget (within 2 s.e.)", text
    if relation == ">=":
        return ("held" if diff >= -2 * se else "not held"), text
    if relation == "~":
        return ("held" if abs(diff) <= max(2 * se, 0.03) else "not held"), text
    raise ValueError(relation)


CLAIMS_9 = (
    ("DNN (observation only) is far below every other model", "dnn", "<all", None),
    ("Meta-DNN (no memory) is below every model with memory", "meta-dnn", "<mem", None),
    ("DecPRNN >= PRNN with 1/15 of the genes", "decprnn", ">=", "prnn"),
    ("DecPRNN(PreDN) >= PRNN(PreDN)", "decprnn-predn", ">=", "prnn-predn"),
    ("DecPRNN(PostDN) >= PRNN(PostDN)", "decprnn-postdn", ">=", "prnn-postdn"),
    ("Modulation helps DecPDNN: PreDN > none", "decpdnn-predn", ">", "decpdnn"),
    ("Modulation helps DecPDNN: PostDN > none", "decpdnn-postdn", ">", "decpdnn"),
    ("PostDN > PreDN in DecPDNN", "decpdnn-postdn", ">", "decpdnn-predn"),
    ("Modulation helps PRNN: PreDN > none", "prnn-predn", ">", "prnn"),
    ("Modulation helps PRNN: PostDN > none", "prnn-postdn", ">", "prnn"),
    ("PreDN ~ PostDN in PRNN (a draw)", "prnn-postdn", "~", "prnn-predn"),
    ("PreDN ~ PostDN in DecPRNN (a draw)", "decprnn-postdn", "~", "decprnn-predn"),
    ("DecPRNN(PostDN) >= DecPRNN (no DN)", "decprnn-postdn", ">=", "decprnn"),
    ("Recurrence + plasticity beats DecPDNN (none)", "decprnn", ">", "decpdnn"),
    (
        "Recurrence + plasticity beats DecPDNN (PreDN)",
        "decprnn-predn",
        ">",
        "decpdnn-predn",
    ),
    (
        "Recurrence + plasticity beats DecPDNN (PostDN)",
        "decprnn-postdn",
        ">",
        "decpdnn-postdn",
    ),
    ("DecPRNN(PostDN) beats Meta-RNN(32)", "decprnn-postdn", ">", "meta-rnn-32"),
    ("DecPRNN(PostDN) ~ Meta-RNN(64)", "decprnn-postdn", "~", "meta-rnn"),
    (
        "DecPRNN(PostDN) ~ Meta-LSTM (15x fewer genes)",
        "decprnn-postdn",
        "~",
        "meta-lstm",
    ),
    ("Meta-RNN(64) beats Meta-RNN(32)", "meta-rnn", ">", "meta-rnn-32"),
    ("PRNN(ET) beats PRNN(Scratch-ET)", "prnn-et", ">", "prnn-scratch-et"),
    (
        "DecPRNN(PostDN) beats Evolving&Merging(PostDN)",
        "decprnn-postdn",
        ">",
        "merged-prnn-postdn",
    ),
)
CLAIMS_15 = (
    ("DecPRNN(PostDN) ~ Meta-LSTM", "decprnn-postdn", "~", "meta-lstm"),
    ("DecPRNN(PostDN) beats Meta-RNN(64)", "decprnn-postdn", ">", "meta-rnn"),
    ("DecPRNN(PostDN) >= PRNN(PostDN)", "decprnn-postdn", ">=", "prnn-postdn"),
    ("PRNN(PostDN) beats Meta-RNN(64)", "prnn-postdn", ">", "meta-rnn"),
)
MEMORY_ROWS = ("meta-rnn-32", "meta-rnn", "meta-lstm", "prnn", "decpdnn", "decprnn")


def judge_claims(rows: dict[str, dict], size: int) -> list[dict]:
    claims = []
    for text, a, rel, b in CLAIMS_9 if size == 9 else CLAIMS_15:
        if rel in ("<all", "<mem"):
            others = [k for k in rows if k != a] if rel == "<all" else list(MEMORY_ROWS)
            present = [k for k in others if k in rows]
            if a not in rows or not present:
                claims.append(dict(claim=text, verdict="not testable (rows missing)"))
                continue
            verdicts = [_compare(rows[k], rows[a], ">") for k in present]
            held = all(v == "held" for v, _ in verdicts)
            bad = [t for v, t in verdicts if v != "held"]
            missing = sorted(set(others) - set(present))
            verdict = "held" if held else "not held"
            if held and missing:
                verdict = f"held on {len(present)} of {len(others)} rows"
            claims.append(
                dict(
                    claim=text,
                    verdict=verdict,
                    evidence="; ".join(bad)
                    or f"{rows[a]['test']['score']:+.3f} vs min "
                    f"{min(rows[k]['test']['score'] for k in present):+.3f}",
                )
            )
            continue
        if a not in rows or b not in rows:
            claims.append(dict(claim=text, verdict="not testable (rows missing)"))
            continue
        verdict, evidence = _compare(rows[a], rows[b], rel)
        claims.append(dict(claim=text, verdict=verdict, evidence=evidence))
    return claims


def _spearman(xs: list[float], ys: list[float]) -> float:
    import numpy as np

    rx = np.argsort(np.argsort(xs)).astype(float)
    ry = np.argsort(np.argsort(ys)).astype(float)
    return float(np.corrcoef(rx, ry)[0, 1]) if len(xs) > 2 else float("nan")


def write_outputs(rows: list[dict], base: dict, args, stem: str) -> None:
    if rows and args.report_only:  # describe the budget the rows were trained with
        b = rows[0]["budget"]
        args = argparse.Namespace(**vars(args))
        args.strategy, args.strategy_opt = b["strategy"], b["strategy_kwargs"]
        args.population, args.mazes = b["population"], b["schedule"][0][1]
        args.repeats, args.sigma0 = b["repeats"], b["sigma0"]
        args.generations, args.validate_every = b["generations"], b["validate_every"]
        args.n_validation = b["n_validation"]
    budget = dict(
        task=f"maze{args.size}",
        strategy=args.strategy,
        strategy_opt=args.strategy_opt,
        population=args.population,
        mazes_per_generation=args.mazes,
        repeats=args.repeats,
        sigma0=args.sigma0,
        generations=args.generations,
        lifetimes_per_model=args.population
        * args.mazes
        * args.repeats
        * args.generations,
        validate_every=args.validate_every,
        n_validation=args.n_validation,
        task_kwargs=TASK_KWARGS,
        paper_budget="360 x (2, 4, 8 mazes) x 4 repeats, 15,000-30,000 generations, "
        "best validation genome",
    )
    by_key = {r["key"]: r for r in rows}
    claims = judge_claims(by_key, args.size)
    paired = [r for r in rows if r["paper"] is not None]
    rho = _spearman(
        [r["test"]["score"] for r in paired], [r["paper"][0] for r in paired]
    )
    total_wall = sum(r["wall_seconds"] for r in rows)
    total_cpu = sum(r["cpu_seconds"] for r in rows)
    data = dict(
        budget=budget,
        rows=rows,
        oracle=base,
        paper_baselines=PAPER_BASELINES[args.size],
        claims=claims,
        spearman_vs_paper=rho,
        total_wall_seconds=total_wall,
        total_cpu_seconds=total_cpu,
        written=time.strftime("%Y-%m-%d %H:%M:%S"),
        load_average_at_write=os.getloadavg(),
    )
    atomic_write_bytes(args.out / f"{stem}.json", json.dumps(data, indent=1).encode())

    size = args.size
    lines = [
        f"# Table 1 of Wang et al. 2022 on {size}x{size} mazes, at one equal budget",
        "",
        f"Written {data['written']} by `python -m benchmarks.reproduce.table1"
        f"{' --size 15' if size == 15 else ''}` (resumable; rows appear as they finish).",
        "",
        "**Budget, the same for every row:** "
        f"`{args.strategy}` (sigma0 {args.sigma0}"
        f"{', ' + str(args.strategy_opt) if args.strategy_opt else ''}), population "
        f"{args.population}, {args.mazes} mazes x {args.repeats} repeat(s) per generation, "
        f"{args.generations:,} generations = {budget['lifetimes_per_model']:,} lifetimes "
        f"per model (the paper: about 10^8 lifetimes per model, 15,000-30,000 generations "
        f"of 360 x up to 32). Task options {TASK_KWARGS} (April-2022 reward slot); "
        "validation of the mean every "
        f"{args.validate_every} generations on {args.n_validation} seeded mazes.",
        "",
        "**Score** (as the paper's Table 1): mean over the 2,048 seeded test mazes "
        "(`task.test_set()`, one lifetime each) of the lifetime fitness, the weighted "
        "rollout return with weights (0, 0, 1) = the third rollout's return "
        "(1 - 0.01 T at the goal, -2 on a timeout) +- its standard error. "
        '"final mean" is the final distribution mean (the headline number); '
        '"best-val" the mean at the best validation (the paper reports that genome).',
        "",
        "**Variant** (the `variant` column): every row runs the reference code of April "
        "2022 (EPA@46cf3c7), the code of the paper's date (17 May 2022) and the only one "
        "whose PreDN gives Table 1's gene counts (spec 1.7): modulated decomposed updates "
        "unscaled (`modulated_scale=1.0`; the 0.20 factor dates from 2022-07-02), the "
        'one-dimensional PreDN pair (`predn="paper"`; replaced on 07-05), and the previous '
        'step\'s reward in the reward slot (`r_slot="prev-reward"`; zeroed on 08-12). The '
        "released DecPRNN(PostDN) genome agrees: third-rollout goal rate 0.82 at scale 1.0 "
        "against 0.72 at 0.20 on the paper's validation mazes (spec 5.5). The ET rows use "
        "hebbjax's only trace rule (the EPA-SEP one); the April trace rule (raw eta, step 1, "
        "no clip) has no hebbjax option.",
        "",
        "| model | N_Gene (paper) | N_Mem (paper) | score, final mean | best-val genome "
        "| paper | goal rate r1/r2/r3 | agent-steps | wall s (load) | variant |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        t, tb = r["test"], r["test_best_validation_genome"]
        paper = r["paper"]
        loads = [s["load_end"][1] for s in r["sessions"]]
        lines.append(
            f"| {r['label']} | {r['n_gene']:,} ({r['paper_n_gene']:,}) | "
            f"{r['n_mem']:,} ({r['paper_n_mem']:,}) | "
            f"**{t['score']:+.3f} +- {t['score_stderr']:.3f}** | "
            f"{tb['score']:+.3f} +- {tb['score_stderr']:.3f} (gen {r['best_generation']}) | "
            f"{paper[0]:+.3f} +- {paper[1]:.3f} | "
            + "/".join(f"{g:.2f}" for g in t["goal_rate"])
            + f" | {r['agent_steps']:.3g} | {r['wall_seconds']:.0f} "
            f"({sum(loads) / len(loads):.1f}) | {r['variant']} |"
        )
    lines += [
        f"| Oracle | | | {base['oracle_mean']:+.3f} +- {base['oracle_stderr']:.3f} | | "
        f"{PAPER_BASELINES[size]['Oracle'][0]:+.3f} +- "
        f"{PAPER_BASELINES[size]['Oracle'][1]:.3f} | | | | BFS shortest path |",
        f"| Random | | | {base['random_mean']:+.3f} +- {base['random_stderr']:.3f} | | "
        f"{PAPER_BASELINES[size]['Random'][0]:+.3f} +- "
        f"{PAPER_BASELINES[size]['Random'][1]:.3f} | | | | one random episode |",
        "",
        f"Rows done: {len(rows)}. Wall-clock of the rows together: {total_wall / 3600:.2f} h "
        f"(process CPU {total_cpu / 3600:.2f} h; `wall s (load)`: seconds of training "
        "and validation, with the 5-minute load average at the end of each session: the "
        "2-core machine is shared, so read ratios, not absolutes). Spearman rank correlation of our scores with "
        f"the paper's over these rows: {rho:.2f}.",
        "",
        "## The paper's claims (section 4.2), judged on these scores",
        "",
        'Verdict rule: "A beats B" is held when A - B > 2 s.e. of the difference, not '
        'held when B - A > 2 s.e., and not testable at this budget otherwise; "A >= B" is '
        'held unless B - A > 2 s.e.; "A ~ B" is held when |A - B| <= max(2 s.e., 0.03).',
        "",
        "| claim | verdict | evidence |",
        "|---|---|---|",
    ]
    for c in claims:
        lines.append(f"| {c['claim']} | {c['verdict']} | {c.get('evidence', '')} |")
    atomic_write_bytes(args.out / f"{stem}.md", ("\n".join(lines) + "\n").encode())
    _plot(rows, base, args, args.out / f"{stem}.png")


def _plot(rows, base, args, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(13, 0.32 * len(rows) + 3.5))
    ys = range(len(rows))
    ours = [r["test"]["score"] for r in rows]
    errs = [r["test"]["score_stderr"] for r in rows]
    ax1.barh(
        ys, ours, xerr=errs, color="tab:blue", alpha=0.7, label="hebbjax (final mean)"
    )
    ax1.scatter(
        [r["paper"][0] for r in rows], ys, color="k", marker="|", s=200, label="paper"
    )
    ax1.axvline(base["oracle_mean"], color="g", ls="--", lw=1, label="Oracle")
    ax1.axvline(base["random_mean"], color="r", ls="--", lw=1, label="Random")
    ax1.set_yticks(list(ys), [r["label"] for r in rows], fontsize=7)
    ax1.invert_yaxis()
    ax1.set_xlabel("test score (3rd-rollout return, 2,048 mazes)")
    ax1.legend(fontsize=7, loc="lower left")
    for r in rows:
        gens, scores = zip(*r["curve"], strict=True)
        ax2.plot(gens, scores, lw=1, label=r["label"])
    ax2.set_xlabel("generation")
    ax2.set_ylabel(f"validation score ({args.n_validation} mazes, mean genome)")
    ax2.legend(fontsize=6, ncol=2)
    fig.suptitle(
        f"Table 1, maze {args.size}x{args.size}: {args.strategy}, P={args.population}, "
        f"{args.mazes} mazes/gen, {args.generations} generations per model",
        fontsize=9,
    )
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)

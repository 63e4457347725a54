"""Table 1 of Wang et al. 2022 (decomposed plasticity) at one equal, stated budget.

Every Table 1 model is evolved on random 9x9 mazes (task ``maze9``; ``--size 15``: the four
central rows on ``maze15``, 500 generations by default) with the same outer loop,
population, mazes per generation and generations; each final distribution mean (and the genome of the best validation) is then
evaluated once on each of the 2,048 seeded test mazes (``task.test_set()``).

Score = what the paper's Table 1 reports: the mean over the test mazes of the fitness of one
lifetime, F = sum_r w_r R_r / sum_r w_r with weights (0, 0, 1) for a 3-rollout lifetime, i.e.
the return of the third rollout (spec 2.6; hebbjax's fitness also subtracts 1e-6 RMS(genome),
below 1e-6), +- its standard error over the mazes (the paper's "+-" is a standard error too:
0.008 for 2,048 mazes matches the spread of third-rollout returns).

Variant of each row: the April-2022 reference code (EPA@46cf3c7), the only code whose PreDN
gives Table 1's gene counts (spec 1.7): modulated decomposed updates at scale 1.0, the
one-dimensional PreDN pair (``predn="paper"``), and the previous step's reward in the reward
slot (``r_slot="prev-reward"``). See ``VARIANT_NOTES`` and benchmarks/results/reproduce/table1.md.

    python -m benchmarks.reproduce.table1 [--generations 1000] [--population 128]
        [--mazes 8] [--models decprnn-postdn meta-lstm ...] [--size 15] [--report-only]

Resumable: each model trains in ``benchmarks/results/reproduce/runs/<model>`` (15x15:
``runs/maze15/<model>``) with ``hebbjax.evolution.train.train(config, out, resume=...)``; a
model whose ``test.json`` matches the budget is skipped, a killed run continues from its
checkpoint, and raising ``--generations`` continues every run. Writes
``benchmarks/results/reproduce/table1{,_maze15}.{md,json,png}``.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import resource
import shutil
import time
from pathlib import Path
from typing import Any, NamedTuple

from benchmarks.reproduce import keep_genomes

OUT = Path(__file__).resolve().parents[1] / "results" / "reproduce"


class Row(NamedTuple):
    key: str  # run directory and CLI name
    label: str  # the paper's row name
    model: str  # hebbjax registry name
    model_kwargs: dict
    paper_gene: int | None
    paper_mem: int | None
    paper9: tuple[float, float] | None
    paper15: tuple[float, float] | None


# The Table-1 variant of every row (April-2022 code, EPA@46cf3c7; spec 1.3, 1.4, 2.5).
APRIL = {"modulated_scale": 1.0}
ROWS = (
    Row("dnn", "DNN", "dnn", {}, 5125, 0, (-0.933, 0.024), (-1.751, 0.016)),
    Row(
        "meta-dnn", "Meta-DNN", "meta-dnn", {}, 5509, 0, (0.495, 0.013), (-0.507, 0.024)
    ),
    Row(
        "meta-rnn-32",
        "Meta-RNN(Hidden=32)",
        "meta-rnn-32",
        {},
        1701,
        32,
        (0.651, 0.009),
        (-0.197, 0.023),
    ),
    Row(
        "meta-rnn",
        "Meta-RNN(Hidden=64)",
        "meta-rnn",
        {},
        5445,
        64,
        (0.784, 0.008),
        (0.148, 0.021),
    ),
    Row(
        "meta-lstm",
        "Meta-LSTM(Hidden=64)",
        "meta-lstm",
        {},
        20805,
        128,
        (0.798, 0.008),
        (0.275, 0.020),
    ),
    Row("prnn", "PRNN", "prnn", {}, 20613, 5120, (0.714, 0.011), (0.080, 0.020)),
    Row(
        "prnn-predn",
        "PRNN(PreDN)",
        "prnn-predn",
        {"predn": "paper"},
        20694,
        5120,
        (0.770, 0.010),
        (0.249, 0.019),
    ),
    Row(
        "prnn-postdn",
        "PRNN(PostDN)",
        "prnn-postdn",
        {},
        20743,
        5120,
        (0.762, 0.009),
        (0.248, 0.020),
    ),
    Row(
        "decpdnn", "DecPDNN", "decpdnn", {}, 1281, 5056, (0.586, 0.014), (-0.246, 0.025)
    ),
    Row(
        "decpdnn-predn",
        "DecPDNN(PreDN)",
        "decpdnn-predn",
        APRIL,
        1362,
        5056,
        (0.697, 0.011),
        (-0.002, 0.022),
    ),
    Row(
        "decpdnn-postdn",
        "DecPDNN(PostDN)",
        "decpdnn-postdn",
        APRIL,
        1411,
        5056,
        (0.754, 0.008),
        (0.064, 0.021),
    ),
    Row(
        "decprnn", "DecPRNN", "decprnn", {}, 1217, 5120, (0.774, 0.008), (0.191, 0.020)
    ),
    Row(
        "decprnn-predn",
        "DecPRNN(PreDN)",
        "decprnn-predn",
        APRIL | {"predn": "paper"},
        1298,
        5120,
        (0.772, 0.006),
        (0.282, 0.017),
    ),
    Row(
        "decprnn-postdn",
        "DecPRNN(PostDN)",
        "decprnn-postdn",
        APRIL,
        1347,
        5120,
        (0.782, 0.008),
        (0.271, 0.019),
    ),
    Row(
        "prnn-et", "PRNN(ET)", "prnn-et", {}, 5511, 4160, (0.757, 0.008), (0.234, 0.018)
    ),
    Row(
        "prnn-scratch-et",
        "PRNN(Scratch-ET)",
        "prnn-scratch-et",
        {},
        1481,
        4160,
        (0.618, 0.016),
        (-0.829, 0.021),
    ),
    Row(
        "merged-prnn-postdn",
        "Evolving&Merging(PostDN)",
        "merged-prnn-postdn",
        {},
        1347,
        5120,
        (0.743, 0.011),
        (0.204, 0.020),
    ),
)
ROW = {r.key: r for r in ROWS}
PAPER_BASELINES = {9: {"Oracle": (0.908, 0.001), "Random": (-1.308, 0.031)}}
PAPER_BASELINES[15] = {"Oracle": (0.820, 0.001), "Random": (-1.934, 0.010)}
# The April-2022 code fed the previous step's reward (-0.01; 0 on a rollout's first step).
TASK_KWARGS = {"r_slot": "prev-reward"}
CENTRAL = ("decprnn-postdn", "prnn-postdn", "meta-lstm", "meta-rnn")
# Cheap and central rows first, so a partial table is already informative.
ORDER_9 = (
    "decprnn-postdn",
    "meta-rnn",
    "meta-lstm",
    "prnn-postdn",
    "dnn",
    "meta-dnn",
    "meta-rnn-32",
    "decprnn",
    "decprnn-predn",
    "decpdnn",
    "decpdnn-predn",
    "decpdnn-postdn",
    "prnn",
    "prnn-predn",
    "prnn-scratch-et",
    "prnn-et",
    "merged-prnn-postdn",
)
VARIANT_NOTES = {
    "dnn": "no plasticity: no variant; sees only the 9 view cells",
    "meta-dnn": "no plasticity; April-2022 reward slot",
    "meta-rnn-32": "no plasticity; April-2022 reward slot",
    "meta-rnn": "no plasticity; April-2022 reward slot",
    "meta-lstm": "no plasticity; April-2022 reward slot",
    "prnn": "type-1 ABCD, scale 0.05 in every code version",
    "prnn-predn": "one-dimensional PreDN pair (predn=paper): 81 genes = Table 1's 20,694",
    "prnn-postdn": "type-1 ABCD, PostDN unchanged in every version",
    "decpdnn": "unmodulated decomposed update has no 0.20 factor in any version",
    "decpdnn-predn": "modulated_scale=1.0 (April 2022; the 0.20 factor dates from 07-02)",
    "decpdnn-postdn": "modulated_scale=1.0 (April 2022)",
    "decprnn": "unmodulated: scale 1 in every version",
    "decprnn-predn": "modulated_scale=1.0 + predn=paper: only April-2022 code gives 1,298",
    "decprnn-postdn": "modulated_scale=1.0: the released genome scores 0.82 vs 0.72 at 0.20",
    "prnn-et": "hebbjax's only ET rule (EPA-SEP: squashed eta, 0.001, clip 5); "
    "April-2022 ET (eta raw, scale 1, no clip) not expressible; 5,577 genes, not 5,511",
    "prnn-scratch-et": "hebbjax's only ET rule (EPA-SEP), see prnn-et",
    "merged-prnn-postdn": "stage 2 from the PRNN(PostDN) row's best-validation genome "
    "(k-means K = 128, 79), evolved for the same generations",
}


def _preload() -> None:
    """Import every hebbjax module this run needs now: the package is being refactored in
    the shared tree, and a long run must not pick up a half-edited module later."""
    import matplotlib  # noqa: F401
    import sklearn.cluster  # noqa: F401

    import hebbjax.envs.baselines  # noqa: F401
    import hebbjax.evolution.merge  # noqa: F401
    import hebbjax.evolution.train  # noqa: F401
    import hebbjax.rollout  # noqa: F401


def evaluate_on_test(model, task, params, seed: int = 2022) -> dict[str, Any]:
    """One lifetime of ``params`` on each test maze: score +- s.e. and per-rollout stats.

    The ONE place that depends on hebbjax's evaluation API (``hebbjax.rollout``, which
    replaced ``hebbjax.evaluate.evaluate_lifetimes`` + ``summarize_lifetimes``; same
    lifetimes, same keys).
    """
    import jax

    from hebbjax.rollout import evaluate, summarize

    s = summarize(evaluate(model, task, params, "test", jax.random.key(seed)))
    return dict(
        score=s["score"],
        score_stderr=s["score_stderr"],
        rollout_return=s["return_mean"],
        rollout_return_stderr=s["return_stderr"],
        goal_rate=s["success_rate"],
        positive_return_rate=s["positive_return_rate"],
        n_mazes=s["n_lifetimes"],
    )


def _cpu_seconds() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def make_config(row: Row, args: argparse.Namespace):
    from hebbjax.config import TrainConfig

    return TrainConfig(
        task=f"maze{args.size}",
        model=row.model,
        preset="table1",
        strategy=args.strategy,
        population=args.population,
        generations=args.generations,
        seed=args.seed,
        schedule=((0, args.mazes),),
        repeats=args.repeats,
        sigma0=args.sigma0,
        validate_every=args.validate_every,
        n_validation=args.n_validation,
        validation_repeats=1,
        checkpoint_every=args.checkpoint_every,
        model_kwargs=dict(row.model_kwargs),
        task_kwargs=dict(TASK_KWARGS),
        strategy_kwargs=dict(args.strategy_opt),
    )


def _budget_fields(config) -> dict:
    d = json.loads(config.to_json())
    return {k: v for k, v in d.items() if k not in ("model", "model_kwargs")}


def _merged_config(args, run_dir: Path, source_dir: Path):
    """Stage-2 config and initial genome of Evolving & Merging (or the saved config)."""
    import dataclasses

    from hebbjax.config import TrainConfig
    from hebbjax.evolution.merge import merge_run

    if (run_dir / "checkpoint.npz").exists():
        config = TrainConfig.load(run_dir / "config.json")
        return dataclasses.replace(config, generations=args.generations), None
    if not any(
        (d / "best_genome.npz").exists()
        for d in (source_dir, _genome_dir(args, "prnn-postdn"))
    ):
        raise RuntimeError(
            "Evolving & Merging needs the finished prnn-postdn row's genome first; "
            "train it with `python -m benchmarks.reproduce.table1 --models prnn-postdn "
            "--fresh`"
        )
    if not (source_dir / "best_genome.npz").exists():
        source_dir = _genome_dir(args, "prnn-postdn")  # committed with its row
    config, init_params = merge_run(source_dir, generations=args.generations)
    return config, init_params


def atomic_write_bytes(path: Path, data: bytes) -> None:
    from hebbjax.checkpoint import atomic_write_bytes as write  # imports jax

    write(path, data)


def _stem(args) -> str:
    return "table1" if args.size == 9 else f"table1_maze{args.size}"


def _genome_dir(args, key: str) -> Path:
    """Where a finished row's genomes and config are committed (``hebbjax eval`` reads
    them; Evolving & Merging starts from prnn-postdn's)."""
    size = "" if args.size == 9 else f"maze{args.size}/"
    return args.out / "genomes" / f"{size}{key}"


def _committed_row(args, key: str, budget: dict | None = None) -> dict | None:
    """A finished row in the committed table at this budget (run directories are not
    committed: a fresh clone continues from the table instead of retraining)."""
    for r in args.committed:
        if r.get("key") == key and budget in (None, r.get("budget")):
            return r
    return None


def run_row(row: Row, args: argparse.Namespace, runs: Path) -> dict | None:
    """Train (or continue) one row and evaluate it on the test mazes; None if skipped."""
    import jax
    import numpy as np

    from hebbjax.evolution.train import build_run, train
    from hebbjax.models.base import n_gene

    run_dir = runs / row.key
    init_params = None
    if row.key == "merged-prnn-postdn":
        try:
            config, init_params = _merged_config(args, run_dir, runs / "prnn-postdn")
        except RuntimeError as err:
            print(f"{row.key}: skipped ({err})", flush=True)
            return None
    else:
        config = make_config(row, args)
    test_file = run_dir / "test.json"
    if test_file.exists():
        done = json.loads(test_file.read_text())
        if done.get("budget") == _budget_fields(config):
            return done
    committed = _committed_row(args, row.key, _budget_fields(config))
    if committed is not None and not (run_dir / "checkpoint.npz").exists():
        return committed
    if run_dir.exists() and not (run_dir / "checkpoint.npz").exists():
        shutil.rmtree(run_dir)
    resume = (run_dir / "checkpoint.npz").exists()
    sessions_file = run_dir / "sessions.json"
    sessions = json.loads(sessions_file.read_text()) if sessions_file.exists() else []
    t0, c0, load0 = time.perf_counter(), _cpu_seconds(), os.getloadavg()
    print(f"{row.key}: {'resuming' if resume else 'training'} ...", flush=True)

    def progress(generation: int, record: dict) -> None:
        if "validation" in record:
            v = record["validation"]
            print(
                f"  {row.key} gen {generation:5d} validation {v['score']:+.3f} "
                f"goal {v.get('success_rate', v.get('rollout_success'))[-1]:.2f} step {record.get('step_size', 0):.4f}"
                f" {record['wall_seconds']:.2f} s/gen load {os.getloadavg()[0]:.1f}",
                flush=True,
            )

    result = train(
        config, run_dir, resume=resume, init_params=init_params, progress_fn=progress
    )
    sessions.append(
        dict(
            started=time.strftime("%Y-%m-%d %H:%M:%S"),
            wall_seconds=time.perf_counter() - t0,
            cpu_seconds=_cpu_seconds() - c0,
            load_start=load0,
            load_end=os.getloadavg(),
        )
    )
    sessions_file.write_text(json.dumps(sessions, indent=1))
    setup = build_run(config)
    model, task = setup.model, setup.task
    history = result.history
    curve = [
        (r["generation"], r["validation"]["score"])
        for r in history
        if "validation" in r
    ]
    if history and "final_validation" in history[-1]:
        curve.append((config.generations, history[-1]["final_validation"]["score"]))
    t_eval = time.perf_counter()
    test_mean = evaluate_on_test(model, task, result.mean_params)
    test_best = evaluate_on_test(model, task, result.best_params)
    eval_seconds = time.perf_counter() - t_eval
    lifetimes = sum(config.population * r["n_tasks"] * config.repeats for r in history)
    paper = row.paper9 if args.size == 9 else row.paper15
    out = dict(
        key=row.key,
        label=row.label,
        model=config.model,
        model_kwargs={
            k: v for k, v in config.model_kwargs.items() if not k.startswith("assign")
        },
        task_kwargs=config.task_kwargs,
        n_gene=int(n_gene(model)),
        n_mem=int(model.n_mem),
        paper_n_gene=row.paper_gene,
        paper_n_mem=row.paper_mem,
        paper=paper,
        test=test_mean,
        test_best_validation_genome=test_best,
        best_generation=result.best_generation,
        curve=curve,
        train_fitness=[(r["generation"], r["fitness_mean"]) for r in history],
        step_size=[(r["generation"], r.get("step_size")) for r in history][::10],
        agent_steps=int(sum(r["env_steps"] for r in history)),
        lifetimes=int(lifetimes),
        generation_seconds=float(sum(r["wall_seconds"] for r in history)),
        compile_seconds=float(sum(r["compile_seconds"] for r in history)),
        median_generation_seconds=float(
            np.median([r["wall_seconds"] for r in history])
        ),
        sessions=sessions,
        wall_seconds=float(sum(s["wall_seconds"] for s in sessions)),
        cpu_seconds=float(sum(s["cpu_seconds"] for s in sessions)),
        eval_seconds=eval_seconds,
        variant=VARIANT_NOTES[row.key],
        budget=_budget_fields(config),
        devices=len(jax.devices()),
    )
    atomic_write_bytes(test_file, json.dumps(out, indent=1).encode())
    keep_genomes(run_dir, _genome_dir(args, row.key))
    print(
        f"{row.key:20s} test {test_mean['score']:+.3f} +- {test_mean['score_stderr']:.3f}"
        f" (best-val genome {test_best['score']:+.3f}; paper {paper[0]:+.3f}) "
        f"{out['wall_seconds']:.0f} s, load {os.getloadavg()[0]:.1f}",
        flush=True,
    )
    return out


def baselines(size: int) -> dict:
    import jax

    from hebbjax.envs.baselines import maze_baselines
    from hebbjax.tasks import make_task

    task = make_task(f"maze{size}")
    return maze_baselines(task.test_set(), jax.random.key(2022))


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
    (args.out / f"{stem}.json").write_text(json.dumps(data, indent=1))

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
    (args.out / f"{stem}.md").write_text("\n".join(lines) + "\n")
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


def _strategy_opt(items: list[str]) -> dict:
    out = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep:
            raise SystemExit(f"--strategy-opt takes NAME=VALUE, got {item!r}")
        try:
            out[name] = json.loads(value)
        except json.JSONDecodeError:
            out[name] = value
    return out


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--size", type=int, choices=(9, 15), default=9)
    p.add_argument("--models", nargs="*", default=None, help="row keys (default: all)")
    p.add_argument("--strategy", default="paper-cmaes")
    p.add_argument("--strategy-opt", action="append", default=[], metavar="NAME=VALUE")
    p.add_argument("--population", type=int, default=128)
    p.add_argument("--mazes", type=int, default=8, help="mazes per generation")
    p.add_argument("--repeats", type=int, default=1)
    p.add_argument("--sigma0", type=float, default=0.05)
    p.add_argument(
        "--generations", type=int, default=None, help="default 1000 (9x9), 500 (15x15)"
    )
    p.add_argument("--validate-every", type=int, default=None)
    p.add_argument("--n-validation", type=int, default=1024)
    p.add_argument("--checkpoint-every", type=int, default=25)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", type=Path, default=OUT)
    p.add_argument(
        "--report-only", action="store_true", help="only rewrite the outputs"
    )
    p.add_argument(
        "--fresh",
        action="store_true",
        help="delete the selected rows' runs and committed results and train them again "
        "(the other rows of the table are kept)",
    )
    args = p.parse_args(argv)
    args.strategy_opt = _strategy_opt(args.strategy_opt)
    if args.generations is None:  # 15x15 lifetimes are about 2x longer: half as many
        args.generations = 1000 if args.size == 9 else 500
    if args.validate_every is None:
        args.validate_every = max(1, args.generations // 20)
    if args.models is None:
        args.models = list(ORDER_9 if args.size == 9 else CENTRAL)
    unknown = sorted(set(args.models) - set(ROW))
    if unknown:
        raise SystemExit(f"unknown row(s) {unknown}; valid: {', '.join(ROW)}")
    return args


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    from hebbjax.cli import use_all_cpu_cores

    use_all_cpu_cores()
    os.environ.setdefault("HEBBJAX_QUIET", "1")
    _preload()
    runs = (
        args.out / "runs" if args.size == 9 else args.out / "runs" / f"maze{args.size}"
    )
    stem = _stem(args)
    table = args.out / f"{stem}.json"  # read once: rewritten as the rows finish
    args.committed = json.loads(table.read_text())["rows"] if table.exists() else []
    if args.fresh:  # the selected rows train again: neither run nor committed row kept
        for key in args.models:
            shutil.rmtree(runs / key, ignore_errors=True)
        args.committed = [r for r in args.committed if r.get("key") not in args.models]
    runs.mkdir(parents=True, exist_ok=True)
    base = baselines(args.size)
    # rows of the committed table that this call does not select stay in it
    others = [r for r in args.committed if r.get("key") not in args.models]
    rows = []
    for key in args.models:
        if args.report_only:
            f = runs / key / "test.json"
            row = json.loads(f.read_text()) if f.exists() else _committed_row(args, key)
        else:
            row = run_row(ROW[key], args, runs)
        if row is not None:
            rows.append(row)
            write_outputs(_in_table_order(others + rows), base, args, stem)
    if others and not rows:  # nothing written above: the table is rewritten as it was
        write_outputs(_in_table_order(others), base, args, stem)


def _in_table_order(rows: list[dict]) -> list[dict]:
    """One row per key (the later wins), in the order of ``ROWS``."""
    by_key = {r["key"]: r for r in rows}
    return [by_key[k] for k in ROW if k in by_key]


if __name__ == "__main__":
    main()

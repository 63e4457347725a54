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
import os
import resource
import shutil
import time
from pathlib import Path
from typing import Any

from benchmarks.reproduce import keep_genomes
from benchmarks.reproduce.table1_report import write_outputs
from benchmarks.reproduce.table1_rows import (
    CENTRAL,
    ORDER_9,
    ROW,
    TASK_KWARGS,
    VARIANT_NOTES,
    Row,
)
from hebbjax.checkpoint import atomic_write_bytes

OUT = Path(__file__).resolve().parents[1] / "results" / "reproduce"


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
    atomic_write_bytes(sessions_file, json.dumps(sessions, indent=1).encode())
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

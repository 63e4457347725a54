"""EPRNN and its baselines at equal budget on the tasks of Tables 2 and 3.

Wang et al., "Do What Nature Did To Us" (EPRNN), Tables 2-3; tasks and ES of spec
``maze-decprnn-eprnn.md`` sections 4.1-4.4. Every run uses the paper's outer loop
(``eprnn-es``: P = 398, i.e. the reference's 199 mirrored pairs, lr 0.02, s = 1e-2 / 1e-3,
the best and worst 16 for the step sizes) with the same population and tasks per
generation (16 for Sequence Predicting, 4 for Wheeled Robot Navigating); the models are
the reference code's (ES-LSTM of 32 hidden + 32 cell units, evolved initial states). The
paper ran 15,000 generations; each row states its own.

Each row reports, on the 1,600 seeded test tasks, the final mean genome and the genome of
the best validation (1,600 validation tasks), beside the paper's own summary statistic
computed on our validation curve: the mean of the top 3 of the last 10 validation scores.

    python -m benchmarks.eprnn_compare --queue tables [--equal-generations 2000]
    python -m benchmarks.eprnn_compare --cell seqpred-l1-k10-n20:eprnn,es-rnn=15000 ...
    python -m benchmarks.eprnn_compare --generations 250 [--tasks ...] [--models ...]
    python -m benchmarks.eprnn_compare --cell wrnav-noise0.05:eprnn=2000 --seeds 1 2

The cells run one after the other in the order given. Seeds: the paper's statistic is the
mean over 3 independent runs; ``--seeds`` runs every selected cell once per seed (seed 0,
the default, is the run of each row so far; seed s > 0 runs in ``<cell>_s<s>`` and its
row names it), and the cells with several finished seeds get the mean +- std of the
statistic over their seeds beside the paper's. Resumable: a finished row in
``results.json`` with the same settings is kept, an interrupted run continues from its
last checkpoint (every 100 generations) in ``--runs-dir``, and a cell given more
generations than a finished run of it (same task, model, seed and settings) continues a
copy of that run (``continued_from.json``; the shorter run and its row are kept).
``results.json``, ``results.md`` and ``curves.png`` in ``--out`` are rewritten atomically
after every row and at every validation of the running one (marked "running").
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
from pathlib import Path

from benchmarks.eprnn_cells import (
    MAX_CURVE_POINTS,
    MODELS,
    OUT,
    PAPER,
    ROOT,
    RUNS,
    Cell,
    cell_of,
    is_finished,
    tables_queue,
    with_seeds,
)
from benchmarks.eprnn_compare_report import (
    fmt_value,
    label,
    merge_finished,
    write_outputs,
)


def test_score(setup, params) -> tuple[float, float]:
    """Mean fitness of one genome on the task's 1,600 seeded test tasks, +- std error.

    The only evaluation call of this benchmark (one lifetime per test task, key 1).
    """
    import jax
    import numpy as np

    from hebbjax.rollout import evaluate

    result = evaluate(setup.model, setup.task, params, "test", jax.random.key(1))
    fitness = np.asarray(result.fitness).ravel()
    return float(fitness.mean()), float(fitness.std() / np.sqrt(fitness.size))


def navigation_of(setup, params) -> dict:
    """The wheeled robot's behaviour under one genome (``hebbjax analyze navigation``):
    the TEST episode's statistics and the verdict, on the first 512 test tasks."""
    import jax

    from hebbjax.analysis.navigation import navigation, verdict
    from hebbjax.analysis.sources import Subject

    subject = Subject("mean", "", {}, setup.model, params, setup.task.name, {}, "test")
    data = navigation(subject, setup.task, "test", jax.random.key(1), n_tasks=512)
    return data["episodes"][-1] | {"verdict": verdict(data)}


def add_navigation(rows: list[dict], prepare_fn) -> bool:
    """Fill in ``navigation`` for finished wheeled-robot rows from their run's final mean
    genome (rows finished before this existed); True when any row changed."""
    from hebbjax.models.genome_io import load_genome

    changed = False
    for r in rows:
        genome = ROOT / r.get("run_dir", "") / "mean_genome.npz"
        if (
            not r["task"].startswith("wrnav")
            or "navigation" in r
            or not genome.exists()
        ):
            continue
        setup = prepare_fn(cell_of(r))[1]
        params = load_genome(genome, setup.model, fmt="npz")
        r["navigation"] = navigation_of(setup, params)
        changed = True
    return changed


def do_nothing_score(setup) -> float:
    """The zero genome's test score: output 0, i.e. predict 0 / stand still."""
    import jax
    import jax.numpy as jnp

    return test_score(setup, jax.tree.map(jnp.zeros_like, setup.init_params))[0]


def paper_statistic(scores: list[float]) -> float:
    """The paper's summary: the mean of the top 3 of the last 10 validation scores."""
    last = sorted(scores[-10:], reverse=True)
    return float(statistics.fmean(last[:3]))


def thin(points: list, limit: int = MAX_CURVE_POINTS) -> list:
    """At most ``limit`` evenly spaced points, the last one kept."""
    if len(points) <= limit:
        return points
    stride = -(-len(points) // limit)
    return points[::stride] + ([points[-1]] if (len(points) - 1) % stride else [])


def make_config(cell: Cell, population: int, lr: float, validate_every: int):
    from hebbjax.config import TrainConfig

    n_tasks = 16 if cell.task.startswith("seqpred") else 4
    return TrainConfig(
        task=cell.task,
        model=cell.model,
        strategy="eprnn-es",
        population=population,
        generations=cell.generations,
        seed=cell.seed,
        schedule=((0, n_tasks),),
        sigma0=0.01,
        validate_every=validate_every,
        n_validation=1600,
        checkpoint_every=max(validate_every, 100),
        strategy_kwargs={"learning_rate": lr},
    )


def validate_every_for(generations: int) -> int:
    """Every 100 generations as the paper, at least 20 validations in a short run."""
    return min(100, max(1, generations // 20))


def run_dir_for(runs: Path, cell: Cell) -> Path:
    seed = f"_s{cell.seed}" if cell.seed else ""
    return runs / f"{cell.task}_{cell.model}_g{cell.generations}{seed}"


CONTINUED_FROM = "continued_from.json"


def shorter_run(runs: Path, cell: Cell, config) -> Path | None:
    """The longest finished run of this cell (task, model, seed) with fewer generations
    whose settings are ``config``'s but for ``generations``, or None.

    Training resumes to the bit with only ``generations`` extended, so continuing that
    run gives what a run from scratch would, for the generations it has not done.
    """
    import re

    from hebbjax.config import TrainConfig
    from hebbjax.evolution.run_files import (
        CHECKPOINT,
        CONFIG,
        RESUME_MAY_CHANGE,
        read_metrics,
    )

    seed = f"_s{cell.seed}" if cell.seed else ""
    name = re.compile(rf"{re.escape(cell.task)}_{re.escape(cell.model)}_g(\d+){seed}")
    found: list[tuple[int, Path]] = []
    for path in runs.glob(f"{cell.task}_{cell.model}_g*"):
        match = name.fullmatch(path.name)
        if not match or not (path / CHECKPOINT).is_file():
            continue
        generations = int(match.group(1))
        if generations >= cell.generations:
            continue
        try:
            saved = TrainConfig.from_file(path / CONFIG)
        except ValueError:  # ConfigError: unreadable or not a config
            continue
        if saved.differences(config, ignore=RESUME_MAY_CHANGE):
            continue
        if len(read_metrics(path)) == generations:  # finished
            found.append((generations, path))
    return max(found)[1] if found else None


def continue_shorter(runs: Path, cell: Cell, config, run_dir: Path) -> str | None:
    """Start ``run_dir`` (no checkpoint yet) as a copy of ``shorter_run``'s files, which
    are kept; the name of the run it continues, or None. Atomic: a copy killed halfway
    leaves no ``run_dir``."""
    import shutil

    source = shorter_run(runs, cell, config)
    if source is None:
        return None
    staging = run_dir.with_name(run_dir.name + ".copying")
    shutil.rmtree(staging, ignore_errors=True)
    shutil.copytree(source, staging, ignore=shutil.ignore_patterns(".*"))  # not .lock
    (staging / CONTINUED_FROM).write_text(json.dumps({"run": source.name}) + "\n")
    shutil.rmtree(run_dir, ignore_errors=True)
    os.replace(staging, run_dir)
    return source.name


def continued_from(run_dir: Path) -> str | None:
    path = run_dir / CONTINUED_FROM
    return json.loads(path.read_text())["run"] if path.exists() else None


def settings_of(cell: Cell, population: int, lr: float, setup) -> dict:
    """What must match for a finished row to count as this cell's."""
    from hebbjax.models.base import n_gene

    return dict(
        task=cell.task,
        model=cell.model,
        generations=cell.generations,
        **({"seed": cell.seed} if cell.seed else {}),  # rows before seeds: seed 0
        population=population,
        learning_rate=lr,
        n_gene=n_gene(setup.model),
        num_extremes=int(setup.es.num_extremes),
    )


def curves_of(history: list[dict]) -> tuple[list, list]:
    val = [
        (r["generation"], r["validation"]["score"])
        for r in history
        if "validation" in r
    ]
    if history and "final_validation" in history[-1]:
        val.append(
            (history[-1]["generation"] + 1, history[-1]["final_validation"]["score"])
        )
    train = [(r["generation"], r["fitness_mean"]) for r in history]
    return val, thin(train)


def progress_row(settings: dict, history: list[dict], trivial: float) -> dict:
    """The row of a run still going: its validation curve so far."""
    curve, train_curve = curves_of(history)
    scores = [v for _, v in curve if v is not None]
    walls = [r["wall_seconds"] for r in history]
    return settings | dict(
        status=f"running ({len(history)}/{settings['generations']})",
        generations_done=len(history),
        paper_statistic=paper_statistic(scores) if scores else None,
        trivial=trivial,
        curve=curve,
        train_curve=train_curve,
        run_seconds=sum(walls),
        median_generation_seconds=statistics.median(walls) if walls else None,
        paper=PAPER[settings["task"]].get(settings["model"]),
    )


def prepare(cell: Cell, population: int, lr: float):
    """``(config, setup, settings)`` of a cell."""
    from hebbjax.evolution.train import build_run

    config = make_config(cell, population, lr, validate_every_for(cell.generations))
    setup = build_run(config)
    return config, setup, settings_of(cell, population, lr, setup)


def run_cell(cell: Cell, prepared, runs: Path, refresh) -> dict:
    """Train (or resume) one cell, test it, and return its row."""
    from hebbjax.evolution.train import CHECKPOINT, read_metrics, train

    config, setup, settings = prepared
    validate_every = config.validate_every
    trivial = do_nothing_score(setup)
    run_dir = run_dir_for(runs, cell)
    if not (run_dir / CHECKPOINT).exists():
        import shutil

        shutil.rmtree(run_dir, ignore_errors=True)  # killed before its first checkpoint
        continue_shorter(runs, cell, config, run_dir)

    def progress_fn(generation: int, record: dict) -> None:
        if "validation" in record:
            refresh(progress_row(settings, read_metrics(run_dir), trivial))

    result = train(
        config, run_dir, resume=(run_dir / CHECKPOINT).exists(), progress_fn=progress_fn
    )
    history = result.history
    curve, train_curve = curves_of(history)
    mean_score, mean_se = test_score(setup, result.mean_params)
    best_score, best_se = test_score(setup, result.best_params)
    nav = {}
    if cell.task.startswith("wrnav"):
        nav = dict(navigation=navigation_of(setup, result.mean_params))
    walls = [r["wall_seconds"] for r in history]
    return settings | dict(
        status="done",
        generations_done=len(history),
        test_mean_genome=mean_score,
        test_mean_genome_stderr=mean_se,
        test_best_genome=best_score,
        test_best_genome_stderr=best_se,
        best_generation=result.best_generation,
        paper_statistic=paper_statistic([v for _, v in curve]),
        trivial=trivial,
        curve=curve,
        train_curve=train_curve,
        compile_seconds=sum(r["compile_seconds"] for r in history),
        run_seconds=sum(walls),
        median_generation_seconds=statistics.median(walls),
        tasks_per_generation=config.schedule[0][1],
        validate_every=validate_every,
        paper=PAPER[cell.task].get(cell.model),
        continued_from=continued_from(run_dir),
        run_dir=str(
            run_dir.relative_to(ROOT) if run_dir.is_relative_to(ROOT) else run_dir
        ),
        **nav,
    )


def parse_cells(items: list[str]) -> list[Cell]:
    cells = []
    for item in items:
        head, sep, gens = item.rpartition("=")
        task, colon, models = head.partition(":")
        if not sep or not colon or task not in PAPER or not gens.isdigit():
            raise SystemExit(
                f"--cell takes TASK:MODEL[,MODEL...]=GENERATIONS with TASK one of "
                f"{', '.join(PAPER)}; got {item!r}"
            )
        cells += [Cell(task, m, int(gens)) for m in models.split(",")]
    return cells


def parse_generations_for(items: list[str]) -> dict[str, int]:
    out = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or name not in PAPER:
            raise SystemExit(
                f"--generations-for takes TASK=G with TASK one of {', '.join(PAPER)}; "
                f"got {item!r}"
            )
        out[name] = int(value)
    return out


def build_queue(args) -> list[Cell]:
    if args.queue == "tables":
        return tables_queue(args.equal_generations, args.extra_generations)
    if args.cell:
        return parse_cells(args.cell)
    unknown = sorted(set(args.tasks) - set(PAPER))
    if unknown:
        raise SystemExit(f"unknown task(s) {unknown}; valid: {', '.join(PAPER)}")
    per_task = parse_generations_for(args.generations_for)
    return [
        Cell(t, m, per_task.get(t, args.generations))
        for t in args.tasks
        for m in args.models
    ]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--queue", choices=["tables"], help="the ordered plan (tables_queue)"
    )
    parser.add_argument("--equal-generations", type=int, default=2000)
    parser.add_argument("--extra-generations", type=int, default=1000)
    parser.add_argument("--cell", action="append", default=[], metavar="TASK:MODELS=G")
    parser.add_argument(
        "--seeds",
        nargs="+",
        type=int,
        default=[0],
        help="run every selected cell once per seed (default 0; the paper: 3 runs)",
    )
    parser.add_argument("--population", type=int, default=398)
    parser.add_argument("--generations", type=int, default=400)
    parser.add_argument(
        "--generations-for", action="append", default=[], metavar="TASK=G"
    )
    parser.add_argument("--tasks", nargs="*", default=list(PAPER))
    parser.add_argument("--models", nargs="*", default=list(MODELS))
    parser.add_argument(
        "--learning-rate", type=float, default=0.02, help="0.02 (code) or 0.2 (paper)"
    )
    parser.add_argument(
        "--fresh",
        action="store_true",
        help="discard every earlier result and run (all cells and seeds, not only the "
        "selected ones)",
    )
    parser.add_argument(
        "--dry-run", action="store_true", help="print the queue and stop"
    )
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument("--runs-dir", type=Path, default=RUNS)
    args = parser.parse_args(argv)
    if any(seed < 0 for seed in args.seeds) or len(set(args.seeds)) < len(args.seeds):
        parser.error(
            f"--seeds must be distinct non-negative integers, got {args.seeds}"
        )
    queue = with_seeds(build_queue(args), args.seeds)
    if args.dry_run:
        for i, cell in enumerate(queue):
            print(f"{i + 1:3d} {cell.task:20s} {label(cell):13s} {cell.generations:6d}")
        return
    from hebbjax.cli import use_all_cpu_cores

    use_all_cpu_cores()
    os.environ.setdefault("HEBBJAX_QUIET", "1")
    results = args.out / "results.json"
    if args.fresh:
        import shutil

        shutil.rmtree(args.runs_dir, ignore_errors=True)
        results.unlink(missing_ok=True)
    rows = json.loads(results.read_text()) if results.exists() else []
    rows = [r for r in rows if r.get("status") == "done"]
    if add_navigation(
        rows, lambda cell: prepare(cell, args.population, args.learning_rate)
    ):
        write_outputs(rows, args.out)

    for cell in queue:
        prepared = prepare(cell, args.population, args.learning_rate)
        settings = prepared[2]
        if is_finished(rows, cell, settings):
            continue
        rows = [r for r in rows if cell_of(r) != cell]

        def refresh(progress: dict, rows=rows) -> None:
            write_outputs(merge_finished(rows + [progress], results), args.out)

        row = run_cell(cell, prepared, args.runs_dir, refresh)
        print(
            f"{cell.task:20s} {label(cell_of(row)):13s} {cell.generations:6d} gens: test "
            f"{row['test_mean_genome']:+.3f} (best-val {row['test_best_genome']:+.3f}; "
            f"top-3 of last 10 val {row['paper_statistic']:+.3f}, paper "
            f"{fmt_value(row['paper'])}; nothing {row['trivial']:+.3f}) "
            f"{row['run_seconds']:.0f} s",
            flush=True,
        )
        rows = merge_finished(rows + [row], results)
        write_outputs(rows, args.out)


if __name__ == "__main__":
    main()

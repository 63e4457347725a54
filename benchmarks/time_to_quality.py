"""Time to quality: validation score of DecPRNN(PostDN) against wall-clock, per outer loop.

Wang et al. 2022 (decomposed plasticity) report DecPRNN(PostDN) at 0.782 on 9x9 and 0.271 on
15x15 mazes (Table 1) after 15,000+ generations of 360 individuals x up to 32 lifetimes. This
benchmark asks how fast this 2-core machine gets there: each experiment
(``time_to_quality_experiments.py``) is one named set of ``TrainConfig`` fields (strategy,
population, mazes per generation, repeats, step size, strategy options; the model is the
Table-1 variant of DecPRNN(PostDN): modulated_scale=1.0, r_slot=prev-reward), trained until a wall-clock (``--minutes``) or lifetime (``--lifetimes``)
budget is spent. Every ``validate_every`` generations the distribution mean is scored on the
first ``n_validation`` of the 1,024 seeded validation mazes; the record keeps the training
wall-clock (generations, compiles and validations, over all sessions), process CPU seconds,
lifetimes, agent-steps and the 1-minute load average beside every point (the machine is
shared: the load says how far a timing is from an idle machine's). At the end, the final mean
is scored on all 1,024 validation mazes and the 2,048 test mazes.

    python -m benchmarks.time_to_quality --experiments maze9-paper-cmaes-p128-n8 \
        [--minutes 60] [--lifetimes 3e6] [--list] [--report-only]

Resumable: each experiment trains in ``benchmarks/results/time_to_quality/runs/<name>`` with
``hebbjax.evolution.train.train``; a run stops only just after a checkpoint, a killed run
continues from its last checkpoint with its clock, and a raised budget continues a finished
one. Writes ``benchmarks/results/time_to_quality/{curves.png, results.json, results.md}``.
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

from benchmarks.time_to_quality_experiments import EXPERIMENTS
from benchmarks.time_to_quality_report import reached, running, write_outputs

OUT = Path(__file__).resolve().parent / "results" / "time_to_quality"


def can_resume(run_dir: Path) -> bool:
    """Whether ``run_dir`` holds a run to continue: a checkpoint and the clock beside it.
    Anything else is removed (killed before its first checkpoint, or between that
    checkpoint and its first clock write: its time is unknown, so it starts over)."""
    if (run_dir / "checkpoint.npz").exists() and (run_dir / "clock.json").exists():
        return True
    if run_dir.exists():
        print(f"{run_dir.name}: no checkpoint and clock to continue; starting over")
        shutil.rmtree(run_dir)
    return False


def _cpu_seconds() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def evaluate_set(model, task, params, task_set, seed: int) -> dict[str, Any]:
    """Score +- s.e. of one lifetime per task of a set: the one place that uses hebbjax's
    evaluation API (``hebbjax.rollout``)."""
    import jax

    from hebbjax.rollout import evaluate, summarize

    s = summarize(evaluate(model, task, params, task_set, jax.random.key(seed)))
    # the paper's score is the last rollout's return (the fitness when the rollout
    # weights are (0, 0, 1); an experiment may train with other weights)
    return dict(
        score=s["return_mean"][-1],
        stderr=s["return_stderr"][-1],
        fitness=s["score"],
        goal_rate=s["success_rate"],
        n=s["n_lifetimes"],
    )


class _Stop(Exception):
    """Raised from the progress callback right after a checkpoint once the budget is spent."""


BRANCH_KEYS = ("note", "branch_from", "branch_min_generation", "schedule_after")


def _schedule(name: str) -> tuple:
    """An experiment's schedule; a branch's as of its ``branch_min_generation`` (a branch
    of a branch starts from its source's whole schedule, not the source spec's own)."""
    spec = EXPERIMENTS[name]
    if not spec.get("branch_from"):
        return spec["schedule"]
    return make_config(name, spec, spec.get("branch_min_generation", 0)).schedule


def make_config(name: str, spec: dict, branch_generation: int | None = None):
    """The ``TrainConfig`` of an experiment. A branch continues another experiment's run
    from its checkpoint at ``branch_generation`` g0 with other late-phase settings: its
    schedule is the source's up to g0, then ``schedule_after`` (``(offset, tasks)`` or
    ``(offset, tasks, {task options})``) shifted by g0."""
    from hebbjax.config import TrainConfig

    fields = {k: v for k, v in spec.items() if k not in BRANCH_KEYS}
    if spec.get("branch_from"):
        if branch_generation is None:
            raise ValueError(f"{name} is a branch: it needs its branch generation")
        g0 = branch_generation
        before = [tuple(x) for x in _schedule(spec["branch_from"])]
        after = [(g0 + off, *rest) for off, *rest in spec.get("schedule_after", ())]
        fields["schedule"] = tuple(x for x in before if x[0] < g0) + tuple(after)
    return TrainConfig(preset="time-to-quality", generations=10**6, **fields)


def branched_at(run_dir: Path) -> int | None:
    """The generation a branch run took its source's checkpoint at (its ``branch.json``);
    None where the run is no branch or not branched yet."""
    info = run_dir / "branch.json"
    return int(json.loads(info.read_text())["generation"]) if info.exists() else None


def branch_generation(name: str, args: argparse.Namespace) -> int | None:
    """g0 of a branch experiment (None for an ordinary one); creates the branch's run
    directory from the source run's current checkpoint the first time."""
    from hebbjax.checkpoint import load_checkpoint, save_checkpoint

    spec = EXPERIMENTS[name]
    if not spec.get("branch_from"):
        return None
    run_dir = args.out / "runs" / name
    if (g0 := branched_at(run_dir)) is not None:
        return g0
    info = run_dir / "branch.json"
    src = args.out / "runs" / spec["branch_from"]
    arrays, meta = load_checkpoint(src / "checkpoint.npz")
    g0 = int(meta["generation"])
    if g0 < spec.get("branch_min_generation", 0):
        raise SystemExit(
            f"{name}: source {spec['branch_from']} is at generation {g0}, "
            f"below {spec['branch_min_generation']}"
        )
    config = make_config(name, spec, g0)
    shutil.rmtree(run_dir, ignore_errors=True)
    run_dir.mkdir(parents=True)
    meta["config"] = json.loads(config.to_json())
    save_checkpoint(run_dir / "checkpoint.npz", arrays, meta)
    (run_dir / "config.json").write_text(config.to_json())
    for genome in ("mean_genome.npz", "best_genome.npz"):
        shutil.copy(src / genome, run_dir / genome)
    metrics = [x for x in (src / "metrics.jsonl").read_text().splitlines() if x]
    keep = [x for x in metrics if json.loads(x)["generation"] < g0]
    (run_dir / "metrics.jsonl").write_text("".join(x + "\n" for x in keep))
    points = [x for x in (src / "points.jsonl").read_text().splitlines() if x]
    keep = [x for x in points if json.loads(x)["generation"] < g0]
    if spec["task"] != EXPERIMENTS[spec["branch_from"]]["task"]:
        keep = []  # a curriculum: the source's scores are another task's
    (run_dir / "points.jsonl").write_text("".join(x + "\n" for x in keep))
    clock = json.loads((src / "clock.json").read_text())
    clock = {k: v for k, v in clock.items() if int(k) <= g0}
    (run_dir / "clock.json").write_text(json.dumps(clock))
    info.write_text(json.dumps(dict(source=spec["branch_from"], generation=g0)))
    return g0


def source_lifetimes(name: str, out: Path):
    """``generation -> lifetimes per task`` (population x repeats) of the run that ran that
    generation: a branch's own from its branch generation, its source's before it."""
    spec = EXPERIMENTS[name]
    own = spec["population"] * spec["repeats"]
    g0 = branched_at(out / "runs" / name) if spec.get("branch_from") else None
    if g0 is None:
        return lambda generation: own
    before = source_lifetimes(spec["branch_from"], out)
    return lambda generation: own if generation >= g0 else before(generation)


def run_experiment(name: str, args: argparse.Namespace) -> dict:
    import jax
    import numpy as np

    from hebbjax.checkpoint import load_checkpoint
    from hebbjax.evolution.train import build_run, read_metrics, train
    from hebbjax.models.genome_io import load_genome
    from hebbjax.tasks.maze_fitness import FITNESS_OPTIONS

    spec = dict(EXPERIMENTS[name])
    if args.validate_every is not None:
        spec |= dict(
            validate_every=args.validate_every, checkpoint_every=args.validate_every
        )
    run_dir = args.out / "runs" / name
    budget = dict(minutes=args.minutes, lifetimes=args.lifetimes)
    g0 = branched_at(run_dir) if args.report_only else branch_generation(name, args)
    config = make_config(name, spec, g0)
    final_file = run_dir / "final.json"
    if final_file.exists():
        final = json.loads(final_file.read_text())
        if final["budget"] == budget or args.report_only:
            return final
    if args.report_only:
        return {}
    resume = can_resume(run_dir)
    clock_file = run_dir / "clock.json"
    clock = {"0": [0.0, 0.0]}
    start_gen = 0
    if resume:
        clock = json.loads(clock_file.read_text())
        start_gen = int(load_checkpoint(run_dir / "checkpoint.npz")[1]["generation"])
    # a kill between the checkpoint and the clock write loses that interval only
    base_wall, base_cpu = clock[str(max(int(k) for k in clock if int(k) <= start_gen))]
    t0, c0 = time.perf_counter(), _cpu_seconds()
    points_file = run_dir / "points.jsonl"
    points = []
    if resume and points_file.exists():
        points = [json.loads(x) for x in points_file.read_text().splitlines() if x]
        points = [p for p in points if p["generation"] < start_gen]
    per_task = source_lifetimes(name, args.out)
    # the score is rollout 3's return; the validation fitness is another number where
    # the experiment trains with its own fitness (then printed beside it)
    reweighted = any(k in config.task_kwargs for k in FITNESS_OPTIONS)

    def lifetimes_at(gen_history: list[dict]) -> int:
        return sum(per_task(r["generation"]) * r["n_tasks"] for r in gen_history)

    history_cache: list[dict] = read_metrics(run_dir) if resume else []
    history_cache = [r for r in history_cache if r["generation"] < start_gen]
    total = {"lifetimes": lifetimes_at(history_cache)}
    total["steps"] = sum(r["env_steps"] for r in history_cache)

    def progress(generation: int, record: dict) -> None:
        wall = base_wall + time.perf_counter() - t0
        cpu = base_cpu + _cpu_seconds() - c0
        total["lifetimes"] += per_task(generation) * record["n_tasks"]
        total["steps"] += record["env_steps"]
        if "validation" in record:
            v = record["validation"]
            point = dict(
                generation=generation,
                score=v.get("return_mean", v.get("rollout_return"))[-1],
                fitness=v["score"],
                goal_rate=v.get("success_rate", v.get("rollout_success"))[-1],
                wall_seconds=wall,
                cpu_seconds=cpu,
                lifetimes=total["lifetimes"],
                agent_steps=total["steps"],
                step_size=record.get("step_size"),
                fitness_mean=record["fitness_mean"],
                load=os.getloadavg()[0],
            )
            points.append(point)
            with open(points_file, "a") as f:
                f.write(json.dumps(point) + "\n")
            print(
                f"{name} gen {generation:6d} val {point['score']:+.3f} "
                + (f"(fitness {v['score']:+.3f}) " if reweighted else "")
                + f"{wall / 60:6.1f} min cpu {cpu / 60:6.1f} min "
                f"{total['lifetimes'] / 1e6:6.2f} M lifetimes step "
                f"{record.get('step_size', 0):.4f} load {point['load']:.1f}",
                flush=True,
            )
        done = generation + 1
        if done % config.checkpoint_every == 0:
            clock[str(done)] = [wall, cpu]
            tmp = clock_file.with_suffix(".tmp")
            tmp.write_text(json.dumps(clock))
            tmp.replace(clock_file)
            over_time = args.minutes is not None and wall >= 60 * args.minutes
            over_life = (
                args.lifetimes is not None and total["lifetimes"] >= args.lifetimes
            )
            if over_time or over_life:
                raise _Stop

    if resume and points_file.exists():
        points_file.write_text("".join(json.dumps(p) + "\n" for p in points))
    try:
        train(config, run_dir, resume=resume, progress_fn=progress)
    except _Stop:
        pass
    setup = build_run(config)
    mean = load_genome(run_dir / "mean_genome.npz", setup.model, fmt="npz")
    validation = evaluate_set(setup.model, setup.task, mean, "validation", 1)
    test = evaluate_set(setup.model, setup.task, mean, "test", 2)
    curve_wall = [p["wall_seconds"] for p in points]
    final = dict(
        name=name,
        spec=spec | {"schedule": [list(x) for x in config.schedule]},  # a branch's own
        budget=budget,
        points=points,
        final_generation=max(int(k) for k in clock),
        final_wall_seconds=max(v[0] for v in clock.values()),
        final_cpu_seconds=max(v[1] for v in clock.values()),
        final_lifetimes=total["lifetimes"],
        validation_1024=validation,
        test_2048=test,
        mean_load=float(np.mean([p["load"] for p in points])) if points else None,
        reached=reached(points, spec["task"]),
        devices=len(jax.devices()),
        max_wall=max(curve_wall) if curve_wall else 0.0,
    )
    final_file.write_text(json.dumps(final, indent=1))
    print(
        f"{name}: final mean validation {validation['score']:+.3f} +- "
        f"{validation['stderr']:.3f}, test {test['score']:+.3f} +- {test['stderr']:.3f} "
        f"after {final['final_wall_seconds'] / 60:.1f} min",
        flush=True,
    )
    return final


def last_checkpoint(name: str, args: argparse.Namespace):
    """``(config, setup, es_state, generation)`` of a run's last checkpoint: its config
    (a branch's as of its branch generation), the run built from it and the restored state."""
    import jax

    from hebbjax.checkpoint import load_checkpoint, unflatten_named
    from hebbjax.evolution.train import build_run

    run_dir = args.out / "runs" / name
    config = make_config(name, EXPERIMENTS[name], branched_at(run_dir))
    setup = build_run(config)
    arrays, meta = load_checkpoint(run_dir / "checkpoint.npz")
    state = setup.es.init(jax.random.key(0), setup.init_params, setup.es_params)
    state = unflatten_named(state, arrays, "es_state")
    return config, setup, state, int(meta["generation"])


def selection_noise(name: str, args: argparse.Namespace, mazes=(8, 32)) -> dict:
    """How much of a generation's ranking is signal: the population of a run's last
    checkpoint is evaluated on two independent draws of n mazes (common random numbers
    within a draw, as in training); the rank correlation between the two fitness vectors
    and the overlap of their top halves say how repeatable truncation selection is."""
    import jax
    import numpy as np

    from hebbjax.rollout import population_evaluator

    run_dir = args.out / "runs" / name
    _, setup, state, gen = last_checkpoint(name, args)
    population, _ = setup.es.ask(jax.random.key(7), state, setup.es_params)
    evaluate = jax.jit(population_evaluator(setup.model, setup.task))
    out = dict(name=name, generation=gen, by_mazes={})
    for n in mazes:
        fits = []
        for draw in (11, 12):
            k_maze, k_life = jax.random.split(jax.random.key(draw * 1000 + n))
            maze = jax.vmap(setup.task.sample_params)(jax.random.split(k_maze, n))
            keys = jax.random.split(k_life, (n, 1))
            res = evaluate(population, maze, keys)
            fits.append(np.asarray(res.fitness, np.float64).mean(axis=(1, 2)))
        a, b = fits
        ra, rb = np.argsort(np.argsort(a)), np.argsort(np.argsort(b))
        half = len(a) // 2
        top_a, top_b = set(np.argsort(-a)[:half]), set(np.argsort(-b)[:half])
        out["by_mazes"][str(n)] = dict(
            spearman=float(np.corrcoef(ra, rb)[0, 1]),
            top_half_overlap=len(top_a & top_b) / half,
            fitness_mean=float((a.mean() + b.mean()) / 2),
            fitness_std=float((a.std() + b.std()) / 2),
            draw_difference_std=float(np.std(a - b) / np.sqrt(2)),
        )
        print(name, n, out["by_mazes"][str(n)], flush=True)
    (run_dir / "noise.json").write_text(json.dumps(out, indent=1))
    return out


def calibrate(name: str, args: argparse.Namespace, generations: int = 20) -> dict:
    """Seconds per generation of a run's configuration from its last checkpoint (so the
    lifetimes have that stage's length), on this process's devices, with the load beside
    it: converts a curve measured under load into minutes of a quieter machine."""
    import jax

    from hebbjax.evolution.loop import make_generation_step
    from hebbjax.parallel import local_mesh

    config, setup, state, gen = last_checkpoint(name, args)
    n_tasks = config.tasks_at(gen)
    step = make_generation_step(
        setup.es, setup.es_params, setup.model, setup.task, n_tasks, config.repeats,
        local_mesh(),
    )  # fmt: skip
    state, m = step(state, jax.random.key(gen))
    jax.block_until_ready(m)
    times, loads = [], []
    for g in range(generations):
        t0 = time.perf_counter()
        state, m = step(state, jax.random.key(gen + 1 + g))
        jax.block_until_ready(m)
        times.append(time.perf_counter() - t0)
        loads.append(os.getloadavg()[0])
    times.sort()
    out = dict(
        name=name,
        generation=gen,
        devices=len(jax.devices()),
        min_seconds=times[0],
        median_seconds=times[len(times) // 2],
        load=sum(loads) / len(loads),
        measured=time.strftime("%Y-%m-%d %H:%M:%S"),
    )
    print(out, flush=True)
    with open(args.out / "runs" / name / "calibration.jsonl", "a") as f:
        f.write(json.dumps(out) + "\n")
    return out


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--experiments", nargs="*", default=None)
    p.add_argument("--minutes", type=float, default=60.0)
    p.add_argument("--lifetimes", type=float, default=None)
    p.add_argument("--out", type=Path, default=OUT)
    p.add_argument("--validate-every", type=int, default=None, help="override (tests)")
    p.add_argument("--diagnose", action="store_true", help="selection-noise check")
    p.add_argument("--calibrate", action="store_true", help="time generations")
    p.add_argument("--list", action="store_true")
    p.add_argument("--report-only", action="store_true")
    p.add_argument(
        "--notes", type=Path, default=None, help="markdown appended to results.md"
    )
    args = p.parse_args(argv)
    if args.experiments is None:
        args.experiments = list(EXPERIMENTS)
    unknown = sorted(set(args.experiments) - set(EXPERIMENTS))
    if unknown:
        raise SystemExit(
            f"unknown experiment(s) {unknown}; valid: {', '.join(EXPERIMENTS)}"
        )
    return args


def main(argv=None) -> None:
    args = parse_args(argv)
    if args.list:
        for name, spec in EXPERIMENTS.items():
            print(name, json.dumps(spec))
        return
    from hebbjax.cli import use_all_cpu_cores

    use_all_cpu_cores()
    import matplotlib  # noqa: F401

    import hebbjax.evolution.train  # noqa: F401
    import hebbjax.rollout  # noqa: F401  (loaded now: src/ is being refactored)

    (args.out / "runs").mkdir(parents=True, exist_ok=True)
    notes = args.notes.read_text() if args.notes else ""

    # the committed table, read once: the run directories are not committed, so a fresh
    # clone keeps the experiments it finished earlier
    table = args.out / "results.json"
    committed = json.loads(table.read_text()) if table.exists() else []

    def collected() -> list[dict]:
        # every finished experiment on disk (several processes may run experiments at once)
        finals = sorted((args.out / "runs").glob("*/final.json"))
        found = [json.loads(f.read_text()) for f in finals]
        names = {r["name"] for r in found}
        return [r for r in committed if r["name"] not in names] + found

    if args.diagnose or args.calibrate:
        for name in args.experiments:
            if args.diagnose:
                selection_noise(name, args)
            if args.calibrate:
                calibrate(name, args)
        write_outputs(collected(), args.out, notes, running(args.out))
        return
    for name in args.experiments:
        if not args.report_only:
            run_experiment(name, args)
        write_outputs(collected(), args.out, notes, running(args.out))
    write_outputs(collected(), args.out, notes, running(args.out))


if __name__ == "__main__":
    main()

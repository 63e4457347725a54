"""Measurement jobs of ``python -m benchmarks``; each runs in its own process.

The device count of a JAX process is fixed when its backend starts, so the orchestrator
(``benchmarks/__main__.py``) runs every job as ``python -m benchmarks.throughput JOB ...`` with
its own ``XLA_FLAGS`` and reads one JSON object from the last line of its stdout. Jobs:

- ``baseline``: the plain-numpy one-individual-at-a-time inner loop
  (``benchmarks/numpy_baseline.py``), pinned to one core with single-threaded BLAS;
- ``sweep``: agent-steps/s of the full hebbjax inner loop (maze env + model + action sampling:
  the maze task's lifetime), P individuals with random N(0, 0.05^2) genomes, one lifetime each,
  evaluated by ``evolution.loop.population_evaluator`` (sharded, in blocks of
  ``block_lifetimes``: ``compact="off"``, so the sweep measures the model's step as the
  roofline counts it, where training pools lifetimes by default, ``benchmarks/compaction.py``);
- ``blocks``: the same at one population for several ``block_lifetimes`` settings;
- ``generation``: seconds per generation of ``evolution.loop.make_generation_step`` with the
  ``paper-cmaes`` strategy (ask, evaluate, tell);
- ``scaling``: seconds per generation against population, lifetime length and hidden size;
- ``asktell``: each strategy's ask + tell alone, the evaluation alone and the whole
  generation (``benchmarks/asktell.py``);
- ``limits``: this machine's ceilings (matmul FLOP/s, L2 / last-level / main-memory
  bandwidth, ``benchmarks/machine_limits.py``) and the cost model of each maze model
  (``benchmarks/cost_model.py``), for the roofline of ``benchmarks/roofline.py``.

Times are medians of ``repeats`` timed calls after one warm-up call; compile time
(``lower().compile()``) is reported separately. Steps are environment steps actually taken
(``LifetimeResult.steps``), not padded loop iterations.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import resource
import statistics
import sys
import time
from pathlib import Path

_REPO = Path(__file__).resolve().parents[1]


def _asktell():
    sys.path.insert(0, str(_REPO))
    from benchmarks import asktell

    return asktell


def peak_rss_mb() -> float:
    """Peak resident set size of this process, MiB (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _timed(fn, repeats: int) -> tuple[float, list[float], object, float]:
    """Median seconds, all times, the last output and the process's CPU share
    (CPU seconds over wall seconds x devices) over the timed calls."""
    import jax

    out = jax.block_until_ready(fn())  # warm-up (page faults, thread pools)
    times, cpu = [], 0.0
    for _ in range(repeats):
        t0, c0 = time.perf_counter(), time.process_time()
        out = jax.block_until_ready(fn())
        times.append(time.perf_counter() - t0)
        cpu += time.process_time() - c0
    share = cpu / sum(times) / jax.device_count()
    return statistics.median(times), times, out, share


def job_baseline(args) -> dict:
    sys.path.insert(0, str(_REPO))
    from benchmarks import numpy_baseline as nb

    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    out = {}
    for model in args.models:
        rates = [
            nb.measure(model, args.lifetimes, seed) for seed in range(args.repeats)
        ]
        out[model] = dict(
            steps_per_s=statistics.median(rates),
            repeats=rates,
            lifetimes=args.lifetimes,
        )
    return dict(models=out, peak_rss_mb=peak_rss_mb())


def _population_runner(
    model_name, population, block, form, hidden=64, n_tasks=1, **task_kw
):
    import jax

    from hebbjax.models import make_model
    from hebbjax.parallel import local_mesh
    from hebbjax.rollout import population_evaluator
    from hebbjax.tasks import make_task

    task = make_task("maze", block_lifetimes=block, **{"compact": "off", **task_kw})
    kw = {"hidden": hidden}
    if form in LAYOUT_FORMS:  # where a lifetime stores its genome matrices
        kw["layout"] = form
    elif form != "direct":
        kw["plastic_form"] = form
    model = make_model(model_name, **kw)
    keys = jax.random.split(jax.random.key(0), population)
    params = jax.vmap(model.init_params)(keys)
    mazes = jax.vmap(task.sample_params)(jax.random.split(jax.random.key(1), n_tasks))
    life_keys = jax.random.split(jax.random.key(2), (n_tasks, 1))
    evaluate = jax.jit(population_evaluator(model, task, local_mesh()))
    t0 = time.perf_counter()
    compiled = evaluate.lower(params, mazes, life_keys).compile()
    compile_s = time.perf_counter() - t0
    return compiled, (params, mazes, life_keys), compile_s


def _measure_population(
    model_name, population, block, form, repeats, n_tasks=1
) -> dict:
    """Agent-steps/s of ``population`` individuals, each on ``n_tasks`` mazes (the
    individual's lifetimes share its genome in a block: ``lifetimes_per_genome``)."""
    compiled, inputs, compile_s = _population_runner(
        model_name, population, block, form, n_tasks=n_tasks
    )
    seconds, times, result, share = _timed(lambda: compiled(*inputs), repeats)
    steps = int(result.steps.sum())
    return dict(
        model=model_name,
        form=form,
        population=population,
        lifetimes_per_genome=n_tasks,
        block_lifetimes=block,
        compile_seconds=compile_s,
        run_seconds=seconds,
        run_seconds_repeats=times,
        agent_steps=steps,
        steps_per_s=steps / seconds,
        cpu_share=share,
    )


#: forms that are a model's ``layout`` option (Meta-RNN, Meta-LSTM), not a plastic form
LAYOUT_FORMS = ("pre-major", "post-major")


def _has_form(model: str, form: str) -> bool:
    """Whether ``model`` takes ``form`` ("direct" always: the model's default)."""
    import inspect

    from hebbjax.models import MODELS

    if form == "direct":
        return True
    option = "layout" if form in LAYOUT_FORMS else "plastic_form"
    return option in inspect.signature(MODELS.get(model)).parameters


def job_sweep(args) -> dict:
    rows = []
    for model in args.models:
        for form in args.forms:
            if not _has_form(model, form):
                continue
            plan = [(p, 1) for p in args.populations]
            plan += [(p, args.train_tasks) for p in args.train_populations]
            for population, n_tasks in plan:
                row = _measure_population(
                    model, population, args.block, form, args.repeats, n_tasks
                )
                print(json.dumps(row), file=sys.stderr, flush=True)
                rows.append(row)
    return dict(rows=rows, peak_rss_mb=peak_rss_mb())


def job_blocks(args) -> dict:
    """Agent-steps/s of each model and form at one population for each ``--blocks``
    setting (0: no blocking), one lifetime per individual or ``--block-tasks`` each."""
    rows = []
    for name, block, form in itertools.product(args.models, args.blocks, args.forms):
        if not _has_form(name, form):
            continue
        row = _measure_population(
            name,
            args.populations[0],
            None if block == 0 else block,
            form,
            args.repeats,
            n_tasks=args.block_tasks,
        )
        print(json.dumps(row), file=sys.stderr, flush=True)
        rows.append(row)
    return dict(rows=rows, peak_rss_mb=peak_rss_mb())


def _generation(
    population, n_tasks, repeats_per_task, form, mean, hidden=64, **task_kw
):
    import jax
    import numpy as np

    from hebbjax.evolution.loop import make_generation_step
    from hebbjax.evolution.strategies import make_strategy
    from hebbjax.models import make_model
    from hebbjax.models.genome_io import from_epann_flat
    from hebbjax.parallel import local_mesh
    from hebbjax.tasks import make_task

    kw = {"hidden": hidden}
    if form in LAYOUT_FORMS:  # where a lifetime stores its genome matrices
        kw["layout"] = form
    elif form != "direct":
        kw["plastic_form"] = form
    model = make_model("decprnn-postdn", **kw)
    task = make_task("maze", **task_kw)
    if mean == "paper":
        flat = np.load(
            _REPO / "src" / "hebbjax" / "data" / "decprnn_postdn_paper_genome.npy"
        )
        init = from_epann_flat(model, flat)
    else:
        init = model.init_params(jax.random.key(0))
    es, es_params = make_strategy("paper-cmaes", population, init, std_init=0.01)
    step = make_generation_step(
        es, es_params, model, task, n_tasks, repeats_per_task, local_mesh()
    )
    state = es.init(jax.random.key(1), init, es_params)
    t0 = time.perf_counter()
    compiled = step.lower(state, jax.random.key(2)).compile()
    compile_s = time.perf_counter() - t0
    return compiled, state, compile_s


def _measure_generation(population, n_tasks, reps, form, mean, repeats, **kw) -> dict:
    import jax

    compiled, state, compile_s = _generation(
        population, n_tasks, reps, form, mean, **kw
    )
    times, steps = [], []
    for i in range(repeats + 1):  # the first call is the warm-up
        t0 = time.perf_counter()
        state, metrics = compiled(state, jax.random.key(10 + i))
        metrics = jax.block_until_ready(metrics)
        if i:
            times.append(time.perf_counter() - t0)
            steps.append(int(metrics["env_steps"]))
    seconds = statistics.median(times)
    return dict(
        population=population,
        n_tasks=n_tasks,
        repeats_per_task=reps,
        form=form,
        mean=mean,
        **kw,
        lifetimes=population * n_tasks * reps,
        compile_seconds=compile_s,
        seconds=seconds,
        seconds_repeats=times,
        agent_steps=int(statistics.median(steps)),
        steps_per_s=statistics.median(s / t for s, t in zip(steps, times, strict=True)),
    )


def job_generation(args) -> dict:
    rows = []
    for form in args.forms:
        for mean in args.means:
            row = _measure_generation(
                args.populations[0],
                args.n_tasks,
                args.task_repeats,
                form,
                mean,
                args.repeats,
            )
            print(json.dumps(row), file=sys.stderr, flush=True)
            rows.append(row)
    return dict(rows=rows, peak_rss_mb=peak_rss_mb())


def job_scaling(args) -> dict:
    base = dict(n_tasks=args.n_tasks, reps=args.task_repeats, repeats=args.repeats)
    rows = []

    def add(kind, value, population, **kw):
        row = _measure_generation(
            population,
            base["n_tasks"],
            base["reps"],
            args.forms[0],
            "init",
            base["repeats"],
            **kw,
        )
        row["axis"], row["value"] = kind, value
        row["us_per_agent_step"] = 1e6 * row["seconds"] / row["agent_steps"]
        print(json.dumps(row), file=sys.stderr, flush=True)
        rows.append(row)

    populations = sorted(args.populations)
    p0 = populations[len(populations) // 2]  # the other axes vary around this one
    for population in populations:
        add("population", population, population)
    for n_rollouts in args.rollouts:
        add("lifetime_rollouts", n_rollouts, p0, n_rollouts=n_rollouts)
    for hidden in args.hidden:
        add("hidden", hidden, p0, hidden=hidden)
    return dict(rows=rows, peak_rss_mb=peak_rss_mb())


#: strategy -> (task, model, population, tasks per generation, repeats, task options,
#: strategy options): each strategy on the task and population it is used with.
def job_limits(args) -> dict:
    """Machine ceilings and the maze models' cost models (``benchmarks/roofline.py``)."""
    sys.path.insert(0, str(_REPO))
    from benchmarks.cost_model import variant_costs
    from benchmarks.machine_limits import measure_limits

    limits = measure_limits(args.repeats, quick=args.quick)
    return dict(limits=limits, costs=variant_costs(), peak_rss_mb=peak_rss_mb())


JOBS = dict(
    asktell=lambda args: _asktell().job_asktell(args),
    limits=job_limits,
    baseline=job_baseline,
    sweep=job_sweep,
    blocks=job_blocks,
    generation=job_generation,
    scaling=job_scaling,
)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.throughput")
    parser.add_argument("job", choices=sorted(JOBS))
    parser.add_argument("--models", nargs="+", default=["decprnn-postdn"])
    parser.add_argument("--forms", nargs="+", default=["direct"])
    parser.add_argument("--populations", nargs="*", type=int, default=[64])
    parser.add_argument(
        "--train-populations",
        nargs="+",
        type=int,
        default=[],
        help="sweep: also these populations on --train-tasks mazes each (training)",
    )
    parser.add_argument("--train-tasks", type=int, default=8)
    parser.add_argument("--blocks", nargs="+", type=int, default=[32])
    parser.add_argument("--block", type=int, default=32)
    parser.add_argument(
        "--block-tasks", type=int, default=1, help="blocks: mazes per individual"
    )
    parser.add_argument("--means", nargs="+", default=["init"])
    parser.add_argument("--n-tasks", type=int, default=8)
    parser.add_argument("--task-repeats", type=int, default=4)
    parser.add_argument("--rollouts", nargs="+", type=int, default=[])
    parser.add_argument("--hidden", nargs="+", type=int, default=[])
    parser.add_argument("--lifetimes", type=int, default=20)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument(
        "--strategies", nargs="+", default=None, help="asktell: default every case"
    )
    parser.add_argument("--quick", action="store_true", help="limits: fewer passes")
    args = parser.parse_args(argv)
    if args.block == 0:
        args.block = None
    result = JOBS[args.job](args)
    if args.job != "baseline":
        import jax

        result["devices"] = jax.device_count()
    print(json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

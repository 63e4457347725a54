"""The ``asktell`` job of ``benchmarks/throughput.py``: the outer loop's own cost.

For each strategy at its paper's population size and genome (issue 19; ``+table``: with
the shared noise table, ``evolution/noise_table.py``): ``es.ask`` +
``es.tell`` alone in one jit (random fitness), the population's evaluation alone
(``rollout.population_evaluator``) and the whole generation
(``evolution.loop.make_generation_step``), each the median wall and process-CPU seconds of
``repeats`` calls after a warm-up. ``ask_tell_share`` = ask + tell / generation;
``outside_evaluation_share`` = (generation - evaluation) / generation. ``gmm-es``'s
generation is timed twice, interleaved: as it runs (its update split over the devices,
``parallel.sharded_sum``) and with the update summed whole on every device, as before.
"""

from __future__ import annotations

import json
import statistics
import sys
import time

from benchmarks.throughput import peak_rss_mb

#: a short spring-backend ant lifetime (5 s, 250 control steps) for the survey
ANT_SHORT = {"backend": "spring", "seconds": 5.0}

ASKTELL_CASES = {
    "paper-cmaes": ("maze15", "decprnn-postdn", 360, 2, 4, {}, {}),
    "eprnn-es": ("seqpred-l1-k10-n20", "eprnn", 398, 16, 1, {}, {}),
    "sep-cma-es": ("seqpred-l1-k10-n20", "eprnn", 398, 16, 1, {}, {}),
    "openai-es": ("seqpred-l1-k10-n20", "eprnn", 398, 16, 1, {}, {}),
    "najarro-es": ("ant", "hebbian-ffn", 200, 1, 1, ANT_SHORT, {}),
    "gmm-es": ("ant", "hebbian-ffn", 200, 1, 1, ANT_SHORT, {"rho": 64}),
}
# the shared noise table (evolution/noise_table.py) in place of fresh normals
ASKTELL_CASES |= {
    f"{name}+table": (
        *ASKTELL_CASES[name][:-1],
        ASKTELL_CASES[name][-1] | {"noise": "table"},
    )
    for name in ("eprnn-es", "sep-cma-es", "openai-es", "gmm-es")
}
#: strategies whose update sums over the population per device (``parallel.sharded_sum``):
#: their generation is also timed, interleaved, with the update summed whole on every device
SPLIT_UPDATE = ("gmm-es",)


def _whole_update():
    """A context in which traces sum gmm-es's update whole on every device (as before
    the update was split over the devices)."""
    from unittest import mock

    from hebbjax.evolution import gmm_gradient

    return mock.patch.object(gmm_gradient, "context_mesh", lambda: None)


def _interleaved(fns: dict, repeats: int) -> dict:
    """Median wall and CPU seconds of each of ``fns``, called in turn ``repeats`` times
    after one warm-up call each (side by side in one run: the machine's drift cancels)."""
    import jax

    wall = {k: [] for k in fns}
    cpu = {k: [] for k in fns}
    for i in range(repeats + 1):
        for k, fn in fns.items():
            t0, c0 = time.perf_counter(), time.process_time()
            jax.block_until_ready(fn())
            if i:
                wall[k].append(time.perf_counter() - t0)
                cpu[k].append(time.process_time() - c0)
    return {
        k: dict(
            seconds=statistics.median(wall[k]), cpu_seconds=statistics.median(cpu[k])
        )
        for k in fns
    }


def _cpu_timed(fn, repeats: int) -> dict:
    """Median wall and process-CPU seconds of ``fn()`` over ``repeats`` calls."""
    return _interleaved({"fn": fn}, repeats)["fn"]


def case_setup(name: str, case: tuple):
    """``(setup, state, mesh)`` of a case: ``build_run`` of its config (``name``: the
    strategy, ``+variant`` ignored) and the strategy's initial state."""
    import jax

    from hebbjax.config import TrainConfig
    from hebbjax.evolution.train import build_run
    from hebbjax.parallel import local_mesh

    task_name, model_name, population, n_tasks, reps, task_kw, es_kw = case
    config = TrainConfig(
        task=task_name,
        model=model_name,
        strategy=name.split("+")[0],  # "+table": the case's variant
        population=population,
        schedule=((0, n_tasks),),
        repeats=reps,
        task_kwargs=task_kw,
        strategy_kwargs=es_kw,
    )
    setup = build_run(config)
    state = setup.es.init(jax.random.key(0), setup.init_params, setup.es_params)
    return setup, state, local_mesh()


def ask_tell_runner(setup, state, mesh, population: int, keys):
    """A thunk that runs ``ask`` + ``tell`` (random fitness, one jit) on its own copy of
    ``state``, one key of ``keys`` per call."""
    import jax

    from hebbjax.parallel import population_mesh

    es, es_params = setup.es, setup.es_params

    @jax.jit
    def ask_tell(state, key):
        k_ask, k_fit, k_tell = jax.random.split(key, 3)
        population_, state = es.ask(k_ask, state, es_params)
        fitness = jax.random.normal(k_fit, (population,))
        with population_mesh(mesh):  # as in the generation
            state, _ = es.tell(k_tell, population_, fitness, state, es_params)
        return state

    held = [jax.tree.map(lambda x: x.copy(), state)]

    def run():
        held[0] = ask_tell(held[0], next(keys))
        return held[0]

    return run


def generation_runner(setup, state, mesh, n_tasks: int, reps: int, keys, whole=False):
    """A thunk that runs one whole generation (``make_generation_step``) on its own copy
    of ``state``; ``whole``: traced with the update summed whole on every device."""
    import jax

    from hebbjax.evolution.loop import make_generation_step

    step = make_generation_step(setup.es, setup.es_params, setup.model, setup.task,
                                n_tasks, reps, mesh)  # fmt: skip
    held = [jax.tree.map(lambda x: x.copy(), state)]

    def run():
        held[0], metrics = step(held[0], next(keys))
        return metrics

    if whole:  # traced (first call) with the update summed whole on every device
        with _whole_update():
            jax.block_until_ready(run())
    return run


def _asktell_case(name: str, case: tuple, repeats: int) -> dict:
    import jax

    from hebbjax.models.base import n_gene
    from hebbjax.rollout import population_evaluator

    task_name, model_name, population, n_tasks, reps, _, _ = case
    setup, state, mesh = case_setup(name, case)
    es, es_params = setup.es, setup.es_params
    out = dict(
        strategy=name,
        task=task_name,
        model=model_name,
        n_gene=n_gene(setup.model),
        population=population,
        lifetimes=population * n_tasks * reps,
    )
    keys = iter(jax.random.split(jax.random.key(1), 4 * repeats + 8))
    out["ask_tell"] = _cpu_timed(
        ask_tell_runner(setup, state, mesh, population, keys), repeats
    )
    population_, _ = jax.jit(es.ask)(jax.random.key(2), state, es_params)
    task_params = jax.vmap(setup.task.sample_params)(
        jax.random.split(jax.random.key(3), n_tasks)
    )
    life_keys = jax.random.split(jax.random.key(4), (n_tasks, reps))
    evaluate = jax.jit(population_evaluator(setup.model, setup.task, mesh))
    out["evaluate"] = _cpu_timed(
        lambda: evaluate(population_, task_params, life_keys), repeats
    )
    runners = {"generation": generation_runner(setup, state, mesh, n_tasks, reps, keys)}
    if name in SPLIT_UPDATE:
        runners["generation_whole_update"] = generation_runner(
            setup, state, mesh, n_tasks, reps, keys, whole=True
        )
    out |= _interleaved(runners, repeats)
    gen, ev = out["generation"]["seconds"], out["evaluate"]["seconds"]
    out["ask_tell_share"] = out["ask_tell"]["seconds"] / gen
    out["outside_evaluation_share"] = max(0.0, gen - ev) / gen
    return out


def job_asktell(args) -> dict:
    """ask + tell alone, the evaluation alone and the whole generation, per strategy."""
    rows = []
    for name in args.strategies or list(ASKTELL_CASES):
        row = _asktell_case(name, ASKTELL_CASES[name], args.repeats)
        print(json.dumps(row), file=sys.stderr, flush=True)
        rows.append(row)
    return dict(rows=rows, peak_rss_mb=peak_rss_mb())

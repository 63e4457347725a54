"""Does averaging the mean genome over generations lift the maze plateau? (issue 16)

At the 9x9 plateau a generation's search direction is mostly maze noise
(``results/time_to_quality/fitness_noise_maze9.md``): the strategy's mean keeps moving by
about its step size each generation without getting better. If it walks around an
optimum, iterate averaging (Polyak & Juditsky 1992) removes the walk's spread at no cost
in lifetimes. This measures it: continue a
time-to-quality run from its checkpoint for ``--generations`` more generations exactly as
training would (same keys, same schedule), keep every generation's mean genome, and score
on the 1,024 validation mazes and the 2,048 test mazes

- the point means every ``--every`` generations,
- the average of the last K means (K in ``--windows``),
- exponential moving averages of the means (decays ``--decays``).

Resumable: the state and the kept means are checkpointed every ``--every`` generations.
Writes ``results/time_to_quality/mean_averaging[-<options>].json`` per continuation and
``mean_averaging.md`` over all of them (``--report-only`` rewrites it alone).

    python -m benchmarks.mean_averaging --run maze9-sep-cma-es-p128-n8to64-smin0.02
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import time
from pathlib import Path

RESULTS = Path(__file__).parent / "results" / "time_to_quality"


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--run", default="maze9-sep-cma-es-p128-n8to64-smin0.02")
    p.add_argument("--generations", type=int, default=300)
    p.add_argument("--every", type=int, default=50)
    p.add_argument(
        "--windows", type=int, nargs="+", default=[10, 25, 50, 100, 200, 300]
    )
    p.add_argument("--decays", type=float, nargs="+", default=[0.9, 0.97, 0.99])
    p.add_argument("--out", type=Path, default=RESULTS)
    p.add_argument("--report-only", action="store_true")
    p.add_argument(
        "--strategy-opt", action="append", default=[], metavar="KEY=VALUE",
        help="override a strategy option for the continuation (e.g. c_mean=0.25)",
    )  # fmt: skip
    args = p.parse_args(argv)
    from hebbjax.cli.common import UsageError, parse_options

    try:
        args.overrides = parse_options(args.strategy_opt, "--strategy-opt")
    except UsageError as e:
        p.error(str(e))
    bad = {k: v for k, v in args.overrides.items() if type(v) not in (int, float)}
    if bad:
        p.error(f"--strategy-opt takes KEY=NUMBER, got {bad}")
    return args


def walk_stats(means) -> dict:
    """How the mean moved: the median length of one generation's step, the distance
    travelled over the continuation, and what a random walk of such steps would cover."""
    import numpy as np

    steps = np.linalg.norm(np.diff(means, axis=0), axis=1)
    return dict(
        step_median=float(np.median(steps)),
        net=float(np.linalg.norm(means[-1] - means[0])),
        random_walk=float(np.median(steps) * np.sqrt(len(steps))),
    )


def write_report(out: Path) -> None:
    """``mean_averaging.md``: one table per continuation, candidates as rows."""
    lines = [
        "# Averaging the mean genome at the 9x9 plateau (issue 16)",
        "",
        "Written by `python -m benchmarks.mean_averaging`: a time-to-quality run continued from",
        "its checkpoint exactly as training would (same keys and schedule), every generation's",
        "mean genome kept, candidates scored on the 1,024 validation and the 2,048 test mazes",
        "(the same mazes for every candidate: compare rows within a table).",
    ]
    for path in sorted(out.glob("mean_averaging*.json")):
        r = json.loads(path.read_text())
        opts = ", ".join(f"{k}={v:g}" for k, v in r["strategy_opt"].items()) or "none"
        w = r["walk"]
        lines += [
            "",
            f"## {r['run']}: generations {r['g0']}-{r['g0'] + r['generations']}, "
            f"strategy options changed: {opts}",
            "",
            f"The mean moved {w['step_median']:.3f} per generation (median) and "
            f"{w['net']:.2f} in all; a random walk of such steps covers "
            f"{w['random_walk']:.2f}.",
            "",
            "| candidate | validation (1,024) | test (2,048) |",
            "|---|---|---|",
        ]
        for row in r["rows"]:
            v, t = row["validation"], row["test"]
            lines.append(
                f"| {row['candidate']} | {v['score']:+.3f} +- {v['stderr']:.3f} "
                f"| {t['score']:+.3f} +- {t['stderr']:.3f} |"
            )
    (out / "mean_averaging.md").write_text("\n".join(lines) + "\n")


def continue_run(src: Path, work: Path, overrides: dict, generations: int, every: int):
    """Continue the run in ``src`` for ``generations`` generations as ``train`` would (the
    same keys, schedule and mesh), in ``work`` (resumed from there if it holds a state).

    Returns ``(setup, means)``: the run's ``RunSetup`` and the flat mean genomes after
    generation g0 + i, i = 0 .. generations, as a (1 + generations, N_Gene) array.
    """
    import jax
    import numpy as np
    from jax.flatten_util import ravel_pytree

    from hebbjax.checkpoint import (
        flatten_named,
        load_checkpoint,
        save_checkpoint,
        unflatten_named,
    )
    from hebbjax.config import TrainConfig
    from hebbjax.evolution.loop import make_generation_step
    from hebbjax.evolution.phases import phase_key, task_at
    from hebbjax.evolution.train import CHECKPOINT, build_run, run_keys
    from hebbjax.parallel import global_mesh, replicate_on

    work.mkdir(parents=True, exist_ok=True)
    config = TrainConfig.from_file(src / "config.json")
    config = dataclasses.replace(
        config, strategy_kwargs=config.strategy_kwargs | overrides
    )
    if config.strategy_schedule:
        raise SystemExit(
            f"{src}: a run with a strategy_schedule; this benchmark continues one "
            "strategy (give a run without one)"
        )
    setup = build_run(config)
    mesh = global_mesh()
    k_es, k_run, _ = run_keys(config.seed)
    template = setup.es.init(k_es, setup.init_params, setup.es_params)
    resume = (work / "state.npz").exists()
    arrays, meta = load_checkpoint(work / "state.npz" if resume else src / CHECKPOINT)
    es_state = replicate_on(unflatten_named(template, arrays, "es_state"), mesh)
    start = int(meta["generation"])
    g0 = int(meta.get("g0", start))
    get_mean = jax.jit(setup.es.get_mean)

    def flat_mean(state) -> np.ndarray:
        return np.asarray(ravel_pytree(jax.device_get(get_mean(state)))[0])

    means = list(arrays["means"]) if resume else [flat_mean(es_state)]
    steps = {}
    t0 = time.perf_counter()
    for generation in range(start, g0 + generations):
        phase = phase_key(config, generation)
        if phase not in steps:
            steps[phase] = make_generation_step(
                setup.es, setup.es_params, setup.model,
                task_at(config, setup.task, generation), config.tasks_at(generation),
                config.repeats, mesh,
            )  # fmt: skip
        es_state, _ = steps[phase](es_state, jax.random.fold_in(k_run, generation))
        means.append(flat_mean(es_state))
        done = generation + 1
        if (done - g0) % every == 0 or done == g0 + generations:
            state = flatten_named(es_state, "es_state") | {"means": np.stack(means)}
            save_checkpoint(work / "state.npz", state, dict(generation=done, g0=g0))
            print(f"generation {done}: {time.perf_counter() - t0:.0f} s", flush=True)
    return setup, g0, np.stack(means)[: generations + 1]


def candidates(means, g0: int, every: int, windows, decays) -> dict:
    """The genomes to score: point means every ``every`` generations and the last, the
    averages of the last k means, and exponential moving averages (from the first)."""
    out = {f"mean at {g0 + i}": means[i] for i in range(0, len(means), every)}
    out[f"mean at {g0 + len(means) - 1}"] = means[-1]
    for k in windows:
        if k < len(means):
            out[f"average of the last {k}"] = means[-k:].mean(0)
    for decay in decays:
        ema = means[0].copy()
        for x in means[1:]:
            ema = decay * ema + (1 - decay) * x
        out[f"EMA {decay}"] = ema
    return out


def main(argv=None) -> None:
    args = parse_args(argv)
    if args.report_only:
        write_report(args.out)
        return
    import jax
    from jax.flatten_util import ravel_pytree

    from benchmarks.time_to_quality import evaluate_set

    overrides = args.overrides
    tag = "".join(f"-{k}{v:g}" for k, v in sorted(overrides.items()))
    src = args.out / "runs" / args.run
    work = args.out / "runs" / f"{args.run}.averaging{tag}"
    setup, g0, stack = continue_run(src, work, overrides, args.generations, args.every)
    _, unravel = ravel_pytree(setup.init_params)
    rows = []
    for name, flat in candidates(
        stack, g0, args.every, args.windows, args.decays
    ).items():
        params = unravel(jax.numpy.asarray(flat))
        val = evaluate_set(setup.model, setup.task, params, "validation", 1)
        test = evaluate_set(setup.model, setup.task, params, "test", 2)
        rows.append(dict(candidate=name, validation=val, test=test))
        print(f"{name:28s} val {val['score']:+.3f} +- {val['stderr']:.3f}  "
              f"test {test['score']:+.3f} +- {test['stderr']:.3f}", flush=True)  # fmt: skip
    result = dict(run=args.run, g0=g0, generations=len(stack) - 1,
                  strategy_opt=overrides, walk=walk_stats(stack), rows=rows)  # fmt: skip
    (args.out / f"mean_averaging{tag}.json").write_text(json.dumps(result, indent=1))
    write_report(args.out)


if __name__ == "__main__":
    main()

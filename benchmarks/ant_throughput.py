"""Ant steps per second with the Hebbian network in the loop, against population size.

Najarro & Risi 2020's 27-128-64-8 ABCD_lr network (``hebbian-ffn``) driving the Brax ant
(spec ``hebbian-ant-brax.md`` 3.3: mjx and spring), one ``jit(vmap(lifetime))`` per
(backend, population): reset, ``seconds / control_dt`` control steps, plastic updates, all in
one ``lax.scan``. Reports compile time and the best of ``repeats`` timed calls.

    python -m benchmarks.ant_throughput [--backends mjx spring] [--populations 16 64 256]

Writes ``benchmarks/results/ant/throughput.json`` and ``throughput.png``.
"""

from __future__ import annotations

import argparse
import json
import platform
import time
from pathlib import Path

import jax

from hebbjax.models import make_model
from hebbjax.rollout import population_evaluator
from hebbjax.tasks import make_task

RESULTS = Path(__file__).parent / "results" / "ant"


def measure(backend: str, population: int, seconds: float, repeats: int) -> dict:
    task = make_task("ant", backend=backend, seconds=seconds)
    model = make_model("hebbian-ffn")
    params = jax.vmap(model.init_params)(
        jax.random.split(jax.random.key(0), population)
    )
    run = jax.jit(population_evaluator(model, task))
    indices = task.sample_params(jax.random.key(1))[None]
    t0 = time.perf_counter()
    keys = jax.random.split(jax.random.key(2), (1, 1))
    compiled = run.lower(params, indices, keys).compile()
    compile_s = time.perf_counter() - t0
    times = []
    for r in range(repeats):
        t0 = time.perf_counter()
        keys = jax.random.split(jax.random.key(3 + r), (1, 1))
        jax.block_until_ready(compiled(params, indices, keys))
        times.append(time.perf_counter() - t0)
    n_steps = task.settings["n_steps"]
    steps = population * n_steps
    return dict(
        backend=backend,
        population=population,
        lifetime_steps=n_steps,
        control_dt=task.settings["control_dt"],
        compile_seconds=compile_s,
        run_seconds=min(times),
        steps_per_second=steps / min(times),
    )


def plot(rows: list[dict], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5, 3.5))
    for backend in sorted({r["backend"] for r in rows}):
        pts = [r for r in rows if r["backend"] == backend]
        ax.plot(
            [r["population"] for r in pts],
            [r["steps_per_second"] for r in pts],
            "o-",
            label=backend,
        )
    ax.set_xscale("log", base=2)
    ax.set_xlabel("population (lifetimes in parallel)")
    ax.set_ylabel("ant steps / s (Hebbian net in loop)")
    ax.set_title(f"Brax ant + hebbian-ffn, {jax.device_count()} CPU device(s)")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=120)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backends", nargs="+", default=["mjx", "spring"])
    parser.add_argument("--populations", nargs="+", type=int, default=[16, 64, 256])
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args(argv)
    rows = []
    for backend in args.backends:
        for population in args.populations:
            row = measure(backend, population, args.seconds, args.repeats)
            print(json.dumps(row), flush=True)
            rows.append(row)
    RESULTS.mkdir(parents=True, exist_ok=True)
    out = dict(
        machine=dict(
            platform=platform.platform(),
            devices=[str(d) for d in jax.devices()],
            jax=jax.__version__,
        ),
        rows=rows,
    )
    (RESULTS / "throughput.json").write_text(json.dumps(out, indent=2))
    plot(rows, RESULTS / "throughput.png")


if __name__ == "__main__":
    main()

"""One paper-preset generation on 1 process x 2 devices versus 2 processes x 1 device.

    python -m benchmarks.distributed [--repeats 3] [--generations 3]

The same work (Wang et al. 2022 paper preset: population 360, 2 mazes x 4 repeats, 15x15,
DecPRNN(PostDN), paper-cmaes) sharded over two CPU devices, once inside one process and once
over two ``jax.distributed`` processes talking through gloo; the layouts alternate so both
see the same machine load. Saves ``benchmarks/results/distributed.{json,md}``.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
from pathlib import Path

RESULTS = Path(__file__).parent / "results"
PROBE = r"""
import json, sys, time
n_proc, pid, port, reps = (int(a) for a in sys.argv[1:5])
import jax
if n_proc > 1:
    from hebbjax.parallel import initialize_distributed
    initialize_distributed(f"localhost:{port}", n_proc, pid)
from hebbjax.config import TrainConfig
from hebbjax.evolution.loop import make_generation_step
from hebbjax.evolution.train import build_run
from hebbjax.parallel import global_mesh
config = TrainConfig.from_preset("paper", task="maze15", model="decprnn-postdn")
setup = build_run(config)
state = setup.es.init(jax.random.key(0), setup.init_params, setup.es_params)
step = make_generation_step(setup.es, setup.es_params, setup.model, setup.task,
                            config.tasks_at(0), config.repeats, global_mesh())
t0 = time.perf_counter()
compiled = step.lower(state, jax.random.key(1)).compile()
compile_s = time.perf_counter() - t0
times = []
for g in range(reps):
    t0 = time.perf_counter()
    state, metrics = compiled(state, jax.random.key(2 + g))
    jax.block_until_ready(metrics)
    times.append(time.perf_counter() - t0)
if pid == 0:
    print(json.dumps(dict(compile_s=compile_s, times=times,
                          fitness=float(metrics["fitness_mean"]))))
"""


def _port() -> int:
    with socket.socket() as s:
        s.bind(("localhost", 0))
        return s.getsockname()[1]


def _run(n_proc: int, devices: int, reps: int) -> dict:
    env = dict(
        os.environ, XLA_FLAGS=f"--xla_force_host_platform_device_count={devices}"
    )
    port = _port()
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", PROBE, str(n_proc), str(i), str(port), str(reps)],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )  # fmt: skip
        for i in range(n_proc)
    ]
    outs = [p.communicate(timeout=1800) for p in procs]
    for p, (_, err) in zip(procs, outs, strict=True):
        if p.returncode:
            raise RuntimeError(err[-2000:])
    return json.loads(outs[0][0].strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--repeats", type=int, default=3, help="launches per layout")
    p.add_argument("--generations", type=int, default=3, help="timed per launch")
    args = p.parse_args(argv)
    layouts = {"1 process x 2 devices": (1, 2), "2 processes x 1 device": (2, 1)}
    runs: dict[str, list[dict]] = {k: [] for k in layouts}
    for r in range(args.repeats):
        for name, (n_proc, devices) in layouts.items():
            runs[name].append(_run(n_proc, devices, args.generations))
            print(f"repeat {r} {name}: {runs[name][-1]['times']}", flush=True)
    summary = {
        name: dict(
            generation_s_median=statistics.median(min(r["times"]) for r in rs),
            compile_s_median=statistics.median(r["compile_s"] for r in rs),
            fitness_mean_first_launch=rs[0]["fitness"],
        )
        for name, rs in runs.items()
    }
    a, b = (summary[k]["generation_s_median"] for k in layouts)
    result = dict(layouts=summary, ratio_two_processes_over_one=b / a,
                  load_average=os.getloadavg(), runs=runs)  # fmt: skip
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "distributed.json").write_text(json.dumps(result, indent=2))
    lines = [
        "# Paper-preset generation: one process with two devices vs two processes",
        "",
        f"population 360, 2 mazes x 4 repeats, maze15, decprnn-postdn; {args.repeats} "
        f"launches per layout, alternating; median of each launch's best of "
        f"{args.generations} generations.",
        "",
        "| layout | generation s (median) | compile s (median) | fitness_mean |",
        "|---|---|---|---|",
    ]
    for name, s in summary.items():
        lines.append(
            f"| {name} | {s['generation_s_median']:.3f} | {s['compile_s_median']:.1f} | "
            f"{s['fitness_mean_first_launch']:+.6f} |"
        )
    lines += ["", f"ratio 2 processes / 1 process: **{b / a:.3f}** (load average "
              f"{result['load_average'][0]:.1f})"]  # fmt: skip
    (RESULTS / "distributed.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""CarRacing from pixels: agent-steps/s of the JAX env under ``jit(vmap)`` vs gymnasium.

Rows: ``jax env`` (env step with the 96x96 render and the 84x84 preprocessing, random gas
per car so that ``vmap`` cannot share the work; every pixel of the observation is consumed
so XLA cannot skip any), ``jax env+hebbian-cnn``
(Najarro & Risi's network acting and learning every step, i.e. a training lifetime), both
for batches of 1..1,024 cars on one shared track under ``jit(vmap(lax.scan))``; and
``gymnasium`` (Box2D CarRacing-v3 ``step`` with its state render, plus OpenCV's resize, on
one core, one car). Medians of ``--repeats`` timed calls after a warm-up; the warm-up's extra
time is reported as compile time. Each row gives wall-clock agent-steps/s and agent-steps
per CPU-second (process CPU time, all threads): on a shared machine the second is the
contention-free measure.

    nice -n 19 python -m benchmarks.car_speed [--batches 1,4,16,64,256,1024] [--repeats 3]

Writes ``benchmarks/results/car/speed.{json,md}``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np

from hebbjax.envs.car_racing import CarRacing, make_params, sample_track
from hebbjax.models.hebbian_cnn import hebbian_cnn

OUT = Path(__file__).parent / "results" / "car"


def jax_rollout(batch: int, steps: int, with_policy: bool):
    env = CarRacing(auto_reset=False)
    params = make_params(sample_track(jax.random.key(0)))
    model = hebbian_cnn()
    action = jnp.array([0.0, 0.3, 0.0])

    def lifetime(genome, key):
        obs, state = env.reset(key, params)
        memory = model.init_memory(genome, key) if with_policy else ()

        def body(carry, k):
            state, memory, obs, acc = carry
            if with_policy:
                act, memory = model.step(genome, memory, obs)
            else:  # per-car random actions: identical cars would be computed once
                act = action * jax.random.uniform(k, (3,), minval=-1.0, maxval=2.0)
                acc = acc + jnp.mean(obs)  # consume every pixel, or XLA skips them
            obs, state, reward, _, _, _ = env.step(k, state, act, params)
            return (state, memory, obs, acc + reward), None

        keys = jax.random.split(key, steps)
        (_, _, _, acc), _ = jax.lax.scan(body, (state, memory, obs, 0.0), keys)
        return acc

    keys = jax.random.split(jax.random.key(1), batch)
    genomes = jax.vmap(model.init_params)(keys)
    fn = jax.jit(jax.vmap(lifetime))
    return fn, (genomes, keys)


def time_call(fn, args, repeats: int) -> tuple[float, float, float]:
    """Median wall time, median CPU time and compile time of ``fn(*args)``."""
    t0 = time.perf_counter()
    jax.block_until_ready(fn(*args))
    first = time.perf_counter() - t0
    runs, cpus = [], []
    for _ in range(repeats):
        t0, c0 = time.perf_counter(), time.process_time()
        jax.block_until_ready(fn(*args))
        runs.append(time.perf_counter() - t0)
        cpus.append(time.process_time() - c0)
    run = float(np.median(runs))
    return run, float(np.median(cpus)), max(first - run, 0.0)


def gymnasium_rate(steps: int, repeats: int) -> tuple[float, float] | None:
    try:
        import gymnasium as gym

        env = gym.make("CarRacing-v3").unwrapped
    except Exception:  # Box2D or pygame missing
        return None
    try:
        import cv2
    except ImportError:
        cv2 = None
    rates, cpu_rates = [], []
    for r in range(repeats):
        env.reset(seed=r)
        action = np.array([0.0, 0.3, 0.0])
        t0, c0 = time.perf_counter(), time.process_time()
        for _ in range(steps):
            obs, *_ = env.step(action)
            if cv2 is not None:
                obs = cv2.resize(obs, (84, 84), interpolation=cv2.INTER_AREA)
            _ = np.swapaxes(obs.astype(np.float32) / 255.0, 0, 2)
        rates.append(steps / (time.perf_counter() - t0))
        cpu_rates.append(steps / (time.process_time() - c0))
    return float(np.median(rates)), float(np.median(cpu_rates))


def main(argv: list[str] | None = None) -> list[dict]:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--batches", default="1,4,16,64,256,1024")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--agent-steps", type=int, default=4096, help="per timed call")
    ap.add_argument("--gym-steps", type=int, default=300)
    ap.add_argument("--out", type=Path, default=OUT)
    args = ap.parse_args(argv)
    rows = []
    rate = gymnasium_rate(args.gym_steps, args.repeats)
    if rate is not None:
        row = {"impl": "gymnasium (Box2D, 1 core)", "batch": 1, "steps": args.gym_steps}
        row.update(steps_per_s=rate[0], steps_per_cpu_s=rate[1], compile_s=0.0)
        rows.append(row)
        print(
            f"gymnasium: {rate[0]:.1f} agent-steps/s, {rate[1]:.1f} per CPU-s",
            flush=True,
        )
    for with_policy in (False, True):
        name = "jax env+hebbian-cnn" if with_policy else "jax env"
        for batch in (int(b) for b in args.batches.split(",")):
            steps = max(8, args.agent_steps // batch)
            fn, fargs = jax_rollout(batch, steps, with_policy)
            run, cpu, compile_s = time_call(fn, fargs, args.repeats)
            row = {"impl": name, "batch": batch, "steps": steps}
            row.update(
                steps_per_s=batch * steps / run,
                steps_per_cpu_s=batch * steps / cpu,
                compile_s=compile_s,
            )
            rows.append(row)
            print(
                f"{name:22s} batch {batch:5d}: {row['steps_per_s']:8.1f} agent-steps/s, "
                f"{row['steps_per_cpu_s']:8.1f} per CPU-s (compile {compile_s:5.1f} s)",
                flush=True,
            )
    meta = {
        "machine": platform.processor() or platform.machine(),
        "cpus": os.cpu_count(),
        "load_average_at_end": os.getloadavg(),
        "jax": jax.__version__,
        "devices": [str(d) for d in jax.devices()],
    }
    args.out.mkdir(parents=True, exist_ok=True)
    out = json.dumps({"meta": meta, "rows": rows}, indent=2)
    (args.out / "speed.json").write_text(out)
    lines = [
        "| implementation | batch | agent-steps/s (wall) | per CPU-second | compile s |",
        "|---|---:|---:|---:|---:|",
    ]
    lines += [
        f"| {r['impl']} | {r['batch']} | {r['steps_per_s']:.1f} | "
        f"{r['steps_per_cpu_s']:.1f} | {r['compile_s']:.1f} |"
        for r in rows
    ]
    load = ", ".join(f"{x:.1f}" for x in meta["load_average_at_end"])
    lines += [
        "",
        f"{meta['cpus']} CPUs, load average at the end {load}, jax {meta['jax']}.",
    ]
    (args.out / "speed.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    return rows


if __name__ == "__main__":
    main()

"""hebbjax on an accelerator: throughput, the paper-preset generation, agreement with the CPU.

    bash benchmarks/gpu.sh            # on a machine with a GPU (or: python -m benchmarks.gpu)
    python -m benchmarks.gpu --quick  # a smoke test anywhere (CPU: small populations)

Prints and saves to ``benchmarks/results/gpu/{gpu.json,gpu.md}``:

- agent-steps/s of the maze inner loop (DecPRNN(PostDN), 15x15, one lifetime per individual,
  ``rollout.population_evaluator``) at populations 1,024 to 65,536 (median of repeats, compile
  time apart);
- one generation of the paper preset (population 360, 2 mazes x 4 repeats, paper-cmaes);
- agreement of one lifetime on the accelerator and on the CPU (the released genome, greedy, on
  paper validation mazes; float32 matmuls at full precision, ``parallel.configure_precision``):
  per-step network outputs and hidden states, largest absolute difference, and whether the
  actions and returns are the same.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path

OUT = Path(__file__).parent / "results" / "gpu"


def _timed(fn, repeats: int) -> tuple[float, list[float]]:
    import jax

    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        jax.block_until_ready(fn())
        times.append(time.perf_counter() - t0)
    return statistics.median(times), times


def throughput(populations: list[int], repeats: int) -> list[dict]:
    import jax

    from hebbjax.models import make_model
    from hebbjax.parallel import global_mesh
    from hebbjax.rollout import population_evaluator
    from hebbjax.tasks import make_task

    task = make_task("maze15", use_cache=False)
    model = make_model("decprnn-postdn")
    evaluate = jax.jit(population_evaluator(model, task, global_mesh()))
    mazes = jax.vmap(task.sample_params)(jax.random.split(jax.random.key(1), 1))
    keys = jax.random.split(jax.random.key(2), (1, 1))
    rows = []
    for population in populations:
        params = jax.vmap(model.init_params)(
            jax.random.split(jax.random.key(0), population)
        )
        t0 = time.perf_counter()
        compiled = evaluate.lower(params, mazes, keys).compile()
        compile_s = time.perf_counter() - t0
        result = compiled(params, mazes, keys)
        steps = int(jax.device_get(result.steps).sum())
        seconds, times = _timed(lambda c=compiled, p=params: c(p, mazes, keys), repeats)
        rows.append(
            dict(
                population=population,
                agent_steps=steps,
                seconds=seconds,
                agent_steps_per_s=steps / seconds,
                compile_s=compile_s,
                times=times,
            )
        )
        print(f"population {population:>6}: {steps / seconds / 1e6:8.2f} M agent-steps/s "
              f"(compile {compile_s:.1f} s)", flush=True)  # fmt: skip
    return rows


def paper_generation(repeats: int) -> dict:
    import jax

    from hebbjax.config import TrainConfig
    from hebbjax.evolution.loop import make_generation_step
    from hebbjax.evolution.train import build_run
    from hebbjax.parallel import global_mesh

    config = TrainConfig.from_preset("paper", task="maze15", model="decprnn-postdn")
    setup = build_run(config)
    state = setup.es.init(jax.random.key(0), setup.init_params, setup.es_params)
    step = make_generation_step(setup.es, setup.es_params, setup.model, setup.task,
                                config.tasks_at(0), config.repeats, global_mesh())  # fmt: skip
    t0 = time.perf_counter()
    compiled = step.lower(state, jax.random.key(1)).compile()
    compile_s = time.perf_counter() - t0
    keys = iter(range(2, 2 + repeats))
    held = [state]  # the step donates its state on accelerators: thread it through

    def generation():
        held[0], metrics = compiled(held[0], jax.random.key(next(keys)))
        return metrics

    seconds, times = _timed(generation, repeats)
    print(
        f"paper-preset generation: {seconds:.3f} s (compile {compile_s:.1f} s)",
        flush=True,
    )
    return dict(seconds=seconds, times=times, compile_s=compile_s)


def agreement(n_mazes: int) -> dict:
    import jax
    import numpy as np

    from hebbjax.data import path
    from hebbjax.envs.maze_sets import load_maze_npz
    from hebbjax.models import load_genome, make_model
    from hebbjax.tasks import Probe
    from hebbjax.tasks.maze import make_lifetime

    model = make_model("decprnn-postdn")
    params = load_genome(path("paper:decprnn-postdn"), model)
    mazes = jax.tree.map(
        lambda x: x[:n_mazes], load_maze_npz(path("paper:maze15-validation"))
    )
    probe = Probe(record=("output", "action", "hidden"))
    run = jax.vmap(
        make_lifetime(model, greedy=True, first_actions=(0, 1, 2), probe=probe),
        in_axes=(None, 0, 0),
    )
    keys = jax.random.split(jax.random.key(0), n_mazes)
    out = {}
    for name, device in (("default", jax.devices()[0]), ("cpu", jax.devices("cpu")[0])):
        inputs = jax.device_put((params, mazes, keys), device)
        out[name] = jax.device_get(jax.jit(run)(*inputs))
    (r_a, t_a), (r_b, t_b) = out["default"], out["cpu"]
    valid = np.asarray(t_a["valid"]) & np.asarray(t_b["valid"])
    same_actions = bool(np.array_equal(t_a["action"][valid], t_b["action"][valid]))
    diff_out = float(np.abs(t_a["output"][valid] - t_b["output"][valid]).max())
    diff_h = float(np.abs(t_a["hidden"]["h"][valid] - t_b["hidden"]["h"][valid]).max())
    result = dict(
        device=str(jax.devices()[0]),
        lifetimes=n_mazes,
        same_actions=same_actions,
        same_returns=bool(np.array_equal(r_a.returns, r_b.returns)),
        max_abs_output_difference=diff_out,
        max_abs_hidden_difference=diff_h,
    )
    print(f"agreement with the CPU: {result}", flush=True)
    return result


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument(
        "--quick", action="store_true", help="small populations (CPU smoke test)"
    )
    p.add_argument("--repeats", type=int, default=5)
    p.add_argument("--out", type=Path, default=OUT)
    args = p.parse_args(argv)
    import jax

    from hebbjax.parallel import configure_precision

    configure_precision()
    populations = [64, 128] if args.quick else [1024, 4096, 16384, 65536]
    repeats = 2 if args.quick else args.repeats
    result = dict(
        backend=jax.default_backend(),
        devices=[str(d) for d in jax.devices()],
        host=platform.node(),
        cpus=os.cpu_count(),
        throughput=throughput(populations, repeats),
        paper_generation=None if args.quick else paper_generation(repeats),
        agreement=agreement(4 if args.quick else 32),
    )
    args.out.mkdir(parents=True, exist_ok=True)
    name = "gpu-quick" if args.quick else "gpu"
    (args.out / f"{name}.json").write_text(json.dumps(result, indent=2))
    lines = [f"# hebbjax on {result['devices'][0]} ({result['backend']})", "",
             "| population | M agent-steps/s | compile s |", "|---|---|---|"]  # fmt: skip
    for row in result["throughput"]:
        lines.append(
            f"| {row['population']:,} | {row['agent_steps_per_s'] / 1e6:.2f} | "
            f"{row['compile_s']:.1f} |"
        )
    if result["paper_generation"]:
        g = result["paper_generation"]
        lines += [
            "",
            f"paper-preset generation: {g['seconds']:.3f} s (compile {g['compile_s']:.1f} s)",
        ]
    a = result["agreement"]
    lines += ["", f"one lifetime vs the CPU ({a['lifetimes']} lifetimes, released genome): "
              f"same actions {a['same_actions']}, same returns {a['same_returns']}, max |output "
              f"difference| {a['max_abs_output_difference']:.2e}, max |hidden difference| "
              f"{a['max_abs_hidden_difference']:.2e}"]  # fmt: skip
    (args.out / f"{name}.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())

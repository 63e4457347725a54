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
  actions and returns are the same;
- with ``--train-minutes M``: ``hebbjax train --task maze9 --preset hour`` at a GPU's
  population (``--train-population``, ``--train-tasks``) stopped after M minutes (SIGTERM:
  it checkpoints), its validation curve against wall-clock, and its final mean genome on
  the 2,048 test mazes. A curriculum on 15x15 from a 9x9 genome: ``--train-task maze15
  --train-init benchmarks/results/time_to_quality/genomes/gpu-h200-maze9-run2/mean_genome.npz
  --train-opt=--sigma0=0.02``.

Each part is written to the files as soon as it ends, and a part that fails is recorded
with its error while the others still run (a short lease loses nothing that ran).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import signal
import statistics
import subprocess
import sys
import time
import traceback
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
        max_abs_return_difference=float(np.abs(r_a.returns - r_b.returns).max()),
        max_abs_output_difference=diff_out,
        max_abs_hidden_difference=diff_h,
    )
    print(f"agreement with the CPU: {result}", flush=True)
    return result


CLI = "import sys; from hebbjax.cli import main; sys.exit(main())"


def train_curve(
    minutes: float,
    population: int,
    tasks: int,
    out: Path,
    task: str = "maze9",
    init: str | None = None,
    extra: tuple[str, ...] = (),
) -> dict:
    """``hebbjax train --preset hour`` on ``task`` at ``population`` x ``tasks`` (from the
    genome ``init``, with the CLI options ``extra``) for ``minutes`` of wall-clock (compile
    included), then its mean genome on the test mazes."""
    run = out / "train-run"
    if (run / "checkpoint.npz").exists():  # a resume takes its settings from the run
        command = ["train", "--out", str(run), "--resume", "--progress-every", "100"]
    else:
        command = ["train", "--task", task, "--model", "decprnn-postdn", "--preset", "hour",
                   "--population", str(population), "--tasks-per-gen", str(tasks),
                   "--validate-every", "20", "--progress-every", "100", "--out", str(run),
                   *(["--init", init] if init else []), *extra]  # fmt: skip
    # this process holds most of the accelerator's memory (JAX preallocates 75 %): the
    # trainer allocates as it goes instead of failing its preallocation and retrying smaller
    env = os.environ | {"XLA_PYTHON_CLIENT_PREALLOCATE": "false"}
    proc = subprocess.Popen([sys.executable, "-c", CLI, *command], env=env)
    try:
        proc.wait(timeout=minutes * 60)
    except subprocess.TimeoutExpired:
        proc.send_signal(signal.SIGTERM)  # the trainer writes its checkpoint and stops
        proc.wait(timeout=300)
    if proc.returncode not in (0, 128 + signal.SIGTERM):  # finished, or stopped by us
        raise RuntimeError(f"hebbjax {' '.join(command)} exited {proc.returncode}")
    from hebbjax.analysis.learning_curves import read_curve
    from hebbjax.evolution.run_files import read_metrics

    rows = read_metrics(run)  # skips a last line torn by the stop
    c = read_curve(run)  # wall-clock over the sessions of a resumed run
    curve = [
        dict(generation=g, minutes=t / 60, score=v, score_stderr=e)
        for g, t, v, e in zip(
            c["generation"], c["seconds"], c["score"], c["score_stderr"], strict=True
        )
    ]
    evaluated = subprocess.run(
        [sys.executable, "-c", CLI, "eval", "--run", str(run), "--which", "mean", "--json"],
        capture_output=True, text=True, check=True, env=env,
    )  # fmt: skip
    test = json.loads(evaluated.stdout)[task]["test"]
    result = dict(
        command="hebbjax " + " ".join(command),
        minutes=minutes,
        generations=rows[-1]["generation"] + 1,
        lifetimes=population * sum(r.get("n_tasks", 0) for r in rows),
        seconds_per_generation=statistics.median(
            r["wall_seconds"] for r in rows[1:] or rows
        ),
        compile_s=sum(r.get("compile_seconds", 0.0) for r in rows),
        curve=curve,
        # the paper's score, the last rollout's return: on 9x9 the hour's fitness caps it
        # (score_within), and eval's "score" is that fitness
        test_score=test["return_mean"][-1],
        test_score_stderr=test["return_stderr"][-1],
        test_fitness=test["score"],
        test_goal_rate=test["success_rate"][-1],
    )
    print(f"train: {result['generations']} generations in {minutes} min, test "
          f"{result['test_score']:+.3f} +- {result['test_score_stderr']:.3f}", flush=True)  # fmt: skip
    return result


def markdown(result: dict) -> str:
    lines = [f"# hebbjax on {result['devices'][0]} ({result['backend']})", ""]
    if "error" in result.get("throughput", {}):
        lines += [f"throughput: failed ({result['throughput']['error']})"]
    elif "throughput" in result:
        lines += ["| population | M agent-steps/s | compile s |", "|---|---|---|"]
        for row in result["throughput"]["rows"]:
            lines.append(
                f"| {row['population']:,} | {row['agent_steps_per_s'] / 1e6:.2f} | "
                f"{row['compile_s']:.1f} |"
            )
    g = result.get("paper_generation")
    if g:
        lines += ["", f"paper-preset generation: failed ({g['error']})" if "error" in g else
                  f"paper-preset generation: {g['seconds']:.3f} s (compile {g['compile_s']:.1f} s)"]  # fmt: skip
    a = result.get("agreement")
    if a:
        lines += ["", f"agreement with the CPU: failed ({a['error']})" if "error" in a else
                  f"one lifetime vs the CPU ({a['lifetimes']} lifetimes, released genome): "
                  f"same actions {a['same_actions']}, same returns {a['same_returns']} (max "
                  f"|difference| {a.get('max_abs_return_difference', float('nan')):.1e}), max "
                  f"|output difference| {a['max_abs_output_difference']:.2e}, max |hidden "
                  f"difference| {a['max_abs_hidden_difference']:.2e}"]  # fmt: skip
    t = result.get("train")
    if t and "error" in t:
        lines += ["", f"training: failed ({t['error']})"]
    elif t:
        lines += ["", f"`{t['command']}`, stopped after {t['minutes']} min: {t['generations']} "
                  f"generations, {t['lifetimes']:,} lifetimes, "
                  f"{t['seconds_per_generation']:.3f} s per generation (compile "
                  f"{t['compile_s']:.1f} s); final mean genome on the 2,048 test mazes "
                  f"**{t['test_score']:+.3f} +- {t['test_score_stderr']:.3f}** (goal rate "
                  f"{t['test_goal_rate']:.2f}).", "", "| minutes | generation | validation |",
                  "|---|---|---|"]  # fmt: skip
        step = max(1, len(t["curve"]) // 12)
        shown = t["curve"][::step]
        for c in shown + t["curve"][-1:] * (shown[-1] is not t["curve"][-1]):
            lines.append(
                f"| {c['minutes']:.1f} | {c['generation']} | "
                f"{c['score']:+.3f} +- {c['score_stderr']:.3f} |"
            )
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument(
        "--quick", action="store_true", help="small populations (CPU smoke test)"
    )
    p.add_argument("--repeats", type=int, default=5)
    p.add_argument("--out", type=Path, default=OUT)
    p.add_argument("--train-minutes", type=float, default=0.0,
                   help="also train on 9x9 for this many minutes (0: no)")  # fmt: skip
    p.add_argument("--train-population", type=int, default=1024)
    p.add_argument("--train-tasks", type=int, default=32)
    p.add_argument("--train-task", default="maze9", help="maze9 or maze15")
    p.add_argument("--train-init", default=None,
                   help="start from this genome or run (hebbjax train --init)")  # fmt: skip
    p.add_argument("--train-opt", action="append", default=[], metavar="OPTION",
                   help="another hebbjax train option, e.g. --train-opt=--sigma0=0.02")  # fmt: skip
    args = p.parse_args(argv)
    import jax

    from hebbjax.checkpoint import atomic_write_bytes
    from hebbjax.parallel import configure_precision

    configure_precision()
    populations = [64, 128] if args.quick else [1024, 4096, 16384, 65536]
    repeats = 2 if args.quick else args.repeats
    result = dict(
        backend=jax.default_backend(),
        devices=[str(d) for d in jax.devices()],
        host=platform.node(),
        cpus=os.cpu_count(),
        jax=jax.__version__,
    )
    parts = {
        "throughput": lambda: dict(rows=throughput(populations, repeats)),
        "paper_generation": None if args.quick else lambda: paper_generation(repeats),
        "agreement": lambda: agreement(4 if args.quick else 32),
        "train": None
        if args.train_minutes <= 0
        else lambda: train_curve(
            args.train_minutes,
            args.train_population,
            args.train_tasks,
            args.out,
            args.train_task,
            args.train_init,
            tuple(args.train_opt),
        ),
    }
    args.out.mkdir(parents=True, exist_ok=True)
    name = "gpu-quick" if args.quick else "gpu"
    for part, run in parts.items():
        if run is None:
            continue
        try:
            result[part] = run()
        except Exception as err:  # noqa: BLE001  (recorded; the other parts still run)
            traceback.print_exc()
            result[part] = dict(error=f"{type(err).__name__}: {err}"[:500])
        atomic_write_bytes(
            args.out / f"{name}.json", json.dumps(result, indent=2).encode()
        )
        atomic_write_bytes(args.out / f"{name}.md", markdown(result).encode())
    print(markdown(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())

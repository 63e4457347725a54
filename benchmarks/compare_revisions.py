"""Two revisions of hebbjax side by side: the paper-preset maze generation, alternating.

    python -m benchmarks.compare_revisions [--base HEAD] [--repeats 5] [--model decprnn-postdn]

Checks the base revision out into a temporary git worktree and times one generation of the
paper preset (Wang et al. 2022 spec 3.2: population 360, 2 mazes x 4 repeats, paper-cmaes;
15x15 mazes) in fresh processes, base and working tree alternating, so both see the same
machine load. Prints and saves the medians, their ratio and each side's compile time to
``benchmarks/results/compare_revisions.{json,md}``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"

# One process: build the paper-preset generation step, compile it, time it `reps` times.
# Written against the API both revisions share (TrainConfig, build_run,
# make_generation_step, local_mesh).
PROBE = r"""
import json, sys, time
import jax
from hebbjax.config import TrainConfig
from hebbjax.evolution.loop import make_generation_step
from hebbjax.evolution.train import build_run
from hebbjax.parallel import local_mesh
model, reps = sys.argv[1], int(sys.argv[2])
model_kwargs, task_kwargs = json.loads(sys.argv[3]), json.loads(sys.argv[4])
config = TrainConfig.from_preset("paper", task="maze15", model=model,
                                 model_kwargs=model_kwargs, task_kwargs=task_kwargs)
setup = build_run(config)
state = setup.es.init(jax.random.key(0), setup.init_params, setup.es_params)
step = make_generation_step(setup.es, setup.es_params, setup.model, setup.task,
                            config.tasks_at(0), config.repeats, local_mesh())
t0 = time.perf_counter()
compiled = step.lower(state, jax.random.key(1)).compile()
compile_s = time.perf_counter() - t0
times = []
for g in range(reps):
    t0 = time.perf_counter()
    state, metrics = compiled(state, jax.random.key(2 + g))
    jax.block_until_ready(metrics)
    times.append(time.perf_counter() - t0)
print(json.dumps(dict(compile_s=compile_s, times=times,
                      env_steps=int(metrics["env_steps"]))))
"""


# the semantics every revision shares (the defaults changed to the April-2022 code on
# 2026-12-03), so both sides compute the same lifetimes (env_steps is printed to check)
SHARED_MODEL = {"decprnn-postdn": {"modulated_scale": 0.2}}
SHARED_TASK = {"r_slot": "zero"}


def _write(path: Path, text: str) -> None:
    """Atomic: a temporary file beside ``path``, then a rename."""
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text)
    os.replace(tmp, path)


def _run(src: Path, model: str, reps: int) -> dict:
    env = dict(os.environ, PYTHONPATH=str(src))
    env.setdefault("XLA_FLAGS", "--xla_force_host_platform_device_count=2")
    env["HEBBJAX_COMPILE_CACHE"] = "0"
    out = subprocess.run(
        [
            sys.executable,
            "-c",
            PROBE,
            model,
            str(reps),
            json.dumps(SHARED_MODEL.get(model, {})),
            json.dumps(SHARED_TASK),
        ],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--base", default="HEAD", help="git revision to compare against")
    p.add_argument(
        "--work", default=None, help="a second revision instead of the working tree"
    )
    p.add_argument("--repeats", type=int, default=5, help="processes per side")
    p.add_argument("--generations", type=int, default=3, help="timed per process")
    p.add_argument("--model", default="decprnn-postdn")
    args = p.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        trees = {"base": (Path(tmp) / "base", args.base)}
        if args.work:
            trees["work"] = (Path(tmp) / "work", args.work)
        for tree, rev in trees.values():
            git = ["git", "-C", str(ROOT), "worktree", "add", "--detach"]
            subprocess.run([*git, str(tree), rev], check=True, capture_output=True)
        try:
            sides = {"base": trees["base"][0] / "src", "work": ROOT / "src"}
            if args.work:
                sides["work"] = trees["work"][0] / "src"
            runs: dict[str, list[dict]] = {k: [] for k in sides}
            for r in range(args.repeats):
                for name, src in sides.items():
                    runs[name].append(_run(src, args.model, args.generations))
                    print(f"repeat {r} {name}: {runs[name][-1]['times']}", flush=True)
        finally:
            for tree, _ in trees.values():
                subprocess.run(
                    [
                        "git",
                        "-C",
                        str(ROOT),
                        "worktree",
                        "remove",
                        "--force",
                        str(tree),
                    ],
                    check=False,
                    capture_output=True,
                )
    summary = {}
    for name, rs in runs.items():
        # each process's best generation: the steady state of that process
        per_process = [min(r["times"]) for r in rs]
        summary[name] = dict(
            generation_s_median=statistics.median(per_process),
            generation_s=per_process,
            compile_s_median=statistics.median(r["compile_s"] for r in rs),
            env_steps=rs[0]["env_steps"],
        )
    ratio = (
        summary["work"]["generation_s_median"] / summary["base"]["generation_s_median"]
    )
    result = dict(
        revisions=dict(base=args.base, work=args.work or "working tree"),
        model=args.model,
        model_kwargs=SHARED_MODEL.get(args.model, {}),
        task_kwargs=SHARED_TASK,
        preset="paper (population 360, 2 mazes x 4 repeats, maze15)",
        ratio_work_over_base=ratio,
        machine=dict(cpus=os.cpu_count(), platform=platform.platform()),
        load_average=os.getloadavg(),
        sides=summary,
    )
    RESULTS.mkdir(parents=True, exist_ok=True)
    _write(RESULTS / "compare_revisions.json", json.dumps(result, indent=2))
    lines = [
        f"# Paper-preset generation: {args.work or 'working tree'} vs {args.base}",
        "",
        f"{args.model}, {result['preset']}; {args.repeats} processes per side, "
        f"alternating; median of each process's best of {args.generations} generations.",
        "",
        "| side | revision | generation (s, median) | compile (s, median) | env steps |",
        "|---|---|---|---|---|",
    ]
    for name in ("base", "work"):
        s = summary[name]
        lines.append(
            f"| {name} | {result['revisions'][name]} | {s['generation_s_median']:.3f} "
            f"| {s['compile_s_median']:.1f} | {s['env_steps']:,} |"
        )
    lines += [
        "",
        f"ratio work / base: **{ratio:.3f}** (load average {result['load_average'][0]:.1f})",
    ]
    _write(RESULTS / "compare_revisions.md", "\n".join(lines) + "\n")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())

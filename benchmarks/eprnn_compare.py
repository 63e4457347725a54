"""EPRNN vs ES-RNN vs ES-LSTM at equal (small) budget on the tasks of Tables 2 and 3.

Wang et al., "Do What Nature Did To Us" (EPRNN), Tables 2-3; tasks and ES of spec
``maze-decprnn-eprnn.md`` sections 4.1-4.4. Every run uses the paper's outer loop
(``eprnn-es``, lr 0.02, s = 1e-2 / 1e-3) with the same population, generations and tasks
per generation (16 for Sequence Predicting, 4 for Wheeled Robot Navigating), far below
the paper's 400 x 15,000. The final mean genome is scored on the 1,600 seeded test tasks.

    python -m benchmarks.eprnn_compare [--population 64] [--generations 150] [--quick]

Writes ``benchmarks/results/eprnn/{results.json, results.md, curves.png}``.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

PAPER = {  # Table 2 and Table 3 (mean over 3 runs of the top-3 meta-test scores)
    "seqpred-l1-k10-n20": {"eprnn": -0.114, "es-rnn": -0.385, "es-lstm": -0.165},
    "seqpred-l1-k25-n50": {"eprnn": -0.208, "es-rnn": -1.228, "es-lstm": -0.283},
    "seqpred-l3-k10-n20": {"eprnn": -1.107, "es-rnn": -1.273, "es-lstm": -1.229},
    "seqpred-l3-k25-n50": {"eprnn": -1.430, "es-rnn": -1.811, "es-lstm": -1.475},
    "wrnav-noise0.01": {"eprnn": -12.71, "es-rnn": -16.90, "es-lstm": -14.04},
    "wrnav-noise0.05": {"eprnn": -15.07, "es-rnn": -18.99, "es-lstm": -15.50},
    # the High-Noise column of Table 3 is not legible in our copy of the paper
    "wrnav-noise0.2": {},
}
MODELS = ("eprnn", "es-rnn", "es-lstm")
OUT = Path(__file__).parent / "results" / "eprnn"


def run_one(
    task_name: str,
    model_name: str,
    population: int,
    generations: int,
    out: Path,
    learning_rate: float = 0.02,
):
    import jax
    import numpy as np

    from hebbjax.config import TrainConfig
    from hebbjax.evaluate import evaluate_lifetimes
    from hebbjax.evolution.train import build_run, train

    n_tasks = 16 if task_name.startswith("seqpred") else 4
    config = TrainConfig(
        task=task_name,
        model=model_name,
        strategy="eprnn-es",
        population=population,
        generations=generations,
        schedule=((0, n_tasks),),
        sigma0=0.01,
        validate_every=max(1, generations // 10),
        n_validation=400,
        checkpoint_every=generations,
        strategy_kwargs={"learning_rate": learning_rate},
    )
    t0 = time.perf_counter()
    result = train(config, out / f"{task_name}_{model_name}")
    seconds = time.perf_counter() - t0
    setup = build_run(config)
    test = evaluate_lifetimes(
        setup.model,
        setup.task,
        result.mean_params,
        setup.task.test_set(),
        jax.random.key(1),
    )
    curve = [
        (r["generation"], r["validation"]["score"])
        for r in result.history
        if "validation" in r
    ]
    curve.append((generations, result.history[-1]["final_validation"]["score"]))
    return dict(
        task=task_name,
        model=model_name,
        test_score=float(np.mean(test.fitness)),
        test_stderr=float(np.std(test.fitness) / np.sqrt(test.fitness.shape[0])),
        test_success=float(np.mean(test.success[:, 1])),
        train_fitness_last=result.history[-1]["fitness_mean"],
        curve=curve,
        seconds=seconds,
        population=population,
        generations=generations,
        tasks_per_generation=n_tasks,
        learning_rate=learning_rate,
    )


def write_outputs(rows: list[dict], out: Path) -> None:
    (out / "results.json").write_text(json.dumps(rows, indent=2))
    lines = [
        "| task | model | ours (test, 1,600 tasks) | paper | pop x gens | lr | s |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        paper = PAPER[r["task"]].get(r["model"])
        lines.append(
            f"| {r['task']} | {r['model']} | {r['test_score']:.3f} +- "
            f"{r['test_stderr']:.3f} | {'n/a' if paper is None else paper} | "
            f"{r['population']} x {r['generations']} | {r['learning_rate']} | "
            f"{r['seconds']:.0f} |"
        )
    (out / "results.md").write_text("\n".join(lines) + "\n")

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    tasks = list(dict.fromkeys(r["task"] for r in rows))
    fig, axes = plt.subplots(
        1, len(tasks), figsize=(3.2 * len(tasks), 3), squeeze=False
    )
    for ax, task in zip(axes[0], tasks, strict=True):
        for r in rows:
            if r["task"] == task:
                gens, scores = zip(*r["curve"], strict=True)
                ax.plot(gens, scores, label=r["model"])
        ax.set_title(task, fontsize=8)
        ax.set_xlabel("generation")
    axes[0][0].set_ylabel("validation score (mean genome)")
    axes[0][0].legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(out / "curves.png", dpi=100)
    plt.close(fig)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--population", type=int, default=64)
    parser.add_argument("--generations", type=int, default=150)
    parser.add_argument("--wrnav-generations", type=int, default=None)
    parser.add_argument("--tasks", nargs="*", default=list(PAPER))
    parser.add_argument(
        "--learning-rate", type=float, default=0.02, help="0.02 (code) or 0.2 (paper)"
    )
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args(argv)
    from hebbjax.cli import use_all_cpu_cores

    use_all_cpu_cores()
    os.environ.setdefault("HEBBJAX_QUIET", "1")
    args.out.mkdir(parents=True, exist_ok=True)
    runs = args.out / "runs"
    if runs.exists():
        import shutil

        shutil.rmtree(runs)
    rows = []
    for task in args.tasks:
        gens = args.generations
        if task.startswith("wrnav") and args.wrnav_generations:
            gens = args.wrnav_generations
        for model in MODELS:
            row = run_one(task, model, args.population, gens, runs, args.learning_rate)
            print(
                f"{task:20s} {model:8s} test {row['test_score']:+.3f} "
                f"(paper {PAPER[task].get(model, 'n/a')}) {row['seconds']:.0f}s",
                flush=True,
            )
            rows.append(row)
            write_outputs(rows, args.out)


if __name__ == "__main__":
    main()

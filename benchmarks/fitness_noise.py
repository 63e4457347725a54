"""How much of a generation's fitness ranking is signal: the plateau question of issue 16.

Wang et al. 2022 rank 360 genomes per generation on n_t x n_r = 32 lifetimes each (section
A.2: "by reducing n_t, n_r or n_pool we observed obvious drop in asymptotic performance");
hebbjax's default generation ranks 128 genomes on 8 mazes. Whether 8 mazes are enough
depends on how the fitness differences between nearby genomes compare with the maze-to-maze
noise, and both depend on the step size sigma.

For a genome theta and a step size sigma this script draws P perturbations theta + sigma e_i,
runs each on the same M mazes (common random numbers, one lifetime per maze, as a generation
does) and splits the P x M fitness table F[i, m] with the two-way analysis of variance
without replication: F = mu + a_i + b_m + e_im. The ranking a generation sees on n mazes is
a_i + mean of n noise terms (b_m is shared by every genome and cancels), so

    reliability(n) = var(a) / (var(a) + var(e) / n)

is the correlation of two n-maze rankings of the same population (Spearman-Brown), and
``n_half`` = var(e) / var(a) the number of mazes at which signal and noise are equal. The
genome states: the initial mean of ``hebbjax train`` (seed 0), the paper's released genome
(trained on 15x15, 0.82 goal rate on 9x9), and any ``mean_genome.npz`` of a run (the plateau).

``time_to_quality --diagnose`` asks the same of a run's own population (its diagonal step
sizes, two maze draws); this script separates signal from noise and sweeps sigma.

    python -m benchmarks.fitness_noise [--genomes init paper RUN_DIR ...] \
        [--sigmas 0.01 0.02 0.05 0.1] [--population 128] [--mazes 256] [--name NAME]

Writes ``benchmarks/results/time_to_quality/fitness_noise_<task>[-NAME].{json,md}``.
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

OUT = Path(__file__).resolve().parent / "results" / "time_to_quality"
MAZE_COUNTS = (2, 8, 32, 128)


def anova(table):
    """``var(a)``, ``var(e)`` of F[i, m] = mu + a_i + b_m + e_im (two-way, no replication)."""
    import numpy as np

    f = np.asarray(table, dtype=np.float64)
    p, m = f.shape
    row = f.mean(axis=1, keepdims=True)
    col = f.mean(axis=0, keepdims=True)
    resid = f - row - col + f.mean()
    ms_e = float((resid**2).sum() / ((p - 1) * (m - 1)))
    ms_a = float(m * ((row - f.mean()) ** 2).sum() / (p - 1))
    return max(0.0, (ms_a - ms_e) / m), ms_e


def split_half(table, seed: int = 0) -> float:
    """Spearman correlation of the genomes' means on two disjoint halves of the mazes: a
    direct check of ``reliability(M / 2)``."""
    import numpy as np
    from scipy.stats import spearmanr

    f = np.asarray(table)
    perm = np.random.default_rng(seed).permutation(f.shape[1])
    half = f.shape[1] // 2
    a, b = f[:, perm[:half]].mean(1), f[:, perm[half:]].mean(1)
    return float(spearmanr(a, b).statistic)


def gradient_agreement(table, eps, n: int, pairs: int = 16, seed: int = 0) -> float:
    """Median cosine of the search directions sum_i rank_i e_i (centered ranks, as
    OpenAI-ES and the CMA-ES mean update weigh them) that two disjoint sets of ``n`` mazes
    give for the same population: 1 when the mazes do not matter, 0 for noise."""
    import numpy as np
    from scipy.stats import rankdata

    f, e = np.asarray(table), np.asarray(eps, dtype=np.float64)
    rng = np.random.default_rng(seed)
    cos = []
    for _ in range(pairs if 2 * n < f.shape[1] else 1):
        perm = rng.permutation(f.shape[1])
        g = [
            (rankdata(f[:, idx].mean(1)) / len(f) - 0.5) @ e
            for idx in (perm[:n], perm[n : 2 * n])
        ]
        cos.append(g[0] @ g[1] / (np.linalg.norm(g[0]) * np.linalg.norm(g[1])))
    return float(np.median(cos))


def load_genomes(names: list[str], model, config):
    import jax

    from hebbjax.models.genome_io import load_genome

    out = {}
    for name in names:
        if name == "init":
            out[name] = model.init_params(jax.random.key(config.seed))
        elif name == "paper":
            out[name] = load_genome("paper:decprnn-postdn", model)
        else:
            path = Path(name)
            path = path / "mean_genome.npz" if path.is_dir() else path
            out[name] = load_genome(path, model, fmt="npz")
    return out


def perturbations(
    task: str, genomes: list[str], n_mazes: int, population: int, seed: int
):
    """``(genomes, run)``: the named genomes of DecPRNN(PostDN) (Table-1 variant) on
    ``task``, each with its ``population`` perturbation directions e (one draw, shared by
    every genome), and ``run(genome, sigma)``: the LifetimeResult [P, n_mazes, 1] of
    theta + sigma e on the same ``n_mazes`` random mazes and lifetime keys (common random
    numbers, as in a generation)."""
    import jax
    from jax.flatten_util import ravel_pytree

    from hebbjax.config import TrainConfig
    from hebbjax.evolution.train import build_run
    from hebbjax.parallel import global_mesh
    from hebbjax.rollout import population_evaluator

    config = TrainConfig(
        task=task,
        model="decprnn-postdn",
        model_kwargs={"modulated_scale": 1.0},
        task_kwargs={"r_slot": "prev-reward"},
    )
    setup = build_run(config)
    evaluate = jax.jit(population_evaluator(setup.model, setup.task, global_mesh()))
    k_maze, k_life, k_eps = jax.random.split(jax.random.key(seed), 3)
    mazes = jax.vmap(setup.task.sample_params)(jax.random.split(k_maze, n_mazes))
    life_keys = jax.random.split(k_life, (n_mazes, 1))
    named = {}
    for name, genome in load_genomes(genomes, setup.model, config).items():
        flat, unravel = ravel_pytree(genome)
        eps = jax.random.normal(k_eps, (population, flat.size), flat.dtype)
        named[name] = (flat, unravel, eps)

    def run(name, sigma):
        flat, unravel, eps = named[name]
        return evaluate(jax.vmap(unravel)(flat + sigma * eps), mazes, life_keys)

    return {name: eps for name, (_, _, eps) in named.items()}, run


def measure(args) -> list[dict]:
    import jax.numpy as jnp
    import numpy as np

    directions, run = perturbations(
        args.task, args.genomes, args.mazes, args.population, args.seed
    )
    rows = []
    for name, eps in directions.items():
        for sigma in args.sigmas:
            t0 = time.perf_counter()
            result = run(name, sigma)
            fitness = np.asarray(jnp.mean(result.fitness, axis=2))  # P x M
            seconds = time.perf_counter() - t0
            var_a, var_e = anova(fitness)
            rows.append(
                dict(
                    genome=name,
                    sigma=sigma,
                    population=args.population,
                    mazes=args.mazes,
                    fitness_mean=float(fitness.mean()),
                    genome_sd=var_a**0.5,
                    noise_sd=var_e**0.5,
                    n_half=var_e / var_a if var_a > 0 else float("inf"),
                    reliability={
                        n: var_a / (var_a + var_e / n) if var_a > 0 else 0.0
                        for n in MAZE_COUNTS
                    },
                    split_half_spearman=split_half(fitness),
                    direction_cosine={
                        n: gradient_agreement(fitness, eps, n)
                        for n in MAZE_COUNTS
                        if 2 * n <= args.mazes
                    },
                    seconds=seconds,
                )
            )
            r = rows[-1]
            print(
                f"{name:12s} sigma {sigma:5.3f} fitness {r['fitness_mean']:+.3f} "
                f"sd genome {r['genome_sd']:.4f} noise {r['noise_sd']:.3f} "
                f"n_half {r['n_half']:8.1f} rel(8) {r['reliability'][8]:.2f} "
                f"split-half rho {r['split_half_spearman']:+.2f} cos(8) "
                f"{r['direction_cosine'].get(8, float('nan')):+.2f} ({seconds:.1f} s)",
                flush=True,
            )
    return rows


def write(rows: list[dict], args) -> None:
    from benchmarks import write_report

    written = time.strftime("%Y-%m-%d %H:%M:%S")
    data = dict(written=written, task=args.task, seed=args.seed, rows=rows)
    stem = f"fitness_noise_{args.task}{'-' + args.name if args.name else ''}"
    lines = [
        f"# Fitness signal and noise of DecPRNN(PostDN) on {args.task} (issue 16)",
        "",
        f"Written {written} by `python -m benchmarks.fitness_noise` (seed {args.seed}). "
        f"Each row: {args.population} perturbations theta + sigma e of one genome, each "
        f"run on the same {args.mazes} random mazes (one lifetime each, common random "
        "numbers as in a generation), fitness = the third rollout's return (Table-1 "
        "variant). `sd genome`: spread of the genomes' true fitness; `sd noise`: the "
        "maze-by-genome noise of one lifetime; `n_half`: mazes per genome at which they "
        "are equal; `rel(n)`: the correlation of two n-maze rankings of the population "
        "(a generation ranks on 8); `split-half`: measured Spearman correlation of two "
        f"disjoint {args.mazes // 2}-maze halves; `cos(n)`: median cosine of the search "
        "directions (centered ranks x perturbations) that two disjoint n-maze sets give "
        "the same population (1: the mazes do not matter; 0: the update is noise).",
        "",
        "| genome | sigma | mean fitness | sd genome | sd noise | n_half | "
        + " | ".join(f"rel({n})" for n in MAZE_COUNTS)
        + " | split-half | "
        + " | ".join(f"cos({n})" for n in MAZE_COUNTS)
        + " | s |",
        "|---|---|---|---|---|---|" + "---|" * (2 * len(MAZE_COUNTS)) + "---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['genome']} | {r['sigma']} | {r['fitness_mean']:+.3f} | "
            f"{r['genome_sd']:.4f} | {r['noise_sd']:.3f} | {r['n_half']:.1f} | "
            + " | ".join(f"{r['reliability'][n]:.2f}" for n in MAZE_COUNTS)
            + f" | {r['split_half_spearman']:+.2f} | "
            + " | ".join(
                f"{r['direction_cosine'][n]:+.2f}"
                if n in r["direction_cosine"]
                else "-"
                for n in MAZE_COUNTS
            )
            + f" | {r['seconds']:.1f} |"
        )
    write_report(OUT, stem, data, lines)


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--task", default="maze9", choices=["maze9", "maze15"])
    p.add_argument("--genomes", nargs="+", default=["init", "paper"])
    p.add_argument("--sigmas", nargs="+", type=float, default=[0.01, 0.02, 0.05, 0.1])
    p.add_argument("--population", type=int, default=128)
    p.add_argument("--mazes", type=int, default=256)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--name", default="", help="written as fitness_noise_TASK-NAME.*")
    args = p.parse_args(argv)
    from hebbjax.cli import use_all_cpu_cores

    use_all_cpu_cores()
    os.environ.setdefault("HEBBJAX_QUIET", "1")
    write(measure(args), args)


if __name__ == "__main__":
    main()

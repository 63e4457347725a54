"""Which training fitness, ranked on n mazes, best predicts a genome's score? (issue 16)

At the 9x9 plateau a generation's ranking is mostly noise (``fitness_noise.py``): around
the mean the genomes' true scores differ by less than a few mazes can tell. A fitness other
than the score (the third rollout's return, Wang et al. 2022 sec. 4.2 / spec 2.6) can only
help if, on the same lifetimes, it ranks the population closer to the score's own order.
This script draws P perturbations theta + sigma e of a genome, runs each on the same M
mazes (common random numbers, one lifetime each, as a generation does), and holds the
score on half the mazes as the truth: each candidate fitness, computed on n mazes of the
other half, is judged by

- ``rho``: Spearman correlation of its ranking with the truth's (mean over 40 draws of the
  n mazes), and
- ``cos``: cosine between the search directions sum_i rank_i e_i (centered ranks, as
  OpenAI-ES and the CMA-ES mean update weigh them) of its ranking and of the truth's.

The candidates are what ``hebbjax train`` can rank on (rollout weights, ``score_within``
caps) and two that it cannot, to test the idea that the failure return's weight (-2.0
against about +0.78 for a success) drowns the path-length signal: a smaller failure
return, and ranks taken within each maze before averaging. The truth's own reliability
(split-half Spearman of the truth's two halves) is printed beside: every ``rho`` is
bounded by its square root.

    python -m benchmarks.fitness_predict --genomes RUN_DIR ... [--sigma 0.04] \
        [--population 128] [--mazes 2048] [--name NAME]

Writes ``benchmarks/results/time_to_quality/fitness_predict_<task>[-NAME].{json,md}``.
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

import numpy as np

OUT = Path(__file__).resolve().parent / "results" / "time_to_quality"


def _failed_as(returns, success, value: float):
    return np.where(success > 0, returns, value)


def trained_on(weights, score_within=None):
    """``(returns, steps, success) [P, M, 3] -> [P, M]``: the fitness ``hebbjax train``
    ranks a lifetime on under these task options (``tasks.maze_fitness``; its 1e-6
    RMS(genome) term left out, as for a zero genome: it moves no ranking)."""
    import jax
    import jax.numpy as jnp

    from hebbjax.tasks.maze_fitness import maze_fitness

    fitness = maze_fitness(weights, score_within)
    zero = {"genome": jnp.zeros(1)}
    table = jax.jit(jax.vmap(jax.vmap(lambda r, s, g: fitness(zero, r, s, g))))
    return lambda r, s, g: np.asarray(table(r, s, g), np.float64)


def maze_ranks(fitness):
    """Each genome's centred rank within each maze (ties averaged), P x M."""
    from scipy.stats import rankdata

    return rankdata(fitness, axis=0) / fitness.shape[0] - 0.5


#: name -> (what ``hebbjax train`` option gives it, or why none does; per-lifetime fitness
#: from returns, steps, success [P, M, 3] as a P x M table)
CANDIDATES = {
    "R3 (the score)": (
        "the default, rollout_weights (0, 0, 1)",
        trained_on((0, 0, 1)),
    ),
    "(R2 + R3) / 2": (
        "rollout_weights (0, 1, 1): the 9x9 hour from 4,000",
        trained_on((0, 1, 1)),
    ),
    "R1 + R2 + R3": ("rollout_weights (1, 1, 1)", trained_on((1, 1, 1))),
    "R3 within 25 steps": (
        "score_within 25: the 9x9 hour's capped phases",
        trained_on((0, 0, 1), 25),
    ),
    "R3 within 40 steps": (
        "score_within 40: the 9x9 hour to 1,500",
        trained_on((0, 0, 1), 40),
    ),
    "R3, failure -1": (
        "no option: a failure counted as -1, not -2",
        lambda r, s, g: _failed_as(r[..., 2], g[..., 2], -1.0),
    ),
    "R3, failure 0": (
        "no option: a failure counted as 0",
        lambda r, s, g: _failed_as(r[..., 2], g[..., 2], 0.0),
    ),
    "R3 ranked per maze": (
        "no option: ranks within each maze, then averaged",
        lambda r, s, g: maze_ranks(r[..., 2]),
    ),
}
COUNTS = (64, 256)


def agreement(table, truth, eps, n: int, draws: int, rng) -> tuple[float, float]:
    """Mean (Spearman rho, direction cosine) of the ranking of ``table`` [P, m] on ``n``
    of its m mazes against the ranking of ``truth`` [P], over ``draws`` draws."""
    from scipy.stats import rankdata, spearmanr

    e = np.asarray(eps, np.float64)
    g_truth = (rankdata(truth) / len(truth) - 0.5) @ e
    rhos, coss = [], []
    for _ in range(draws if n < table.shape[1] else 1):
        score = table[:, rng.choice(table.shape[1], n, replace=False)].mean(1)
        rhos.append(spearmanr(score, truth).statistic)
        g = (rankdata(score) / len(score) - 0.5) @ e
        coss.append(g @ g_truth / (np.linalg.norm(g) * np.linalg.norm(g_truth)))
    return float(np.mean(rhos)), float(np.mean(coss))


def judge(returns, steps, success, eps, seed: int = 0, draws: int = 40) -> dict:
    """Every candidate's agreement with the score on the held-out half of the mazes."""
    from scipy.stats import spearmanr

    rng = np.random.default_rng(seed)
    m = returns.shape[1]
    perm = rng.permutation(m)
    train, held = perm[: m // 2], perm[m // 2 :]
    truth = returns[:, held, 2].mean(1)
    quarter = len(held) // 2
    reliability = spearmanr(
        returns[:, held[:quarter], 2].mean(1), returns[:, held[quarter:], 2].mean(1)
    ).statistic
    rows = {}
    for name, (_, fitness) in CANDIDATES.items():
        table = fitness(returns[:, train], steps[:, train], success[:, train])
        rows[name] = {
            n: agreement(table, truth, eps, n, draws, rng)
            for n in (*COUNTS, len(train))
        }
    return dict(truth_split_half=float(reliability), held_out=len(held), rows=rows)


def measure(args) -> list[dict]:
    from benchmarks.fitness_noise import perturbations

    directions, run = perturbations(
        args.task, args.genomes, args.mazes, args.population, args.seed
    )
    out = []
    for name, eps in directions.items():
        t0 = time.perf_counter()
        result = run(name, args.sigma)
        returns, steps, success = (
            np.asarray(x)[:, :, 0, :]
            for x in (result.returns, result.steps, result.success)
        )
        seconds = time.perf_counter() - t0
        row = dict(
            genome=str(name),
            sigma=args.sigma,
            population=args.population,
            mazes=args.mazes,
            score=float(returns[..., 2].mean()),
            goal_rates=[float(x) for x in success.mean((0, 1))],
            seconds=seconds,
            **judge(returns, steps, success, np.asarray(eps), seed=args.seed),
        )
        out.append(row)
        print(
            f"{name}: score {row['score']:+.3f}, truth split-half "
            f"{row['truth_split_half']:+.2f} ({seconds:.0f} s)",
            flush=True,
        )
    return out


def markdown(rows: list[dict], written: str, task: str) -> str:
    lines = [
        f"# Which training fitness predicts the score? DecPRNN(PostDN) on {task} (issue 16)",
        "",
        f"Written {written} by `python -m benchmarks.fitness_predict` (module docstring: "
        "the method). Per genome: P perturbations on M mazes; the truth is the score "
        "(rollout 3's return) of each perturbation on the held-out half; each candidate is "
        "ranked on n mazes of the other half. `rho`: Spearman with the truth's ranking; "
        "`cos`: cosine of the two search directions. Higher is better; rows of one table "
        "share every lifetime.",
    ]
    for r in rows:
        counts = [int(n) for n in next(iter(r["rows"].values()))]
        lines += [
            "",
            f"## {r['genome']}: sigma {r['sigma']}, {r['population']} genomes x "
            f"{r['mazes']} mazes",
            "",
            f"Score around it {r['score']:+.3f}; goal rates "
            + " / ".join(f"{g:.3f}" for g in r["goal_rates"])
            + f"; the truth's split-half reliability {r['truth_split_half']:+.2f} "
            f"({r['held_out'] // 2} + {r['held_out'] // 2} mazes); {r['seconds']:.0f} s.",
            "",
            "| fitness | how | "
            + " | ".join(f"rho / cos, n = {n}" for n in counts)
            + " |",
            "|---|---|" + "---|" * len(counts),
        ]
        for name, by_n in r["rows"].items():
            cells = " | ".join(f"{rho:+.3f} / {cos:+.3f}" for rho, cos in by_n.values())
            lines.append(f"| {name} | {CANDIDATES[name][0]} | {cells} |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--task", default="maze9", choices=["maze9", "maze15"])
    p.add_argument("--genomes", nargs="+", required=True)
    p.add_argument("--sigma", type=float, default=0.04)
    p.add_argument("--population", type=int, default=128)
    p.add_argument("--mazes", type=int, default=2048)
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--name", default="", help="written as fitness_predict_TASK-NAME.*")
    args = p.parse_args(argv)
    if args.mazes < 4 * max(COUNTS):
        p.error(f"--mazes must be at least {4 * max(COUNTS)} (two halves of 2 x n)")
    from benchmarks import write_report
    from hebbjax.cli import use_all_cpu_cores

    use_all_cpu_cores()
    os.environ.setdefault("HEBBJAX_QUIET", "1")
    rows = measure(args)
    written = time.strftime("%Y-%m-%d %H:%M:%S")
    stem = f"fitness_predict_{args.task}{'-' + args.name if args.name else ''}"
    data = dict(written=written, task=args.task, seed=args.seed, rows=rows)
    write_report(OUT, stem, data, markdown(rows, written, args.task).splitlines())


if __name__ == "__main__":
    main()

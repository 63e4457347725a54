"""gmm-es's update before and after, side by side (issues 17 and 19).

Palm et al.'s shared-rule ES (``hebbjax.evolution.gmm_es``, paper Eq. 2-3) computes, every
generation, each individual's responsibilities r (N synapses x M rules) and sums
w_i r_i and w_i r_i^T h_i over the population. The code before this benchmark took chunks of
8 individuals as (8, N, M) arrays and reduced them over their first axis, which XLA:CPU
does slowly; the code then folded one individual at a time into the sums ("one individual at
a time", kept here by tracing with ``responsibility_rows`` off), and now, once an
individual's N x M responsibilities outgrow the last-level cache (rho <= 16 on the ant),
sums every individual over one block of synapses at a time. All are timed here in one
process (the last two interleaved, then "before"), medians of ``--repeats`` calls after a
first (compiling) call:

- the gradient alone (``mixture_gradient``), the ant's N = 12,160 synapses of K = 5, at
  population 128 (``benchmarks/reproduce/ant_tables.py``) for rho in ``--rhos``;
- whole generations of ``hebbjax train --task ant --model hebbian-ffn --strategy gmm-es``
  (spring backend, 5-s lifetimes, population 200, rho 64: the case of the asktell survey
  that took 26.8 s per generation), and that population's evaluation alone.

    python -m benchmarks.gmm_speed [--repeats 5] [--rhos 128 64 32]
    python -m benchmarks.gmm_speed --rhos 1 16 64 128 --population 16 --skip-generation \
        --out benchmarks/results/gmm_blocks      # the synapse blocks (rho = 1: M = N)

Writes ``benchmarks/results/gmm_speed_<devices>dev.{json,md}`` (``HEBBJAX_CPU_DEVICES``
sets the host device count).
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import json
import statistics
import time
from pathlib import Path

OUT = Path(__file__).resolve().parent / "results"
N_SYNAPSES, RULE_DIM = 12_160, 5  # the ant's Hebbian FFN: 60,800 genes = N x K


def chunked_gradient(means, logits, samples, weights, std, chunk_size=8):
    """The gradient as computed before: chunks of individuals reduced over their axis."""
    import jax
    import jax.numpy as jnp

    p = samples.shape[0]
    c = max(1, min(chunk_size, p))
    pad = -p % c
    samples = jnp.concatenate([samples, jnp.zeros((pad,) + samples.shape[1:])])
    weights = jnp.concatenate([weights, jnp.zeros((pad,), weights.dtype)])
    log_pi = jax.nn.log_softmax(logits, axis=-1)
    inv_var = 1.0 / jnp.square(std)
    half_norm = 0.5 * inv_var * jnp.sum(jnp.square(means), axis=-1)

    def chunk(acc, xs):
        h, w = xs
        score = log_pi[None] + inv_var * (h @ means.T) - half_norm[None, None]
        wr = w[:, None, None] * jax.nn.softmax(score, axis=-1)
        acc_l, acc_0, acc_1 = acc
        return (
            acc_l + jnp.sum(wr, axis=0),
            acc_0 + jnp.sum(wr, axis=(0, 1)),
            acc_1 + jnp.einsum("cnm,cnk->mk", wr, h),
        ), None

    zeros = (jnp.zeros_like(logits), jnp.zeros(means.shape[0]), jnp.zeros_like(means))
    xs = (samples.reshape((-1, c) + samples.shape[1:]), weights.reshape(-1, c))
    (acc_l, acc_0, acc_1), _ = jax.lax.scan(chunk, zeros, xs)
    grad_logits = (acc_l - jnp.sum(weights) * jnp.exp(log_pi)) / p
    grad_means = inv_var * (acc_1 - means * acc_0[:, None]) / p
    return grad_means, grad_logits


@contextlib.contextmanager
def gradient(kind: str):
    """``gmm_es.mixture_gradient`` as it is ("now") or as it was ("before"), while tracing."""
    from hebbjax.evolution import gmm_es

    now = gmm_es.mixture_gradient
    gmm_es.mixture_gradient = now if kind == "now" else chunked_gradient
    try:
        yield
    finally:
        gmm_es.mixture_gradient = now


@contextlib.contextmanager
def one_pass_per_individual():
    """``mixture_gradient`` without its synapse blocks (``responsibility_rows`` None), while
    tracing: each individual's N x M responsibilities in one pass, as before the blocks."""
    from hebbjax.evolution import gmm_gradient

    rows = gmm_gradient.responsibility_rows
    gmm_gradient.responsibility_rows = lambda n, m: None
    try:
        yield
    finally:
        gmm_gradient.responsibility_rows = rows


def interleaved(calls: dict, repeats: int) -> dict:
    """First-call and median seconds of each named call, alternating between them."""
    import jax

    first, times = {}, {name: [] for name in calls}
    for name, call in calls.items():
        t0 = time.perf_counter()
        jax.block_until_ready(call())
        first[name] = time.perf_counter() - t0
    for _ in range(repeats):
        for name, call in calls.items():
            t0 = time.perf_counter()
            jax.block_until_ready(call())
            times[name].append(time.perf_counter() - t0)
    return {
        name: dict(first=first[name], median=statistics.median(t), all=t)
        for name, t in times.items()
    }


def gradient_rows(rhos: list[int], population: int, repeats: int) -> list[dict]:
    import jax
    import jax.numpy as jnp
    import numpy as np

    from hebbjax.evolution.gmm_es import mixture_gradient

    rows = []
    for rho in rhos:
        m = max(1, N_SYNAPSES // rho)
        k = jax.random.split(jax.random.key(rho), 4)
        means = jax.random.normal(k[0], (m, RULE_DIM))
        logits = 0.1 * jax.random.normal(k[1], (N_SYNAPSES, m))
        pick = jax.random.randint(k[2], (population, N_SYNAPSES), 0, m)
        samples = means[pick] + 0.1 * jax.random.normal(k[3], pick.shape + (RULE_DIM,))
        weights = jnp.linspace(-1.0, 1.0, population)
        std = jnp.float32(0.1)
        args = (means, logits, samples, weights, std)
        before, now = jax.jit(chunked_gradient), jax.jit(mixture_gradient)

        # a function of its own (jit caches traces per function), traced and compiled
        # inside the context, so the compiled call keeps the one-pass path
        def unblocked_gradient(*a):
            return mixture_gradient(*a)

        with one_pass_per_individual():
            unblocked = jax.jit(unblocked_gradient).lower(*args).compile()
        timed = interleaved(
            {
                "per_individual": functools.partial(unblocked, *args),
                "now": functools.partial(now, *args),
            },
            repeats,
        )
        # after, not interleaved: its chunk x N x M transients (4.5 GB at rho = 1) slow
        # the calls that follow them (page faults) by up to 4x
        timed |= interleaved({"before": functools.partial(before, *args)}, repeats)
        diff = [
            float(np.max(np.abs(a - b)) / np.max(np.abs(b)))
            for a, b in zip(now(*args), before(*args), strict=True)
        ]
        rows.append(
            dict(
                part="gradient",
                rho=rho,
                n_rules=m,
                population=population,
                seconds=timed,
                speedup=timed["before"]["median"] / timed["now"]["median"],
                max_relative_difference=dict(means=diff[0], logits=diff[1]),
            )
        )
        print(json.dumps(rows[-1]), flush=True)
    return rows


def generation_rows(population: int, rho: int, repeats: int) -> list[dict]:
    import jax
    import jax.numpy as jnp

    from hebbjax.config import TrainConfig
    from hebbjax.evolution.loop import make_generation_step
    from hebbjax.evolution.train import build_run
    from hebbjax.parallel import local_mesh
    from hebbjax.rollout import population_evaluator

    config = TrainConfig(
        task="ant",
        model="hebbian-ffn",
        strategy="gmm-es",
        population=population,
        schedule=((0, 1),),
        repeats=1,
        task_kwargs={"backend": "spring", "seconds": 5.0},
        strategy_kwargs={"rho": rho},
    )
    setup = build_run(config)
    es, es_params, mesh = setup.es, setup.es_params, local_mesh()
    steps = {}
    for kind in ("before", "now"):
        with gradient(kind):
            step = make_generation_step(
                es, es_params, setup.model, setup.task, 1, 1, mesh
            )
            # a copy: init may hand back arrays of es_params, which the step donates
            state = jax.tree.map(
                jnp.copy, es.init(jax.random.key(0), setup.init_params, es_params)
            )
            state, _ = jax.block_until_ready(step(state, jax.random.key(1)))  # traced
        steps[kind] = [step, state]  # the step donates its state: keep the new one
    population_, _ = jax.jit(es.ask)(jax.random.key(2), steps["now"][1], es_params)
    task_params = jax.vmap(setup.task.sample_params)(
        jax.random.split(jax.random.key(3), 1)
    )
    life_keys = jax.random.split(jax.random.key(4), (1, 1))
    evaluate = jax.jit(population_evaluator(setup.model, setup.task, mesh))
    keys = iter(jax.random.split(jax.random.key(5), 4 * repeats + 8))

    def run(kind):
        def call():
            steps[kind][1], metrics = steps[kind][0](steps[kind][1], next(keys))
            return metrics

        return call

    timed = interleaved(
        {
            "before": run("before"),
            "now": run("now"),
            "evaluation": lambda: evaluate(population_, task_params, life_keys),
        },
        repeats,
    )
    row = dict(
        part="generation",
        rho=rho,
        n_rules=es.n_rules,
        population=population,
        seconds=timed,
        speedup=timed["before"]["median"] / timed["now"]["median"],
    )
    print(json.dumps(row), flush=True)
    return [row]


def markdown(report: dict) -> str:
    lines = [
        "# gmm-es update: before and after (issues 17, 19)",
        "",
        f"Written {report['written']} by `python -m benchmarks.gmm_speed`; "
        f"{report['devices']} host device(s), load average {report['load']:.1f} at the "
        f"start; medians of {report['repeats']} calls after a first "
        "(compiling) call, whose time is given apart.",
        "",
        "| part | rho (M rules) | population | before s | one individual at a time s "
        "| now s | speed-up | evaluation alone s | first call before / now s |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for row in report["rows"]:
        s = row["seconds"]
        evaluation = s.get("evaluation", {}).get("median")
        single = s.get("per_individual", {}).get("median")
        lines.append(
            f"| {row['part']} | {row['rho']} ({row['n_rules']:,}) | {row['population']} | "
            f"{s['before']['median']:.3f} | {'-' if single is None else f'{single:.3f}'} | "
            f"{s['now']['median']:.3f} | "
            f"**{row['speedup']:.1f}x** | "
            f"{'-' if evaluation is None else f'{evaluation:.3f}'} | "
            f"{s['before']['first']:.1f} / {s['now']['first']:.1f} |"
        )
    diffs = [
        r["max_relative_difference"]
        for r in report["rows"]
        if "max_relative_difference" in r
    ]
    if diffs:
        worst = max(max(d.values()) for d in diffs)
        lines += [
            "",
            "The two gradients agree to float32 rounding of their sums (largest difference "
            f"{worst:.1e} of the largest component); `tests/test_ant_gmm.py` checks the "
            "gradient against numpy and autodiff.",
        ]
    lines += [
        "",
        "Generation rows: the whole jitted generation (ask, the ant lifetimes, tell) of "
        "`hebbjax train --task ant --model hebbian-ffn --strategy gmm-es` on the spring "
        "backend with 5-s lifetimes; 'evaluation alone' is that population's lifetimes "
        "without ask and tell. Inside the whole generation the old update costs far less "
        "than it does alone (the generation is not slower than its evaluation by the "
        "gradient's time alone), so the generation gains much less than the gradient.",
        "",
    ]
    return "\n".join(lines)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--rhos", type=int, nargs="+", default=[128, 64, 32])
    parser.add_argument("--population", type=int, default=128)
    parser.add_argument("--skip-generation", action="store_true")
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args(argv)
    if args.repeats < 1:
        parser.error(f"--repeats must be >= 1, got {args.repeats}")
    if any(not 1 <= r <= N_SYNAPSES for r in args.rhos):
        parser.error(f"--rhos must lie in [1, {N_SYNAPSES}], got {args.rhos}")

    from benchmarks import start_report

    report = start_report(args.repeats)

    from hebbjax.checkpoint import atomic_write_bytes

    report["rows"] += gradient_rows(args.rhos, args.population, args.repeats)
    if not args.skip_generation:
        report["rows"] += generation_rows(200, 64, args.repeats)
    args.out.mkdir(parents=True, exist_ok=True)
    text = markdown(report)
    name = f"gmm_speed_{report['devices']}dev"
    atomic_write_bytes(args.out / f"{name}.json", json.dumps(report, indent=1).encode())
    atomic_write_bytes(args.out / f"{name}.md", text.encode())
    print(text)


if __name__ == "__main__":
    main()

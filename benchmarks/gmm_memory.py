"""Memory of Palm et al.'s shared-rule GMM per compression factor rho (spec 2.4).

For the Brax-ant Hebbian genome (N = 12,160 synapses x 5) and each rho, a fresh subprocess
runs one jitted ``ask`` + ``tell`` of ``gmm-es`` with random fitness and reports its peak
resident memory (``ru_maxrss``), the distribution state's bytes (mu, lambda, optimiser) and the
largest transient the chunked gradient holds (chunk x N x M float32).

    python -m benchmarks.gmm_memory [--population 500] [--chunk 8]

Writes ``benchmarks/results/ant/gmm_memory.json``.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

RESULTS = Path(__file__).parent / "results" / "ant"
RHOS = ["1", "16", "32", "64", "128", "256", "N"]


def one(rho: str, population: int, chunk: int) -> dict:
    import jax

    from hebbjax.evolution.strategies import make_strategy
    from hebbjax.models import make_model

    model = make_model("hebbian-ffn")
    solution = jax.eval_shape(model.init_params, jax.random.key(0))
    rho_arg = rho if rho == "N" else int(rho)
    es, params = make_strategy(
        "gmm-es", population, solution, rho=rho_arg, chunk_size=chunk
    )

    @jax.jit
    def generation(key):
        k0, k1, k2, k3 = jax.random.split(key, 4)
        state = es.init(k0, solution, params)
        x, state = es.ask(k1, state, params)
        fitness = jax.random.normal(k2, (population,))
        state, _ = es.tell(k3, x, fitness, state, params)
        return state.means, state.std

    t0 = time.perf_counter()
    jax.block_until_ready(generation(jax.random.key(0)))
    seconds = time.perf_counter() - t0
    return dict(
        rho=rho,
        n_rules=es.n_rules,
        population=population,
        chunk=chunk,
        state_mb=es.state_bytes() / 2**20,
        logits_mb=4 * es.n_synapses * es.n_rules / 2**20,
        chunk_transient_mb=4 * chunk * es.n_synapses * es.n_rules / 2**20,
        peak_rss_mb=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        first_generation_seconds=seconds,
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--population", type=int, default=500)
    parser.add_argument("--chunk", type=int, default=8)
    parser.add_argument("--rhos", nargs="+", default=RHOS)
    parser.add_argument("--one", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.one is not None:
        print(json.dumps(one(args.one, args.population, args.chunk)))
        return
    rows = []
    for rho in args.rhos:
        cmd = [sys.executable, "-m", "benchmarks.gmm_memory", "--one", rho]
        cmd += ["--population", str(args.population), "--chunk", str(args.chunk)]
        out = subprocess.run(cmd, capture_output=True, text=True, check=True)
        row = json.loads(out.stdout.strip().splitlines()[-1])
        print(json.dumps(row), flush=True)
        rows.append(row)
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "gmm_memory.json").write_text(json.dumps(rows, indent=2))


if __name__ == "__main__":
    main()

"""The ant tables of Najarro & Risi 2020 (Table 1) and Palm, Najarro & Risi 2021 (Table 1).

(A) Najarro & Risi: Hebbian (ABCD_lr, fresh U[-0.1, 0.1] weights every lifetime) against a
static network, trained on the default and the right-front-damaged ant (``ant-damage``:
``default`` + ``short-xp-yn``), evaluated on those and on the unseen left-front damage
(``short-xp-yp``), 100 lifetimes per morphology, distance and the "solved" criterion
(``hebbjax.analysis.distance``: at least 100 progress units along +x, torso x never falling
back, read every second; a morphology is solved when half its lifetimes are).

(B) Palm et al.: leave-one-out over five morphologies (``ant-palm``: train ``default``,
``long-yn``, ``short-xp-yp``, ``short-xn-yp``; ``long-yp``, the long front legs, held out) for
Static, LSTM, Hebbian and Shared(rho = 128) (``gmm-es``); then the rho sweep on the default
morphology, with the memory each rho takes at population 500 (``gmm_memory.json``).

One budget per table, the same for every row of it (``BUDGET``): the recipe that learns on
this machine (notebooks/03): Brax spring backend, 5-second lifetimes (250 control steps of
0.02 s), population 128, OpenAI-ES (Adam, learning rate 0.02, sigma 0.05), genomes drawn
with std 0.1, one lifetime per training morphology per individual. Shared(rho) uses
``gmm-es`` with the same sigma, optimizer and rate (Palm's post-hoc section 5.5 found Adam
the only optimizer that made it learn at all).

Units. The papers' distance is the sum of pybullet AntBulletEnv's "progress" reward, potential
differences with potential = -distance / dt, dt = 0.0165 s: about 60.6 x the metres walked
along +x (spec ``hebbian-ant-brax.md`` 1.5), over at most 960 policy steps = 15.84 s. Ours is
the Brax torso's displacement in metres over 5 s. Both are reported: metres, metres / 0.0165
("progress units", the papers' scale), and speed in m/s (the papers' value / 960 steps,
assuming full-length lifetimes). The Brax ant is not the pybullet ant (body, gear, timestep):
the numbers are comparable in kind, not in value.

    python -m benchmarks.reproduce.ant_tables [--generations 200] [--rows a-hebbian ...]
        [--seeds 0 1 2] [--report-only] [--fresh] [--backend mjx]

Seeds. Najarro & Risi ran three independent evolutionary runs per model and report the
highest-performing one. ``--seeds`` trains each selected row once per seed (seed 0 in
``runs/<row>``, seed s in ``runs/<row>-seed<s>``); the main tables stay seed 0, and a
"Seeds" section lists every seed, marks each row's best (the highest mean distance on
its *training* morphologies: the held-out ones play no part in the choice) and judges the
claims on the best seeds and seed by seed.

``--backend`` other than ``spring`` (the tables' budget) writes under
``benchmarks/results/ant/<backend>/`` unless ``--out`` says otherwise: a recheck of rows on
another physics never replaces the spring tables.

Resumable: each row (and seed) trains in ``benchmarks/results/ant/runs/<row>`` with
``hebbjax.evolution.train.train(config, out, resume=...)``; a row whose ``result.json``
matches its budget is skipped, a killed row continues from its checkpoint. Writes
``benchmarks/results/ant/ant_tables.{json,md,png}`` atomically after every row.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import time
from pathlib import Path

from benchmarks.reproduce import keep_genomes
from benchmarks.reproduce.ant_report import write_outputs
from benchmarks.reproduce.ant_rows import (
    BUDGET,
    COLUMNS,
    OUT,
    ROW,
    ROWS,
    Row,
    as_saved,
    config_fields,
    in_table_order,
    run_key,
    split_key,
)
from hebbjax.checkpoint import atomic_write_bytes

# --------------------------------------------------------------------------------- queue


def row_state(run_dir: Path, fields: dict) -> str:
    """``done`` (result.json at this budget), ``partial`` (a checkpoint to resume),
    ``stale`` (a result at another budget, no checkpoint) or ``pending``."""
    result = run_dir / "result.json"
    if result.exists():
        saved = json.loads(result.read_text()).get("config")
        if saved == as_saved(fields):
            return "done"
    if (run_dir / "checkpoint.npz").exists():
        return "partial"
    return "stale" if result.exists() else "pending"


def committed_results(out: Path, rows: list[Row], budget: dict, skip) -> dict:
    """Finished rows (every seed) kept in ``ant_tables.json`` at this budget, in table
    order (the run directories are not committed: a fresh clone resumes from the table,
    not from scratch)."""
    path = out / "ant_tables.json"
    if not path.exists():
        return {}
    by_key = {r.key: r for r in rows}
    kept = {}
    for saved in json.loads(path.read_text()).get("rows", []):
        key = saved["key"]
        base, seed = split_key(key)
        if key in skip or base not in by_key:
            continue
        if saved.get("config") == as_saved(
            config_fields(by_key[base], budget | {"seed": seed})
        ):
            kept[key] = saved
    return in_table_order(kept)


def queue_state(
    runs: Path, rows: list[Row], budget: dict, seeds: tuple[int, ...] = (0,)
) -> dict[str, str]:
    """``row_state`` of every selected row and seed, by run key."""
    return {
        run_key(r.key, s): row_state(
            runs / run_key(r.key, s), config_fields(r, budget | {"seed": s})
        )
        for r in rows
        for s in seeds
    }


# ------------------------------------------------------------------------------- running


def _cpu_seconds() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def _strip(table: dict) -> dict:
    """A distance table as JSON: rows, and per-set distances (lists)."""
    return dict(
        rows=table["rows"],
        distance_m={
            k: [float(x) for x in v["distance_m"]]
            for k, v in table["lifetimes"].items()
        },
        threshold_m=table["threshold_m"],
        window_steps=table["window_steps"],
    )


def evaluate_row(row: Row, setup, params, seed: int = 17) -> dict:
    """100 lifetimes per morphology (every ``variant:<name>`` set), with "solved"."""
    import jax

    from hebbjax.analysis.distance import distance_table
    from hebbjax.analysis.sources import Subject

    subject = Subject(row.label, row.model, {}, setup.model, params, "", {}, "")
    sets = [f"variant:{c}" for c in COLUMNS[row.table]]
    return _strip(
        distance_table(subject, setup.task, sets, jax.random.key(seed), repeats=100)
    )


def run_row(row: Row, budget: dict, runs: Path) -> dict:
    """Train (or continue) one row, then evaluate its final mean and best genome."""
    import numpy as np

    from hebbjax.config import TrainConfig
    from hebbjax.evolution.train import build_run, train
    from hebbjax.models.base import n_gene

    fields = config_fields(row, budget)
    key = run_key(row.key, budget["seed"])
    run_dir = runs / key
    state = row_state(run_dir, fields)
    if state == "done":
        return json.loads((run_dir / "result.json").read_text())
    if state in ("stale", "pending") and run_dir.exists():
        shutil.rmtree(run_dir)
    config = TrainConfig(**fields)
    sessions_file = run_dir / "sessions.json"
    sessions = json.loads(sessions_file.read_text()) if sessions_file.exists() else []
    t0, c0, load0 = time.perf_counter(), _cpu_seconds(), os.getloadavg()
    started = time.strftime("%Y-%m-%d %H:%M:%S")
    print(f"{key}: {'resuming' if state == 'partial' else 'training'}", flush=True)

    def progress(generation: int, record: dict) -> None:
        if "validation" in record or generation % 10 == 0:
            v = record.get("validation", {}).get("score")
            print(
                f"  {key} gen {generation:4d} fitness {record['fitness_mean']:+.3f}"
                + (f" validation {v:+.3f}" if v is not None else "")
                + f" {record['wall_seconds']:.2f} s/gen load {os.getloadavg()[0]:.1f}",
                flush=True,
            )

    result = train(config, run_dir, resume=state == "partial", progress_fn=progress)
    sessions.append(
        dict(
            started=started,
            wall_seconds=time.perf_counter() - t0,
            cpu_seconds=_cpu_seconds() - c0,
            load_start=load0,
            load_end=os.getloadavg(),
        )
    )
    atomic_write_bytes(sessions_file, json.dumps(sessions, indent=1).encode())
    setup = build_run(config)
    t_eval = time.perf_counter()
    mean_eval = evaluate_row(row, setup, result.mean_params)
    best_eval = evaluate_row(row, setup, result.best_params)
    history = result.history
    out = dict(
        key=key,
        row=row.key,
        seed=budget["seed"],
        table=row.table,
        label=row.label,
        config=as_saved(fields),
        n_gene=int(n_gene(setup.model)),
        mean=mean_eval,
        best=best_eval,
        best_generation=result.best_generation,
        curve=[(r["generation"], r["fitness_mean"]) for r in history],
        validation=[
            (r["generation"], r["validation"]["score"])
            for r in history
            if "validation" in r
        ],
        agent_steps=int(sum(r["env_steps"] for r in history)),
        generation_seconds=float(sum(r["wall_seconds"] for r in history)),
        median_generation_seconds=float(
            np.median([r["wall_seconds"] for r in history])
        ),
        eval_seconds=time.perf_counter() - t_eval,
        sessions=sessions,
        wall_seconds=float(sum(s["wall_seconds"] for s in sessions)),
        cpu_seconds=float(sum(s["cpu_seconds"] for s in sessions)),
        paper=row.paper,
    )
    atomic_write_bytes(run_dir / "result.json", json.dumps(out, indent=1).encode())
    means = ", ".join(
        f"{s['set'].removeprefix('variant:')} {s['mean_m']:.2f} m "
        f"solved {s['solved_fraction']:.0%}"
        for s in mean_eval["rows"]
    )
    print(
        f"{key}: {means}; {out['wall_seconds']:.0f} s, load {os.getloadavg()[0]:.1f}",
        flush=True,
    )
    return out


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    from hebbjax.envs.ant import BACKENDS

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--rows", nargs="*", default=None, help="row keys (default: all)")
    p.add_argument("--generations", type=int, default=BUDGET["generations"])
    p.add_argument("--population", type=int, default=BUDGET["population"])
    p.add_argument("--seconds", type=float, default=BUDGET["seconds"])
    p.add_argument("--backend", choices=BACKENDS, default=BUDGET["backend"],
                   help="Brax pipeline (another one writes under results/ant/BACKEND)")  # fmt: skip
    p.add_argument("--out", type=Path, default=None,
                   help=f"default {OUT}, or {OUT}/BACKEND for another --backend")  # fmt: skip
    p.add_argument(
        "--seeds",
        nargs="+",
        type=int,
        default=[0],
        help="train each selected row once per seed (default: 0; the papers ran 3-5 "
        "and report the best)",
    )
    p.add_argument("--report-only", action="store_true")
    p.add_argument(
        "--fresh",
        action="store_true",
        help="delete the selected rows' runs and committed results and train them "
        "again (the other rows of the table are kept)",
    )
    args = p.parse_args(argv)
    args.rows = args.rows or [r.key for r in ROWS]
    if args.out is None:
        backend = args.backend
        args.out = OUT if backend == BUDGET["backend"] else OUT / backend
    unknown = sorted(set(args.rows) - set(ROW))
    if unknown:
        raise SystemExit(f"unknown row(s) {unknown}; valid: {', '.join(ROW)}")
    if any(seed < 0 for seed in args.seeds) or len(set(args.seeds)) < len(args.seeds):
        p.error(f"--seeds must be distinct non-negative integers, got {args.seeds}")
    args.budget = BUDGET | dict(
        generations=args.generations,
        population=args.population,
        seconds=args.seconds,
        backend=args.backend,
    )
    return args


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    from hebbjax.cli import use_all_cpu_cores

    use_all_cpu_cores()
    os.environ.setdefault("HEBBJAX_QUIET", "1")
    import hebbjax.analysis.distance  # noqa: F401  (preload: the tree is being edited)
    import hebbjax.evolution.train  # noqa: F401

    runs = args.out / "runs"
    pairs = [(ROW[k], seed) for k in args.rows for seed in args.seeds]
    keys = [run_key(row.key, seed) for row, seed in pairs]
    if args.fresh:
        for key in keys:
            shutil.rmtree(runs / key, ignore_errors=True)
    runs.mkdir(parents=True, exist_ok=True)
    rows = [ROW[k] for k in args.rows]
    state = queue_state(runs, rows, args.budget, tuple(args.seeds))
    results = {
        key: json.loads((runs / key / "result.json").read_text())
        for key in keys
        if state[key] == "done"
    }
    # every committed row stays in the table, except those this call trains: run
    # results here, or all selected rows (and seeds) with --fresh
    fresh = dict.fromkeys(keys) if args.fresh else {}
    kept = committed_results(args.out, list(ROWS), args.budget, skip=results | fresh)
    committed = {k: v for k, v in kept.items() if k in keys}
    print(
        "queue:",
        state | dict.fromkeys(committed, "done (in ant_tables.json)"),
        flush=True,
    )
    results = kept | results
    for key in results:  # finished rows whose run is on this machine: keep the genomes
        if state.get(key) == "done":
            keep_genomes(runs / key, args.out / "genomes" / key)
    write_outputs(in_table_order(results), args.budget, args.out)
    if args.report_only:
        return
    for (row, seed), key in zip(pairs, keys, strict=True):
        if key in results:
            continue
        try:
            results[key] = run_row(row, args.budget | dict(seed=seed), runs)
        except Exception as err:  # one failing row must not stop the queue
            print(f"{key}: FAILED {type(err).__name__}: {err}", flush=True)
            continue
        keep_genomes(runs / key, args.out / "genomes" / key)
        write_outputs(in_table_order(results), args.budget, args.out)


if __name__ == "__main__":
    main()

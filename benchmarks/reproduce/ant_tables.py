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
import math
import os
import resource
import shutil
import time
from pathlib import Path
from typing import Any, NamedTuple

from benchmarks.reproduce import keep_genomes

OUT = Path(__file__).resolve().parents[1] / "results" / "ant"
PYBULLET_DT = 0.0165  # s per pybullet env step; progress units per metre = 1 / dt
PAPER_POLICY_STEPS = 960  # 1000-step TimeLimit minus the 40-step burn-in
MACHINE_GIB = 23  # memory of this project's machines

# column order and the papers' names of our variants (envs/ant.py)
COLUMNS = {
    "A": ("default", "short-xp-yn", "short-xp-yp"),
    "B": ("default", "short-xp-yp", "short-xn-yp", "long-yn", "long-yp"),
    "sweep": ("default",),
}
PAPER_NAMES = {
    "A": ("No damage (seen)", "Right front leg (seen)", "Left front leg (unseen)"),
    "B": ("Default", "Damage left", "Damage right", "Long back", "**Long front**"),
    "sweep": ("Default",),
}
TASKS = {"A": "ant-damage", "B": "ant-palm", "sweep": "ant"}
TRAIN_B = ("default", "short-xp-yp", "short-xn-yp", "long-yn")
#: the morphologies each table trains on (a seed is chosen on these only)
TRAINING = {"A": COLUMNS["A"][:2], "B": TRAIN_B, "sweep": ("default",)}


class Row(NamedTuple):
    key: str  # run directory
    table: str  # "A", "B" or "sweep"
    label: str  # the paper's row name
    model: str
    strategy: str  # "openai-es" or "gmm-es"
    rho: int | str | None  # gmm-es compression (None: not shared)
    paper: tuple[tuple[float, float] | None, ...]  # (mean, std) per column, units
    paper_solved: tuple[bool | None, ...] = ()


ROWS = (
    Row("a-hebbian", "A", "Hebbian", "hebbian-ffn", "openai-es", None,
        ((1051, 113), (1019, 116), (452, 95)), (True, True, True)),
    Row("a-static", "A", "static weights", "static-ffn", "openai-es", None,
        ((1604, 171), (1431, 54), (68, 56)), (True, True, False)),
    Row("b-hebbian", "B", "Hebbian", "hebbian-ffn", "openai-es", None,
        ((928, 88), (1102, 164), (981, 140), (741, 169), (364, 131))),
    Row("b-static", "B", "Static", "static-ffn", "openai-es", None,
        ((1545, 30), (839, 60), (1891, 105), (1197, 31), (202, 174))),
    Row("b-lstm", "B", "LSTM", "lstm-ant", "openai-es", None,
        ((1097, 57), (1374, 74), (1240, 140), (806, 113), (314, 115))),
    Row("b-shared-128", "B", "Shared(rho=128)", "hebbian-ffn", "gmm-es", 128,
        ((0, 10), (-9, 18), (15, 31), (1, 6), (0, 4))),
    Row("sweep-rho-16", "sweep", "Shared(rho=16)", "hebbian-ffn", "gmm-es", 16, (None,)),
    Row("sweep-rho-32", "sweep", "Shared(rho=32)", "hebbian-ffn", "gmm-es", 32,
        ((2, 12),)),
    Row("sweep-rho-64", "sweep", "Shared(rho=64)", "hebbian-ffn", "gmm-es", 64,
        ((3, 13),)),
    Row("sweep-rho-256", "sweep", "Shared(rho=256)", "hebbian-ffn", "gmm-es", 256,
        ((2, 12),)),
    Row("sweep-rho-N", "sweep", "Shared(rho=N)", "hebbian-ffn", "gmm-es", "N",
        ((-1, 0),)),
    Row("sweep-rho-1", "sweep", "Shared(rho=1)", "hebbian-ffn", "gmm-es", 1, (None,)),
)  # fmt: skip
ROW = {r.key: r for r in ROWS}

# One budget for every row (the learning recipe of notebooks/03), stated in every output.
BUDGET: dict[str, Any] = dict(
    backend="spring",
    seconds=5.0,
    population=128,
    generations=200,
    sigma0=0.05,
    learning_rate=0.02,
    optimizer="adam",
    init_scale=0.1,
    validate_every=20,
    checkpoint_every=10,
    seed=0,
)
PAPER_BUDGET = {
    "A": "OpenAI-ES, population 500, lr 0.2 (decay 0.995), sigma 0.1 (decay 0.999), "
    "pybullet AntBulletEnv-v0, 1000-step lifetimes; generations not stated",
    "B": "OpenAI-ES (evostrat), population 500, lr 0.2, sigma 0.1, about 500 generations "
    "(section 4), pybullet AntBulletEnv-v0, 1000-step lifetimes",
    "sweep": "as B, default morphology only",
}


# ----------------------------------------------------------------------------- pure parts


def run_key(row_key: str, seed: int) -> str:
    """The run directory and result key of one seed of a row: the row's own for seed 0."""
    return row_key if seed == 0 else f"{row_key}-seed{seed}"


def split_key(key: str) -> tuple[str, int]:
    """(row key, seed) of a run key (``run_key``'s inverse)."""
    base, sep, seed = key.rpartition("-seed")
    return (base, int(seed)) if sep and seed.isdigit() else (key, 0)


def _json(value: Any) -> Any:
    """``value`` as it reads back from JSON (tuples become lists): what saved configs are
    compared with."""
    return json.loads(json.dumps(value))


def by_morphology(result: dict, genome: str = "mean") -> dict[str, dict]:
    """A row's evaluation (``genome``: "mean" or "best") by morphology name."""
    return {s["set"].removeprefix("variant:"): s for s in result[genome]["rows"]}


def units_of(metres: float) -> float:
    """pybullet progress units of a displacement along +x in metres (spec 1.5)."""
    return metres / PYBULLET_DT


def paper_speed(units: float) -> float:
    """The papers' mean speed (m/s) of a distance in progress units over a full lifetime."""
    return units * PYBULLET_DT / (PAPER_POLICY_STEPS * PYBULLET_DT)


def config_fields(row: Row, budget: dict) -> dict:
    """The ``TrainConfig`` fields of a row at ``budget`` (JSON-able; compared on resume)."""
    strategy_kwargs: dict[str, Any] = dict(learning_rate=budget["learning_rate"])
    model_kwargs: dict[str, Any] = dict(init_scale=budget["init_scale"])
    if row.strategy == "gmm-es":
        strategy_kwargs |= dict(
            rho=row.rho,
            optimizer=budget["optimizer"],
            lr_decay=1.0,
            std_decay=1.0,
            init_scale=budget["init_scale"],
        )
        model_kwargs = {}
        if row.rho == 1:
            strategy_kwargs["chunk_size"] = 1  # a chunk of 8 is a 4.5 GB transient
    return dict(
        task=TASKS[row.table],
        model=row.model,
        strategy=row.strategy,
        population=budget["population"],
        generations=budget["generations"],
        seed=budget["seed"],
        schedule=((0, 1),),
        repeats=1,
        sigma0=budget["sigma0"],
        validate_every=budget["validate_every"],
        n_validation=1,
        validation_repeats=1,
        checkpoint_every=budget["checkpoint_every"],
        model_kwargs=model_kwargs,
        task_kwargs=dict(backend=budget["backend"], seconds=budget["seconds"]),
        strategy_kwargs=strategy_kwargs,
    )


def row_state(run_dir: Path, fields: dict) -> str:
    """``done`` (result.json at this budget), ``partial`` (a checkpoint to resume),
    ``stale`` (a result at another budget, no checkpoint) or ``pending``."""
    result = run_dir / "result.json"
    if result.exists():
        saved = json.loads(result.read_text()).get("config")
        if saved == _json(fields):
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
        if saved.get("config") == _json(
            config_fields(by_key[base], budget | {"seed": seed})
        ):
            kept[key] = saved
    return _in_table_order(kept)


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


def progress_of(run_dir: Path) -> dict | None:
    """How far an unfinished row got, from its ``metrics.jsonl`` (None: not started)."""
    path = run_dir / "metrics.jsonl"
    if not path.exists():
        return None
    records = []
    for line in path.read_text().splitlines():
        try:
            records.append(json.loads(line))
        except json.JSONDecodeError:  # a line being written
            continue
    records = [r for r in records if "fitness_mean" in r]
    if not records:
        return None
    validation = [
        (r["generation"], r["validation"]["score"])
        for r in records
        if "validation" in r
    ]
    return dict(
        generations_done=records[-1]["generation"] + 1,
        fitness_mean=records[-1]["fitness_mean"],
        validation=validation,
        curve=[(r["generation"], r["fitness_mean"]) for r in records],
        wall_seconds=sum(r.get("wall_seconds", 0.0) for r in records),
        median_generation_seconds=sorted(r.get("wall_seconds", 0.0) for r in records)[
            len(records) // 2
        ],
    )


def _progress_cells(progress: dict | None, n_columns: int, generations: int):
    if progress is None:
        return ["not run yet"] * n_columns, "-"
    v = progress["validation"]
    text = (
        f"training: generation {progress['generations_done']}/{generations}, "
        f"population mean {progress['fitness_mean']:.2f} m"
        + (f", last validation {v[-1][1]:.2f} m (gen {v[-1][0]})" if v else "")
    )
    cost = (
        f"{progress['wall_seconds']:.0f} so far "
        f"({progress['median_generation_seconds']:.1f} s/gen)"
    )
    return [text] + ["(training)"] * (n_columns - 1), cost


def _cell(stats: dict | None) -> str:
    if stats is None:
        return "-"
    return (
        f"{stats['mean_m']:.2f} ± {stats['std_m']:.2f} m = "
        f"{units_of(stats['mean_m']):.0f} ± {units_of(stats['std_m']):.0f} u, "
        f"solved {stats['solved_fraction']:.0%}"
    )


def _paper_cell(value: tuple[float, float] | None, solved: bool | None = None) -> str:
    if value is None:
        return "not run"
    text = f"{value[0]:.0f} ± {value[1]:.0f} u ({paper_speed(value[0]):.2f} m/s)"
    return text + (f", solved {solved}" if solved is not None else "")


def render_table(
    table: str,
    results: dict[str, dict],
    genome: str = "mean",
    progress: dict[str, dict] | None = None,
    generations: int = BUDGET["generations"],
) -> list[str]:
    """Markdown rows of one table: ours (``genome``: "mean" or "best") beside the paper;
    a row still training shows its ``progress`` (``progress_of``)."""
    columns, names = COLUMNS[table], PAPER_NAMES[table]
    lines = [
        "| model | " + " | ".join(f"{n} (`{c}`)" for c, n in zip(columns, names, strict=True))
        + " | wall s (load) |",
        "|---|" + "---|" * (len(columns) + 1),
    ]  # fmt: skip
    for row in (r for r in ROWS if r.table == table):
        res = results.get(row.key)
        if res is None:
            ours, cost = _progress_cells(
                (progress or {}).get(row.key), len(columns), generations
            )
        else:
            by_set = by_morphology(res, genome)
            ours = [_cell(by_set.get(c)) for c in columns]
            cost = _cost(res)
        solved = row.paper_solved or (None,) * len(columns)
        lines.append(f"| {row.label} (hebbjax) | " + " | ".join(ours) + f" | {cost} |")
        lines.append(
            f"| {row.label} (paper) | "
            + " | ".join(
                _paper_cell(v, s) for v, s in zip(row.paper, solved, strict=True)
            )
            + " | |"
        )
    return lines


CLAIMS = (
    ("static beats Hebbian on the seen morphologies", "a-static", "a-hebbian",
     ("default", "short-xp-yn")),
    ("Hebbian beats static on the unseen left-front damage", "a-hebbian", "a-static",
     ("short-xp-yp",)),
    ("Static beats Hebbian on the training morphologies", "b-static", "b-hebbian",
     TRAIN_B),
    ("Static beats LSTM on the training morphologies", "b-static", "b-lstm", TRAIN_B),
    ("Hebbian beats Static on the held-out long front", "b-hebbian", "b-static",
     ("long-yp",)),
    ("LSTM beats Static on the held-out long front", "b-lstm", "b-static",
     ("long-yp",)),
    ("Hebbian beats Shared(rho=128) on every morphology", "b-hebbian", "b-shared-128",
     COLUMNS["B"]),
)  # fmt: skip


def _mean_se(result: dict, columns: tuple[str, ...]) -> tuple[float, float]:
    by = by_morphology(result)
    means = [by[c]["mean_m"] for c in columns]
    ses = [by[c]["std_m"] / by[c].get("n_lifetimes", 100) ** 0.5 for c in columns]
    return sum(means) / len(means), sum(x * x for x in ses) ** 0.5 / len(ses)


def judge_claims(results: dict[str, dict]) -> list[dict]:
    """The papers' claims on our final-mean distances: "A beats B" is held when the
    difference of the means over the columns exceeds 2 standard errors, reversed when
    it is below -2, and undecided otherwise."""
    out = []
    for text, a, b, columns in CLAIMS:
        if a not in results or b not in results:
            out.append(dict(claim=text, verdict="not testable (rows missing)"))
            continue
        (ma, sa), (mb, sb) = (
            _mean_se(results[a], columns),
            _mean_se(results[b], columns),
        )
        se = (sa * sa + sb * sb) ** 0.5
        verdict = "held" if ma - mb > 2 * se else "reversed" if mb - ma > 2 * se else (
            "undecided")  # fmt: skip
        evidence = f"{ma:.2f} vs {mb:.2f} m (difference {ma - mb:+.2f} ± {se:.2f})"
        out.append(dict(claim=text, verdict=verdict, evidence=evidence))
    return out


def seed_groups(results: dict[str, dict]) -> dict[str, dict[int, dict]]:
    """Each row's finished seeds, ``{row key: {seed: result}}``, in table order."""
    groups: dict[str, dict[int, dict]] = {}
    for key, result in _in_table_order(results).items():
        base, seed = split_key(key)
        groups.setdefault(base, {})[seed] = result
    return groups


def training_mean(result: dict, table: str) -> float:
    """Mean distance (m) over the morphologies the row trained on."""
    return _mean_se(result, TRAINING[table])[0]


def best_seeds(results: dict[str, dict]) -> dict[str, int]:
    """Each row's highest-performing seed, the papers' choice of run: the highest mean
    distance on its training morphologies (held-out columns play no part; a NaN never
    wins; ties: the lower seed)."""

    def score(by_seed: dict[int, dict], table: str, seed: int) -> float:
        value = training_mean(by_seed[seed], table)
        return -math.inf if math.isnan(value) else value

    return {
        row: max(sorted(by_seed), key=lambda s: score(by_seed, ROW[row].table, s))
        for row, by_seed in seed_groups(results).items()
    }


def judge_claims_by_seed(results: dict[str, dict]) -> list[dict]:
    """The claims whose rows have several seeds, judged (``judge_claims``' rule) on each
    row's best seed and on every seed both rows have (seed s of A against seed s of B)."""
    groups, best = seed_groups(results), best_seeds(results)
    on_best = judge_claims({row: groups[row][seed] for row, seed in best.items()})
    out = []
    for i, ((text, a, b, _), claim) in enumerate(zip(CLAIMS, on_best, strict=True)):
        ga, gb = groups.get(a, {}), groups.get(b, {})
        if not ga or not gb or max(len(ga), len(gb)) < 2:
            continue  # a row missing, or one seed each: the main claims say it
        verdicts = {
            s: judge_claims({a: ga[s], b: gb[s]})[i]["verdict"]
            for s in sorted(set(ga) & set(gb))
        }
        held = sum(v == "held" for v in verdicts.values())
        per_seed = f"held in {held} of {len(verdicts)} (" + ", ".join(
            f"seed {s}: {v}" for s, v in verdicts.items()
        ) + ")" if verdicts else "no seed in common"  # fmt: skip
        out.append(
            dict(
                claim=text,
                verdict=claim["verdict"],
                evidence=f"{claim['evidence']}, seed {best[a]} vs {best[b]}",
                same_seed=per_seed,
            )
        )
    return out


def _cost(result: dict) -> str:
    loads = [s["load_end"][1] for s in result["sessions"]] or [float("nan")]
    seconds = result["wall_seconds"] + result.get("eval_seconds", 0.0)
    return f"{seconds:.0f} ({sum(loads) / len(loads):.1f})"


def render_seeds(
    results: dict[str, dict],
    progress: dict[str, dict] | None = None,
    generations: int = BUDGET["generations"],
) -> list[str]:
    """Markdown: every seed of the rows trained with more than one (``progress``: runs
    still training, any seed, by run key), each row's best seed marked, and the claims judged
    on the best seeds and seed by seed; [] when every row has one seed."""
    groups, best = seed_groups(results), best_seeds(results)
    training = {}
    for key, p in (progress or {}).items():
        base, seed = split_key(key)
        training.setdefault(base, {})[seed] = p
    several = [
        r for r in ROWS if len(groups.get(r.key, {})) + len(training.get(r.key, {})) > 1
    ]
    if not several:
        return []
    lines = [
        "## Seeds: the papers' protocol",
        "",
        "Najarro & Risi ran three independent evolutionary runs per model and report the "
        "highest-performing one (Palm et al. do not say). Rows trained with several seeds "
        "(`--seeds`): each seed's final mean, 100 lifetimes per morphology; **best** is the "
        "seed with the highest mean distance on the training morphologies (the held-out "
        "morphologies play no part in the choice). The tables above show seed 0.",
    ]
    for table in ("A", "B", "sweep"):
        rows = [r for r in several if r.table == table]
        if not rows:
            continue
        columns = COLUMNS[table]
        lines += [
            "",
            f"| ({table}) model | seed | " + " | ".join(f"`{c}`" for c in columns)
            + " | training mean | wall s (load) |",
            "|---|---|" + "---|" * (len(columns) + 2),
        ]  # fmt: skip
        for row in rows:
            for seed in sorted(
                set(groups.get(row.key, {})) | set(training.get(row.key, {}))
            ):
                res = groups.get(row.key, {}).get(seed)
                if res is None:
                    ours, cost = _progress_cells(
                        training[row.key][seed], len(columns), generations
                    )
                    mean, mark = "-", ""
                else:
                    by_set = by_morphology(res)
                    ours = [_cell(by_set.get(c)) for c in columns]
                    cost = _cost(res)
                    mean = f"{training_mean(res, table):.2f} m"
                    mark = " **best**" if best.get(row.key) == seed else ""
                lines.append(
                    f"| {row.label} | {seed}{mark} | " + " | ".join(ours)
                    + f" | {mean} | {cost} |"
                )  # fmt: skip
    claims = judge_claims_by_seed(results)
    if claims:
        lines += [
            "",
            "The claims whose rows have several seeds, on each row's best seed and on "
            "same-seed pairs (seed s of one row against seed s of the other), by the rule "
            "above:",
            "",
            "| claim | best seeds | evidence | same-seed pairs |",
            "|---|---|---|---|",
            *(
                f"| {c['claim']} | {c['verdict']} | {c['evidence']} | {c['same_seed']} |"
                for c in claims
            ),
        ]
    return lines


def memory_lines(memory: dict | None) -> list[str]:
    """The rho sweep's memory at population 500 (gmm_memory.json) as Markdown."""
    if not memory:
        return ["(no gmm_memory.json)"]
    lines = [
        "| rho | rules M | population (chunk) | mixture state MB | peak RSS MB | fits in "
        f"{MACHINE_GIB} GiB at P = 500 |",
        "|---|---|---|---|---|---|",
    ]
    for m in memory["rows"]:
        peak = m["peak_rss_mb"]
        if m["population"] == 500:
            fits = "yes, measured" if peak < MACHINE_GIB * 1024 else "no, measured"
        else:  # P = 500 adds the population's samples: P x 60,800 genes x 4 bytes
            extra = (500 - m["population"]) * 60_800 * 4 / 2**20
            est = peak + extra
            fits = (
                f"yes, estimated {est:,.0f} MB (+{extra:.0f} MB of samples; chunk 1)"
                if est < MACHINE_GIB * 1024
                else f"no, estimated {est:,.0f} MB"
            )
        lines.append(
            f"| {m['rho']} | {m['n_rules']:,} | {m['population']} ({m['chunk']}) | "
            f"{m['state_mb']:.1f} | {peak:,.0f} | {fits} |"
        )
    return lines


# ------------------------------------------------------------------------------- running


def _cpu_seconds() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def write_atomic(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text)
    os.replace(tmp, path)


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
    write_atomic(sessions_file, json.dumps(sessions, indent=1))
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
        config=_json(fields),
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
    write_atomic(run_dir / "result.json", json.dumps(out, indent=1))
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


def write_outputs(results: dict[str, dict], budget: dict, out: Path) -> None:
    runs = out / "runs"
    training = {  # every unfinished run of a row, any seed, by run key
        d.name: p
        for d in (sorted(runs.iterdir()) if runs.is_dir() else [])
        if split_key(d.name)[0] in ROW
        and d.name not in results
        and (p := progress_of(d))
    }
    progress = {r.key: training[r.key] for r in ROWS if r.key in training}  # seed 0
    mem_file = out / "gmm_memory.json"
    memory = json.loads(mem_file.read_text()) if mem_file.exists() else None
    written = time.strftime("%Y-%m-%d %H:%M:%S")
    load = os.getloadavg()
    data = dict(
        budget=budget,
        paper_budget=PAPER_BUDGET,
        units="metres along +x in the lifetime; progress units = metres / 0.0165",
        rows=list(results.values()),
        in_progress=progress,
        claims=judge_claims(results),
        best_seeds=best_seeds(results),
        claims_by_seed=judge_claims_by_seed(results),
        memory=memory,
        written=written,
        load_average_at_write=load,
        total_wall_seconds=sum(r["wall_seconds"] for r in results.values()),
    )
    write_atomic(out / "ant_tables.json", json.dumps(data, indent=1))
    b = budget
    steps = round(b["seconds"] / 0.02)
    lines = [
        "# The ant tables of Najarro & Risi 2020 and Palm, Najarro & Risi 2021",
        "",
        f"Written {written} (load average {load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f} "
        "on a shared 2-core machine) by `python -m benchmarks.reproduce.ant_tables` "
        "(resumable; rows appear as they finish).",
        "",
        f"**Budget, the same for every row:** Brax `{b['backend']}` backend, "
        f"{b['seconds']:g}-second lifetimes ({steps} control steps of 0.02 s), population "
        f"{b['population']}, {b['generations']} generations, one lifetime per training "
        f"morphology per individual = {b['population'] * b['generations']:,} lifetimes "
        "per morphology; OpenAI-ES (Adam, learning rate "
        f"{b['learning_rate']}, sigma {b['sigma0']}), genome std {b['init_scale']}; "
        "Shared(rho): `gmm-es` with the same sigma, Adam and rate, means drawn with std "
        f"{b['init_scale']}. Validation every {b['validate_every']} generations. The papers: "
        f"A: {PAPER_BUDGET['A']}; B: {PAPER_BUDGET['B']}.",
        "",
        "**Cells:** ours: mean ± std over 100 lifetimes of the final distribution mean, in "
        "metres along +x and in progress units (u = m / 0.0165, the papers' scale), and the "
        "fraction of lifetimes solved (>= 100 u = 1.65 m, torso x never falling back over "
        "1-s samples). Papers: mean ± std over 100 rollouts in progress units, with the "
        "speed it implies over 960 policy steps (15.84 s). Our lifetimes are 5 s, so "
        "compare speeds (ours: m / 5 s) rather than distances, and only in kind: Brax's "
        "ant is not pybullet's (body, gear, timestep). wall s (load): training and "
        "evaluation seconds and the 5-minute load average at the end.",
        "",
        "**Caveats.** " + physics_caveat(b["backend"]) + " Brax's damaged lower leg is "
        "the capsule scaled to 0.25 (Najarro's 0.4 -> 0.1), but on Brax's body, not "
        "pybullet's. " + _seeds_caveat(results),
        "",
        "## (A) Najarro & Risi 2020, Table 1: `ant-damage`, trained on the first two",
        "",
        *render_table("A", results, "mean", progress, b["generations"]),
        "",
        "## (B) Palm et al. 2021, Table 1: `ant-palm`, leave-one-out (long front held out)",
        "",
        *render_table("B", results, "mean", progress, b["generations"]),
        "",
        "## The papers' claims, judged on these rows",
        "",
        "Rule: A beats B is held when the difference of the mean distances (averaged over "
        "the claim's morphologies) exceeds 2 standard errors (std / sqrt(100)), reversed "
        "when B beats A by that much, undecided otherwise.",
        "",
        "| claim | verdict | evidence |",
        "|---|---|---|",
        *(
            f"| {c['claim']} | {c['verdict']} | {c.get('evidence', '')} |"
            for c in judge_claims(results)
        ),
        "",
        *(
            [*seeds_lines, ""]
            if (seeds_lines := render_seeds(results, training, b["generations"]))
            else []
        ),
        "## rho sweep on the default morphology (Palm et al. could not run rho < 32)",
        "",
        *render_table("sweep", results, "mean", progress, b["generations"]),
        "",
        "Memory of `gmm-es` on the Hebbian ant (60,800 genes), from `gmm_memory.json`:",
        "",
        *memory_lines(memory),
        "",
        f"Measurement notes: {(memory or {}).get('note', '-')} Palm et al. (section 5.2) "
        "could not run rho < 32 for memory; here every rho down to 16 fits at P = 500 "
        "with chunks of 8 individuals (the mixture's log-probabilities are accumulated "
        "chunk by chunk), and rho = 1 (12,160 rules) needs chunks of 1.",
        "",
        "## Best-validation genome (the papers report their best genome)",
        "",
        *render_table("A", results, "best"),
        "",
        *render_table("B", results, "best"),
    ]
    write_atomic(out / "ant_tables.md", "\n".join(lines) + "\n")
    _plot(results, progress, out / "ant_tables.png")


def _seeds_caveat(results: dict[str, dict]) -> str:
    several = {
        row: sorted(by_seed)
        for row, by_seed in seed_groups(results).items()
        if len(by_seed) > 1
    }
    if not several:
        return "The papers report their best run of 3-5 seeds; we run one seed per row."
    names = ", ".join(
        f"{ROW[row].table} {ROW[row].label} ({len(s)})" for row, s in several.items()
    )
    return (
        "The papers report their best run of 3-5 seeds; the tables below are seed 0, "
        f"and the rows with several seeds ({names}) are compared seed by seed in "
        "'Seeds'; the other rows have one."
    )


def _plot(results: dict[str, dict], progress: dict[str, dict], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    fig, axes = plt.subplots(1, 3, figsize=(16, 4.5))
    for ax, table in zip(axes[:2], ("A", "B"), strict=True):
        rows = [r for r in ROWS if r.table == table]
        cols = COLUMNS[table]
        width = 0.8 / max(1, len(rows))
        for i, row in enumerate(rows):
            x = np.arange(len(cols)) + i * width
            res = results.get(row.key)
            if res is None:
                continue
            by = by_morphology(res)
            seconds = res["config"]["task_kwargs"]["seconds"]
            speed = [by[c]["mean_m"] / seconds for c in cols]
            err = [by[c]["std_m"] / seconds for c in cols]
            ax.bar(x, speed, width, yerr=err, label=f"{row.label}", alpha=0.7)
            paper = [paper_speed(p[0]) if p else np.nan for p in row.paper]
            ax.scatter(x, paper, marker="_", s=300, color="k")
        ax.set_xticks(np.arange(len(cols)) + 0.4 - width / 2, cols, fontsize=8)
        ax.set_ylabel("speed along +x (m/s); black: paper (u / 960)")
        ax.set_title(f"({table}) {TASKS[table]}", fontsize=9)
        if ax.get_legend_handles_labels()[0]:
            ax.legend(fontsize=7)
    for key, res in results.items():
        gens, fit = zip(*res["curve"], strict=True)
        seed = split_key(key)[1]
        tag = f" seed {seed}" if seed else ""
        axes[2].plot(gens, fit, lw=1, label=f"{res['table']} {res['label']}{tag}")
    for key, p in progress.items():
        gens, fit = zip(*p["curve"], strict=True)
        row = ROW[key]
        axes[2].plot(
            gens, fit, lw=1, ls="--", label=f"{row.table} {row.label} (training)"
        )
    axes[2].set_xlabel("generation")
    axes[2].set_ylabel("population mean fitness (m)")
    if axes[2].get_legend_handles_labels()[0]:
        axes[2].legend(fontsize=7)
    fig.tight_layout()
    tmp = path.with_name(f".{path.stem}.tmp.png")
    fig.savefig(tmp, dpi=90)
    plt.close(fig)
    os.replace(tmp, path)


def physics_caveat(backend: str) -> str:
    """What the Brax pipeline means for reading the rows."""
    if backend == "spring":
        return (
            "`spring` is Brax's cheapest and least accurate pipeline (chosen for speed: "
            "about 3x `generalized`, spec section 0); a static network at 2-3 m/s there "
            "may use gaits the pybullet ant could not. Rechecked on `mjx` "
            "(`--backend mjx`, `mjx/ant_tables.md`, same budget): Table A and Table B's "
            "Hebbian and static rows walk 5-14x less there (mean over the morphologies), "
            "and static still beats Hebbian on the seen and the unseen morphologies of "
            "Table A and on the training morphologies of Table B, and is ahead on its "
            "held-out long front (by 2 standard errors on mjx, undecided here), so that "
            "ranking is not spring's. Table B's LSTM walks less there "
            "too (1.41 m on the training morphologies, 0.33 m held out), and its two "
            "comparisons with static, held on spring, are undecided on mjx; "
            "Shared(rho=128) stays near 0 m on both."
        )
    return (
        f"`{backend}`: a recheck of the spring tables' rows on another Brax pipeline "
        "(`mjx`: MuJoCo's own contact solver in JAX, the most accurate of Brax's), at "
        "the same budget otherwise; the spring tables are `../ant_tables.md`."
    )


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
    write_outputs(_in_table_order(results), args.budget, args.out)
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
        write_outputs(_in_table_order(results), args.budget, args.out)


def _in_table_order(results: dict[str, dict]) -> dict[str, dict]:
    """Results by run key, in the tables' row order, each row's seeds ascending."""
    order = {r.key: i for i, r in enumerate(ROWS)}

    def place(key: str) -> tuple[int, int]:
        base, seed = split_key(key)
        return order[base], seed

    return {k: results[k] for k in sorted(results, key=place)}


if __name__ == "__main__":
    main()

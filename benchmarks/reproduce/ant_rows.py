"""The ant tables' rows (Najarro & Risi 2020, Table 1; Palm, Najarro & Risi 2021, Table 1),
their one budget, run keys and units (``benchmarks/reproduce/ant_tables.py`` runs them).

Units: the papers' distance is the sum of pybullet AntBulletEnv's "progress" reward, about
60.6 x the metres walked along +x (spec ``hebbian-ant-brax.md`` 1.5, dt = 0.0165 s)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, NamedTuple

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


def run_key(row_key: str, seed: int) -> str:
    """The run directory and result key of one seed of a row: the row's own for seed 0."""
    return row_key if seed == 0 else f"{row_key}-seed{seed}"


def split_key(key: str) -> tuple[str, int]:
    """(row key, seed) of a run key (``run_key``'s inverse)."""
    base, sep, seed = key.rpartition("-seed")
    return (base, int(seed)) if sep and seed.isdigit() else (key, 0)


def as_saved(value: Any) -> Any:
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


def in_table_order(results: dict[str, dict]) -> dict[str, dict]:
    """Results by run key, in the tables' row order, each row's seeds ascending."""
    order = {r.key: i for i, r in enumerate(ROWS)}

    def place(key: str) -> tuple[int, int]:
        base, seed = split_key(key)
        return order[base], seed

    return {k: results[k] for k in sorted(results, key=place)}


def progress_cells(progress: dict | None, n_columns: int, generations: int):
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


def result_cell(stats: dict | None) -> str:
    if stats is None:
        return "-"
    return (
        f"{stats['mean_m']:.2f} ± {stats['std_m']:.2f} m = "
        f"{units_of(stats['mean_m']):.0f} ± {units_of(stats['std_m']):.0f} u, "
        f"solved {stats['solved_fraction']:.0%}"
    )


def paper_cell(value: tuple[float, float] | None, solved: bool | None = None) -> str:
    if value is None:
        return "not run"
    text = f"{value[0]:.0f} ± {value[1]:.0f} u ({paper_speed(value[0]):.2f} m/s)"
    return text + (f", solved {solved}" if solved is not None else "")


def cost_cell(result: dict) -> str:
    loads = [s["load_end"][1] for s in result["sessions"]] or [float("nan")]
    seconds = result["wall_seconds"] + result.get("eval_seconds", 0.0)
    return f"{seconds:.0f} ({sum(loads) / len(loads):.1f})"

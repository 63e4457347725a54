"""The cells of EPRNN's Tables 2 and 3 (Wang et al., "Do What Nature Did To Us"): the
paper's values, a cell (task, model, generations, seed) and the queue's order
(``benchmarks/eprnn_compare.py`` runs them)."""

from __future__ import annotations

from pathlib import Path
from typing import NamedTuple

PAPER = {  # Tables 2 and 3: mean over 3 runs of the top-3 of the last 10 meta-tests
    "seqpred-l1-k10-n20": {
        "eprnn": -0.114, "es-rnn": -0.385, "es-lstm": -0.165, "eprnn-nomod": -0.135,
        "es-maml": -1.452, "epmlp": -0.732, "epmlp-random": -1.233,
    },
    "seqpred-l1-k25-n50": {
        "eprnn": -0.208, "es-rnn": -1.228, "es-lstm": -0.283, "eprnn-nomod": -0.351,
        "es-maml": -1.747, "epmlp": -1.185, "epmlp-random": -1.319,
    },
    "seqpred-l3-k10-n20": {
        "eprnn": -1.107, "es-rnn": -1.273, "es-lstm": -1.229, "eprnn-nomod": -1.128,
        "es-maml": -1.218, "epmlp": -1.339, "epmlp-random": -1.489,
    },
    "seqpred-l3-k25-n50": {
        "eprnn": -1.430, "es-rnn": -1.811, "es-lstm": -1.475, "eprnn-nomod": -1.520,
        "es-maml": -1.796, "epmlp": -1.735, "epmlp-random": -1.788,
    },
    "wrnav-noise0.01": {  # es-maml: the paper's "ES-MAML (1 rollout)"
        "eprnn": -12.71, "es-rnn": -16.90, "es-lstm": -14.04, "eprnn-nomod": -14.93,
        "es-maml": -23.10, "es-maml-zero-shot": -37.18, "epmlp": -21.24,
        "epmlp-random": -13.02,
    },
    "wrnav-noise0.05": {
        "eprnn": -15.07, "es-rnn": -18.99, "es-lstm": -15.50, "eprnn-nomod": -16.72,
        "es-maml": -29.21, "es-maml-zero-shot": -37.91, "epmlp": -16.65,
        "epmlp-random": -18.25,
    },
    # only EPRNN (w/o m) of the High-Noise column is legible in our copy of the paper
    "wrnav-noise0.2": {"eprnn-nomod": -24.11},
}  # fmt: skip
PAPER_GENERATIONS = 15_000
MODELS = ("eprnn", "es-rnn", "es-lstm")
EXTRA_MODELS = ("eprnn-nomod", "epmlp", "epmlp-random", "es-maml")
ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "benchmarks" / "results" / "eprnn"
RUNS = ROOT / "runs" / "eprnn"  # gitignored
MAX_CURVE_POINTS = 500
COMMON_GENERATION = 1000  # every row's validation at this generation, side by side


class Cell(NamedTuple):
    task: str
    model: str
    generations: int
    seed: int = 0


def cell_of(row: dict) -> Cell:
    """The cell of a result row (rows from before seeds are seed 0)."""
    return Cell(row["task"], row["model"], row["generations"], row.get("seed", 0))


def is_finished(rows: list[dict], cell: Cell, settings: dict) -> bool:
    """Whether ``rows`` hold this cell's finished row at these settings (another seed's
    row, equal in every other setting, does not count)."""
    return any(
        cell_of(r) == cell and all(r.get(k) == v for k, v in settings.items())
        for r in rows
    )


def with_seeds(cells: list[Cell], seeds: list[int]) -> list[Cell]:
    """Every cell once per seed, seed by seed (the plan's order within each)."""
    return [cell._replace(seed=seed) for seed in seeds for cell in cells]


def tables_queue(equal: int, extra: int, full: int = PAPER_GENERATIONS) -> list[Cell]:
    """The plan, most important first.

    1. ``seqpred-l1-k10-n20`` (Table 2's headline) at the paper's full budget: EPRNN,
       then ES-RNN and ES-LSTM;
    2. every other cell of Tables 2-3 at one equal budget, the wheeled robot first (does
       EPRNN leave "standing still / spinning in place" with more generations?);
    3. EPRNN (w/o m), EPMLP, EPMLP (Random) and ES-MAML at ``extra``, on the same task
       order (the two headline columns first);
    4. last, the cells whose paper value is not legible in our copy (the High-Noise
       column but EPRNN (w/o m)): nothing to compare them with.
    """
    head = "seqpred-l1-k10-n20"
    order = [head] + sorted(
        (t for t in PAPER if t != head), key=lambda t: t != "wrnav-noise0.01"
    )
    cells = [Cell(head, m, full) for m in MODELS]
    cells += [Cell(t, m, equal) for t in order[1:] for m in MODELS]
    cells += [Cell(t, m, extra) for t in order for m in EXTRA_MODELS]
    # stable: within each group the order above
    return sorted(cells, key=lambda c: c.model not in PAPER[c.task])

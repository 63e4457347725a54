"""``hebbjax plot RUN [RUN ...]``: learning curves of one or more runs.

Validation score against generations and against wall-clock time (Wang et al. 2022 Fig. 6),
runs grouped by model: the mean and the spread over seeds, one colour per model. Writes
``learning_curves.png`` and the plotted data ``learning_curves.json`` into the first run's
directory, or ``--out``.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from hebbjax.cli.common import UsageError

HELP = "learning curves of one or more runs"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("runs", nargs="+", metavar="RUN", help="run directories of 'train'")
    p.add_argument(
        "--out", help="folder for the PNG and its JSON (default: the first run's)"
    )
    p.add_argument(
        "--name", default="learning_curves", help="file stem (default %(default)s)"
    )
    p.add_argument("--title", help="figure title (default: says what was run)")


def run(args: argparse.Namespace) -> int:
    from hebbjax.evolution.run_files import CONFIG, METRICS

    for run_dir in args.runs:
        path = Path(run_dir)
        if not path.is_dir():
            raise UsageError(f"no run directory {run_dir}")
        missing = [f for f in (CONFIG, METRICS) if not (path / f).is_file()]
        if missing:
            raise UsageError(
                f"{run_dir} is not a hebbjax run (missing {', '.join(missing)})"
            )
    from hebbjax.analysis.figures import save
    from hebbjax.analysis.learning_curves import draw_learning_curves, learning_curves

    data = learning_curves(args.runs)
    fig = draw_learning_curves(data, args.title)
    out = Path(args.out) if args.out else Path(args.runs[0])
    png, js = save(fig, data, out, args.name)
    for group in data["groups"]:
        last = group["mean"][-1]
        print(
            f"{group['label']}: {group['n_runs']} run(s), validation score "
            f"{last:+.3f} at generation {group['generation'][-1]}"
        )
    print(f"wrote {png} and {js}")
    return 0

"""``hebbjax merge``: Evolving & Merging (Wang et al. 2022): k-means a PRNN(PostDN) run's
rules into tied clusters, then evolve on (``evolution/merge.py``)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from hebbjax.cli.common import UsageError, positive_int

HELP = "Evolving & Merging: k-means a prnn-postdn run's rules, evolve on"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--run", required=True, help="a prnn-postdn run directory")
    p.add_argument("--clusters", help="K for both matrices, or KH,KX (default 2h,h+m)")
    p.add_argument("--generations", type=positive_int, help="default: the source run's")
    p.add_argument("--out", help="new run directory (default RUN-merged)")
    p.add_argument("--quiet", action="store_true", help="no progress output")


def run(args: argparse.Namespace) -> int:
    clusters = None
    if args.clusters is not None:
        try:
            ks = [int(k) for k in args.clusters.split(",")]
        except ValueError:
            raise UsageError(
                f"--clusters expects K or KH,KX, got {args.clusters!r}"
            ) from None
        if len(ks) not in (1, 2) or min(ks) < 1:
            raise UsageError(
                f"--clusters expects K or KH,KX >= 1, got {args.clusters!r}"
            )
        clusters = (ks[0], ks[-1])
    from hebbjax.cli.progress import Progress
    from hebbjax.evolution.merge import merge_run
    from hebbjax.evolution.train import train

    config, init_params = merge_run(args.run, clusters, args.generations)
    out = Path(args.out) if args.out else Path(f"{Path(args.run)}-merged")
    with Progress(config.generations, quiet=args.quiet) as bar:
        result = train(config, out, progress_fn=bar, init_params=init_params)
    print(
        f"merged run in {out}: best validation score {result.best_score:+.3f} "
        f"(generation {result.best_generation})",
        file=sys.stderr,
    )
    return 0

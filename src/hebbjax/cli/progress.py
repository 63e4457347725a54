"""Training progress for people: a live bar in a terminal, plain lines in a log.

In a terminal (stderr is a TTY) a rich progress bar shows the generation, fitness,
validation score, throughput, elapsed time and ETA. Otherwise (``hebbjax train > log.txt``,
a batch job) one full line is printed every ``every`` generations and at every validation,
never cut: ``gen 120/400 best +0.512 mean -0.311 val +0.420 1.71M steps/s 0:00:41 ETA 0:01:35``.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import Any, TextIO


def _fmt(value: float | None, spec: str = "+.3f") -> str:
    return "-" if value is None else format(value, spec)


def _clock(seconds: float) -> str:
    seconds = int(max(0.0, seconds))
    return f"{seconds // 3600}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}"


def _rate(steps_per_s: float) -> str:
    if steps_per_s >= 1e6:
        return f"{steps_per_s / 1e6:.2f}M steps/s"
    return f"{steps_per_s / 1e3:.0f}k steps/s"


class Progress:
    """``on_generation(generation, record)`` for ``train``'s ``progress_fn``."""

    def __init__(
        self,
        total: int,
        done_before: int = 0,
        every: int = 10,
        stream: TextIO | None = None,
        live: bool | None = None,
        quiet: bool = False,
    ):
        self.total = total
        self.done_before = done_before
        self.every = max(1, every)
        self.stream = sys.stderr if stream is None else stream
        self.live = self.stream.isatty() if live is None else live
        self.quiet = quiet
        self.validation: float | None = None
        self.t0 = time.perf_counter()
        self._bar: Any = None
        self._job: Any = None

    def __enter__(self) -> Progress:
        if self.live and not self.quiet:
            from rich.console import Console
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                TextColumn,
                TimeElapsedColumn,
                TimeRemainingColumn,
            )
            from rich.progress import Progress as RichProgress

            self._bar = RichProgress(
                TextColumn("gen"),
                MofNCompleteColumn(),
                BarColumn(),
                TextColumn("{task.fields[stats]}"),
                TimeElapsedColumn(),
                TextColumn("ETA"),
                TimeRemainingColumn(),
                console=Console(file=self.stream),
            )
            self._bar.__enter__()
            self._job = self._bar.add_task(
                "train", total=self.total, completed=self.done_before, stats=""
            )
        return self

    def __exit__(self, *exc: Any) -> None:
        if self._bar is not None:
            self._bar.__exit__(*exc)

    def print(self, text: str) -> None:
        if self.quiet:
            return
        if self._bar is not None:
            self._bar.console.print(text, highlight=False, markup=False)
        else:
            print(text, file=self.stream, flush=True)

    def __call__(self, generation: int, record: dict) -> None:
        # a best-of-starts run: its starts' generations are numbered each from 0, so the
        # bar counts ``work`` (generations trained in all) and lines name the start
        label = f"start {record['start']}: " if "start" in record else ""
        validated = False
        for key, at in (
            ("validation", generation),
            ("final_validation", generation + 1),
        ):
            if key in record:
                stats = record[key]
                self.validation = stats["score"]
                rates = " / ".join(f"{g:.2f}" for g in stats["success_rate"])
                final = " (final)" if key == "final_validation" else ""
                self.print(
                    f"{label}gen {at:>6}  validation score {_fmt(self.validation)}{final}"
                    f"{_last_return(stats)}  success per rollout {rates}"
                )
                validated = True
        if "strategy" in record:  # a strategy_schedule stage begins
            genomes = record.get("population")
            self.print(
                f"{label}gen {generation:>6}  the search goes on under "
                f"{record['strategy']} from the current mean"
                + (f", {genomes} genomes a generation" if genomes else "")
            )
        if record.get("compile_seconds"):
            self.print(
                f"compiled the generation step ({record['n_tasks']} tasks/gen) in "
                f"{record['compile_seconds']:.1f} s"
            )
        done = record.get("work", generation + 1)
        stats = (
            f"best {_fmt(record['fitness_max'])} mean {_fmt(record['fitness_mean'])} "
            f"val {_fmt(self.validation)} {_rate(record['env_steps_per_s'])}"
        )
        if self._bar is not None:
            self._bar.update(self._job, completed=done, stats=stats)
            return
        if done % self.every == 0 or done == self.total or validated:
            elapsed = time.perf_counter() - self.t0
            pace = elapsed / max(done - self.done_before, 1)
            eta = pace * (self.total - done)
            self.print(
                f"{label}gen {done}/{self.total} {stats} {_clock(elapsed)} "
                f"ETA {_clock(eta)}"
            )


def progress_for(total: int, done_before: int, every: int, quiet: bool) -> Callable:
    return Progress(total, done_before, every, quiet=quiet)


def _last_return(stats: dict) -> str:
    """The last rollout's mean return beside a score that is another number (a task
    option that reweights or caps the fitness, e.g. the maze's ``score_within``): the
    paper's score is that return. Empty where they agree (up to the genome penalty)."""
    returns = stats.get("return_mean")
    if not returns or abs(returns[-1] - stats["score"]) < 1e-3:
        return ""
    return f" (last-rollout return {_fmt(returns[-1])})"

"""A live progress bar for training runs (rich), fed by ``train``'s ``progress_fn``."""

from __future__ import annotations

from pathlib import Path

from hebbjax.config import TrainConfig


def _fmt(value: float | None, spec: str = "+.3f") -> str:
    return "-" if value is None else format(value, spec)


def run_with_progress(
    config: TrainConfig, out: Path, *, resume: bool = False, quiet: bool = False
) -> int:
    """Train with a progress bar (generation, fitness, validation, steps/s, ETA)."""
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    from hebbjax.evolution.train import read_metrics, train

    console = Console(stderr=True)
    done_before = len(read_metrics(out)) if resume else 0
    state = {"val": None}
    console.print(
        f"[bold]hebbjax train[/] task={config.task} model={config.model} "
        f"strategy={config.strategy} population={config.population} "
        f"generations={config.generations} -> {out}"
    )
    columns = [
        TextColumn("gen"),
        MofNCompleteColumn(),
        BarColumn(),
        TextColumn("{task.fields[stats]}"),
        TimeElapsedColumn(),
        TextColumn("ETA"),
        TimeRemainingColumn(),
    ]
    with Progress(*columns, console=console, disable=quiet, transient=False) as bar:
        job = bar.add_task(
            "train", total=config.generations, completed=done_before, stats=""
        )

        def on_generation(generation: int, record: dict) -> None:
            for key in ("validation", "final_validation"):
                if key in record:
                    state["val"] = record[key]["score"]
                    console.print(
                        f"gen {generation:>6}  validation score {_fmt(state['val'])}  "
                        "goal reached per rollout "
                        + " / ".join(f"{g:.2f}" for g in record[key]["rollout_success"])
                    )
            if record.get("compile_seconds"):
                console.print(
                    f"compiled generation step ({record['n_tasks']} tasks/gen) in "
                    f"{record['compile_seconds']:.1f} s"
                )
            stats = (
                f"best {_fmt(record['fitness_max'])} mean {_fmt(record['fitness_mean'])} "
                f"val {_fmt(state['val'])} "
                f"{record['env_steps_per_s'] / 1e3:,.0f}k steps/s"
            )
            bar.update(job, completed=generation + 1, stats=stats)

        result = train(config, out, resume=resume, progress_fn=on_generation)
    console.print(
        f"done: best validation score {_fmt(result.best_score)} at generation "
        f"{result.best_generation}; run saved in {out}"
    )
    return 0

"""Benchmarks for hebbjax (CPU baselines and throughput measurements)."""


def start_report(repeats: int) -> dict:
    """One host device per core (before JAX starts), then a report's header: when, on how
    many devices, the load average at the start, repeats, and an empty ``rows``."""
    import os
    import time

    from hebbjax.cli.common import use_all_cpu_cores

    use_all_cpu_cores()  # HEBBJAX_CPU_DEVICES, before JAX starts
    import jax

    return dict(
        written=time.strftime("%Y-%m-%d %H:%M:%S"),
        devices=jax.local_device_count(),
        load=os.getloadavg()[0],
        repeats=repeats,
        rows=[],
    )


def write_report(out, stem: str, rows, lines: list[str]) -> None:
    """``<out>/<stem>.json`` (the rows) and ``<out>/<stem>.md`` (the lines), each written
    atomically; the markdown is printed too."""
    import json

    from hebbjax.checkpoint import atomic_write_bytes

    out.mkdir(parents=True, exist_ok=True)
    text = "\n".join(lines) + "\n"
    atomic_write_bytes(out / f"{stem}.json", json.dumps(rows, indent=1).encode())
    atomic_write_bytes(out / f"{stem}.md", text.encode())
    print(text, end="")

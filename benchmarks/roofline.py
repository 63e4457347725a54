"""The roofline of each maze model on this machine, and the fraction of it the inner loop reaches.

Williams, Waterman & Patterson 2009 ("Roofline"): a step that needs F FLOP and B bytes cannot
run faster than

    roofline = min(peak_flops / F, bandwidth / B)   agent-steps/s,

with ``peak_flops`` the large-matmul rate and ``bandwidth`` the read+write rate of the memory
level that holds the working set (never below a slower level's: ``level_bandwidth``), both measured in the same run (``machine_limits.py``), F and
B from ``cost_model.py``. The level rule: the lifetimes a device evaluates together (a block of
``block_lifetimes``, or its whole share without blocking) touch
``lifetimes_in_flight x working_set_bytes`` every step; if that fits in one core's L2 the L2
bandwidth applies, else if the devices' blocks together fit in the last-level cache its
bandwidth, else main memory's. ``roofline_l2`` is the ceiling the same step would have with
its block in L2 (a smaller block), the best this machine allows for it.

Lifetimes per genome: the sweep measures one lifetime per individual (every lifetime reads
its own genome each step, the hardest case) and the training configuration, an
individual's 8 mazes evaluated together in a block (``shared_genome``: the genome's bytes
count once for the 8). Each is read against its own roofline.

``fraction = measured / roofline``, with ``measured`` the best agent-steps/s of the full inner
loop (maze env + model + action sampling) over the populations swept; the env's own work is
not in F or B, so it counts against the fraction.

On a shared machine a process gets only part of the cores, and the ceilings and the sweep are
measured minutes apart, under different loads. Each measurement records its CPU share (CPU
seconds over wall seconds x devices); ``fraction_per_cpu`` divides every rate, ceilings and
measured, by the share it was measured with before taking the ratio (a correction for
time-slicing, not for another process's cache and memory traffic). Pure Python: no JAX needed.
"""

from __future__ import annotations

import math

LEVEL_NAMES = {"l2": "L2", "llc": "L3", "dram": "DRAM"}
LEVELS = ("l2", "llc", "dram")  # fastest first


def level_bandwidth(limits: dict, name: str) -> float:
    """GB/s that bounds a working set held in level ``name``: its measured read+write rate,
    or a slower level's when that one measured higher. Data in L2 is never served slower
    than data in L3, so a higher rate measured further out is the better estimate (the
    256-KiB L2 pass is short enough that loop overhead caps it on some hosts: 172 GB/s
    for L2 against 312 GB/s for L3 on the 1-MiB-L2 EPYC of 2026-12-03 evening)."""
    bandwidth = limits["bandwidth"]
    return max(
        bandwidth[n]["gb_per_s"] for n in LEVELS[LEVELS.index(name) :] if n in bandwidth
    )


def lifetimes_in_flight(population: int, block: int | None, devices: int) -> int:
    """Lifetimes one device evaluates together (``rollout.population_evaluator``)."""
    share = math.ceil(population / devices)
    return share if block is None else min(block, share)


def memory_level(working_set: int, caches: dict[str, int], devices: int) -> str:
    """The smallest level ("l2", "llc" or "dram") holding ``working_set`` bytes per device."""
    if working_set <= caches.get("L2", 0):
        return "l2"
    if working_set * devices <= caches.get("L3", 0):
        return "llc"
    return "dram"


def shared_genome(cost: dict, per_genome: int) -> dict:
    """``cost`` for lifetimes evaluated ``per_genome`` at a time on one genome.

    Training evaluates every individual on several tasks (the maze: 8 mazes per
    generation), and a block holds an individual's lifetimes together, so the genome
    (``4 N_Gene`` bytes, read every step) is read once for ``per_genome`` lifetimes: its
    share of the bytes and of the working set is divided by ``per_genome``."""
    if per_genome < 1:
        raise ValueError(f"per_genome must be >= 1, got {per_genome}")
    if per_genome == 1:
        return cost
    genome = 4 * cost["n_gene"]
    own = genome - genome / per_genome
    return dict(
        cost,
        bytes=cost["bytes"] - own,
        working_set_bytes=cost["working_set_bytes"] - own,
    )


def roofline(
    cost: dict,
    limits: dict,
    population: int,
    block: int | None,
    per_genome: int = 1,
) -> dict[str, float | str | int]:
    """The ceiling of one model variant (see the module docstring).

    Args:
        cost: a ``cost_model.StepCost`` as a dict (``flop``, ``bytes``,
            ``working_set_bytes``, ``n_gene``).
        limits: ``machine_limits.measure_limits()``.
        population, block: the measured sweep row's population and ``block_lifetimes``.
        per_genome: lifetimes that share a genome in a block (``shared_genome``).
    """
    cost = shared_genome(cost, per_genome)
    devices = limits["devices"]
    in_flight = lifetimes_in_flight(population * per_genome, block, devices)
    working_set = int(in_flight * cost["working_set_bytes"])
    level = memory_level(working_set, limits["caches"], devices)
    peak = limits["matmul"]["gflop_per_s"] * 1e9
    compute_bound = peak / cost["flop"]

    def memory_bound(name):
        return level_bandwidth(limits, name) * 1e9 / cost["bytes"]

    ceiling = min(compute_bound, memory_bound(level))
    return dict(
        bytes=cost["bytes"],
        lifetimes_in_flight=in_flight,
        working_set_bytes=working_set,
        level=level,
        compute_bound=compute_bound,
        memory_bound=memory_bound(level),
        bound="compute" if compute_bound <= memory_bound(level) else "memory",
        roofline=ceiling,
        roofline_l2=min(compute_bound, memory_bound("l2")),
    )


def fraction(measured: float, ceiling: float) -> float:
    """Achieved fraction of the roofline."""
    return measured / ceiling


def roofline_rows(costs: dict, limits: dict, sweep_rows: list[dict]) -> list[dict]:
    """One row per variant ("model/form") with a cost model and sweep rows: the best
    measured rate, its roofline and the fraction."""
    rows = []
    for variant, cost in costs.items():
        model, form = variant.split("/")
        for k in sorted({r.get("lifetimes_per_genome", 1) for r in sweep_rows}):
            measured = [
                r
                for r in sweep_rows
                if (r["model"], r["form"]) == (model, form)
                and r.get("lifetimes_per_genome", 1) == k
            ]
            if measured:
                rows.append(_roofline_row(model, form, cost, limits, measured, k))
    return rows


def _roofline_row(model, form, cost, limits, measured, per_genome) -> dict:
    best = max(measured, key=lambda r: r["steps_per_s"])
    where = best["population"], best["block_lifetimes"], per_genome
    roof = roofline(cost, limits, *where)
    roof_full = roofline(cost, at_full_share(limits), *where)
    measured_full = best["steps_per_s"] / best.get("cpu_share", 1.0)
    return dict(
        model=model,
        form=form,
        flop=cost["flop"],
        lifetimes_per_genome=per_genome,
        population=best["population"],
        measured=best["steps_per_s"],
        **roof,
        fraction=fraction(best["steps_per_s"], roof["roofline"]),
        fraction_l2=fraction(best["steps_per_s"], roof["roofline_l2"]),
        cpu_share=best.get("cpu_share"),
        fraction_per_cpu=fraction(measured_full, roof_full["roofline"]),
    )


def at_full_share(limits: dict) -> dict:
    """``limits`` with every rate divided by the CPU share it was measured with."""

    def scaled(entry, key):
        return {**entry, key: entry[key] / entry.get("cpu_share", 1.0)}

    return {
        **limits,
        "matmul": scaled(limits["matmul"], "gflop_per_s"),
        "bandwidth": {k: scaled(v, "gb_per_s") for k, v in limits["bandwidth"].items()},
    }


def limits_markdown(limits: dict) -> list[str]:
    """The machine-limit table."""
    caches = ", ".join(f"{k} {v // 1024:,} KiB" for k, v in limits["caches"].items())
    mm, mv = limits["matmul"], limits["batched_matvec"]
    lines = [
        f"{limits['devices']} devices, {limits['cpu_count']} cores; caches per core "
        f"(cpu0): {caches}. Load average before {_load(limits['load_average_before'])}, "
        f"after {_load(limits['load_average_after'])}; 'CPU share' is the CPU time this "
        "process got over wall time x devices.",
        "",
        "| ceiling | measured | CPU share |",
        "|---|---|---|",
        f"| matmul {mm['n']}x{mm['n']} float32, per device | "
        f"{mm['gflop_per_s']:.1f} GFLOP/s | {mm['cpu_share']:.2f} |",
        f"| batched matvec {mv['batch']} x ({mv['size']}x{mv['size']}) per device | "
        f"{mv['gflop_per_s']:.1f} GFLOP/s ({mv['gb_per_s']:.1f} GB/s of W) "
        f"| {mv['cpu_share']:.2f} |",
    ]
    for name, bw in limits["bandwidth"].items():
        lines.append(
            f"| read+write, {bw['bytes_per_device'] / 1024:,.0f} KiB per device "
            f"({LEVEL_NAMES[name]}) | {bw['gb_per_s']:.1f} GB/s | {bw['cpu_share']:.2f} |"
        )
    return lines


def rows_markdown(rows: list[dict]) -> list[str]:
    """The per-model cost model, roofline and fraction table."""
    lines = [
        "| model | form | lifetimes / genome | kFLOP / step | KB / step "
        "| working set / device | level "
        "| roofline (bound) | measured (population) | fraction | roofline in L2 "
        "| fraction of it | CPU share | fraction per CPU-second |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['model']} | {r['form']} | {r.get('lifetimes_per_genome', 1)} | "
            f"{r['flop'] / 1e3:.1f} | "
            f"{r['bytes'] / 1e3:.1f} | {r['working_set_bytes'] / 1024:,.0f} KiB "
            f"({r['lifetimes_in_flight']} lifetimes) | {LEVEL_NAMES[r['level']]} | "
            f"{r['roofline'] / 1e6:.2f} M ({r['bound']}) | "
            f"{r['measured'] / 1e6:.2f} M ({r['population']}) | "
            f"**{100 * r['fraction']:.0f}%** | {r['roofline_l2'] / 1e6:.2f} M | "
            f"{100 * r['fraction_l2']:.0f}% | {_share(r['cpu_share'])} | "
            f"{100 * r['fraction_per_cpu']:.0f}% |"
        )
    return lines


def rows_text(rows: list[dict]) -> str:
    """One line per variant for the console."""
    return "\n".join(
        f"  {r['model']:>15} {r['form']:>8} x{r.get('lifetimes_per_genome', 1)}: "
        f"{r['flop'] / 1e3:5.1f} kFLOP "
        f"{r['bytes'] / 1e3:6.1f} KB/step, roofline {r['roofline'] / 1e6:5.2f} M/s "
        f"({LEVEL_NAMES[r['level']]}, {r['bound']}), measured {r['measured'] / 1e6:5.2f} M/s"
        f" = {100 * r['fraction']:3.0f}% ({100 * r['fraction_per_cpu']:3.0f}% per CPU-s)"
        for r in rows
    )


def _share(value) -> str:
    return "-" if value is None else f"{value:.2f}"


def _load(values) -> str:
    return "(" + ", ".join(f"{v:.1f}" for v in values) + ")"

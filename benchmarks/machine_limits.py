"""What this machine's devices can do at best, measured with JAX in the benchmark's own run.

The roofline of every maze model (``benchmarks/roofline.py``, Williams, Waterman & Patterson
2009, "Roofline: an insightful visual performance model") needs two ceilings, measured here on
all local devices at once (one ``jax.shard_map`` program, each device working on its own
shard, so the numbers are aggregates over the devices the sweep runs on):

- FLOP/s: a large float32 matmul per device (``peak_flops``), the machine's best case; and a
  batched matvec shaped like the models' (32 lifetimes of (64 x 64) @ (64,) per device, the
  shape ``vmap`` gives W_h h inside one evaluation block), which is what the models' matvecs
  can reach;
- read+write bandwidth of ``x <- a x + b`` over an array of a given size per device (8 bytes of
  traffic per float32 element and pass): about 256 KiB per device (L2-resident), 4 MiB per
  device (last-level cache) and 512 MiB per device (main memory).

Every figure is the median of ``repeats`` timed calls after one warm-up call. One pass is one
iteration of a ``fori_loop``: XLA fuses unrolled passes into one loop whatever barrier is put
between them (which would count traffic that never happens), and a loop iteration costs well
under a microsecond here. The array is donated, so each pass updates it in place (a fresh
output buffer per call would add a page fault per 4 KiB). ``cpu_share`` is the process's CPU
time over wall time and device count: on a shared machine the figures are what this process
got, and the models measured in the same run get about the same share.
"""

from __future__ import annotations

import os
import statistics
import time
from pathlib import Path

#: per-device array sizes of the bandwidth levels, bytes
LEVEL_BYTES = {"l2": 256 * 1024, "llc": 4 * 1024 * 1024, "dram": 512 * 1024 * 1024}


def cache_sizes() -> dict[str, int]:
    """Data/unified cache sizes of cpu0 in bytes by level name ("L1d", "L2", "L3")."""
    out = {}
    for index in sorted(Path("/sys/devices/system/cpu/cpu0/cache").glob("index*")):
        try:
            kind = (index / "type").read_text().strip()
            level = (index / "level").read_text().strip()
            size = (index / "size").read_text().strip()
        except OSError:
            continue
        if kind == "Instruction":
            continue
        scale = {"K": 1024, "M": 1024**2}.get(size[-1], 1)
        name = f"L{level}" + ("d" if kind == "Data" else "")
        out[name] = int(size.rstrip("KM")) * scale
    return out


def _timed(fn, args, repeats: int, devices: int, donated: bool = False) -> dict:
    """Median wall seconds of ``fn(*args)`` and the CPU share the process got meanwhile.

    With ``donated`` the (single) argument is donated and each call's output feeds the next.
    """
    import jax

    out = jax.block_until_ready(fn(*args))
    times, cpu = [], []
    for _ in range(repeats):
        if donated:
            args = (out,)
        t0, c0 = time.perf_counter(), time.process_time()
        out = jax.block_until_ready(fn(*args))
        times.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
    return dict(
        seconds=statistics.median(times),
        cpu_share=sum(cpu) / sum(times) / devices,
    )


def _per_device(kernel, mesh, donate: bool = False):
    import jax
    from jax.sharding import PartitionSpec

    spec = PartitionSpec(mesh.axis_names[0])
    mapped = jax.shard_map(kernel, mesh=mesh, in_specs=spec, out_specs=spec)
    return jax.jit(mapped, donate_argnums=(0,) if donate else ())


def matmul_flops(mesh, n: int, repeats: int) -> dict:
    """FLOP/s of one (n x n) @ (n x n) float32 matmul per device, all devices at once."""
    import jax
    import jax.numpy as jnp

    d = mesh.devices.size
    a = jax.random.normal(jax.random.key(0), (d * n, n), jnp.float32)
    b = jax.random.normal(jax.random.key(1), (d * n, n), jnp.float32)
    timing = _timed(_per_device(lambda a, b: a @ b, mesh), (a, b), repeats, d)
    flop = d * 2 * n**3
    return dict(n=n, devices=d, **timing, gflop_per_s=flop / timing["seconds"] / 1e9)


def batched_matvec_flops(mesh, batch: int, size: int, steps: int, repeats: int) -> dict:
    """FLOP/s and bytes/s of ``v <- W v`` for ``batch`` (size x size) matrices per device.

    W are random orthogonal matrices (the norm of v neither grows nor decays, no denormals).
    Traffic counted: W read once per step (4 size^2 bytes per matrix).
    """
    import jax
    import jax.numpy as jnp
    import numpy as np

    d = mesh.devices.size
    rng = np.random.default_rng(0)
    q, _ = np.linalg.qr(rng.normal(size=(d * batch, size, size)))
    w = jnp.asarray(q, jnp.float32)
    v = jnp.asarray(rng.normal(size=(d * batch, size)), jnp.float32)

    def kernel(w, v):
        return jax.lax.fori_loop(
            0, steps, lambda _, v: jnp.einsum("bij,bj->bi", w, v), v
        )

    timing = _timed(_per_device(kernel, mesh), (w, v), repeats, d)
    flop = d * batch * 2 * size * size * steps
    traffic = d * batch * 4 * size * size * steps
    return dict(
        batch=batch,
        size=size,
        steps=steps,
        devices=d,
        **timing,
        gflop_per_s=flop / timing["seconds"] / 1e9,
        gb_per_s=traffic / timing["seconds"] / 1e9,
    )


def stream_bandwidth(mesh, bytes_per_device: int, passes: int, repeats: int) -> dict:
    """Read+write GB/s of ``x <- 0.5 x + 1`` over ``bytes_per_device`` per device.

    Each pass reads and writes every element once (8 bytes per float32 element).
    """
    import jax
    import jax.numpy as jnp

    d = mesh.devices.size
    n = bytes_per_device // 4
    x = jnp.ones((d * n,), jnp.float32)

    def kernel(x):
        return jax.lax.fori_loop(0, passes, lambda _, x: 0.5 * x + 1.0, x)

    fn = _per_device(kernel, mesh, donate=True)
    timing = _timed(fn, (x,), repeats, d, donated=True)
    traffic = d * n * 8 * passes
    return dict(
        bytes_per_device=n * 4,
        passes=passes,
        devices=d,
        **timing,
        gb_per_s=traffic / timing["seconds"] / 1e9,
    )


def measure_limits(repeats: int = 5, quick: bool = False) -> dict:
    """All ceilings on the local devices (see the module docstring); GB/s and GFLOP/s.

    ``quick`` uses fewer passes and a smaller matmul (about 3x faster, noisier).
    """
    from hebbjax.parallel import local_mesh

    mesh = local_mesh()
    scale = 4 if quick else 1
    load_before = os.getloadavg()
    t0 = time.perf_counter()
    out = dict(
        devices=mesh.devices.size,
        cpu_count=os.cpu_count(),
        caches=cache_sizes(),
        repeats=repeats,
        matmul=matmul_flops(mesh, 1024 if quick else 2048, repeats),
        batched_matvec=batched_matvec_flops(mesh, 32, 64, 2048 // scale, repeats),
        bandwidth={
            "l2": stream_bandwidth(mesh, LEVEL_BYTES["l2"], 4096 // scale, repeats),
            "llc": stream_bandwidth(mesh, LEVEL_BYTES["llc"], 256 // scale, repeats),
            "dram": stream_bandwidth(mesh, LEVEL_BYTES["dram"], 8, repeats),
        },
    )
    out["seconds"] = time.perf_counter() - t0
    out["load_average_before"] = load_before
    out["load_average_after"] = os.getloadavg()
    return out

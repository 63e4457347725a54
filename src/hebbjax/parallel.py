"""Batching at the edge: ``vmap`` over a leading axis, sharded over every local device.

The single-example cores (models, tasks) never see a batch axis. This module maps them over a
leading axis and splits that axis over a 1-D device mesh with ``jax.shard_map``; the axis is
padded to a multiple of the device count and the padding is cut off again, so any batch size
works on any number of devices and gives the same numbers on one device as on several.

With ``batch_size`` each device walks its share in blocks (``lax.map`` over blocks, ``vmap``
inside): a block's working set (e.g. 32 lifetimes of plastic weights) stays in cache, and a
block of lifetimes whose loops all ended stops early instead of waiting for the slowest
lifetime of the whole batch.

A strategy's update that sums over the population (``gmm-es``'s mixture gradient) is split
the same way: the generation traces ``tell`` under ``population_mesh(mesh)`` and the sum runs
through ``sharded_sum`` (each device its individuals, then a ``psum``).
"""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Callable, Sequence
from functools import partial
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from jax.sharding import Mesh, PartitionSpec

AXIS = "batch"


def local_mesh(devices: Sequence[jax.Device] | None = None) -> Mesh:
    """A 1-D mesh over the local devices (all CPU cores forced as devices, or GPUs)."""
    devices = jax.local_devices() if devices is None else list(devices)
    return Mesh(np.array(devices), (AXIS,))


def _pad_leading(tree: Any, multiple: int) -> tuple[Any, int]:
    size = jax.tree.leaves(tree)[0].shape[0]
    pad = (-size) % multiple
    if pad == 0:
        return tree, size

    def pad_leaf(x):
        # Repeat the first row: padded rows run real (finite) work and are discarded.
        filler = jnp.broadcast_to(x[:1], (pad, *x.shape[1:]))
        return jnp.concatenate([x, filler], axis=0)

    return jax.tree.map(pad_leaf, tree), size


def blocked_vmap(
    fn: Callable[..., Any],
    in_axes: Sequence[int | None],
    batch_size: int | None = None,
) -> Callable[..., Any]:
    """``vmap(fn, in_axes)``, computed ``batch_size`` rows at a time when given.

    The blocks run one after the other (``lax.map(..., batch_size=...)``); the result is that
    of ``vmap``. ``in_axes`` entries are 0 (mapped) or None (shared), as in ``sharded_vmap``.
    """
    in_axes = tuple(in_axes)
    if batch_size is None:
        return jax.vmap(fn, in_axes=in_axes)
    if batch_size < 1:
        raise ValueError(f"batch_size must be a positive int, got {batch_size}")

    def run(*args):
        mapped = tuple(a for a, axis in zip(args, in_axes, strict=True) if axis == 0)

        def one(rows):
            rows = iter(rows)
            full = [
                next(rows) if axis == 0 else a
                for a, axis in zip(args, in_axes, strict=True)
            ]
            return fn(*full)

        size = jax.tree.leaves(mapped)[0].shape[0]
        if batch_size >= size:
            return jax.vmap(one)(mapped)
        return jax.lax.map(one, mapped, batch_size=batch_size)

    return run


def sharded_vmap(
    fn: Callable[..., Any],
    in_axes: Sequence[int | None],
    mesh: Mesh | None = None,
    batch_size: int | None = None,
) -> Callable[..., Any]:
    """``vmap(fn, in_axes)`` with the mapped axis split over ``mesh``'s devices.

    Every mapped argument is mapped along axis 0; ``None`` marks a replicated argument.
    Outputs are mapped along axis 0. ``batch_size``: each device computes its rows in
    blocks of this many (see ``blocked_vmap``); None maps them all at once.
    """
    in_axes = tuple(in_axes)
    if not any(a == 0 for a in in_axes) or any(a not in (0, None) for a in in_axes):
        raise ValueError(
            f"in_axes must be 0 or None with at least one 0, got {in_axes}"
        )
    return sharded_rows(blocked_vmap(fn, in_axes, batch_size), in_axes, mesh)


def _row_specs(in_axes: Sequence[int | None]) -> tuple[PartitionSpec, ...]:
    """Split along axis 0 over the mesh for mapped (0) arguments, replicated for None."""
    return tuple(PartitionSpec(AXIS) if a == 0 else PartitionSpec() for a in in_axes)


def sharded_rows(
    batched: Callable[..., Any],
    in_axes: Sequence[int | None],
    mesh: Mesh | None = None,
) -> Callable[..., Any]:
    """``batched`` (a function of a batch of rows, mapped along axis 0, rows in = rows
    out) with its rows split over ``mesh``'s devices; ``None`` marks a replicated argument.
    Each device runs ``batched`` on its share (padded by repeating the first row)."""
    in_axes = tuple(in_axes)
    if mesh is None or mesh.size == 1:
        return batched

    inner = jax.shard_map(
        batched,
        mesh=mesh,
        in_specs=_row_specs(in_axes),
        out_specs=PartitionSpec(AXIS),
        check_vma=False,  # per-device code is plain vmap; no collectives to check
    )

    @partial(jax.named_call, name="sharded_vmap")
    def run(*args):
        padded = []
        size = None
        for arg, axis in zip(args, in_axes, strict=True):
            if axis == 0:
                arg, size = _pad_leading(arg, mesh.size)
            padded.append(arg)
        out = inner(*padded)
        return jax.tree.map(lambda x: x[:size], out)

    return run


_POPULATION_MESH: contextvars.ContextVar[Mesh | None] = contextvars.ContextVar(
    "population_mesh", default=None
)


@contextlib.contextmanager
def population_mesh(mesh: Mesh | None):
    """While tracing a generation: ``mesh`` is where its population is evaluated, so code
    that reduces over the population (a strategy's update) can split that reduction over
    the same devices (``sharded_sum``). Read at trace time only; no effect on jit."""
    token = _POPULATION_MESH.set(mesh)
    try:
        yield
    finally:
        _POPULATION_MESH.reset(token)


def context_mesh() -> Mesh | None:
    """The mesh set by ``population_mesh`` when it has more than one device, else None."""
    mesh = _POPULATION_MESH.get()
    return mesh if mesh is not None and mesh.size > 1 else None


def sharded_sum(
    fn: Callable[..., Any], in_axes: Sequence[int | None], rows: int
) -> Callable[..., Any]:
    """``fn`` (a sum over the rows of its mapped arguments, whose zero-weight padding
    rows add nothing) split over the context mesh's devices: each device sums its share
    of the ``rows`` (padded to a multiple of the device count by the caller) and the
    partial sums are added (``psum``). Outside a mesh context: ``fn`` itself."""
    mesh = context_mesh()
    if mesh is None:
        return fn
    if rows % mesh.size:
        raise ValueError(
            f"sharded_sum needs the rows padded to a multiple of the {mesh.size} "
            f"devices, got {rows}"
        )

    def part(*args):
        return jax.lax.psum(fn(*args), AXIS)

    return jax.shard_map(
        part,
        mesh=mesh,
        in_specs=_row_specs(in_axes),
        out_specs=PartitionSpec(),
        check_vma=False,
    )


# ---------------------------------------------------------------- many processes


def initialize_distributed(
    coordinator: str | None = None,
    num_processes: int | None = None,
    process_id: int | None = None,
) -> None:
    """Join a multi-process run with JAX's own runtime (``jax.distributed``).

    With no arguments JAX detects the cluster from its environment (SLURM, cloud TPU,
    Open MPI); otherwise all three are required (``host:port`` of process 0). CPU
    processes talk through gloo collectives. Call it before anything else touches JAX's
    devices.
    """
    import jax

    given = [coordinator, num_processes, process_id]
    if any(v is not None for v in given) and not all(v is not None for v in given):
        from hebbjax.errors import ConfigError

        raise ConfigError(
            "distributed runs need --coordinator, --num-processes and --process-id "
            "together (or none of them, to detect SLURM / TPU / MPI)"
        )
    jax.config.update("jax_cpu_collectives_implementation", "gloo")
    if coordinator is None:
        jax.distributed.initialize()
    else:
        jax.distributed.initialize(
            coordinator, num_processes=num_processes, process_id=process_id
        )


def global_mesh() -> Mesh:
    """A 1-D mesh over every device of every process (``local_mesh`` in one process)."""
    return Mesh(np.array(jax.devices()), (AXIS,))


def is_multiprocess() -> bool:
    return jax.process_count() > 1


def agree(failure: Exception | None) -> None:
    """Raise ``failure`` here, or, in a multi-process run, on every process when any
    process failed (process 0's message names the problem): every process takes the same
    decision before any writes."""
    if is_multiprocess():
        from jax.experimental import multihost_utils

        from hebbjax.errors import RunError

        flags = multihost_utils.process_allgather(np.int32(failure is not None))
        if failure is None and np.any(flags):
            raise RunError(
                "another process of this run refused to start; see its error"
            )
    if failure is not None:
        raise failure


def is_writer() -> bool:
    """Whether this process writes files (process 0 of a multi-process run)."""
    return jax.process_index() == 0


def replicated(tree: Any, mesh: Mesh | None) -> Any:
    """Inside a jit: ``tree`` gathered onto every device of ``mesh`` when the mesh spans
    several processes, so every process can read it; otherwise unchanged."""
    if mesh is None or not is_multiprocess():
        return tree
    from jax.sharding import NamedSharding

    spec = NamedSharding(mesh, PartitionSpec())
    return jax.tree.map(lambda x: jax.lax.with_sharding_constraint(x, spec), tree)


def replicate_on(tree: Any, mesh: Mesh | None) -> Any:
    """``tree`` placed whole on every device of ``mesh`` (one process; unchanged when
    ``mesh`` is None or spans processes), as a jitted step over the mesh returns it."""
    if mesh is None or is_multiprocess():
        return tree
    from jax.sharding import NamedSharding

    return jax.device_put(tree, NamedSharding(mesh, PartitionSpec()))


def configure_precision() -> None:
    """float32 matmuls in full precision on accelerators (no TF32), so a GPU run agrees
    with the CPU to float32 rounding; a no-op on CPU."""
    if jax.default_backend() != "cpu":
        jax.config.update("jax_default_matmul_precision", "highest")

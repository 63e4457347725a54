"""Checkpoints as plain arrays: atomic writes, validated loads, never pickles.

A checkpoint is one ``.npz`` file holding named arrays (the leaves of the strategy state and any
extra arrays, keyed by their pytree path) and a JSON metadata string. It is written to a
temporary file in the same directory, flushed to disk, then renamed over the target, so a run
killed at any moment leaves either the old or the new checkpoint, never a torn one.
"""

from __future__ import annotations

import json
import os
import tempfile
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np

from hebbjax.errors import DataError


class CheckpointError(DataError):
    """A checkpoint is missing, damaged, or does not fit the run that loads it."""


def _path_name(path: tuple) -> str:
    return "/".join(str(getattr(p, "name", getattr(p, "key", p))) for p in path)


def flatten_named(tree: Any, prefix: str) -> dict[str, np.ndarray]:
    """Leaves of ``tree`` as numpy arrays keyed ``prefix/<pytree path>``."""
    import jax  # here, not at import: atomic_open serves jax-free report writers

    leaves = jax.tree_util.tree_flatten_with_path(tree)[0]
    return {f"{prefix}/{_path_name(p)}": np.asarray(v) for p, v in leaves}


def unflatten_named(template: Any, arrays: dict[str, np.ndarray], prefix: str) -> Any:
    """Rebuild ``template``'s structure from named arrays, checking names and shapes."""
    import jax

    leaves, treedef = jax.tree_util.tree_flatten_with_path(template)
    out = []
    for path, leaf in leaves:
        name = f"{prefix}/{_path_name(path)}"
        if name not in arrays:
            raise CheckpointError(f"checkpoint lacks array {name!r}")
        value = arrays[name]
        want = np.shape(leaf)
        if value.shape != want:
            raise CheckpointError(
                f"array {name!r} has shape {value.shape}, this run expects {want}"
            )
        out.append(value.astype(np.asarray(leaf).dtype, copy=False))
    return jax.tree_util.tree_unflatten(treedef, out)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


_WRITES = {"count": 0}


def _fault_point(path: Path) -> None:
    """Crash tests only. ``HEBBJAX_KILL_AT_WRITE=n``: the process dies (as a SIGKILL would)
    just before the n-th atomic rename of this process, its temporary file written.
    ``HEBBJAX_SIGNAL_AT_WRITE=n:signum``: the process sends itself that signal there (a
    signal mid-run at a moment that does not race the run's end).
    ``HEBBJAX_WRITE_LOG=file``: every atomic write appends its target's name there."""
    log = os.environ.get("HEBBJAX_WRITE_LOG")
    if log:
        with open(log, "a") as f:
            f.write(path.name + "\n")
    kill = os.environ.get("HEBBJAX_KILL_AT_WRITE")
    signal_at = os.environ.get("HEBBJAX_SIGNAL_AT_WRITE")
    if kill is None and signal_at is None:
        return
    _WRITES["count"] += 1
    if kill is not None and _WRITES["count"] == int(kill):
        os._exit(137)
    if signal_at is not None:
        n, signum = signal_at.split(":")
        if _WRITES["count"] == int(n):
            os.kill(os.getpid(), int(signum))


@contextmanager
def atomic_open(path: str | Path) -> Iterator[BinaryIO]:
    """A binary file that appears at ``path`` only when complete.

    Written to a temporary file in the same directory, flushed to disk, then renamed over
    ``path``; on any error the temporary file is removed and ``path`` is untouched. The
    file is readable as the umask allows (not the 0600 of a temporary file).
    """
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(
            dir=path.parent, prefix=f".{path.name}.", suffix=".tmp"
        )
    except OSError as err:
        raise OSError(err.errno, f"cannot write {path}: {err.strerror}") from None
    try:
        with os.fdopen(fd, "wb") as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o666 & ~_umask())
        _fault_point(path)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def atomic_write_bytes(path: str | Path, data: bytes) -> None:
    with atomic_open(path) as f:
        f.write(data)


def atomic_savez(path: str | Path, arrays: dict[str, Any]) -> None:
    """``np.savez`` of numeric arrays, atomically; object arrays are refused."""
    for name, value in arrays.items():
        if np.asarray(value).dtype == object:
            raise ValueError(
                f"array {name!r} has dtype object; checkpoints hold numbers"
            )
    with atomic_open(path) as f:
        np.savez(f, **arrays)


def save_checkpoint(
    path: str | Path, arrays: dict[str, np.ndarray], meta: dict[str, Any]
) -> None:
    """Write ``arrays`` and JSON ``meta`` to ``path`` atomically."""
    payload = dict(arrays)
    payload["__meta__"] = np.frombuffer(
        json.dumps(meta, sort_keys=True).encode(), dtype=np.uint8
    )
    atomic_savez(path, payload)


def load_checkpoint(path: str | Path) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    """Read a checkpoint written by ``save_checkpoint``; clear errors if damaged."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"no checkpoint at {path}")
    try:
        with open(path, "rb") as f, np.load(f, allow_pickle=False) as data:
            arrays = {k: data[k] for k in data.files}
    except (zipfile.BadZipFile, ValueError, OSError, EOFError) as err:
        raise CheckpointError(f"checkpoint {path} is damaged: {err}") from None
    if "__meta__" not in arrays:
        raise CheckpointError(
            f"checkpoint {path} has no metadata; is it a hebbjax file?"
        )
    try:
        meta = json.loads(arrays.pop("__meta__").tobytes().decode())
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise CheckpointError(
            f"checkpoint {path} has damaged metadata: {err}"
        ) from None
    return arrays, meta

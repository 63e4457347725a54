"""Genome I/O: the reference flat layout and hebbjax's own npz format.

Wang et al. 2022, "decomposed plasticity" reference code (spec 1.1): a genome
is the concatenation of all tensors in lexicographically sorted name order,
each flattened in C order. hebbjax genomes are dicts keyed by the reference
names, so the flat layout is ``sorted(params)``. The released DecPRNN(PostDN)
checkpoint (1,347 float32) loads with ``from_epann_flat``.
"""

from __future__ import annotations

import math
import os
import zipfile
from pathlib import Path
from typing import Literal

import jax
import jax.numpy as jnp
import numpy as np

from hebbjax.checkpoint import atomic_savez
from hebbjax.errors import DataError
from hebbjax.models.base import Model, Params


def genome_layout(model: Model) -> list[tuple[str, tuple[int, ...], int, int]]:
    """(name, shape, start, stop) of every tensor in the reference flat layout."""
    template = jax.eval_shape(model.init_params, jax.random.key(0))
    layout, start = [], 0
    for name in sorted(template):
        shape = tuple(template[name].shape)
        stop = start + math.prod(shape)
        layout.append((name, shape, start, stop))
        start = stop
    return layout


def _describe(layout) -> str:
    return ", ".join(f"{n}{list(s)} [{a}:{b})" for n, s, a, b in layout)


def from_epann_flat(model: Model, flat: np.ndarray) -> Params:
    """Split a reference flat genome into hebbjax params (float32).

    Raises:
        ValueError: if ``flat`` is not 1-d with exactly N_Gene elements.
    """
    flat = np.asarray(flat)
    layout = genome_layout(model)
    expected = layout[-1][3] if layout else 0
    if flat.ndim != 1 or flat.shape[0] != expected:
        raise DataError(
            f"flat genome has shape {flat.shape}, expected ({expected},) for this "
            f"model; layout: {_describe(layout)}"
        )
    flat = flat.astype(np.float32)
    return {n: jnp.asarray(flat[a:b].reshape(s)) for n, s, a, b in layout}


def to_epann_flat(params: Params) -> np.ndarray:
    """Params -> reference flat float32 vector (sorted names, C order)."""
    if not params:
        return np.zeros((0,), np.float32)
    return np.concatenate(
        [np.asarray(params[name], np.float32).ravel() for name in sorted(params)]
    )


def save_genome_npz(path: str | os.PathLike, params: Params) -> None:
    """Write params as an npz (one array per tensor name), atomically."""
    atomic_savez(path, {name: np.asarray(v, np.float32) for name, v in params.items()})


def _from_npz(model: Model, path: Path) -> Params:
    layout = genome_layout(model)
    with open(path, "rb") as f:
        data = np.load(f, allow_pickle=False)
        if not isinstance(data, np.lib.npyio.NpzFile):
            raise DataError(
                f"{path} is a single array; use --genome-format epann for a flat genome"
            )
        stored = {name: data[name] for name in data.files}
    expected = {n: s for n, s, _, _ in layout}
    missing = sorted(set(expected) - set(stored))
    extra = sorted(set(stored) - set(expected))
    wrong = [
        f"{n}: stored {stored[n].shape}, expected {expected[n]}"
        for n in sorted(set(expected) & set(stored))
        if tuple(stored[n].shape) != expected[n]
    ]
    if missing or extra or wrong:
        raise DataError(
            f"{path} does not match the model: missing {missing}, unexpected "
            f"{extra}, wrong shapes {wrong}; layout: {_describe(layout)}"
        )
    return {n: jnp.asarray(stored[n], jnp.float32) for n in expected}


#: ``load_genome``'s formats: "auto" reads the file's first bytes
GENOME_FORMATS = ("auto", "epann", "npz")


def genome_format(path: str | os.PathLike) -> Literal["epann", "npz"]:
    """The format of a genome file: "npz" for a zip archive (hebbjax's named tensors,
    ``save_genome_npz``), "epann" for anything else (a ``.npy`` flat vector; its reader
    says what is wrong with a file that is neither)."""
    with open(path, "rb") as f:
        return "npz" if f.read(4) == b"PK\x03\x04" else "epann"


def load_genome(
    path: str | os.PathLike,
    model: Model,
    fmt: Literal["auto", "epann", "npz"] = "auto",
) -> Params:
    """Load a genome for ``model``.

    Args:
        path: ``.npy`` flat vector (fmt="epann") or ``.npz`` written by
            ``save_genome_npz`` (fmt="npz"), or a packaged name (``paper:decprnn-postdn``).
        model: the model whose layout the genome must match.
        fmt: "auto" (the file says which, ``genome_format``), "epann" (reference flat
            layout) or "npz".

    Returns:
        The params dict (float32 arrays).
    """
    from hebbjax import data

    path = data.path(path) if data.is_named(path) else Path(path)
    if fmt not in GENOME_FORMATS:
        raise DataError(
            f"unknown genome format {fmt!r}; valid formats: {', '.join(GENOME_FORMATS)}"
        )
    if not path.is_file():
        raise DataError(f"no genome file at {path}")
    try:
        if fmt == "auto":
            fmt = genome_format(path)
        if fmt == "epann":
            with open(path, "rb") as f:
                flat = np.load(f, allow_pickle=False)
                if isinstance(flat, np.lib.npyio.NpzFile):
                    raise DataError(
                        f"{path} is an npz archive; use --genome-format npz for named "
                        "tensors"
                    )
            params = from_epann_flat(model, flat)
        else:
            params = _from_npz(model, path)
    except DataError:
        raise
    except ValueError as err:
        if "pickled" in str(err) or "allow_pickle" in str(err):
            raise DataError(
                f"{path} is not a numpy array file (.npy of float32 genes, or .npz)"
            ) from None
        raise DataError(str(err)) from None
    except (OSError, EOFError, zipfile.BadZipFile, KeyError) as err:
        raise DataError(f"{path} is not a readable genome file ({err})") from None
    bad = [n for n, v in params.items() if not np.isfinite(np.asarray(v)).all()]
    if bad:
        raise DataError(
            f"{path} holds non-finite genes (NaN or infinite) in {', '.join(bad[:3])}"
        )
    return params

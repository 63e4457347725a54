"""The paper's released files, shipped with hebbjax and reachable by name from anywhere.

- ``paper:decprnn-postdn``: the released DecPRNN(PostDN) genome of Wang et al. 2022
  (EPA@4a6a749 demo/models/maze_decprnn_postdn_demo.dat), 1,347 float32 genes in the
  reference's flat layout (``--genome-format epann``);
- ``paper:maze15-validation`` and ``paper:maze9-validation``: the reference's validation
  mazes (walls, start, goal), 1,024 each.

``hebbjax eval --genome paper:decprnn-postdn --mazes paper:maze15-validation`` uses them;
in Python, ``hebbjax.data.path("paper:decprnn-postdn")``. See ``README.md`` beside this file.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from hebbjax.errors import DataError

FILES = {
    "paper:decprnn-postdn": "decprnn_postdn_paper_genome.npy",
    "paper:maze15-validation": "maze15_paper_validation.npz",
    "paper:maze9-validation": "maze9_paper_validation.npz",
}
# the model and task a released genome belongs to
GENOME_MODELS = {"paper:decprnn-postdn": ("decprnn-postdn", "maze15")}


def is_named(spec: str) -> bool:
    return isinstance(spec, str) and spec.startswith("paper:")


def path(spec: str) -> Path:
    """The file of a packaged name (``paper:...``), or ``spec`` itself as a path."""
    if not is_named(spec):
        return Path(spec)
    if spec not in FILES:
        raise DataError(
            f"unknown packaged file {spec!r}; valid names: {', '.join(FILES)}"
        )
    return Path(str(resources.files(__name__).joinpath(FILES[spec])))


def data_dir() -> Path:
    """The folder holding the packaged files."""
    return Path(str(resources.files(__name__)))

"""Evolving & Merging: k-means over evolved ABCD rules, then evolution of the tied rules.

Wang et al. 2022, "decomposed plasticity", Evolving & Merging (spec ``maze-decprnn-eprnn.md``
section 1.3 type 4; EPA@4a6a749 tools/merge_and_evolve.py:16-30, 59-66):

1. a trained PRNN(PostDN) (type 1, per-connection A, B, C, D);
2. for each plastic matrix, k-means (scikit-learn, ``random_state=10``) on the per-connection
   4-vectors (A, B, C, D)_ij with K = 2h for W_h and K = h + m for W_x;
3. the centroids become the evolved ``Cluster`` tables of ``merged-prnn-postdn``, the labels its
   static (closed-over, non-evolved) assignment maps, every other tensor is copied; evolution
   continues from that genome.

``n_init=10`` is scikit-learn's default of the reference's era (it became "auto" in 1.4).
The assignment maps go into the new run's ``model_kwargs`` (JSON lists), so the run directory
is self-contained for ``hebbjax eval --run``.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import jax
import numpy as np

from hebbjax.config import TrainConfig
from hebbjax.models import make_model
from hebbjax.models.genome_io import load_genome
from hebbjax.models.prnn import PREFIX_H, PREFIX_X

SOURCE_MODEL = "prnn-postdn"
MERGED_MODEL = "merged-prnn-postdn"
RANDOM_STATE = 10


def kmeans_rules(
    coeffs: np.ndarray, n_clusters: int, random_state: int = RANDOM_STATE
) -> tuple[np.ndarray, np.ndarray]:
    """Cluster per-connection rules.

    Args:
        coeffs: (n_out, n_in, 4) per-connection (A, B, C, D).
        n_clusters: K.
    Returns:
        ``(table (K, 4) float32, assignment (n_out, n_in) int32)``.
    """
    from sklearn.cluster import KMeans

    n_out, n_in, dim = coeffs.shape
    if not 1 <= n_clusters <= n_out * n_in:
        raise ValueError(
            f"clusters must lie in [1, {n_out * n_in}] for a {n_out}x{n_in} matrix, "
            f"got {n_clusters}"
        )
    km = KMeans(n_clusters=n_clusters, random_state=random_state, n_init=10)
    labels = km.fit_predict(np.asarray(coeffs, np.float64).reshape(-1, dim))
    table = km.cluster_centers_.astype(np.float32)
    return table, labels.reshape(n_out, n_in).astype(np.int32)


def merge_genome(
    genome: dict[str, Any],
    clusters: tuple[int, int] | None = None,
    random_state: int = RANDOM_STATE,
) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    """A PRNN(PostDN) genome -> (merged genome, merged model's keyword arguments).

    Args:
        genome: named tensors of a ``prnn-postdn`` genome.
        clusters: (K_h, K_x); default (2h, h + m) as the reference.
    """
    hidden = genome["PRNN_1//b"].shape[0]
    n_in = genome[f"{PREFIX_X}/A"].shape[1]
    k_h, k_x = clusters if clusters is not None else (2 * hidden, hidden + n_in)
    merged = {
        k: np.asarray(v)
        for k, v in genome.items()
        if not k.startswith((PREFIX_H + "/", PREFIX_X + "/"))
    }
    kwargs: dict[str, Any] = dict(hidden=hidden, n_in=n_in, n_clusters_h=k_h)
    kwargs["n_clusters_x"] = k_x
    for prefix, k, side in ((PREFIX_H, k_h, "h"), (PREFIX_X, k_x, "x")):
        coeffs = np.stack([np.asarray(genome[f"{prefix}/{c}"]) for c in "ABCD"], -1)
        table, assignment = kmeans_rules(coeffs, k, random_state)
        merged[f"{prefix}/Cluster"] = table
        kwargs[f"assignment_{side}"] = assignment
    return merged, kwargs


def merge_run(
    run_dir: str | Path,
    clusters: tuple[int, int] | None = None,
    generations: int | None = None,
    which: str = "best",
) -> tuple[TrainConfig, dict[str, Any]]:
    """The config and initial genome of stage 2 for the PRNN(PostDN) run in ``run_dir``.

    Raises:
        ValueError: when the run is missing or not a ``prnn-postdn`` run.
    """
    from hebbjax.evolution.train import CONFIG

    run = Path(run_dir)
    if not (run / CONFIG).is_file():
        raise ValueError(f"no hebbjax run in {run} (missing {CONFIG})")
    config = TrainConfig.load(run / CONFIG)
    if config.model != SOURCE_MODEL:
        raise ValueError(
            f"merge needs a {SOURCE_MODEL} run, {run} trained {config.model!r}"
        )
    genome_file = run / f"{which}_genome.npz"
    if not genome_file.is_file():
        raise ValueError(f"run {run} has no {genome_file.name} yet")
    from hebbjax.tasks import make_task

    task = make_task(config.task, **config.task_kwargs)
    source = make_model(
        SOURCE_MODEL, n_in=task.n_in, n_out=task.n_out, **config.model_kwargs
    )
    genome = load_genome(genome_file, source, fmt="npz")
    merged, kwargs = merge_genome(
        {k: np.asarray(v) for k, v in genome.items()}, clusters
    )
    model_kwargs = {k: v for k, v in config.model_kwargs.items() if k != "hidden"}
    model_kwargs |= {
        k: v.tolist() if isinstance(v, np.ndarray) else v for k, v in kwargs.items()
    }
    model_kwargs.pop("n_in")
    new_config = dataclasses.replace(
        config,
        model=MERGED_MODEL,
        model_kwargs=model_kwargs,
        generations=generations if generations is not None else config.generations,
    )
    model = make_model(
        MERGED_MODEL, n_in=task.n_in, n_out=task.n_out, **new_config.model_kwargs
    )
    template = jax.eval_shape(model.init_params, jax.random.key(0))
    if {k: v.shape for k, v in template.items()} != {
        k: v.shape for k, v in merged.items()
    }:
        raise ValueError("merged genome does not match the merged model's layout")
    init_params = {k: jax.numpy.asarray(v, np.float32) for k, v in merged.items()}
    return new_config, init_params

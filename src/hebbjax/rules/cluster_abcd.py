"""Cluster-tied ABCD rule, reference ``hebbian_type=4`` (Evolving & Merging).

Wang et al. 2022, "decomposed plasticity", Evolving & Merging experiment;
spec 1.3 type 4: the same update as the full ABCD rule (scale 0.05),

    H = 0.05 * (A * (q p^T) + B * (q 1^T) + C * (1 p^T) + D),
    W <- W + mu * H (modulated),  W <- W + H (unmodulated),

but (A, B, C, D)_ij = Cluster[k_ij]: the genome holds a K x 4 table and the
integer assignment map k (n_out, n_in) is static, closed over by the factory,
never part of the genome.
"""

from __future__ import annotations

import numpy as np

from hebbjax.rules.abcd import abcd_rule
from hebbjax.rules.base import PlasticityRule

CLUSTER_NAME = "Cluster"  # inferred reference name (type-4 source not at hand)


def cluster_abcd_rule(
    n_out: int,
    n_in: int,
    n_clusters: int | None = None,
    assignment: np.ndarray | None = None,
    scale: float = 0.05,
) -> PlasticityRule:
    """ABCD rule whose per-connection coefficients are looked up in a table.

    Args:
        n_out: post-synaptic size (rows of W).
        n_in: pre-synaptic size (columns of W).
        n_clusters: K, the number of rows of the evolved ``Cluster`` table; default
            ``assignment.max() + 1``, or ``n_out + n_in`` without an assignment.
        assignment: integer array (n_out, n_in), values in [0, n_clusters); default
            ``default_assignment`` (the right N_Gene; ``hebbjax merge`` passes k-means
            clusters of a trained PRNN).
        scale: the constant factor on H (0.05).

    Returns:
        A ``PlasticityRule`` with one tensor ``Cluster`` of shape (K, 4), columns
        (A, B, C, D).
    """
    if n_clusters is None:
        n_clusters = (
            n_out + n_in
            if assignment is None
            else int(np.asarray(assignment).max()) + 1
        )
    if assignment is None:
        assignment = default_assignment(n_out, n_in, n_clusters)
    assignment = np.asarray(assignment)
    if assignment.ndim != 2 or not np.issubdtype(assignment.dtype, np.integer):
        raise ValueError(
            f"assignment must be a 2-d integer array (n_out, n_in), got "
            f"{assignment.dtype} {assignment.shape}"
        )
    if assignment.shape != (n_out, n_in):
        raise ValueError(
            f"assignment must have shape ({n_out}, {n_in}), got {assignment.shape}"
        )
    if assignment.size and (assignment.min() < 0 or assignment.max() >= n_clusters):
        raise ValueError(
            f"assignment values must lie in [0, {n_clusters}), got "
            f"[{assignment.min()}, {assignment.max()}]"
        )
    index = np.asarray(assignment, np.int32)
    full = abcd_rule(n_out, n_in, scale)

    def expand(params):
        coeffs = params[CLUSTER_NAME][index]  # (n_out, n_in, 4)
        return {name: coeffs[..., i] for i, name in enumerate("ABCD")}

    def prepare(params):
        """The table expanded to per-connection coefficients (and laid out as the full
        rule reads them), once per lifetime instead of a gather every step."""
        coeffs = expand(params)
        return coeffs if full.prepare is None else full.prepare(coeffs)

    def update(params, state, pre, post, mu=None, plastic=True):
        coeffs = expand(params) if CLUSTER_NAME in params else params
        return full.update(coeffs, state, pre, post, mu, plastic)

    return PlasticityRule(
        {CLUSTER_NAME: (n_clusters, 4)},
        full.init,
        update,
        n_out,
        n_in,
        prepare=prepare,
    )


def default_assignment(n_out: int, n_in: int, n_clusters: int) -> np.ndarray:
    """A deterministic assignment map: connection (i, j) -> (i * n_in + j) mod K."""
    return (np.arange(n_out * n_in, dtype=np.int32) % n_clusters).reshape(n_out, n_in)

"""Evolving & Merging (spec maze-decprnn-eprnn 1.3 type 4): k-means over a PRNN(PostDN)
genome's per-connection (A, B, C, D), cluster tables, assignment maps and N_Gene."""

import json

import jax
import numpy as np
import pytest

from hebbjax.cli import main
from hebbjax.config import TrainConfig
from hebbjax.evolution.merge import kmeans_rules, merge_run
from hebbjax.models import make_model, n_gene
from hebbjax.models.genome_io import save_genome_npz

HIDDEN = 8  # the paper's h = 64 gives K = 128 and 79; a small h keeps k-means quick


def test_kmeans_recovers_planted_rules():
    rng = np.random.default_rng(0)
    centres = rng.normal(size=(3, 4)) * 5
    labels = rng.integers(0, 3, size=(6, 7))
    coeffs = centres[labels] + 0.01 * rng.normal(size=(6, 7, 4))
    table, assignment = kmeans_rules(coeffs, 3)
    assert table.shape == (3, 4) and table.dtype == np.float32
    assert assignment.shape == (6, 7) and assignment.dtype == np.int32
    np.testing.assert_allclose(table[assignment], coeffs, atol=0.05)
    with pytest.raises(ValueError, match="clusters"):
        kmeans_rules(coeffs, 43)


@pytest.fixture
def prnn_run(tmp_path):
    config = TrainConfig(
        task="maze",
        model="prnn-postdn",
        seed=3,
        generations=2,
        model_kwargs=dict(hidden=HIDDEN),
    )
    model = make_model("prnn-postdn", hidden=HIDDEN)
    params = model.init_params(jax.random.key(0))
    run = tmp_path / "run"
    run.mkdir()
    (run / "config.json").write_text(config.to_json())
    save_genome_npz(run / "best_genome.npz", params)
    return run, params


def test_merge_run_tables_maps_and_n_gene(prnn_run):
    run, params = prnn_run
    config, init = merge_run(run)
    assert config.model == "merged-prnn-postdn" and config.seed == 3
    h, m, o = HIDDEN, 15, 5
    assert init["PRNN_1/hebbian_h/Cluster"].shape == (2 * h, 4)  # K = 2h
    assert init["PRNN_1/hebbian_x/Cluster"].shape == (h + m, 4)  # K = h + m
    a_h = np.asarray(config.model_kwargs["assignment_h"])
    a_x = np.asarray(config.model_kwargs["assignment_x"])
    assert a_h.shape == (h, h) and a_x.shape == (h, m)
    assert a_h.max() == 2 * h - 1 and a_x.max() == h + m - 1
    np.testing.assert_array_equal(init["FC_1/W"], params["FC_1/W"])
    model = make_model("merged-prnn-postdn", **config.model_kwargs)
    # spec table: 4(2h) + 4(h+m) + h + (h+1)o + 2(h+1); 1,347 at h = 64
    assert n_gene(model) == 4 * 2 * h + 4 * (h + m) + h + (h + 1) * o + 2 * (h + 1)
    assert n_gene(make_model("merged-prnn-postdn")) == 1347
    # each connection's rule is its centroid: within-cluster spread below the total spread
    coeffs = np.stack([params[f"PRNN_1/hebbian_h/{c}"] for c in "ABCD"], -1)
    resid = coeffs - np.asarray(init["PRNN_1/hebbian_h/Cluster"])[a_h]
    assert resid.var() < 0.5 * coeffs.var()
    # the config round-trips through JSON (the maps are plain lists)
    assert TrainConfig.from_json(config.to_json()) == config
    small, _ = merge_run(run, clusters=(8, 5), generations=7)
    assert small.generations == 7
    assert max(max(r) for r in small.model_kwargs["assignment_x"]) == 4


def test_merge_cli_errors(prnn_run, tmp_path, capsys):
    run, _ = prnn_run
    assert main(["merge", "--run", str(run), "--clusters", "x"]) == 2
    assert main(["merge", "--run", str(tmp_path / "nope")]) == 2
    cfg = json.loads((run / "config.json").read_text())
    cfg["model"] = "decprnn-postdn"
    (run / "config.json").write_text(json.dumps(cfg))
    assert main(["merge", "--run", str(run)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 3 and "prnn-postdn" in err[-1]

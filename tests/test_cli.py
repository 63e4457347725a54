"""The documented CLI commands on the paper fixtures: JSON keys and the reference numbers."""

import json

import numpy as np
import pytest

from hebbjax.cli import main


def run_json(capsys, argv):
    assert main(argv) == 0
    return json.loads(capsys.readouterr().out)


def test_baselines_on_the_paper_validation_mazes(fixtures_dir, capsys):
    out = run_json(capsys, ["baselines", "--task", "maze15", "--json",
                            "--mazes", "paper:maze15-validation"])  # fmt: skip
    assert set(out) == {
        "oracle_mean", "oracle_stderr", "random_mean", "random_stderr", "n_mazes",
    }  # fmt: skip
    assert out["n_mazes"] == 1024
    assert out["oracle_mean"] == pytest.approx(0.853, abs=0.001)
    assert out["random_mean"] == pytest.approx(-1.83, abs=0.05)


def test_eval_of_the_paper_genome_reproduces_the_reference(fixtures_dir, capsys):
    # The reference's 300 lifetimes are the first 300 mazes of its validation file.
    out = run_json(capsys, [
        "eval", "--genome", "paper:decprnn-postdn", "--n-mazes", "300", "--json",
        "--mazes", "paper:maze15-validation",
    ])  # fmt: skip
    out = out["maze15"]["paper:maze15-validation"]
    assert {"positive_return_rate", "return_mean", "return_stderr"} <= set(out)
    assert out["n_lifetimes"] == 300
    # the reference's goal rate is the rate of positive returns; one seed of 300
    # lifetimes: about 2.5 standard errors
    np.testing.assert_allclose(
        out["positive_return_rate"], [0.21, 0.46, 0.72], atol=0.07
    )
    np.testing.assert_allclose(out["return_mean"], [-1.24, -0.52, 0.04], atol=0.2)
    assert all(
        r >= g
        for r, g in zip(out["success_rate"], out["positive_return_rate"], strict=True)
    )


def test_eval_input_errors_exit_2(fixtures_dir, tmp_path, capsys):
    genome = str(fixtures_dir / "decprnn_postdn_paper_genome.npy")
    assert main(["eval", "--model", "decprnn", "--genome", genome]) == 2
    assert "expected (1217,)" in capsys.readouterr().err
    assert (
        main(["eval", "--model", "decprnn-postdn", "--genome", str(tmp_path / "x")])
        == 2
    )
    assert "no genome file" in capsys.readouterr().err
    bad = tmp_path / "bad.npz"
    np.savez(bad, walls=np.zeros((2, 4, 4), np.int8))
    argv = [
        "eval",
        "--model",
        "decprnn-postdn",
        "--genome",
        genome,
        "--mazes",
        str(bad),
    ]
    assert main(argv) == 2
    assert "missing arrays" in capsys.readouterr().err
    assert main(["eval", "--model", "decprnn-postdn"]) == 2
    assert "--genome" in capsys.readouterr().err

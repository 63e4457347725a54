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


# spec 5.5: the reference's ablate.py on the released genome, 300 lifetimes, per rollout
REFERENCE_RUNS = {
    # the defaults: the April-2022 code (modulated scale 1.0, previous reward in the slot)
    "april": ([], [0.30, 0.81, 0.82], [-0.64, 0.23, 0.25]),
    # the reference from July-August 2022 on
    "september": (
        ["--model-opt", "modulated_scale=0.2", "--task-opt", "r_slot=zero"],
        [0.21, 0.46, 0.72],
        [-1.24, -0.52, 0.04],
    ),
}


@pytest.mark.parametrize("variant", list(REFERENCE_RUNS))
def test_eval_of_the_paper_genome_reproduces_the_reference(
    variant, fixtures_dir, capsys
):
    options, goal_rates, returns = REFERENCE_RUNS[variant]
    # The reference's 300 lifetimes are the first 300 mazes of its validation file.
    out = run_json(capsys, [
        "eval", "--genome", "paper:decprnn-postdn", "--n-mazes", "300", "--json",
        "--mazes", "paper:maze15-validation", *options,
    ])  # fmt: skip
    out = out["maze15"]["paper:maze15-validation"]
    assert {"positive_return_rate", "return_mean", "return_stderr"} <= set(out)
    assert out["n_lifetimes"] == 300
    # the reference's goal rate is the rate of positive returns; one seed of 300
    # lifetimes: about 2.5 standard errors
    np.testing.assert_allclose(out["positive_return_rate"], goal_rates, atol=0.07)
    np.testing.assert_allclose(out["return_mean"], returns, atol=0.2)
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


def test_compile_cache_keeps_every_program(tmp_path, monkeypatch):
    """The CLI's persistent cache lives under HEBBJAX_CACHE and keeps even the quick
    programs (a run's setup dispatches dozens); HEBBJAX_COMPILE_CACHE=0 turns it off."""
    import jax

    from hebbjax.cli.common import enable_compile_cache

    names = (
        "jax_compilation_cache_dir",
        "jax_persistent_cache_min_compile_time_secs",
        "jax_persistent_cache_min_entry_size_bytes",
    )
    saved = {name: getattr(jax.config, name) for name in names}
    try:
        monkeypatch.setenv("HEBBJAX_CACHE", str(tmp_path))
        monkeypatch.setenv("HEBBJAX_COMPILE_CACHE", "0")
        assert enable_compile_cache() is None
        monkeypatch.delenv("HEBBJAX_COMPILE_CACHE")
        folder = enable_compile_cache()
        assert folder == str(tmp_path / "jax") and (tmp_path / "jax").is_dir()
        assert jax.config.jax_compilation_cache_dir == folder
        assert jax.config.jax_persistent_cache_min_compile_time_secs == 0
    finally:
        for name, value in saved.items():
            jax.config.update(name, value)


def test_progress_shows_the_last_rollout_return_beside_a_capped_score():
    """Where the fitness is not the paper's score (``score_within``, reweighted rollouts)
    the validation line gives the last rollout's return too; otherwise it does not."""
    import io

    from hebbjax.cli.progress import Progress

    def line(score, last):
        stream = io.StringIO()
        stats = dict(score=score, return_mean=[-0.5, 0.6, last], success_rate=[1.0] * 3)
        record = dict(validation=stats, fitness_max=0.1, fitness_mean=0.0)
        with Progress(10, stream=stream, live=False) as bar:
            bar(0, record | dict(env_steps_per_s=1.0))
        return stream.getvalue().splitlines()[0]

    assert line(0.58, 0.7) == (
        "gen      0  validation score +0.580 (last-rollout return +0.700)  "
        "success per rollout 1.00 / 1.00 / 1.00"
    )
    assert "last-rollout" not in line(0.6999999, 0.7)


def test_schedule_flag_sets_a_curriculum_and_refuses_bad_ones(tmp_path, capsys):
    from hebbjax.cli import build_parser, main
    from hebbjax.cli.train import build_config

    flags = ["train", "--task", "maze9", "--schedule"]
    text = '[[0, 8, {"score_within": 40}], [4000, 256]]'
    config = build_config(build_parser().parse_args([*flags, text]))
    assert config.schedule == ((0, 8, {"score_within": 40}), (4000, 256))
    out = str(tmp_path / "r")
    for bad, says in (
        (["[[0, 8"], "expected a JSON list"),
        (["[[1, 8]]"], "start at generation 0"),
        (['[[0, 8, {"score_withn": 4}]]'], "valid options"),
        (["[[0, 8]]", "--tasks-per-gen", "4"], "not both"),
    ):
        try:  # argparse's own errors exit 2 from inside the parser
            code = main([*flags, *bad, "--out", out, "--generations", "1"])
        except SystemExit as exit:
            code = exit.code
        assert code == 2, bad
        assert says in capsys.readouterr().err, bad
    assert not (tmp_path / "r").exists()

"""The evolution loop: one jitted generation, sharding-invariant, resumable after SIGKILL."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from hebbjax.checkpoint import load_checkpoint
from hebbjax.cli import main
from hebbjax.config import TrainConfig
from hebbjax.evolution.loop import make_generation_step, sanitize_fitness
from hebbjax.evolution.train import TIMING_FIELDS, build_run, read_metrics, train
from hebbjax.parallel import local_mesh

TINY = dict(
    task="maze9",
    model="decprnn-postdn",
    strategy="sep-cma-es",
    population=6,
    generations=120,
    schedule=((0, 2),),
    repeats=1,
    sigma0=0.05,
    validate_every=10,
    n_validation=8,
    checkpoint_every=7,
    model_kwargs={"hidden": 8},
    task_kwargs={"max_steps": 30},
)
TINY_FLAGS = [
    "--task", "maze9", "--model", "decprnn-postdn", "--strategy", "sep-cma-es",
    "--population", "6", "--generations", "120", "--tasks-per-gen", "2",
    "--repeats", "1", "--sigma0", "0.05", "--validate-every", "10",
    "--n-validation", "8", "--checkpoint-every", "7",
    "--model-opt", "hidden=8", "--task-opt", "max_steps=30", "--quiet",
]  # fmt: skip


def science(records):
    """Metrics without the fields that measure the machine."""
    return [{k: v for k, v in r.items() if k not in TIMING_FIELDS} for r in records]


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory):
    out = tmp_path_factory.mktemp("run") / "full"
    result = train(TrainConfig(**TINY), out)
    return out, result


def test_run_writes_metrics_config_and_checkpoint(uninterrupted):
    out, result = uninterrupted
    records = read_metrics(out)
    assert [r["generation"] for r in records] == list(range(120))
    first = records[0]
    for key in ("fitness_mean", "fitness_max", "return_mean", "success_rate",
                "step_size", "n_nonfinite", "env_steps", "wall_seconds",
                "env_steps_per_s", "validation"):  # fmt: skip
        assert key in first, key
    assert len(first["return_mean"]) == 3
    assert first["compile_seconds"] > 0 and records[1]["compile_seconds"] == 0
    assert "final_validation" in records[-1]
    assert TrainConfig.load(out / "config.json") == TrainConfig(**TINY)
    arrays, meta = load_checkpoint(out / "checkpoint.npz")
    assert meta["generation"] == 120
    assert not any(v.dtype == object for v in arrays.values())
    assert np.isfinite(result.best_score)


def test_same_numbers_on_one_and_two_devices():
    assert jax.device_count() == 2, "conftest forces two host devices"
    setup = build_run(TrainConfig(**TINY))
    key = jax.random.key(3)
    outs = []
    for mesh in (None, local_mesh()):
        step = make_generation_step(
            setup.es, setup.es_params, setup.model, setup.task, 2, 1, mesh
        )
        state = setup.es.init(jax.random.key(0), setup.init_params, setup.es_params)
        state, metrics = step(state, key)
        outs.append((np.asarray(state.mean), float(metrics["fitness_mean"])))
    np.testing.assert_allclose(outs[0][0], outs[1][0], rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(outs[0][1], outs[1][1], rtol=1e-6)


@pytest.mark.parametrize("sharded", [False, True])
def test_generation_step_compiles_once(sharded):
    """On a mesh the step returns its state replicated; ``train`` starts it there
    (``parallel.replicate_on``), so the second generation does not compile again."""
    from hebbjax.parallel import replicate_on

    mesh = local_mesh() if sharded else None
    setup = build_run(TrainConfig(**TINY))
    step = make_generation_step(
        setup.es, setup.es_params, setup.model, setup.task, 2, 1, mesh
    )
    state = setup.es.init(jax.random.key(0), setup.init_params, setup.es_params)
    state = replicate_on(state, mesh)
    for g in range(3):
        state, _ = step(state, jax.random.key(g))
    assert step._cache_size() == 1


def test_nonfinite_fitness_is_worst_and_counted():
    fitness, bad = sanitize_fitness(jnp.array([0.5, jnp.nan, -1.0, jnp.inf]))
    assert int(bad) == 2
    assert float(fitness[1]) < -1.0 and float(fitness[3]) < -1.0
    all_bad, n = sanitize_fitness(jnp.array([jnp.nan, jnp.nan]))
    assert int(n) == 2 and bool(jnp.all(jnp.isfinite(all_bad)))


def _arrays(path):
    with np.load(path) as data:
        return {k: data[k] for k in data.files}


def _cli(args, cwd, log):
    with open(log, "ab") as err:
        return subprocess.Popen(
            [sys.executable, "-m", "hebbjax", "train", *args],
            cwd=cwd,
            env=dict(os.environ, PYTHONUNBUFFERED="1"),
            stdout=subprocess.DEVNULL,
            stderr=err,
        )


def test_sigkill_then_resume_reaches_the_same_result(uninterrupted, tmp_path):
    full_dir, _ = uninterrupted
    out, log = tmp_path / "killed", tmp_path / "stderr.log"
    proc = _cli([*TINY_FLAGS, "--out", str(out)], tmp_path, log)
    deadline = time.time() + 240
    # kill between two checkpoints, at a moment the run does not choose
    while time.time() < deadline and len(read_metrics(out)) < 40:
        if proc.poll() is not None:
            pytest.fail(f"run ended early: {log.read_text()[-2000:]}")
        time.sleep(0.01)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    _, meta = load_checkpoint(out / "checkpoint.npz")
    assert 0 < meta["generation"] < 120, "the kill must interrupt the run"
    resumed = _cli([*TINY_FLAGS, "--out", str(out), "--resume"], tmp_path, log)
    assert resumed.wait(timeout=240) == 0, log.read_text()[-2000:]
    a, b = _arrays(full_dir / "mean_genome.npz"), _arrays(out / "mean_genome.npz")
    assert a.keys() == b.keys()
    for name in a:
        np.testing.assert_array_equal(a[name], b[name], err_msg=name)
    assert science(read_metrics(out)) == science(read_metrics(full_dir))


def test_cli_errors_exit_2(tmp_path, capsys):
    assert main(["train", "--model", "nope", "--out", str(tmp_path / "x")]) == 2
    err = capsys.readouterr().err
    assert "unknown model 'nope'" in err and "decprnn-postdn" in err
    assert main(["train", "--task", "maze99", "--out", str(tmp_path / "x")]) == 2
    assert "valid task names" in capsys.readouterr().err
    assert main(["eval", "--run", str(tmp_path / "missing")]) == 2
    assert "no hebbjax run" in capsys.readouterr().err
    assert main(["train", "--resume", "--out", str(tmp_path / "missing")]) == 2
    with pytest.raises(SystemExit) as exc:
        main(["train", "--population", "0"])
    assert exc.value.code == 2


def test_damaged_checkpoint_on_resume_is_a_clear_error(uninterrupted, tmp_path, capsys):
    full_dir, _ = uninterrupted
    run = tmp_path / "damaged"
    run.mkdir()
    (run / "config.json").write_text((full_dir / "config.json").read_text())
    data = (full_dir / "checkpoint.npz").read_bytes()
    (run / "checkpoint.npz").write_bytes(data[: len(data) // 3])
    assert main(["train", "--resume", "--out", str(run), "--quiet"]) == 2
    assert "damaged" in capsys.readouterr().err


def test_models_and_tasks_json(capsys):
    assert main(["models", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    by_name = {r["name"]: r for r in rows}
    assert by_name["decprnn-postdn"]["n_gene"] == 1347
    assert set(rows[0]) >= {"name", "n_gene", "n_mem", "bottleneck_factor"}
    assert main(["tasks", "--json"]) == 0
    names = [r["name"] for r in json.loads(capsys.readouterr().out)]
    assert {"maze", "maze9", "maze15", "maze21"} <= set(names)
    # the table lists every task, whatever settings each one has
    assert main(["tasks"]) == 0
    table = capsys.readouterr().out
    for name in ("maze15", "seqpred-l1-k10-n20", "wrnav-noise0.2", "ant-palm"):
        assert name in table


def test_eval_run_in_and_out_of_distribution(uninterrupted, capsys):
    out, _ = uninterrupted
    code = main(["eval", "--run", str(out), "--task", "maze9", "--task", "maze15",
                 "--set", "validation", "--json"])  # fmt: skip
    assert code == 0
    results = json.loads(capsys.readouterr().out)
    assert set(results) == {"maze9", "maze15"}
    for sets in results.values():
        summary = sets["validation"]
        assert len(summary["positive_return_rate"]) == 3
        assert summary["n_lifetimes"] == 1024


def test_eval_run_takes_model_options_over_its_own(uninterrupted, capsys):
    # the run's genome in the factored form (its hidden=8 kept); a wrong name is exit 2
    out, _ = uninterrupted
    code = main(["eval", "--run", str(out), "--model-opt", "plastic_form=factored",
                 "--set", "validation", "--n-tasks", "16", "--json"])  # fmt: skip
    assert code == 0
    assert (
        json.loads(capsys.readouterr().out)["maze9"]["validation"]["n_lifetimes"] == 16
    )
    assert main(["eval", "--run", str(out), "--model-opt", "hiden=3"]) == 2
    assert "valid options: hidden" in capsys.readouterr().err


def test_train_refuses_to_overwrite(uninterrupted):
    out, _ = uninterrupted
    with pytest.raises(ValueError, match="already holds a run"):
        train(TrainConfig(**TINY), out)
    assert Path(out, "checkpoint.npz").exists()


def test_init_starts_from_another_runs_genome_and_resumes_from_its_copy(
    uninterrupted, tmp_path, capsys
):
    """``--init RUN`` (a curriculum: a 9x9 run, then 15x15): the search starts at the
    run's final mean genome, which the new run keeps as ``init_genome.npz``; a resume
    needs only the checkpoint (the source may be gone); a wrong source is an exit-2 error."""
    full_dir, _ = uninterrupted
    source = tmp_path / "source"
    source.mkdir()
    for name in ("config.json", "mean_genome.npz"):
        (source / name).write_bytes((full_dir / name).read_bytes())
    flags = [*TINY_FLAGS[: TINY_FLAGS.index("--generations")], "--generations", "3",
             *TINY_FLAGS[TINY_FLAGS.index("--generations") + 2 :]]  # fmt: skip
    out = tmp_path / "curriculum"
    assert main(["train", *flags, "--checkpoint-every", "2", "--init", str(source),
                 "--out", str(out)]) == 0  # fmt: skip
    config = TrainConfig.load(out / "config.json")
    assert config.init == str(source)
    start, mean = _arrays(out / "init_genome.npz"), _arrays(source / "mean_genome.npz")
    for name in mean:
        np.testing.assert_array_equal(start[name], mean[name], err_msg=name)
    # the search began there: the distribution mean moved from the source's, not the
    # seed's init, and a fresh run from the seed is elsewhere
    setup = build_run(config)
    for name in mean:
        np.testing.assert_array_equal(setup.init_params[name], mean[name])
    fresh = build_run(TrainConfig(**TINY))
    assert any(not np.array_equal(fresh.init_params[n], mean[n]) for n in mean)
    # resume with the source gone
    for name in ("config.json", "mean_genome.npz"):
        (source / name).unlink()
    assert main(["train", "--out", str(out), "--resume", "--generations", "4",
                 "--quiet"]) == 0  # fmt: skip
    assert len(read_metrics(out)) == 4
    # errors name the problem
    capsys.readouterr()
    assert main(["train", *flags, "--init", str(source), "--out",
                 str(tmp_path / "a")]) == 2  # fmt: skip
    assert "not a hebbjax run" in capsys.readouterr().err
    assert main(["train", *flags, "--model", "prnn-postdn", "--init",
                 str(out), "--out", str(tmp_path / "b")]) == 2  # fmt: skip
    err = capsys.readouterr().err
    assert "error" in err and not (tmp_path / "b" / "checkpoint.npz").exists()
    assert main(["train", "--out", str(out), "--resume", "--init", str(out)]) == 2
    assert "drop --config/--preset/--init" in capsys.readouterr().err


def test_schedule_task_options_change_the_training_fitness_only(tmp_path):
    """A schedule entry's task options (a curriculum, e.g. a cap that is lifted) replace
    task_kwargs' in the training fitness from that generation on; validation keeps
    task_kwargs; a bad option fails before training."""
    base = TINY | dict(generations=3, task_kwargs={"max_steps": 100})
    summed = {"rollout_weights": [1, 1, 1]}
    phased = TrainConfig(**base | dict(schedule=((0, 2, summed), (2, 2))))
    assert phased.task_options_at(1) == {"max_steps": 100} | summed
    assert phased.task_options_at(2) == {"max_steps": 100}
    plain = TrainConfig(**base)
    summed_run = TrainConfig(**base | dict(task_kwargs=base["task_kwargs"] | summed))
    runs = {}
    for name, config in dict(phased=phased, plain=plain, summed=summed_run).items():
        runs[name] = train(config, tmp_path / name).history
    fitness = ("fitness_mean", "fitness_max")

    def fit(name, g):
        return [runs[name][g][k] for k in fitness]

    assert fit("phased", 0) == fit("summed", 0) and fit("phased", 1) == fit("summed", 1)
    assert fit("phased", 0) != fit("plain", 0)
    assert fit("phased", 2) != fit("summed", 2)  # the same state, the plain fitness
    assert runs["phased"][0]["validation"] == runs["plain"][0]["validation"]
    with pytest.raises(ValueError, match="rollout_weights|valid"):
        build_run(TrainConfig(**base | dict(schedule=((0, 2), (1, 2, {"nope": 1})))))

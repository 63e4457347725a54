"""The papers' analyses (hebbjax.analysis) and the ``plot`` / ``analyze`` commands.

Tiny maze lifetimes (9x9, a few steps, a 6-unit DecPRNN(PostDN)) stand in for every task: the
analyses are written against the task contract, not the maze or the ant.
"""

import json

import jax
import numpy as np
import pytest

from hebbjax.analysis.distance import monotone
from hebbjax.analysis.figures import save
from hebbjax.analysis.freeze import freeze_plasticity
from hebbjax.analysis.learning_curves import draw_learning_curves, learning_curves
from hebbjax.analysis.memory_map import memory_map
from hebbjax.analysis.rollout_returns import rollout_returns
from hebbjax.analysis.sources import Subject
from hebbjax.analysis.trajectories import maze_paths
from hebbjax.analysis.zeroing import zero_synapses
from hebbjax.cli import main
from hebbjax.config import TrainConfig
from hebbjax.models import make_model
from hebbjax.models.base import Model
from hebbjax.models.genome_io import save_genome_npz
from hebbjax.rollout import evaluate, summarize
from hebbjax.tasks import Probe, make_task

TASK_OPTIONS = dict(max_steps=12, n_rollouts=2)
MODEL_OPTIONS = dict(hidden=6)
STEPS = 24  # lifetime steps: n_rollouts x max_steps


@pytest.fixture(scope="module")
def subject():
    task = make_task("maze9", **TASK_OPTIONS)
    model = make_model(
        "decprnn-postdn", n_in=task.n_in, n_out=task.n_out, **MODEL_OPTIONS
    )
    params = model.init_params(jax.random.key(3))
    params = jax.tree.map(lambda x: 20 * x, params)  # a genome that moves and learns
    return Subject("tiny", "decprnn-postdn", MODEL_OPTIONS, model, params, "maze9",
                   TASK_OPTIONS, "test")  # fmt: skip


@pytest.fixture(scope="module")
def task():
    return make_task("maze9", **TASK_OPTIONS)


def test_a_trajectory_starts_at_the_start_and_never_enters_a_wall(subject, task):
    data = maze_paths(subject, task, "test", jax.random.key(1), n_tasks=3)
    assert len(data["mazes"]) == 3
    moved = 0
    for maze in data["mazes"]:
        walls = np.asarray(maze["walls"])
        for rollout in maze["rollouts"]:
            path = np.asarray(rollout["path"])
            assert (path[0] == maze["start"]).all()
            assert len(path) == rollout["steps"] + 1
            assert not walls[path[:, 0], path[:, 1]].any()
            assert (np.abs(np.diff(path, axis=0)).sum(axis=1) <= 1).all()
            if rollout["success"]:
                assert (path[-1] == maze["goal"]).all()
            moved += int((path != path[0]).any())
    assert moved > 0  # the agent did move somewhere


class _Frozen:
    """The model with plasticity always off: an independent non-plastic lifetime."""

    @staticmethod
    def of(model: Model) -> Model:
        def step(params, memory, x, plastic=True):
            return model.step(params, memory, x, False)

        return model._replace(step=step)


def test_freezing_at_step_zero_equals_a_non_plastic_lifetime(subject, task):
    key = jax.random.key(2)
    data = freeze_plasticity(
        subject, task, ["test"], key, freeze_steps=[0], repeats=2, n_tasks=2
    )
    frozen = data["sets"]["test"]
    frozen_model = subject._replace(model=_Frozen.of(subject.model))
    _, trace = evaluate(frozen_model.model, task, subject.params, "test", key,
                        repeats=2, n_tasks=2, probe=Probe(record=("reward",)))  # fmt: skip
    reward = np.where(trace["valid"], trace["reward"], 0.0).reshape(4, -1)
    np.testing.assert_allclose(frozen["curves"][0], np.cumsum(reward, 1).mean(0),
                               rtol=1e-6, atol=1e-6)  # fmt: skip
    assert frozen["total"]["mean"][0] == pytest.approx(reward.sum(1).mean(), abs=1e-6)
    # and plasticity matters for this genome: never frozen differs
    assert frozen["never_frozen_curve"] != frozen["curves"][0]


def test_zeroing_no_synapse_changes_nothing(subject, task):
    data = zero_synapses(subject, task, ["test"], jax.random.key(4), at=5,
                         fraction=0.0, after=3, repeats=2, n_tasks=2)  # fmt: skip
    runs = data["sets"]["test"]
    np.testing.assert_array_equal(
        runs["baseline"]["cumulative_mean"], runs["zeroed"]["cumulative_mean"]
    )
    w = data["weights"]
    assert sorted(w["names"]) == w["names"] and len(w["names"]) == 2  # W_h, W_i
    for before, at, after in zip(w["before"], w["at"], w["after"], strict=True):
        assert np.shape(before) == np.shape(at) == np.shape(after)
        assert not np.array_equal(before, after)  # the weights are plastic


def test_per_rollout_returns_match_summarize(subject, task):
    key = jax.random.key(5)
    data = rollout_returns([subject], [task], "test", key, n_tasks=2, repeats=2)
    model = data["panels"][0]["models"][0]
    expected = summarize(
        evaluate(subject.model, task, subject.params, "test", key, repeats=2, n_tasks=2)
    )
    for name in ("return_mean", "return_stderr", "success_rate", "score"):
        np.testing.assert_allclose(model[name], expected[name])
    assert model["n_lifetimes"] == 4 and len(model["return_std"]) == 2


def test_memory_map_marks_the_end_of_each_rollout(subject, task):
    data = memory_map(subject, task, "test", jax.random.key(6), n_tasks=2, every=3,
                      method="pca")  # fmt: skip
    assert set(data["kinds"]) == {"weights", "hidden"}
    valid, rollout = np.asarray(data["valid"]), np.asarray(data["rollout"])
    for i, ends in enumerate(data["rollout_ends"]):
        for r, end in enumerate(ends):
            assert valid[i, end] and rollout[i, end] == r
            assert not (valid[i, end + 1 :] & (rollout[i, end + 1 :] == r)).any()
    points = np.asarray(data["kinds"]["weights"]["points"])
    assert points.shape == (*valid.shape, 2) and np.isfinite(points).all()
    assert data["kinds"]["hidden"]["n_features"] == MODEL_OPTIONS["hidden"]


def test_solved_needs_a_monotone_walk():
    ok = np.ones(5, bool)
    assert monotone(np.array([0.0, 1.0, 1.0, 2.5, 3.0]), ok, 0.0)
    assert not monotone(np.array([0.0, 1.0, 0.5, 2.5, 3.0]), ok, 0.0)
    assert monotone(np.array([0.0, 1.0, 0.9, 2.5, 3.0]), ok, 0.2)
    # samples after the lifetime ended do not count
    assert monotone(np.array([0.0, 1.0, 2.0, 0.0, 0.0]), ok.copy() * [1, 1, 1, 0, 0], 0)


def _fake_run(path, model, seed, scores, resume_at=None):
    path.mkdir(parents=True)
    config = TrainConfig(model=model, task="maze9", seed=seed, generations=len(scores))
    (path / "config.json").write_text(config.to_json())
    lines, elapsed = [], 0.0
    for g, score in enumerate(scores):
        elapsed = 10.0 * (g + 1) if resume_at is None or g < resume_at else (
            10.0 * (g + 1 - resume_at)
        )  # fmt: skip
        record = dict(generation=g, elapsed_seconds=elapsed)
        record["validation"] = dict(score=score, score_stderr=0.1)
        lines.append(json.dumps(record))
    final = json.loads(lines[-1]) | dict(final_validation=dict(score=1.0))
    lines[-1] = json.dumps(final)
    (path / "metrics.jsonl").write_text("\n".join(lines) + "\n")


def test_learning_curves_group_seeds_and_join_resumed_sessions(tmp_path):
    _fake_run(tmp_path / "a", "meta-rnn", 0, [0.0, 0.2, 0.4, 0.6], resume_at=2)
    _fake_run(tmp_path / "b", "meta-rnn", 1, [0.2, 0.4, 0.6, 0.8])
    _fake_run(tmp_path / "c", "decprnn-postdn", 0, [0.1, 0.1, 0.1, 0.1])
    data = learning_curves([tmp_path / "a", tmp_path / "b", tmp_path / "c"])
    groups = {g["label"]: g for g in data["groups"]}
    meta = groups["meta-rnn"]
    assert meta["n_runs"] == 2 and meta["generation"] == [0, 1, 2, 3, 4]
    np.testing.assert_allclose(meta["mean"][:4], [0.1, 0.3, 0.5, 0.7])
    np.testing.assert_allclose(meta["spread"][0], np.std([0.0, 0.2], ddof=1))
    resumed = meta["runs"][0]["seconds"]
    assert resumed == sorted(resumed) and resumed[-1] == pytest.approx(40.0)
    single = groups["decprnn-postdn"]
    assert single["spread"][0] == 0.1  # one run: its validation standard error
    paths = save(draw_learning_curves(data), data, tmp_path / "out", "curves")
    assert all(p.stat().st_size > 0 for p in paths)


def _tiny_run(path, subject):
    path.mkdir()
    config = TrainConfig(task="maze9", model="decprnn-postdn", task_kwargs=TASK_OPTIONS,
                         model_kwargs=MODEL_OPTIONS)  # fmt: skip
    (path / "config.json").write_text(config.to_json())
    save_genome_npz(path / "best_genome.npz", subject.params)
    record = dict(generation=0, elapsed_seconds=1.0, validation=dict(score=0.1))
    (path / "metrics.jsonl").write_text(json.dumps(record) + "\n")
    return path


@pytest.mark.parametrize(
    "argv",
    [
        ["rollouts", "--n-tasks", "2", "--n-rollouts", "3"],
        ["distance", "--n-tasks", "2", "--repeats", "2", "--window", "4"],
    ],
    ids=lambda argv: argv[0],
)
def test_analyze_writes_a_png_and_its_json(tmp_path, subject, capsys, argv):
    run = _tiny_run(tmp_path / "run", subject)
    assert main(["analyze", *argv, "--run", str(run)]) == 0
    png, js = run / f"{argv[0]}.png", run / f"{argv[0]}.json"
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert json.loads(js.read_text())["analysis"]
    assert str(png) in capsys.readouterr().out


def test_plot_writes_a_png_and_its_json(tmp_path, subject):
    run = _tiny_run(tmp_path / "run", subject)
    out = tmp_path / "figures"
    assert main(["plot", str(run), "--out", str(out)]) == 0
    data = json.loads((out / "learning_curves.json").read_text())
    assert data["groups"][0]["label"] == "decprnn-postdn"
    assert (out / "learning_curves.png").stat().st_size > 1000


@pytest.mark.parametrize(
    "argv, words",
    [
        (["analyze", "tsne", "--genome", "paper:decprnn-postdn"], "valid analyses"),
        (["analyze", "freeze", "--genome", "x.npy", "--at", "3"], "option of zeroing"),
        (["analyze", "rollouts"], "--run DIR"),
        (["analyze", "freeze", "--run", "a", "--run", "b"], "one genome"),
        (["plot", "no/such/run"], "no run directory"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(capsys, argv, words):
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and words in err

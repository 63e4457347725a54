"""The papers' analyses (hebbjax.analysis) and the ``plot`` / ``analyze`` commands.

Tiny maze lifetimes (9x9, a few steps, a 6-unit DecPRNN(PostDN)) stand in for every task: the
analyses are written against the task contract, not the maze or the ant.
"""

import json

import jax
import numpy as np
import pytest

from hebbjax.analysis.actuators import actuator_freeze, recovery_step
from hebbjax.analysis.attractors import principal_components
from hebbjax.analysis.distance import monotone
from hebbjax.analysis.figures import flat_lifetimes, json_ready, save
from hebbjax.analysis.freeze import freeze_plasticity
from hebbjax.analysis.learning_curves import draw_learning_curves, learning_curves
from hebbjax.analysis.memory_map import memory_map
from hebbjax.analysis.memory_reset import memory_resets
from hebbjax.analysis.ood import ood_plan
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


def _tiny_run(path, subject, **model_options):
    path.mkdir()
    config = TrainConfig(task="maze9", model="decprnn-postdn", task_kwargs=TASK_OPTIONS,
                         model_kwargs=MODEL_OPTIONS | model_options)  # fmt: skip
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


def test_recovery_counts_steps_after_the_freeze_until_the_reward_is_back():
    baseline = np.ones(20)
    perturbed = np.r_[np.ones(5), np.zeros(5), np.zeros(3), np.ones(7)]
    # window 1: back at the first step after stop=10 with reward >= 0.9 (step 13)
    assert recovery_step(perturbed, baseline, 10, 1, 0.9) == 3
    assert recovery_step(np.zeros(20), baseline, 10, 1, 0.9) is None


def test_principal_components_of_a_planar_curve():
    t = np.linspace(0, 2 * np.pi, 50)
    basis = np.random.default_rng(0).normal(size=(2, 7))
    points = np.c_[np.cos(t), 3 * np.sin(t)] @ basis + 5.0  # a 2-d ellipse in 7-d
    scores, explained = principal_components(points)
    assert scores.shape == (50, 3)
    np.testing.assert_allclose(explained.sum(), 1.0, atol=1e-9)
    assert explained[2] < 1e-12 and explained[0] > explained[1] > 0
    centred = points - points.mean(0)
    # the scores keep the pairwise distances of the points (a rotation of the plane)
    dist = np.linalg.norm(centred[:, None] - centred[None], axis=-1)
    np.testing.assert_allclose(
        np.linalg.norm(scores[:, None] - scores[None], axis=-1), dist, atol=1e-9
    )


def test_the_ood_plan_is_the_papers_tests(subject):
    nine = subject
    fifteen = subject._replace(label="b", task_name="maze15")
    plan = {(a, b): [s.label for s in subs] for a, b, subs in ood_plan([nine, fifteen])}
    assert list(plan) == [
        ("maze9", "maze9"),
        ("maze9", "maze15"),
        ("maze15", "maze15"),
        ("maze15", "maze21"),
        ("maze15", "maze15-spacious"),
        ("maze15", "maze15-crowded"),
    ]
    with pytest.raises(ValueError, match="no OOD tests"):
        ood_plan([subject._replace(task_name="ant")])


def test_json_is_strict():
    data = json_ready(dict(a=np.float32(1.5), b=[np.nan, np.inf], c=np.arange(2)))
    assert json.loads(json.dumps(data, allow_nan=False)) == dict(
        a=1.5, b=[None, None], c=[0, 1]
    )


@pytest.mark.slow
@pytest.mark.parametrize(
    "argv",
    [
        ["ood", "--n-tasks", "2", "--task", "maze15"],
        ["trajectories", "--n-tasks", "2", "--n-rollouts", "2"],
        ["memory", "--n-tasks", "2", "--method", "pca"],
        ["memory", "--n-tasks", "4", "--every", "2"],  # t-SNE
        ["reset", "--n-tasks", "2"],
    ],
    ids=lambda argv: "-".join(argv[:1] + argv[-1:]),
)
def test_every_maze_analysis_writes_a_png_and_its_json(tmp_path, subject, argv):
    run = _tiny_run(tmp_path / "run", subject)
    assert main(["analyze", *argv, "--run", str(run), "--out", str(tmp_path)]) == 0
    assert (tmp_path / f"{argv[0]}.png").read_bytes()[:4] == b"\x89PNG"
    assert json.loads((tmp_path / f"{argv[0]}.json").read_text())["analysis"]


def test_a_factored_run_reads_its_weights_in_the_direct_form(tmp_path, subject, capsys):
    # a run trained in the factored form stores no W; the same genome in the direct form
    # (float32-equal) does, and the error says how to ask for it
    run = _tiny_run(tmp_path / "run", subject, plastic_form="factored")
    argv = ["analyze", "memory", "--n-tasks", "2", "--method", "pca", "--run", str(run)]
    assert main([*argv, "--out", str(tmp_path)]) == 2
    assert "--model-opt plastic_form=direct" in capsys.readouterr().err
    direct = [*argv, "--model-opt", "plastic_form=direct", "--out", str(tmp_path)]
    assert main(direct) == 0
    assert json.loads((tmp_path / "memory.json").read_text())["analysis"]
    assert main([*argv, "--model-opt", "hiden=3"]) == 2
    assert "valid options: hidden" in capsys.readouterr().err


@pytest.mark.slow
def test_resetting_plastic_weights_of_a_non_plastic_model_changes_nothing(task):
    model = make_model("meta-rnn", n_in=task.n_in, n_out=task.n_out, hidden=6)
    params = jax.tree.map(lambda x: 20 * x, model.init_params(jax.random.key(3)))
    rnn = Subject("rnn", "meta-rnn", {}, model, params, "maze9", TASK_OPTIONS, "t")
    data = memory_resets(rnn, task, "test", jax.random.key(7), n_tasks=3,
                         conditions=(None, "plastic"))  # fmt: skip
    assert data["effect"]["plastic weights reset"] == [0.0, 0.0]
    # the hidden state it does have is put back at the second rollout's first step
    key = jax.random.key(7)

    def hidden(reset):
        probe = Probe(record=("hidden",), reset_between_rollouts=reset)
        trace = flat_lifetimes(evaluate(model, task, params, "test", key, n_tasks=3,
                                        probe=probe)[1])  # fmt: skip
        return trace["rollout"] == 0, np.concatenate(list(trace["hidden"].values()), -1)

    first, kept = hidden(None)
    h = {reset: hidden(reset)[1] for reset in ("plastic", "hidden")}
    np.testing.assert_array_equal(h["plastic"], kept)
    np.testing.assert_array_equal(h["hidden"][first], kept[first])
    assert not np.allclose(h["hidden"][~first], kept[~first])


# the ant: spring physics, 10 control steps of 5 ms, a small Hebbian network
ANT_OPTIONS = dict(backend="spring", seconds=0.05, control_dt=0.005)
ANT_MODEL = dict(hidden=[8, 4])


@pytest.fixture(scope="module")
def ant():
    from hebbjax.analysis.sources import ready

    task = ready(make_task("ant", **ANT_OPTIONS))
    model = make_model("hebbian-ffn", n_in=task.n_in, n_out=task.n_out, **ANT_MODEL)
    params = jax.tree.map(lambda x: 5 * x, model.init_params(jax.random.key(0)))
    subject = Subject("ant", "hebbian-ffn", ANT_MODEL, model, params, "ant",
                      ANT_OPTIONS, "test")  # fmt: skip
    return subject, task


@pytest.mark.slow
def test_ant_interventions_check_out(ant):
    subject, task = ant
    key = jax.random.key(8)
    frozen = freeze_plasticity(subject, task, None, key, freeze_steps=[0], repeats=2)
    frozen = frozen["sets"]["variant:default"]
    _, trace = evaluate(_Frozen.of(subject.model), task, subject.params,
                        "variant:default", key, repeats=2,
                        probe=Probe(record=("reward",)))  # fmt: skip
    reward = np.where(trace["valid"], trace["reward"], 0.0).reshape(2, -1)
    np.testing.assert_allclose(frozen["curves"][0], np.cumsum(reward, 1).mean(0),
                               rtol=1e-5, atol=1e-6)  # fmt: skip
    zeroed = zero_synapses(subject, task, None, key, at=3, fraction=0.0, after=2,
                           repeats=2)  # fmt: skip
    runs = zeroed["sets"]["variant:default"]
    np.testing.assert_array_equal(
        runs["baseline"]["cumulative_mean"], runs["zeroed"]["cumulative_mean"]
    )
    held = actuator_freeze(subject, task, None, key, start=2, stop=6, repeats=2)
    runs = held["sets"]["variant:default"]
    base, pert = (np.asarray(runs[k]["reward_mean"]) for k in ("baseline", "perturbed"))
    np.testing.assert_array_equal(base[:2], pert[:2])  # identical before the freeze
    assert not np.array_equal(base[2:], pert[2:])


@pytest.mark.slow
@pytest.mark.parametrize(
    "argv",
    [
        ["freeze", "--freeze-steps", "0", "5", "--repeats", "2"],
        ["actuators", "--start", "2", "--stop", "5", "--repeats", "2"],
        ["zeroing", "--at", "3", "--after", "2", "--repeats", "2"],
        ["attractors", "--random-baseline"],
        ["distance", "--repeats", "2", "--window", "2"],
    ],
    ids=lambda argv: argv[0],
)
def test_every_ant_analysis_writes_a_png_and_its_json(tmp_path, ant, argv):
    subject, _ = ant
    run = tmp_path / "run"
    run.mkdir()
    config = TrainConfig(task="ant", model="hebbian-ffn", task_kwargs=ANT_OPTIONS,
                         model_kwargs=ANT_MODEL, strategy="najarro-es")  # fmt: skip
    (run / "config.json").write_text(config.to_json())
    save_genome_npz(run / "best_genome.npz", subject.params)
    assert main(["analyze", *argv, "--run", str(run)]) == 0
    assert (run / f"{argv[0]}.png").read_bytes()[:4] == b"\x89PNG"
    data = json.loads((run / f"{argv[0]}.json").read_text())
    assert "variant:default" in json.dumps(data)


def _wheels(left: float, right: float) -> Model:
    """A genome-free 'network' that always sets the wheels to (left, right)."""

    def step(params, memory, x, plastic=True):
        return jax.numpy.array([left, right], jax.numpy.float32) + 0 * x[:2], memory

    return Model(lambda key: {"b": jax.numpy.zeros(1)}, lambda p, k=None: (), step,
                 3, 2, 0)  # fmt: skip


def test_navigation_tells_spinning_from_driving():
    from hebbjax.analysis.navigation import navigation, verdict

    task = make_task("wrnav-noise0.01")
    out = {}
    for name, wheels in (("spin", (1.0, -1.0)), ("straight", (1.0, 1.0))):
        model = _wheels(*wheels)
        subject = Subject(name, name, {}, model, model.init_params(None),
                          task.name, {}, "test")  # fmt: skip
        out[name] = navigation(subject, task, n_tasks=32)
    spin, straight = out["spin"]["episodes"][-1], out["straight"]["episodes"][-1]
    # turning on the spot moves nowhere: exactly the do-nothing return
    assert spin["near_start"] == 1.0 and spin["travelled"] < 1e-5
    assert spin["return"] == pytest.approx(spin["do_nothing_return"], rel=1e-5)
    assert "do-nothing" in verdict(out["spin"])
    # full speed ahead: 0.05 per step along +x, far past every goal
    assert straight["reach"] == pytest.approx(0.05 * 101, rel=0.05)
    assert straight["near_start"] == 0.0
    with pytest.raises(ValueError, match="wheeled robot"):
        navigation(subject, make_task("maze9"), n_tasks=2)

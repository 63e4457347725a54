"""Brax ant morphologies and the ant task (spec hebbian-ant-brax 3.4-3.6; spring backend,
a few control steps, few compiles): XML edits, geom sizes and positions, stacked systems
against separately built ones, and a tiny train + eval run end to end."""

import json
import xml.etree.ElementTree as ET

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from hebbjax.cli import main
from hebbjax.config import TrainConfig
from hebbjax.envs.ant import VARIANTS, ant_system, ant_xml, make_ant
from hebbjax.evolution.train import read_metrics, train
from hebbjax.tasks import make_task

DAMAGE = ("default", "short-xp-yn", "short-xp-yp")  # the ant-damage protocol's order
TINY = dict(backend="spring", seconds=0.05, control_dt=0.005)  # 10 steps, n_frames 1


@pytest.fixture(scope="module")
def physics():
    return make_ant(DAMAGE, "spring", 0.005, 0.1)


def _geoms(xml):
    return {g.get("name"): g for g in ET.fromstring(xml).iter("geom")}


def test_variant_xml_moves_capsule_tip_and_foot_together():
    base = _geoms(ant_xml("default"))
    for name, edits in VARIANTS.items():
        geoms = _geoms(ant_xml(name))
        for capsule, foot in (("left_ankle_geom", "left_foot_geom"),) + tuple(
            (f"{p}_ankle_geom", f"{p}_foot_geom") for p in ("right", "third", "fourth")
        ):
            tip0 = np.array(base[foot].get("pos").split(), float)
            tip = np.array(geoms[foot].get("pos").split(), float)
            end = np.array(geoms[capsule].get("fromto").split(), float)[3:]
            np.testing.assert_allclose(tip, end)  # the foot sits on the capsule tip
            np.testing.assert_allclose(tip, edits.get(capsule, 1.0) * tip0, atol=1e-9)
    assert _geoms(ant_xml("long-yp"))["right_foot_geom"].get("pos") == "-0.6 0.6 0"
    with pytest.raises(ValueError, match="valid variants: default"):
        ant_xml("short-left")


def test_stacked_geoms_follow_the_edits(physics):
    import mujoco

    mj = physics.systems.mj_model
    gid = {
        n: mujoco.mj_name2id(mj, mujoco.mjtObj.mjOBJ_GEOM, n)
        for n in ("left_ankle_geom", "left_foot_geom", "fourth_ankle_geom")
    }
    size = np.asarray(physics.systems.geom_size)
    pos = np.asarray(physics.systems.geom_pos)
    assert size.shape[0] == 3 and physics.variants == DAMAGE
    half = np.sqrt(2) * 0.4 / 2  # capsule half-length of a 0.4 x 0.4 lower leg
    # default: both lower legs full length
    np.testing.assert_allclose(size[0, gid["left_ankle_geom"], 1], half, rtol=1e-5)
    # short-xp-yn shortens the +x -y leg only; short-xp-yp the +x +y leg only
    np.testing.assert_allclose(
        size[1, gid["fourth_ankle_geom"], 1], half / 4, rtol=1e-5
    )
    np.testing.assert_allclose(size[1, gid["left_ankle_geom"], 1], half, rtol=1e-5)
    np.testing.assert_allclose(size[2, gid["left_ankle_geom"], 1], half / 4, rtol=1e-5)
    np.testing.assert_allclose(
        pos[2, gid["left_ankle_geom"]], [0.05, 0.05, 0], atol=1e-6
    )
    np.testing.assert_allclose(pos[2, gid["left_foot_geom"]], [0.1, 0.1, 0], atol=1e-6)
    np.testing.assert_allclose(pos[0, gid["left_foot_geom"]], [0.4, 0.4, 0], atol=1e-6)
    mass = np.asarray(physics.systems.body_mass).sum(axis=1)
    assert mass[1] < mass[0] and mass[2] == pytest.approx(mass[1], rel=1e-5)


def test_stacked_systems_step_like_separately_built_ones(physics):
    actions = jnp.sin(0.3 * jnp.arange(12)[:, None] + jnp.arange(8)[None])

    def rollout(sys, key):
        def body(state, a):
            state = physics.step(sys, state, a)
            return state, state.pipeline_state.q

        return jax.lax.scan(body, physics.reset(sys, key), actions)[1]

    key = jax.random.key(0)
    batched = jax.jit(jax.vmap(rollout, in_axes=(0, None)))(physics.systems, key)
    picked = jax.tree.map(lambda x: x[2], physics.systems)
    one = jax.jit(rollout)(picked, key)
    separate = jax.jit(rollout)(ant_system("short-xp-yp", "spring"), key)
    np.testing.assert_array_equal(one, separate)  # spring: exact
    np.testing.assert_allclose(batched[2], separate, atol=1e-5)
    assert (
        np.abs(np.asarray(batched[0] - batched[2])).max() > 1e-3
    )  # morphology matters


def test_ant_task_contract():
    task = make_task("ant-palm", **TINY)
    assert (task.n_in, task.n_out, task.n_rollouts) == (27, 8, 4)
    assert task.settings["n_steps"] == 10
    assert task.settings["variants"] == (
        "default",
        "long-yn",
        "short-xp-yp",
        "short-xn-yp",
        "long-yp",
    )
    np.testing.assert_array_equal(task.sample_params(jax.random.key(0)), [0, 1, 2, 3])
    np.testing.assert_array_equal(task.test_set(), [[4]])
    assert task.validation_set().shape == (1, 4)
    np.testing.assert_array_equal(task.task_set("variant:long-yn"), [[1]])
    assert task.sets["variant:long-yp"].role == "held-out"
    assert task.eval_sets == tuple(f"variant:{v}" for v in task.settings["variants"])
    assert task.eval_repeats == 100
    with pytest.raises(ValueError, match="control_dt"):
        make_task("ant", backend="spring", control_dt=0.0075)
    with pytest.raises(ValueError, match="protocol"):
        make_task("ant", protocol="rotate")


def test_tiny_training_run_and_eval(tmp_path, capsys):
    config = TrainConfig(
        task="ant-damage",
        model="hebbian-ffn",
        strategy="gmm-es",
        population=4,
        generations=2,
        schedule=((0, 1),),
        sigma0=0.1,
        validate_every=2,
        n_validation=1,
        checkpoint_every=2,
        model_kwargs=dict(hidden=[8, 4]),
        task_kwargs=TINY,
        strategy_kwargs=dict(rho=16, chunk_size=2),
    )
    result = train(config, tmp_path / "run")
    history = read_metrics(tmp_path / "run")
    assert len(history) == 2 and history[1]["compile_seconds"] == 0.0  # no recompile
    assert all(
        np.isfinite(r["fitness_mean"]) and r["n_nonfinite"] == 0 for r in history
    )
    assert len(history[0]["return_mean"]) == 2  # one distance per training morphology
    assert history[0]["env_steps"] == 4 * 2 * 10
    assert np.isfinite(result.best_score)
    code = main(["eval", "--run", str(tmp_path / "run"), "--repeats", "3", "--json"])
    assert code == 0
    summary = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    rows = summary["ant-damage"]
    assert set(rows) == {
        "variant:default",
        "variant:short-xp-yn",
        "variant:short-xp-yp",
    }
    assert rows["variant:short-xp-yp"]["role"] == "held-out"
    assert rows["variant:default"]["role"] == "train"
    for row in rows.values():
        assert row["n_lifetimes"] == 3
        assert np.isfinite(row["return_mean"][0]) and row["return_stderr"][0] > 0


def test_physics_first_built_inside_a_trace_is_concrete():
    """The cached ant is built eagerly even when first reached under ``jit`` (a leaked
    tracer there broke every later lifetime: 'compiled for 337 inputs but called with 7')."""
    args = (DAMAGE[:2], "spring", 0.02, 0.1)
    make_ant.cache_clear()
    jax.jit(lambda x: x + jax.tree.leaves(make_ant(*args).systems)[0].sum())(0.0)
    leaves = jax.tree.leaves(make_ant(*args).systems)
    assert leaves and not any(isinstance(x, jax.core.Tracer) for x in leaves)

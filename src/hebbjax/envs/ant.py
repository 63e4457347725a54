"""The Brax ant and its morphology variants, as vmappable physics parameters.

Najarro & Risi 2020 (damaged lower legs, sec. 4.2) and Palm, Najarro & Risi 2021 (four
training variants and one held out) on Brax instead of pybullet; spec ``hebbian-ant-brax.md``
sections 1.6, 2.5, 3.4-3.5 and 6 items 6-7.

A variant is Brax's own ``ant.xml`` with lower legs rescaled: the capsule ``*_ankle_geom``
``fromto`` end **and** the colliding foot sphere ``*_foot_geom`` ``pos`` (only the feet collide
in Brax's ant). Variants are named by the legs' direction in the XML frame, because the two
papers call different legs "right" (spec 2.5); the robot walks toward +x.

| variant | edit | [E] Najarro file | [P] Palm file |
|---|---|---|---|
| ``default`` | none | ant.xml | ant.xml |
| ``short-xp-yp`` | ``left_ankle_geom`` (+x +y) 0.4 -> 0.1 | ant_asym_left | ant-damage-left |
| ``short-xp-yn`` | ``fourth_ankle_geom`` (+x -y) 0.4 -> 0.1 | ant_asym_right | - |
| ``short-xn-yp`` | ``right_ankle_geom`` (-x +y) 0.4 -> 0.1 | - | ant-damage-right |
| ``long-yn`` | ``third``/``fourth_ankle_geom`` (-y legs) 0.4 -> 0.6 | - | ant-long-back |
| ``long-yp`` | ``left``/``right_ankle_geom`` (+y legs) 0.4 -> 0.6 | - | ant-long-front |

All variants share body, geom, joint and actuator counts, so their ``System`` array leaves stack
under the default variant's treedef and ``sys`` becomes per-lifetime data (``stack_systems``).
``make_ant`` swaps ``env.sys`` inside the traced step, as brax's
``DomainRandomizationVmapWrapper`` does. brax and mujoco are imported lazily.
"""

from __future__ import annotations

import functools
import xml.etree.ElementTree as ET
from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp

BACKENDS = ("mjx", "spring", "generalized", "positional")
# lower-leg geoms of Brax's ant.xml: capsule name -> (foot sphere name, default tip (x, y))
LOWER_LEGS = {
    "left_ankle_geom": ("left_foot_geom", (0.4, 0.4)),
    "right_ankle_geom": ("right_foot_geom", (-0.4, 0.4)),
    "third_ankle_geom": ("third_foot_geom", (-0.4, -0.4)),
    "fourth_ankle_geom": ("fourth_foot_geom", (0.4, -0.4)),
}
SHORT, LONG = 0.25, 1.5
VARIANTS: dict[str, dict[str, float]] = {
    "default": {},
    "short-xp-yp": {"left_ankle_geom": SHORT},
    "short-xp-yn": {"fourth_ankle_geom": SHORT},
    "short-xn-yp": {"right_ankle_geom": SHORT},
    "long-yn": {"third_ankle_geom": LONG, "fourth_ankle_geom": LONG},
    "long-yp": {"left_ankle_geom": LONG, "right_ankle_geom": LONG},
}


def check_variants(names: Sequence[str]) -> tuple[str, ...]:
    """``names`` as a tuple; a ValueError listing the valid names for an unknown one."""
    for name in names:
        if name not in VARIANTS:
            raise ValueError(
                f"unknown ant variant {name!r}; valid variants: {', '.join(VARIANTS)}"
            )
    return tuple(names)


def _fmt(values: Sequence[float]) -> str:
    return " ".join(f"{v:.6g}" for v in values)


@functools.lru_cache(maxsize=1)
def default_ant_xml() -> str:
    """Brax's ``envs/assets/ant.xml`` as text."""
    from etils import epath

    return (epath.resource_path("brax") / "envs/assets/ant.xml").read_text()


def ant_xml(variant: str) -> str:
    """The MJCF text of ``variant``: lower-leg capsule tips and foot spheres rescaled."""
    check_variants([variant])
    root = ET.fromstring(default_ant_xml())
    geoms = {g.get("name"): g for g in root.iter("geom")}
    for capsule, scale in VARIANTS[variant].items():
        foot, (x, y) = LOWER_LEGS[capsule]
        tip = (scale * x, scale * y, 0.0)
        geoms[capsule].set("fromto", _fmt((0.0, 0.0, 0.0) + tip))
        geoms[foot].set("pos", _fmt(tip))
    return ET.tostring(root, encoding="unicode")


def ant_system(variant: str, backend: str = "mjx") -> Any:
    """``brax.io.mjcf.loads`` of ``variant`` with the backend tweaks of ``brax.envs.ant.Ant``."""
    import mujoco
    from brax.io import mjcf

    if backend not in BACKENDS:
        raise ValueError(f"unknown backend {backend!r}; valid: {', '.join(BACKENDS)}")
    sys = mjcf.loads(ant_xml(variant))
    if backend in ("spring", "positional"):
        sys = sys.tree_replace({"opt.timestep": 0.005})
    if backend == "mjx":
        sys = sys.tree_replace(
            {
                "opt.solver": mujoco.mjtSolver.mjSOL_NEWTON,
                "opt.disableflags": mujoco.mjtDisableBit.mjDSBL_EULERDAMP,
                "opt.iterations": 1,
                "opt.ls_iterations": 4,
            }
        )
    if backend == "positional":
        sys = sys.replace(
            actuator=sys.actuator.replace(gear=200 * jnp.ones_like(sys.actuator.gear))
        )
    return sys


def stack_systems(systems: Sequence[Any]) -> Any:
    """Stack the array leaves of same-shaped ``System``s under the first one's treedef.

    ``jax.tree.map(jnp.stack, ...)`` refuses, because each System's static metadata (its own
    ``MjModel``, a hash-wrapped ``geom_rbound_hfield``) differs (spec 3.5).
    """
    treedef = jax.tree_util.tree_structure(systems[0])
    leaves = [jax.tree.leaves(s) for s in systems]
    if any(len(ls) != len(leaves[0]) for ls in leaves):
        raise ValueError("systems differ in structure; variants must share counts")
    stacked = [
        jnp.stack([jnp.asarray(x) for x in xs]) for xs in zip(*leaves, strict=True)
    ]
    return jax.tree_util.tree_unflatten(treedef, stacked)


class AntPhysics(NamedTuple):
    """The ant with ``sys`` as an argument, for one example.

    - ``reset(sys, key) -> State``; ``step(sys, state, action) -> State`` (brax ``State``:
      ``obs`` (27,), ``pipeline_state.x.pos[0]`` the torso position).
    - ``systems``: the requested variants stacked (leading axis = variant), in order.
    """

    reset: Callable[[Any, jax.Array], Any]
    step: Callable[[Any, Any, jax.Array], Any]
    systems: Any
    variants: tuple[str, ...]
    dt: float
    obs_size: int
    action_size: int


def variant_system(physics: AntPhysics, index: jax.Array) -> Any:
    """The Brax system of variant ``index`` (traced or not) from ``physics.systems``."""
    return jax.tree.map(lambda leaf: leaf[index], physics.systems)


def forward_displacement(state: Any, new_state: Any) -> jax.Array:
    """How far the torso moved along +x in one step (metres): the papers' per-step fitness."""
    return new_state.pipeline_state.x.pos[0, 0] - state.pipeline_state.x.pos[0, 0]


def n_frames_for(backend: str, control_dt: float) -> int:
    """Physics sub-steps per control step: Brax's ant timestep is 0.005 s on spring and
    positional, 0.01 s on mjx and generalized."""
    timestep = 0.005 if backend in ("spring", "positional") else 0.01
    n = round(control_dt / timestep)
    if n < 1 or abs(n * timestep - control_dt) > 1e-9:
        raise ValueError(
            f"control_dt {control_dt} is not a whole multiple of the {backend} "
            f"timestep {timestep}"
        )
    return n


@functools.lru_cache(maxsize=8)
def make_ant(
    variants: tuple[str, ...] = ("default",),
    backend: str = "mjx",
    control_dt: float = 0.02,
    reset_noise_scale: float = 0.1,
) -> AntPhysics:
    """Build the Brax ant (``terminate_when_unhealthy=False``) and the stacked variants.

    Args:
        variants: names from ``VARIANTS``; ``systems`` is stacked in this order.
        backend: a Brax pipeline; mjx (default, maintained) or spring (fast, for tests).
        control_dt: seconds per control step; n_frames is derived from the backend timestep.
        reset_noise_scale: Brax's reset noise (q + U[-s, s], qd = s N(0, 1)).
    """
    from brax import envs

    variants = check_variants(variants)
    n_frames = n_frames_for(backend, control_dt)
    env = envs.get_environment(
        "ant",
        backend=backend,
        n_frames=n_frames,
        terminate_when_unhealthy=False,
        reset_noise_scale=reset_noise_scale,
    )
    # cached: built eagerly even when first reached inside a trace (no leaked tracers)
    with jax.ensure_compile_time_eval():
        systems = stack_systems([ant_system(v, backend) for v in variants])

    def with_sys(sys, fn, *args):
        # brax broadcasts implicitly; hebbjax tests trace with rank promotion "raise"
        old, env.sys = env.sys, sys
        try:
            with jax.numpy_rank_promotion("allow"):
                return fn(*args)
        finally:
            env.sys = old

    def reset(sys, key):
        return with_sys(sys, env.reset, key)

    def step(sys, state, action):
        return with_sys(sys, env.step, state, action)

    return AntPhysics(
        reset,
        step,
        systems,
        variants,
        float(n_frames * (0.005 if backend in ("spring", "positional") else 0.01)),
        int(env.observation_size),
        int(env.action_size),
    )

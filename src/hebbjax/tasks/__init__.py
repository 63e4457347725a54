"""Meta-learning tasks and their registry (maze tasks: Wang et al. 2022, spec section 2).

``TASKS`` maps CLI names to task factories; ``make_task(name, **overrides)`` builds one.
Every gymnax environment is a task too, under ``gymnax:<env id>`` (``tasks/gymnax_task.py``).
"""

from __future__ import annotations

from functools import partial

from hebbjax.options import check_options
from hebbjax.registry import Registry
from hebbjax.tasks.ant import ant_task
from hebbjax.tasks.base import Task, TaskSet, TaskWords
from hebbjax.tasks.car import car_task
from hebbjax.tasks.gymnax_task import gymnax_env_ids, gymnax_task
from hebbjax.tasks.lifetime import (
    Episodes,
    LifetimeParts,
    LifetimeResult,
    Probe,
    episodic_lifetime,
    lifetime_parts,
)
from hebbjax.tasks.maze import maze_task
from hebbjax.tasks.seqpred import seqpred_task
from hebbjax.tasks.wrnav import wrnav_task

TASKS: Registry = Registry("task")
TASKS.register("maze9", partial(maze_task, size=9, crowd=0.30, name="maze9"))
TASKS.register("maze15", partial(maze_task, size=15, crowd=0.35, name="maze15"))
TASKS.register("maze21", partial(maze_task, size=21, crowd=0.35, name="maze21"))
TASKS.register(
    "maze15-crowded", partial(maze_task, size=15, crowd=0.45, name="maze15-crowded")
)
TASKS.register(
    "maze15-spacious", partial(maze_task, size=15, crowd=0.15, name="maze15-spacious")
)
TASKS.register("maze", partial(maze_task, size=15, crowd=0.35, name="maze"))
# Brax ant, Najarro & Risi 2020 / Palm et al. 2021 protocols (hebbian-ant-brax spec 1.6, 2.6)
TASKS.register("ant", partial(ant_task, protocol="default", name="ant"))
TASKS.register("ant-damage", partial(ant_task, protocol="najarro", name="ant-damage"))
TASKS.register("ant-palm", partial(ant_task, protocol="palm", name="ant-palm"))
# CarRacing from pixels, Najarro & Risi 2020 / Palm et al. 2021 (paper 004 Table 2)
TASKS.register("car", partial(car_task, protocol="najarro", name="car"))
TASKS.register("car-palm", partial(car_task, protocol="palm", name="car-palm"))
# EPRNN paper, Table 2 (l, K, N) and Table 3 (signal noise); spec 4.1-4.2
for _l, _k, _n in ((1, 10, 20), (1, 25, 50), (3, 10, 20), (3, 25, 50)):
    _name = f"seqpred-l{_l}-k{_k}-n{_n}"
    TASKS.register(
        _name, partial(seqpred_task, dim=_l, k_train=_k, n_test=_n, name=_name)
    )
for _noise in ("0.01", "0.05", "0.2"):
    _name = f"wrnav-noise{_noise}"
    TASKS.register(_name, partial(wrnav_task, noise_std=float(_noise), name=_name))
TASKS.register_family("gymnax:", gymnax_task, gymnax_env_ids)


def make_task(name: str, **overrides) -> Task:
    """The registered task ``name``, with factory keyword overrides (checked: an unknown
    option or a wrong value is a ``ConfigError`` naming the valid options)."""
    factory = TASKS.get(name)
    check_options(factory, overrides, "task option", ("name",))
    return factory(**overrides)


def task_summary(names: list[str] | None = None) -> list[dict]:
    """One row per registered task: name, input/output sizes, rollouts and its settings."""
    rows = []
    for name in TASKS.names() if names is None else names:
        task = make_task(name)
        settings = {
            k: v
            for k, v in task.settings.items()
            if isinstance(v, int | float | str | bool)
        }
        row = dict(name=name, n_in=task.n_in, n_out=task.n_out)
        row |= dict(n_rollouts=task.n_rollouts, sets=list(task.sets))
        rows.append(row | settings)
    return rows


__all__ = [
    "TASKS",
    "Episodes",
    "LifetimeParts",
    "LifetimeResult",
    "Probe",
    "Task",
    "TaskSet",
    "TaskWords",
    "car_task",
    "episodic_lifetime",
    "lifetime_parts",
    "gymnax_task",
    "make_task",
    "maze_task",
    "task_summary",
]

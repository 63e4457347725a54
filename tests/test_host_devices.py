"""Host devices of the CLI: one per core, and collectives that wait for a slow device.

XLA:CPU aborts a process whose devices reach an all-reduce more than 40 s apart; on a loaded
machine a slow device is not a stuck one, so the CLI raises the limit
(``collective_timeout_flag``). The subprocess runs a ``shard_map`` in which device 0 works
longer than device 1 before a ``psum``.
"""

import os
import subprocess
import sys
import textwrap

import pytest

from hebbjax.cli.common import COLLECTIVE_TIMEOUT_S, collective_timeout_flag

IMBALANCED = textwrap.dedent(
    """
    import sys
    from hebbjax.cli import use_all_cpu_cores
    use_all_cpu_cores()
    import jax, jax.numpy as jnp
    from jax.sharding import Mesh, PartitionSpec as P

    mesh = Mesh(jax.devices(), ("d",))

    def body(x):
        n = jnp.where(jax.lax.axis_index("d") == 0, int(sys.argv[1]), 1)
        step = lambda c: (c[0] + 1, jnp.sin(c[1]) @ jnp.cos(c[1].T) * 1e-3)
        _, y = jax.lax.while_loop(lambda c: c[0] < n, step, (0, x[0]))
        return jax.lax.psum(y.sum(), "d")[None]

    f = jax.jit(jax.shard_map(body, mesh=mesh, in_specs=P("d"), out_specs=P("d")))
    print(len(jax.devices()), float(f(jnp.ones((2, 256, 256)))[0]))
    """
)


def _run(iterations: int, xla_flags: str | None) -> subprocess.CompletedProcess:
    env = dict(os.environ, HEBBJAX_CPU_DEVICES="2")
    env.pop("XLA_FLAGS", None)
    if xla_flags:
        env["XLA_FLAGS"] = xla_flags
    return subprocess.run(
        [sys.executable, "-c", IMBALANCED, str(iterations)],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )


def test_timeout_flag_is_added_once():
    flag = collective_timeout_flag("")
    assert flag == (
        f" --xla_cpu_collective_call_terminate_timeout_seconds={COLLECTIVE_TIMEOUT_S}"
    )
    assert collective_timeout_flag(flag) == ""  # the user's own setting is kept


def test_xla_accepts_the_flags_of_the_cli():
    done = _run(1, None)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split()[0] == "2"


@pytest.mark.slow
def test_a_short_limit_aborts_an_imbalanced_all_reduce():
    """The failure the raised limit prevents (a 2 s limit stands in for XLA's 40 s; XLA
    warns after 20 s first, so this takes about 25 s)."""
    flags = (
        "--xla_force_host_platform_device_count=2 "
        "--xla_cpu_collective_call_terminate_timeout_seconds=2"
    )
    done = _run(60_000, flags)
    assert done.returncode != 0
    assert "Termination timeout" in done.stderr


@pytest.mark.slow
def test_the_cli_waits_for_a_device_45_seconds_behind():
    done = _run(300_000, None)
    assert done.returncode == 0, done.stderr[-2000:]

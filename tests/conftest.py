"""Test configuration: strict JAX numerics, two forced host devices, shared fixtures.

Two CPU devices make every sharded code path run in the default suite; they must be requested
before JAX initialises its backend.
"""

import os

#: XLA:CPU's LLVM backend at -O0 for the suite, in this process and in the processes the
#: tests start (``HEBBJAX_TEST_XLA_FLAGS``): compiling is most of a cold suite's time, and
#: -O0 compiles faster at the price of slower lifetimes (four of the heaviest files 363 s
#: -> 279 s from a cold cache, one after the other on this 2-core machine, 2026-12-07). A
#: program's results agree with -O2's to float32 rounding (the released genome's
#: validation returns bit for bit; a 12-generation run's mean genome within 3e-7), and
#: every equality a test asserts is between programs compiled alike.
#: ``HEBBJAX_TEST_XLA_OPT=default`` runs the suite at XLA's own level, as users run.
TEST_XLA_FLAGS = (
    ""
    if os.environ.get("HEBBJAX_TEST_XLA_OPT") == "default"
    else "--xla_backend_optimization_level=0"
)
os.environ["HEBBJAX_TEST_XLA_FLAGS"] = TEST_XLA_FLAGS
os.environ.setdefault(
    "XLA_FLAGS", f"--xla_force_host_platform_device_count=2 {TEST_XLA_FLAGS}".strip()
)

import jax  # noqa: E402
import pytest  # noqa: E402

jax.config.update("jax_numpy_rank_promotion", "raise")

# One persistent compilation cache for the whole run, the CLI's own (``$HEBBJAX_CACHE/jax``,
# every program kept): the test files build the same computations from different closures
# (and the CLI tests launch processes), which the cache keys on their HLO and compiles
# once. HEBBJAX_TEST_COMPILE_CACHE=0 turns it off.
if os.environ.get("HEBBJAX_TEST_COMPILE_CACHE", "1") != "0":
    from hebbjax.cli.common import enable_compile_cache

    _root = os.path.abspath(
        os.path.join(os.path.dirname(__file__), "..", ".pytest_cache")
    )
    os.environ.setdefault("HEBBJAX_CACHE", _root)  # inherited by the CLI processes
    enable_compile_cache()

from hebbjax.data import data_dir  # noqa: E402

FIXTURES = data_dir()  # the paper's released files, shipped as package data


@pytest.fixture(scope="session")
def fixtures_dir():
    return FIXTURES


@pytest.fixture
def sphere_search():
    """``run(es, params, mean, generations) -> (start, end, step)``: an evosax-style
    strategy minimising the sphere from ``mean``; the sphere at the start and at the final
    mean, and the jitted generation (its cache counts compilations)."""
    import jax.numpy as jnp

    def sphere(x):
        return sum(jnp.sum(v**2) for v in jax.tree.leaves(x))

    def run(es, params, mean, generations):
        @jax.jit
        def generation(state, key):
            k_ask, k_tell = jax.random.split(key)
            x, state = es.ask(k_ask, state, params)
            state, _ = es.tell(k_tell, x, jax.vmap(sphere)(x), state, params)
            return state

        state = es.init(jax.random.key(0), mean, params)
        for i in range(generations):
            state = generation(state, jax.random.key(i))
        return float(sphere(mean)), float(sphere(es.get_mean(state))), generation

    return run

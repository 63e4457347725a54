"""Test configuration: strict JAX numerics, two forced host devices, shared fixtures.

Two CPU devices make every sharded code path run in the default suite; they must be requested
before JAX initialises its backend.
"""

import os

os.environ.setdefault("XLA_FLAGS", "--xla_force_host_platform_device_count=2")

import jax  # noqa: E402
import pytest  # noqa: E402

jax.config.update("jax_numpy_rank_promotion", "raise")

from hebbjax.data import data_dir  # noqa: E402

FIXTURES = data_dir()  # the paper's released files, shipped as package data


@pytest.fixture(scope="session")
def fixtures_dir():
    return FIXTURES

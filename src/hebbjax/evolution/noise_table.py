"""The shared noise table of OpenAI-ES (Salimans et al. 2017, "Evolution Strategies as a
Scalable Alternative to Reinforcement Learning", Sec. 2.1 and 3.1).

A strategy that perturbs a D-gene mean with P x D unit normals every generation spends most
of its ask + tell drawing them once D is in the tens of thousands (the EPRNN genomes:
37,317 genes, P = 398). The table trades that draw for a copy: ``size`` normals are drawn
once from a fixed key (``NOISE_TABLE_SEED``), and each offspring's z is the window
``table[o : o + D]`` at an offset ``o`` drawn uniformly per offspring (one integer instead
of D normals). Windows at different offsets hold different numbers at every coordinate, so
each z is standard normal and two offspring's z are uncorrelated; the table is reused across
generations (2^24 normals: 64 MB, 449 disjoint windows of 37,317). Overlapping windows are
shifted copies of each other (at P/2 = 199 and D = 37,317 about 88 pairs of offspring
overlap in a generation): uncorrelated coordinate by coordinate, as in Salimans et al.'s
design. It is threefry, so the same on every backend; it is another random stream than a
strategy's fresh draws.

``noise="threefry"`` (every strategy's default) keeps the fresh draws; ``noise="table"`` is
offered by ``eprnn-es``, by ``gmm-es`` (one window per individual for its rules' noise, one
for its direct genes') and, through ``with_noise``, by the evosax presets whose ask is
``mean + std * z`` (``openai-es``, ``snes``, ``sep-cma-es``). The table is a constant of the
compiled generation (JAX embeds closed-over arrays): about 2-3 s more compile at 2^24.
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp

NOISE = ("threefry", "table")
#: the fixed key of the table (the table is part of the algorithm, not of the run)
NOISE_TABLE_SEED = 20170310
DEFAULT_SIZE = 1 << 24


def table_for(noise: str, size: int, num_dims: int, strategy: str) -> jax.Array | None:
    """The table a strategy reads (``shared_table(size)``), or ``None`` for
    ``"threefry"``; ``noise`` must be one of ``NOISE`` and a table larger than one genome
    (``size == num_dims`` would give every offspring the same z)."""
    if noise not in NOISE:
        raise ValueError(
            f"unknown noise {noise!r} for {strategy}; valid: {', '.join(NOISE)}"
        )
    if noise == "threefry":
        return None
    if size <= num_dims:
        raise ValueError(
            f"noise_table_size ({size}) must be larger than the genome's size ({num_dims})"
        )
    return shared_table(size)


@functools.lru_cache(maxsize=2)
def shared_table(size: int = DEFAULT_SIZE) -> jax.Array:
    """``size`` unit normals from ``NOISE_TABLE_SEED``, drawn once per process and size
    (a concrete array even when first asked for inside a trace)."""
    with jax.ensure_compile_time_eval():
        return jax.random.normal(jax.random.key(NOISE_TABLE_SEED), (size,))


def draw_offsets(key: jax.Array, n: int, size: int, num_dims: int) -> jax.Array:
    """``n`` window offsets, uniform in ``[0, size - num_dims]``."""
    return jax.random.randint(key, (n,), 0, size - num_dims + 1)


def windows(table: jax.Array, offsets: jax.Array, a: int, b: int) -> jax.Array:
    """Columns ``a:b`` of the windows at ``offsets``: ``table[o + a : o + b]`` per row."""
    window = lambda o: jax.lax.dynamic_slice(table, (o + a,), (b - a,))  # noqa: E731
    return jax.vmap(window)(offsets)


def table_normals(key: jax.Array, table: jax.Array, n: int, num_dims: int) -> jax.Array:
    """``n`` x ``num_dims`` unit normals read from ``table``."""
    offsets = draw_offsets(key, n, table.shape[0], num_dims)
    return windows(table, offsets, 0, num_dims)


# evosax asks of the form mean + std * z, with z read from the table (evosax 0.3 semantics:
# their tells recover z from the population, so only the ask changes)


def _open_es_ask(self, key, state, params):
    pairs = self.use_antithetic_sampling
    n = self.population_size // 2 if pairs else self.population_size
    z = table_normals(key, self.noise_table, n, self.num_dims)
    z = jnp.concatenate([z, -z]) if pairs else z
    return state.mean + state.std * z, state


def _snes_ask(self, key, state, params):
    z = table_normals(key, self.noise_table, self.population_size, self.num_dims)
    return state.mean + state.std * z, state


def _sep_cma_es_ask(self, key, state, params):
    from evosax.algorithms.distribution_based.sep_cma_es import eigen_decomposition

    C, D = eigen_decomposition(state.C)
    z = table_normals(key, self.noise_table, self.population_size, self.num_dims)
    return state.mean + state.std * (D * z), state.replace(C=C, D=D)


def _table_asks() -> dict[type, object]:
    from evosax.algorithms import SNES, Open_ES, Sep_CMA_ES

    return {Open_ES: _open_es_ask, SNES: _snes_ask, Sep_CMA_ES: _sep_cma_es_ask}


@functools.cache
def _table_class(cls: type) -> type:
    for base, ask in _table_asks().items():
        if issubclass(cls, base):
            return type(cls.__name__, (cls,), {"_ask": ask, "__doc__": cls.__doc__})
    raise ValueError(f"{cls.__name__} has no noise-table ask")


def with_noise(cls: type, noise: str, size: int, strategy: str, *args, **kwargs):
    """An instance of evosax ``cls`` (``Open_ES``, ``SNES``, ``Sep_CMA_ES`` or a subclass)
    whose ask reads its normals from ``shared_table(size)`` with ``noise="table"``; the
    plain ``cls`` with ``"threefry"``."""
    es = (_table_class(cls) if noise == "table" else cls)(*args, **kwargs)
    table = table_for(noise, size, es.num_dims, strategy)
    if table is not None:
        es.noise_table = table
    return es

"""Non-plastic feed-forward baselines of Table 1: DNN and Meta-DNN.

Wang et al. 2022, "decomposed plasticity", Table 1; spec 1.2 (``ModelFCBase2``):
z1 = tanh(W1 x + b1), z2 = tanh(W2 z1 + b2), out = W3 z2 + b3. The DNN sees only
the 9 observation values (n_in = 9); Meta-DNN the full 15-dim input. No memory.

Genome names: ``FC_1/W`` (h, n_in), ``FC_1/b``, ``FC_2/W`` (h, h), ``FC_2/b``,
``FC_3/W`` (n_out, h), ``FC_3/b``.
"""

from __future__ import annotations

import jax.numpy as jnp

from hebbjax.models.base import Model
from hebbjax.models.layers import dense, dense_shapes, normal_init, transpose_dense


def feedforward(
    hidden: int = 64,
    n_in: int = 15,
    n_out: int = 5,
    init_scale: float = 0.05,
    layout: str = "pre-major",
) -> Model:
    """Two tanh hidden layers and a linear output; memory is the empty tuple.

    Args:
        hidden, n_in, n_out: layer sizes.
        init_scale: std of the genome initialisation.
        layout: how a lifetime stores ``FC_1/W`` (h x n_in, its contiguous axis 9 or 15
            floats): "pre-major" (transposed; Meta-DNN lifetimes 1.5x faster, DNN 1.1x)
            or "post-major" (as the genome); ``layers.transpose_dense``.
    """
    shapes = {
        **dense_shapes("FC_1", hidden, n_in),
        **dense_shapes("FC_2", hidden, hidden),
        **dense_shapes("FC_3", n_out, hidden),
    }

    def init_memory(params, key=None):
        return ()

    def step(params, memory, x, plastic=True):
        z = jnp.tanh(dense(params, "FC_1", x))
        z = jnp.tanh(dense(params, "FC_2", z))
        return dense(params, "FC_3", z), memory

    prepare = transpose_dense(("FC_1",), layout)
    return Model(
        normal_init(shapes, init_scale), init_memory, step, n_in, n_out, 0, prepare
    )


def dnn(
    hidden: int = 64, n_in: int = 15, n_out: int = 5, n_obs: int | None = None, **kw
) -> Model:
    """DNN: feed-forward net on the 9 observation values only.

    ``n_in`` is the task's input size; the network reads only its first ``n_obs`` entries
    (default min(9, n_in): the maze input starts with the 3x3 view), so
    ``Model.n_in == n_obs`` and the task feeds it that prefix.
    """
    n_obs = min(9, n_in) if n_obs is None else n_obs
    if not 0 < n_obs <= n_in:
        raise ValueError(f"the DNN reads n_obs={n_obs} of n_in={n_in} inputs")
    return feedforward(hidden, n_obs, n_out, **kw)


def meta_dnn(hidden: int = 64, n_in: int = 15, n_out: int = 5, **kw) -> Model:
    """Meta-DNN: feed-forward net on the full input (obs, previous action, reward)."""
    return feedforward(hidden, n_in, n_out, **kw)

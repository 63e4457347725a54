"""Shared building blocks of the Table-1 models (Wang et al. 2022, spec 1.1).

Genome tensors are named as in the reference code (layer prefix + "/" + tensor),
so that ``sorted(params)`` is the reference flat layout. Every tensor, biases
included, is drawn i.i.d. N(0, init_scale^2) (spec 1.1, init_scale = 0.05).
"""

from __future__ import annotations

from collections.abc import Mapping

import jax
import jax.numpy as jnp

from hebbjax.rules.base import PlasticityRule

Shapes = dict[str, tuple[int, ...]]


def dense_shapes(name: str, n_out: int, n_in: int) -> Shapes:
    """Shapes of an FC layer ``name``: W (n_out, n_in) and b (n_out,)."""
    return {f"{name}/W": (n_out, n_in), f"{name}/b": (n_out,)}


def rule_shapes(prefix: str, rule: PlasticityRule) -> Shapes:
    """A rule's genome tensors under the reference prefix (e.g. ``PRNN_1/hebbian_h``)."""
    return {prefix + rule.ref_sep + k: v for k, v in rule.shapes.items()}


def rule_params(params: Mapping[str, jax.Array], prefix: str, rule: PlasticityRule):
    """The sub-dict a rule expects (local names), read from the model's genome."""
    return {k: params[prefix + rule.ref_sep + k] for k in rule.shapes}


def dense(params: Mapping[str, jax.Array], name: str, x: jax.Array) -> jax.Array:
    return params[f"{name}/W"] @ x + params[f"{name}/b"]


def scalar_sigmoid(params: Mapping[str, jax.Array], name: str, x: jax.Array):
    """sigma(w.x + c) for a (1, n) FC layer, returned as a scalar."""
    return jax.nn.sigmoid(dense(params, name, x))[0]


def normal_init(shapes: Shapes, init_scale: float = 0.05):
    """``init_params(key)`` drawing every tensor from N(0, init_scale^2), float32."""
    names = sorted(shapes)

    def init_params(key: jax.Array) -> dict[str, jax.Array]:
        keys = jax.random.split(key, len(names))
        return {
            name: init_scale * jax.random.normal(k, shapes[name], jnp.float32)
            for name, k in zip(names, keys, strict=True)
        }

    return init_params

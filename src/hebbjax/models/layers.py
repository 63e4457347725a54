"""Shared building blocks of the Table-1 models (Wang et al. 2022, spec 1.1).

Genome tensors are named as in the reference code (layer prefix + "/" + tensor),
so that ``sorted(params)`` is the reference flat layout. Every tensor, biases
included, is drawn i.i.d. N(0, init_scale^2) (spec 1.1, init_scale = 0.05).
"""

from __future__ import annotations

from collections.abc import Mapping

import jax
import jax.numpy as jnp
import numpy as np

from hebbjax.models.base import same_params
from hebbjax.rules.base import PlasticityRule

Shapes = dict[str, tuple[int, ...]]


def dense_shapes(name: str, n_out: int, n_in: int) -> Shapes:
    """Shapes of an FC layer ``name``: W (n_out, n_in) and b (n_out,)."""
    return {f"{name}/W": (n_out, n_in), f"{name}/b": (n_out,)}


def rule_shapes(prefix: str, rule: PlasticityRule) -> Shapes:
    """A rule's genome tensors under the reference prefix (e.g. ``PRNN_1/hebbian_h``)."""
    return {prefix + rule.ref_sep + k: v for k, v in rule.shapes.items()}


def rule_params(params: Mapping[str, jax.Array], prefix: str, rule: PlasticityRule):
    """The sub-dict a rule expects (local names), read from the model's genome, or from
    the genome as ``prepare_rules`` left it (then the names are the rule's ``prepare``'s)."""
    head = prefix + rule.ref_sep
    if rule.prepare is None or all(head + k in params for k in rule.shapes):
        return {k: params[head + k] for k in rule.shapes}
    return {
        k[len(head) :]: v
        for k, v in params.items()
        if k.startswith(head) and "/" not in k[len(head) :]
    }


def prepare_rules(rules: Mapping[str, PlasticityRule]):
    """A ``Model.prepare`` applying each rule's ``prepare`` to its tensors once per
    lifetime (``rules``: prefix -> rule); ``same_params`` when no rule has one."""
    rules = {p: r for p, r in rules.items() if r.prepare is not None}
    if not rules:
        return same_params

    def prepare(params):
        out = dict(params)
        for prefix, rule in rules.items():
            head = prefix + rule.ref_sep
            local = rule_params(out, prefix, rule)
            for k in local:
                del out[head + k]
            out.update({head + k: v for k, v in rule.prepare(local).items()})
        return out

    return prepare


#: suffix of an FC layer's weight stored transposed by ``transpose_dense``
TRANSPOSED = "/W^T"
DENSE_LAYOUTS = ("pre-major", "post-major")


def dense(params: Mapping[str, jax.Array], name: str, x: jax.Array) -> jax.Array:
    """W x + b of FC layer ``name``, from W (n_out, n_in) or its prepared W^T."""
    if name + TRANSPOSED in params:
        return x @ params[name + TRANSPOSED] + params[f"{name}/b"]
    return params[f"{name}/W"] @ x + params[f"{name}/b"]


def transpose_dense(names: tuple[str, ...], layout: str = "pre-major"):
    """A ``Model.prepare`` storing the W of each FC layer in ``names`` pre-synaptic-major.

    Under ``vmap`` over lifetimes with their own genomes, W (n_out, n_in) of Meta-LSTM is
    (batch, 256, 79): its contiguous axis, 79 floats, is summed by the matvec; stored as
    W^T (batch, 79, 256) the matvec accumulates rows 256 floats long, which XLA:CPU
    vectorises about 1.6x faster (64 x 79 of Meta-RNN: 1.2-1.6x). The transpose runs once
    per lifetime; the genome itself (names, shapes, N_Gene) is unchanged. The sum runs in
    another order, so outputs agree with the post-major step to float32 rounding, not bit
    for bit. ``layout="post-major"`` keeps W as it is (the identity).
    """
    if layout not in DENSE_LAYOUTS:
        raise ValueError(
            f"unknown layout {layout!r}; valid: {', '.join(DENSE_LAYOUTS)}"
        )

    if layout == "post-major":
        return same_params  # lifetimes skip the preparation altogether

    def prepare(params):
        out = dict(params)
        for name in names:
            out[name + TRANSPOSED] = jnp.swapaxes(out.pop(f"{name}/W"), -1, -2)
        return out

    return prepare


#: how ``lstm_cell`` computes its gates
LSTM_GATES = ("logistic", "tanh")


def check_lstm_gates(gates: str) -> None:
    """A ``ValueError`` naming the valid forms when ``gates`` is not one of them."""
    if gates not in LSTM_GATES:
        raise ValueError(f"unknown gates {gates!r}; valid: {', '.join(LSTM_GATES)}")


def lstm_cell(z: jax.Array, c: jax.Array, order: str, gates: str = "logistic"):
    """One LSTM cell from its pre-activations: ``(h, c)`` new.

    ``z`` (4h,) holds the chunks named by ``order`` (e.g. "gifo": candidate g, input
    gate i, forget gate f, output gate o); c_t = sigma(f) c + sigma(i) tanh(g),
    h_t = sigma(o) tanh(c_t). ``gates="logistic"`` evaluates each chunk on its own
    (``jax.nn.sigmoid``); ``"tanh"`` evaluates the four in one ``tanh`` over all 4h,
    sigma(x) = (1 + tanh(x / 2)) / 2: XLA:CPU runs the gates as one vectorised pass
    instead of five (Meta-LSTM's blocked evaluation 1.00-1.10x, its pooled generation
    unchanged, where the weights bound the step; issue 19); equal to the logistic form
    to float32 rounding, not bit for bit (the candidate g is the same tanh).
    """
    check_lstm_gates(gates)
    if gates == "logistic":
        part = dict(zip(order, jnp.split(z, 4), strict=True))
        sigmoid = jax.nn.sigmoid
        c = sigmoid(part["f"]) * c + sigmoid(part["i"]) * jnp.tanh(part["g"])
        return sigmoid(part["o"]) * jnp.tanh(c), c
    is_g = np.repeat([name == "g" for name in order], z.shape[-1] // 4)
    scale = np.where(is_g, 1.0, 0.5).astype(np.float32)
    shift = np.where(is_g, 0.0, 0.5).astype(np.float32)
    part = dict(
        zip(order, jnp.split(jnp.tanh(z * scale) * scale + shift, 4), strict=True)
    )
    c = part["f"] * c + part["i"] * part["g"]
    return part["o"] * jnp.tanh(c), c


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

"""FLOP and bytes of cache traffic per agent-step of the maze models, from their own shapes.

The work of one step of one lifetime (one ``model.step``; the maze env and the action sampling
are not counted, so a measured rate of the full inner loop is read against a model-only
ceiling). Every size is read from the model: the genome's tensor shapes
(``jax.eval_shape(model.init_params)``) and the lifetime memory's
(``jax.eval_shape(model.init_memory)``); nothing is assumed about h = 64, n = 15, o = 5.

FLOP (a multiply, an add or a transcendental counts 1; a select counts 0). For a dense layer
W (r x c) with bias, ``2rc + r``. For a plastic matrix W (r x c: post x pre), Wang et al. 2022
"decomposed plasticity" Eq. 3 (ABCD, type 1) and Eq. 5-7 (decomposed, type 3):

- matvec W v: ``2rc`` (direct forms);
- decomposed, direct update (``rules/decomposed.py``): u = 4 scaled post vectors (6r + 1),
  v = 2 scaled pre vectors (2c), H = sum of 4 outer products and W + H: ``8rc + 6r + 2c + 1``;
- decomposed, factored: update M += (f q) p^T, Q += f q, P += f p, m += f:
  ``2rc + 2r + 2c + 2``; W v from (M, Q, P, m): ``2rc + 9r + 8c``;
- ABCD (PRNN, ``rules/abcd.py``): A (q p^T) + B q + C p + D (7rc), times 0.05 mu (rc + 1),
  W + delta (rc): ``9rc + 1``; matvec ``2rc``.

Per family, on top of the layers above (h hidden units):

- PRNN / DecPRNN (PostDN) (Eq. 1-2): h = tanh(W_h h + W_x x + b): 2h adds + h tanh;
  [mu_h, mu_x] = sigmoid(FC_M h): 2; output FC_1;
- DecPDNN (PostDN): h1 = tanh(W1 x + b1), h2 = tanh(W2 h1 + b2): 4h; mu1, mu2: 2;
- Meta-RNN: s = tanh(W [x; s] + b): h;
- Meta-LSTM: 3 sigmoids, 2 tanh, 3 products, 1 sum per unit: 9h.

Bytes (the compulsory traffic of the algorithm as written, each operand touched once per use):
the genome read once (``4 N_Gene``; every genome tensor is used every step, and each lifetime
of a population has its own), the lifetime memory read and written once (``8 N_mem_elements``),
each plastic matrix read once more by its matvec (``4 sum rc``), the input read and the output
written (``4 (n_in + n_out)``). For DecPRNN(PostDN), h = 64, n = 15: 12 bytes for each of the
5,056 plastic weights, about 66 KB per step (issue 19). A kernel that fused the W_h update
with the next step's matvec (both need W_h(t+1) h_t) would need 8 instead of 12.

``working_set_bytes`` (genome + memory of one lifetime) is what stays live between steps; a
block of lifetimes evaluated together needs block x that in cache (``benchmarks/roofline.py``).
"""

from __future__ import annotations

from typing import Any, NamedTuple

#: the maze models with a cost model: name -> family
FAMILIES = {
    "decprnn-postdn": "prnn",
    "prnn-postdn": "prnn",
    "decpdnn-postdn": "pdnn",
    "meta-lstm": "lstm",
    "meta-rnn": "rnn",
}
#: (model, plastic form) pairs measured against their roofline
VARIANTS = (
    ("decprnn-postdn", "direct"),
    ("decprnn-postdn", "factored"),
    ("prnn-postdn", "direct"),
    ("decpdnn-postdn", "direct"),
    ("decpdnn-postdn", "factored"),
    ("meta-lstm", "direct"),
    ("meta-rnn", "direct"),
)
F32 = 4


class StepCost(NamedTuple):
    """Per agent-step: ``flop``, ``bytes``; per lifetime: ``working_set_bytes``."""

    flop: int
    bytes: int
    working_set_bytes: int
    n_gene: int
    n_mem_elements: int
    plastic_weights: int
    flop_terms: dict[str, int]


def dense_flop(shape: tuple[int, int]) -> int:
    """W (r x c) v + b."""
    r, c = shape
    return 2 * r * c + r


def plastic_flop(genome: dict, prefix: str, factored: bool) -> tuple[int, int, int]:
    """(matvec FLOP, update FLOP, r * c) of the plastic matrix whose rule tensors start
    with ``prefix`` (decomposed if ``prefix//W_Ax`` is in the genome, else ABCD)."""
    if f"{prefix}//W_Ax" in genome:
        (c,), (r,) = genome[f"{prefix}//W_Ax"], genome[f"{prefix}//W_Ay"]
        if factored:
            return 2 * r * c + 9 * r + 8 * c, 2 * r * c + 2 * r + 2 * c + 2, r * c
        return 2 * r * c, 8 * r * c + 6 * r + 2 * c + 1, r * c
    r, c = genome[f"{prefix}/A"]
    return 2 * r * c, 9 * r * c + 1, r * c


def _family_terms(family: str, genome: dict, factored: bool) -> dict[str, int]:
    """FLOP by part of one step (see the module docstring)."""
    terms: dict[str, int] = {}
    dense = [k[: -len("/W")] for k in genome if k.endswith("/W")]
    for name in dense:
        terms[f"dense {name}"] = dense_flop(genome[f"{name}/W"])
    prefixes = {
        "prnn": ("PRNN_1/hebbian_h", "PRNN_1/hebbian_x"),
        "pdnn": ("PFC_1/hebbian", "PFC_2/hebbian"),
    }.get(family, ())
    for prefix in prefixes:
        matvec, update, _ = plastic_flop(genome, prefix, factored)
        terms[f"matvec {prefix}"] = matvec
        terms[f"update {prefix}"] = update
    if family == "prnn":
        (h,) = genome["PRNN_1//b"]
        terms["activation"] = 3 * h + 2
    elif family == "pdnn":
        (h,) = genome["PFC_1/fc/b"]
        terms["activation"] = 4 * h + 2
    elif family == "rnn":
        terms["activation"] = genome["RNN_1/fc/b"][0]
    elif family == "lstm":
        # the cell's 9 h, and its gates in one tanh (the default gates="tanh": the 4 h
        # pre-activations scaled, the tanh scaled and shifted, 3 x 4 h)
        h = genome["LSTM_1/fc/b"][0] // 4
        terms["activation"] = 9 * h + 3 * 4 * h
    else:
        raise ValueError(f"unknown family {family!r}")
    return terms


def _shapes(tree: Any) -> list[tuple[int, ...]]:
    import jax

    return [tuple(leaf.shape) for leaf in jax.tree.leaves(tree)]


def step_cost(name: str, model: Any) -> StepCost:
    """The cost model of the built maze model ``name`` (a key of ``FAMILIES``).

    Raises:
        ValueError: a model without a cost model (listing those with one).
    """
    import math

    import jax

    from hebbjax.rules.decomposed import FactoredState

    if name not in FAMILIES:
        raise ValueError(f"no cost model for {name!r}; valid: {', '.join(FAMILIES)}")
    params = jax.eval_shape(model.init_params, jax.random.key(0))
    memory = jax.eval_shape(model.init_memory, params)
    genome = {k: tuple(v.shape) for k, v in params.items()}
    factored = any(
        isinstance(x, FactoredState)
        for x in jax.tree.leaves(memory, is_leaf=lambda x: isinstance(x, FactoredState))
    )
    terms = _family_terms(FAMILIES[name], genome, factored)
    n_gene = sum(math.prod(s) for s in genome.values())
    n_mem = sum(math.prod(s) for s in _shapes(memory))
    plastic = sum(math.prod(s) for s in _shapes(memory) if len(s) == 2)
    traffic = F32 * (n_gene + 2 * n_mem + plastic + model.n_in + model.n_out)
    return StepCost(
        flop=sum(terms.values()),
        bytes=traffic,
        working_set_bytes=F32 * (n_gene + n_mem),
        n_gene=n_gene,
        n_mem_elements=n_mem,
        plastic_weights=plastic,
        flop_terms=terms,
    )


def variant_costs(variants=VARIANTS) -> dict[str, dict]:
    """``{"model/form": StepCost as a dict}`` for the default-size maze models."""
    from hebbjax.models import make_model

    out = {}
    for name, form in variants:
        kw = {} if form == "direct" else {"plastic_form": form}
        cost = step_cost(name, make_model(name, **kw))
        out[f"{name}/{form}"] = cost._asdict()
    return out

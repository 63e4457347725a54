"""Plasticity rules against independent plain-numpy statements of their formulas
(Wang et al. 2022 spec 1.3; Najarro & Risi 2020, hebbian-ant-brax spec 1.3)."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from hebbjax.rules import (
    RULES,
    abcd_lr_rule,
    abcd_rule,
    cluster_abcd_rule,
    decomposed_rule,
    default_assignment,
    eligibility_trace_rule,
    from_reference_layout,
    to_reference_layout,
)
from hebbjax.rules.base import apply_weight, plastic_weight

N_OUT, N_IN = 6, 5  # neither equals the rank 4


def _rand(rng, *shape, scale=1.0):
    return (scale * rng.standard_normal(shape)).astype(np.float32)


def _random_params(rule, rng):
    return {k: jnp.asarray(_rand(rng, *s)) for k, s in rule.shapes.items()}


def _vectors(rng):
    return _rand(rng, N_IN), _rand(rng, N_OUT), _rand(rng, N_OUT, N_IN)


def _np_abcd(A, B, C, D, p, q):
    one_p, one_q = np.ones_like(p), np.ones_like(q)
    return (
        A * np.outer(q, p)
        + B * np.outer(q, one_p)
        + C * np.outer(one_q, p)
        + D * np.outer(one_q, one_p)
    )


def _update(rule, params, w, p, q, mu=None, trace=None):
    state = rule.init(params)._replace(weight=jnp.asarray(w))
    if trace is not None:
        state = state._replace(trace=jnp.asarray(trace))
    return rule.update(params, state, jnp.asarray(p), jnp.asarray(q), mu)


@pytest.mark.parametrize("mu", [None, 0.7])
def test_abcd_rule_matches_numpy(mu):
    rng = np.random.default_rng(0)
    rule = abcd_rule(N_OUT, N_IN)
    params = _random_params(rule, rng)
    p, q, w = _vectors(rng)
    np_p = {k: np.asarray(v) for k, v in params.items()}
    h = 0.05 * _np_abcd(np_p["A"], np_p["B"], np_p["C"], np_p["D"], p, q)
    expected = w + (h if mu is None else mu * h)
    got = _update(rule, params, w, p, q, None if mu is None else jnp.float32(mu))
    np.testing.assert_allclose(got.weight, expected, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize(
    ("mu", "modulated_scale", "factor"),
    [(None, 0.20, 1.0), (0.7, 0.20, 0.20 * 0.7), (0.7, 1.0, 0.7)],
)
def test_decomposed_rank4_equals_explicit_outer_products(mu, modulated_scale, factor):
    rng = np.random.default_rng(1)
    rule = decomposed_rule(N_OUT, N_IN, modulated_scale=modulated_scale)
    params = _random_params(rule, rng)
    v = {k: np.asarray(x) for k, x in params.items()}
    mats = [np.outer(v[f"W_{t}y"], v[f"W_{t}x"]) for t in "ABCD"]
    p, q, w = _vectors(rng)
    expected = w + factor * _np_abcd(*mats, p, q)
    got = _update(rule, params, w, p, q, None if mu is None else jnp.float32(mu))
    np.testing.assert_allclose(got.weight, expected, rtol=1e-5, atol=1e-6)


def test_decomposed_update_is_one_pass_over_w():
    """No coefficient matrix and no temporary: the compiled update is one fused kernel
    that reads W and the vectors and writes W (a rank-4 matmul would add a temporary)."""
    rule = decomposed_rule(N_OUT, N_IN)
    params = {k: jnp.ones(s) for k, s in rule.shapes.items()}
    update = jax.jit(lambda prm, s, p, q: rule.update(prm, s, p, q, jnp.float32(0.5)))
    hlo = update.lower(params, rule.init(params), jnp.ones(N_IN), jnp.ones(N_OUT))
    entry = hlo.compile().as_text().split("ENTRY")[1]
    ops = [
        line.split("=")[1].split("(")[0] for line in entry.splitlines() if " = " in line
    ]
    kernels = [op for op in ops if "parameter" not in op and "bitcast" not in op]
    assert len(kernels) == 1 and "fusion" in kernels[0], kernels
    assert "dot(" not in entry


def test_eligibility_trace_matches_numpy_over_steps():
    rng = np.random.default_rng(2)
    rule = eligibility_trace_rule(N_OUT, N_IN, evolved_init=True)
    params = _random_params(rule, rng)
    params["\\eta"] = jnp.asarray([-9.3], jnp.float32)  # eta well inside (0.5, 1)
    params["Memory"] = jnp.asarray(_rand(rng, N_OUT, N_IN, scale=4.0))
    z = float(params["\\eta"][0]) + 10.0
    eta = 0.5 * z / (abs(z) + 1.0) + 0.5
    w, e = np.asarray(params["Memory"]), np.zeros((N_OUT, N_IN), np.float32)
    state = rule.init(params)
    np.testing.assert_array_equal(state.weight, w)
    np.testing.assert_array_equal(state.trace, 0.0)
    for t in range(4):
        p, q = _rand(rng, N_IN, scale=30.0), _rand(rng, N_OUT, scale=30.0)
        mu = None if t % 2 else 0.6
        e = eta * np.outer(q, p) + (1 - eta) * e
        w = np.clip(w + 0.001 * (1.0 if mu is None else mu) * e, -5, 5)
        state = rule.update(
            params,
            state,
            jnp.asarray(p),
            jnp.asarray(q),
            None if mu is None else jnp.float32(mu),
        )
        np.testing.assert_allclose(state.trace, e, rtol=1e-5, atol=1e-4)
        np.testing.assert_allclose(state.weight, w, rtol=1e-5, atol=1e-5)
    assert np.abs(w).max() == 5.0  # the clip was exercised


def test_eligibility_trace_scratch_starts_at_zero():
    rule = eligibility_trace_rule(N_OUT, N_IN)
    assert set(rule.shapes) == {"\\eta"}
    state = rule.init({"\\eta": jnp.zeros(1)})
    assert not np.any(state.weight) and not np.any(state.trace)


@pytest.mark.parametrize("mu", [None, 0.3])
def test_cluster_abcd_matches_numpy(mu):
    rng = np.random.default_rng(3)
    k = 5
    assignment = rng.integers(0, k, size=(N_OUT, N_IN))
    rule = cluster_abcd_rule(N_OUT, N_IN, k, assignment)
    params = _random_params(rule, rng)
    table = np.asarray(params["Cluster"])
    A, B, C, D = (table[assignment, i] for i in range(4))
    p, q, w = _vectors(rng)
    h = 0.05 * _np_abcd(A, B, C, D, p, q)
    expected = w + (h if mu is None else mu * h)
    got = _update(rule, params, w, p, q, None if mu is None else jnp.float32(mu))
    np.testing.assert_allclose(got.weight, expected, rtol=1e-5, atol=1e-6)


def test_cluster_abcd_rejects_bad_assignment():
    with pytest.raises(ValueError, match="in \\[0, 3\\)"):
        cluster_abcd_rule(2, 2, 3, np.full((2, 2), 3))
    with pytest.raises(ValueError, match="integer"):
        cluster_abcd_rule(2, 2, 3, np.zeros((2, 2), np.float32))
    with pytest.raises(ValueError, match="shape \\(2, 3\\)"):
        cluster_abcd_rule(2, 3, 3, np.zeros((2, 2), np.int32))
    assert default_assignment(3, 4, 5).max() == 4


def test_abcd_lr_matches_reference_loop_and_layout():
    rng = np.random.default_rng(4)
    ref = _rand(rng, N_IN * N_OUT * 5)  # the reference (n_in, n_out, 5) block
    o_i, o_j, w = _vectors(rng)  # o_i pre (input), o_j post (output)
    expected = w.copy()
    for i in range(N_IN):
        for j in range(N_OUT):
            a, b, c, eta, d = ref[5 * (i * N_OUT + j) : 5 * (i * N_OUT + j) + 5]
            expected[j, i] += eta * (a * o_i[i] * o_j[j] + b * o_i[i] + c * o_j[j] + d)
    coeffs = from_reference_layout(ref, N_OUT, N_IN)
    assert coeffs.shape == (N_OUT, N_IN, 5)
    np.testing.assert_array_equal(to_reference_layout(coeffs).ravel(), ref)
    rule = abcd_lr_rule(N_OUT, N_IN)
    got = _update(rule, {"coeffs": jnp.asarray(coeffs)}, w, o_i, o_j)
    np.testing.assert_allclose(got.weight, expected, rtol=1e-5, atol=1e-5)


RULE_CASES = {
    "abcd": lambda: abcd_rule(N_OUT, N_IN),
    "decomposed": lambda: decomposed_rule(N_OUT, N_IN),
    "eligibility-trace": lambda: eligibility_trace_rule(N_OUT, N_IN),
    "cluster-abcd": lambda: cluster_abcd_rule(N_OUT, N_IN, 3),
    "abcd-lr": lambda: abcd_lr_rule(N_OUT, N_IN),
}


@pytest.mark.parametrize("name", list(RULE_CASES))
def test_rule_init_zero_and_plastic_flag_freezes_state(name):
    assert name in RULES
    rule = RULE_CASES[name]()
    rng = np.random.default_rng(5)
    params = _random_params(rule, rng)
    state = rule.init(params)
    assert all(not np.any(leaf) for leaf in jax.tree.leaves(state))
    p, q = jnp.asarray(_rand(rng, N_IN)), jnp.asarray(_rand(rng, N_OUT))
    step = jax.jit(lambda s, flag: rule.update(params, s, p, q, jnp.float32(0.5), flag))
    moved = step(state, jnp.bool_(True))
    frozen = step(moved, jnp.bool_(False))
    assert np.any(moved.weight != state.weight)
    for a, b in zip(jax.tree.leaves(frozen), jax.tree.leaves(moved), strict=True):
        np.testing.assert_array_equal(a, b)
    assert frozen.weight.dtype == jnp.float32 and moved.weight.shape == (N_OUT, N_IN)


def test_unknown_rule_lists_valid_names():
    with pytest.raises(ValueError, match="valid rule names: abcd, decomposed"):
        RULES.get("hebb")


def test_factored_decomposed_form_equals_direct_form():
    """The rank-1 factored state gives the same W (and W v) as the direct rank-4 form."""
    rng = np.random.default_rng(5)
    direct = decomposed_rule(N_OUT, N_IN)
    factored = decomposed_rule(N_OUT, N_IN, form="factored")
    params = _random_params(direct, rng)
    s_direct, s_factored = direct.init(params), factored.init(params)
    for t in range(50):
        p, q, _ = (jnp.asarray(a) for a in _vectors(rng))
        mu = None if t % 7 == 0 else jnp.float32(rng.uniform())
        plastic = t % 11 != 5
        s_direct = direct.update(params, s_direct, p, q, mu, plastic)
        s_factored = factored.update(params, s_factored, p, q, mu, plastic)
    w = plastic_weight(factored, params, s_factored)
    np.testing.assert_allclose(w, s_direct.weight, rtol=1e-4, atol=1e-5)
    v = jnp.asarray(rng.standard_normal(N_IN), jnp.float32)
    np.testing.assert_allclose(
        apply_weight(factored, params, s_factored, v),
        apply_weight(direct, params, s_direct, v),
        rtol=1e-4,
        atol=1e-5,
    )
    frozen = factored.update(params, s_factored, p, q, jnp.float32(0.5), False)
    for a, b in zip(frozen, s_factored, strict=True):
        np.testing.assert_array_equal(a, b)
    with pytest.raises(ValueError, match="form"):
        decomposed_rule(N_OUT, N_IN, form="lowrank")


@pytest.mark.parametrize(
    "make",
    [
        lambda layout: abcd_rule(N_OUT, N_IN, layout=layout),
        lambda layout: decomposed_rule(N_OUT, N_IN, layout=layout),
        lambda layout: decomposed_rule(N_OUT, N_IN, form="factored", layout=layout),
    ],
    ids=["abcd", "decomposed", "decomposed-factored"],
)
def test_pre_major_storage_is_the_same_weight_transposed(make):
    """Storing W^T (rules/base.py, "pre-major") changes the memory order, not W: the
    same elements after several updates, the same W v to float32 summation order."""
    rng = np.random.default_rng(7)
    post_rule, pre_rule = make("post-major"), make("pre-major")
    params = _random_params(post_rule, rng)
    states = [post_rule.init(params), pre_rule.init(params)]
    assert jnp.shape(plastic_weight(pre_rule, params, states[1])) == (N_OUT, N_IN)
    for _ in range(4):
        pre, post, _ = _vectors(rng)
        mu = jnp.float32(rng.standard_normal())
        states = [
            rule.update(params, s, jnp.asarray(pre), jnp.asarray(post), mu)
            for rule, s in zip((post_rule, pre_rule), states, strict=True)
        ]
    w_post, w_pre = (
        plastic_weight(r, params, s)
        for r, s in zip((post_rule, pre_rule), states, strict=True)
    )
    np.testing.assert_array_equal(np.asarray(w_post), np.asarray(w_pre))
    v = jnp.asarray(_rand(rng, N_IN))
    np.testing.assert_allclose(
        apply_weight(post_rule, params, states[0], v),
        apply_weight(pre_rule, params, states[1], v),
        rtol=1e-5, atol=1e-5,
    )  # fmt: skip

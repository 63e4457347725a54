"""Tests of the reference diagonal CMA-ES (spec 3.1) against an independent numpy form."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from hebbjax.evolution.paper_cmaes import (
    SHAPING_PROBS,
    SHAPING_VALUES,
    PaperCMAES,
    paper_cmaes_constants,
    resume_state,
    sample_shaping_factors,
    segment_ids_from_solution,
)

DICT_SOLUTION = {"w": jnp.zeros((3, 4)), "b": jnp.zeros(5)}  # D = 17, 2 segments


def numpy_constants(d, k):
    w = np.log(k + 1) - np.log(np.arange(1, k + 1))
    w = w / w.sum()
    mu_eff = 1.0 / np.sum(w**2)
    chi = np.sqrt(d) * (1 - 1 / (4 * d) + 1 / (21 * d**2))
    c_sigma = (mu_eff + 2) / (d + mu_eff + 3)
    if mu_eff > d + 2:
        d_sigma = 1 + 2 * np.sqrt((mu_eff - d - 2) / (d + 1)) + c_sigma
    else:
        d_sigma = 1 + c_sigma
    c_c = 4 / (d + 4)
    return dict(
        w=w,
        mu_eff=mu_eff,
        chi=chi,
        c_sigma=c_sigma,
        d_sigma=d_sigma,
        c_c=c_c,
        l_m=np.sqrt(c_c * (2 - c_c) * mu_eff),
        s_m=np.sqrt(c_sigma * (2 - c_sigma) * mu_eff),
        p_thr=np.sqrt(2 * c_sigma) * (1.4 + 2 / (d + 1)) * chi,
    )


def numpy_evolve(x, scores, m, sigma, c, p_sigma, p_c, g, k, c_cov):
    """One `evolve` of spec 3.1, higher score is better, in float64.

    Returns the new (m, sigma, c, p_sigma, p_c) and the indicator h.
    """
    x, m, c = (np.asarray(a, np.float64) for a in (x, m, c))
    p_sigma, p_c = np.asarray(p_sigma, np.float64), np.asarray(p_c, np.float64)
    const = numpy_constants(m.size, k)
    g = g + 1
    keep = np.isfinite(scores)
    x, scores = x[keep], scores[keep]
    top = np.argsort(-scores, kind="stable")[:k]
    w = const["w"][: len(top)]
    w = w / w.sum()
    m_new = np.sum(w[:, None] * x[top], axis=0)
    delta = m_new - m
    s = np.sum(w[:, None] * (x[top] - m) ** 2, axis=0)
    cs, mu = const["c_sigma"], const["mu_eff"]
    p_sigma_new = (1 - cs) * p_sigma + const["s_m"] / sigma * delta / np.sqrt(c)
    norm = np.linalg.norm(p_sigma_new)
    sigma_new = sigma * np.exp(cs / const["d_sigma"] * (norm / const["chi"] - 1))
    h = float(norm < const["p_thr"] * np.sqrt(g + 1))
    p_c_new = (1 - const["c_c"]) * p_c + h * const["l_m"] / sigma * delta
    c_new = (1 - c_cov) * c + c_cov / mu * p_c**2 + c_cov * (1 - 1 / mu) * s / sigma**2
    return (
        m_new,
        np.clip(sigma_new, 1e-6, 1.0),
        np.clip(c_new, 1e-12, 1.0),
        p_sigma_new,
        p_c_new,
        h,
    )


def test_constants_match_reference_values():
    const = paper_cmaes_constants(1347, 180)
    # Spec 3.1 values, compared to the precision they are printed with.
    expected = dict(
        mu_eff="93.491",
        chi="36.6947",
        c_sigma="0.066153",
        d_sigma="1.066153",
        c_c="0.002961",
        l_m="0.7435",
        s_m="3.4584",
        p_thr="18.706",
    )
    for name, text in expected.items():
        half_unit = 0.5 * 10.0 ** -len(text.split(".")[1])
        assert getattr(const, name) == pytest.approx(float(text), abs=half_unit), name
    assert const.weights.shape == (180,)
    assert const.weights.sum() == pytest.approx(1.0)
    assert PaperCMAES(360, jnp.zeros(1347)).num_elites == 180


@pytest.mark.parametrize(("d", "k"), [(1347, 180), (2, 20), (17, 6)])
def test_constants_match_numpy_including_large_mu_eff_branch(d, k):
    const = paper_cmaes_constants(d, k)
    expected = numpy_constants(d, k)
    np.testing.assert_allclose(const.weights, expected.pop("w"))
    for name, value in expected.items():
        assert getattr(const, name) == pytest.approx(value, rel=1e-12), name
    if d == 2:  # mu_eff ~ 11 > D + 2: the reference's other d_sigma branch
        assert const.mu_eff > d + 2
        assert const.d_sigma > 1 + const.c_sigma


def test_segments_are_pytree_leaves_in_ravel_order():
    ids = segment_ids_from_solution(DICT_SOLUTION)
    # sorted keys: "b" (5) then "w" (12), as ravel_pytree lays them out
    np.testing.assert_array_equal(ids, np.repeat([0, 1], [5, 12]))
    es = PaperCMAES(6, DICT_SOLUTION)
    assert es.num_segments == 2
    np.testing.assert_array_equal(es.segment_ids, ids)
    marked = {"w": jnp.ones((3, 4)), "b": jnp.zeros(5)}
    np.testing.assert_array_equal(es._ravel_solution(marked), ids)


def test_first_member_is_the_mean_and_shapes_follow_the_solution():
    es = PaperCMAES(10, DICT_SOLUTION)
    params = es.default_params
    key_mean, key_init, key_ask = jax.random.split(jax.random.key(0), 3)
    mean = jax.tree.map(
        lambda leaf: jax.random.normal(key_mean, leaf.shape), DICT_SOLUTION
    )
    state = es.init(key_init, mean, params)
    population, state = es.ask(key_ask, state, params)
    assert jax.tree.map(jnp.shape, population) == {"w": (10, 3, 4), "b": (10, 5)}
    for name in mean:
        np.testing.assert_array_equal(population[name][0], mean[name])
        assert not np.any(population[name][1:] == mean[name][None])
    assert jax.tree.map(jnp.shape, es.get_mean(state)) == {"w": (3, 4), "b": (5,)}


def test_shaping_factor_distribution():
    values, probs = jnp.asarray(SHAPING_VALUES), jnp.asarray(SHAPING_PROBS)
    draws = np.asarray(
        sample_shaping_factors(jax.random.key(1), (400, 500), values, probs)
    )
    assert set(np.unique(draws)) <= set(np.asarray(values).tolist())
    freqs = [np.mean(draws == v) for v in np.asarray(values)]
    np.testing.assert_allclose(freqs, SHAPING_PROBS, atol=0.005)


def test_shaping_factor_is_one_per_segment_and_offspring():
    seg = 4000
    solution = {"a": jnp.zeros(seg), "b": jnp.zeros(seg), "c": jnp.zeros(seg)}
    es = PaperCMAES(64, solution)
    params = es.default_params.replace(std_init=jnp.asarray(0.5))
    state = es.init(jax.random.key(2), solution, params)
    state = state.replace(C=jnp.linspace(0.25, 1.0, es.num_dims))
    population, _ = es.ask(jax.random.key(3), state, params)
    x = jax.vmap(es._ravel_solution)(population)
    scaled = np.asarray(
        (x[1:] - state.mean[None]) / (state.std * jnp.sqrt(state.C))[None]
    )
    values = np.asarray(SHAPING_VALUES)
    # Empirical std of f * z over a half segment estimates f to about 2%.
    halves = scaled.reshape(63, 3, 2, seg // 2).std(axis=-1)
    nearest = values[np.argmin(np.abs(halves[..., None] - values), axis=-1)]
    np.testing.assert_allclose(halves, nearest, rtol=0.08)
    np.testing.assert_array_equal(nearest[..., 0], nearest[..., 1])
    share_one = np.mean(nearest[..., 0] == 1.0)
    assert 0.8 < share_one < 0.98  # 189 draws with p = 0.9
    assert {0.708, 1.225} & set(nearest.ravel().tolist())


def _random_state(es, key, g, p_std_scale):
    keys = jax.random.split(key, 5)
    d = es.num_dims
    state = es.init(keys[0], 0.1 * jax.random.normal(keys[1], (d,)), es.default_params)
    return state.replace(
        std=jnp.asarray(0.05),
        p_std=p_std_scale * jax.random.normal(keys[2], (d,)),
        p_c=jax.random.normal(keys[3], (d,)),
        C=jax.random.uniform(keys[4], (d,), minval=0.3, maxval=1.0),
        generation_counter=jnp.asarray(g),
    )


@pytest.mark.parametrize(
    ("case", "p_std_scale", "non_finite"),
    [
        ("h=1", 0.3, ()),
        ("h=0", 30.0, ()),
        ("nan", 0.3, (0, 3, 7, 8)),
        ("few", 0.3, tuple(range(9))),
    ],
)
def test_tell_matches_numpy_reference(case, p_std_scale, non_finite):
    pop, d = 12, 17
    es = PaperCMAES(pop, jnp.zeros(d))
    params = es.default_params
    key_state, key_x, key_f = jax.random.split(jax.random.key(4), 3)
    state = _random_state(es, key_state, g=5, p_std_scale=p_std_scale)
    x = state.mean[None] + 0.05 * jax.random.normal(key_x, (pop, d))
    fitness = np.array(jax.random.normal(key_f, (pop,)))
    for i, j in enumerate(non_finite):
        fitness[j] = (np.nan, np.inf, -np.inf)[i % 3]
    expected = numpy_evolve(
        np.asarray(x),
        -fitness,  # the reference maximises its score
        np.asarray(state.mean),
        float(state.std),
        np.asarray(state.C),
        np.asarray(state.p_std),
        np.asarray(state.p_c),
        g=5,
        k=es.num_elites,
        c_cov=0.02,
    )
    assert expected[-1] == (0.0 if case == "h=0" else 1.0)
    new, metrics = es.tell(jax.random.key(5), x, jnp.asarray(fitness), state, params)
    got = (new.mean, new.std, new.C, new.p_std, new.p_c)
    names = ("m", "sigma", "c", "p_sigma", "p_c")
    for name, a, b in zip(names, got, expected[:-1], strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6, err_msg=name)
    assert int(metrics["num_non_finite"]) == len(non_finite)
    assert int(new.generation_counter) == 6


def test_non_finite_scores_are_excluded():
    es = PaperCMAES(8, jnp.zeros(4))
    params = es.default_params
    state = es.init(jax.random.key(0), jnp.zeros(4), params)
    x = jnp.arange(32.0).reshape(8, 4)
    # Individual 5 is the only finite score: the new mean must be exactly it.
    fitness = jnp.full((8,), jnp.nan).at[5].set(3.0).at[2].set(-jnp.inf)
    new, metrics = es.tell(jax.random.key(1), x, fitness, state, params)
    np.testing.assert_allclose(new.mean, x[5])
    assert int(metrics["num_non_finite"]) == 7
    assert float(new.best_fitness) == 3.0
    np.testing.assert_array_equal(new.best_solution, x[5])


def test_all_non_finite_keeps_the_distribution():
    es = PaperCMAES(8, jnp.zeros(4))
    params = es.default_params
    state = es.init(jax.random.key(0), jnp.ones(4), params)
    x, state = es.ask(jax.random.key(1), state, params)
    new, metrics = es.tell(jax.random.key(2), x, jnp.full((8,), jnp.nan), state, params)
    for name in ("mean", "std", "C", "p_std", "p_c"):
        np.testing.assert_array_equal(getattr(new, name), getattr(state, name))
    assert int(metrics["num_non_finite"]) == 8


def _run(es, params, fitness_fn, mean, generations, key):
    @jax.jit
    def run(key):
        state = es.init(key, mean, params)

        def generation(state, key):
            key_ask, key_tell = jax.random.split(key)
            x, state = es.ask(key_ask, state, params)
            fitness = jax.vmap(fitness_fn)(x)
            state, metrics = es.tell(key_tell, x, fitness, state, params)
            return state, (fitness[0], state.C.max(), state.std)

        return jax.lax.scan(generation, state, jax.random.split(key, generations))

    return run(key)


def test_covariance_and_step_size_stay_clipped():
    es = PaperCMAES(16, jnp.zeros(6))
    params = es.default_params.replace(
        std_init=jnp.asarray(0.5), c_cov=jnp.asarray(0.5)
    )
    # Rewarding distance from the origin pushes sigma and C upwards.
    state, (_, c_max, std) = _run(
        es, params, lambda x: -jnp.sum(x**2), jnp.zeros(6), 30, jax.random.key(0)
    )
    assert float(c_max.max()) <= 1.0
    assert float(std.max()) <= 1.0
    assert float(c_max[-1]) == 1.0 and float(std[-1]) == 1.0


def test_sphere_converges_under_jit():
    es = PaperCMAES(16, jnp.zeros(10))
    params = es.default_params
    state, (mean_fitness, _, _) = _run(
        es, params, lambda x: jnp.sum(x**2), jnp.ones(10), 100, jax.random.key(0)
    )
    mean_fitness = np.asarray(mean_fitness)
    assert mean_fitness[0] == pytest.approx(10.0)
    assert mean_fitness[-1] < 0.05 * mean_fitness[0]
    assert np.all(np.diff(mean_fitness[::10]) < 0)


def test_no_recompilation_on_second_generation():
    es = PaperCMAES(6, DICT_SOLUTION)
    params = es.default_params
    state = es.init(jax.random.key(0), DICT_SOLUTION, params)
    sizes = []
    for i in range(3):
        x, state = es.ask(jax.random.key(i), state, params)
        state, _ = es.tell(jax.random.key(i), x, jnp.arange(6.0), state, params)
        sizes.append((PaperCMAES.ask._cache_size(), PaperCMAES.tell._cache_size()))
    assert sizes[0] == sizes[1] == sizes[2]


def test_metrics_report_std_cov_and_best():
    es = PaperCMAES(6, DICT_SOLUTION)
    params = es.default_params
    state = es.init(jax.random.key(0), DICT_SOLUTION, params)
    x, state = es.ask(jax.random.key(1), state, params)
    fitness = jnp.asarray([4.0, 2.0, jnp.nan, 7.0, 1.5, 3.0])
    new, metrics = es.tell(jax.random.key(2), x, fitness, state, params)
    assert float(metrics["best_fitness_in_generation"]) == 1.5
    assert int(metrics["num_non_finite"]) == 1
    assert float(metrics["std"]) == float(new.std)
    assert float(metrics["C_mean"]) == pytest.approx(float(jnp.mean(new.C)))


def test_resume_state_reproduces_the_load_quirk():
    es = PaperCMAES(6, jnp.zeros(5))
    params = es.default_params
    state = es.init(jax.random.key(0), jnp.ones(5), params)
    state = state.replace(
        std=jnp.asarray(0.3), C=jnp.asarray([0.1, 0.5, 0.64, 0.9, 1.0])
    )
    loaded = resume_state(state, params)
    assert float(loaded.std) == pytest.approx(0.01)
    np.testing.assert_allclose(loaded.C, [0.64, 0.64, 0.64, 0.9, 1.0])
    np.testing.assert_array_equal(loaded.mean, state.mean)
    np.testing.assert_array_equal(loaded.p_c, state.p_c)

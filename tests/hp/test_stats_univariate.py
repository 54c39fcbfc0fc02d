"""scipy.stats' univariate distributions at high precision (norm, t, gamma, beta, chi2, poisson): the patched
methods against mpmath formulas at 60 digits and scipy's float64 values, scipy's argument parsing, support
and invalid-parameter conventions, and check_grad through them."""

import itertools

import numpy as np
import pytest
from special_support import REF, assert_agrees, assert_all_mpf, assert_float64_close, ensure_registered, hp, off_grid
from special_support import same_as_float64 as same

from pytest_gradcheck import check_grad
from pytest_gradcheck.hp import install as hp_twins
from pytest_gradcheck.hp import precision
from pytest_gradcheck.hp import registry as hp_registry

st = pytest.importorskip("scipy.stats")
R = REF.mpf


@pytest.fixture(autouse=True)
def _patched():
    ensure_registered()
    with hp_twins.patched():
        yield


@pytest.fixture
def ctx():
    return precision.context(40)


def _t_pdf(z, df):
    return REF.gamma((df + 1) / 2) / (REF.sqrt(df * REF.pi) * REF.gamma(df / 2)) * (1 + z * z / df) ** (-(df + 1) / 2)


def _t_cdf(z, df):  # 1/2 + z Gamma((df+1)/2) 2F1(1/2, (df+1)/2; 3/2; -z^2/df) / (sqrt(pi df) Gamma(df/2))
    c = REF.gamma((df + 1) / 2) / (REF.sqrt(REF.pi * df) * REF.gamma(df / 2))
    return R(1) / 2 + z * c * REF.hyp2f1(R(1) / 2, (df + 1) / 2, R(3) / 2, -z * z / df)


def _regularized_gamma(a, lo, hi):
    return REF.gammainc(a, lo, hi, regularized=True)


# standardized references: name -> (shapes, {method: reference(z, *shapes)}, standardized points)
DISTRIBUTIONS = {
    "norm": ((), {"pdf": REF.npdf, "cdf": REF.ncdf, "sf": lambda z: REF.ncdf(-z)}, [-3.0, -0.4, 0.8, 5.0]),
    "t": ((3.5,), {"pdf": _t_pdf, "cdf": _t_cdf, "sf": lambda z, df: _t_cdf(-z, df)}, [-4.0, -0.3, 0.6, 9.0]),
    "gamma": ((2.5,), {"pdf": lambda z, a: z ** (a - 1) * REF.exp(-z) / REF.gamma(a),
                       "cdf": lambda z, a: _regularized_gamma(a, 0, z),
                       "sf": lambda z, a: _regularized_gamma(a, z, REF.inf)}, [0.1, 1.0, 3.5, 20.0]),
    "beta": ((2.0, 3.5), {"pdf": lambda z, a, b: z ** (a - 1) * (1 - z) ** (b - 1) / REF.beta(a, b),
                          "cdf": lambda z, a, b: REF.betainc(a, b, 0, z, regularized=True),
                          "sf": lambda z, a, b: REF.betainc(a, b, z, 1, regularized=True)}, [0.05, 0.3, 0.6, 0.97]),
    "chi2": ((3.0,), {"pdf": lambda z, k: z ** (k / 2 - 1) * REF.exp(-z / 2) / (2 ** (k / 2) * REF.gamma(k / 2)),
                      "cdf": lambda z, k: _regularized_gamma(k / 2, 0, z / 2),
                      "sf": lambda z, k: _regularized_gamma(k / 2, z / 2, REF.inf)}, [0.2, 1.0, 4.0, 30.0]),
}
LOC, SCALE = 0.3, 1.7
CONTINUOUS_CASES = [(d, m) for d in DISTRIBUTIONS for m in ("pdf", "logpdf", "cdf", "logcdf", "sf", "logsf")]


def _reference(name, method, z, shapes):
    table = DISTRIBUTIONS[name][1]
    base = table[method.removeprefix("log")](z, *shapes)
    if method in ("pdf", "logpdf"):
        base = base / R(SCALE)
    return REF.log(base) if method.startswith("log") else base


@pytest.mark.parametrize(("name", "method"), CONTINUOUS_CASES)
def test_continuous_method_matches_mpmath_and_scipy(ctx, name, method):
    shapes, _, points = DISTRIBUTIONS[name]
    x = np.array(points) * SCALE + LOC
    hx, hshapes = off_grid(x, ctx), [off_grid([s], ctx)[0] for s in shapes]
    out = getattr(getattr(st, name), method)(hx, *hshapes, loc=LOC, scale=SCALE)  # shapes positional
    assert_all_mpf(out, ctx, f"{name}.{method}")
    want = [_reference(name, method, (R(v) - R(LOC)) / R(SCALE), [R(s) for s in hshapes]) for v in hx]
    assert_agrees(out, want, what=f"{name}.{method}")
    assert_float64_close(out, getattr(getattr(st, name), method)(x, *shapes, loc=LOC, scale=SCALE), rtol=1e-11)


def test_norm_ppf_and_isf_invert_the_cdf_and_sf_at_40_digits(ctx):
    q = off_grid([1e-12, 0.2, 0.5, 0.97], ctx)
    out = st.norm.ppf(q, LOC, SCALE)  # loc and scale positional
    assert_all_mpf(out, ctx)
    assert_agrees(out, [R(LOC) + R(SCALE) * REF.sqrt(2) * REF.erfinv(2 * R(v) - 1) for v in q])
    assert_float64_close(out, st.norm.ppf(np.array([1e-12, 0.2, 0.5, 0.97]), LOC, SCALE))
    isf = st.norm.isf(q, loc=LOC, scale=SCALE)
    assert_agrees(isf, [R(LOC) - R(SCALE) * REF.sqrt(2) * REF.erfinv(2 * R(v) - 1) for v in q])
    combos = list(itertools.product([-0.5, 0.0, 0.3, 1.0, 1.5, np.nan], [0.0, np.nan], [1.0, 0.0, -2.0]))
    for method in ("ppf", "isf"):
        twin = hp_registry.PATCHED[f"scipy.stats.norm.{method}"]
        with np.errstate(all="ignore"):
            expected = getattr(st.norm, method)(*(np.array(c) for c in zip(*combos, strict=True)))
        got = [twin(ctx.mpf(c[0]), *c[1:]) for c in combos]
        assert all(same(g, e) for g, e in zip(got, expected, strict=True)), method


@pytest.mark.parametrize("method", ["pmf", "logpmf", "cdf", "sf"])
def test_poisson_matches_mpmath_and_scipy(ctx, method):
    k, mu = np.array([0.0, 2.0, 3.5, 7.0, 9.0]), off_grid([2.75], ctx)[0]
    out = getattr(st.poisson, method)(k, mu=mu, loc=1.0)  # mu and loc by keyword, k a float array
    assert_all_mpf(out, ctx, method)

    def pmf(j):
        return REF.exp(-R(mu)) * R(mu) ** j / REF.factorial(j)

    kk = [int(np.floor(v - 1.0)) for v in k]
    cdf = [REF.fsum(pmf(j) for j in range(n + 1)) if n >= 0 else R(0) for n in kk]
    want = {"pmf": [pmf(n) if n >= 0 and v == np.floor(v) else R(0) for n, v in zip(kk, k, strict=True)],
            "cdf": cdf, "sf": [1 - c for c in cdf]}
    want["logpmf"] = [REF.log(p) if p else REF.ninf for p in want["pmf"]]
    finite = [i for i, w in enumerate(want[method]) if w != 0 and REF.isfinite(w)]
    assert_agrees(out[finite], [want[method][i] for i in finite], what=method)
    assert_float64_close(out, getattr(st.poisson, method)(k, mu=2.75, loc=1.0), rtol=1e-11)


GRIDS = {
    "norm": ([], [-np.inf, -1.0, 0.0, 2.0, np.inf, np.nan]),
    "t": ([-1.0, 0.0, 2.5, np.inf, np.nan], [-np.inf, -1.0, 0.0, 2.0, np.inf, np.nan]),
    "gamma": ([-1.0, 0.0, 0.5, 1.0, 2.5, np.nan], [-1.0, 0.0, 0.25, 2.0, np.inf, np.nan]),
    "beta": ([0.0, 0.5, 1.0, 2.5, np.nan], [-0.5, 0.0, 0.25, 1.0, 1.5, np.nan]),
    "chi2": ([-1.0, 0.0, 1.0, 2.0, 3.0], [-1.0, 0.0, 0.25, 2.0, np.inf, np.nan]),
}


@pytest.mark.parametrize(("name", "method"), CONTINUOUS_CASES)
def test_support_ends_invalid_parameters_and_nan_as_scipy(ctx, name, method):
    shape_values, xs = GRIDS[name]
    n_shapes = len(DISTRIBUTIONS[name][0])
    twin = hp_registry.PATCHED[f"scipy.stats.{name}.{method}"]
    combos = list(itertools.product(xs, *[shape_values] * n_shapes, [0.0, np.nan], [1.0, 0.0, -2.0]))
    with np.errstate(all="ignore"):
        expected = getattr(getattr(st, name), method)(*(np.array(c) for c in zip(*combos, strict=True)))
    got = [twin(ctx.mpf(c[0]), *c[1:]) for c in combos]
    wrong = [(c, float(g), e) for c, g, e in zip(combos, got, expected, strict=True) if not same(g, e, atol=1e-15)]
    assert not wrong, f"{name}.{method}: (arguments, twin, scipy): {wrong[:6]}"


def test_poisson_conventions_as_scipy(ctx):
    combos = list(itertools.product([-1.0, 0.0, 2.0, 2.5, np.inf, np.nan], [-1.0, 0.0, 1.5, np.nan], [0.0, 0.5]))
    for method in ("pmf", "logpmf", "cdf", "sf"):
        twin = hp_registry.PATCHED[f"scipy.stats.poisson.{method}"]
        with np.errstate(all="ignore"):
            expected = getattr(st.poisson, method)(*(np.array(c) for c in zip(*combos, strict=True)))
        got = [twin(ctx.mpf(c[0]), *c[1:]) for c in combos]
        wrong = [(c, float(g), e) for c, g, e in zip(combos, got, expected, strict=True)
                 if not same(g, e) and c[0] != np.inf]  # scipy: pmf(inf) is nan; the twin gives the limit 0
        assert not wrong, f"poisson.{method}: {wrong[:6]}"


def test_arguments_are_parsed_and_broadcast_as_scipy(ctx):
    x = hp([[0.5], [1.5], [4.0]], ctx)
    by_keyword = st.gamma.logpdf(x, a=2.5, loc=np.array([0.0, 0.25]), scale=2.0)
    positional = st.gamma.logpdf(x, 2.5, np.array([0.0, 0.25]), 2.0)
    assert by_keyword.shape == positional.shape == (3, 2)
    assert all(a == b for a, b in zip(by_keyword.ravel(), positional.ravel(), strict=True))
    assert_float64_close(by_keyword, st.gamma.logpdf(np.array([[0.5], [1.5], [4.0]]), 2.5, [0.0, 0.25], 2.0))
    assert type(st.t.cdf(ctx.mpf(0.5), 4)) is ctx.mpf  # a scalar call returns an mpf
    with pytest.raises(TypeError, match=r"scipy\.stats\.t\.pdf: missing a required argument: 'df'"):
        st.t.pdf(x)
    with pytest.raises(TypeError, match=r"scipy\.stats\.norm\.cdf: too many positional arguments"):
        st.norm.cdf(x, 0.0, 1.0, 2.0)
    with pytest.raises(TypeError, match=r"scipy\.stats\.poisson\.pmf: got an unexpected keyword argument 'scale'"):
        st.poisson.pmf(x, 2.0, scale=1.0)


def test_t_with_infinite_df_is_the_normal_and_log_cdf_keeps_tiny_tails(ctx):
    x = off_grid([-2.0, 0.5, 3.0], ctx)
    for method in ("pdf", "cdf", "logsf"):
        t_values, norm_values = getattr(st.t, method)(x, np.inf), getattr(st.norm, method)(x)
        assert all(abs(a - b) <= abs(b) * ctx.mpf(10) ** -38 for a, b in zip(t_values, norm_values, strict=True))
    near_one = st.gamma.logcdf(hp([60.0], ctx), 2.0)[0]  # log(1 - 61 e^-60): float64-style log(cdf) gives 0
    assert_agrees([near_one], [REF.log1p(-_regularized_gamma(2, 60, REF.inf))])
    assert near_one < 0


def test_check_grad_through_scipy_stats_densities():
    x = np.array([0.4, 1.3, 2.6])

    def f(x):
        return np.sum(st.norm.logpdf(x, 0.5, 2.0) + st.gamma.logpdf(x, 2.5) + st.t.logcdf(x, df=3.0))

    def grad(x):
        return -(x - 0.5) / 4.0 + 1.5 / x - 1.0 + st.t.pdf(x, 3.0) / st.t.cdf(x, 3.0)

    precision.context(40)
    result = check_grad(f, x, grad=grad, per_op="off")
    assert result.status == "pass" and result.high_precision, result.precision_note
    wrong = check_grad(f, x, grad=lambda x: grad(x) + np.array([0.0, 0.0, 1e-8]), per_op="off",
                       raise_on_mismatch=False)
    assert wrong.status == "formula_error" and [m.index for m in wrong.mismatches] == [(2,)]


def test_the_registered_scipy_stats_twins_are_the_ones_tested_here_and_in_the_multivariate_tests():
    tested = {f"scipy.stats.{d}.{m}" for d, m in CONTINUOUS_CASES}
    tested |= {"scipy.stats.norm.ppf", "scipy.stats.norm.isf"}
    tested |= {f"scipy.stats.poisson.{m}" for m in ("pmf", "logpmf", "cdf", "sf")}
    tested |= {f"scipy.stats.multivariate_normal.{m}" for m in ("pdf", "logpdf", "entropy")}
    tested |= {"scipy.stats.dirichlet.pdf", "scipy.stats.dirichlet.logpdf"}
    assert {name for name in hp_registry.PATCHED if name.startswith("scipy.stats.")} == tested

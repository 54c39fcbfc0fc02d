"""scipy.special's Python functions (logsumexp, log_softmax, softmax, multigammaln, polygamma, zeta) at high
precision, tails where float64-style formulas lose digits, and check_grad through routed special functions."""

import numpy as np
import pytest
from special_support import REF, assert_agrees, assert_all_mpf, assert_float64_close, ensure_registered, hp, off_grid

from pytest_gradcheck import check_grad
from pytest_gradcheck.hp import install as hp_twins
from pytest_gradcheck.hp import precision
from pytest_gradcheck.hp.array import HPArray

sc = pytest.importorskip("scipy.special")
R = REF.mpf


@pytest.fixture(autouse=True)
def _patched():
    ensure_registered()
    with hp_twins.patched():  # as during a high-precision evaluation: scipy.special's attributes are wrappers
        yield


@pytest.fixture
def ctx():
    return precision.context(40)


A = np.array([[0.5, -1.25, 3.0], [2.0, 0.0, -0.75]])
B = np.array([[1.0, 2.0, 0.5], [-0.5, 1.5, 3.0]])


def _lse_reference(values, weights):
    return REF.log(abs(REF.fsum(R(w) * REF.exp(R(v)) for v, w in zip(values, weights, strict=True))))


@pytest.mark.parametrize("axis", [None, 0, 1, -1, (0, 1)])
@pytest.mark.parametrize("keepdims", [False, True])
def test_logsumexp_over_axes_matches_mpmath_and_scipy(ctx, axis, keepdims):
    a = off_grid(A, ctx)
    out = sc.logsumexp(a, axis=axis, keepdims=keepdims)
    expected = sc.logsumexp(A, axis=axis, keepdims=keepdims)
    assert np.shape(out) == np.shape(expected)
    assert type(out) is ctx.mpf if np.ndim(expected) == 0 else isinstance(out, HPArray)
    moved = np.moveaxis(a, *((0, 0) if axis in (None, (0, 1)) else (axis, -1)))
    groups = [moved.ravel()] if axis in (None, (0, 1)) else list(moved.reshape(-1, moved.shape[-1]))
    assert_agrees(out, [_lse_reference(g, [1] * len(g)) for g in groups])
    assert_float64_close(out, expected)


def test_logsumexp_with_signed_weights_and_return_sign(ctx):
    a, b = off_grid(A, ctx), hp(B, ctx)
    out, sign = sc.logsumexp(a, axis=1, b=b, return_sign=True)
    want_out, want_sign = sc.logsumexp(A, axis=1, b=B, return_sign=True)
    assert_float64_close(out, want_out)
    assert [float(s) for s in sign] == want_sign.tolist() == [1.0, -1.0]  # the second row sums to < 0
    assert_all_mpf(sign, ctx)
    assert_agrees(out, [_lse_reference(a[i], B[i]) for i in range(2)])
    negative = sc.logsumexp(hp([1.0, 2.0], ctx), b=np.array([1.0, -1.0]))
    assert np.isnan(float(negative)) and np.isnan(sc.logsumexp([1.0, 2.0], b=[1.0, -1.0]))
    value, s = sc.logsumexp(hp([1.0, 2.0], ctx), b=np.array([1.0, -1.0]), return_sign=True)
    assert s == -1
    assert_agrees([value], [REF.log(REF.e**2 - REF.e)])


def test_logsumexp_edge_cases_as_scipy(ctx):
    cases = [
        (np.array([-np.inf, -np.inf]), None),  # all zero terms: -inf
        (np.array([0.5, 1.5]), np.array([0.0, 0.0])),  # zero weights: -inf
        (np.array([0.5, np.inf]), np.array([1.0, 0.0])),  # a zero weight drops even an infinite term
        (np.array([np.inf, 0.0]), None),
        (np.array([1.0, 1.0]), np.array([1.0, -1.0])),  # an exact zero sum
    ]
    for values, weights in cases:
        objects = hp(np.nan_to_num(values, posinf=0.0, neginf=0.0), ctx)
        objects[...] = [ctx.mpf(v) for v in values]
        got = sc.logsumexp(objects, b=weights, return_sign=True)
        want = sc.logsumexp(values, b=weights, return_sign=True)
        assert [float(g) for g in got] == [float(w) for w in want], (values, weights)
    empty = sc.logsumexp(hp(np.zeros((0, 2)), ctx), axis=0)
    assert empty.shape == (2,) and all(v == ctx.ninf for v in empty)


def test_softmax_and_log_softmax_match_mpmath_and_scipy(ctx):
    a = off_grid(A, ctx)
    for axis in (None, 1):
        logs, probs = sc.log_softmax(a, axis=axis), sc.softmax(a, axis=axis)
        assert_all_mpf(logs, ctx)
        assert_all_mpf(probs, ctx)  # softmax runs on object arrays as it is, without a twin
        assert_float64_close(logs, sc.log_softmax(A, axis=axis))
        assert_float64_close(probs, sc.softmax(A, axis=axis))
    rows = sc.log_softmax(a, axis=1)
    assert_agrees(rows, [R(v) - _lse_reference(a[i], [1, 1, 1]) for i in range(2) for v in a[i]])
    assert_agrees(sc.softmax(a, axis=1), [REF.exp(R(v) - _lse_reference(a[i], [1, 1, 1]))
                                          for i in range(2) for v in a[i]])


def test_softmax_result_stays_high_precision_for_the_ufuncs_after_it(ctx):
    a = off_grid(A, ctx)
    p = sc.softmax(a, axis=1)
    assert isinstance(p, HPArray)  # scipy's own softmax returns a plain object array
    entropy = -np.sum(sc.xlogy(p, p), axis=1)  # xlogy has no object loop: routed only on HPArray
    probabilities = [[REF.exp(R(v) - _lse_reference(row, [1, 1, 1])) for v in row] for row in a]
    assert_agrees(entropy, [-REF.fsum(q * REF.log(q) for q in row) for row in probabilities])


def test_multigammaln_matches_mpmath_scipy_and_scipys_errors(ctx):
    a = off_grid([3.5, 10.25], ctx)
    out = sc.multigammaln(a, 3)
    want = [3 * 2 / 4 * REF.log(REF.pi) + REF.fsum(REF.loggamma(R(v) - R(j) / 2) for j in range(3)) for v in a]
    assert_agrees(out, want)
    assert_float64_close(out, sc.multigammaln(np.array([3.5, 10.25]), 3))
    assert type(sc.multigammaln(ctx.mpf(4), 2)) is ctx.mpf
    with pytest.raises(ValueError, match="d should be a positive integer"):
        sc.multigammaln(hp([3.0], ctx), 2.5)
    with pytest.raises(ValueError, match=r"condition a .* > 0.5 \* \(d-1\)"):
        sc.multigammaln(hp([0.75], ctx), 3)


def test_polygamma_matches_mpmath_and_scipy_with_broadcast_orders(ctx):
    x = off_grid([0.3, 2.5, -1.5], ctx)
    n = np.array([[0], [1], [3]])
    out = sc.polygamma(n, x)
    assert out.shape == (3, 3)
    assert_agrees(out, [REF.polygamma(k, R(v)) for k in (0, 1, 3) for v in x])
    assert_float64_close(out, sc.polygamma(n, np.array([0.3, 2.5, -1.5])))
    poles = sc.polygamma(np.array([0, 1, 2, 0]), hp([0.0, -2.0, 0.0, -1.0], ctx))
    assert_float64_close(poles, sc.polygamma(np.array([0, 1, 2, 0]), np.array([0.0, -2.0, 0.0, -1.0])))


def test_zeta_riemann_and_hurwitz_through_the_patched_function_and_the_ufuncs(ctx):
    x, q = off_grid([2.5, 0.5, -3.25], ctx), off_grid([0.75, 2.0, 5.0], ctx)
    riemann = sc.zeta(x)
    assert_agrees(riemann, [REF.zeta(R(v)) for v in x])
    assert_float64_close(riemann, sc.zeta(np.array([2.5, 0.5, -3.25])))
    hurwitz = sc.zeta(x[:1], q)  # x >= 1 only, as scipy
    assert_agrees(hurwitz, [REF.zeta(R(x[0]), R(v)) for v in q])
    assert float(sc.zeta(ctx.mpf(1))) == np.inf
    with pytest.raises(TypeError, match="out: not supported"):
        sc.zeta(x, out=np.empty(3))


@pytest.mark.parametrize(("name", "point", "check"), [
    ("erfcinv", 1e-300, lambda v, p: REF.erfc(v) / p - 1),  # 1 - p needs ~1000 bits: the twin adds them
    ("ndtri", 1e-200, lambda v, p: REF.ncdf(v) / p - 1),
    ("ndtri_exp", -1e-30, lambda v, p: REF.log1p(-REF.ncdf(-v)) / p - 1),  # exp(p) rounds to 1 at 40 digits
    ("log_ndtr", -40.0, lambda v, p: v / REF.log(REF.ncdf(p)) - 1),
    ("log_ndtr", 10.0, lambda v, p: v / REF.log(REF.ncdf(p)) - 1),  # log(1 - 7.6e-24): no cancellation
    ("logit", 1 - 2.0**-50, lambda v, p: v / REF.log(p / (1 - p)) - 1),
    ("log_expit", -800.0, lambda v, p: v / -REF.log1p(REF.exp(-p)) - 1),
])
def test_tails_keep_their_relative_digits(ctx, name, point, check):
    value = getattr(sc, name)(hp([point], ctx))[0]
    assert abs(check(R(value), R(point))) < R(10) ** -35, (name, point, value)


def test_check_grad_through_routed_special_functions_passes_and_catches_a_wrong_element():
    x = np.array([0.3, 1.7, 2.2])

    def f(x):
        return (np.sum(sc.gammaln(x) + sc.erf(x) * sc.expit(x) + np.logaddexp(x, 1.0))
                + sc.logsumexp(x) + np.sum(sc.i0e(x)))

    def grad(x):
        e = sc.expit(x)
        return (sc.psi(x) + 2 / np.sqrt(np.pi) * np.exp(-x * x) * e + sc.erf(x) * e * (1 - e)
                + sc.expit(x - 1.0) + sc.softmax(x) + sc.i1e(x) - np.sign(x) * sc.i0e(x))

    precision.context(40)  # builds the context, which loads the twin modules
    result = check_grad(f, x, grad=grad, per_op="off")
    assert result.status == "pass" and result.high_precision, result.precision_note
    wrong = check_grad(f, x, grad=lambda x: grad(x) * np.array([1.0, 1.0 + 1e-9, 1.0]), per_op="off",
                       raise_on_mismatch=False)
    assert wrong.status == "formula_error" and wrong.high_precision
    assert [m.index for m in wrong.mismatches] == [(1,)]

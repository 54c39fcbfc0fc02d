"""scipy.stats.multivariate_normal and dirichlet (pdf, logpdf) at high precision: against mpmath's matrices
at 60 digits and scipy's float64 values, scipy's shapes and errors, and check_grad through them."""

import numpy as np
import pytest
from special_support import REF, assert_agrees, assert_all_mpf, assert_float64_close, ensure_registered, hp, off_grid

from pytest_gradcheck import check_grad
from pytest_gradcheck.hp import install as hp_twins
from pytest_gradcheck.hp import precision

st = pytest.importorskip("scipy.stats")
R = REF.mpf

MEAN = np.array([0.25, -1.0, 0.5])
COV = np.array([[2.0, 0.3, -0.4], [0.3, 1.0, 0.2], [-0.4, 0.2, 1.5]])
X = np.array([[0.1, -0.5, 1.2], [1.5, 0.0, -0.3], [-0.7, -1.8, 0.9], [0.25, -1.0, 0.5]])


@pytest.fixture(autouse=True)
def _patched():
    ensure_registered()
    with hp_twins.patched():
        yield


@pytest.fixture
def ctx():
    return precision.context(40)


def _mvn_logpdf_reference(point, mean, cov):
    """-(d log(2 pi) + log det C + r^T C^-1 r) / 2 with mpmath's own determinant and inverse."""
    c = REF.matrix([[R(v) for v in row] for row in cov])
    r = REF.matrix([R(p) - R(m) for p, m in zip(point, mean, strict=True)])
    quadratic = (r.T * REF.inverse(c) * r)[0, 0]
    return -(len(mean) * REF.log(2 * REF.pi) + REF.log(REF.det(c)) + quadratic) / 2


def test_multivariate_normal_logpdf_and_pdf_match_mpmath_and_scipy(ctx):
    x, mean, cov = off_grid(X, ctx), off_grid(MEAN, ctx), off_grid(COV, ctx)
    logpdf = st.multivariate_normal.logpdf(x, mean, cov)
    pdf = st.multivariate_normal.pdf(x, mean=mean, cov=cov)
    assert logpdf.shape == pdf.shape == (4,)
    assert_all_mpf(logpdf, ctx)
    want = [_mvn_logpdf_reference(p, mean, cov) for p in x]
    assert_agrees(logpdf, want)
    assert_agrees(pdf, [REF.exp(w) for w in want])
    assert_float64_close(logpdf, st.multivariate_normal.logpdf(X, MEAN, COV))
    assert_float64_close(pdf, st.multivariate_normal.pdf(X, MEAN, COV))


@pytest.mark.parametrize(("x", "kwargs"), [
    (X[0], {"mean": MEAN, "cov": COV}),  # one point: a scalar
    (X[:1], {"mean": MEAN, "cov": COV}),  # squeezed as scipy
    (X, {"mean": MEAN, "cov": np.diag(COV)}),  # a diagonal given as a vector
    (X, {"mean": MEAN, "cov": 2.5}),  # a scalar variance
    (X[:, 0], {}),  # dimension 1, standard normal: one value per point
    (0.3, {"mean": 0.1, "cov": 2.0}),
    (X.reshape(2, 2, 3), {"mean": MEAN, "cov": COV}),  # points along the last axis
])
def test_multivariate_normal_shapes_and_parameter_forms_as_scipy(ctx, x, kwargs):
    out = st.multivariate_normal.logpdf(hp(x, ctx), **{k: hp(v, ctx) for k, v in kwargs.items()})
    expected = st.multivariate_normal.logpdf(x, **kwargs)
    assert np.shape(out) == np.shape(expected)
    if np.ndim(expected) == 0:
        assert type(out) is ctx.mpf
    assert_float64_close(out, expected)


def test_multivariate_normal_entropy_matches_mpmath_and_scipy(ctx):
    cov = off_grid(COV, ctx)
    out = st.multivariate_normal.entropy(np.zeros(3), cov)
    assert type(out) is ctx.mpf
    c = REF.matrix([[R(v) for v in row] for row in cov])
    assert_agrees([out], [(3 * (1 + REF.log(2 * REF.pi)) + REF.log(REF.det(c))) / 2])
    assert_float64_close([out], [st.multivariate_normal.entropy(np.zeros(3), COV)])
    assert_float64_close([st.multivariate_normal.entropy(cov=hp(2.5, ctx))], [st.multivariate_normal.entropy(cov=2.5)])


def test_multivariate_normal_errors_as_scipy(ctx):
    with pytest.raises(np.linalg.LinAlgError, match="must be symmetric positive definite"):
        st.multivariate_normal.logpdf(hp(X, ctx), MEAN, np.ones((3, 3)))
    with pytest.raises(np.linalg.LinAlgError, match="singular or indefinite covariances are not supported"):
        st.multivariate_normal.pdf(hp(X, ctx), MEAN, np.ones((3, 3)), allow_singular=True)
    with pytest.raises(ValueError, match="Dimension mismatch: array 'cov' is of shape"):
        st.multivariate_normal.logpdf(hp(X, ctx), MEAN, np.eye(2))
    with pytest.raises(ValueError, match="must be square if it is two dimensional"):
        st.multivariate_normal.logpdf(hp(X, ctx), MEAN, np.ones((3, 2)))
    with pytest.raises(ValueError, match="expected points of dimension 3"):
        st.multivariate_normal.logpdf(hp(X[:, :2], ctx), MEAN, COV)


ALPHA = np.array([0.5, 2.0, 3.5])
SIMPLEX = np.array([[0.2, 0.05, 0.6], [0.3, 0.5, 0.1], [0.5, 0.45, 0.3]])  # columns on the simplex


def test_dirichlet_logpdf_and_pdf_match_mpmath_and_scipy(ctx):
    alpha = off_grid(ALPHA, ctx)
    x = hp(SIMPLEX, ctx)
    logpdf, pdf = st.dirichlet.logpdf(x, alpha), st.dirichlet.pdf(x, alpha)
    assert_all_mpf(logpdf, ctx)
    log_b = REF.fsum(REF.loggamma(R(a)) for a in alpha) - REF.loggamma(REF.fsum(R(a) for a in alpha))

    def reference(column):
        return REF.fsum((R(a) - 1) * REF.log(v) for a, v in zip(alpha, column, strict=True)) - log_b

    want = [reference([R(v) for v in column]) for column in SIMPLEX.T]
    assert_agrees(logpdf, want)
    assert_agrees(pdf, [REF.exp(w) for w in want])
    assert_float64_close(logpdf, st.dirichlet.logpdf(SIMPLEX, ALPHA))
    implied = st.dirichlet.logpdf(x[:2], alpha)  # K - 1 components: the last is 1 - sum, exactly
    assert_agrees(implied, [reference([R(a), R(b), 1 - R(a) - R(b)]) for a, b in SIMPLEX[:2].T])
    one = st.dirichlet.pdf(hp(SIMPLEX[:, 0], ctx), alpha)
    assert type(one) is ctx.mpf
    assert_float64_close([one], [st.dirichlet.pdf(SIMPLEX[:, 0], ALPHA)])


def test_dirichlet_errors_as_scipy(ctx):
    with pytest.raises(ValueError, match="All parameters must be greater than 0"):
        st.dirichlet.logpdf(hp(SIMPLEX, ctx), np.array([0.5, -1.0, 2.0]))
    with pytest.raises(ValueError, match="must lie within the normal simplex"):
        st.dirichlet.logpdf(hp(SIMPLEX * 0.9, ctx), ALPHA)
    with pytest.raises(ValueError, match="must be greater than zero if its alpha is less than one"):
        st.dirichlet.pdf(hp([0.0, 0.5, 0.5], ctx), ALPHA)
    with pytest.raises(ValueError, match="one entry fewer than"):
        st.dirichlet.pdf(hp([0.5, 0.5], ctx), np.ones(4))


def test_check_grad_through_multivariate_normal_and_dirichlet():
    cov_inv = np.linalg.inv(COV)

    def f(x):
        return (np.sum(st.multivariate_normal.logpdf(x.reshape(2, 3), MEAN, COV))
                + st.dirichlet.logpdf(np.abs(x[:2]) / 4, ALPHA))

    def grad(x):
        points = x.reshape(2, 3)
        g = (-(points - MEAN) @ cov_inv).ravel()
        g[:2] += (ALPHA[:2] - 1) / x[:2] - (ALPHA[2] - 1) / (4 - x[0] - x[1])
        return g

    x = np.array([0.4, 1.2, -0.3, 0.8, -0.6, 1.1])
    precision.context(40)
    result = check_grad(f, x, grad=grad, per_op="off")
    assert result.status == "pass" and result.high_precision, result.precision_note
    wrong = check_grad(f, x, grad=lambda x: grad(x) * np.array([1, 1, 1, 1, 1 + 1e-8, 1]), per_op="off",
                       raise_on_mismatch=False)
    assert wrong.status == "formula_error" and [m.index for m in wrong.mismatches] == [(4,)]

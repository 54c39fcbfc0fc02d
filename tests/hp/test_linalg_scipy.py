"""High-precision scipy.linalg twins (hp.twins.linalg.scipy_linalg and scipy_matfuncs): scipy's results in
float64, mpmath's own in the same context, 60 digits, and the entries each option reads."""

import numpy as np
import pytest
from linalg_support import agreeing_digits, all_mpf, hp, mp_array, mp_matrix, rel_error, spd, square

from pytest_gradcheck.hp import precision
from pytest_gradcheck.hp.twins.linalg import scipy_linalg as sl_twins
from pytest_gradcheck.hp.twins.linalg import scipy_matfuncs as mf_twins

scipy_linalg = pytest.importorskip("scipy.linalg")

FLOAT64_RTOL = 1e-12


@pytest.fixture
def ctx():
    return precision.context(40)


def test_solve_triangular_reads_one_triangle_with_every_option(ctx, rng):
    junk = 5.0 * rng.normal(size=(3, 3))
    t = np.triu(square(rng, 3)) + np.tril(junk, -1)  # the lower part is junk that must not be read
    for lower, a in ((False, t), (True, t.T.copy())):
        for trans in (0, 1, 2, "N", "T", "C"):
            for unit_diagonal in (False, True):
                for b in (rng.normal(size=3), rng.normal(size=(3, 2))):
                    out = sl_twins.solve_triangular(hp(a, ctx), hp(b, ctx), trans=trans, lower=lower,
                                                    unit_diagonal=unit_diagonal)
                    expected = scipy_linalg.solve_triangular(a, b, trans=trans, lower=lower,
                                                             unit_diagonal=unit_diagonal)
                    assert all_mpf(out, ctx) and rel_error(out, expected) < FLOAT64_RTOL
    b = rng.normal(size=3)
    mp_x = ctx.lu_solve(mp_matrix(ctx, hp(np.triu(t), ctx)), ctx.matrix(hp(b, ctx).tolist()))
    assert agreeing_digits(sl_twins.solve_triangular(hp(t, ctx), hp(b, ctx)), mp_array(mp_x)[:, 0]) > 35
    stack = np.stack([np.tril(square(rng, 3))] * 2)
    out = sl_twins.solve_triangular(hp(stack, ctx), hp(b, ctx), lower=True)
    assert rel_error(out, scipy_linalg.solve_triangular(stack, b, lower=True)) < FLOAT64_RTOL
    with pytest.raises(np.linalg.LinAlgError, match="singular matrix: resolution failed at diagonal 1"):
        sl_twins.solve_triangular(hp([[1.0, 2.0], [0.0, 0.0]], ctx), hp([1.0, 1.0], ctx))
    with pytest.raises(ValueError, match=r"shapes of a \(2, 2\) and b \(3,\) are incompatible"):
        sl_twins.solve_triangular(hp(np.eye(2), ctx), hp(np.ones(3), ctx))


def test_cholesky_factor_and_solve_match_scipy(ctx, rng):
    p, b = spd(rng, 3), rng.normal(size=(3, 2))
    for lower in (False, True):
        c, flag = sl_twins.cho_factor(hp(p, ctx), lower=lower)
        expected_c, _ = scipy_linalg.cho_factor(p, lower=lower)
        assert flag is lower and rel_error(c, expected_c) < FLOAT64_RTOL  # the unused triangle too
        x = sl_twins.cho_solve((c, lower), hp(b, ctx))
        assert rel_error(x, scipy_linalg.cho_solve((expected_c, lower), b)) < FLOAT64_RTOL
        assert agreeing_digits(np.matmul(hp(p, ctx), x), hp(b, ctx)) > 35
        factor = sl_twins.cholesky(hp(p, ctx), lower=lower)
        assert rel_error(factor, scipy_linalg.cholesky(p, lower=lower)) < FLOAT64_RTOL
    expected = mp_array(ctx.cholesky(mp_matrix(ctx, hp(p, ctx))))
    assert agreeing_digits(sl_twins.cholesky(hp(p, ctx), lower=True), expected) > 35
    with pytest.raises(np.linalg.LinAlgError, match="2-th leading minor of the array is not positive definite"):
        sl_twins.cho_factor(hp([[1.0, 2.0], [2.0, 1.0]], ctx))


def test_lu_factor_pivots_as_lapack_and_lu_solve_matches_scipy(ctx, rng):
    a, b = rng.uniform(-1.0, 1.0, (4, 4)), rng.normal(size=(4, 2))
    lu, piv = sl_twins.lu_factor(hp(a, ctx))
    expected_lu, expected_piv = scipy_linalg.lu_factor(a)
    assert piv.dtype == np.int32 and list(piv) == list(expected_piv) and rel_error(lu, expected_lu) < FLOAT64_RTOL
    for trans in (0, 1):
        for rhs in (b, b[:, 0]):
            x = sl_twins.lu_solve((lu, piv), hp(rhs, ctx), trans=trans)
            assert rel_error(x, scipy_linalg.lu_solve((expected_lu, expected_piv), rhs, trans=trans)) < 1e-11
    x = sl_twins.lu_solve((lu, piv), hp(b, ctx))
    assert agreeing_digits(x, mp_array(ctx.lu_solve_mat(mp_matrix(ctx, hp(a, ctx)), mp_matrix(ctx, hp(b, ctx))))) > 35
    with pytest.warns(scipy_linalg.LinAlgWarning, match="Diagonal number 2 is exactly zero"):
        sl_twins.lu_factor(hp([[1.0, 2.0], [2.0, 4.0]], ctx))


def test_det_inv_and_solve_honour_assume_a_as_scipy_does(ctx, rng):
    p, b = spd(rng, 3), rng.normal(size=3)
    assert rel_error([sl_twins.det(hp(p, ctx))], [scipy_linalg.det(p)]) < FLOAT64_RTOL
    assert agreeing_digits([sl_twins.det(hp(p, ctx))], [ctx.det(mp_matrix(ctx, hp(p, ctx)))]) > 35
    assert agreeing_digits(sl_twins.inv(hp(p, ctx)), mp_array(ctx.inverse(mp_matrix(ctx, hp(p, ctx))))) > 35
    mp_x = mp_array(ctx.lu_solve(mp_matrix(ctx, hp(p, ctx)), ctx.matrix(hp(b, ctx).tolist())))[:, 0]
    assert agreeing_digits(sl_twins.solve(hp(p, ctx), hp(b, ctx), assume_a="pos"), mp_x) > 35
    junk = np.triu(rng.normal(size=(3, 3)), 1)
    for assume_a, a in ((None, square(rng, 3)), ("gen", square(rng, 3)), ("sym", p + junk), ("pos", p + junk),
                        ("her", p + junk), ("upper triangular", np.triu(p) + junk.T), ("diagonal", p),
                        ("lower triangular", np.tril(p) + junk), ("tridiagonal", p), ("banded", p)):
        for lower in (False, True):
            for transposed in (False, True):
                out = sl_twins.solve(hp(a, ctx), hp(b, ctx), assume_a=assume_a, lower=lower, transposed=transposed)
                expected = scipy_linalg.solve(a, b, assume_a=assume_a, lower=lower, transposed=transposed)
                assert rel_error(out, expected) < FLOAT64_RTOL, (assume_a, lower, transposed)
            if assume_a not in ("tridiagonal", "banded"):
                inverse = sl_twins.inv(hp(a, ctx), assume_a=assume_a, lower=lower)
                assert rel_error(inverse, scipy_linalg.inv(a, assume_a=assume_a, lower=lower)) < FLOAT64_RTOL
    with pytest.raises(np.linalg.LinAlgError, match="singular"):
        sl_twins.solve(hp([[1.0, 2.0], [2.0, 4.0]], ctx), hp([1.0, 1.0], ctx))
    with pytest.raises(ValueError, match="bogus is not a recognized matrix structure"):
        sl_twins.solve(hp(p, ctx), hp(b, ctx), assume_a="bogus")


def test_solve_banded_matches_scipy(ctx, rng):
    ab = rng.uniform(-1.0, 1.0, (4, 5))
    ab[2] = rng.uniform(3.0, 4.0, 5)  # (l, u) = (1, 2): the diagonal is row u
    for b in (rng.normal(size=5), rng.normal(size=(5, 2))):
        out = sl_twins.solve_banded((1, 2), hp(ab, ctx), hp(b, ctx))
        assert rel_error(out, scipy_linalg.solve_banded((1, 2), ab, b)) < FLOAT64_RTOL
    dense = [[ab[2 + i - j, j] if -2 <= i - j <= 1 else 0.0 for j in range(5)] for i in range(5)]
    b = rng.normal(size=5)
    mp_x = mp_array(ctx.lu_solve(mp_matrix(ctx, hp(dense, ctx)), ctx.matrix(hp(b, ctx).tolist())))[:, 0]
    assert agreeing_digits(sl_twins.solve_banded((1, 2), hp(ab, ctx), hp(b, ctx)), mp_x) > 35
    with pytest.raises(ValueError, match=r"does not equal ab\.shape"):
        sl_twins.solve_banded((1, 1), hp(ab, ctx), hp(np.ones(5), ctx))


@pytest.mark.parametrize("name", ["sqrtm", "expm", "logm"])
def test_matrix_functions_match_scipy_and_mpmath(ctx, rng, name):
    twin, reference = getattr(mf_twins, name), getattr(scipy_linalg, name)
    for a in (spd(rng, 3) / 3, square(rng, 3)):  # symmetric and general
        out = twin(hp(a, ctx))
        assert all_mpf(out, ctx) and rel_error(out, reference(a)) < 1e-12
        assert agreeing_digits(out, mp_array(getattr(ctx, name)(mp_matrix(ctx, hp(a, ctx))))) > 35
    stack = np.stack([spd(rng, 2), square(rng, 2)])
    assert rel_error(twin(hp(stack, ctx)), reference(stack)) < 1e-12


def test_matrix_functions_at_40_digits_agree_with_60_digits(rng):
    low, high = precision.context(40), precision.context(60)
    p, a = spd(rng, 3), square(rng, 3)
    for twin in (mf_twins.sqrtm, mf_twins.expm, mf_twins.logm):
        for x in (p, a):
            assert agreeing_digits(twin(hp(x, low)), twin(hp(x, high))) > 35
    q = rng.normal(size=(3, 2))
    sylvester = [mf_twins.solve_sylvester(hp(a, c), hp(p[:2, :2], c), hp(q, c)) for c in (low, high)]
    assert agreeing_digits(*sylvester) > 35


def test_sqrtm_and_logm_refuse_complex_results_and_keep_the_deprecated_disp(ctx):
    for twin in (mf_twins.sqrtm, mf_twins.logm):
        for a in ([[-1.0, 0.0], [0.0, 2.0]], [[-1.0, 0.5], [0.1, -2.0]]):  # symmetric and general
            with pytest.raises(ValueError, match="the result is complex"):
                twin(hp(a, ctx))
    a = np.array([[4.0, 1.0], [0.5, 3.0]])
    with pytest.warns(DeprecationWarning, match="`disp` argument is deprecated"):
        root, error = mf_twins.sqrtm(hp(a, ctx), disp=False)
    assert rel_error(root, scipy_linalg.sqrtm(a)) < 1e-12 and error < ctx.mpf(10) ** -70
    with pytest.raises(np.linalg.LinAlgError, match="at least two-dimensional"):
        mf_twins.sqrtm(hp(4.0, ctx))
    assert rel_error(mf_twins.expm(hp([0.5], ctx)), scipy_linalg.expm(np.array([0.5]))) < FLOAT64_RTOL


def test_solve_sylvester_matches_scipy_and_refuses_a_singular_equation(ctx, rng):
    a, b, q = square(rng, 3), spd(rng, 2), rng.normal(size=(3, 2))
    x = mf_twins.solve_sylvester(hp(a, ctx), hp(b, ctx), hp(q, ctx))
    assert rel_error(x, scipy_linalg.solve_sylvester(a, b, q)) < FLOAT64_RTOL
    assert agreeing_digits(np.matmul(hp(a, ctx), x) + np.matmul(x, hp(b, ctx)), hp(q, ctx)) > 35
    with pytest.raises(np.linalg.LinAlgError, match="a and -b have a common eigenvalue"):
        mf_twins.solve_sylvester(hp(np.eye(2), ctx), hp(-np.eye(2), ctx), hp(np.ones((2, 2)), ctx))
    with pytest.raises(ValueError, match="q: expected shape"):
        mf_twins.solve_sylvester(hp(a, ctx), hp(b, ctx), hp(np.ones((2, 2)), ctx))

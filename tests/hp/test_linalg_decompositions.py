"""High-precision numpy.linalg decompositions and least squares (pytest_gradcheck.hp.twins.linalg.decompositions).

Compared with mpmath's own algorithms in the same context, with numpy's float64 results (eigenvectors and
singular vectors up to numpy's arbitrary signs; QR exactly, signs included), and with 60 digits. The sign
conventions are checked directly, and a perturbation of 1e-13 must move every output by about as much.
"""

import warnings

import numpy as np
import pytest
from linalg_support import (
    agreeing_digits,
    all_mpf,
    column_signs_matched,
    f64,
    hp,
    mp_array,
    mp_matrix,
    rel_error,
    square,
    symmetric,
)

from pytest_gradcheck.hp import precision
from pytest_gradcheck.hp.twins.linalg import decompositions as dec

FLOAT64_RTOL = 1e-12
MP_DIGITS = 35


@pytest.fixture
def ctx():
    return precision.context(40)


def _largest_component_positive(columns):
    for column in np.asarray(f64(columns)).T:
        assert column[np.argmax(np.abs(column))] > 0


def test_eigh_matches_numpy_and_mpmath_with_ascending_values_and_positive_largest_components(ctx, rng):
    s = symmetric(rng, 4)
    w, v = dec.eigh(hp(s, ctx))
    expected = np.linalg.eigh(s)
    assert all_mpf(w, ctx) and all_mpf(v, ctx) and list(f64(w)) == sorted(f64(w))
    assert rel_error(w, expected.eigenvalues) < FLOAT64_RTOL
    assert rel_error(column_signs_matched(v, expected.eigenvectors), expected.eigenvectors) < 1e-11
    _largest_component_positive(v)
    mp_values = ctx.eigsy(mp_matrix(ctx, hp(s, ctx)), eigvals_only=True)
    assert agreeing_digits(w, sorted(mp_values[i] for i in range(4))) > MP_DIGITS
    reconstructed = v @ np.diag(w) @ v.T
    assert agreeing_digits(reconstructed, hp(s, ctx)) > MP_DIGITS
    assert agreeing_digits(dec.eigvalsh(hp(s, ctx)), w) > MP_DIGITS


def test_eigh_reads_only_the_uplo_triangle_and_loops_over_stacks(ctx, rng):
    s = np.stack([symmetric(rng, 3), symmetric(rng, 3)])
    junk = np.triu(np.full((3, 3), 7.0), 1)
    for uplo, a in (("L", s + junk), ("U", s + junk.T)):
        w, v = dec.eigh(hp(a, ctx), UPLO=uplo)
        expected = np.linalg.eigh(a, UPLO=uplo)
        assert rel_error(w, expected.eigenvalues) < FLOAT64_RTOL
        assert rel_error(dec.eigvalsh(hp(a, ctx), UPLO=uplo), expected.eigenvalues) < FLOAT64_RTOL
        assert rel_error(column_signs_matched(v, expected.eigenvectors), expected.eigenvectors) < 1e-11
    with pytest.raises(ValueError, match="UPLO argument must be 'L' or 'U'"):
        dec.eigh(hp(s, ctx), UPLO="X")
    with pytest.raises(np.linalg.LinAlgError, match="must be square"):
        dec.eigvalsh(hp(np.ones((2, 3)), ctx))


@pytest.mark.parametrize("shape", [(3, 3), (4, 2), (2, 4), (2, 3, 2)])
@pytest.mark.parametrize("full_matrices", [True, False])
def test_svd_matches_numpy_and_mpmath_in_every_shape(ctx, rng, shape, full_matrices):
    a = rng.uniform(-1.0, 1.0, shape)
    u, s, vh = dec.svd(hp(a, ctx), full_matrices=full_matrices)
    eu, es, evh = np.linalg.svd(a, full_matrices=full_matrices)
    assert (u.shape, s.shape, vh.shape) == (eu.shape, es.shape, evh.shape)
    k = min(shape[-2:])
    assert rel_error(s, es) < FLOAT64_RTOL and list(f64(s).ravel()) == list(np.sort(f64(s), axis=-1)[..., ::-1].ravel())
    assert rel_error(column_signs_matched(u[..., :k], eu[..., :k]), eu[..., :k]) < 1e-11
    reconstructed = np.matmul(u[..., :k] * s[..., None, :], vh[..., :k, :])
    assert agreeing_digits(reconstructed, hp(a, ctx)) > MP_DIGITS
    for matrix in u.reshape(-1, *u.shape[-2:]):
        _largest_component_positive(matrix[:, :k])
    first = a.reshape(-1, *shape[-2:])[0]
    _, mp_s, _ = ctx.svd_r(mp_matrix(ctx, hp(first, ctx)))
    assert agreeing_digits(s.reshape(-1, k)[0], [mp_s[i] for i in range(k)]) > MP_DIGITS
    assert agreeing_digits(dec.svd(hp(a, ctx), compute_uv=False), s) > MP_DIGITS
    assert agreeing_digits(dec.svdvals(hp(a, ctx)), s) > MP_DIGITS


def test_hermitian_svd_follows_numpys_eigh_branch(ctx, rng):
    s = symmetric(rng, 3)  # eigenvalues -1, 0.5, 2: one negative, its sign moves into vh
    u, sv, vh = dec.svd(hp(s, ctx), hermitian=True)
    eu, es, _ = np.linalg.svd(s, hermitian=True)
    assert rel_error(sv, es) < FLOAT64_RTOL
    assert agreeing_digits(u @ np.diag(sv) @ vh, hp(s, ctx)) > MP_DIGITS
    assert rel_error(column_signs_matched(u, eu), eu) < 1e-11
    assert rel_error(dec.svd(hp(s, ctx), compute_uv=False, hermitian=True), es) < FLOAT64_RTOL


@pytest.mark.parametrize("shape", [(3, 3), (4, 2), (2, 4), (2, 3, 3)])
def test_qr_equals_numpys_including_lapacks_signs(ctx, rng, shape):
    a = rng.uniform(-1.0, 1.0, shape)
    for mode in ("reduced", "complete"):
        q, r = dec.qr(hp(a, ctx), mode=mode)
        eq, er = np.linalg.qr(a, mode=mode)
        assert q.shape == eq.shape and r.shape == er.shape
        assert rel_error(q, eq) < FLOAT64_RTOL and rel_error(r, er) < FLOAT64_RTOL  # no sign matching
        assert agreeing_digits(np.matmul(q, r), hp(a, ctx)) > MP_DIGITS
        identity = np.broadcast_to(np.eye(q.shape[-1]), q.shape[:-2] + (q.shape[-1],) * 2)
        assert agreeing_digits(np.matmul(np.swapaxes(q, -1, -2), q), hp(identity, ctx)) > MP_DIGITS
    assert rel_error(dec.qr(hp(a, ctx), mode="r"), np.linalg.qr(a, mode="r")) < FLOAT64_RTOL
    if len(shape) == 2 and shape[0] > shape[1]:  # mpmath's qr (m >= n only) uses the same reflectors
        mp_q, mp_r = ctx.qr(mp_matrix(ctx, hp(a, ctx)))
        q, r = dec.qr(hp(a, ctx), mode="complete")
        assert agreeing_digits(q, mp_array(mp_q)) > MP_DIGITS and agreeing_digits(r, mp_array(mp_r)) > MP_DIGITS
    h, tau = dec.qr(hp(a, ctx), mode="raw")
    eh, etau = np.linalg.qr(a, mode="raw")
    assert rel_error(h, eh) < FLOAT64_RTOL and rel_error(tau, etau) < FLOAT64_RTOL


def test_qr_modes_are_checked_as_numpy_does(ctx):
    with pytest.raises(ValueError, match="Unrecognized mode 'bogus'"):
        dec.qr(hp(np.eye(2), ctx), mode="bogus")
    with pytest.warns(DeprecationWarning, match="'economic' option is deprecated"):
        economic = dec.qr(hp([[3.0, 1.0], [4.0, 2.0]], ctx), mode="economic")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        expected = np.linalg.qr(np.array([[3.0, 1.0], [4.0, 2.0]]), mode="economic")
    assert rel_error(economic, expected) < FLOAT64_RTOL


def test_lstsq_returns_numpys_four_results(ctx, rng):
    tall, wide = rng.uniform(-1.0, 1.0, (4, 2)), rng.uniform(-1.0, 1.0, (2, 3))
    for a, b in ((tall, rng.normal(size=4)), (tall, rng.normal(size=(4, 2))), (wide, rng.normal(size=2))):
        x, residuals, rank, s = dec.lstsq(hp(a, ctx), hp(b, ctx))
        ex, eres, erank, es = np.linalg.lstsq(a, b)
        assert rel_error(x, ex) < FLOAT64_RTOL and rank == erank and rel_error(s, es) < FLOAT64_RTOL
        assert residuals.shape == eres.shape and rel_error(residuals, eres) < 1e-10
    b = rng.normal(size=4)
    x, residuals, _, _ = dec.lstsq(hp(tall, ctx), hp(b, ctx))
    mp_x, mp_residual = ctx.qr_solve(mp_matrix(ctx, hp(tall, ctx)), ctx.matrix(hp(b, ctx).tolist()))
    assert agreeing_digits(x, mp_array(mp_x)[:, 0]) > MP_DIGITS
    assert agreeing_digits(residuals, [mp_residual**2]) > MP_DIGITS
    x, _, _, _ = dec.lstsq(hp(tall, ctx), hp(tall @ [1.0, -2.0], ctx))
    assert agreeing_digits(x, hp([1.0, -2.0], ctx)) > MP_DIGITS  # a consistent system is solved exactly
    deficient = np.array([[1.0, 2.0], [2.0, 4.0], [3.0, 6.0]])
    x, residuals, rank, _ = dec.lstsq(hp(deficient, ctx), hp([1.0, 0.0, 1.0], ctx))
    ex, eres, erank, _ = np.linalg.lstsq(deficient, [1.0, 0.0, 1.0])
    assert rank == erank == 1 and residuals.shape == eres.shape == (0,) and rel_error(x, ex) < FLOAT64_RTOL
    with pytest.raises(np.linalg.LinAlgError, match="Incompatible dimensions"):
        dec.lstsq(hp(tall, ctx), hp(np.ones(3), ctx))


def test_pinv_and_matrix_rank_use_numpys_cutoffs(ctx, rng):
    deficient = np.array([[1.0, 2.0, 3.0], [2.0, 4.0, 6.0], [1.0, 0.0, 1.0]])
    for a in (square(rng, 3), rng.uniform(-1.0, 1.0, (3, 2)), deficient, np.stack([square(rng, 2)] * 2)):
        assert rel_error(dec.pinv(hp(a, ctx)), np.linalg.pinv(a)) < 1e-11
        assert rel_error(dec.pinv(hp(a, ctx), rtol=None), np.linalg.pinv(a, rtol=None)) < 1e-11
        assert np.array_equal(dec.matrix_rank(hp(a, ctx)), np.linalg.matrix_rank(a))
    tall = hp(rng.uniform(-1.0, 1.0, (3, 2)), ctx)  # full column rank: pinv = (A^T A)^-1 A^T
    normal = mp_matrix(ctx, tall)
    assert agreeing_digits(dec.pinv(tall), mp_array(ctx.inverse(normal.T * normal) * normal.T)) > MP_DIGITS
    _, mp_s, _ = ctx.svd_r(mp_matrix(ctx, hp(deficient, ctx)))
    assert dec.matrix_rank(hp(deficient, ctx)) == sum(1 for x in mp_s if x > 3 * np.finfo(float).eps * max(mp_s))
    s = symmetric(rng, 3)
    assert rel_error(dec.pinv(hp(s, ctx), hermitian=True), np.linalg.pinv(s, hermitian=True)) < 1e-11
    assert dec.matrix_rank(hp(deficient, ctx)) == 2 and dec.matrix_rank(hp(deficient, ctx), tol=0.5) == 2
    assert dec.matrix_rank(hp(np.diag([1.0, 1e-3]), ctx), rtol=1e-2) == 1
    assert dec.matrix_rank(hp(np.zeros(3), ctx)) == 0 and dec.matrix_rank(hp([0.0, 2.0], ctx)) == 1
    with pytest.raises(ValueError, match="`rtol` and `rcond` can't be both set"):
        dec.pinv(hp(s, ctx), rcond=1e-10, rtol=1e-10)


def test_eig_handles_real_spectra_and_refuses_complex_ones(ctx, rng):
    basis = np.eye(3) + 0.3 * rng.uniform(-1.0, 1.0, (3, 3))
    a = basis @ np.diag([1.0, 2.25, 3.5]) @ np.linalg.inv(basis)
    w, v = dec.eig(hp(a, ctx))
    ew, ev = np.linalg.eig(a)
    assert not np.iscomplexobj(ew) or not (ew.imag.any() or ev.imag.any())
    ew, ev = ew.real, ev.real  # numpy 2.5's eig returns complex arrays even for a real spectrum; 2.4's real ones
    order = np.argsort(ew)
    assert rel_error(w, ew[order]) < 1e-11 and rel_error(column_signs_matched(v, ev[:, order]), ev[:, order]) < 1e-10
    assert agreeing_digits(np.matmul(hp(a, ctx), v), v * w) > MP_DIGITS
    assert agreeing_digits(dec.eigvals(hp(a, ctx)), w) > MP_DIGITS
    assert agreeing_digits(w, sorted(ctx.eig(mp_matrix(ctx, hp(a, ctx)), right=False))) > MP_DIGITS
    with pytest.raises(ValueError, match="complex eigenvalues"):
        dec.eigvals(hp([[0.0, -1.0], [1.0, 0.0]], ctx))


def test_outputs_move_continuously_with_the_input(ctx, rng):
    """The differencing step is ~1e-13: a sign or order flip between x and x + h u would be O(1)."""
    s, a = symmetric(rng, 4), rng.uniform(-1.0, 1.0, (4, 3))
    direction = hp(rng.uniform(-1.0, 1.0, (4, 4)), ctx)
    h = ctx.mpf(1e-13)
    twins = [
        (lambda m: dec.eigh(m).eigenvectors, s), (lambda m: dec.eigh(m).eigenvalues, s),
        (lambda m: dec.svd(m, full_matrices=False).U, a), (lambda m: dec.svd(m, full_matrices=False).Vh, a),
        (lambda m: dec.svd(m).U[:, :3], a), (lambda m: dec.qr(m).Q, a), (lambda m: dec.qr(m).R, a),
        (lambda m: dec.pinv(m), a), (lambda m: dec.lstsq(m, np.ones(4))[0], a),
    ]
    for twin, x in twins:
        base = hp(x, ctx)
        step = direction[: x.shape[0], : x.shape[1]] * h
        plus, minus = twin(base + step), twin(base - step)
        change = np.max(np.abs(f64(plus - minus)))
        assert 1e-16 < change < 1e-11, change


def test_eigen_and_singular_values_are_rounded_to_within_half_an_ulp(rng):
    low, high = precision.context(40), precision.context(60)
    half_ulp_digits = -np.log10(2.0**-136)  # 40.94: the 40-digit context has 136 bits
    for _ in range(3):
        s, a = symmetric(rng, 4), rng.uniform(-1.0, 1.0, (4, 3))
        for twin, x in ((lambda m: dec.eigh(m).eigenvectors, s), (dec.eigvalsh, s), (dec.svdvals, a),
                        (lambda m: dec.svd(m).U, a), (lambda m: dec.qr(m).R, a)):
            assert agreeing_digits(twin(hp(x, low)), twin(hp(x, high))) > half_ulp_digits - 0.05


def test_results_at_40_digits_agree_with_60_digits(rng):
    s, a = symmetric(rng, 3), rng.uniform(-1.0, 1.0, (3, 2))
    low, high = precision.context(40), precision.context(60)
    for twin, x in ((lambda m: dec.eigh(m).eigenvectors, s), (dec.eigvalsh, s), (lambda m: dec.svd(m).U, a),
                    (lambda m: dec.svd(m).Vh, a), (dec.svdvals, a), (lambda m: dec.qr(m).Q, a), (dec.pinv, a),
                    (lambda m: dec.lstsq(m, np.ones(3))[0], a), (lambda m: dec.eig(m).eigenvectors, s)):
        assert agreeing_digits(twin(hp(x, low)), twin(hp(x, high))) > MP_DIGITS

"""Unmodified numpy.linalg / scipy.linalg calls on high-precision arrays reach the twins, and check_grad
checks gradients through them at high precision: a right gradient passes, a slightly wrong one fails at the
element that is wrong."""

import inspect

import numpy as np
import pytest
from linalg_support import agreeing_digits, all_mpf, square, symmetric

from pytest_gradcheck import check_grad
from pytest_gradcheck.hp import install as hp_twins
from pytest_gradcheck.hp import precision
from pytest_gradcheck.hp.array import HPArray
from pytest_gradcheck.hp.twins.linalg import decompositions as hp_decompositions
from pytest_gradcheck.hp.twins.linalg import registrations as hp_linalg
from pytest_gradcheck.hp.twins.linalg import solvers as hp_solvers

scipy_linalg = pytest.importorskip("scipy.linalg")


@pytest.fixture
def ctx():
    return precision.context(40)


def _parameters(function):
    """(name, kind, default) of each parameter; a private "not given" sentinel default shows as SENTINEL."""
    def default(value):
        return "SENTINEL" if type(value) is object or repr(value) == "<no value>" else value

    return [(p.name, p.kind, default(p.default)) for p in inspect.signature(function).parameters.values()]


def test_every_twin_has_its_functions_signature():
    """The twins are called with the user's own arguments: names, kinds and defaults must be numpy's/scipy's."""
    for name, entry in hp_linalg.TWINS.items():
        twin = entry.twin
        module, _, attribute = name.rpartition(".")
        original = getattr(np.linalg if module == "numpy.linalg" else scipy_linalg, attribute)
        expected = _parameters(original)
        if name in ("scipy.linalg.sqrtm", "scipy.linalg.logm") and len(expected) == 1:  # scipy 1.18 removed the
            expected += _parameters(twin)[1:]  # deprecated disp (blocksize); the twins keep them for scipy 1.17
        assert _parameters(twin) == expected, name


def test_numpy_linalg_calls_dispatch_to_the_twins_and_stay_high_precision(ctx, rng):
    a = precision.to_hp(square(rng, 3), ctx)
    det = np.linalg.det(a)
    assert type(det) is ctx.mpf and det == hp_solvers.det(a)
    inverse = np.linalg.inv(a)
    assert isinstance(inverse, HPArray) and inverse.hp_context is ctx and all_mpf(inverse, ctx)
    assert agreeing_digits(np.linalg.inv(inverse), a) > 35  # the result dispatches again
    q, r = np.linalg.qr(a)
    assert isinstance(q, HPArray) and agreeing_digits(q @ r, a) > 35
    w, _ = np.linalg.eigh(a @ a.T)
    assert all_mpf(w, ctx) and agreeing_digits(w, hp_decompositions.eigvalsh(a @ a.T)) > 35
    assert type(np.linalg.norm(a, 2)) is ctx.mpf and np.linalg.matrix_rank(a) == 3


def test_scipy_linalg_is_patched_only_while_high_precision_evaluations_run(ctx, rng):
    original = scipy_linalg.expm
    a = precision.to_hp(square(rng, 2), ctx)
    with hp_twins.patched():
        out = scipy_linalg.expm(a)
        assert isinstance(out, HPArray) and agreeing_digits(out, ctx.expm(ctx.matrix(a.tolist())).tolist()) > 35
        floats = scipy_linalg.expm(np.eye(2))  # float64 input still runs scipy's own code
        assert floats.dtype == np.float64
    assert scipy_linalg.expm is original


def _log_det_plus_solve(b):
    def f(a):
        return np.linalg.slogdet(a)[1] + np.sum(np.linalg.solve(a, b))

    def grad(a):
        inverse_t = np.linalg.inv(a).T
        return inverse_t - inverse_t @ np.ones((a.shape[0], 1)) * np.linalg.solve(a, b)[None, :]

    return f, grad


def test_a_right_gradient_through_slogdet_solve_and_inv_passes_at_high_precision(rng):
    f, grad = _log_det_plus_solve(rng.normal(size=3))
    result = check_grad(f, (square(rng, 3),), grad=grad, per_op="off")
    assert result.status == "pass" and result.high_precision is True and result.precision_note == ""


def test_a_slightly_wrong_gradient_fails_at_the_wrong_element(rng):
    f, grad = _log_det_plus_solve(rng.normal(size=3))

    def wrong(a):
        out = grad(a)
        out[1, 2] *= 1 + 1e-9
        return out

    result = check_grad(f, (square(rng, 3),), grad=wrong, per_op="off", raise_on_mismatch=False)
    assert result.status == "formula_error" and result.high_precision is True
    assert [m.index for m in result.mismatches] == [(1, 2)]


def test_eigh_reads_the_lower_triangle_so_its_gradient_lives_there(rng):
    def top(s):
        return np.linalg.eigh(s)[0][-1]

    def lower_gradient(s):
        v = np.linalg.eigh(s)[1][:, -1]
        out = np.tril(2 * np.outer(v, v))
        out[np.diag_indices(len(v))] /= 2
        return out

    def symmetric_gradient(s):  # right for a function of a symmetric matrix, wrong for what eigh reads
        v = np.linalg.eigh(s)[1][:, -1]
        return np.outer(v, v)

    s = symmetric(rng, 3)
    result = check_grad(top, (s,), grad=lower_gradient, per_op="off")
    assert result.status == "pass" and result.high_precision is True
    result = check_grad(top, (s,), grad=symmetric_gradient, per_op="off", raise_on_mismatch=False)
    assert result.status == "formula_error" and result.high_precision is True
    assert {m.index for m in result.mismatches} == {(i, j) for i in range(3) for j in range(3) if i != j}


def test_a_scipy_solve_triangular_gradient_is_checked_at_high_precision(rng):
    b = rng.normal(size=3)

    def f(lower):
        return np.sum(scipy_linalg.solve_triangular(lower, b, lower=True))

    def grad(lower):
        x = scipy_linalg.solve_triangular(lower, b, lower=True)
        y = scipy_linalg.solve_triangular(lower, np.ones(3), lower=True, trans=1)
        return -np.tril(np.outer(y, x))

    low = np.tril(square(rng, 3))
    result = check_grad(f, (low,), grad=grad, per_op="off")
    assert result.status == "pass" and result.high_precision is True
    result = check_grad(f, (low,), grad=lambda m: grad(m) * (1 + 1e-9), per_op="off", raise_on_mismatch=False)
    assert result.status == "formula_error" and result.high_precision is True


def test_a_spectral_norm_gradient_through_svd_is_checked_at_high_precision(rng):
    def grad(a):
        u, _, vh = np.linalg.svd(a)
        return np.outer(u[:, 0], vh[0])

    a = square(rng, 3)
    result = check_grad(lambda m: np.linalg.norm(m, 2), (a,), grad=grad, per_op="off")
    assert result.status == "pass" and result.high_precision is True
    wrong = check_grad(lambda m: np.linalg.norm(m, 2), (a,), grad=lambda m: grad(m).T, per_op="off",
                       raise_on_mismatch=False)
    assert wrong.status == "formula_error" and wrong.high_precision is True


def test_a_twin_that_cannot_give_a_real_result_names_the_function_in_the_fallback_reason(ctx):
    rotation = precision.to_hp(np.array([[0.0, -1.0], [1.0, 0.0]]), ctx)  # eigenvalues +-i
    value, reason = precision.evaluate_hp(lambda a: np.sum(np.linalg.eigvals(a)), [rotation], ctx)
    assert value is None
    assert reason.startswith("reference limited to float64 by numpy.linalg.eigvals, which raised ValueError")
    value, reason = precision.evaluate_hp(lambda a: np.sum(scipy_linalg.sqrtm(a)), [-rotation @ rotation.T], ctx)
    assert value is None and reason.startswith("reference limited to float64 by scipy.linalg.sqrtm, which raised")
    value, reason = precision.evaluate_hp(lambda a: np.sum(np.linalg.eigvals(a)), [rotation @ rotation.T], ctx)
    assert reason is None and value == 2

"""High-precision numpy.linalg determinants, inverses and solvers (pytest_gradcheck.hp.twins.linalg.solvers).

Each twin is compared with mpmath's own algorithm in the same context (to ~35 digits), with numpy's float64
result (to ~1e-12 relative on well-conditioned input), and with itself at 60 digits; errors are numpy's.
"""

import subprocess
import sys

import mpmath
import numpy as np
import pytest
from linalg_support import agreeing_digits, all_mpf, f64, hp, mp_array, mp_matrix, rel_error, spd, square

from pytest_gradcheck.hp import precision
from pytest_gradcheck.hp import registry as hp_registry
from pytest_gradcheck.hp.twins.linalg import registrations as hp_linalg
from pytest_gradcheck.hp.twins.linalg import solvers as hp_solvers

FLOAT64_RTOL = 1e-12
MP_DIGITS = 35


@pytest.fixture
def ctx():
    return precision.context(40)


@pytest.fixture
def a3(rng):
    return square(rng, 3)


def test_every_numpy_twin_is_registered_and_found_for_its_function():
    for name, entry in hp_linalg.TWINS.items():
        assert hp_registry.TABLES[entry.kind][name] is entry.twin
        assert entry.kind == ("function" if name.startswith("numpy.linalg.") else "patched")
    assert hp_registry.lookup_function(np.linalg.det).__wrapped__ is hp_solvers.det
    assert hp_registry.lookup_function(np.linalg.solve).__wrapped__ is hp_solvers.solve
    assert {"scipy.linalg.solve_triangular", "scipy.linalg.sqrtm", "scipy.linalg.solve_sylvester",
            "scipy.linalg.expm"} <= set(hp_registry.PATCHED)


def test_registering_the_twins_does_not_import_scipy():
    code = ("import sys, pytest_gradcheck\n"
            "before = {m for m in sys.modules if m.startswith('scipy')}\n"
            "import pytest_gradcheck.hp.twins.linalg.registrations\n"
            "print(sorted({m for m in sys.modules if m.startswith('scipy')} - before))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_det_inv_solve_agree_with_mpmath_in_the_same_context_and_with_numpy(ctx, a3, rng):
    a, b = hp(a3, ctx), rng.normal(size=3)
    det = hp_solvers.det(a)
    assert type(det) is ctx.mpf
    assert agreeing_digits([det], [ctx.det(mp_matrix(ctx, a))]) > MP_DIGITS
    assert rel_error(det, np.linalg.det(a3)) < FLOAT64_RTOL
    inv = hp_solvers.inv(a)
    assert all_mpf(inv, ctx) and agreeing_digits(inv, mp_array(ctx.inverse(mp_matrix(ctx, a)))) > MP_DIGITS
    assert rel_error(inv, np.linalg.inv(a3)) < FLOAT64_RTOL
    x = hp_solvers.solve(a, hp(b, ctx))
    assert x.shape == (3,) and all_mpf(x, ctx)
    assert agreeing_digits(x, mp_array(ctx.lu_solve(mp_matrix(ctx, a), ctx.matrix(hp(b, ctx).tolist())))) > MP_DIGITS
    assert rel_error(x, np.linalg.solve(a3, b)) < FLOAT64_RTOL


def test_slogdet_gives_sign_and_log_of_the_determinant(ctx, rng):
    stack = np.stack([square(rng, 3), -square(rng, 3)])
    sign, logabsdet = hp_solvers.slogdet(hp(stack, ctx))
    expected = np.linalg.slogdet(stack)
    assert list(f64(sign)) == list(expected.sign) and rel_error(logabsdet, expected.logabsdet) < FLOAT64_RTOL
    for k in range(2):
        det = ctx.det(mp_matrix(ctx, hp(stack[k], ctx)))
        assert agreeing_digits([logabsdet[k]], [ctx.ln(abs(det))]) > MP_DIGITS
    assert hp_solvers.slogdet(hp(stack[0], ctx)).logabsdet == logabsdet[0]  # the namedtuple fields


def test_stacks_are_looped_over_and_solve_follows_numpy2_vector_rule(ctx, rng):
    stack, b = np.stack([square(rng, 3) for _ in range(2)]), rng.normal(size=3)
    assert rel_error(hp_solvers.det(hp(stack, ctx)), np.linalg.det(stack)) < FLOAT64_RTOL
    assert rel_error(hp_solvers.inv(hp(stack, ctx)), np.linalg.inv(stack)) < FLOAT64_RTOL
    for rhs in (b, rng.normal(size=(3, 2)), rng.normal(size=(2, 3, 1))):
        out = hp_solvers.solve(hp(stack, ctx), hp(rhs, ctx))
        assert rel_error(out, np.linalg.solve(stack, rhs)) < FLOAT64_RTOL
    mixed = hp_solvers.solve(hp(stack[0], ctx), b)  # a float64 right-hand side is converted exactly
    assert all_mpf(mixed, ctx) and rel_error(mixed, np.linalg.solve(stack[0], b)) < FLOAT64_RTOL
    assert hp_solvers.det(hp(np.zeros((0, 2, 2)), ctx)).shape == (0,)


def test_singular_and_malformed_input_raise_numpys_errors(ctx):
    singular = hp([[1.0, 2.0], [2.0, 4.0]], ctx)
    for call in (lambda: hp_solvers.inv(singular), lambda: hp_solvers.solve(singular, hp([1.0, 1.0], ctx)),
                 lambda: hp_solvers.matrix_power(singular, -1)):
        with pytest.raises(np.linalg.LinAlgError, match=r"^Singular matrix$"):
            call()
    assert hp_solvers.det(singular) == 0 and type(hp_solvers.det(singular)) is ctx.mpf
    assert tuple(hp_solvers.slogdet(singular)) == (0, ctx.ninf)
    with pytest.raises(np.linalg.LinAlgError, match="Last 2 dimensions of the array must be square"):
        hp_solvers.det(hp(np.ones((2, 3)), ctx))
    with pytest.raises(np.linalg.LinAlgError, match="1-dimensional array given"):
        hp_solvers.inv(hp(np.ones(3), ctx))
    with pytest.raises(ValueError, match="mismatch in its core dimension 0"):
        hp_solvers.solve(hp(np.eye(2), ctx), hp(np.ones(3), ctx))
    with pytest.raises(TypeError, match="exponent must be an integer"):
        hp_solvers.matrix_power(hp(np.eye(2), ctx), 1.5)
    with pytest.raises(TypeError, match=r"numpy.linalg.det: a: complex element"):
        hp_solvers.det(np.array([[ctx.mpf(1), ctx.mpc(1, 1)], [ctx.mpf(0), ctx.mpf(1)]], dtype=object))
    with pytest.raises(TypeError, match="expected a high-precision array"):
        hp_solvers.det(np.eye(2))


def test_cholesky_reads_only_its_triangle_as_numpy_does(ctx, rng):
    p = spd(rng, 3)
    lower_only, upper_only = np.tril(p) + np.triu(np.full((3, 3), 99.0), 1), np.triu(p) - np.tril(np.ones((3, 3)), -1)
    low = hp_solvers.cholesky(hp(lower_only, ctx))
    assert rel_error(low, np.linalg.cholesky(lower_only)) < FLOAT64_RTOL
    assert agreeing_digits(low, mp_array(ctx.cholesky(mp_matrix(ctx, hp(p, ctx))))) > MP_DIGITS
    up = hp_solvers.cholesky(hp(upper_only, ctx), upper=True)
    assert rel_error(up, np.linalg.cholesky(upper_only, upper=True)) < FLOAT64_RTOL
    assert all(up[i, j] == 0 for i in range(3) for j in range(i))
    with pytest.raises(np.linalg.LinAlgError, match="Matrix is not positive definite"):
        hp_solvers.cholesky(hp(-np.eye(2), ctx))


def test_matrix_power_and_tensor_solvers_match_numpy(ctx, a3, rng):
    for n in (-2, -1, 0, 1, 3, 6):
        out = hp_solvers.matrix_power(hp(a3, ctx), n)
        assert all_mpf(out, ctx) and rel_error(out, np.linalg.matrix_power(a3, n)) < FLOAT64_RTOL
    for n in (-3, 4):
        assert agreeing_digits(hp_solvers.matrix_power(hp(a3, ctx), n), mp_array(mp_matrix(ctx, hp(a3, ctx)) ** n)) > 35
    stack = np.stack([a3, a3.T])  # numpy refuses stacks of object arrays; the twin loops over them
    assert rel_error(hp_solvers.matrix_power(hp(stack, ctx), -2), np.linalg.matrix_power(stack, -2)) < 1e-12
    t = np.eye(6).reshape(6, 2, 3) + 0.1 * rng.uniform(-1.0, 1.0, (6, 2, 3))
    tinv = hp_solvers.tensorinv(hp(t, ctx), ind=1)
    assert tinv.shape == (2, 3, 6) and rel_error(tinv, np.linalg.tensorinv(t, ind=1)) < FLOAT64_RTOL
    assert agreeing_digits(tinv.reshape(6, 6), mp_array(ctx.inverse(mp_matrix(ctx, hp(t.reshape(6, 6), ctx))))) > 35
    a, b = t.reshape(2, 3, 2, 3), rng.normal(size=(2, 3))
    assert rel_error(hp_solvers.tensorsolve(hp(a, ctx), hp(b, ctx)), np.linalg.tensorsolve(a, b)) < FLOAT64_RTOL


def test_results_at_40_digits_agree_with_60_digits(a3, rng):
    b = rng.normal(size=(3, 2))
    low, high = precision.context(40), precision.context(60)
    for twin in (hp_solvers.det, hp_solvers.inv, lambda m: hp_solvers.matrix_power(m, -3),
                 lambda m: hp_solvers.slogdet(m).logabsdet, lambda m: hp_solvers.cholesky(m @ m.T)):
        assert agreeing_digits(np.atleast_1d(twin(hp(a3, low))), np.atleast_1d(twin(hp(a3, high)))) > MP_DIGITS
    assert agreeing_digits(hp_solvers.solve(hp(a3, low), hp(b, low)), hp_solvers.solve(hp(a3, high), hp(b, high))) > 35


def test_results_are_rounded_to_within_half_an_ulp_of_the_40_digit_context(rng):
    """Computed with guard bits, then rounded: the error is below half a unit in the last of 136 bits."""
    low, high = precision.context(40), precision.context(60)
    half_ulp_digits = -np.log10(2.0**-136)  # 40.94
    for _ in range(4):
        a = rng.uniform(-1.0, 1.0, (4, 4))  # general matrices: partial pivoting swaps rows
        for twin in (hp_solvers.inv, lambda m: np.atleast_1d(hp_solvers.det(m)), lambda m: hp_solvers.solve(m, m[0])):
            assert agreeing_digits(twin(hp(a, low)), twin(hp(a, high))) > half_ulp_digits - 0.05


def test_det_follows_the_row_swaps_of_pivoting(ctx, rng):
    for _ in range(3):
        a = rng.uniform(-1.0, 1.0, (4, 4))
        assert rel_error([hp_solvers.det(hp(a, ctx))], [np.linalg.det(a)]) < FLOAT64_RTOL
        assert agreeing_digits([hp_solvers.det(hp(a, ctx))], [ctx.det(mp_matrix(ctx, hp(a, ctx)))]) > MP_DIGITS
    assert hp_solvers.det(hp([[0.0, 1.0], [1.0, 0.0]], ctx)) == -1


def test_the_global_context_and_the_callers_precision_are_untouched(ctx, a3):
    global_prec, prec = mpmath.mp.prec, ctx.prec
    hp_solvers.inv(hp(a3, ctx))
    with pytest.raises(np.linalg.LinAlgError):
        hp_solvers.inv(hp(np.zeros((2, 2)), ctx))  # an error inside the guarded section restores it too
    assert (mpmath.mp.prec, ctx.prec) == (global_prec, prec)
    det = hp_solvers.det(hp(a3, ctx))
    assert type(det) is ctx.mpf and det._mpf_[3] <= ctx.prec  # rounded back to the context's own precision
    with ctx.extraprec(24):
        unrounded = hp_solvers.determinant(ctx, hp(a3, ctx))
    assert unrounded._mpf_[3] > ctx.prec and det == +unrounded

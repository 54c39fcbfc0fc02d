"""The quad tier: f evaluated on numpy-quaddtype arrays by default, the calls quad cannot run on mpmath one by
one, and the same verdicts as the mpmath tier (a wrong gradient caught and named, float64 constants and buffers
inside f seen), with the tier recorded."""

import warnings

import numpy as np
import pytest
import scipy.special
from benchmark_modules import load

from pytest_gradcheck import GradcheckUsageError, check_grad
from pytest_gradcheck.hp import quad

pytestmark = pytest.mark.skipif(not quad.available(), reason="numpy-quaddtype is not installed")

X = np.linspace(-0.9, 1.3, 6).reshape(2, 3)


def tanh_loss(w):
    return np.sum(np.tanh(w) ** 2)


def tanh_grad(w):
    t = np.tanh(w)
    return 2 * t * (1 - t**2)


def one_element_wrong(grad, index, relative=1e-9):
    def wrong(*xs):
        g = np.array(grad(*xs), copy=True)
        g[index] = g[index] * (1 + relative)
        return g

    return wrong


def test_the_default_tier_is_quad_and_the_result_says_so():
    result = check_grad(tanh_loss, X, grad=tanh_grad)
    assert result.status == "pass" and result.backend == "quad" and result.digits == quad.QUAD_DIGITS
    assert "33-digit quad reference" in result.report()
    assert result.worst["formula"] < 1e-20  # quad's reference resolves far below float64


def test_digits_or_backend_mpmath_ask_for_the_mpmath_tier():
    assert check_grad(tanh_loss, X, grad=tanh_grad, digits=40).backend == "mpmath"
    assert check_grad(tanh_loss, X, grad=tanh_grad, backend="mpmath").backend == "mpmath"


def test_backend_is_validated_and_quad_needs_the_package(monkeypatch):
    with pytest.raises(GradcheckUsageError, match="backend: expected one of"):
        check_grad(tanh_loss, X, grad=tanh_grad, backend="fast")
    with pytest.raises(GradcheckUsageError, match="digits: backend 'quad' carries 33 digits"):
        check_grad(tanh_loss, X, grad=tanh_grad, backend="quad", digits=40)
    monkeypatch.setattr(quad, "available", lambda: False)
    with pytest.raises(GradcheckUsageError, match="backend: 'quad' needs numpy-quaddtype"):
        check_grad(tanh_loss, X, grad=tanh_grad, backend="quad")
    assert check_grad(tanh_loss, X, grad=tanh_grad).backend == "mpmath"  # without it: mpmath, as before


@pytest.mark.parametrize("backend", ["quad", "mpmath"])
def test_a_1e_minus_9_error_in_one_element_is_caught_and_named_on_either_tier(backend):
    result = check_grad(tanh_loss, X, grad=one_element_wrong(tanh_grad, (1, 2)), backend=backend,
                        raise_on_mismatch=False)
    assert result.status == "formula_error" and result.backend == backend
    assert [m.index for m in result.mismatches if m.kind == "formula"] == [(1, 2)]


A = np.array([[2.0, 0.3, 0.1], [0.3, 1.5, 0.2], [0.1, 0.2, 1.8]])


def solve_expit(x):
    y = np.linalg.solve(A, np.tanh(x))  # no quad loop: this call alone runs on mpmath
    return np.sum(scipy.special.expit(y) * x)


def solve_expit_grad(x):
    y = np.linalg.solve(A, np.tanh(x))
    s = scipy.special.expit(y)
    return s + np.linalg.solve(A.T, x * s * (1 - s)) * (1 - np.tanh(x) ** 2)


def test_linear_algebra_and_scipy_special_run_on_mpmath_per_call_and_the_check_stays_on_quad():
    x = np.array([0.3, -0.7, 1.1])
    result = check_grad(solve_expit, x, grad=solve_expit_grad)
    assert result.status == "pass" and result.backend == "quad", result.report()
    assert not [n for n in result.notes if "quad tier could not" in n]
    wrong = check_grad(solve_expit, x, grad=one_element_wrong(solve_expit_grad, 1), raise_on_mismatch=False)
    assert wrong.status == "formula_error" and [m.index for m in wrong.mismatches] == [(1,)]


def test_operations_that_crash_or_mislead_numpy_quaddtype_are_kept_away_from_it():
    # np.einsum('i,i->') of 1-D quad arrays kills numpy-quaddtype 1.0; a transposed operand of its matmul gives
    # wrong numbers; np.clip has no loop: the check must still be right.
    w = np.linspace(-1, 1, 12).reshape(4, 3)

    def f(v):
        return np.einsum("i,i->", v, v) + np.sum((w.T @ np.clip(w @ v, -0.5, 0.5)) * v)

    def grad(v):
        z = w @ v
        inside = (np.abs(z) < 0.5).astype(float)
        return 2 * v + w.T @ np.clip(z, -0.5, 0.5) + w.T @ (inside * (w @ v))

    result = check_grad(f, np.array([0.2, -0.1, 0.05]), grad=grad)
    assert result.status == "pass" and result.backend == "quad", result.report()


def test_a_float64_constant_is_detected_on_quad():
    result = check_grad(lambda x: np.sum(np.sin(np.pi * x)), np.array([0.1, 0.4]),
                        grad=lambda x: np.pi * np.cos(np.pi * x))
    assert result.backend == "quad" and result.float64_constants == ["pi"]


@pytest.mark.parametrize("backend", ["quad", "mpmath"])
def test_a_float64_buffer_inside_f_is_not_trusted_on_either_tier(backend):
    def f(x):
        buffer = np.zeros(x.shape)  # float64: the high-precision values are rounded into it
        buffer[:] = x
        return np.sum(np.tanh(buffer) * x)

    def grad(x):
        t = np.tanh(x)
        return t + x * (1 - t**2)

    result = check_grad(f, np.array([0.3, -1.2, 0.8]), grad=grad, backend=backend, mode="full")
    assert result.status == "pass"
    assert not result.high_precision and "passes through float64" in result.precision_note


def test_quad_rounding_to_float64_inside_moves_the_check_to_mpmath():
    # numpy-quaddtype 1.0's scalar constructor rounds a quad scalar to float64: f's value looks fine, its
    # round-off does not, and the check must not trust the quad tier for it.
    def f(x):
        s = np.sum(np.tanh(x) ** 2)
        return s.dtype.type(s) if hasattr(s, "dtype") else s

    def grad(x):
        t = np.tanh(x)
        return 2 * t * (1 - t**2)

    x = np.array([0.25, -0.5, 0.75])
    result = check_grad(f, x, grad=grad, mode="full")
    assert result.status == "pass" and result.backend == "mpmath", result.report()
    assert any("quad tier could not carry f" in n for n in result.notes)
    wrong = check_grad(f, x, grad=one_element_wrong(grad, 2), mode="full", raise_on_mismatch=False)
    assert wrong.status == "formula_error" and [m.index for m in wrong.mismatches] == [(2,)]


def test_in_place_writes_that_quad_cannot_do_move_the_check_to_mpmath():
    def f(x):
        y = np.tanh(x)
        np.put(y, [0], x[0] ** 2)  # in place into a quad array: not on the quad tier
        return np.sum(y * x)

    def grad(x):
        t = np.tanh(x)
        g = t + x * (1 - t**2)
        g[0] = 3 * x[0] ** 2
        return g

    result = check_grad(f, np.array([0.4, -0.3, 0.9]), grad=grad)
    assert result.status == "pass" and result.backend == "mpmath", result.report()


def test_a_large_gradient_stays_quad_and_a_wrong_element_is_still_located():
    x = np.linspace(-1.0, 1.0, 5000)

    def f(v):
        return np.sum(np.tanh(v) * v)

    def grad(v):
        t = np.tanh(v)
        return t + v * (1 - t**2)

    assert check_grad(f, x, grad=grad).backend == "quad"
    wrong = check_grad(f, x, grad=one_element_wrong(grad, 1234, relative=1e-6), raise_on_mismatch=False)
    assert wrong.status == "formula_error" and wrong.backend == "quad"
    assert (1234,) in [m.index for m in wrong.mismatches]


CORPUS = load("corpus")


@pytest.mark.parametrize("name", CORPUS.NAMES)
def test_quad_references_agree_with_40_digit_mpmath_references_within_their_error_estimates(name):
    problem = CORPUS.make(name, 0)
    on_quad = check_grad(problem.f, problem.args, grad=problem.grad, mode="full", per_op="off")
    on_mpmath = check_grad(problem.f, problem.args, grad=problem.grad, mode="full", per_op="off", digits=40)
    assert on_quad.backend == "quad" and on_mpmath.backend == "mpmath"
    for q, q_error, m, m_error in zip(on_quad.reference, on_quad.reference_error, on_mpmath.reference,
                                      on_mpmath.reference_error, strict=True):
        difference = np.abs(np.asarray(q, dtype=float) - np.asarray(m, dtype=float))
        allowed = np.asarray(q_error, dtype=float) + np.asarray(m_error, dtype=float)
        # the float64 rounding of two references that agree to 1e-20 differs by at most an ulp of each
        allowed = allowed + 2 * np.spacing(np.abs(np.asarray(m, dtype=float)))
        assert np.all(difference <= allowed), (name, difference.max(), allowed.min())


def test_the_screen_retries_once_at_a_better_step_on_quad_and_a_wrong_gradient_still_fails_it():
    # beale's third derivative is large: at quad's first step the 3-point estimate's own error exceeds the
    # screen's window; the step minimising it decides the screen (3 evaluations more, not a full check)
    problem = CORPUS.make("beale", 0)
    right = check_grad(problem.f, problem.args, grad=problem.grad)
    assert right.status == "pass" and right.backend == "quad" and right.evaluations == 9
    assert right.projections == 1 and len(right.traces) == 2  # the first attempt and the retry
    def wrong_grad(x):
        g = np.array(problem.grad(x)[0], copy=True)
        g[1] *= 1 + 1e-9
        return (g,)

    wrong = check_grad(problem.f, problem.args, grad=wrong_grad, raise_on_mismatch=False)
    assert wrong.status == "formula_error" and [m.index for m in wrong.mismatches] == [(1,)]


MATMUL_SCRIPT = """
import numpy as np
from pytest_gradcheck.hp import install, precision, quad
ctx = precision.context(quad.QUAD_DIGITS)
rng = np.random.default_rng(0)
cases = 0
with install.patched():
    for left, right in [((3, 4), (4, 2)), ((4,), (4, 2)), ((3, 4), (4,)), ((4,), (4,)), ((1, 4), (4, 1)),
                        ((3, 0), (0, 2)), ((2, 3, 4), (4, 2))]:
        a, b = rng.standard_normal(left), rng.standard_normal(right)
        for x, y in [(a, b), (np.asfortranarray(a), b), (a, b[::-1] if b.ndim else b)]:
            for qa, qb in [(quad.to_quad(x, ctx), quad.to_quad(y, ctx)), (quad.to_quad(x, ctx), y),
                           (x, quad.to_quad(y, ctx))]:
                got = quad.to_objects(np.asarray(qa @ qb), ctx)
                exact = np.asarray(x, dtype=object) @ np.asarray(y, dtype=object)
                assert got.shape == np.shape(exact), (left, right, got.shape)
                assert all(abs(float(g) - float(e)) <= 1e-15 * (1 + abs(float(e)))
                           for g, e in zip(np.ravel(got), np.ravel(exact))), (left, right)
                cases += 1
    t = quad.to_quad(rng.standard_normal((4, 3)), ctx)
    transposed = quad.to_objects(np.asarray(t.T @ quad.to_quad(np.ones((4, 2)), ctx)), ctx)
    assert np.allclose(np.asarray(transposed, dtype=float), t.view(np.ndarray).astype(float).T @ np.ones((4, 2)))
print(cases)
"""


def test_matmul_on_quad_arrays_is_right_for_every_operand_layout_and_never_crashes():
    # numpy-quaddtype 1.0's own matmul gives wrong numbers for transposed, vector and stacked operands: the tier
    # hands it contiguous 2-D copies only (stacks go to mpmath). Run in a subprocess: a crash fails this test.
    import subprocess
    import sys

    done = subprocess.run([sys.executable, "-c", MATMUL_SCRIPT], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert int(done.stdout.split()[-1]) == 63


def test_a_quad_array_passed_by_keyword_to_a_call_on_the_mpmath_path_is_converted():
    def f(x):
        return np.sum(np.linalg.norm(x=np.tanh(x)) ** 2 * x)  # np.linalg.norm runs on mpmath, x by keyword

    def grad(x):
        t = np.tanh(x)
        return np.sum(t * t) + 2 * np.sum(x) * t * (1 - t * t)

    x = np.array([0.3, -0.2, 0.7])
    result = check_grad(f, x, grad=grad)
    assert result.status == "pass" and result.backend == "quad", result.report()
    wrong = check_grad(f, x, grad=one_element_wrong(grad, 2), raise_on_mismatch=False)
    assert wrong.status == "formula_error" and [m.index for m in wrong.mismatches] == [(2,)]


def test_the_engines_square_of_zero_on_the_quad_tier_is_no_checker_error():
    """numpy-quaddtype 1.0 flags power(0, 2) as an invalid value on plain quad arrays, which autodiff_ref's ops
    compute on; under warnings-as-errors that was a checker error (found by the random-graph fuzz test)."""
    if not quad.available():
        pytest.skip("the quad tier needs numpy-quaddtype")

    def f(x):
        return np.sum(np.tanh(x)) + np.sum((x - x) ** 2.0)

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        result = check_grad(f, np.array(1e-6), per_op="always", backend="quad")
    assert result.ok and result.high_precision and result.backend == "quad"
    assert all(row.status != "error" for row in result.ops)

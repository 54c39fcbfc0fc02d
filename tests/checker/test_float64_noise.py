"""The float64 reference on noisy f: float32 inside, an iterative solve, stairs, and kinks that are real."""

import math

import numpy as np
import pytest

from pytest_gradcheck import check_grad


def float32_inside(x):
    y = x.astype(np.float32)
    return np.sum(np.sin(y) * y)


def float32_gradient(x):
    return np.cos(x) * x + np.sin(x)


def sign_flipped(x):
    g = float32_gradient(x)
    g[3] = -g[3]
    return g


@pytest.mark.parametrize("seed", range(4))
def test_float32_inside_a_correct_gradient_passes_and_a_sign_flip_is_named(seed):
    rng = np.random.default_rng(seed)
    x = rng.uniform(-3, 3, 6 + seed % 3)
    right = check_grad(float32_inside, x, grad=float32_gradient, per_op="off")
    assert right.status == "pass" and not right.high_precision and not right.kinks
    limit = [note for note in right.notes if note.startswith("float64 reference limited by f's noise")]
    assert limit and "tolerance" in limit[0] and "more than float64 round-off" in limit[0]
    assert not any("digits=" in note for note in right.notes)
    wrong = check_grad(float32_inside, x, grad=sign_flipped, raise_on_mismatch=False, per_op="off")
    assert wrong.status == "formula_error" and not wrong.ok
    assert [m.index for m in wrong.mismatches] == [(3,)]


def newton(x, tol=1e-10):
    """y - cos(y) / 2 = x by Newton's method, stopped when the step is below tol."""
    y = np.array(x, dtype=np.float64)
    for _ in range(100):
        step = (y - 0.5 * np.cos(y) - x) / (1 + 0.5 * np.sin(y))
        y = y - step
        if np.max(np.abs(step)) < tol:
            break
    return y


def solved(x):
    return np.sum(newton(np.asarray(x, dtype=np.float64)) ** 2)


def solved_gradient(x):
    y = newton(x)
    return 2 * y / (1 + 0.5 * np.sin(y))  # dy/dx = 1 / (1 + sin(y) / 2), the implicit function theorem


@pytest.mark.parametrize("seed", range(3))
def test_an_iterative_solve_with_a_tolerance(seed):
    x = np.random.default_rng(seed).uniform(-2, 2, 6)
    assert check_grad(solved, x, grad=solved_gradient, per_op="off").status == "pass"

    def missing_factor(x):
        g = solved_gradient(x)
        g[2] *= 1.001
        return g

    wrong = check_grad(solved, x, grad=missing_factor, raise_on_mismatch=False, per_op="off")
    assert wrong.status == "formula_error" and [m.index for m in wrong.mismatches] == [(2,)]


def compiled_kinks(x):
    """|x| + max(x, 0) through float() and math.fsum: f cannot run at high precision."""
    return math.fsum(abs(float(v)) for v in x) + math.fsum(max(float(v), 0.0) for v in x)


def test_a_genuine_kink_in_float64_only_code_is_nondifferentiable():
    x = np.array([0.0, 1.5, -0.7, 0.0, 2.0])
    result = check_grad(compiled_kinks, x, grad=lambda x: np.sign(x) + (x > 0), per_op="off")
    assert result.status == "nondifferentiable" and result.ok and not result.high_precision
    assert [k.where for k in result.kinks] == ["element (0,)", "element (3,)"]
    assert all(abs(k.left + 1) < 1e-6 and abs(k.right - 2) < 1e-6 for k in result.kinks)
    outside = check_grad(compiled_kinks, x, grad=lambda x: np.sign(x) + (x > 0) + 5 * (np.arange(5) == 3),
                         raise_on_mismatch=False, per_op="off")
    assert not outside.ok and [k.valid_choice for k in outside.kinks] == [True, False]


def float16_inside(x):
    return float(np.sum((x.astype(np.float16).astype(float) + 100) ** 2))


def test_a_gradient_the_reference_cannot_resolve_is_inconclusive_and_says_why():
    """float16 inside: stairs 0.0625 wide, wider than any step the reference may take. A wrong gradient (1e-3
    off in element 2) and the right one alike get no verdict, never a pass."""
    x = np.array([0.3, -0.2, 0.5, 0.1])
    for grad in (lambda x: 2 * (x + 100), lambda x: 2 * (x + 100) * np.array([1, 1, 1.001, 1])):
        result = check_grad(float16_inside, x, grad=grad, raise_on_mismatch=False, per_op="off")
        assert result.status == "inconclusive" and not result.ok
        [note] = [note for note in result.notes if "too uncertain" in note]
        assert "cannot resolve" in note and "f's float64 noise" in note and "make f run at high precision" in note
        assert not any("digits=" in note for note in result.notes)


def test_a_gradient_below_a_float64_references_error_is_not_told_to_raise_digits():
    def f(x):
        return math.fsum([1.0, *(1e-20 * float(v) ** 2 for v in x)])

    result = check_grad(f, np.array([0.5, -0.3]), grad=lambda x: 2e-20 * x, per_op="off")
    [note] = [note for note in result.notes if "below the reference's error" in note]
    assert "float64 reference limited by f's noise" in note and "digits=" not in note

"""The two diagnoses, kinks, and the float64 fallback."""

import numpy as np
import pytest

from pytest_gradcheck import GradcheckError, check_grad


def test_naive_softmax_at_large_logits_is_a_float64_accuracy_loss_not_a_formula_error():
    def f(z):
        return np.exp(z[0]) / np.sum(np.exp(z))

    def grad(z):
        p = np.exp(z) / np.sum(np.exp(z))
        return p[0] * (np.eye(z.shape[0])[0] - p)

    z = np.array([709.5, 709.0, 700.0])  # float64: the sum of exponentials overflows, so p = 0
    with np.errstate(over="ignore", invalid="ignore"):
        result = check_grad(f, z, grad=grad, raise_on_mismatch=False)
    assert result.status == "float64_accuracy", result.message()
    assert all(m.kind == "float64_accuracy" for m in result.mismatches)
    warned = None
    with np.errstate(over="ignore", invalid="ignore"):
        warned = check_grad(f, z, grad=grad, float64_accuracy="warn")
    assert warned.ok and warned.status == "float64_accuracy"


def test_wrong_formula_below_float64_tolerance_is_caught_at_high_precision():
    def f(x):
        return np.sum(np.sin(x))

    def truncated_cos(x):  # cos by its Taylor series to x^6: relative error x^8 / 8! = 1e-15 at x = 0.05
        return 1 - x**2 / 2 + x**4 / 24 - x**6 / 720

    x = np.array([0.05, -0.05])
    result = check_grad(f, x, grad=truncated_cos, raise_on_mismatch=False)
    assert result.status == "formula_error"
    assert all(m.rel_error < 1e-14 for m in result.mismatches)  # far below the float64 tolerance (1e-10)
    assert check_grad(f, x, grad=np.cos).status == "pass"


@pytest.mark.parametrize(
    ("f", "x", "left", "right"),
    [
        (lambda x: np.sum(np.abs(x)), np.array([0.0, 1.0]), -1.0, 1.0),
        (lambda x: np.sum(np.maximum(x, 0.0)), np.array([0.0, 2.0]), 0.0, 1.0),
    ],
)
def test_kinks_are_nondifferentiable_with_one_sided_derivatives(f, x, left, right):
    result = check_grad(f, x, mode="full", raise_on_mismatch=False)
    assert result.status == "nondifferentiable"
    (kink,) = result.kinks
    assert kink.argument == 0 and "element (0,)" in kink.where
    assert (kink.left, kink.right) == pytest.approx((left, right), abs=1e-12)
    assert kink.valid_choice and result.ok  # the engine's convention is a one-sided choice or in between


def test_gradient_outside_the_subgradient_interval_is_flagged():
    with pytest.raises(GradcheckError) as info:
        check_grad(lambda x: np.sum(np.abs(x)), np.array([0.0]), grad=lambda x: np.array([3.0]))
    result = info.value.result
    assert result.status == "nondifferentiable" and not result.ok and not result.kinks[0].valid_choice
    assert "OUTSIDE" in result.message()


def test_code_that_casts_to_float64_falls_back_to_a_float64_reference_named_and_still_checks():
    def f(a):
        return np.linalg.det(np.array(a.tolist(), dtype=float))  # rebuilt from a list: float64

    def grad(a):
        return np.linalg.det(a) * np.linalg.inv(a).T

    a = np.array([[2.0, 0.3], [0.1, 1.5]])
    result = check_grad(f, a, grad=grad)
    assert result.status == "pass" and not result.high_precision
    assert "returned float64 output" in result.precision_note
    assert any("estimated noise of one evaluation" in note for note in result.notes)
    assert all(e > 0 for e in result.reference_error[0].flat)
    wrong = check_grad(f, a, grad=lambda a: np.linalg.inv(a), raise_on_mismatch=False)
    assert wrong.status == "formula_error"


def test_float64_buffer_inside_high_precision_code_is_not_trusted():
    def f(x):
        b = np.zeros(x.shape)
        b[:] = x
        return np.sum(b * x)

    result = check_grad(f, np.array([0.5, -1.25, 2.0]), grad=lambda x: 2 * x)
    assert not result.high_precision and "float64" in result.precision_note


def test_derivative_swallowed_by_rounding_inside_f_gets_an_honest_error_not_a_false_failure():
    """Hypothesis found it: log(cosh(x)) at x ~ 1e-294 rounds cosh to 1, so the differences see 0; the
    measured round-off (the same evaluation at 20 more digits) widens the error estimate to cover it."""
    x = np.array([[0.0, 0.0, 0.0], [0.0, 1.1302973e-294, 1.1302973e-294]])
    result = check_grad(lambda x: np.sum(np.log(np.cosh(x))), x, grad=np.tanh, per_op="off")
    assert result.status == "pass"
    assert np.all(result.reference_error[0] >= np.abs(np.tanh(x)))  # the error estimate covers the truth
    assert np.all(result.reference_error[0] < 1e-20)  # and is still tiny
    assert any("below the reference's error" in note and "raise digits=" in note for note in result.notes)

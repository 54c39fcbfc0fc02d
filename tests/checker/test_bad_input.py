"""Bad input: clear errors that name the argument; nothing coerced."""

import numpy as np
import pytest

from pytest_gradcheck import GradcheckUsageError, check_grad


def f(x, y):
    return np.sum(x * y)


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        ((np.arange(3), np.ones(3)), "args[0] ('x'): expected dtype float64 or float32, got int64"),
        ((np.ones(3), np.array([1.0, np.nan, 0.0])), "args[1] ('y'): non-finite input"),
        ((np.ones(3), [1.0, 2.0, 3.0]), "args[1] ('y'): expected a float64 or float32 numpy array, got list"),
        ((np.ones(3, dtype=np.float16), np.ones(3)), "got float16"),
    ],
)
def test_bad_arguments_are_named(args, needle):
    with pytest.raises(GradcheckUsageError) as info:
        check_grad(f, args)
    assert needle in str(info.value)


def test_a_complex_argument_with_a_gradient_needs_its_convention():
    with pytest.raises(GradcheckUsageError, match=r"args\[1\] \('y'\) is complex: complex_convention="):
        check_grad(f, (np.ones(3), np.ones(3, dtype=complex)), grad=lambda x, y: (y, x))


def test_non_finite_output_is_an_error():
    with pytest.raises(GradcheckUsageError, match="non-finite"), np.errstate(invalid="ignore"):
        check_grad(lambda x: np.sum(np.log(x)), np.array([-1.0, 1.0]), grad=lambda x: 1 / x)


def test_wrong_gradient_count_and_shape():
    x = (np.ones(2), np.ones(2))
    with pytest.raises(GradcheckUsageError, match="returned 1 arrays, expected 2"):
        check_grad(f, x, grad=lambda x, y: (y,))
    with pytest.raises(GradcheckUsageError, match=r"shape \(3,\) for argument 1 \('y'\), expected \(2,\)"):
        check_grad(f, x, grad=lambda x, y: (y, np.ones(3)))


def test_grad_and_vjp_together_are_refused():
    with pytest.raises(GradcheckUsageError, match="either grad= or vjp="):
        check_grad(f, (np.ones(2), np.ones(2)), grad=lambda x, y: (y, x), vjp=lambda g, x, y: (y, x))


@pytest.mark.parametrize(
    ("option", "value", "needle"),
    [("mode", "slow", "mode: expected one of"), ("digits", 10, "digits: expected an int >= 20"),
     ("digits", 10**9, r"digits: expected an int >= 20 and <= 10000, got 1000000000"),
     ("seed", -1, "seed: expected"), ("projections", 0, "projections: expected"),
     ("float64_accuracy", "ignore", "float64_accuracy: expected"), ("rtol", -1.0, "rtol: expected")],
)
def test_bad_options_are_named(option, value, needle):
    with pytest.raises((GradcheckUsageError, ValueError), match=needle):
        check_grad(lambda x: np.sum(x * x), np.ones(2), **{option: value})

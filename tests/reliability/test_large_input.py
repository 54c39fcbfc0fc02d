"""A million elements in `auto` mode: the check completes within the default budget, with an honest reference."""

import time

import numpy as np
import pytest

from pytest_gradcheck import check_grad
from pytest_gradcheck.checker.budget import DEFAULT_MAX_SECONDS
from pytest_gradcheck.hp import quad


def test_a_million_elements_in_auto_mode_complete_within_the_default_budget():
    x = np.linspace(-1.0, 1.0, 10**6)

    def f(x):
        return np.sum(np.tanh(x) * x)

    def grad(x):
        t = np.tanh(x)
        return t + x * (1 - t**2)

    started = time.perf_counter()
    result = check_grad(f, x, grad=grad, per_op="off")
    assert time.perf_counter() - started < DEFAULT_MAX_SECONDS
    assert result.status == "pass" and result.mode == "fast"
    if quad.available():  # the quad tier affords a high-precision reference (benchmarks/ time it)
        assert result.high_precision and result.backend == "quad", result.precision_note
    else:  # mpmath would not fit: the result says the reference is float64 and why
        assert not result.high_precision and "limited to float64 by the budget" in result.precision_note

    wrong = check_grad(f, x, grad=lambda x: grad(x) * (1 + 1e-6), per_op="off", raise_on_mismatch=False)
    assert wrong.status == "formula_error" and wrong.mismatches


@pytest.mark.skipif(not quad.available(), reason="without numpy-quaddtype the test above runs on mpmath")
def test_on_the_mpmath_tier_a_million_elements_fall_back_to_a_float64_reference_within_the_budget():
    # the mpmath tier's own mechanics: a high-precision evaluation of a million object elements would not fit
    x = np.linspace(-1.0, 1.0, 10**6)
    started = time.perf_counter()
    result = check_grad(lambda x: np.sum(np.tanh(x) * x), x, grad=lambda x: np.tanh(x) + x / np.cosh(x) ** 2,
                        per_op="off", backend="mpmath")
    assert time.perf_counter() - started < DEFAULT_MAX_SECONDS
    assert result.status == "pass" and result.mode == "fast"
    assert not result.high_precision and "limited to float64 by the budget" in result.precision_note

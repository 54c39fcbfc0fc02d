"""reference= (no framework needed): a numpy implementation of f's forward as the reference function, after a
same-function check at the point; and the adapter registry, which imports no framework for numpy arguments."""

import subprocess
import sys

import numpy as np
import pytest

from pytest_gradcheck import GradcheckUsageError, check_grad
from pytest_gradcheck.frameworks import adapter_for, framework_of
from pytest_gradcheck.frameworks.check import disagreement


def softplus_sum(x):
    return np.sum(np.log1p(np.exp(x)))


def stable_softplus_sum(x):
    return np.sum(np.logaddexp(0.0, x))


def sigmoid(x):
    return 1 / (1 + np.exp(-x))


X = np.array([0.3, -1.2, 2.0])


def test_reference_stands_in_for_a_numpy_f_and_judges_grad_at_high_precision():
    result = check_grad(softplus_sum, X, grad=sigmoid, reference=stable_softplus_sum)
    assert result.ok and result.high_precision and result.gradient_source == "grad"
    assert result.function == "softplus_sum" and result.argument_names == ("x",)
    wrong = check_grad(softplus_sum, X, grad=lambda x: sigmoid(x) * (1 + 1e-9), reference=stable_softplus_sum,
                       raise_on_mismatch=False)
    assert wrong.status == "formula_error" and wrong.worst["formula"] == pytest.approx(1e-9, rel=1e-3)


def test_reference_with_the_engines_gradient_of_f():
    result = check_grad(softplus_sum, X, reference=stable_softplus_sum)
    assert result.ok and result.gradient_source == "autodiff_ref" and result.high_precision


def test_a_reference_of_another_function_is_its_own_failure_and_nothing_else_is_checked():
    result = check_grad(softplus_sum, X, grad=sigmoid, reference=lambda x: np.sum(np.exp(x)),
                        raise_on_mismatch=False)
    assert result.status == "formula_error" and result.evaluations == 0 and not result.mismatches
    assert result.notes[0].startswith("reference and f disagree at the point by ")
    with pytest.raises(AssertionError, match=r"reference and f disagree at the point by 2\.0e-06 relative"):
        check_grad(softplus_sum, X, grad=sigmoid, reference=lambda x: stable_softplus_sum(x) * (1 + 2e-6))


def test_the_same_function_check_allows_round_off_and_names_the_element():
    assert disagreement(stable_softplus_sum, softplus_sum, (X,), "f") is None
    gap = disagreement(lambda x: x * 2, lambda x: x * np.array([2, 2, 3]), (X,), "f")
    assert gap is not None and gap.startswith("3.3e-01 relative at element (2,)")
    assert disagreement(lambda x: x, lambda x: x[:2], (X,), "f").startswith("in shape")


def test_reference_must_be_callable():
    with pytest.raises(GradcheckUsageError, match="reference: expected a numpy function"):
        check_grad(softplus_sum, X, reference="np.logaddexp")


def test_numpy_arguments_have_no_adapter_and_import_no_framework():
    assert adapter_for((X, X)) is None and adapter_for(X) is None and framework_of(X) is None
    code = ("import sys, numpy as np; from pytest_gradcheck import check_grad; "
            "check_grad(lambda x: np.sum(np.sin(x)), np.ones(2)); "
            "print(sorted(m for m in ('torch', 'jax') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_a_budget_stop_with_reference_checks_no_op_after_it():
    result = check_grad(softplus_sum, X, reference=stable_softplus_sum, per_op="always", max_evaluations=3,
                        raise_on_mismatch=False)
    assert result.status == "budget_exceeded" and not result.ops
    assert result.ops_note == "the budget was spent before the per-op checks"
    unstopped = check_grad(softplus_sum, X, reference=stable_softplus_sum, per_op="always")
    assert unstopped.ok and unstopped.ops  # the per-op table is there when the budget allows it

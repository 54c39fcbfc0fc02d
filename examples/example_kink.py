"""A function with a kink: the lasso objective 0.5 * ||X w - t||^2 + lam * sum(|w|) at a point where one weight is
exactly 0 (as the lasso's solutions often are).

There the function has no derivative in that weight, only a left and a right one, which differ by 2 * lam.
The checker says so (`nondifferentiable`), reports both one-sided derivatives, and judges the gradient given:
any value between them (a subgradient, such as sign(0) = 0) is a valid one-sided choice and the check is ok;
a value outside them (such as the nan of w / |w| at 0) is not, and the check fails.
"""

import numpy as np
import pytest

from pytest_gradcheck import GradcheckError, check_grad

X = np.array([[1.0, 2.0, 0.5], [0.3, -1.0, 2.0], [-0.5, 0.4, 1.0], [2.0, 0.1, -0.3]])
T = np.array([1.0, -0.5, 0.25, 0.75])
LAM = 0.1
AT_KINK = np.array([0.5, 0.0, -0.25])  # w[1] == 0: |w[1]| has a kink


def lasso(w):
    return 0.5 * np.sum((X @ w - T) ** 2) + LAM * np.sum(np.abs(w))


def _smooth_part_gradient(w):
    """The gradient of 0.5 * ||X w - t||^2, differentiable everywhere."""
    return X.T @ (X @ w - T)


def lasso_subgradient(w):
    """sign(w) for the penalty: 0 at w = 0, between the one-sided derivatives -1 and +1 of |w| there."""
    return _smooth_part_gradient(w) + LAM * np.sign(w)


def lasso_gradient_dividing_by_zero(w):
    """A classic slip: d|w|/dw written as w / |w|, which is 0 / 0 = nan at the kink."""
    with np.errstate(invalid="ignore"):
        return _smooth_part_gradient(w) + LAM * w / np.abs(w)


@pytest.mark.gradcheck(mode="full")
def test_subgradient_at_the_kink_is_a_valid_one_sided_choice(gradcheck):
    result = gradcheck(lasso, AT_KINK, grad=lasso_subgradient)
    assert result.status == "nondifferentiable" and result.ok  # reported, not failed
    (kink,) = result.kinks
    assert kink.argument == 0 and kink.where == "element (1,)"
    smooth = _smooth_part_gradient(AT_KINK)[1]  # the one-sided derivatives: smooth part -+ LAM
    np.testing.assert_allclose([kink.left, kink.right], [smooth - LAM, smooth + LAM], rtol=1e-12)
    assert kink.value == lasso_subgradient(AT_KINK)[1] and kink.valid_choice
    assert not result.mismatches  # the other two weights are smooth, and their gradient is right


def test_engine_gradient_names_the_op_at_its_kink():
    """autodiff_ref's convention |x|' = 0 at 0 is a valid choice too; the per-op table shows which op has the kink."""
    result = check_grad(lasso, AT_KINK)
    assert result.status == "nondifferentiable" and result.ok and result.kinks[0].valid_choice
    (row,) = [row for row in result.ops if row.status == "nondifferentiable"]
    assert row.name == "absolute" and row.ok
    assert [kink.where for kink in row.kinks] == ["element (1,)"]


def test_nan_at_the_kink_is_not_a_valid_choice():
    # errstate: comparing the nan with the reference makes numpy warn (an error under filterwarnings=error).
    with pytest.raises(GradcheckError, match="OUTSIDE the one-sided derivatives") as failure, \
            np.errstate(invalid="ignore"):
        check_grad(lasso, AT_KINK, grad=lasso_gradient_dividing_by_zero)
    result = failure.value.result
    assert result.status == "nondifferentiable" and not result.ok
    (kink,) = result.kinks
    assert kink.where == "element (1,)" and np.isnan(kink.value) and not kink.valid_choice


def test_away_from_the_kink_the_same_gradient_simply_passes():
    near = AT_KINK + np.array([0.0, 1e-3, 0.0])
    result = check_grad(lasso, near, grad=lasso_subgradient)
    assert result.status == "pass" and not result.kinks

"""Custom ops with hand-written backward rules (examples/stable_ops.py), checked op by op.

A custom op's backward rule is code nobody derived for you. The per-op check runs each op of the traced
function on its own, at the inputs the tape recorded, and compares its VJP with high-precision central
differences of its forward: a correct rule passes; a broken one is named, with its line and elements.
"""

import inspect

import mpmath
import numpy as np
import pytest
from stable_ops import logistic_loss, logistic_problem, logsumexp, softplus, softplus_copy_paste_bug

from pytest_gradcheck import GradcheckError, check_grad

EXTREMES = np.array([-800.0, -30.0, -1e-3, 0.0, 0.5, 30.0, 800.0])


def _softplus_at_50_digits(x: float) -> float:
    """An independent reference: log(1 + exp(x)) in a private 50-digit mpmath context, rounded to float64."""
    ctx = mpmath.MPContext()
    ctx.dps = 50
    return float(ctx.log(1 + ctx.exp(ctx.mpf(x))))


def test_stable_softplus_is_right_where_the_naive_formula_overflows():
    with np.errstate(over="ignore"):
        naive = np.log(1 + np.exp(EXTREMES))
    assert np.isinf(naive[-1])  # exp(800) overflows: the naive formula gives inf
    expected = [_softplus_at_50_digits(v) for v in EXTREMES]
    np.testing.assert_allclose(softplus(EXTREMES), expected, rtol=4e-16, atol=0)


def sum_of_softplus(x):
    return np.sum(softplus(x))


def test_softplus_backward_passes_at_extreme_inputs():
    result = check_grad(sum_of_softplus, EXTREMES, mode="full")
    assert result.status == "pass" and result.high_precision
    (row,) = [row for row in result.ops if row.custom]
    assert row.name == "softplus" and row.status == "pass"


W, X, Y = logistic_problem()
MARGINS = -Y * (X @ W)  # the inputs of the softplus op in logistic_loss


def logistic_nll(w):
    return logistic_loss(w, X, Y)


def logistic_nll_with_broken_op(w):
    return logistic_loss(w, X, Y, act=softplus_copy_paste_bug)


def test_logistic_loss_with_the_custom_softplus_passes_every_op():
    assert (MARGINS < 0).any() and (MARGINS > 0).any() and np.abs(MARGINS).max() > 25  # both branches, far out
    result = check_grad(logistic_nll, W, per_op="always")
    assert result.status == "pass" and result.gradient_source == "autodiff_ref"
    assert len(result.ops) >= 6 and all(row.status == "pass" for row in result.ops)
    assert [row.name for row in result.ops if row.custom] == ["softplus"]


def _line_calling(function, text):
    """`path:line` of the line of `function` that holds `text` (the op table shows the path relative to the
    current folder, so compare with endswith)."""
    source, first = inspect.getsourcelines(function)
    (line,) = [first + i for i, code in enumerate(source) if text in code]
    return f"{inspect.getsourcefile(function)}:{line}"


def test_broken_backward_is_named_by_op_line_and_element():
    with pytest.raises(GradcheckError) as failure:
        check_grad(logistic_nll_with_broken_op, W)  # fails: the default per_op="auto" checks each op
    result = failure.value.result
    assert result.status == "formula_error"
    (row,) = [row for row in result.ops if not row.ok]  # one op is blamed: the custom op, not its neighbours
    assert row.name == "softplus_copy_paste_bug" and row.custom and row.first_failing
    assert _line_calling(logistic_loss, "act(margins)").endswith(row.location)
    # The pasted branch is only wrong for x < 0: exactly the negative margins are reported, by element.
    assert {m.index for m in row.mismatches} == {(i,) for i in np.flatnonzero(MARGINS < 0)}
    for m in row.mismatches:  # what the bug computes: sigmoid(|x|) instead of sigmoid(x), exp(-x) times too big
        assert m.argument == 0 and m.kind == "formula"
        np.testing.assert_allclose(m.value / m.reference, np.exp(-MARGINS[m.index]), rtol=1e-9)
    message = str(failure.value)  # the pytest failure shows the same: op, line and elements
    assert "softplus_copy_paste_bug*" in message and row.location in message
    assert all(f"formula: input0 ({i},): reference" in message for i in np.flatnonzero(MARGINS < 0))


RNG = np.random.default_rng(7)
CX, CLABELS = RNG.normal(size=(5, 3)), np.array([0, 2, 1, 1, 3])
CW1, CW2 = RNG.normal(size=(3, 4)), RNG.normal(size=(4, 4)) * 3


def softmax_classifier(w1, w2):
    """A two-layer classifier built from both custom ops: softplus hidden units, log-softmax cross-entropy."""
    scores = softplus(CX @ w1) @ w2
    return np.sum(logsumexp(scores) - scores[np.arange(len(CLABELS)), CLABELS])


@pytest.mark.gradcheck(per_op="custom", mode="full")
def test_classifier_with_both_custom_ops_passes(gradcheck):
    """The fixture with the marker's settings: per_op="custom" checks only the custom ops on the tape."""
    result = gradcheck(softmax_classifier, (CW1, CW2))
    assert result.status == "pass" and result.mode == "full"
    assert [(row.name, row.status) for row in result.ops] == [("softplus", "pass"), ("logsumexp", "pass")]

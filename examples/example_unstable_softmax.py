"""A right formula that float64 cannot evaluate: the naive softmax gradient at large (or very negative) logits.

The loss is softmax cross-entropy, sum over rows of logsumexp(z) - z[label], computed stably (stable_ops). Its
gradient is softmax(z) - onehot(label). Written naively, softmax(z) = exp(z) / sum(exp(z)) is the right formula,
so evaluated at high precision it matches the reference derivative; but in float64 exp(1000) overflows (inf / inf =
nan), and exp(-740) is a subnormal number with three significant digits. The checker tells the two apart:
`formula_error` is a wrong formula, `float64_accuracy` a right formula whose float64 evaluation is not accurate.
Shifting by the row maximum, exp(z - max z), makes the same formula accurate in float64.
"""

import numpy as np
import pytest
from stable_ops import logsumexp

from pytest_gradcheck import GradcheckError, check_grad

LABELS = np.array([0, 2])
LARGE = np.array([[1000.0, 999.0, 998.5], [2.0, -1.0, 0.5]])  # row 0: exp overflows
VERY_NEGATIVE = np.array([[-738.0, -740.0, -741.0], [2.0, -1.0, 0.5]])  # row 0: exp gives subnormal numbers


def cross_entropy(z):
    """Softmax cross-entropy of a batch of logits (rows), computed stably."""
    return np.sum(logsumexp(z) - z[np.arange(len(LABELS)), LABELS])


def _minus_onehot(softmax):
    out = softmax.copy()
    out[np.arange(len(LABELS)), LABELS] -= 1
    return out


def naive_gradient(z):
    """softmax(z) - onehot: the right formula, softmax written as exp(z) / sum(exp(z))."""
    e = np.exp(z)
    return _minus_onehot(e / np.sum(e, axis=-1, keepdims=True))


def stable_gradient(z):
    """The same formula with every row shifted by its maximum first: no exponential overflows or underflows."""
    e = np.exp(z - np.max(z, axis=-1, keepdims=True))
    return _minus_onehot(e / np.sum(e, axis=-1, keepdims=True))


def _check(grad, z, **options):
    # The naive gradient overflows on purpose: numpy's overflow / invalid-value warnings (errors under this
    # project's filterwarnings) are silenced, as they would be in code that never looked at them.
    with np.errstate(over="ignore", invalid="ignore"):
        return check_grad(cross_entropy, z, grad=grad, raise_on_mismatch=False, **options)


def test_naive_softmax_gradient_at_large_logits_is_a_float64_accuracy_failure():
    result = _check(naive_gradient, LARGE)
    assert result.status == "float64_accuracy" and not result.ok
    assert result.worst["formula"] < result.tolerance["rtol_formula"]  # at high precision the formula is right
    assert {m.kind for m in result.mismatches} == {"float64_accuracy"}
    assert {m.index for m in result.mismatches} == {(0, 0), (0, 1), (0, 2)}  # the overflowing row, not row 1
    assert all(np.isnan(m.value) for m in result.mismatches)  # float64: inf / inf
    softmax_row = np.exp(LARGE[0] - LARGE[0].max()) / np.sum(np.exp(LARGE[0] - LARGE[0].max()))
    np.testing.assert_allclose([m.reference for m in sorted(result.mismatches, key=lambda m: m.index)],
                               softmax_row - [1, 0, 0], rtol=1e-15)  # the value it should have had


def test_naive_softmax_gradient_at_very_negative_logits_is_silently_inaccurate():
    result = _check(naive_gradient, VERY_NEGATIVE)
    assert result.status == "float64_accuracy" and result.worst["formula"] < result.tolerance["rtol_formula"]
    assert {m.index[0] for m in result.mismatches} == {0}
    assert all(np.isfinite(m.value) for m in result.mismatches)  # no nan to warn you: just wrong digits
    assert max(m.rel_error for m in result.mismatches) > 1e-3


@pytest.mark.parametrize("z", [LARGE, VERY_NEGATIVE], ids=["large", "very_negative"])
def test_shifted_softmax_gradient_passes(z):
    result = _check(stable_gradient, z)
    assert result.status == "pass" and result.worst["float64_accuracy"] < 1e-14


def test_engine_gradient_of_the_stable_loss_passes():
    """No gradient given: autodiff_ref differentiates cross_entropy through the custom logsumexp op."""
    result = check_grad(cross_entropy, LARGE)
    assert result.status == "pass" and result.gradient_source == "autodiff_ref"
    assert [row.name for row in result.ops if row.custom] == ["logsumexp"]


def test_a_float64_accuracy_failure_raises_by_default():
    with pytest.raises(GradcheckError, match="right but its float64 evaluation loses accuracy"), \
            np.errstate(over="ignore", invalid="ignore"):
        check_grad(cross_entropy, LARGE, grad=naive_gradient)


@pytest.mark.gradcheck(float64_accuracy="warn")
def test_float64_accuracy_as_a_warning(gradcheck):
    """With float64_accuracy="warn" (here from the marker) lost accuracy is reported but does not fail."""
    result = gradcheck(cross_entropy, VERY_NEGATIVE, grad=naive_gradient)
    assert result.status == "float64_accuracy" and result.ok and result.mismatches

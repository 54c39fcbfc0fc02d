"""A warning raised inside mpmath's own code (a deprecated internal) never sends the reference to float64, while
the user's own warnings keep their behaviour. pytest runs with filterwarnings=error, as many user suites do."""

import types
import warnings

import mpmath
import numpy as np
import pytest

from pytest_gradcheck import check_grad
from pytest_gradcheck.hp import mpmath_warnings, quad
from pytest_gradcheck.hp.precision import DEFAULT_DIGITS, context, evaluate_hp, to_hp

MESSAGE = "simulated: this internal is deprecated, use another"


def _warning_in_mpmath(original, message=MESSAGE):
    """`original`, warning first from a frame of an mpmath module, as mpmath 1.4's libmp.mpf_log does."""

    def template(*args, **kwargs):
        warnings.warn(message, DeprecationWarning, stacklevel=1)  # mpmath's own: located in mpmath
        return original(*args, **kwargs)

    namespace = {"__name__": "mpmath.libmp.libelefun", "__builtins__": __builtins__, "warnings": warnings}
    return types.FunctionType(template.__code__, namespace, "ln", None, template.__closure__)


@pytest.fixture
def ctx(monkeypatch):
    """The checker's own 40-digit context, its logarithm warning as a deprecated mpmath internal would."""
    ctx = context(DEFAULT_DIGITS)
    monkeypatch.setattr(ctx, "ln", _warning_in_mpmath(ctx.ln))
    monkeypatch.setattr(mpmath_warnings, "QUIETED", set())  # a fresh memory, restored afterwards
    return ctx


def softplus_sum(x):
    return np.sum(np.log1p(np.exp(x)))


def softplus_grad(x):
    return 1 / (1 + np.exp(-x))


def test_the_simulated_internal_raises_under_warnings_as_errors(ctx):
    with pytest.raises(DeprecationWarning, match="simulated"):
        ctx.ln(ctx.mpf(2))


def test_log1p_stays_high_precision_when_mpmath_warns_inside_it(ctx):
    # the mpmath tier's own mechanics: its log1p calls the 40-digit context's ln (on quad, log1p is native)
    result = check_grad(softplus_sum, np.array([0.3, -1.2, 2.5]), grad=softplus_grad, backend="mpmath")
    assert result.high_precision and result.backend == "mpmath", result.precision_note
    assert result.status == "pass"
    assert {(DeprecationWarning, MESSAGE)} == mpmath_warnings.QUIETED


def test_a_wrong_gradient_is_still_caught_at_high_precision_when_mpmath_warns(ctx):
    result = check_grad(softplus_sum, np.array([0.3, -1.2, 2.5]), grad=lambda x: softplus_grad(x) * (1 + 1e-9),
                        raise_on_mismatch=False, backend="mpmath")  # the mpmath tier's own mechanics
    assert result.high_precision and result.status == "formula_error"


def test_the_warning_filters_are_as_before_after_quieting(ctx):
    before = list(warnings.filters)
    value, reason = evaluate_hp(softplus_sum, [to_hp(np.array([0.5]), ctx)], ctx)
    ref = mpmath.MPContext()
    ref.dps = 60  # an independent reference, its logarithm not patched
    assert reason is None and abs(ref.mpf(value) - ref.log1p(ref.exp(ref.mpf(0.5)))) < 1e-35  # 40 digits
    assert warnings.filters == before


def test_the_users_own_deprecation_warning_still_raises_and_is_not_quieted(ctx):
    def f(x):
        warnings.warn(MESSAGE, DeprecationWarning, stacklevel=1)  # the same text as mpmath's, from the user's code
        return softplus_sum(x)

    value, reason = evaluate_hp(f, [to_hp(np.array([0.5]), ctx)], ctx)
    assert value is None and "DeprecationWarning: simulated" in reason
    assert not mpmath_warnings.QUIETED


def test_the_users_warning_after_mpmath_was_quieted_still_raises(ctx):
    x = [to_hp(np.array([0.5]), ctx)]
    assert evaluate_hp(softplus_sum, x, ctx)[1] is None

    def f(x):
        warnings.warn("the user's own", UserWarning, stacklevel=1)
        return softplus_sum(x)

    value, reason = evaluate_hp(f, x, ctx)
    assert value is None and "UserWarning: the user's own" in reason


@pytest.mark.skipif(not quad.available(), reason="the quad tier needs numpy-quaddtype")
def test_a_call_on_the_quad_tiers_mpmath_path_stays_high_precision_when_mpmath_warns_inside_it(monkeypatch):
    special = pytest.importorskip("scipy.special")
    ctx = context(quad.QUAD_DIGITS)  # the context of the quad tier's mpmath path
    monkeypatch.setattr(ctx, "ln", _warning_in_mpmath(ctx.ln))
    monkeypatch.setattr(mpmath_warnings, "QUIETED", set())
    x = np.array([0.3, 1.2, 2.5])
    result = check_grad(lambda x: np.sum(special.xlogy(x, x)), x, grad=lambda x: np.log(x) + 1)  # xlogy: no quad loop
    assert result.high_precision and result.backend == "quad", result.precision_note
    assert result.status == "pass" and {(DeprecationWarning, MESSAGE)} == mpmath_warnings.QUIETED

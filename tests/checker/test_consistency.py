"""consistency: a float64 buffer inside a high-precision function is flagged, genuine ones pass."""

import numpy as np
import pytest
from difference_support import hp, make_context, one

from pytest_gradcheck import check_grad
from pytest_gradcheck.checker import consistency as con
from pytest_gradcheck.checker import differences as dif


@pytest.fixture
def ctx():
    return make_context()




def _buffered(x):
    b = np.zeros(x.shape)
    b[:] = x  # float64 copy: x is rounded on the way
    return np.sum(b * x)


def _consistency(ctx, f, x, u):
    xs, us = hp(ctx, x), hp(ctx, u)
    phi = lambda t: np.array([f(xs + t * us)], dtype=object)  # noqa: E731 - the line through x along u
    scale = max(1.0, float(np.max(np.abs(x))))
    return con.hp_consistency(phi, ctx, scale=scale, reference=dif.hp_derivative(phi, ctx, scale=scale))


def test_consistency_flags_a_float64_buffer(ctx):
    rng = np.random.default_rng(1)
    x, u = rng.standard_normal(5), rng.standard_normal(5)
    c = _consistency(ctx, _buffered, x, u)
    assert not c.ok and c.conclusive and c.status == "inconsistent"
    assert abs(float(c.moderate.value[0]) - 2 * float(np.dot(x, u))) < 1e-9  # the true derivative
    assert c.discrepancy[0] > 0.1 * abs(float(c.moderate.value[0])) and "component 0" in c.reason


@pytest.mark.parametrize("f", [
    lambda x: np.sum(x * x),
    lambda x: np.sum(x**3) - np.prod(x),
    lambda x: x[0].context.exp(50 * x[0]) * x[1],
    lambda x: x[0].context.sin(100 * x[0]) + x[1] ** 10,
    lambda x: 1 / (x[0] - x[0].context.mpf("1.0001")) + x[2],
])
def test_consistency_passes_genuine_high_precision_functions(ctx, f):
    c = _consistency(ctx, f, np.array([0.9, -0.4, 1.3]), np.array([0.6, 1.0, -0.8]))
    assert c.ok and c.conclusive and c.status == "consistent"


def test_consistency_is_inconclusive_when_moderate_steps_do_not_converge(ctx):
    phi = one(lambda t: ctx.sin(1e8 * (t + ctx.mpf("0.1"))))
    c = con.hp_consistency(phi, ctx, scale=1.0, reference=dif.hp_derivative(phi, ctx, scale=1.0))
    assert not c.ok and not c.conclusive and c.status == "inconclusive" and "did not converge" in c.reason


def test_consistency_is_inconclusive_without_a_differentiable_reference(ctx):
    c = con.hp_consistency(one(abs), ctx, scale=1.0, reference=dif.hp_derivative(one(abs), ctx, scale=1.0))
    assert not c.conclusive and "not ok anywhere" in c.reason


def test_a_fast_oscillation_is_never_mistaken_for_a_float64_buffer(ctx):
    # sin(1e9 x): at steps of 1e-5 a Richardson table can converge by chance to a wrong value; only a second
    # table at another step that confirms it makes the disagreement a float64 buffer.
    phi = one(lambda t: ctx.sin(1e9 * (t + ctx.mpf(0.3))))
    c = con.hp_consistency(phi, ctx, scale=1.0, reference=dif.hp_derivative(phi, ctx, scale=1.0))
    assert c.status != "inconsistent"
    result = check_grad(lambda x: np.sum(np.sin(1e9 * x)), np.array([0.3]), per_op="off", raise_on_mismatch=False)
    assert result.high_precision and result.status != "formula_error"

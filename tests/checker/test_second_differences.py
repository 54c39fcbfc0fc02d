"""Second differences: the error estimate covers the true error, and kinks are told from smooth functions."""

from __future__ import annotations

import math

import pytest

from pytest_gradcheck.checker.second_differences import first_step, second_derivative
from pytest_gradcheck.hp.precision import context

CTX = context(40)
X = CTX.mpf("0.3")
SMOOTH = {  # phi(t), its exact second derivative at 0
    "exp": (lambda t: CTX.exp(X + t), CTX.exp(X)),
    "sin3": (lambda t: CTX.sin(3 * (X + t)), -9 * CTX.sin(3 * X)),
    "log": (lambda t: CTX.log(1 + X + t), -1 / (1 + X) ** 2),
    "quartic": (lambda t: t**4, CTX.mpf(0)),
    "steep": (lambda t: CTX.exp(10 * (X + t)), 100 * CTX.exp(10 * X)),
}


@pytest.mark.parametrize("name", sorted(SMOOTH))
def test_the_error_estimate_covers_the_true_error(name):
    phi, exact = SMOOTH[name]
    d = second_derivative(phi, phi(CTX.mpf(0)), step=first_step(CTX.eps, CTX.mpf(1)), scale=1, eps=CTX.eps)
    assert d.status == "ok" and d.evaluations == 6
    assert abs(d.value - exact) <= d.error
    assert d.error <= 1e-20 * max(1, abs(exact)) * 100


def test_the_float64_fallback_resolves_about_seven_digits():
    eps = 2.0**-52
    d = second_derivative(lambda t: math.exp(0.3 + t), math.exp(0.3), step=first_step(eps, 1.0), scale=1.0, eps=eps)
    assert d.status == "ok" and abs(d.value - math.exp(0.3)) <= d.error < 1e-6


def test_a_jump_of_the_first_derivative_is_nondifferentiable_with_unbounded_one_sided_values():
    d = second_derivative(lambda t: abs(t), CTX.mpf(0), step=first_step(CTX.eps, 1), scale=1, eps=CTX.eps)
    assert d.status == "nondifferentiable" and (d.left, d.right) == (-math.inf, math.inf)


def test_a_jump_of_the_second_derivative_gives_the_one_sided_second_derivatives():
    d = second_derivative(lambda t: t * abs(t) + 3 * t**2, CTX.mpf(0), step=first_step(CTX.eps, 1), scale=1,
                          eps=CTX.eps)
    assert d.status == "nondifferentiable"
    assert (float(d.left), float(d.right)) == pytest.approx((4.0, 8.0))
    assert float(d.value) == pytest.approx(6.0)


def test_a_kink_near_but_not_at_the_point_is_smooth_at_the_point():
    d = second_derivative(lambda t: abs(t - CTX.mpf("0.01")), CTX.mpf("0.01"), step=first_step(CTX.eps, 1), scale=1,
                          eps=CTX.eps)
    assert d.status == "ok" and abs(d.value) <= d.error


QUAD = context(33)  # the digits of quad, whose screen takes four steps


@pytest.mark.parametrize("name", sorted(SMOOTH))
def test_four_steps_cover_the_true_error_with_less_round_off_where_f_is_large(name):
    """levels=4 (s/8 too, a larger step): 8 evaluations, an estimate that still covers the true error, and on
    phi + 1000 (|f| far above its second derivative: the round-off NOISE_ULPS ulps of |f| over s^2 dominates)
    an error estimate many times smaller than three steps give."""
    phi, exact = SMOOTH[name]
    lifted = lambda t: QUAD.mpf(phi(t)) + 1000  # noqa: E731
    zero = lifted(QUAD.mpf(0))
    found = {levels: second_derivative(lifted, zero, step=first_step(QUAD.eps, QUAD.mpf(1), levels), scale=1,
                                       eps=QUAD.eps, levels=levels) for levels in (3, 4)}
    four = found[4]
    assert four.status == "ok" and four.evaluations == 8
    assert abs(four.value - exact) <= four.error
    assert four.error * 20 < found[3].error


@pytest.mark.parametrize("phi", [abs, lambda t: t * abs(t) + 3 * t**2])
def test_four_steps_still_tell_a_kink(phi):
    d = second_derivative(phi, CTX.mpf(0), step=first_step(CTX.eps, 1, 4), scale=1, eps=CTX.eps, levels=4)
    assert d.status == "nondifferentiable"

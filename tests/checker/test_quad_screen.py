"""The quick high-precision screen (checker.quad_screen): a float64 gradient against quad differences of a numpy
reference; a clear pass only on agreement to 1e-13, so that a 1e-9 error, a float64 buffer in the reference or a
kink is never passed."""

from __future__ import annotations

import numpy as np
import pytest
from screen_cases import (
    POINT,
    RELU_AT_ZERO,
    SMALL_FIFTH,
    relu_sin,
    relu_sin_vjp,
    softplus,
    softplus_vjp,
    square_sin,
    square_sin_vjp,
)

from pytest_gradcheck.checker import quad_screen
from pytest_gradcheck.hp import quad

pytestmark = pytest.mark.skipif(not quad.available(), reason="the quad tier needs numpy-quaddtype")



def screen(f, vjp, args, *, seed=0, planted=None):
    def gradient(cotangent):
        g = [np.array(v, dtype=float) for v in vjp(cotangent, *args)]
        if planted is not None:
            index, factor = planted
            g[0][index] *= factor
        return g

    return quad_screen.run_screen(f, args, gradient, projections=2, rng=np.random.default_rng(seed))


@pytest.mark.parametrize("seed", range(3))
def test_a_correct_float64_gradient_passes_against_quad_differences(seed):
    run = screen(softplus, softplus_vjp, (POINT,), seed=seed)
    assert run.passed, run.why
    assert run.worst() <= quad_screen.AGREEMENT
    for p in run.projections:
        assert p.error <= 1e-15 * p.size  # quad resolves the derivative far below the agreement
    assert run.evaluations <= 8  # f in float64, once on quad at the point, 3 per projection


@pytest.mark.parametrize("index", [0, 3, 7])
def test_a_one_element_error_of_1e_9_is_no_clear_pass(index):
    run = screen(softplus, softplus_vjp, (POINT,), planted=(index, 1 + 1e-9))
    assert not run.passed and "the gradient and the table differ" in run.why


def test_a_reference_that_passes_through_float64_is_no_clear_pass():
    """The screen skips the thorough check's buffer probes: its steps of ~1e-8 are what catches the buffer (the
    rounded copy moves the differences by ~1e-8 of the derivative, 1e5 times the agreement it asks for)."""

    def buffered(x):
        buffer = np.zeros(x.shape)  # float64: the high-precision values are rounded into it
        buffer[:] = x
        return np.sum(np.logaddexp(0.0, buffer) * (x / x))

    for seed in range(3):
        run = screen(buffered, softplus_vjp, (POINT,), seed=seed)
        assert not run.passed and "differ" in run.why


def test_a_kink_whose_subgradient_is_the_central_average_is_no_clear_pass():
    for seed in range(3):
        run = screen(relu_sin, relu_sin_vjp, (RELU_AT_ZERO,), seed=seed)
        assert not run.passed and "one-sided slopes" in run.why


def test_small_elements_weigh_by_their_own_scale_in_the_projections():
    """The 5th element is ~5e-4 of the largest: in an unweighted projection a 1e-11 error in it (relative to its
    scale, max(|g_i|, 1e-3 of the largest), as the thorough check judges it) moves the sum by ~1e-15 of its size,
    far within the agreement (0 of 20 seeds caught); weighted by that scale it shows whole, and no table of its own
    is spent."""
    x, f, vjp = SMALL_FIFTH, square_sin, square_sin_vjp
    run = screen(f, vjp, (x,))
    assert run.passed, run.why
    assert [p.label for p in run.projections] == ["projection 0", "projection 1"] and run.evaluations <= 8
    for seed in range(10):
        assert not screen(f, vjp, (x,), seed=seed, planted=(4, 1 + 1e-11)).passed


def test_a_gradient_spanning_many_decades_passes_and_its_mid_sized_elements_are_checked():
    """logsumexp(4 x) over 12 points: softmax weights from ~1 down to ~1e-6 of the largest, more small elements
    than the float64 screen takes one by one. The weighted projections pass it in 8 evaluations, and a 1e-11 error
    in an element at 2e-3 of the largest is no clear pass (unweighted: 9 of 20 seeds)."""
    x = np.linspace(-1.8, 1.6, 12)

    def lse(v):
        return np.log(np.sum(np.exp(4 * v)))

    def lse_vjp(w, v):
        e = np.exp(4 * v - np.max(4 * v))
        return (w * 4 * e / np.sum(e),)

    g = lse_vjp(1.0, x)[0]
    assert np.sum(np.abs(g) < 1e-2 * np.max(np.abs(g))) > 4 and np.min(np.abs(g)) < 1e-5 * np.max(np.abs(g))
    run = screen(lse, lse_vjp, (x,))
    assert run.passed and run.evaluations <= 8, run.why
    mid = int(np.argmin(np.abs(np.abs(g) - 2e-3 * np.max(np.abs(g)))))
    for seed in range(10):
        assert not screen(lse, lse_vjp, (x,), seed=seed, planted=(mid, 1 + 1e-11)).passed


def test_a_reference_quad_cannot_run_is_no_pass_and_says_why():
    def float64_only(x):
        return np.sum(np.logaddexp(0.0, np.asarray(x).astype(np.float32)).astype(np.float64))

    run = screen(float64_only, softplus_vjp, (POINT,))
    assert not run.passed and run.why


def test_a_reference_whose_quad_value_is_another_functions_is_no_pass():
    """A branch on the input's type that computes something else beyond float64 (another path for anything but a
    plain ndarray): its quad differences would judge the gradient against another function, so the screen
    declines."""

    def branching(x):
        if type(x) is np.ndarray:
            return np.sum(np.logaddexp(0.0, x))
        return np.sum(np.logaddexp(0.0, x)) * (1 + 1e-3)

    run = screen(branching, softplus_vjp, (POINT,))
    assert not run.passed and "not its float64 value to round-off" in run.why
    assert run.evaluations == 2  # f in float64 and once on quad: no table was spent


def test_a_reference_whose_float64_value_loses_digits_to_cancellation_still_passes():
    """(s + 1e6 S) - 1e6 S: its float64 value loses ~1e-10 of s to cancellation, far beyond a few ulps of the
    result; its quad value is the same function's, and a gradient computed without the cancellation passes."""

    def cancelling(x):
        return (np.sum(np.logaddexp(0.0, x)) + 1e6 * np.sum(x)) - 1e6 * np.sum(x)

    float64_error = abs(cancelling(POINT) - softplus(POINT)) / softplus(POINT)
    assert float64_error > 1e-12  # the float64 value is off by far more than 64 ulps
    run = screen(cancelling, softplus_vjp, (POINT,))
    assert run.passed, run.why

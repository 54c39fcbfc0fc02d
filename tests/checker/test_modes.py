"""modes' runners on small hand-built setups: a right gradient passes, a planted error is found and named, a
kink is recorded with its one-sided derivatives, and the screen decides only what it can."""

import math

import numpy as np
import pytest

from pytest_gradcheck.checker import modes, verdict
from pytest_gradcheck.checker.check import Setup
from pytest_gradcheck.checker.evaluation import Evaluator
from pytest_gradcheck.hp import install, precision

X = np.array([0.3, -0.7, 1.1])
Y = np.array([0.4, 1.3])
PLANTED = "1e-12"  # relative: a thousand times the high-precision formula tolerance, far below float64's rtol


@pytest.fixture(autouse=True)
def patched():
    """The runners evaluate f at high precision as check_grad does: with numpy's casts and twins installed."""
    with install.patched():
        yield


def cube(x):
    return np.sum(x**3)


def product(x, y):
    return np.sum(x**2) * np.sum(np.sin(y))


def make_setup(f, args, tested, *, cotangent=None, high_precision=True, seed=0):
    """The Setup a check builds: f at the point, the gradient under test (high precision, or float64 when
    `high_precision` is False), the default tolerances and a seeded generator."""
    ctx = precision.context(precision.DEFAULT_DIGITS)
    value = np.asarray(f(*args))
    evaluator = Evaluator(f, args, ctx, value)
    g_hp = tuple(precision.to_hp(g, ctx) if g.dtype != object else g for g in tested) if high_precision else None
    g64 = tuple(precision.to_float64(g) for g in tested)
    tol = verdict.resolve_tolerances(np.float64, rtol=None, atol=None, hp_formula=high_precision)
    cotangent = np.ones(value.shape) if cotangent is None else cotangent
    names = tuple(f"arg{i}" for i in range(len(args)))
    return Setup(f, tuple(args), names, evaluator, cotangent.ravel(), g64, g_hp, tol, np.random.default_rng(seed))


def cube_gradient(ctx_digits=precision.DEFAULT_DIGITS):
    x = precision.to_hp(X, precision.context(ctx_digits))
    return (3 * x**2).view(np.ndarray)


def planted(gradient, index, relative=PLANTED):
    """The gradient with one element off by `relative` (at the gradient's own precision)."""
    wrong = gradient.copy()
    wrong[index] = wrong[index] * (1 + (type(wrong[index])(relative) if wrong.dtype == object else float(relative)))
    return wrong


def product_gradients():
    ctx = precision.context(precision.DEFAULT_DIGITS)
    x, y = precision.to_hp(X, ctx).view(np.ndarray), precision.to_hp(Y, ctx).view(np.ndarray)
    sin_sum, x_sum = sum(ctx.sin(v) for v in y), sum(v * v for v in x)
    return 2 * x * sin_sum, np.array([x_sum * ctx.cos(v) for v in y], dtype=object)


# full


def test_full_passes_a_right_gradient_and_its_reference_is_the_derivative():
    outcome = modes.run_full(make_setup(cube, (X,), (cube_gradient(),)), 4)
    assert (outcome.formula, outcome.kinks, outcome.converged) == ([], [], True)
    (reference,), (error,) = outcome.reference, outcome.reference_error
    assert np.all(np.abs((reference - 3 * X**2).astype(float)) < 1e-15)  # 3 x^2 at each element
    assert np.all(error < 1e-15) and np.all(error >= 0)
    assert len(outcome.traces) == X.size  # one derivative per element


def test_full_names_the_element_of_a_planted_error():
    (found,) = modes.run_full(make_setup(cube, (X,), (planted(cube_gradient(), 1),)), 4).formula
    assert (found.argument, found.name, found.where, found.index) == (0, "arg0", "element (1,)", (1,))
    assert found.rel_error == pytest.approx(1e-12, rel=1e-3)


def test_full_names_the_argument_of_a_planted_error_among_several():
    gx, gy = product_gradients()
    assert modes.run_full(make_setup(product, (X, Y), (gx, gy)), 4).formula == []
    (found,) = modes.run_full(make_setup(product, (X, Y), (gx, planted(gy, 0))), 4).formula
    assert (found.argument, found.name, found.index) == (1, "arg1", (0,))


def test_full_records_a_kink_with_its_one_sided_derivatives():
    x = np.array([0.5, 0.0, -0.25])

    def absolute(x):
        return np.sum(np.abs(x))

    outcome = modes.run_full(make_setup(absolute, (x,), (np.array([1.0, 0.0, -1.0]),)), 4)
    (kink,) = outcome.kinks
    assert (kink.argument, kink.where, kink.valid_choice) == (0, "element (1,)", True)
    assert (kink.left, kink.right) == (pytest.approx(-1.0), pytest.approx(1.0))
    assert outcome.formula == []
    (outside,) = modes.run_full(make_setup(absolute, (x,), (np.array([1.0, 2.0, -1.0]),)), 4).kinks
    assert not outside.valid_choice and outside.value == 2.0  # 2 is no subgradient of |x| at 0


def test_full_with_a_float64_reference_passes_a_right_gradient_and_finds_a_large_error():
    def fsum_cube(x):  # math.fsum only runs in float64: the reference is float64 central differences
        return math.fsum(v**3 for v in x)

    right = (3 * X**2,)
    setup = make_setup(fsum_cube, (X,), right, high_precision=False)
    assert not setup.evaluator.high_precision
    assert modes.run_full(setup, 4).formula == []
    wrong = make_setup(fsum_cube, (X,), (planted(3 * X**2, 2, "1e-6"),), high_precision=False)
    (found,) = modes.run_full(wrong, 4).formula
    assert found.index == (2,)


# fast


def test_miss_probability_is_that_of_gaussian_projections():
    assert modes.miss_probability(1) == pytest.approx(0.682689, abs=1e-6)  # P(|Z| < 1), Z ~ N(0, 1)
    assert modes.miss_probability(4, 10) == pytest.approx(0.0796557**4, rel=1e-5)  # P(|Z| < 0.1)^4
    assert modes.miss_probability(8) < modes.miss_probability(4) < modes.miss_probability(1)


def test_fast_passes_a_right_gradient_with_the_projections_asked_for():
    outcome = modes.run_fast(make_setup(cube, (X,), (cube_gradient(),)), 3)
    assert (outcome.formula, outcome.converged, outcome.projections) == ([], True, 3)
    assert [t["label"] for t in outcome.traces] == ["projection 0", "projection 1", "projection 2"]


def test_fast_narrows_a_planted_error_down_to_its_argument_and_element():
    gx, gy = product_gradients()
    found = modes.run_fast(make_setup(product, (X, Y), (planted(gx, 2), gy)), 2).formula
    elements = [m for m in found if m.index is not None]
    assert {m.where for m in found if m.index is None} == {"projection 0", "projection 1"}
    assert [(m.argument, m.index) for m in elements] == [(0, (2,))]  # y's elements are cleared


# screen


def test_the_screen_decides_a_right_gradient_and_leaves_a_wrong_one_to_the_thorough_check():
    setup = make_setup(cube, (X,), (cube_gradient(),))
    outcome = modes.run_screen(setup, 2)
    assert outcome is not None and outcome.formula == [] and setup.progress is outcome
    assert "screen: 2 random projection(s)" in outcome.notes[0]
    wrong = make_setup(cube, (X,), (planted(cube_gradient(), 0),))
    assert modes.run_screen(wrong, 2) is None and wrong.progress is None
    # the discrepancy seen is recorded all the same: about the planted 1e-12 relative (diluted by the other
    # terms of the projection), against agreement to ~1e-25 of the 40-digit reference
    assert setup.worst["formula"] < 1e-20 < 1e-15 < wrong.worst["formula"]


# diagonal


def test_diagonal_reads_every_element_from_one_derivative():
    v = np.array([0.5, -1.0, 2.0])
    ctx = precision.context(precision.DEFAULT_DIGITS)
    right = np.array([float(w) * ctx.cos(a) for w, a in zip(v, precision.to_hp(X, ctx), strict=True)], dtype=object)
    outcome = modes.run_diagonal(make_setup(np.sin, (X,), (right,), cotangent=v), 2)
    assert (outcome.formula, outcome.converged, len(outcome.traces)) == ([], True, 1)
    (found,) = modes.run_diagonal(make_setup(np.sin, (X,), (planted(right, 2),), cotangent=v), 2).formula
    assert (found.argument, found.index, found.where) == (0, (2,), "element (2,)")


# taylor


def test_taylor_sees_order_two_for_a_right_gradient_and_order_one_for_a_wrong_one():
    outcome = modes.run_taylor(make_setup(cube, (X,), (cube_gradient(),)), 1)
    assert outcome.formula == [] and outcome.taylor.order == pytest.approx(2.0, abs=0.1)
    (found,) = modes.run_taylor(make_setup(cube, (X,), (planted(cube_gradient(), 1, "1e-6"),)), 1).formula
    assert found.name == "observed order of the Taylor remainder" and found.value < modes.TAYLOR_ORDER_THRESHOLD


def test_taylor_judges_a_nan_in_the_gradient_element_by_element():
    gradient = cube_gradient()
    gradient[1] = precision.context(precision.DEFAULT_DIGITS).nan
    (found,) = modes.run_taylor(make_setup(cube, (X,), (gradient,)), 1).formula
    assert (found.index, found.abs_error) == ((1,), math.inf)


# kink_record


def test_kink_record_accepts_values_between_the_one_sided_derivatives_within_the_tolerance():
    setup = make_setup(cube, (X,), (cube_gradient(),))
    assert modes.kink_record(setup, 0, "element (0,)", 1.0, -1.0, 0.0, 0.3, 1.0).valid_choice
    assert modes.kink_record(setup, 0, "element (0,)", -1.0, 1.0, 0.0, 1.0, 1.0).valid_choice
    assert not modes.kink_record(setup, 0, "element (0,)", -1.0, 1.0, 0.0, 1.001, 1.0).valid_choice
    assert modes.kink_record(setup, 0, "element (0,)", -1.0, 1.0, 0.01, 1.001, 1.0).valid_choice  # error: slack

"""differences and taylor: accuracy, honest error estimates, kinks, Richardson, subgradients, Taylor orders."""

import json
import math

import mpmath
import numpy as np
import pytest
from difference_support import DIGITS, elementwise, hp, make_context, one

from pytest_gradcheck.checker import differences as dif
from pytest_gradcheck.checker import float64_differences as f64
from pytest_gradcheck.checker.taylor import taylor_test


@pytest.fixture
def ctx():
    return make_context()


@pytest.fixture
def ref():
    return make_context(2 * DIGITS)  # truth for derivatives computed at DIGITS





ELEMENTARY = {  # f, f' in any mpmath context; points in (0.1, 3)
    "exp": (lambda c, x: c.exp(x), lambda c, x: c.exp(x)),
    "sin": (lambda c, x: c.sin(x), lambda c, x: c.cos(x)),
    "log": (lambda c, x: c.log(x), lambda c, x: 1 / x),
    "tanh": (lambda c, x: c.tanh(x), lambda c, x: 1 - c.tanh(x) ** 2),
}


@pytest.mark.parametrize("name", sorted(ELEMENTARY))
def test_hp_known_derivatives_have_25_digits_in_5_evaluations(ctx, ref, name):
    f, df = ELEMENTARY[name]
    x = np.linspace(0.1, 3.0, 40)
    u = np.linspace(0.5, 1.5, 40)
    xs, us = hp(ctx, x), hp(ctx, u)
    d = dif.hp_derivative(lambda t: elementwise(lambda v: f(ctx, v), xs + t * us), ctx, scale=3.0)
    true = [df(ref, ref.mpf(a)) * ref.mpf(b) for a, b in zip(x, u, strict=True)]
    errors = [abs(ref.mpf(v) - t) for v, t in zip(d.value, true, strict=True)]
    assert d.status == "ok" and d.evaluations == 5
    assert all(e <= 1e-25 * max(1, abs(t)) for e, t in zip(errors, true, strict=True))
    assert all(e <= b for e, b in zip(errors, d.error, strict=True))


def test_hp_phi0_saves_an_evaluation(ctx):
    phi = one(lambda t: ctx.exp(1 + t))
    d = dif.hp_derivative(phi, ctx, scale=1.0, phi0=phi(ctx.mpf(0)))
    assert d.evaluations == 4 and abs(d.value[0] - ctx.e) < 1e-26


def _family(c, a, b, s):
    """Eight functions of x in R^3 with their gradients: curvature up to a ~ 1e3, cancellation at x0 == x1."""
    return [
        (lambda x: c.exp(a * x[0] / 100) * c.sin(x[1] + b),
         lambda x: [a * c.exp(a * x[0] / 100) * c.sin(x[1] + b) / 100, c.exp(a * x[0] / 100) * c.cos(x[1] + b), 0]),
        (lambda x: c.log(s + x[0] ** 2 + x[2] ** 2),
         lambda x: [2 * x[0] / (s + x[0] ** 2 + x[2] ** 2), 0, 2 * x[2] / (s + x[0] ** 2 + x[2] ** 2)]),
        (lambda x: c.tanh(x[1] * x[2]),
         lambda x: [0, x[2] / c.cosh(x[1] * x[2]) ** 2, x[1] / c.cosh(x[1] * x[2]) ** 2]),
        (lambda x: x[0] * x[0] - 2 * x[0] * x[1] + x[1] * x[1], lambda x: [2 * (x[0] - x[1]), 2 * (x[1] - x[0]), 0]),
        (lambda x: x[0] ** 5 - 3 * x[1] ** 3 + b, lambda x: [5 * x[0] ** 4, -9 * x[1] ** 2, 0]),
        (lambda x: 1 / (s + x[2] ** 2), lambda x: [0, 0, -2 * x[2] / (s + x[2] ** 2) ** 2]),
        (lambda x: c.sin(a * x[0] + b), lambda x: [a * c.cos(a * x[0] + b), 0, 0]),
        (lambda x: c.sqrt(s + x[1] ** 2) * c.cos(x[2]),
         lambda x: [0, x[1] / c.sqrt(s + x[1] ** 2) * c.cos(x[2]), -c.sqrt(s + x[1] ** 2) * c.sin(x[2])]),
    ]


def test_hp_error_estimates_cover_the_actual_error(ctx, ref):
    """480 random cases: the error estimate covers the true error in >= 99% and is not vacuous."""
    rng = np.random.default_rng(7)
    covered, relative_errors, relative_claims = [], [], []
    for trial in range(60):
        a, b, s = (float(v) for v in (10 ** rng.uniform(-1, 3), rng.uniform(-2, 2), 10 ** rng.uniform(-2, 1)))
        x, u = rng.uniform(-2, 2, 3), rng.standard_normal(3)
        if trial % 4 == 0:
            x[1] = x[0]  # cancellation: x0^2 - 2 x0 x1 + x1^2 is 0 at the point, its gradient too
        xs, us = hp(ctx, x), hp(ctx, u)
        functions = _family(ctx, a, b, s)
        d = dif.hp_derivative(lambda t, fs=functions, xs=xs, us=us: np.array([f(xs + t * us) for f, _ in fs],
                                                                            dtype=object),
                              ctx, scale=max(1.0, float(np.max(np.abs(x)))))
        assert d.status == "ok"
        xr, ur = [ref.mpf(v) for v in x], [ref.mpf(v) for v in u]
        for k, (_, grad) in enumerate(_family(ref, a, b, s)):
            true = sum(g * w for g, w in zip(grad(xr), ur, strict=True))
            error = abs(ref.mpf(d.value[k]) - true)
            covered.append(error <= d.error[k])
            size = max(abs(true), 1e-300)
            relative_errors.append(float(error / size))
            relative_claims.append(float(d.error[k] / size))
    assert len(covered) == 480 and np.mean(covered) >= 0.99
    nonzero = [e for e, c in zip(relative_errors, relative_claims, strict=True) if c < 1]  # zero gradients aside
    assert np.median(nonzero) < 1e-27 and np.median(relative_claims) < 1e-20


def test_quick_derivative_error_estimates_cover_the_actual_error(ctx, ref):
    """The screen's 3-evaluation derivative on the same 480 cases: its estimate covers the error in >= 99%,
    and it is small enough for the screen's window (1e-3 of 4.4e-16 relative) on these smooth functions."""
    rng = np.random.default_rng(7)
    covered, claims = [], []
    for trial in range(60):
        a, b, s = (float(v) for v in (10 ** rng.uniform(-1, 3), rng.uniform(-2, 2), 10 ** rng.uniform(-2, 1)))
        x, u = rng.uniform(-2, 2, 3), rng.standard_normal(3)
        if trial % 4 == 0:
            x[1] = x[0]
        xs, us = hp(ctx, x), hp(ctx, u)
        functions = _family(ctx, a, b, s)
        phi = lambda t, fs=functions, xs=xs, us=us: np.array([f(xs + t * us) for f, _ in fs], dtype=object)  # noqa: E731
        d = dif.hp_quick_derivative(phi, ctx, scale=max(1.0, float(np.max(np.abs(x)))), phi0=phi(ctx.mpf(0)))
        assert d.evaluations == 3 and d.status == "ok"
        xr, ur = [ref.mpf(v) for v in x], [ref.mpf(v) for v in u]
        for k, (_, grad) in enumerate(_family(ref, a, b, s)):
            true = sum(g * w for g, w in zip(grad(xr), ur, strict=True))
            covered.append(abs(ref.mpf(d.value[k]) - true) <= d.error[k])
            claims.append(float(d.error[k] / max(abs(true), 1e-300)))
    assert len(covered) == 480 and np.mean(covered) >= 0.99
    assert np.median(claims) < 1e-20


@pytest.mark.parametrize("digits", [DIGITS, 33])  # 33: the digits of quad, where the screen of check_jvp uses it
def test_richardson_derivative_error_estimates_cover_the_actual_error(digits, ref):
    """The 6-evaluation derivative on the same 480 cases: its estimate covers the error in >= 99%, and it is
    far below the 3-evaluation derivative's (the reason for its larger step), relative to |phi| too."""
    ctx = make_context(digits)
    rng = np.random.default_rng(7)
    covered, claims, quick_claims = [], [], []
    for trial in range(60):
        a, b, s = (float(v) for v in (10 ** rng.uniform(-1, 3), rng.uniform(-2, 2), 10 ** rng.uniform(-2, 1)))
        x, u = rng.uniform(-2, 2, 3), rng.standard_normal(3)
        if trial % 4 == 0:
            x[1] = x[0]
        xs, us = hp(ctx, x), hp(ctx, u)
        functions = _family(ctx, a, b, s)
        phi = lambda t, fs=functions, xs=xs, us=us: np.array([f(xs + t * us) for f, _ in fs], dtype=object)  # noqa: E731
        scale, phi0 = max(1.0, float(np.max(np.abs(x)))), phi(ctx.mpf(0))
        d = dif.hp_richardson_derivative(phi, ctx, scale=scale, phi0=phi0)
        quick = dif.hp_quick_derivative(phi, ctx, scale=scale, phi0=phi0)
        assert d.evaluations == 6 and d.status == "ok"
        xr, ur = [ref.mpf(v) for v in x], [ref.mpf(v) for v in u]
        for k, (_, grad) in enumerate(_family(ref, a, b, s)):
            true = sum(g * w for g, w in zip(grad(xr), ur, strict=True))
            covered.append(abs(ref.mpf(d.value[k]) - true) <= d.error[k])
            size = max(abs(true), abs(phi0[k]), 1e-300)
            claims.append(float(d.error[k] / size))
            quick_claims.append(float(quick.error[k] / size))
    assert len(covered) == 480 and np.mean(covered) >= 0.99
    assert np.median(claims) < np.median(quick_claims) / 100


@pytest.mark.parametrize("phi_of", [
    lambda c: one(abs),
    lambda c: one(lambda t: max(t, 0)),
    lambda c: one(lambda t: c.mpf(2) * t + 3 if t >= 0 else c.mpf(-1) * t + 3),
    lambda c: one(lambda t: c.mpf(2) if t > 0 else t - 1),  # a jump
    lambda c: one(lambda t: abs(t - dif.richardson_step(c, c.mpf(1)) / 3)),  # a kink between the steps
])
def test_richardson_derivative_at_a_kink_claims_an_error_of_order_one(ctx, phi_of):
    """Central differences of |t| are all 0: the slope jump measured from the even parts is in the error."""
    phi = phi_of(ctx)
    d = dif.hp_richardson_derivative(phi, ctx, scale=1.0, phi0=phi(ctx.mpf(0)))
    assert d.error[0] > 0.1


@pytest.mark.parametrize("phi_of", [
    lambda c: one(abs),
    lambda c: one(lambda t: max(t, 0)),
    lambda c: one(lambda t: c.mpf(2) * t + 3 if t >= 0 else c.mpf(-1) * t + 3),
    lambda c: one(lambda t: c.mpf(2) if t > 0 else t - 1),  # a jump
])
def test_quick_derivative_at_a_kink_claims_an_error_of_order_one(ctx, phi_of):
    """No kink test in the quick derivative: the kink shows as an error estimate no screen can accept."""
    phi = phi_of(ctx)
    d = dif.hp_quick_derivative(phi, ctx, scale=1.0, phi0=phi(ctx.mpf(0)))
    assert d.error[0] > 0.1


@pytest.mark.parametrize(("phi_of", "left", "right"), [
    (lambda c: one(abs), -1, 1),
    (lambda c: one(lambda t: max(t, 0)), 0, 1),
    (lambda c: one(lambda t: max(c.mpf("0.7") + t * c.mpf("0.3"), c.mpf("0.7") - t * c.mpf("1.2"))), -1.2, 0.3),
    (lambda c: one(lambda t: c.mpf(2) * t + 3 if t >= 0 else c.mpf(-1) * t + 3), -1, 2),
])
def test_hp_kinks_are_nondifferentiable_with_one_sided_derivatives(ctx, phi_of, left, right):
    d = dif.hp_derivative(phi_of(ctx), ctx, scale=1.0)
    assert d.status == "nondifferentiable" and d.evaluations == 13
    assert abs(d.left[0] - left) < 1e-15 and abs(d.right[0] - right) < 1e-15
    assert d.error[0] < 1e-15  # the one-sided estimates' error
    assert d.value[0] == (d.left[0] + d.right[0]) / 2 and d.error[0] == d.side_error[0]


def test_hp_jump_is_nondifferentiable(ctx):
    d = dif.hp_derivative(one(lambda t: ctx.mpf(2) if t > 0 else t - 1), ctx, scale=1.0)
    assert d.status == "nondifferentiable"
    assert abs(d.left[0] - 1) < 1e-15 and d.right[0] > 1e15  # the slope across the jump grows like 1/h


def test_hp_symmetric_jump_is_nondifferentiable(ctx):
    """sign(t): phi(0) is the midpoint, the kink measure is 0; phi(h) - phi(-h) not shrinking shows the jump."""
    d = dif.hp_derivative(one(ctx.sign), ctx, scale=1.0)
    assert d.status == "nondifferentiable" and d.left[0] > 1e15 and d.right[0] > 1e15


@pytest.mark.parametrize("distance", ["1e-12", "1e-15", "1e-18"])
def test_hp_kink_near_but_not_at_the_point_is_ok(ctx, distance):
    c = ctx.mpf(distance)
    d = dif.hp_derivative(lambda t: np.array([abs(t - c), max(t - c, 0), ctx.sin(t)], dtype=object), ctx, scale=1.0)
    assert d.status == "ok"
    assert abs(d.value[0] + 1) < 1e-20 and abs(d.value[1]) < 1e-20 and abs(d.value[2] - 1) < 1e-25


def test_hp_kink_status_is_per_component(ctx):
    x = hp(ctx, [-1.0, 0.0, 2.0, 0.0])
    u = hp(ctx, [1.0, 1.0, 1.0, -2.0])
    d = dif.hp_derivative(lambda t: elementwise(lambda v: max(v, 0), x + t * u), ctx, scale=2.0)
    assert list(d.component_status) == ["ok", "nondifferentiable", "ok", "nondifferentiable"]
    assert [float(v) for v in d.value[[0, 2]]] == [0.0, 1.0]
    assert [float(v) for v in d.left[[1, 3]]] == [0.0, -2.0] and [float(v) for v in d.right[[1, 3]]] == [1.0, 0.0]


@pytest.mark.parametrize("x0", [0.3, 1.1, 7.7, -1.2059478219629787])
def test_hp_cancellation_round_off_is_not_a_kink(ctx, x0):
    """(x+t)^2 - 2(x+t)x + x^2: an output ~t^2 from O(1) intermediates, with round-off far above NOISE_ULPS
    of the output. The kink measure sees that noise; it is measured, not taken for a kink."""
    x = ctx.mpf(x0)
    d = dif.hp_derivative(one(lambda t: (x + t) ** 2 - 2 * (x + t) * x + x * x), ctx, scale=max(1.0, abs(x0)))
    assert d.status == "ok" and abs(d.value[0]) <= d.error[0] < 1e-25


@pytest.mark.parametrize("x0", [0.3, 1.1, 2.5, 7.7])
def test_hp_pure_round_off_is_never_a_kink(ctx, x0):
    """sin^2 + cos^2 - 1 is nothing but round-off: ok with a tiny error, or not_converged, never a kink."""
    x = ctx.mpf(x0)
    d = dif.hp_derivative(one(lambda t: ctx.sin(x + t) ** 2 + ctx.cos(x + t) ** 2 - 1), ctx, scale=max(1.0, x0))
    assert d.status == "not_converged" or abs(d.value[0]) <= d.error[0] < 1e-25


def test_hp_unresolvable_functions_are_not_converged(ctx):
    big = ctx.mpf(10) ** 20
    oscillating = one(lambda t: ctx.sin(ctx.mpf(10) ** 25 * t + ctx.mpf("0.3")))  # faster than any step
    cancelling = one(lambda t: (t + big) ** 2 - big * big - 2 * big * t)  # t^2 with round-off ~ 0.1
    for phi in (oscillating, cancelling):
        assert dif.hp_derivative(phi, ctx, scale=1.0).status == "not_converged"


def test_hp_steps_and_estimates_are_recorded(ctx):
    d = dif.hp_derivative(one(ctx.exp), ctx, scale=1.0)
    assert len(d.steps) == len(d.estimates) == 2 and d.steps[1] == d.steps[0] / 2
    assert d.step[0] == d.steps[0] and d.mode == "hp" and d.noise[0] > 0
    kinked = dif.hp_derivative(one(abs), ctx, scale=1.0)
    assert len(kinked.steps) == 2 * dif.RETRY_STEPS and kinked.steps == tuple(sorted(kinked.steps, reverse=True))


def test_hp_steps_run_from_eps_cube_root_to_eps_square_root(ctx):
    steps = dif.hp_steps(ctx, 2.0)
    assert len(steps) == dif.RETRY_STEPS
    assert 1e-13 < steps[0] / 2 < 1e-12 and 1e-21 < steps[-1] / 2 < 1e-20


def test_scale_must_be_positive_and_finite(ctx):
    for scale in (0.0, -1.0, math.inf, math.nan):
        with pytest.raises(ValueError, match="scale"):
            dif.hp_derivative(one(ctx.exp), ctx, scale=scale)
        with pytest.raises(ValueError, match="scale"):
            f64.float64_derivative(lambda t: np.array([t]), scale=scale)


def test_mpmath_global_precision_is_untouched(ctx):
    before = mpmath.mp.dps
    dif.hp_derivative(one(lambda t: ctx.exp(t)), ctx, scale=1.0)
    assert mpmath.mp.dps == before


def test_richardson_weights_and_polynomial_exactness():
    _, _, weights = dif.richardson([np.zeros(1), np.zeros(1)])
    assert np.allclose(weights, [-1 / 3, 4 / 3])
    f = np.polynomial.Polynomial([1.0, -2.0, 0.5, 3.0, -1.0, 0.25])  # degree 5: three levels are exact
    hs = [0.5, 0.25, 0.125]
    value, change, _ = dif.richardson([np.array([(f(h) - f(-h)) / (2 * h)]) for h in hs])
    assert abs(value[0] - f.deriv()(0.0)) < 1e-12 and change[0] > 0


def test_subgradient_position_elementwise():
    p = dif.subgradient_position([0, 0, 0, 0, 1], [1, 1, 1, 1, 1], [0.0, 0.5, 1.0, 1.2, 1.0], 1e-3)
    assert list(p.side) == ["left", "between", "right", "outside", "both"]
    assert list(p.inside) == [True, True, True, False, True]
    assert abs(p.distance[3] - 0.199) < 1e-12 and p.distance[1] == 0


def test_subgradient_position_accepts_high_precision(ctx):
    p = dif.subgradient_position(ctx.mpf(-1), ctx.mpf(1), 0.25, 1e-9)
    assert bool(p.inside) and str(p.side) == "between"


HS = tuple(10.0**-k for k in range(1, 13))


def _taylor_line(ctx):
    x = ctx.mpf("0.7")
    return (lambda t: ctx.exp(x + t) * ctx.sin(x + t)), ctx.exp(x) * (ctx.sin(x) + ctx.cos(x))


def test_taylor_right_derivative_has_order_two(ctx):
    psi, derivative = _taylor_line(ctx)
    r = taylor_test(psi(ctx.mpf(0)), psi, derivative, HS)
    assert r.status == "consistent" and abs(r.order - 2) < 0.01 and len(r.orders) == len(HS) - 1


def test_taylor_perturbed_derivative_has_order_one(ctx):
    psi, derivative = _taylor_line(ctx)
    r = taylor_test(psi(ctx.mpf(0)), psi, derivative * (1 + ctx.mpf("1e-6")), HS)
    assert r.status == "inconsistent" and abs(r.order - 1) < 0.05


def test_taylor_linear_function_is_exact(ctx):
    line = lambda t: 3 * (ctx.mpf("0.7") + t) + 1  # noqa: E731
    r = taylor_test(line(ctx.mpf(0)), line, 3, HS)
    assert r.status == "exact" and r.order is None and all(o is None for o in r.orders)
    assert taylor_test(line(ctx.mpf(0)), line, 3.0001, HS).status == "inconsistent"


def test_taylor_float64_vector_leaves_out_round_off():
    f = lambda t: np.array([np.exp(0.7 + t), np.sin(0.7 + t)])  # noqa: E731
    r = taylor_test(f(0.0), f, np.array([np.exp(0.7), np.cos(0.7)]), tuple(10.0**-k for k in range(1, 10)))
    assert r.status == "consistent" and abs(r.order - 2) < 0.05
    assert r.orders[-1] is None and r.remainders[-1] < 10 * r.floors[-1]  # at h = 1e-9 the remainder is round-off
    assert json.loads(json.dumps(r.to_dict()))["status"] == "consistent"


def test_taylor_rejects_steps_that_do_not_decrease(ctx):
    with pytest.raises(ValueError, match="decreasing"):
        taylor_test(0.0, lambda t: t, 1.0, (1e-3, 1e-2))


@pytest.mark.parametrize("power", [3, 5])
@pytest.mark.parametrize("direction", [0.7, -1.3])
def test_hp_flat_odd_powers_at_zero_are_ok_with_a_covering_error(ctx, power, direction):
    """x^3 at 0: derivative 0 and |phi| ~ h^3, so only the h^2 scaling of the change shows convergence."""
    u = ctx.mpf(direction)
    d = dif.hp_derivative(one(lambda t: (u * t) ** power), ctx, scale=1.0)
    assert d.status == "ok"
    assert abs(d.value[0]) <= d.error[0] < 1e-30


@pytest.mark.parametrize("power", [4, 6])
def test_hp_flat_even_powers_at_zero_are_ok_not_kinks(ctx, power):
    """x^4 at 0: the second difference is as large as phi itself, but it shrinks like h^4, unlike a kink's."""
    d = dif.hp_derivative(one(lambda t: (ctx.mpf(0.9) * t) ** power), ctx, scale=1.0)
    assert d.status == "ok"
    assert abs(d.value[0]) <= d.error[0] < 1e-30

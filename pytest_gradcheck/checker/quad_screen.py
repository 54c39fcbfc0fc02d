"""The quick quad screen: random projections of a float64 gradient (a framework's autograd) against
central differences of a numpy reference function on the quad tier (113 bits), accepted only on clear agreement.

The float64 screen's plan (checker.float64_screen: 2 random projections, accepted only on clear agreement), with
quad's accuracy, and directions weighted by each element's scale (`by_scale`): phi(t) = <w, f(x + t u)> at t = -h, h,
2h with h ~ 1e-10 of the point's scale, and phi(0) (f at the point, once for every table): 3 evaluations a table.
The value is the slope at 0 of the cubic through the four points, (6 phi(h) - 2 phi(-h) - 3 phi(0) - phi(2h)) / 6h,
whose truncation is h^3 f''''/12. The central difference D(h) = (phi(h) - phi(-h)) / 2h differs from it by T / 6h,
where T = phi(2h) - 3 phi(h) + 3 phi(0) - phi(-h) is the third difference (h^3 f''' for a smooth f); that
difference, D(h)'s own error (~1e-20 of the derivative), is the value's error estimate, plus round-off (NOISE_ULPS
quad ulps through the weights, ~1e-22). At a kink whose one-sided slopes differ by J, T is J h: |T| / h measures
|J| (a smooth f's terms are h^2 f''', far below the agreement; a jump of the curvature shows as ~h: no clear pass
either).

A clear agreement is within AGREEMENT (1e-13) of the projection's size: far below a 1e-9 error, far above a float64
gradient's round-off (a few ulps) and the reference's error. A numpy reference that passes through float64 (a
buffer, `np.asarray(x, dtype=float)`) cannot agree that closely: at steps of 1e-10 its rounded inputs move the
differences by ~1e-6. So this screen runs without the thorough check's precision probes; anything that does not
agree clearly hands the decision to the thorough check, which runs them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from pytest_gradcheck.checker import float64_screen, verdict
from pytest_gradcheck.checker.float64_screen import Projection, ScreenRun
from pytest_gradcheck.checker.inputs import validate_output
from pytest_gradcheck.hp import install as hp_twins
from pytest_gradcheck.hp import precision, quad
from pytest_gradcheck.hp.mpmath_warnings import call as call_hp

__all__ = ["AGREEMENT", "run_screen"]

AGREEMENT = 1e-13  # the share of a projection's size within which gradient and reference must agree
# The largest step, relative to max(1, |x|), for a direction of length UNIT_LENGTH (float64_screen): the truncation
# h^2 f''' / 6 is ~1e-20 of the derivative, round-off (~1e-34 of |phi| over the step) ~1e-22
STEP = 1e-10
ELEMENT_FLOOR = verdict.RELATIVE_FLOOR  # an element's scale: max(|g_i|, this share of the largest), as verdicts
NOISE_ULPS = 64.0  # assumed round-off of one quad evaluation of phi, in quad ulps of its largest |value|
QUAD_EPS = 2.0**-112  # quad's unit of rounding
# f's value on quad and in float64 differ by the float64 evaluation's round-off, which cancellation (a loss near its
# optimum, a sum of terms of both signs) takes far beyond a few ulps of the result; beyond this share of
# max(|value|, SAME_VALUE_FLOOR of the largest) it is another function (a branch on the input's type), and no table
# is spent on it. Not needed for a sound pass (a table of another function does not agree with a correct gradient
# to 1e-13), only to stop early.
SAME_VALUE_RTOL = 1e-7
SAME_VALUE_FLOOR = 1e-3
ROUNDOFF_WEIGHT = 2.0  # the sum of |weights| of the value's formula, times h: (6 + 2 + 3 + 1) / 6


def run_screen(f: Callable[..., Any], args: Sequence[np.ndarray], gradient: Callable[[np.ndarray], Sequence[Any]],
               *, projections: int, rng: np.random.Generator) -> ScreenRun:
    """`projections` random projections of `gradient(cotangent)` (weighted by each element's scale: `by_scale`)
    against quad differences of the numpy function f at `args`; no pass when f does not run on quad, or its quad
    value at the point is not its float64 value to round-off."""
    value64 = validate_output(f(*args), "f(*args)")
    cotangent = np.ones(value64.shape) if value64.size == 1 else rng.standard_normal(value64.shape)
    ctx = precision.context(quad.QUAD_DIGITS)
    with hp_twins.patched():
        g = tuple(np.asarray(v, dtype=float) for v in gradient(cotangent))
        run = ScreenRun(False, g, cotangent, 1)
        point = _Point(f, args, ctx, cotangent)
        phi0 = point.phi0(value64)
        run.evaluations = 1 + point.evaluations
        if phi0 is None:
            run.why = point.why
            return run
        planned = float64_screen.plan(args, g, projections, rng, weigh=by_scale)
        run.why = planned.why
        h = STEP * float64_screen.point_scale(args)
        for label, u, floor in planned.derivatives:
            projection = _derivative(point.phi(u), phi0, float64_screen.step_along(u, h),
                                     float64_screen.tested_along(g, u), floor, label)
            run.projections.append(projection)
            if not projection.clear:
                run.why = f"{projection.label}: {projection.why}"
                break
        run.evaluations = 1 + point.evaluations
    run.passed = not run.why
    return run


def by_scale(v: np.ndarray, largest: float) -> np.ndarray:
    """This screen's weights (float64_screen.plan's `weigh`): L / max(|g_i|, ELEMENT_FLOOR L), L the largest |g_i|.
    An error of delta relative to that scale (the thorough check's) shows as delta |z_i| L in a projection whose
    size is at most L sum |z_j|, however small the element, so no element needs a table of its own. (The float64
    screen cannot weigh so: its round-off grows with the weights; quad's is ~1e-22.)"""
    return largest / np.maximum(np.abs(v), ELEMENT_FLOOR * largest)


class _Point:
    """f at the point on the quad tier, and phi(t) = <w, f(x + t u)> along directions (w: the cotangent),
    counting f's evaluations."""

    def __init__(self, f: Callable[..., Any], args: Sequence[np.ndarray], ctx: Any, cotangent: np.ndarray) -> None:
        self.f, self.ctx = f, ctx
        self.args = [quad.to_quad(a, ctx) for a in args]
        self.weights = quad.to_quad(cotangent.ravel(), ctx).view(np.ndarray)
        self.evaluations = 0
        self.why = ""

    def value(self, args: Sequence[Any]) -> np.ndarray | None:
        """f's value at quad `args` as a flat plain quad array; None when it is no quad (or mpmath) number."""
        self.evaluations += 1
        value = call_hp(self.f, args)
        if quad.is_quad(value):
            return np.asarray(value).view(np.ndarray).ravel()
        if precision.precision_of(value, self.ctx) in ("high", "mixed"):  # a call quad passed to mpmath
            return quad.from_objects(np.asarray(value, dtype=object), self.ctx).view(np.ndarray).ravel()
        return None

    def phi0(self, value64: np.ndarray) -> np.ndarray | None:
        """<w, f(x)> on quad, when f runs on quad there and its value is its float64 value to round-off
        (SAME_VALUE_RTOL); else None, and `why`."""
        try:
            value = self.value(self.args)
        except Exception as error:  # the thorough check runs f on quad again and reports what it raises
            self.why = f"the reference does not run on the quad tier (it raised {type(error).__name__})"
            return None
        if value is None or value.shape != (value64.size,):
            self.why = "the reference's value on the quad tier is not an array of quad numbers of f's shape"
            return None
        as64, flat = value.astype(np.float64), value64.ravel()
        with np.errstate(invalid="ignore"):
            size = np.maximum(np.abs(flat), SAME_VALUE_FLOOR * np.max(np.abs(flat), initial=0.0))
            same = np.abs(as64 - flat) <= SAME_VALUE_RTOL * size
        if not np.all(same):
            self.why = "the reference's value on the quad tier is not its float64 value to round-off"
            return None
        return np.sum(self.weights * value)

    def phi(self, u: list[np.ndarray]) -> Callable[[float], np.ndarray]:
        """t -> <w, f(x + t u)> as a 0-d quad array: x + t u formed in quad (t a float: exact)."""
        directions = [quad.to_quad(d, self.ctx) for d in u]

        def phi(t: float) -> np.ndarray:
            step = np.asarray(t).astype(quad.quad_dtype())
            value = self.value([quad.moved(x, d, step) for x, d in zip(self.args, directions, strict=True)])
            if value is None:
                raise ValueError("f's value on the quad tier is not quad")
            return np.sum(self.weights * value)

        return phi


def _derivative(phi: Callable[[float], np.ndarray], phi0: np.ndarray, h: float, tested: float, floor: float,
                label: str) -> Projection:
    """The quad table along one direction (phi at -h, h, 2h, and phi0): value, error and kink measure, computed
    in quad, against `tested` (<g, u>), whose size is max(|tested|, floor); whether all of them are clear."""
    minus, plus, twice = phi(-h), phi(h), phi(2 * h)
    central = (plus - minus) / _quad(2 * h)
    value = (_quad(6) * plus - _quad(2) * minus - _quad(3) * phi0 - twice) / _quad(6 * h)
    third = _float(abs(twice - _quad(3) * plus + _quad(3) * phi0 - minus))
    largest = max(_float(abs(v)) for v in (phi0, minus, plus, twice))
    roundoff = NOISE_ULPS * QUAD_EPS * largest * ROUNDOFF_WEIGHT / h
    return Projection(label, tested, _float(value), third / (6 * h) + roundoff, third / h, max(abs(tested), floor),
                      [h, h], [_float(central), _float(value)], False, agreement=AGREEMENT,
                      kink_agreement=AGREEMENT, high_precision=True).judge()


def _quad(value: float) -> np.ndarray:
    return np.asarray(value).astype(quad.quad_dtype())


def _float(value: np.ndarray) -> float:
    return float(np.asarray(value).astype(np.float64))

"""The quick quad screen: random projections of a float64 gradient (a framework's autograd) against
central differences of a numpy reference function on the quad tier (113 bits), accepted only on clear agreement.

The same plan as the float64 screen (checker.float64_screen: 2 random projections over the well-scaled elements,
small elements on their own), with quad's accuracy: phi(t) = <w, f(x + t u)> at t = +-h, +-h/2 with h ~ 1e-8 of
the point's scale; D(h/2)'s truncation is ~1e-16 of the derivative and its round-off ~1e-25, so the Richardson value
D(h/2) + (D(h/2) - D(h)) / 3 carries the error estimate |D(h/2) - D(h)| / 3 (the error of D(h/2), an upper bound of
the value's) plus round-off. The even part E(h) = phi(h) + phi(-h) - 2 phi(0) (phi(0) is the evaluator's probe) is
c h^2 + O(h^4) for a smooth f, J h with a kink: |E(h) - 4 E(h/2)| / h measures |J| (smooth terms ~h^3: 1e-24).

A clear agreement is within AGREEMENT (1e-13) of the projection's size: far below a 1e-9 error, far above a float64
gradient's round-off (a few ulps) and the reference's error. A numpy reference that passes through float64 (a
buffer, `np.asarray(x, dtype=float)`) cannot agree that closely: at steps of 1e-8 its rounded inputs move the
differences by ~1e-8. So this screen runs without the thorough check's precision probes; anything that does not
agree clearly hands the decision to the thorough check, which runs them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from pytest_gradcheck.checker import float64_screen
from pytest_gradcheck.checker.evaluation import Evaluator
from pytest_gradcheck.checker.float64_screen import Projection, ScreenRun
from pytest_gradcheck.checker.inputs import validate_output
from pytest_gradcheck.hp import install as hp_twins
from pytest_gradcheck.hp import precision, quad
from pytest_gradcheck.hp.mpmath_warnings import call as call_hp

__all__ = ["AGREEMENT", "run_screen"]

AGREEMENT = 1e-13  # the share of a projection's size within which gradient and reference must agree
STEP = 1e-8  # the largest step, relative to max(1, |x|), for a direction of length UNIT_LENGTH (float64_screen)
NOISE_ULPS = 64.0  # assumed round-off of one quad evaluation of phi, in quad ulps of its largest |value|
QUAD_EPS = 2.0**-112  # quad's unit of rounding


def run_screen(f: Callable[..., Any], args: Sequence[np.ndarray], gradient: Callable[[np.ndarray], Sequence[Any]],
               *, projections: int, rng: np.random.Generator) -> ScreenRun:
    """`projections` random projections of `gradient(cotangent)` against quad differences of the numpy function
    f at `args` (and small elements on their own, float64_screen.plan); no pass when f does not run on quad."""
    value64 = validate_output(f(*args), "f(*args)")
    cotangent = np.ones(value64.shape) if value64.size == 1 else rng.standard_normal(value64.shape)
    ctx = precision.context(quad.QUAD_DIGITS)
    with hp_twins.patched():
        evaluator = Evaluator(f, args, ctx, value64, backend="quad")
        g = tuple(np.asarray(v, dtype=float) for v in gradient(cotangent))
        run = ScreenRun(False, g, cotangent, 1 + evaluator.evaluations)
        if evaluator.tier != "quad":
            run.why = f"the reference does not run on the quad tier ({evaluator.note or 'mpmath only'})"
            return run
        planned = float64_screen.plan(args, g, projections, rng)
        run.why = planned.why
        h = STEP * evaluator.scale
        weights = quad.to_quad(cotangent.ravel(), ctx).view(np.ndarray)
        phi0 = np.sum(weights * quad.from_objects(evaluator.value_hp, ctx).view(np.ndarray))  # the probe's f(x)
        for label, u, floor in planned.derivatives:
            projection = _derivative(_phi(evaluator, weights, u), phi0, float64_screen.step_along(u, h),
                                     float64_screen.tested_along(g, u), floor, label)
            run.projections.append(projection)
            if not projection.clear:
                run.why = f"{projection.label}: {projection.why}"
                break
        run.evaluations = 1 + evaluator.evaluations
    run.passed = not run.why
    return run


def _phi(evaluator: Evaluator, weights: np.ndarray, u: list[np.ndarray]) -> Callable[[float], np.ndarray]:
    """t -> <weights, f(x + t u)> as a 0-d quad array (weights: the cotangent in quad): x + t u formed in quad
    (t a float: exact), f called as the evaluator calls it, its value kept in quad (no mpmath numbers)."""
    ctx = evaluator.ctx
    directions = [quad.to_quad(d, ctx) for d in u]

    def phi(t: float) -> np.ndarray:
        step = np.asarray(t).astype(quad.quad_dtype())
        moved = [quad.moved(x, d, step) for x, d in zip(evaluator.args_hp, directions, strict=True)]
        evaluator.budget.charge(evaluator.evaluations)
        evaluator.evaluations += 1
        value = call_hp(evaluator.f, moved)
        plain = np.asarray(value).view(np.ndarray) if quad.is_quad(value) else \
            quad.from_objects(np.asarray(value, dtype=object), ctx).view(np.ndarray)
        return np.sum(weights * plain.ravel())

    return phi


def _derivative(phi: Callable[[float], np.ndarray], phi0: np.ndarray, h: float, tested: float, floor: float,
                label: str) -> Projection:
    """The quad table along one direction: value, error and kink measure, computed in quad, against `tested`
    (<g, u>), whose size is max(|tested|, floor); whether all of them are clear."""
    steps = [h, h / 2]
    pairs = [(phi(s), phi(-s)) for s in steps]
    d = [(plus - minus) / _quad(2 * s) for (plus, minus), s in zip(pairs, steps, strict=True)]
    value = d[1] + (d[1] - d[0]) / _quad(3)
    largest = max([_float(abs(phi0))] + [_float(abs(v)) for pair in pairs for v in pair])
    roundoff = NOISE_ULPS * QUAD_EPS * largest * (1 / steps[0] + 4 / steps[1]) / 3
    even = [plus + minus - _quad(2) * phi0 for plus, minus in pairs]
    kink = _float(abs(even[0] - _quad(4) * even[1])) / steps[0]
    error = _float(abs(d[1] - d[0])) / 3 + roundoff
    return Projection(label, tested, _float(value), error, kink, max(abs(tested), floor), [h, h / 2, h / 2],
                      [_float(d[0]), _float(d[1]), _float(value)], False, agreement=AGREEMENT,
                      kink_agreement=AGREEMENT, high_precision=True).judge()


def _quad(value: float) -> np.ndarray:
    return np.asarray(value).astype(quad.quad_dtype())


def _float(value: np.ndarray) -> float:
    return float(np.asarray(value).astype(np.float64))

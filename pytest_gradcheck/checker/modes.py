"""The three ways of checking: every element (`full`), random projections (`fast`), Taylor remainders (`taylor`)."""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from pytest_gradcheck.checker import float64_limits, nonfinite, verdict
from pytest_gradcheck.checker.budget import BudgetExceeded
from pytest_gradcheck.checker.result import Kink, Mismatch
from pytest_gradcheck.hp import precision, quad

# Narrowing a failed projection down to elements: at most this many extra directional derivatives.
NARROWING_BUDGET = 48
# Groups of at most this many elements are checked element by element instead of bisected further.
NARROWING_LEAF = 2
# Taylor remainders at h = 10^-1 ... 10^-12: at high precision even the smallest h is far above round-off,
# and a formula error of relative size 1e-9 shows as order 1 below h ~ 1e-9.
TAYLOR_STEPS_HP = tuple(10.0**-k for k in range(1, 13))
# In float64 the remainder meets round-off near h ~ 1e-5 (remainder h^2 ~ eps * |f| / 1): stop there.
TAYLOR_STEPS_FLOAT64 = tuple(10.0**-k for k in range(1, 6))
# A correct gradient gives order 2; a wrong one order 1. The midpoint splits them.
TAYLOR_ORDER_THRESHOLD = 1.5


@dataclass
class Outcome:
    formula: list[Mismatch] = field(default_factory=list)
    kinks: list[Kink] = field(default_factory=list)
    converged: bool = True
    reference: tuple[np.ndarray, ...] | None = None
    reference_error: tuple[np.ndarray, ...] | None = None
    projections: int = 0
    miss_probability: float | None = None
    taylor: Any = None
    notes: list[str] = field(default_factory=list)
    traces: list[dict[str, Any]] = field(default_factory=list)  # steps and estimates of every derivative


def _trace(setup: Any, label: str, d: Any) -> dict[str, Any]:
    """The steps tried and the projected estimate at each, for reports that plot error against step."""
    value = float(setup.project(d.value))
    return {"label": label, "steps": [float(h) for h in d.steps],
            "estimates": [value if e is d.value else float(setup.project(e)) for e in d.estimates], "value": value,
            "error": setup.project_error(d.error), "status": d.status, "high_precision": d.mode == "hp"}


def _element(setup: Any, a: int, i: int, outcome: Outcome) -> tuple[Any, float, Any]:
    """Reference derivative of v^T f with respect to one element; records kinks and non-convergence."""
    d = setup.evaluator.derivative(setup.evaluator.unit(a, i))
    index = np.unravel_index(i, setup.args[a].shape)
    where = f"element {tuple(int(k) for k in index)}"
    outcome.traces.append(_trace(setup, f"argument {a} ({setup.names[a]!r}), {where}", d))
    if d.status == "nondifferentiable":
        value = tested_element(setup, a, i)
        outcome.kinks.append(_kink(setup, a, where, d, value, verdict.scale_of(setup.tested[a]),
                                   index=tuple(int(k) for k in index)))
    elif d.status != "ok":
        outcome.converged = False
        outcome.notes.append(f"argument {a} ({setup.names[a]!r}) {where}: central differences did not converge"
                             f"{nonfinite.step_reason(d)}")
    return setup.project(d.value), setup.project_error(d.error), d.status


def tested_element(setup: Any, a: int, i: int) -> Any:
    """Element i (flat) of the gradient under test for argument a, as the context's number when it is kept
    in quad (a large gradient of the quad tier)."""
    tested = setup.tested[a]
    if quad.is_quad(tested):
        return quad.to_objects(tested.ravel()[i:i + 1], setup.evaluator.ctx)[0]
    return tested.flat[i]


def _kink(setup: Any, a: int | None, where: str, d: Any, value: Any, scale: float,
          index: tuple[int, ...] | None = None) -> Kink:
    """A kink along a direction: one-sided derivatives projected on the cotangent."""
    return kink_record(setup, a, where, setup.project(d.left), setup.project(d.right),
                       setup.project_error(d.error), value, scale, index=index)


def kink_record(setup: Any, a: int | None, where: str, left: Any, right: Any, error: float, value: Any,
                scale: float, index: tuple[int, ...] | None = None) -> Kink:
    """Left and right derivatives, and whether `value` lies between them (a valid one-sided choice)."""
    lo, hi = min(left, right), max(left, right)
    slack = float(verdict.allowed(hi, error, scale, setup.formula_rtol, setup.tol))
    valid = bool(lo - slack <= value <= hi + slack)
    return Kink(a, where, float(left), float(right), float(value), valid, index)


def run_full(setup: Any, projections: int) -> Outcome:
    """Every element of every argument: the whole reference gradient with its error estimate."""
    setup.as_objects()
    outcome = setup.progress = Outcome()
    references, errors, skips = [], [], []
    for a, x in enumerate(setup.args):
        reference = np.empty(x.shape, dtype=object if setup.evaluator.high_precision else float)
        error = np.zeros(x.shape)
        skip = np.ones(x.shape, dtype=bool)
        try:
            for i in range(x.size):
                reference.flat[i], error.flat[i], status = _element(setup, a, i, outcome)
                skip.flat[i] = status != "ok"
        except BudgetExceeded:  # compare the elements done; the rest stand in as the values under test
            done = np.arange(x.size) < i
            reference.flat[~done] = setup.tested[a].flat[~done]
            outcome.formula += _compare_elements(setup, a, reference, error, skip, outcome)
            raise
        references.append(reference)
        errors.append(error)
        skips.append(skip)
    _cross_check(setup, references, errors, skips, outcome)
    for a, (reference, error, skip) in enumerate(zip(references, errors, skips, strict=True)):
        outcome.formula += _compare_elements(setup, a, reference, error, skip, outcome)
    outcome.reference, outcome.reference_error = tuple(references), tuple(errors)
    for a, error in enumerate(errors):
        largest = verdict.scale_of(setup.tested[a])
        if error.size and 0 < largest < float(np.max(error)) and outcome.converged:
            outcome.notes.append(float64_limits.below_error_note(setup, a, largest, float(np.max(error))))
    limit = float64_limits.limit_note(setup, references, errors)
    outcome.notes += [limit] if limit and outcome.converged and not outcome.formula else []
    return outcome


def _resolution(setup: Any) -> float:
    """sqrt(eps) of the reference's precision: errors below it (times the size) are round-off, not noise."""
    eps = setup.evaluator.ctx.eps if setup.evaluator.high_precision else np.finfo(np.float64).eps
    return float(eps) ** 0.5


def _cross_check(setup: Any, references: list[np.ndarray], errors: list[np.ndarray], skips: list[np.ndarray],
                 outcome: Outcome) -> None:
    """The element references must reproduce an independent derivative: the one along the random direction u
    that the float64-buffer check measured, <reference, u> = v^T J u. Round-off that is linear in the step
    (x - mean(x) at 0: 1/3 rounded at 40 digits) is invisible to differences at one precision but makes the
    two disagree; every element's error estimate is then raised to NOISE_SAFETY times the disagreement."""
    from pytest_gradcheck.checker.evaluation import NOISE_SAFETY

    verified = setup.evaluator.verified
    if verified is None or not setup.evaluator.high_precision or any(s.any() for s in skips):
        return
    direction, derivative = verified
    ctx = setup.evaluator.ctx
    combined = sum((np.sum(r * precision.to_hp(u, ctx)) for r, u in zip(references, direction, strict=True)
                    if u is not None), ctx.mpf(0))
    independent = setup.project(derivative.value)
    allowed = setup.tol.safety * (setup.project_error(derivative.error) + sum(
        float(np.sum(e * np.abs(u))) for e, u in zip(errors, direction, strict=True) if u is not None))
    disagreement = float(abs(combined - independent))
    if disagreement <= allowed:
        return
    floor = NOISE_SAFETY * disagreement
    for error in errors:
        np.maximum(error, floor, out=error)
    outcome.notes.append(f"the element references disagree with an independent directional derivative by "
                         f"{disagreement:.1e} (round-off linear in the step, which differences at one precision "
                         f"cannot see): their error estimates are raised to {floor:.1e}")


def _compare_elements(setup: Any, a: int, reference: np.ndarray, error: np.ndarray, skip: np.ndarray,
                      outcome: Outcome) -> list:
    uncertain = verdict.unresolved(reference, error, verdict.scale_of(reference), setup.tol, _resolution(setup)) & ~skip
    if uncertain.any():
        outcome.converged = False
        where = tuple(int(k) for k in np.argwhere(uncertain)[0])
        outcome.notes.append(float64_limits.unresolved_note(
            setup, f"argument {a} ({setup.names[a]!r})", f"{int(np.count_nonzero(uncertain))} element(s), e.g. "
            f"element {where}", float(reference[where]), float(error[where]), float(setup.tested[a][where])))
        skip = skip | uncertain
    found = verdict.compare("formula", reference, error, setup.tested[a], rtol=setup.formula_rtol, tol=setup.tol,
                            scale=verdict.scale_of(reference), argument=a, name=setup.names[a], worst=setup.worst,
                            noise=setup.element_noise(a))
    return [m for m in found if not skip[m.index]]


def _direction(setup: Any, only: tuple[int, np.ndarray] | None = None) -> list[np.ndarray | None]:
    """A seeded Gaussian direction over all arguments, or over some elements of one argument."""
    if only is None:
        return [setup.rng.standard_normal(x.shape) for x in setup.args]
    a, flat = only
    u = np.zeros(setup.args[a].shape)
    u.flat[flat] = setup.rng.standard_normal(len(flat))
    return [u if b == a else None for b in range(len(setup.args))]


def _tested_along(setup: Any, u: list[np.ndarray | None]) -> tuple[Any, float]:
    """<g, u> for the gradient under test, exactly at its precision, and the magnitude of its terms."""
    if any(quad.is_quad(g) for g in setup.tested):  # a large gradient kept on the quad tier: projected there
        return _tested_along_quad(setup, u)
    u_hp = setup.evaluator.direction_hp(u) if any(g.dtype == object for g in setup.tested) else u
    # np.dot adds the products in the order np.sum(g * u) would, without the array of products; a nan or inf
    # in the gradient makes the projection nan or inf, a finding compare() reports (no warning)
    with np.errstate(invalid="ignore", over="ignore"):
        value = sum(np.dot(g.ravel(), (w_hp.view(np.ndarray) if g.dtype == object else w).ravel())
                    for g, w, w_hp in zip(setup.tested, u, u_hp, strict=True) if w is not None)
        if not nonfinite.finite(value):  # inf * 0 is nan: a group without the non-finite element must not fail
            value = sum(np.dot(g.ravel()[k], (w_hp.view(np.ndarray) if g.dtype == object else w).ravel()[k])
                        for g, w, w_hp in zip(setup.tested, u, u_hp, strict=True) if w is not None
                        for k in [np.flatnonzero(w)])
    return value, _magnitude(setup, u)


def _tested_along_quad(setup: Any, u: list[np.ndarray | None]) -> tuple[Any, float]:
    """<g, u> for a gradient kept in quad: the products summed in quad (a million terms err by ~1e-30 relative of
    their magnitude, far below any tolerance), the sum as the context's number."""
    ctx = setup.evaluator.ctx
    total = ctx.mpf(0)
    with np.errstate(invalid="ignore", over="ignore"):
        for g, w in zip(setup.tested, u, strict=True):
            if w is not None:
                total += quad.to_objects(np.sum(g * w.astype(g.dtype)), ctx)[()]
    return total, _magnitude(setup, u)


def _magnitude(setup: Any, u: list[np.ndarray | None]) -> float:
    """The magnitude of <g, u>'s terms, sum |g_i u_i|: it only sets a scale, so float64 (the gradient rounded
    once per check) is plenty; nan or inf elements set none (they fail on their own)."""
    return float(sum(np.dot(np.abs(np.nan_to_num(g.ravel(), nan=0.0, posinf=0.0, neginf=0.0)), np.abs(w.ravel()))
                     for g, w in zip(setup.tested64, u, strict=True) if w is not None))


def _projection(setup: Any, u: list[np.ndarray | None], label: str, outcome: Outcome) -> list[Mismatch]:
    """Compare v^T J u with <g, u> for one direction; a kink or non-convergence is recorded instead."""
    d = setup.evaluator.derivative(u)
    outcome.traces.append(_trace(setup, label, d))
    value, scale = _tested_along(setup, u)
    if d.status == "nondifferentiable":
        outcome.kinks.append(_kink(setup, None, label, d, value, scale))
        return []
    if d.status != "ok":
        outcome.converged = False
        reason = nonfinite.step_reason(d)
        outcome.notes.append(f"{label}: central differences did not converge{reason}"
                             + ("; mode=\"full\" names the element" if reason else ""))
        return []
    reference, error = setup.project(d.value), setup.project_error(d.error)
    if verdict.unresolved([reference], [error], scale, setup.projection_tol, _resolution(setup))[0]:
        outcome.converged = False
        outcome.notes.append(float64_limits.unresolved_note(setup, label, "", float(reference), error, float(value)))
        return []
    return verdict.compare("formula", np.asarray([reference], dtype=object), [error],
                           np.asarray([value], dtype=object), rtol=setup.formula_rtol,
                           tol=setup.projection_tol, scale=scale, argument=None, name="all arguments",
                           labels=[label], worst=setup.worst, noise=setup.projection_noise(u))


def miss_probability(projections: int, multiple: float = 1.0) -> float:
    """Chance that `projections` Gaussian projections all miss an error vector `multiple` times the tolerance.

    For u ~ N(0, I), <e, u> ~ N(0, |e|^2): one projection stays within the tolerance t with probability
    erf(t / (|e| sqrt 2)); independent projections multiply.
    """
    return math.erf(1.0 / (multiple * math.sqrt(2.0))) ** projections


def run_fast(setup: Any, projections: int) -> Outcome:
    """Random projections v^T J u against <vjp(v), u>; a failure is narrowed to arguments and elements."""
    outcome = setup.progress = Outcome(projections=projections, miss_probability=miss_probability(projections))
    failed = outcome.formula  # filled as projections fail, so that a check stopped by its budget keeps them
    for k in range(projections):
        # The precision checks already measured one random direction's derivative: it is the first projection.
        reuse = setup.evaluator.verified if k == 0 else None
        u = list(reuse[0]) if reuse is not None else _direction(setup)
        failed += _projection(setup, u, f"projection {k}", outcome)
    tenfold = miss_probability(projections, 10)
    outcome.notes.append(f"an error 10x the tolerance goes unseen with probability {tenfold:.1g}")
    if failed:
        _narrow(setup, outcome)
    return outcome


# The screen passes a projection only when it agrees within this share of the tolerance (its error estimate
# included): an error the size of the tolerance then gets through with probability erf(1000^-1 / sqrt 2) = 8e-4
# per projection instead of 0.68, and a correct gradient (agreement ~1e-25 at 40 digits) still passes. The
# same share as the baseline's noise floor: what passes the screen is what a baseline comparison calls noise.
SCREEN_SHARE = 1e-3


def _screened(setup: Any, u: list[np.ndarray | None], d: Any, label: str, outcome: Outcome) -> tuple[bool, Any]:
    """Whether the screen's derivative d agrees with <g, u> within the screen's window, and, on the quad tier,
    when the difference is within what its error estimate allows, the step at which the estimate would fit
    (else None)."""
    tol = setup.projection_tol
    outcome.traces.append(_trace(setup, label, d))
    value, scale = _tested_along(setup, u)
    reference, error = setup.project(d.value), setup.project_error(d.error)
    size = float(verdict.error_scale(float(reference), scale, tol))  # as verdict.compare measures it
    discrepancy = float(abs(value - reference))
    relative = discrepancy / size if size else (math.inf if discrepancy else 0.0)
    setup.worst["formula"] = max(setup.worst.get("formula", 0.0), relative)  # for reports and baselines
    window = SCREEN_SHARE * float(verdict.allowed(float(reference), 0.0, scale, setup.formula_rtol, tol))
    if discrepancy + tol.safety * error <= window:
        return True, None
    if setup.evaluator.backend != "quad" or discrepancy > window + tol.safety * error or len(d.steps) != 1:
        return False, None  # not quad, a first attempt already retried, or a difference its error cannot explain
    return False, _better_step(float(d.steps[0]), error, setup.project_error(d.noise), (window / 2) / tol.safety)


def _better_step(h: float, error: float, noise: float, target: float) -> float | None:
    """The step minimising the quick derivative's error estimate A h^2 + B / h, whose two parts at step h are
    its truncation (measured) and round-off (7 times the assumed noise per evaluation over h), when the
    estimate predicted there is at most `target`; at most SCREEN_STEP_RANGE times h either way."""
    roundoff = 7 * noise / h
    a, b = max(error - roundoff, 0.0) / h**2, roundoff * h
    best = (b / (2 * a)) ** (1 / 3) if a > 0 else h * SCREEN_STEP_RANGE
    best = min(max(best, h / SCREEN_STEP_RANGE), h * SCREEN_STEP_RANGE)
    return best if a * best**2 + b / best <= target else None


# The screen's second attempt (quad tier only) moves its step at most this factor from the first.
SCREEN_STEP_RANGE = 1000.0


def run_screen(setup: Any, projections: int) -> Outcome | None:
    """auto's first pass (and each per-op check's): random projections at high precision from the 3-evaluation
    derivative, without the precision checks. Agreement within SCREEN_SHARE of the tolerance, the derivative's
    error estimate included, is the verdict; otherwise None, and the thorough check runs. A kink needs no test of
    its own: it makes the estimate of order one, so it never passes.

    Skipping the checks cannot produce a false pass: a float64 buffer inside f makes the tiny-step
    differences wrong at O(1e-4) relative or more, and unmeasured round-off makes the reference's error
    estimate too small, which only tightens the comparison; either way the projection fails, and the
    thorough check (which measures both) decides."""
    outcome = setup.progress = Outcome(projections=projections,
                                       miss_probability=miss_probability(projections, 1 / SCREEN_SHARE))
    for k in range(projections):
        u = _direction(setup)
        d = setup.evaluator.quick_derivative(u)
        agreed, retry = _screened(setup, u, d, f"projection {k}", outcome)
        if not agreed and retry is not None:  # the error estimate, not the difference, was too large: once more
            agreed, _ = _screened(setup, u, setup.evaluator.quick_derivative(u, step=retry), f"projection {k}",
                                  outcome)
        if not agreed:
            break
    else:
        outcome.notes.append(
            f"screen: {projections} random projection(s) at high precision agreed within {SCREEN_SHARE:g} of the "
            f"tolerance (an error the size of the tolerance gets through with probability "
            f"{outcome.miss_probability:.1g}; anything else runs the full or fast check)")
        return outcome
    setup.progress = None
    return None


# Narrowing takes one more directional derivative only while the narrowing's predicted time (so far, plus the
# average derivative) is at most this share of the check's time budget: on a large input every derivative costs
# seconds, and the verdict is already made.
NARROWING_TIME_SHARE = 0.1


def _narrow(setup: Any, outcome: Outcome, only: int | None = None) -> None:
    """Bisect over arguments, then element groups, within NARROWING_BUDGET directional derivatives."""
    budget = NARROWING_BUDGET
    groups = [(a, np.arange(x.size)) for a, x in enumerate(setup.args) if x.size and only in (None, a)]
    confirmed = outcome.formula  # element mismatches join the outcome as soon as they are found
    clock = setup.evaluator.budget
    started, spent = clock.elapsed(), 0
    while groups and budget > 0:
        taken = clock.elapsed() - started
        if spent and taken + taken / spent > NARROWING_TIME_SHARE * (clock.elapsed() + clock.remaining()):
            outcome.notes.append(f"narrowing stopped after {spent} directional derivatives: locating more elements "
                                 f"would take more than {NARROWING_TIME_SHARE:.0%} of the check's time budget; "
                                 f"{len(groups)} element groups were not examined")
            return
        spent += 1
        a, flat = groups.pop(0)
        if len(flat) <= NARROWING_LEAF:
            for i in flat[:budget]:
                confirmed += _element_mismatches(setup, a, int(i), outcome)
                budget -= 1
            continue
        label = f"argument {a} ({setup.names[a]!r}), {len(flat)} elements"
        budget -= 1
        if _projection(setup, _direction(setup, (a, flat)), label, outcome):
            half = len(flat) // 2
            groups += [(a, flat[:half]), (a, flat[half:])]
    if groups:
        outcome.notes.append(f"narrowing stopped after {NARROWING_BUDGET} directional derivatives; "
                             f"{len(groups)} element groups were not examined")


def _element_mismatches(setup: Any, a: int, i: int, outcome: Outcome) -> list[Mismatch]:
    reference, error, status = _element(setup, a, i, outcome)
    if status != "ok":
        return []
    tested = setup.tested[a]
    index = tuple(int(k) for k in np.unravel_index(i, tested.shape))
    value = np.asarray([tested_element(setup, a, i)], dtype=object)
    found = verdict.compare("formula", np.asarray([reference], dtype=object), [error], value,
                            rtol=setup.formula_rtol, tol=setup.tol,
                            scale=verdict.scale_of(tested), argument=a, name=setup.names[a],
                            labels=[f"element {index}"], worst=setup.worst,
                            noise=np.ravel(setup.element_noise(a))[i] if setup.noise is not None else 0.0)
    return [dataclasses.replace(m, index=index) for m in found]


def run_diagonal(setup: Any, projections: int) -> Outcome:
    """Elementwise functions: the Jacobian with respect to a same-shape argument is diagonal, so one
    directional derivative along a nowhere-zero u gives every element (J_ii = (J u)_i / u_i)."""
    setup.as_objects()
    outcome = setup.progress = Outcome(projections=projections)
    size = setup.cotangent.size
    for a, x in enumerate(setup.args):
        if x.size != size or x.size == 0:  # broadcast argument: not diagonal, use projections on it
            failed = [m for k in range(projections)
                      for m in _projection(setup, _direction(setup, (a, np.arange(x.size))), f"argument {a} "
                                           f"({setup.names[a]!r}), projection {k}", outcome)]
            outcome.formula += failed
            if failed:
                _narrow(setup, outcome, only=a)
            continue
        outcome.formula += _diagonal(setup, a, outcome)
    return outcome


def _diagonal(setup: Any, a: int, outcome: Outcome) -> list[Mismatch]:
    x, ctx, hp = setup.args[a], setup.evaluator.ctx, setup.evaluator.high_precision
    u = setup.rng.uniform(0.5, 1.5, x.shape) * setup.rng.choice([-1.0, 1.0], x.shape)  # nowhere near zero
    d = setup.evaluator.derivative([u if b == a else None for b in range(len(setup.args))])
    label = f"argument {a} ({setup.names[a]!r}), diagonal"
    outcome.traces.append(_trace(setup, label, d))
    v, w = setup.cotangent, (precision.to_hp(u, ctx) if hp else u).ravel()
    vv = precision.to_hp(v, ctx) if hp else v
    reference = (vv * d.value / w).reshape(x.shape)
    error = (np.abs(v) * nonfinite.floats(d.error) / np.abs(u.ravel())).reshape(x.shape)
    tested, scale = setup.tested[a], verdict.scale_of(reference)
    statuses = np.asarray(d.component_status).reshape(x.shape)
    for index in (tuple(int(k) for k in found) for found in np.argwhere(statuses != "ok")):
        where = f"element {tuple(int(k) for k in index)}"
        if statuses[index] == "nondifferentiable":
            i = int(np.ravel_multi_index(index, x.shape))
            left, right = vv[i] * d.left[i] / w[i], vv[i] * d.right[i] / w[i]
            left, right = (right, left) if u.flat[i] < 0 else (left, right)  # t < 0 moves x_i forward
            outcome.kinks.append(kink_record(setup, a, where, left, right, float(error[index]), tested[index], scale,
                                             index=index))
        else:
            outcome.converged = False
            outcome.notes.append(f"{label} {where}: central differences did not converge{nonfinite.step_reason(d)}")
    found = verdict.compare("formula", reference, error, tested, rtol=setup.formula_rtol, tol=setup.tol,
                            scale=scale, argument=a, name=setup.names[a], worst=setup.worst,
                            noise=setup.element_noise(a))
    return [m for m in found if statuses[m.index] == "ok"]


def run_taylor(setup: Any, projections: int) -> Outcome:
    """Remainders |f(x + h u) - f(x) - h <g, u>| over h: order 2 for a right gradient, order 1 for a wrong one."""
    setup.as_objects()
    from pytest_gradcheck.checker import taylor

    u = _direction(setup)
    phi = setup.evaluator.phi(u)
    psi = lambda t: setup.project(phi(t))  # noqa: E731 - the projected function of one variable
    directional, _ = _tested_along(setup, u)
    zero = setup.evaluator.ctx.mpf(0) if setup.evaluator.high_precision else 0.0
    steps = TAYLOR_STEPS_HP if setup.evaluator.high_precision else TAYLOR_STEPS_FLOAT64
    result = taylor.taylor_test(psi(zero), psi, directional, steps)
    outcome = setup.progress = Outcome(taylor=result)
    if result.order is not None and result.order < TAYLOR_ORDER_THRESHOLD:
        # Reported as a mismatch of the remainder's observed order against the order 2 of a right gradient.
        order = float(result.order)
        outcome.formula.append(Mismatch("formula", None, "observed order of the Taylor remainder", "as h -> 0",
                                        None, 2.0, 0.0, order, 2.0 - order, (2.0 - order) / 2.0,
                                        2.0 - TAYLOR_ORDER_THRESHOLD))
    if not nonfinite.finite(directional):  # no remainder, so no order: judge the nan/inf elements themselves
        bad = [(a, int(i)) for a, g in enumerate(setup.tested) for i in np.flatnonzero(nonfinite.mask(g))]
        for a, i in bad[:NARROWING_BUDGET]:
            outcome.formula += _element_mismatches(setup, a, i, outcome)
    return outcome

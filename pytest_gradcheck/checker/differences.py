"""Directional derivatives by central differences, each with an honest error estimate.

The caller builds ``phi(t) = f(x + t*u)`` flattened: each call returns a 1-D array (object array of
``ctx.mpf`` at high precision, float64 otherwise), so one set of evaluations gives the whole directional
derivative ``J u``. Every estimate and error estimate is an array, elementwise over the outputs of ``phi``.

``scale`` (positive) is the length in ``t`` over which ``phi`` changes appreciably; every step is a multiple
of it. For a direction with ``max|u_i| ~ 1`` pass ``max(1, max|x_i|)``: below 1 the steps would be too
small for round-off, and a float64 buffer on ``x`` (see `consistency`) is only visible at steps that are
a fraction of ``|x|``.

Here: stencils, Richardson extrapolation, the high-precision derivative with kink detection. The float64
fallback (measured noise, optimal step) is `float64_differences`; float64-buffer detection is `consistency`.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from operator import attrgetter
from typing import Any, NamedTuple

import numpy as np

from pytest_gradcheck.hp.array import plain_arithmetic

__all__ = [
    "Derivative", "SubgradientPosition", "hp_derivative", "hp_quick_derivative", "hp_richardson_derivative",
    "hp_steps", "richardson", "subgradient_position",
]
# Shared with `float64_differences` (the float64 fallback) and `consistency` (float64-buffer detection), not
# part of __all__: Phi, Stencil, stencil, Attempt, check_scale, phi_at_zero, assemble, NOISE_ULPS, KINK_WEIGHT.

Phi = Callable[[Any], np.ndarray]

NOISE_ULPS = 1000  # hp: one evaluation is assumed correct to ~1000 ulps of its magnitude (many roundings)
KINK_WEIGHT = 16  # |phi(h)+phi(-h)-4phi(h/2)-4phi(-h/2)+6phi(0)|: its coefficients' sum, the noise multiplier
ONE_SIDED_WEIGHT = 8  # |4phi(h/2) - 3phi(0) - phi(h)|: the one-sided Richardson value's noise multiplier
RETRY_STEPS = 3  # hp: steps from (NOISE_ULPS eps)^(1/3) down to eps^(1/2), geometric: see hp_steps
STEADY = 0.1  # hp: a kink's measure agrees across steps to O(h); noise's agrees within 10% with chance ~3%


class Derivative(NamedTuple):
    """A directional derivative J u with its error estimate, elementwise over the outputs of phi.

    For "ok" components |value - true| <= error (measured coverage >= 99%). For "nondifferentiable" ones
    value is the midpoint of `left` and `right` (not a derivative) and error is theirs, `side_error`.
    `status` is "not_converged" if any component is, else "nondifferentiable" if any is, else "ok";
    `component_status` has it per component. `steps`/`estimates`: every central difference computed, in the
    order computed (for plots of estimate vs step). `noise` bounds one evaluation's error (hp: assumed
    NOISE_ULPS ulps) or is its measured standard deviation (float64, ECnoise). `step`: the step used per
    component. `left`/`right`/`side_error`: one-sided derivatives and their error (None if not computed).
    """

    value: np.ndarray
    error: np.ndarray
    status: str
    steps: tuple[Any, ...]
    estimates: tuple[np.ndarray, ...]
    left: np.ndarray | None
    right: np.ndarray | None
    evaluations: int
    mode: str
    noise: np.ndarray
    side_error: np.ndarray | None
    step: np.ndarray
    component_status: np.ndarray


class Stencil:
    """Differences from phi at 0, +-h, +-h/2: central, one-sided, and the kink measure.

    `left`, `right` (one-sided Richardson 2 L(h/2) - L(h): O(h^2) truncation) and `side_change` (how much the
    one-sided differences moved from h to h/2: bounds their error) are computed on first use: only a kink
    needs them.
    """

    def __init__(self, h: Any, f0: np.ndarray, fp: np.ndarray, fm: np.ndarray, fp2: np.ndarray,
                 fm2: np.ndarray) -> None:
        self.h, self._values = h, (f0, fp, fm, fp2, fm2)
        self.d_big = (fp - fm) / (2 * h)  # (phi(h) - phi(-h)) / 2h
        self.d_small = (fp2 - fm2) / h  # (phi(h/2) - phi(-h/2)) / h
        # h (2 s(h/2) - s(h)) for s the second difference over h: ~0 smooth, ~h*jump at a kink
        self.kink = fp + fm - 4 * (fp2 + fm2) + 6 * f0
        self.magnitude = np.maximum(np.maximum(np.abs(f0), np.abs(fp)), np.maximum(  # max |phi| over the stencil
            np.maximum(np.abs(fm), np.abs(fp2)), np.abs(fm2)))

    @functools.cached_property
    def _one_sided(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        f0, fp, fm, fp2, fm2 = self._values
        h = self.h
        r_big, r_small, l_big, l_small = (fp - f0) / h, (fp2 - f0) * 2 / h, (f0 - fm) / h, (f0 - fm2) * 2 / h
        side_change = np.maximum(np.abs(r_big - r_small), np.abs(l_big - l_small))
        return 2 * l_small - l_big, 2 * r_small - r_big, side_change

    @property
    def left(self) -> np.ndarray:
        return self._one_sided[0]

    @property
    def right(self) -> np.ndarray:
        return self._one_sided[1]

    @property
    def side_change(self) -> np.ndarray:
        return self._one_sided[2]


def stencil(phi: Phi, f0: np.ndarray, h: Any) -> Stencil:
    """Evaluate phi at +-h, +-h/2 (4 evaluations) and form the differences."""
    with plain_arithmetic(False):  # phi runs the user's code: routed
        fp, fm, fp2, fm2 = (np.asarray(phi(t)) for t in (h, -h, h / 2, -h / 2))
    return Stencil(h, f0, fp, fm, fp2, fm2)


class Attempt(NamedTuple):
    """One step's stencil analysed: estimate, error, and per component kinked / converged."""

    stencil: Stencil
    value: np.ndarray
    error: np.ndarray
    kinked: np.ndarray
    converged: np.ndarray
    bound: np.ndarray  # bound on one evaluation's error


def richardson(estimates: list[np.ndarray]) -> tuple[Any, Any, np.ndarray]:
    """Extrapolate central differences at h, h/2, h/4, ... (errors in h^2, h^4, ...).

    Returns the value, a conservative error estimate (its change along the last row plus the last
    diagonal of the table), and the weights w with value = sum w_k estimates_k (for round-off bounds).
    """
    if len(estimates) == 2:  # one step and its half (the common case), the table below written out
        big, small = estimates
        value = small + (small - big) / 3
        return value, np.abs(value - small) + np.abs(value - big), _TWO_WEIGHTS
    table: list[list[Any]] = [[e] for e in estimates]
    weights: list[list[np.ndarray]] = [[row] for row in np.eye(len(estimates))]
    for i in range(1, len(estimates)):
        for j in range(1, i + 1):
            for rows in (table, weights):
                rows[i].append(rows[i][j - 1] + (rows[i][j - 1] - rows[i - 1][j - 1]) / (4**j - 1))
    value = table[-1][-1]
    if len(estimates) == 1:
        return value, 0 * value, weights[-1][-1]
    return value, np.abs(value - table[-1][-2]) + np.abs(value - table[-2][-1]), weights[-1][-1]


_TWO_WEIGHTS = np.eye(2)[1] + (np.eye(2)[1] - np.eye(2)[0]) / 3  # richardson's weights for two estimates


def check_scale(scale: Any) -> None:
    """Reject a scale that is not a positive finite number, naming the argument."""
    if not (float(scale) > 0 and math.isfinite(float(scale))):
        raise ValueError(f"scale: expected a positive finite step length, got {scale!r}")


def phi_at_zero(phi: Phi, zero: Any, phi0: Any) -> tuple[np.ndarray, int]:
    """phi(0) and the evaluations it cost: none if the caller supplied it as `phi0`."""
    return (np.asarray(phi(zero)), 1) if phi0 is None else (np.asarray(phi0), 0)


FIELDS = ("value", "error", "stencil.left", "stencil.right", "bound", "stencil.h")


def assemble(attempts: list[Attempt], broken: np.ndarray, fallback: Any, mode: str, evaluations: int,
              steps: list, estimates: list) -> Derivative:
    """Per component the first attempt that resolved it (no kink, converged); unresolved ones take
    attempt `fallback` and are "nondifferentiable" where `broken` (a confirmed kink), else "not_converged"."""
    resolved = np.stack([a.converged & ~a.kinked for a in attempts])
    if len(attempts) == 1 and resolved.all():  # the common case: one step resolved every component
        a = attempts[0]  # (no kink anywhere: no one-sided derivatives)
        shape = np.shape(a.value)
        value, error, bound, step = (np.array(np.broadcast_to(field, shape)) for field in (
            a.value, a.error, a.bound, a.stencil.h))
        return Derivative(value, error, "ok", tuple(steps), tuple(estimates), None, None, evaluations, mode,
                          bound, None, step, np.full(shape, "ok"))
    chosen = np.where(resolved.any(axis=0), resolved.argmax(axis=0), fallback)
    cols = np.arange(chosen.size)

    def pick(field: Callable[[Attempt], Any]) -> np.ndarray:
        return np.stack([np.broadcast_to(field(a), chosen.shape) for a in attempts])[chosen, cols]

    value, error, left, right, bound, step = (pick(attrgetter(name)) for name in FIELDS)
    side_error = pick(_side_error)
    status = np.where(resolved.any(axis=0), "ok", np.where(broken, "nondifferentiable", "not_converged"))
    nondiff = status == "nondifferentiable"
    value, error = np.where(nondiff, (left + right) / 2, value), np.where(nondiff, side_error, error)
    overall = next((s for s in ("not_converged", "nondifferentiable") if (status == s).any()), "ok")
    return Derivative(value, error, overall, tuple(steps), tuple(estimates), left, right, evaluations, mode,
                      bound, side_error, step, status)


def _side_error(a: Attempt) -> np.ndarray:
    return a.stencil.side_change + ONE_SIDED_WEIGHT * a.bound / a.stencil.h


def hp_steps(ctx: Any, scale: Any) -> list[Any]:
    """Steps tried at high precision, largest first.

    The first, scale (NOISE_ULPS eps)^(1/3), balances the h^2 truncation that the error estimate sees
    against the round-off NOISE_ULPS eps / h of the extrapolated value (both ~eps^(2/3): 1e-25 at 40 digits).
    Retries go down to scale eps^(1/2), where round-off still leaves half the digits for one-sided
    derivatives: a kink signature that vanishes on the way was a kink near, but not at, the point.
    """
    return list(_hp_steps(ctx, ctx.mpf(scale)))


@functools.lru_cache(maxsize=256)
def _hp_steps(ctx: Any, scale: Any) -> tuple[Any, ...]:
    # cached per context and scale: the mpmath roots cost more than a small evaluation of f
    first, last = ctx.cbrt(NOISE_ULPS * ctx.eps), ctx.sqrt(ctx.eps)
    ratio = (last / first) ** (ctx.mpf(1) / (RETRY_STEPS - 1))
    # An irrational factor (0.707): a short binary step (first is 5 * 2^-44 at 40 digits) keeps the
    # rounding errors of x + t u and beyond linear in t, where they pass for a derivative, not for noise.
    generic = ctx.sqrt(2) / 2
    return tuple(scale * generic * first * ratio**k for k in range(RETRY_STEPS))


def _hp_attempt(st: Stencil, ctx: Any, scale: Any, bound: np.ndarray | None = None, floor: Any = 0) -> Attempt:
    # Arrays go first: mpf * ndarray makes mpmath format the whole array into an error message before numpy
    # takes over (a third of the cost of this function).
    bound = st.magnitude * _noise_level(ctx) if bound is None else bound
    if not (isinstance(floor, int) and floor == 0):
        bound = np.maximum(bound, floor)  # a measured round-off level, when the caller has one
    value, change, weights = richardson([st.d_big, st.d_small])
    roundoff = bound * ((abs(weights[0]) + abs(weights[1]) * 2) / st.h)
    # Asymptotic regime: the estimates agree to a quarter of the working digits (10 at 40 digits), or
    # their disagreement is round-off.
    converged = change <= (np.abs(value) + st.magnitude / scale) * _quarter(ctx) + roundoff
    return Attempt(st, value, change + roundoff, np.abs(st.kink) > KINK_WEIGHT * bound, converged, bound)


def _steady(series: np.ndarray) -> np.ndarray:
    return np.all(np.abs(series - series[-1]) <= STEADY * np.abs(series[-1]), axis=0)


def _hp_confirm(attempts: list[Attempt], ctx: Any, scale: Any) -> tuple[list[Attempt], np.ndarray, np.ndarray]:
    """Tell kinks from noise above NOISE_ULPS, for components no step resolved.

    A kink at the point gives the same slope jump (kink measure / h) at every step, a jump the same
    phi(h) - phi(-h); noise does not, but quantised round-off can repeat itself, so a jump must also
    exceed `_quarter` |phi|. A kink closer than the smallest step but not at the point is steady down to some
    step: the deepest such step gives the one-sided derivatives. Unresolved components with no steady
    signature get the first step re-analysed (appended) with the noise measured at every step by the
    kink measure and by h |D(h) - D(h/2)| (a bound, up to the chance that all six are small), if that
    noise is below `_quarter` |phi|; else they stay unresolved. Returns the attempts, the confirmed mask
    and the fallback step per component.
    """
    resolved = np.stack([a.converged & ~a.kinked for a in attempts]).any(axis=0)
    if resolved.all():  # the common case: nothing to confirm (the masks below only touch unresolved components)
        return attempts, np.zeros(resolved.shape, dtype=bool), np.full(resolved.shape, len(attempts) - 1)
    kinks = np.stack([a.stencil.kink for a in attempts])
    slopes = np.stack([a.stencil.kink / a.stencil.h for a in attempts])
    across = np.stack([a.stencil.d_big * a.stencil.h for a in attempts])  # (phi(h) - phi(-h)) / 2
    ceiling = np.max(np.stack([a.stencil.magnitude for a in attempts]), axis=0) * _quarter(ctx)
    confirmed, fallback = np.zeros(kinks.shape[1], dtype=bool), np.full(kinks.shape[1], len(attempts) - 1)
    for m in range(2, len(attempts) + 1):
        kink = np.all([a.kinked for a in attempts[:m]], axis=0) & _steady(slopes[:m])
        confirmed, fallback = confirmed | kink, np.where(kink, m - 1, fallback)
    jump = _steady(across) & (np.abs(across[-1]) > ceiling)  # seen at every step
    confirmed, fallback = confirmed | jump, np.where(jump, len(attempts) - 1, fallback)
    resolved = np.stack([a.converged & ~a.kinked for a in attempts]).any(axis=0)
    # Pure truncation: where phi itself is tiny (x^3 or x^4 at 0), the h^2 terms dwarf the bars above, which
    # are relative to |phi|; yet both the change between h and h/2 and the kink measure shrink like h^2 or
    # faster from step to step (a kink's measure shrinks only like h, a jump's not at all, round-off grows).
    smooth = np.asarray(len(attempts) > 1) & ~resolved & ~confirmed
    for measure in ([np.abs(a.stencil.d_big - a.stencil.d_small) for a in attempts],
                    [np.abs(a.stencil.kink) for a in attempts]):
        scaled = np.stack([m / a.stencil.h**2 for m, a in zip(measure, attempts, strict=True)])
        smooth = smooth & np.all(scaled[1:] <= (1 + STEADY) * scaled[:-1], axis=0)
    attempts[-1] = attempts[-1]._replace(kinked=attempts[-1].kinked & ~smooth)
    attempts[-1] = attempts[-1]._replace(converged=attempts[-1].converged | smooth)
    resolved = resolved | smooth
    if resolved.all():
        return attempts, confirmed, fallback
    odd = np.stack([np.abs(a.stencil.d_big - a.stencil.d_small) * a.stencil.h for a in attempts])
    measured = np.maximum(attempts[0].bound, np.max(np.maximum(np.abs(kinks), odd), axis=0))
    redo = _hp_attempt(attempts[0].stencil, ctx, scale, measured)
    redo = redo._replace(converged=redo.converged & ~resolved & ~confirmed & (measured <= ceiling))
    return [*attempts, redo], confirmed, fallback


@functools.cache
def _noise_level(ctx: Any) -> Any:
    """NOISE_ULPS eps: the assumed relative round-off of one evaluation."""
    return NOISE_ULPS * ctx.eps


@functools.cache
def _quarter(ctx: Any) -> Any:
    """eps^(1/4), a quarter of the working digits (1e-10 at 40 digits): the line between round-off and
    signal for agreement between estimates, and for noise relative to |phi| (cancellation beyond
    eps^(-3/4), 1e30 at 40 digits, is no longer round-off but a function the steps do not resolve)."""
    return ctx.eps ** (ctx.mpf(1) / 4)


# hp_quick_derivative: its truncation estimate (the leading term, exact to O(h)) counts twice.
QUICK_SAFETY = 2


@functools.lru_cache(maxsize=256)
def _quick_steps(ctx: Any, scale: Any) -> tuple[Any, ...]:
    """h, -h, h/2 and the factors 1/2h, QUICK_SAFETY/3h, 7/h, once per context and scale."""
    h = hp_steps(ctx, scale)[0]
    return h, -h, h / 2, 1 / (2 * h), QUICK_SAFETY / (3 * h), 7 / h


def quick_roundoff(ctx: Any, scale: Any, magnitude: np.ndarray) -> np.ndarray:
    """The round-off part of hp_quick_derivative's error at its default step, predicted from |phi| (`magnitude`,
    float64) before any evaluation: a caller can tell in advance that the 3 evaluations would not resolve a
    derivative finely enough, and take hp_richardson_derivative's 6 instead."""
    to_roundoff = float(_quick_steps(ctx, ctx.mpf(scale))[5])
    return np.asarray(magnitude, dtype=float) * (float(_noise_level(ctx)) * to_roundoff)


def hp_quick_derivative(phi: Phi, ctx: Any, *, scale: Any, phi0: np.ndarray, step: Any = None) -> Derivative:
    """J u from 3 evaluations (phi at h, -h, h/2; phi(0) given): the central difference D(h) with an error
    estimate, for a screen that only accepts an error far below the tolerance and hands anything else on.

    K = phi(-h) - 3 phi(h) + 8 phi(h/2) - 6 phi(0) = -phi3 h^3 / 2 - phi4 h^4 / 16 + ... (phi3, phi4: the third
    and fourth derivatives), so |K| / 3h is the leading term of D(h)'s truncation error, phi3 h^2 / 6. The error
    is QUICK_SAFETY times that plus round-off (NOISE_ULPS ulps of max |phi| per evaluation: up to 1/h of it in
    D(h), 6/h in the estimate). No kink test: at a kink K is O(h) and the error O(1), so a screen rejects it
    and the thorough check names it. `status` is "ok"; callers judge the error.
    """
    check_scale(scale)
    if step is None:
        h, minus_h, half_h, to_slope, to_truncation, to_roundoff = _quick_steps(ctx, ctx.mpf(scale))
    else:  # a step of the caller's choice (the screen's second attempt): the same formulas
        h = ctx.mpf(step)
        minus_h, half_h, to_slope, to_truncation, to_roundoff = -h, h / 2, 1 / (2 * h), QUICK_SAFETY / (3 * h), 7 / h
    with plain_arithmetic(False):  # phi runs the user's code: routed
        fp, fm, fp2 = (np.asarray(phi(t)) for t in (h, minus_h, half_h))
    f0 = np.asarray(phi0)
    shape = np.broadcast_shapes(fp.shape, f0.shape)
    single = fp.size == 1 and f0.size == 1  # a scalar f: the same formulas on numbers, without numpy's overhead
    if single:
        fp, fm, fp2, f0 = (a.reshape(()).item() for a in (fp, fm, fp2, f0))
    with plain_arithmetic():
        value = (fp - fm) * to_slope
        third = (fm - 6 * f0) + (8 * fp2 - 3 * fp)
        # |phi(0)| and |phi(h/2)| lie between |phi(h)| and |phi(-h)|, to O(h)
        bound = (max if single else np.maximum)(abs(fp), abs(fm)) * _noise_level(ctx)
        error = abs(third) * to_truncation + bound * to_roundoff
    if single:
        value, error, bound = (np.full(shape, v, dtype=object) for v in (value, error, bound))
    return Derivative(value, error, "ok", (h,), (value,), None, None, 3, "hp", bound, None, np.full(shape, h),
                      np.full(shape, "ok"))


# hp_richardson_derivative: its value's round-off is this many times one evaluation's error over the step h:
# the weights (1, -20, 64) / 45 of D(h), D(h/2), D(h/4), each erring by up to 2^k e / h: (1 + 40 + 256) / 45.
RICHARDSON_ROUNDOFF = 6.6


@functools.lru_cache(maxsize=256)
def richardson_step(ctx: Any, scale: Any) -> Any:
    """The step of hp_richardson_derivative: its error estimate (the 4th-order entries' truncation, ~h^4) against
    its round-off (RICHARDSON_ROUNDOFF NOISE_ULPS eps / h): scale (RICHARDSON_ROUNDOFF NOISE_ULPS eps)^(1/5) times
    the irrational factor of hp_steps (7e-7 on quad, where the 3-evaluation derivative steps 8e-11)."""
    return ctx.mpf(scale) * ctx.sqrt(2) / 2 * (RICHARDSON_ROUNDOFF * _noise_level(ctx)) ** (ctx.mpf(1) / 5)


def hp_richardson_derivative(phi: Phi, ctx: Any, *, scale: Any, phi0: np.ndarray) -> Derivative:
    """J u from 6 evaluations (phi at +-h, +-h/2, +-h/4, h = `richardson_step`; phi(0) given): the Richardson
    table of the three central differences, for a screen whose tolerance the 3-evaluation derivative's round-off
    (NOISE_ULPS ulps of |phi| over a step ~eps^(1/3)) would not fit: on quad, an output element much smaller
    than |phi|.

    The value errs by O(h^6); the error is `richardson`'s (the last corrections, O(h^4): far above the value's
    truncation), plus round-off, NOISE_ULPS ulps of max |phi| per evaluation (RICHARDSON_ROUNDOFF / h of it in the
    value), plus the slope jump `_jump` measures. At a step eps^(1/5) instead of eps^(1/3) the round-off is ~1e-24
    of |phi| on quad instead of ~1e-20. Central differences alone are blind to a kink at the point (|t|: every
    one is 0, the mean of the one-sided slopes); with the jump in the error, the value covers both one-sided
    derivatives. A kink near the point makes the table diverge. `status` is "ok"; callers judge the error.
    """
    check_scale(scale)
    h = richardson_step(ctx, ctx.mpf(scale))
    with plain_arithmetic(False):  # phi runs the user's code: routed
        values = [np.asarray(phi(t)) for t in (h, -h, h / 2, -h / 2, h / 4, -h / 4)]
    f0 = np.asarray(phi0)
    shape = np.broadcast_shapes(values[0].shape, f0.shape)
    with plain_arithmetic():
        central = [(values[2 * k] - values[2 * k + 1]) * (2**k / (2 * h)) for k in range(3)]
        value, change, _ = richardson(central)
        bound = functools.reduce(np.maximum, [np.abs(v) for v in values]) * _noise_level(ctx)
        error = change + bound * (RICHARDSON_ROUNDOFF / h) + np.abs(_jump(values, f0, h))
    value, error, bound = (np.array(np.broadcast_to(a, shape), dtype=object) for a in (value, error, bound))
    return Derivative(value, error, "ok", (h, h / 2, h / 4), tuple(central), None, None, 6, "hp", bound, None,
                      np.full(shape, h), np.full(shape, "ok"))


def _jump(values: list[np.ndarray], f0: np.ndarray, h: Any) -> np.ndarray:
    """The jump of the slope of phi at 0, from the even parts E(r) = (phi(r) + phi(-r) - 2 phi(0)) / r at r = h,
    h/2, h/4: smooth, E(r) = phi2 r + phi4 r^3 / 12 + O(r^5); a kink adds the jump J at every r. The combination
    (16 E(h/4) - 10 E(h/2) + E(h)) / 7 removes the r and r^3 terms: J + O(h^5) (0 to ~1e-31 when smooth), its
    round-off up to 48.6 e / h (e: one evaluation's error; counted, never assumed away)."""
    even = [(values[2 * k] + values[2 * k + 1] - 2 * f0) * (2**k / h) for k in range(3)]
    return (16 * even[2] - 10 * even[1] + even[0]) / 7


def hp_derivative(phi: Phi, ctx: Any, *, scale: Any, phi0: np.ndarray | None = None,
                  noise: Any = 0) -> Derivative:
    """J u at high precision: Richardson on central differences at h and h/2, plus kink detection.

    4 evaluations per step (5 with phi(0), which `phi0` supplies for free); smooth functions finish at the
    first step. A kink signature (the second difference not shrinking like h) or disagreeing estimates
    retry at smaller steps (`hp_steps`), 13 evaluations in all. Components whose kink signature is steady
    across the steps are "nondifferentiable" with `left`/`right` from the deepest steady step; others
    still unresolved after `_hp_confirm` are "not_converged". `noise`: a measured bound on one evaluation's
    round-off (per component), used where it exceeds the NOISE_ULPS assumption relative to |phi|: a function
    that cancels internally (log(cosh(x)) near 0) rounds far above its own size.
    """
    check_scale(scale)
    with plain_arithmetic(False):
        f0, evaluations = phi_at_zero(phi, ctx.mpf(0), phi0)
    with plain_arithmetic():
        return _hp_derivative(phi, ctx, scale, f0, evaluations, noise)


def _hp_derivative(phi: Phi, ctx: Any, scale: Any, f0: np.ndarray, evaluations: int, noise: Any) -> Derivative:
    attempts, steps, estimates = [], [], []
    for h in hp_steps(ctx, scale):
        attempts.append(_hp_attempt(stencil(phi, f0, h), ctx, scale, floor=noise))
        evaluations += 4
        steps += [h, h / 2]
        estimates += [attempts[-1].stencil.d_big, attempts[-1].stencil.d_small]
        if np.stack([a.converged & ~a.kinked for a in attempts]).any(axis=0).all():
            break
    attempts, confirmed, fallback = _hp_confirm(attempts, ctx, scale)
    return assemble(attempts, confirmed, fallback, "hp", evaluations, steps, estimates)


class SubgradientPosition(NamedTuple):
    """Where a value under test lies relative to one-sided derivatives (elementwise arrays).

    `inside`: within [min(left, right) - tol, max(left, right) + tol]. `side`: "left"/"right" (within tol
    of that one-sided derivative; "both" if of each), "between", or "outside". `distance`: how far outside
    the widened interval (0 inside).
    """

    inside: np.ndarray
    side: np.ndarray
    distance: np.ndarray


def subgradient_position(left: Any, right: Any, value: Any, tol: Any) -> SubgradientPosition:
    """Whether `value` (a directional derivative under test) is a valid one-sided choice.

    Elementwise over arrays; for a projection v^T J u pass the projected scalars v.left, v.right (the
    one-sided derivatives of v^T phi, since projection is linear). Lying between the one-sided directional
    derivatives along u is necessary for a subgradient (or Clarke gradient), not sufficient.
    """
    left, right, value, tol = (np.asarray(a) for a in (left, right, value, tol))
    lo, hi = np.minimum(left, right), np.maximum(left, right)
    distance = np.maximum(np.maximum(lo - tol - value, value - hi - tol), 0)
    near_left, near_right = np.abs(value - left) <= tol, np.abs(value - right) <= tol
    inside = np.asarray(distance == 0, dtype=bool)
    side = np.select([near_left & near_right, near_left, near_right, inside], ["both", "left", "right", "between"],
                     "outside")
    return SubgradientPosition(inside, side, distance)

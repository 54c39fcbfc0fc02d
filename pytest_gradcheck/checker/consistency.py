"""Float64-buffer detection: does a function with high-precision output pass through float64 on the way?

A derivative at tiny steps (`differences.hp_derivative`) is compared with a Richardson table at steps float64
resolves: a float64 copy of x is invisible to the first and shifts the second. Conventions (``phi``,
``scale``, `Derivative`) as in `differences`.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

from pytest_gradcheck.checker.differences import NOISE_ULPS, Derivative, Phi, check_scale, richardson

__all__ = ["Consistency", "hp_consistency", "richardson_derivative"]

MODERATE_STEPS = (1e-3, 1e-5, 1e-7)  # hp_consistency: steps float64 resolves (1e-16 << 1e-7), largest first
MODERATE_LEVELS = 4  # hp_consistency: D(H) .. D(H/8); truncation O(H^8) ~ 1e-24 at H = 1e-3
MODERATE_REL = 1e-6  # the moderate table must resolve the derivative to a millionth to compare at all
CONSISTENCY_SAFETY = 10.0  # discrepancy beyond 10x the two error estimates together: inconsistent


class Consistency(NamedTuple):
    """Tiny-step against float64-visible-step derivatives: does a float64 buffer hide inside f?

    `status`: "consistent" (ok), "inconsistent" (the derivatives differ beyond CONSISTENCY_SAFETY times
    their error estimates: the output is high precision but something on the way is float64), or
    "inconclusive" (`conclusive` False: the moderate-step table did not converge at any MODERATE_STEPS).
    """

    ok: bool
    conclusive: bool
    status: str
    moderate: Derivative
    discrepancy: np.ndarray
    reason: str


def richardson_derivative(phi: Phi, ctx: Any, *, step: Any, scale: Any, levels: int = MODERATE_LEVELS) -> Derivative:
    """J u from a Richardson table of central differences at step, step/2, ... (2 * levels evaluations).

    Components whose error estimate exceeds MODERATE_REL of the derivative's natural size are
    "not_converged". No kink detection, no one-sided derivatives.
    """
    hs = [ctx.mpf(step) / 2**k for k in range(levels)]
    values = [(np.asarray(phi(h)), np.asarray(phi(-h))) for h in hs]
    estimates = [(fp - fm) / (2 * h) for (fp, fm), h in zip(values, hs, strict=True)]
    value, change, weights = richardson(estimates)
    magnitude = np.max(np.abs(np.stack([f for pair in values for f in pair])), axis=0)
    bound = magnitude * (NOISE_ULPS * ctx.eps)  # array first: mpf * ndarray formats the array
    error = change + bound * sum(abs(w) / h for w, h in zip(weights, hs, strict=True))
    ok = error <= MODERATE_REL * (np.abs(value) + magnitude / ctx.mpf(scale))
    status = np.where(ok, "ok", "not_converged")
    return Derivative(value, error, "ok" if ok.all() else "not_converged", tuple(hs), tuple(estimates), None,
                      None, 2 * levels, "hp", bound, None, np.full(value.shape, hs[-1]), status)


def hp_consistency(phi: Phi, ctx: Any, *, scale: Any, reference: Derivative) -> Consistency:
    """Compare `reference` (hp_derivative at tiny steps) with Richardson tables at float64-visible steps.

    A genuine high-precision function agrees to ~1e-20; one whose output is high precision but passes
    through a float64 copy of x differs at O(1) relative. Only components "ok" in both are compared. Tables
    start at 1e-3 scale and go down (MODERATE_STEPS) while they do not converge or disagree with the tiny
    steps: a disagreement counts only when a second table at another step confirms the same derivative
    (a function oscillating faster than the moderate steps resolve can make one table converge by chance).
    8 evaluations for a consistent function, up to 24.
    """
    check_scale(scale)
    usable = reference.component_status == "ok"
    suspect: tuple[Derivative, np.ndarray, float] | None = None
    moderate, discrepancy = None, np.zeros(np.shape(reference.value))
    for rel in MODERATE_STEPS:
        moderate = richardson_derivative(phi, ctx, step=ctx.mpf(rel) * ctx.mpf(scale), scale=scale)
        compared = usable & (moderate.component_status == "ok")
        discrepancy = np.abs(reference.value - moderate.value)
        tolerance = CONSISTENCY_SAFETY * (reference.error + moderate.error)
        bad = compared & (discrepancy > tolerance)
        if suspect is not None:
            first, first_bad, first_rel = suspect
            agree = np.abs(first.value - moderate.value) <= CONSISTENCY_SAFETY * (first.error + moderate.error)
            confirmed = np.flatnonzero(first_bad & bad & agree)
            if confirmed.size:
                i = int(confirmed[0])
                reason = (f"component {i}: derivative at tiny steps {_g(reference.value[i])}, at steps from "
                          f"{first_rel:g} and {rel:g} scale {_g(first.value[i])} and {_g(moderate.value[i])}; "
                          f"difference {_g(discrepancy[i])} > tolerance {_g(tolerance[i])} "
                          f"({CONSISTENCY_SAFETY:g}x the error estimates)")
                return Consistency(False, True, "inconsistent", moderate, discrepancy, reason)
        elif bad.any():
            suspect = (moderate, bad, rel)
            continue
        if not bad.any() and usable.any() and not (usable & ~compared).any():
            reason = (f"tiny-step and moderate-step ({rel:g} scale) derivatives agree: largest difference "
                      f"{_g(np.max(np.where(usable, discrepancy, 0)))}")
            return Consistency(True, True, "consistent", moderate, discrepancy, reason)
    if not usable.any():
        reason = "no component to compare: the tiny-step derivative is not ok anywhere"
    elif suspect is not None:
        reason = ("a moderate-step derivative disagreed with the tiny steps, but no table at another step "
                  "confirmed it (f varies faster than those steps resolve)")
    else:
        reason = f"the moderate-step Richardson table did not converge at steps {MODERATE_STEPS} x scale"
    return Consistency(False, False, "inconclusive", moderate, discrepancy, reason)


def _g(x: Any) -> str:
    return f"{float(x):.6g}"

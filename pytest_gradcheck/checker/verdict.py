"""Tolerances and the two diagnoses: is the gradient *formula* right, and is its *float64 evaluation* accurate?

A compared quantity q (a gradient element, or a projection <g, u>) with reference r and reference error
estimate e passes when |q - r| <= atol + rtol * max(|r|, relative_floor * scale) + safety * e, where scale is
the largest |r| of the same argument (or the magnitude of the terms of a projection), so that an element far
smaller than its neighbours is judged against the rounding its neighbours cause, not against itself.
A gradient that only runs in float64 has its round-off measured (`gradient_noise`): a small rtol plus a multiple
of the measured noise of each compared quantity replaces the fixed FLOAT_RTOL.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from pytest_gradcheck.checker import nonfinite
from pytest_gradcheck.checker.result import Kink, Mismatch
from pytest_gradcheck.hp.precision import to_float64

# A formula evaluated at high precision agrees with the reference to ~1e-20; a float64 constant used
# inconsistently between f and its gradient (ln 2 rounded in one, 1/ln 2 in the other) leaves about one
# float64 ulp (1.1e-16). Four ulps covers that, and still catches formula errors that no float64
# comparison could see (they are smaller than the float64 gradient's own rounding).
HP_FORMULA_RTOL = 4.4e-16
# A correct float64 gradient of a well-conditioned function is accurate to ~1e-14 of its scale; 1e-10 leaves
# four digits of margin for moderate ill-conditioning. float32 (eps 6e-8) gets the same ~3 digits of margin.
FLOAT_RTOL = {np.dtype(np.float64): 1e-10, np.dtype(np.float32): 1e-4}
# Elements smaller than 1e-3 of their argument's largest gradient element are judged at that level: their
# float64 rounding comes from terms the size of the larger elements.
RELATIVE_FLOOR = 1e-3
# The reference error estimate is already conservative; twice it covers the rare underestimate.
SAFETY = 2.0


@dataclass(frozen=True)
class Tolerances:
    """The tolerances a verdict used; every failure message and report states them."""

    rtol_formula: float
    rtol_float64: float
    atol: float
    relative_floor: float = RELATIVE_FLOOR
    safety: float = SAFETY
    # A gradient that only runs in float64: its measured round-off (largest element noise relative to its
    # argument's scale) and the multiple of it that each comparison allows (0: not measured).
    gradient_noise: float = 0.0
    noise_safety: float = 0.0

    def to_dict(self) -> dict[str, float]:
        out = dict(vars(self))  # flat floats: asdict's deep copy is not needed
        if not self.noise_safety:  # no measured round-off: the keys would only say "not used"
            del out["gradient_noise"], out["noise_safety"]
        return out


def resolve_tolerances(dtype: np.dtype, *, rtol: float | None, atol: float | None, hp_formula: bool) -> Tolerances:
    """Defaults from the dtype (and whether the formula can run at high precision), overridden by the user."""
    for name, value in (("rtol", rtol), ("atol", atol)):
        if value is not None and (not isinstance(value, int | float) or not np.isfinite(value) or value < 0):
            raise ValueError(f"{name}: expected a finite number >= 0, got {value!r}")
    float_rtol = FLOAT_RTOL[np.dtype(dtype)]
    formula_rtol = HP_FORMULA_RTOL if hp_formula else float_rtol
    return Tolerances(
        rtol_formula=float(rtol) if rtol is not None else formula_rtol,
        rtol_float64=float(rtol) if rtol is not None else float_rtol,
        atol=float(atol) if atol is not None else 0.0,
    )


def with_measured_noise(tol: Tolerances, *, user_rtol: float | None, floor_rtol: float, largest: float,
                        safety: float) -> Tolerances:
    """The formula tolerance of a float64-only gradient once its round-off is measured: `floor_rtol` plus
    `safety` times the measured noise of each compared quantity (added by `compare`). A user's rtol wins."""
    if user_rtol is not None:
        return tol
    return replace(tol, rtol_formula=floor_rtol, gradient_noise=largest, noise_safety=safety)


def scale_of(values: Any) -> float:
    """The largest finite magnitude among `values` (float or high precision), the `scale` of an argument; 0 if
    empty. A nan or inf element is judged on its own (a failure), never a scale for the others."""
    return nonfinite.finite_max(np.abs(to_float64(np.asarray(values)))) if np.size(values) else 0.0


def allowed(reference: Any, ref_error: Any, scale: float, rtol: float, tol: Tolerances) -> np.ndarray:
    """The tolerance of each compared quantity, as float64."""
    return tol.atol + rtol * error_scale(reference, scale, tol) + tol.safety * nonfinite.floats(ref_error)


# A reference whose error estimate exceeds this share of its own size does not know the derivative to one
# digit (noise that began after the nondeterminism probes, cancellation): no verdict, never a pass.
UNRESOLVED_SHARE = 0.1


def error_scale(reference: Any, scale: float, tol: Tolerances) -> np.ndarray:
    """What an error is relative to: max(|reference|, relative_floor * scale)."""
    return np.maximum(np.abs(nonfinite.floats(reference)), tol.relative_floor * scale)


def unresolved(reference: Any, ref_error: Any, scale: float, tol: Tolerances, resolution: float) -> np.ndarray:
    """Where the reference is too uncertain to judge: error > UNRESOLVED_SHARE * max(|r|, floor * scale), and
    above `resolution` * max(1, |r|) (the square root of the working precision's epsilon: an error at the
    round-off level of a derivative that is itself about 0 says the derivative is below what can be seen,
    which the verdict's tolerance already allows for)."""
    size = error_scale(reference, scale, tol)
    error = np.broadcast_to(nonfinite.floats(ref_error), size.shape)
    return (size > 0) & ~(error <= UNRESOLVED_SHARE * size) & ~(error <= resolution * np.maximum(1.0, size))


def compare(
    kind: str,
    reference: Any,
    ref_error: Any,
    value: Any,
    *,
    rtol: float,
    tol: Tolerances,
    scale: float,
    argument: int | None,
    name: str,
    labels: list[str] | None = None,
    worst: dict[str, float] | None = None,
    reference64: np.ndarray | None = None,
    noise: Any = 0.0,
) -> list[Mismatch]:
    """Mismatch records for every element of `value` outside its tolerance against `reference`.

    `reference64`: the reference rounded to float64, when the caller has it (it is converted otherwise).
    `noise`: an absolute allowance per element (or one for all) added to the tolerance: the measured round-off
    of a gradient that only runs in float64 (gradient_noise).

    `worst`, when given, keeps per kind the largest relative error seen, failing or not: |value - reference|
    over max(|reference|, relative_floor * scale), the figure per-op tables report.
    """
    reference, value = np.asarray(reference), np.asarray(value)
    ref_error = nonfinite.floats(ref_error)
    with np.errstate(invalid="ignore", over="ignore", divide="ignore"):  # nan and inf in a gradient are verdicts
        diff = np.abs(np.asarray(value - reference, dtype=float))  # difference taken at the arrays' precision
        size = error_scale(reference if reference64 is None else reference64, scale, tol)  # as in allowed(), once
        limit = tol.atol + rtol * size + tol.safety * ref_error + np.asarray(noise, dtype=float)
        if worst is not None and diff.size:
            relative = np.where(size > 0, diff / size, np.where(diff > 0, np.inf, 0.0))
            largest = float(np.max(relative))
            worst[kind] = max(worst.get(kind, 0.0), math.inf if math.isnan(largest) else largest)
        outside = ~(diff <= limit)
    if not outside.any():  # the common case: nothing to record
        return []
    limit, ref_error = np.broadcast_to(limit, diff.shape), np.broadcast_to(ref_error, diff.shape)
    out = []
    for found in np.argwhere(outside):  # argwhere, unlike nonzero, also serves 0-d arrays
        index = tuple(int(k) for k in found)
        r, error = float(reference[index]), float(diff[index])
        error = error if math.isfinite(error) else math.inf  # a nan or inf compared: no finite error, ranked first
        where = labels[index[0]] if labels is not None else f"element {index}"
        out.append(Mismatch(kind, argument, name, where, index if labels is None else None, r,
                            float(ref_error[index]), float(value[index]), error,
                            error / abs(r) if r and math.isfinite(r) else math.inf, float(limit[index])))
    return out


def rank(mismatches: list[Mismatch]) -> list[Mismatch]:
    """Worst first: the largest ratio of error to tolerance."""
    return sorted(mismatches, key=lambda m: -m.ratio)


def decide(formula: list[Mismatch], accuracy: list[Mismatch], kinks: list[Kink], converged: bool,
           stopped: bool = False, checker_error: bool = False) -> str:
    """The status: an error of the checker itself outranks everything (nothing it computed can be trusted); a
    wrong formula outranks a check stopped by its budget, which outranks a kink, which outranks lost float64
    accuracy."""
    if checker_error:
        return "error"
    if formula:
        return "formula_error"
    if stopped:
        return "budget_exceeded"
    if kinks:
        return "nondifferentiable"
    if not converged:
        return "inconclusive"
    if accuracy:
        return "float64_accuracy"
    return "pass"

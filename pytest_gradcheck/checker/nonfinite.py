"""Non-finite values (nan, inf) in the gradient under test or the reference: where they are and who made them.

A nan or inf is a verdict about one element, never a scale: it is named (argument, element, value, source) and
kept out of the magnitudes that set the other elements' tolerances.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
from mpmath.libmp import finf, fnan, fninf

from pytest_gradcheck.hp import quad

# mpmath's raw values of nan, +inf and -inf (any context: the raw tuple does not depend on the precision).
_SPECIAL = (fnan, finf, fninf)


def finite(value: Any) -> bool:
    """Whether one number (float, int or an mpf of any context) is finite."""
    raw = getattr(value, "_mpf_", None)
    if isinstance(raw, tuple):
        return raw not in _SPECIAL
    return math.isfinite(value)


def mask(values: Any) -> np.ndarray:
    """Where `values` (float or an object array of mpf/float/int) is nan or inf."""
    values = np.asarray(values)
    if values.dtype.kind in "fiu" or quad.is_quad(values):  # quad: numpy-quaddtype's own isfinite
        return ~np.isfinite(values)
    flat = [not finite(v) for v in values.ravel().tolist()]
    return np.array(flat, dtype=bool).reshape(values.shape)


def floats(values: Any) -> np.ndarray:
    """`values` (float, or mpf objects that may be nan: f nan at a step) as float64, without numpy 2.0's warning
    on casting an mpf nan: the nan is a finding that callers name, not a fault."""
    with np.errstate(invalid="ignore"):
        return np.asarray(values, dtype=float)


def finite_max(magnitudes: np.ndarray) -> float:
    """The largest finite magnitude (0 when there is none): non-finite elements do not set a scale."""
    finite = magnitudes[np.isfinite(magnitudes)]
    return float(np.max(finite)) if finite.size else 0.0


def first(bad: np.ndarray) -> tuple[int, ...]:
    return tuple(int(k) for k in np.argwhere(bad)[0])


def _show(value: Any) -> str:
    return repr(float(value))  # nan, inf, -inf (mpmath's own repr would read mpf('nan'))


def gradient_notes(grads: Sequence[Any], names: Sequence[str], source: str, evaluation: str) -> list[str]:
    """One note per argument whose gradient under test holds nan/inf: the source, the argument, the first such
    element with its value and how many there are, and which evaluation (float64, high precision) made it."""
    notes = []
    for a, g in enumerate(grads):
        bad = mask(g)
        if bad.any():
            where = first(bad)
            notes.append(f"{source} returned {_show(np.asarray(g)[where])} for argument {a} ({names[a]!r}) at "
                         f"element {where} in its {evaluation} evaluation ({int(np.count_nonzero(bad))} of "
                         f"{bad.size} elements non-finite); a non-finite gradient element is wrong wherever the "
                         "reference derivative is finite")
    return notes


def step_reason(d: Any) -> str:
    """Why a reference derivative did not converge when f was non-finite at a step: the first step whose difference
    quotient is nan or inf names where f stopped being finite; '' when every quotient is finite."""
    for h, estimate in zip(d.steps, d.estimates, strict=True):
        values = np.asarray(estimate).ravel().tolist()
        bad = [v for v in values if not finite(v)]
        if bad:
            return (f"; f returned a non-finite value at x +- h for h = {float(h):.2g} (the difference quotient "
                    f"there is {_show(bad[0])}), so the reference derivative here is unknown, not judged")
    return ""

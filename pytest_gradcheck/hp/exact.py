"""The one float-to-mpf conversion: a real number, or an array of them, as exact numbers of a private context.

`to_mpf` converts one number; `exact_objects` is the same conversion over an array (its float64 path is
`to_mpf`'s first line, inlined for speed: ``ctx.make_mpf(from_float(x))`` is ``ctx.mpf(x)`` without mpf()'s
type dispatch). Every other conversion in the package calls one of the two: `precision.to_hp` (which also
refuses non-finite values and returns an `HPArray`), ``ctx.convert`` (the operand hook of mpf operators),
the high-precision array's operands and results, and the twins' operand conversions.

Floats, ints and mpf numbers are exact here: a float64 has 53 bits and the private contexts at least 57
(`precision.ROUND_TRIP_DIGITS`), and another context's mpf keeps all its bits (``make_mpf`` does not round).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from mpmath.libmp import from_float

__all__ = ["exact_objects", "to_mpf"]


def to_mpf(ctx: Any, value: Any) -> Any:
    """`value` as a number of `ctx`, exactly: a float (inf and nan too), an int or bool (numpy's too), or an
    mpf of any context; a TypeError naming the value otherwise."""
    if type(value) is float:
        return ctx.make_mpf(from_float(value))
    if type(value) is ctx.mpf:
        return value
    if hasattr(value, "_mpf_"):
        return ctx.make_mpf(value._mpf_)  # another context's number: its bits kept, no rounding
    if isinstance(value, bool | int | np.integer | np.bool_):
        return ctx.mpf(int(value))
    if isinstance(value, np.floating):
        return ctx.make_mpf(from_float(float(value)))  # float16/32/64 widen to float exactly
    raise TypeError(f"expected a real number (mpf, float or int), got {type(value).__name__} {value!r}")


def exact_objects(values: Any, ctx: Any) -> np.ndarray:
    """An object array of `ctx`'s numbers equal to `values` (an array or list of real numbers), same shape:
    `to_mpf` of each element, with float arrays (float16/32/64) on a fast path."""
    array = np.asarray(values)
    if array.dtype.kind == "f":
        make = ctx.make_mpf
        flat = array.astype(np.float64, copy=False).ravel().tolist()  # widening to float64 is exact
        converted = [make(from_float(e)) for e in flat]
    else:
        converted = [to_mpf(ctx, e) for e in array.ravel().tolist()]
    return np.fromiter(converted, dtype=object, count=len(converted)).reshape(array.shape)

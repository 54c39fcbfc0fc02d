"""Hypothesis strategies for gradient tests: well-scaled float arrays, optionally kept away from kinks.

Every element is a finite float of the requested dtype in [-scale, scale], never subnormal (central
differences at a subnormal point resolve nothing, and flush-to-zero builds read it as 0) and never -0.0
(a zero's sign changes no derivative, but np.sign, np.copysign, np.arctan2 and 1/x see it: a failure there
would be a surprise about the sign bit, not about the gradient). Elements shrink towards 0, then simple
values like 1; drawn shapes shrink towards (1,).

Excluded zones (|x| < min_magnitude, |x - kink| < margin) are enforced by *mapping*, never by filtering: an
element drawn inside a zone moves to the nearer edge of that zone (ties and the kink itself go up), so
generation never retries and shrinking stays smooth. Edges therefore come up often, which is wanted: a point
exactly `margin` from a kink is the hardest one the test promises to handle. Zones are computed once, in
exact arithmetic, with edges rounded outwards to the dtype: the guarantee holds for every element, exactly.

This is the only module of the package that imports hypothesis.
"""

from __future__ import annotations

import math
import numbers
import operator
from collections.abc import Iterable
from fractions import Fraction
from functools import partial
from typing import Any

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

__all__ = ["points_away_from", "same_shape_arrays", "shapes", "well_scaled_arrays"]

DTYPES = (np.dtype(np.float32), np.dtype(np.float64))  # the dtypes check_grad accepts
MAX_DIMS = 32  # hypothesis's array_shapes draws at most 32 dimensions

Zone = tuple[float, float, float]  # open interval (low, high) no element may fall in, and its middle


def shapes(max_dims: int = 2, max_side: int = 5) -> st.SearchStrategy[tuple[int, ...]]:
    """Shapes of 1 to `max_dims` dimensions with sides 1 to `max_side`, shrinking towards (1,).

    >>> from hypothesis import given
    >>> @given(shapes(max_dims=3))
    ... def test_reshape(shape): ...
    """
    max_dims = _count("max_dims", max_dims, minimum=1, maximum=MAX_DIMS)
    max_side = _count("max_side", max_side, minimum=1)
    return hnp.array_shapes(min_dims=1, max_dims=max_dims, min_side=1, max_side=max_side)


def well_scaled_arrays(
    shape: int | tuple[int, ...] | None = None,
    *,
    dtype: Any = np.float64,
    scale: float = 1.0,
    max_dims: int = 2,
    max_side: int = 5,
    min_magnitude: float = 0.0,
) -> st.SearchStrategy[np.ndarray]:
    """Arrays of `dtype` with every element in [-scale, scale] and |element| >= min_magnitude.

    `shape` is an int, a tuple, or None to draw one from `shapes(max_dims, max_side)`. For float32,
    `scale` is rounded down and `min_magnitude` up to float32 values. See the module docstring for what
    is excluded (subnormals, -0.0) and how min_magnitude is enforced.

    >>> from hypothesis import given
    >>> from pytest_gradcheck import check_grad
    >>> @given(well_scaled_arrays(scale=2.0, min_magnitude=0.1))
    ... def test_reciprocal(x):
    ...     check_grad(lambda x: np.sum(1 / x), x)
    """
    return _arrays(_shape_strategy(shape, max_dims, max_side), np.dtype(_dtype(dtype)),
                   _elements(dtype, scale, min_magnitude))


def points_away_from(
    kinks: float | Iterable[float],
    margin: float,
    shape: int | tuple[int, ...] | None = None,
    *,
    dtype: Any = np.float64,
    scale: float = 1.0,
    max_dims: int = 2,
    max_side: int = 5,
    min_magnitude: float = 0.0,
) -> st.SearchStrategy[np.ndarray]:
    """Like `well_scaled_arrays`, and every element is at least `margin` from each kink in `kinks`.

    `kinks` is a float or a sequence of floats (0.0 for relu and abs, [-1.0, 1.0] for clip(x, -1, 1)).
    An element drawn closer than `margin` to a kink moves out to kink - margin or kink + margin (to the
    nearer edge of the merged zone when kinks are closer than 2 * margin, to the edge inside
    [-scale, scale] near the bounds). Raises ValueError, naming `margin`, when no point would remain.

    >>> from hypothesis import given
    >>> from pytest_gradcheck import check_grad
    >>> @given(points_away_from([-1.0, 1.0], margin=0.05, scale=2.0))
    ... def test_clip(x):
    ...     check_grad(lambda x: np.sum(np.clip(x, -1, 1) ** 2), x)
    """
    kinks = _kinks(kinks)
    margin = _real("margin", margin)
    if not margin > 0:
        raise ValueError(f"margin: expected a positive finite number, got {margin!r}")
    return _arrays(_shape_strategy(shape, max_dims, max_side), np.dtype(_dtype(dtype)),
                   _elements(dtype, scale, min_magnitude, kinks, margin))


def same_shape_arrays(
    n: int,
    *,
    shape: int | tuple[int, ...] | None = None,
    dtype: Any = np.float64,
    scale: float = 1.0,
    max_dims: int = 2,
    max_side: int = 5,
    min_magnitude: float = 0.0,
) -> st.SearchStrategy[tuple[np.ndarray, ...]]:
    """A tuple of `n` arrays sharing one shape (given, or drawn once); keywords as in `well_scaled_arrays`.

    >>> from hypothesis import given
    >>> from pytest_gradcheck import check_grad
    >>> @given(same_shape_arrays(2))
    ... def test_product(args):
    ...     check_grad(lambda x, y: np.sum(x * y), args)
    """
    n = _count("n", n, minimum=1)
    elements = _elements(dtype, scale, min_magnitude)
    dtype = np.dtype(_dtype(dtype))
    return _shape_strategy(shape, max_dims, max_side).flatmap(
        lambda drawn: st.tuples(*[_arrays(drawn, dtype, elements)] * n))


# ---------------------------------------------------------------- elements


def _arrays(shape: Any, dtype: np.dtype, elements: st.SearchStrategy[float]) -> st.SearchStrategy[np.ndarray]:
    return hnp.arrays(dtype, shape, elements=elements)


def _elements(dtype: Any, scale: Any, min_magnitude: Any, kinks: tuple[float, ...] = (),
              margin: float = 0.0) -> st.SearchStrategy[float]:
    """Floats of `dtype` in [-scale, scale], mapped out of the min_magnitude zone and the kinks' zones."""
    dtype = _dtype(dtype)
    bound = _bound(dtype, scale)
    zones = _magnitude_zones(dtype, bound, min_magnitude)
    zones += [_zone(Fraction(k) - Fraction(margin), Fraction(k) + Fraction(margin), bound, dtype) for k in kinks]
    merged = _merge(zone for zone in zones if zone is not None)
    if any(low < -bound and high > bound for low, high, _ in merged):
        raise ValueError(f"margin: expected a margin that leaves some {dtype.__name__} in [-scale, scale] = "
                         f"[{-bound!r}, {bound!r}] away from kinks {list(kinks)} (min_magnitude={min_magnitude!r}), "
                         f"got {margin!r}: lower the margin or raise the scale")
    base = st.floats(-bound, bound, allow_nan=False, allow_infinity=False, allow_subnormal=False,
                     width=8 * np.dtype(dtype).itemsize)
    return base.map(partial(_push_out, zones=tuple(merged), bound=bound))


def _push_out(x: float, zones: tuple[Zone, ...], bound: float) -> float:
    """x, or the nearer edge inside [-bound, bound] of the zone that holds it; never -0.0."""
    for low, high, middle in zones:
        if low < x < high:
            up = high <= bound and (x >= middle or low < -bound)
            x = high if up else low
            break
    return x + 0.0  # -0.0 + 0.0 is +0.0; every other float is unchanged


def _magnitude_zones(dtype: type, bound: float, min_magnitude: Any) -> list[Zone | None]:
    """The zone |x| < min_magnitude, or the two subnormal ranges (so that no zone edge is subnormal)."""
    m = _real("min_magnitude", min_magnitude)
    if not 0 <= m <= bound:
        raise ValueError(f"min_magnitude: expected a number in [0, scale] = [0, {bound!r}], got {m!r}")
    tiny = float(np.finfo(dtype).tiny)
    if m == 0:
        return [(-tiny, 0.0, -tiny / 2), (0.0, tiny, tiny / 2)]
    edge = _round(Fraction(max(m, tiny)), dtype, direction=1)  # <= bound: bound is a dtype float >= m, tiny
    return [(-edge, edge, 0.0)]


def _zone(low: Fraction, high: Fraction, bound: float, dtype: type) -> Zone | None:
    """The open zone (low, high) with edges rounded outwards to dtype (±inf beyond ±bound); None if outside."""
    if high <= -bound or low >= bound:
        return None
    low_edge = _round(low, dtype, direction=-1) if low >= -bound else -math.inf
    high_edge = _round(high, dtype, direction=1) if high <= bound else math.inf
    return low_edge, high_edge, float((low + high) / 2)


def _merge(zones: Iterable[Zone]) -> list[Zone]:
    """Overlapping zones as one; a shared edge stays allowed (it is at least the distance from both)."""
    merged: list[list[float]] = []
    for low, high, middle in sorted(zones):
        if merged and low < merged[-1][1]:
            last = merged[-1]
            last[1] = max(last[1], high)
            last[2] = last[0] / 2 + last[1] / 2  # halves first: no overflow; -inf if unbounded (then unused)
        else:
            merged.append([low, high, middle])
    return [(low, high, middle) for low, high, middle in merged]


def _round(exact: Fraction, dtype: type, direction: int) -> float:
    """The dtype float nearest to `exact` on one side: the largest <= it (direction -1) or smallest >= it (+1)."""
    value = dtype(float(exact))  # one of the two dtype floats around `exact` (rounding is monotone)
    if (Fraction(float(value)) - exact) * direction < 0:
        value = np.nextafter(value, dtype(direction * math.inf))
    return float(value)


def _bound(dtype: type, scale: Any) -> float:
    """scale, validated and rounded down to dtype."""
    scale = _real("scale", scale)
    info = np.finfo(dtype)
    if not float(info.tiny) <= scale <= float(info.max):
        raise ValueError(f"scale: expected a finite number in [{info.tiny}, {info.max}] (normal positive "
                         f"{dtype.__name__} values), got {scale!r}")
    return _round(Fraction(scale), dtype, direction=-1)


# ---------------------------------------------------------------- argument validation


def _dtype(dtype: Any) -> type:
    try:
        resolved = np.dtype(dtype)
    except TypeError:
        raise TypeError(f"dtype: expected np.float32 or np.float64, got {dtype!r}") from None
    if resolved not in DTYPES:
        raise ValueError(f"dtype: expected np.float32 or np.float64, got {resolved}")
    return resolved.type


def _real(name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name}: expected a real number, got {type(value).__name__} {value!r}")
    if not math.isfinite(value):
        raise ValueError(f"{name}: expected a finite number, got {value!r}")
    return float(value)


def _count(name: str, value: Any, *, minimum: int, maximum: int | None = None) -> int:
    try:
        count = operator.index(value)
        if isinstance(value, bool):
            raise TypeError
    except TypeError:
        raise TypeError(f"{name}: expected an int, got {type(value).__name__} {value!r}") from None
    if count < minimum or (maximum is not None and count > maximum):
        limits = f">= {minimum}" if maximum is None else f"in [{minimum}, {maximum}]"
        raise ValueError(f"{name}: expected an int {limits}, got {count}")
    return count


def _shape_strategy(shape: Any, max_dims: int, max_side: int) -> st.SearchStrategy[tuple[int, ...]]:
    """A fixed shape as st.just, or drawn shapes when shape is None."""
    if shape is None:
        return shapes(max_dims, max_side)
    if isinstance(shape, tuple | list):
        return st.just(tuple(_count(f"shape[{i}]", side, minimum=0) for i, side in enumerate(shape)))
    if isinstance(shape, numbers.Integral) and not isinstance(shape, bool):
        return st.just((_count("shape", shape, minimum=0),))
    raise TypeError(f"shape: expected None, an int or a tuple of ints, got {type(shape).__name__} {shape!r}")


def _kinks(kinks: Any) -> tuple[float, ...]:
    if isinstance(kinks, numbers.Real) and not isinstance(kinks, bool):
        kinks = (kinks,)
    if isinstance(kinks, str | bytes) or not isinstance(kinks, Iterable):
        raise TypeError(f"kinks: expected a float or a sequence of floats, got {type(kinks).__name__} {kinks!r}")
    return tuple(_real(f"kinks[{i}]", k) for i, k in enumerate(kinks))

"""High-precision twins of numpy functions that object arrays get wrong: np.clip (float bounds),
np.gradient (returns float64), np.angle and np.real_if_close (an object array looks real to numpy)."""

from __future__ import annotations

from typing import Any

import numpy as np

from pytest_gradcheck.hp import registry as hp_registry
from pytest_gradcheck.hp.array import objects, operand
from pytest_gradcheck.hp.registry import Twin, function_twin

__all__ = ["TWINS", "angle", "clip", "gradient", "real_if_close"]

_NO = np._NoValue  # numpy's "argument not given"


def _given(*values: Any) -> Any:
    for value in values:
        if value is not _NO and value is not None:
            return value
    return None


def clip(a: Any, a_min: Any = _NO, a_max: Any = _NO, out: Any = None, *, min: Any = _NO, max: Any = _NO,
         **kwargs: Any) -> Any:
    """np.clip: minimum(maximum(a, lo), hi) elementwise, the bounds as exact numbers of a's context."""
    if kwargs:
        raise TypeError(f"clip at high precision: unsupported keyword(s) {sorted(kwargs)}")
    lo, hi = _given(a_min, min), _given(a_max, max)
    if lo is None and hi is None:
        raise ValueError("One of max or min must be given")
    ctx = hp_registry.context_of(a, lo, hi)
    x = operand(a, ctx)
    result = x
    if lo is not None:
        result = np.where(result < operand(lo, ctx), operand(lo, ctx), result)
    if hi is not None:
        result = np.where(result > operand(hi, ctx), operand(hi, ctx), result)
    result = np.asarray(np.broadcast_to(result, np.broadcast_shapes(np.shape(a), np.shape(result))), dtype=object)
    if out is not None:
        out[...] = result
        return out
    return result.copy()


def _edges(f: np.ndarray, dx: Any, uniform: bool, edge_order: int) -> tuple[Any, Any]:
    """One-sided differences at both ends of the last axis (numpy's formulas)."""
    if edge_order == 1:
        first = (f[..., 1] - f[..., 0]) / (dx if uniform else dx[0])
        last = (f[..., -1] - f[..., -2]) / (dx if uniform else dx[-1])
        return first, last
    if uniform:
        return ((-f[..., 0] * 3 + f[..., 1] * 4 - f[..., 2]) / (dx * 2),
                (f[..., -3] - f[..., -2] * 4 + f[..., -1] * 3) / (dx * 2))
    d1, d2 = dx[0], dx[1]
    first = (f[..., 0] * (-(2 * d1 + d2) / (d1 * (d1 + d2))) + f[..., 1] * ((d1 + d2) / (d1 * d2))
             + f[..., 2] * (-d1 / (d2 * (d1 + d2))))
    d1, d2 = dx[-2], dx[-1]
    last = (f[..., -3] * (d2 / (d1 * (d1 + d2))) + f[..., -2] * (-(d2 + d1) / (d1 * d2))
            + f[..., -1] * ((2 * d2 + d1) / (d2 * (d1 + d2))))
    return first, last


def _gradient_last_axis(f: np.ndarray, spacing: Any, ctx: Any, edge_order: int) -> np.ndarray:
    n = f.shape[-1]
    if n < edge_order + 1:
        raise ValueError("Shape of array too small to calculate a numerical gradient, at least (edge_order + 1) "
                         "elements are required.")
    coordinates = np.ndim(spacing) == 1
    if coordinates:
        x = operand(np.asarray(spacing), ctx)
        if x.size != n:
            raise ValueError("when 1d, distances must match the length of the corresponding dimension")
        dx = x[1:] - x[:-1]
        uniform = False
    else:
        dx, uniform = operand(spacing, ctx)[()], True
    out = np.empty(f.shape, dtype=object)
    if uniform:
        out[..., 1:-1] = (f[..., 2:] - f[..., :-2]) / (dx * 2)
    else:
        d1, d2 = dx[:-1], dx[1:]
        out[..., 1:-1] = (f[..., :-2] * (-d2 / (d1 * (d1 + d2))) + f[..., 1:-1] * ((d2 - d1) / (d1 * d2))
                          + f[..., 2:] * (d1 / (d2 * (d1 + d2))))
    out[..., 0], out[..., -1] = _edges(f, dx, uniform, edge_order)
    return out


def gradient(f: Any, *varargs: Any, axis: Any = None, edge_order: int = 1) -> Any:
    """np.gradient at high precision: second-order central differences inside, one-sided at the ends."""
    ctx = hp_registry.context_of(f, *varargs)
    values = operand(f, ctx)
    axes = tuple(range(values.ndim)) if axis is None else (axis,) if np.ndim(axis) == 0 else tuple(axis)
    axes = tuple(int(a) % values.ndim for a in axes)
    if edge_order not in (1, 2):
        raise ValueError("'edge_order' greater than 2 not supported")
    if len(varargs) == 0:
        spacings: list[Any] = [1.0] * len(axes)
    elif len(varargs) == 1 and np.ndim(varargs[0]) == 0:
        spacings = [varargs[0]] * len(axes)
    elif len(varargs) == len(axes):
        spacings = list(varargs)
    else:
        raise TypeError("invalid number of arguments")
    results = []
    for a, spacing in zip(axes, spacings, strict=True):
        moved = np.moveaxis(values, a, -1)
        results.append(np.moveaxis(_gradient_last_axis(moved, spacing, ctx, edge_order), -1, a))
    return results[0] if len(results) == 1 else tuple(results)


def angle(z: Any, deg: bool = False) -> Any:
    """np.angle: the argument of each element (0 or pi for reals), in radians or degrees."""
    ctx = hp_registry.context_of(z)
    values = operand(z, ctx)
    flat = [ctx.atan2(ctx.mpf(e.imag), ctx.mpf(e.real)) for e in values.ravel().tolist()]
    out = objects(flat, values.shape)
    return out * (180 / ctx.pi) if deg else out


def real_if_close(a: Any, tol: float = 100) -> Any:
    """np.real_if_close: real parts when every imaginary part is within tol float64 epsilons of zero."""
    ctx = hp_registry.context_of(a)
    values = operand(a, ctx)
    flat = values.ravel().tolist()
    limit = tol * np.finfo(np.float64).eps if tol > 1 else tol
    if all(abs(ctx.mpc(e).imag) <= limit for e in flat):
        return objects([ctx.mpf(e.real) for e in flat], values.shape)
    return values


TWINS: dict[str, Twin] = {
    "numpy.angle": function_twin(angle),
    "numpy.real_if_close": function_twin(real_if_close),
    "numpy.clip": function_twin(clip),
    "numpy.gradient": function_twin(gradient),
}

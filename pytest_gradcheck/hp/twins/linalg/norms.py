"""High-precision twins of numpy.linalg's norms and condition number.

norm (every ``ord``, ``axis`` and ``keepdims``), vector_norm, matrix_norm and cond, with numpy's semantics
and error messages. numpy's own norm runs on object arrays for some orders but not for 2, -2, 'nuc' or a
general p (it needs the SVD or float-only dtype checks), so all of it is routed here.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
from numpy.lib.array_utils import normalize_axis_index

from pytest_gradcheck.hp.twins.linalg.decompositions import singular_values
from pytest_gradcheck.hp.twins.linalg.matrices import (
    LinAlgError,
    assert_stacked_2d,
    finish,
    guarded,
    map_matrices,
    prepare,
)
from pytest_gradcheck.hp.twins.linalg.solvers import inverse

__all__ = ["cond", "matrix_norm", "norm", "vector_norm"]

_INF = math.inf


def _vector(ctx: Any, xs: list[Any], ord: Any) -> Any:
    """The `ord` norm of a list of mpf."""
    if isinstance(ord, str):
        raise ValueError(f"Invalid norm order '{ord}' for vectors")
    if ord is None or ord == 2:
        return ctx.sqrt(ctx.fdot((x, x) for x in xs))
    magnitudes = [abs(x) for x in xs]
    if ord == _INF:
        return max(magnitudes, default=ctx.zero)
    if ord == -_INF:
        if not magnitudes:
            raise ValueError("zero-size array to reduction operation minimum which has no identity")
        return min(magnitudes)
    if ord == 0:
        return ctx.mpf(sum(1 for x in xs if x != 0))
    if ord == 1:
        return ctx.fsum(magnitudes)
    p = ctx.convert(ord)
    if p < 0 and any(x == 0 for x in magnitudes):
        return ctx.zero  # a zero entry makes the sum of |x|^p infinite: numpy gives inf^(1/p) = 0
    return ctx.power(ctx.fsum(ctx.power(x, p) for x in magnitudes), 1 / p)


def _matrix(ctx: Any, m: np.ndarray, ord: Any) -> Any:
    """The `ord` norm of one 2-D object array of mpf."""
    if ord == 2 or ord == -2 or ord == "nuc":
        s = singular_values(ctx, m).tolist()
        if ord == "nuc":
            return ctx.fsum(s)
        if ord == 2:
            return max(s, default=ctx.zero)
        if not s:
            raise ValueError("zero-size array to reduction operation minimum which has no identity")
        return min(s)
    rows, columns = m.tolist(), m.T.tolist()
    if ord in (1, -1):
        sums = [ctx.fsum(abs(x) for x in column) for column in columns]
        return max(sums, default=ctx.zero) if ord == 1 else min(sums)
    if ord in (_INF, -_INF):
        sums = [ctx.fsum(abs(x) for x in row) for row in rows]
        return max(sums, default=ctx.zero) if ord == _INF else min(sums)
    if ord is None or ord in ("fro", "f"):
        return ctx.sqrt(ctx.fdot((x, x) for row in rows for x in row))
    raise ValueError("Invalid norm order for matrices.")


def _reduce(fn: Callable[[np.ndarray], Any], x: np.ndarray, axes: tuple[int, ...], keepdims: bool, core: int) -> Any:
    """`fn` of the `axes` part of x (flattened to 1-D when core == 1, kept 2-D when core == 2), for each index
    of the other axes."""
    rest = [i for i in range(x.ndim) if i not in axes]
    moved = np.transpose(x, rest + list(axes))
    outer = tuple(x.shape[i] for i in rest)
    inner = (math.prod(x.shape[i] for i in axes),) if core == 1 else tuple(x.shape[i] for i in axes)
    blocks = moved.reshape(outer + inner)
    if outer:
        out = np.empty(outer, dtype=object)
        for index in np.ndindex(outer):
            out[index] = fn(blocks[index])
    else:
        out = fn(blocks)
    if keepdims:
        shape = [1 if i in axes else n for i, n in enumerate(x.shape)]
        out = (out if outer else _as_array(out)).reshape(shape)
    return out


def _moduli(x: Any) -> Any:
    """x, or |x| elementwise when it holds complex numbers (mpc, complex): what a norm of moduli needs."""
    arr = np.asarray(x)
    if arr.dtype.kind == "c" or (arr.dtype == object and any(hasattr(e, "_mpc_") for e in arr.ravel().tolist())):
        return np.abs(x)
    return x


def _as_array(value: Any) -> np.ndarray:
    out = np.empty((), dtype=object)
    out[()] = value
    return out


def norm(x: Any, ord: Any = None, axis: Any = None, keepdims: bool = False) -> Any:
    """numpy.linalg.norm at high precision: every ord (None, 'fro', 'nuc', inf, -inf, 0, 1, -1, 2, -2, any
    other p for vectors), axis (int or pair) and keepdims. Complex values: every norm but the spectral matrix
    norms (2, -2, 'nuc') depends on the moduli only, and takes them."""
    matrix = (axis is None and ord is not None and np.ndim(x) == 2) or (isinstance(axis, tuple) and len(axis) == 2)
    x = _moduli(x) if not (matrix and ord in (2, -2, "nuc")) else x
    ctx, (x,) = prepare("numpy.linalg.norm", ("x", x))
    with guarded(ctx):
        out = _norm(ctx, x, ord, axis, keepdims)
    return finish(out)


def _norm(ctx: Any, x: np.ndarray, ord: Any, axis: Any, keepdims: bool) -> Any:
    nd = x.ndim
    if axis is None:
        if ord is None or (ord in ("f", "fro") and nd == 2) or (ord == 2 and nd == 1):
            flat = x.ravel().tolist()
            value = ctx.sqrt(ctx.fdot((e, e) for e in flat))
            return _as_array(value).reshape([1] * nd) if keepdims else value
        axis = tuple(range(nd))
    elif not isinstance(axis, tuple):
        try:
            axis = (int(axis),)
        except Exception as exc:  # numpy.linalg.norm's own handler, mirrored: whatever int(axis) raises
            raise TypeError("'axis' must be None, an integer or a tuple of integers") from exc
    if len(axis) == 1:
        axes = (normalize_axis_index(axis[0], nd),)
        return _reduce(lambda v: _vector(ctx, v.tolist(), ord), x, axes, keepdims, 1)
    if len(axis) == 2:
        row, col = normalize_axis_index(axis[0], nd), normalize_axis_index(axis[1], nd)
        if row == col:
            raise ValueError("Duplicate axes given.")
        if ord not in (2, -2, 1, -1, _INF, -_INF, None, "fro", "f", "nuc"):
            raise ValueError("Invalid norm order for matrices.")
        return _reduce(lambda m: _matrix(ctx, m, ord), x, (row, col), keepdims, 2)
    raise ValueError("Improper number of dimensions to norm.")


def vector_norm(x: Any, /, *, axis: Any = None, keepdims: bool = False, ord: Any = 2) -> Any:
    """numpy.linalg.vector_norm at high precision (axis None: all elements; a tuple: those axes jointly); of
    complex values, their moduli's."""
    ctx, (x,) = prepare("numpy.linalg.vector_norm", ("x", _moduli(x)))
    if axis is None:
        axes = tuple(range(x.ndim))
    else:
        axes = tuple(normalize_axis_index(a, x.ndim) for a in (axis if isinstance(axis, tuple) else (axis,)))
    with guarded(ctx):
        out = _reduce(lambda v: _vector(ctx, v.tolist(), ord), x, axes, keepdims, 1)
    return finish(out)


def matrix_norm(x: Any, /, *, keepdims: bool = False, ord: Any = "fro") -> Any:
    """numpy.linalg.matrix_norm at high precision: norm over the last two axes."""
    ctx, (x,) = prepare("numpy.linalg.matrix_norm", ("x", x))
    assert_stacked_2d(x)
    with guarded(ctx):
        out = _norm(ctx, x, ord, (-2, -1), keepdims)
    return finish(out)


def _cond(ctx: Any, m: np.ndarray, p: Any) -> Any:
    if p is None or p == 2 or p == -2:
        s = singular_values(ctx, m).tolist()
        numerator, denominator = (s[-1], s[0]) if p == -2 else (s[0], s[-1])
        return numerator / denominator if denominator != 0 else ctx.inf  # numpy turns nan/inf into inf
    if m.shape[0] != m.shape[1]:
        raise LinAlgError("Last 2 dimensions of the array must be square")
    try:
        inverted = inverse(ctx, m)
    except LinAlgError:
        return ctx.inf  # numpy: a singular matrix has condition number inf
    return _matrix(ctx, m, p) * _matrix(ctx, inverted, p)


def cond(x: Any, p: Any = None) -> Any:
    """numpy.linalg.cond at high precision (inf for a singular matrix)."""
    ctx, (x,) = prepare("numpy.linalg.cond", ("x", x))
    if x.size == 0 and math.prod(x.shape[-2:]) == 0:
        raise LinAlgError("cond is not defined on empty arrays")
    assert_stacked_2d(x)
    with guarded(ctx):
        out = map_matrices(lambda m: _cond(ctx, m, p), x, ctx)
    return finish(out)

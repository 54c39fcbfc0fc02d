"""Array plumbing for the high-precision linear-algebra twins: argument conversion, batching, rounding.

Every twin converts its array arguments with :func:`as_hp` (an object array of the call's own context's
``mpf``; float64/float32/int arrays and elements converted exactly, complex refused), runs under
:func:`guarded` (``GUARD_BITS`` more bits than the context, restored afterwards), loops over the leading
"stack" dimensions with :func:`map_matrices`, and rounds the result back to the context's precision with
:func:`finish`. ``mpmath.mp`` is never used.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import mpmath
import numpy as np

from pytest_gradcheck.hp.exact import to_mpf
from pytest_gradcheck.hp.registry import context_of

__all__ = [
    "FLOAT64_EPS", "GUARD_BITS", "LinAlgError", "as_hp", "assert_stacked_2d", "assert_stacked_square",
    "context_for", "eye", "finish", "from_rows", "guarded", "map_matrices", "map_stacks", "prepare", "sign_fixed",
    "stack",
]

LinAlgError = np.linalg.LinAlgError
GUARD_BITS = 24  # extra working bits inside a twin: results are rounded back, so they are good to the last digit
FLOAT64_EPS = float(np.finfo(np.float64).eps)  # numpy's default rank cut-offs are relative to float64's eps


def context_for(function: str, *args: Any) -> mpmath.MPContext:
    """The private context of the high-precision values among `args`; TypeError naming `function` if none."""
    ctx = context_of(*args)
    if ctx is None:
        raise TypeError(f"{function}: expected a high-precision array (object array of mpf) among the arguments")
    return ctx


# converted exactly; float16/32 widen to float exactly, longdouble would round (refused)
_REAL_TYPES = (bool, int, float, np.integer, np.bool_, np.float64, np.float32, np.float16)


def _convert(ctx: mpmath.MPContext, x: Any, function: str, name: str, index: tuple[int, ...]) -> Any:
    if hasattr(x, "_mpf_") or isinstance(x, _REAL_TYPES):
        return to_mpf(ctx, x)  # exact
    if hasattr(x, "_mpc_") or isinstance(x, complex | np.complexfloating):
        raise TypeError(f"{function}: {name}: complex element {x!r} at {index}; "
                        "high-precision linear algebra supports real matrices only")
    raise TypeError(f"{function}: {name}: expected real numbers (mpf, float, int), got {type(x).__name__} "
                    f"element {x!r} at {index}")


def as_hp(value: Any, ctx: mpmath.MPContext, function: str, name: str) -> np.ndarray:
    """`value` as a plain object ndarray of ``ctx.mpf`` (exact conversion of reals; complex refused)."""
    arr = np.asarray(value)
    if arr.dtype.kind == "c":
        raise TypeError(f"{function}: {name}: complex dtype {arr.dtype}; high-precision linear algebra supports "
                        "real matrices only")
    if arr.dtype.kind not in "biufO":
        raise TypeError(f"{function}: {name}: expected an array of real numbers, got dtype {arr.dtype}")
    out = np.empty(arr.shape, dtype=object)
    for index, x in np.ndenumerate(arr):
        out[index] = _convert(ctx, x, function, name, index)
    return out


def prepare(function: str, *named: tuple[str, Any]) -> tuple[mpmath.MPContext, list[np.ndarray]]:
    """The context of the (name, value) arguments, and each value converted with :func:`as_hp`."""
    ctx = context_for(function, *(value for _, value in named))
    return ctx, [as_hp(value, ctx, function, name) for name, value in named]


@contextlib.contextmanager
def guarded(ctx: mpmath.MPContext) -> Iterator[None]:
    """Work with GUARD_BITS extra bits of ``ctx`` (this thread's own context), restoring its precision."""
    with ctx.extraprec(GUARD_BITS):
        yield


def finish(value: Any) -> Any:
    """Round every mpf in `value` (an mpf, an object array, or a tuple of them) to its context's precision."""
    if hasattr(value, "_mpf_"):
        return +value
    if isinstance(value, np.ndarray) and value.dtype == object:
        out = np.empty(value.shape, dtype=object)
        for index, x in np.ndenumerate(value):
            out[index] = +x if hasattr(x, "_mpf_") else x
        return out
    if isinstance(value, tuple):
        parts = [finish(v) for v in value]
        return type(value)(*parts) if hasattr(value, "_fields") else tuple(parts)
    return value


def assert_stacked_2d(a: np.ndarray) -> None:
    if a.ndim < 2:
        raise LinAlgError(f"{a.ndim}-dimensional array given. Array must be at least two-dimensional")


def assert_stacked_square(a: np.ndarray) -> None:
    assert_stacked_2d(a)
    if a.shape[-1] != a.shape[-2]:
        raise LinAlgError("Last 2 dimensions of the array must be square")


def eye(ctx: mpmath.MPContext, m: int, n: int | None = None) -> np.ndarray:
    """An m x n identity as an object array of ``ctx.mpf``."""
    n = m if n is None else n
    out = np.full((m, n), ctx.zero, dtype=object)
    for i in range(min(m, n)):
        out[i, i] = ctx.one
    return out


def from_rows(rows: Sequence[Sequence[Any]], shape: tuple[int, int]) -> np.ndarray:
    """A 2-D object array from a list of rows (works for zero rows or columns too)."""
    out = np.empty(shape, dtype=object)
    for i, row in enumerate(rows):
        for j, x in enumerate(row):
            out[i, j] = x
    return out


def stack(batch: tuple[int, ...], results: list[Any]) -> Any:
    """Results of a per-matrix function (mpf, arrays, ints or tuples of them) stacked over `batch`."""
    first = results[0]
    if isinstance(first, tuple):
        parts = [stack(batch, [r[k] for r in results]) for k in range(len(first))]
        return type(first)(*parts) if hasattr(first, "_fields") else tuple(parts)
    core = np.shape(first) if isinstance(first, np.ndarray) else ()
    out = np.empty(batch + core, dtype=object)
    for index, result in zip(np.ndindex(batch), results, strict=True):
        out[index] = result
    if isinstance(first, int | np.integer):
        return out.astype(np.intp)
    return out


def map_matrices(fn: Callable[[np.ndarray], Any], a: np.ndarray, ctx: mpmath.MPContext) -> Any:
    """Apply `fn` to each matrix of the stack `a` (shape ...xMxN) and stack the results."""
    return map_stacks(fn, ctx, (a, 2))


def map_stacks(fn: Callable[..., Any], ctx: mpmath.MPContext, *operands: tuple[np.ndarray, int]) -> Any:
    """Apply `fn` to the core parts of each operand (array, number of core dimensions), looping over their
    broadcast leading dimensions, and stack the results (mpf, arrays, ints or tuples of them).

    An empty stack still gives correctly shaped empty results: `fn` runs once on identity-like cores.
    """
    shapes = [(arr.shape[: arr.ndim - core], arr.shape[arr.ndim - core:]) for arr, core in operands]
    batch = np.broadcast_shapes(*(leading for leading, _ in shapes))
    if not batch:
        return fn(*(arr for arr, _ in operands))
    if 0 in batch:
        return _empty_like_result(batch, fn(*(_template(ctx, core) for _, core in shapes)))
    arrays = [np.broadcast_to(arr, batch + core) for (arr, _), (_, core) in zip(operands, shapes, strict=True)]
    return stack(batch, [fn(*(arr[index] for arr in arrays)) for index in np.ndindex(batch)])


def _template(ctx: mpmath.MPContext, core: tuple[int, ...]) -> Any:
    if len(core) == 2:
        return eye(ctx, *core)
    return np.full(core, ctx.one, dtype=object) if core else ctx.one


def _empty_like_result(batch: tuple[int, ...], template: Any) -> Any:
    if isinstance(template, tuple):
        parts = [_empty_like_result(batch, t) for t in template]
        return type(template)(*parts) if hasattr(template, "_fields") else tuple(parts)
    core = np.shape(template) if isinstance(template, np.ndarray) else ()
    dtype = np.intp if isinstance(template, int | np.integer) else object
    return np.empty(batch + core, dtype=dtype)


def sign_fixed(ctx: mpmath.MPContext, vector: Sequence[Any]) -> int:
    """+1 or -1: the sign that makes the largest-magnitude component of `vector` positive.

    Components within 256 ulps of the largest count as tied, and the first of them decides, so that the
    choice does not depend on rounding noise.
    """
    if not vector:
        return 1
    magnitudes = [abs(x) for x in vector]
    largest = max(magnitudes)
    if largest == 0:
        return 1
    threshold = largest * (1 - ctx.ldexp(ctx.one, 8 - ctx.prec))
    for x, magnitude in zip(vector, magnitudes, strict=True):
        if magnitude >= threshold:
            return 1 if x > 0 else -1
    return 1  # unreachable: the largest component passes the threshold

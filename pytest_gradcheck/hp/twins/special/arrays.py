"""High-precision twins of array-level special functions: numpy's ``sinc`` and ``i0`` (dispatching through
``__array_function__``), and scipy.special's Python functions, installed while high-precision evaluations
run (patched twins): ``logsumexp``, ``log_softmax``, ``multigammaln``, ``polygamma`` and
``zeta`` cannot take object arrays; ``softmax`` can, but returns a plain object array, on which later
ufuncs without an object loop (``xlogy(p, p)``) are no longer routed. ``softplus`` is
``np.logaddexp(0, x)``, which dispatches by itself.

The twins take the functions' own arguments, with high-precision arrays (object arrays of ``mpf``, or
`hparray.HPArray`) or ``mpf`` scalars where the originals take arrays; float and int arguments are
converted exactly. They return plain object arrays of ``mpf`` of the arguments' context (the dispatch
wraps them as ``HPArray``), or an ``mpf`` where the original returns a scalar.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
from numpy.lib.array_utils import normalize_axis_tuple

from pytest_gradcheck.hp import registry as hp_registry
from pytest_gradcheck.hp.exact import to_mpf
from pytest_gradcheck.hp.registry import Twin, function_twin, patched_twin
from pytest_gradcheck.hp.twins.elementwise import elementwise, is_int, is_pole
from pytest_gradcheck.hp.twins.special.kernels import KERNELS

__all__ = [
    "TWINS", "apply", "as_hp", "i0", "log_softmax", "logsumexp", "multigammaln", "polygamma", "scalar_or_array",
    "sinc", "softmax", "zeta",
]


def as_hp(value: Any, ctx: Any, what: str) -> np.ndarray:
    """`value` (an array-like of mpf, floats or ints) as a plain object array of ``ctx.mpf``, exactly."""
    array = np.asarray(value)  # also drops an ndarray subclass, so that numpy calls below do not dispatch again
    if array.dtype.kind not in "Obiuf":
        raise TypeError(f"{what}: expected real numbers (mpf, float or int), got an array of dtype {array.dtype}")
    try:
        converted = [to_mpf(ctx, element) for element in array.ravel().tolist()]
    except TypeError as exc:
        raise TypeError(f"{what}: {exc}") from None
    out = np.empty(len(converted), dtype=object)
    out[:] = converted
    return out.reshape(array.shape)


def scalar_or_array(array: np.ndarray) -> Any:
    """A 0-d result as its element (an ``mpf``), as numpy and scipy return a scalar there."""
    return array[()] if array.ndim == 0 else array


def apply(function: Callable[..., Any], *arrays: np.ndarray) -> np.ndarray:
    """`function` on the elements of the broadcast `arrays`: an object array, 0-d for 0-d operands.

    Floating-point flags that scipy's float64 functions raise inside a twin (consulted at nan and inf
    arguments) are not the caller's: numpy would report them as warnings of this loop.
    """
    with np.errstate(all="ignore"):
        return np.asarray(np.frompyfunc(function, len(arrays), 1)(*arrays), dtype=object)


def _context(*values: Any) -> Any:
    ctx = hp_registry.context_of(*values)
    if ctx is None:
        raise TypeError("expected at least one high-precision (mpf) argument")
    return ctx


# ---------------------------------------------------------------- numpy.sinc, numpy.i0


def sinc(x: Any) -> Any:
    """np.sinc: sin(pi x) / (pi x) with the context's own pi, 1 at 0."""
    ctx = _context(x)
    return scalar_or_array(apply(elementwise(lambda c, t: c.sincpi(t)), as_hp(x, ctx, "x")))


def i0(x: Any) -> Any:
    """np.i0: the modified Bessel function of order 0."""
    ctx = _context(x)
    return scalar_or_array(apply(elementwise(lambda c, t: c.besseli(0, t)), as_hp(x, ctx, "x")))


# ---------------------------------------------------------------- logsumexp and log_softmax


def _axes(axis: Any, ndim: int) -> tuple[int, ...]:
    return tuple(range(ndim)) if axis is None else normalize_axis_tuple(axis, ndim)


def _sum_exp(a: np.ndarray, b: np.ndarray | None, axes: tuple[int, ...], ctx: Any) -> np.ndarray:
    """sum(b * exp(a)) over `axes`, kept as size-1 dimensions; a zero weight drops its term even at a = inf."""

    def weighted(x: Any, w: Any) -> Any:
        return ctx.mpf(0) if w == 0 else w * ctx.exp(x)

    terms = apply(ctx.exp, a) if b is None else apply(weighted, a, b)
    if terms.size == 0:
        shape = tuple(1 if i in axes else n for i, n in enumerate(terms.shape))
        return np.full(shape, ctx.mpf(0), dtype=object)
    return np.sum(terms, axis=axes, keepdims=True)


def logsumexp(a: Any, axis: Any = None, b: Any = None, keepdims: bool = False, return_sign: bool = False) -> Any:
    """scipy.special.logsumexp: log|sum(b * exp(a))| over `axis`; nan for a negative sum unless `return_sign`.

    At high precision no shift by the maximum is needed: mpmath's exponent range is unbounded.
    """
    ctx = _context(a, b)
    a = np.atleast_1d(as_hp(a, ctx, "a"))
    if b is not None:
        a, b = np.broadcast_arrays(a, np.atleast_1d(as_hp(b, ctx, "b")))
    axes = _axes(axis, a.ndim)
    total = _sum_exp(a, b, axes, ctx)
    out = apply(lambda s: ctx.ln(abs(s)), total)
    sign = apply(lambda s: s if ctx.isnan(s) else ctx.mpf(ctx.sign(s)), total)
    if not return_sign:
        out = apply(lambda o, s: ctx.nan if s < 0 else o, out, sign)
    if not keepdims:
        out, sign = np.squeeze(out, axis=axes), np.squeeze(sign, axis=axes)
    return (scalar_or_array(out), scalar_or_array(sign)) if return_sign else scalar_or_array(out)


def log_softmax(x: Any, axis: Any = None) -> Any:
    """scipy.special.log_softmax: x - logsumexp(x, axis, keepdims=True)."""
    ctx = _context(x)
    x = as_hp(x, ctx, "x")
    x1 = np.atleast_1d(x)
    lse = apply(ctx.ln, _sum_exp(x1, None, _axes(axis, x1.ndim), ctx))
    return scalar_or_array(np.asarray(x1 - lse, dtype=object).reshape(x.shape))


def softmax(x: Any, axis: Any = None) -> Any:
    """scipy.special.softmax: exp(log_softmax(x, axis))."""
    ctx = _context(x)
    return scalar_or_array(apply(ctx.exp, np.asarray(log_softmax(x, axis), dtype=object)))


# ---------------------------------------------------------------- multigammaln, polygamma, zeta


def multigammaln(a: Any, d: Any) -> Any:
    """scipy.special.multigammaln: log of the multivariate gamma function of dimension `d`."""
    ctx = _context(a)
    a = as_hp(a, ctx, "a")
    d = np.asarray(d)[()]
    if not np.isscalar(d) or math.floor(d) != d:
        raise ValueError("d should be a positive integer (dimension)")
    if any(x <= (d - 1) / 2 for x in a.ravel()):
        raise ValueError(f"condition a ({a}) > 0.5 * (d-1) ({0.5 * (d - 1)}) not met")
    gammaln, dimension = KERNELS["scipy.special.gammaln"], int(d)
    offset = dimension * (dimension - 1) * ctx.ln(ctx.pi) / 4
    terms = lambda x: (gammaln(ctx, x - ctx.mpf(j) / 2) for j in range(dimension))  # noqa: E731
    return scalar_or_array(apply(lambda x: offset + ctx.fsum(terms(x)), a))


def _polygamma(ctx: Any, n: Any, x: Any) -> Any:
    if n == 0:
        return KERNELS["scipy.special.digamma"](ctx, x)
    if n < 0 or not is_int(ctx, n):
        return ctx.nan  # scipy's (-1.0)**(n+1) * gamma(n+1) * zeta(n+1, x) is nan there
    if is_pole(ctx, x):
        return ctx.inf if n % 2 else ctx.ninf
    return ctx.polygamma(int(n), x)


def polygamma(n: Any, x: Any) -> Any:
    """scipy.special.polygamma: the n-th derivative of the digamma function."""
    ctx = _context(n, x)
    return scalar_or_array(apply(elementwise(_polygamma), as_hp(n, ctx, "n"), as_hp(x, ctx, "x")))


def zeta(x: Any, q: Any = None, out: Any = None) -> Any:
    """scipy.special.zeta: Riemann's zeta(x), or Hurwitz's zeta(x, q)."""
    if out is not None:
        raise TypeError("zeta: out: not supported at high precision (expected None)")
    ctx = _context(x, q)
    if q is None:
        riemann = "scipy.special._ufuncs._riemann_zeta"
        return scalar_or_array(apply(elementwise(KERNELS[riemann], nonfinite_from=riemann), as_hp(x, ctx, "x")))
    hurwitz = "scipy.special._ufuncs._zeta"
    twin = elementwise(KERNELS[hurwitz], nonfinite_from=hurwitz)
    return scalar_or_array(apply(twin, as_hp(x, ctx, "x"), as_hp(q, ctx, "q")))


TWINS: dict[str, Twin] = {
    "numpy.sinc": function_twin(sinc),
    "numpy.i0": function_twin(i0),
    "scipy.special.logsumexp": patched_twin(logsumexp),
    "scipy.special.log_softmax": patched_twin(log_softmax),
    "scipy.special.softmax": patched_twin(softmax),
    "scipy.special.multigammaln": patched_twin(multigammaln),
    "scipy.special.polygamma": patched_twin(polygamma),
    "scipy.special.zeta": patched_twin(zeta),
}

"""High-precision twins of scipy.spatial.distance's pdist, cdist and squareform; importing registers them.

scipy's distance functions do not dispatch (they convert to float64 and call compiled loops), so they are
patched twins (`TWINS`), installed on ``scipy.spatial.distance`` while checks run.
Metrics: 'euclidean', 'sqeuclidean', 'cityblock', 'chebyshev', 'minkowski' (with ``p > 0``, inf included),
'cosine' (scipy's short names too), and a callable metric, which is called on the high-precision rows.
Other metrics and weights (``w``) raise NotImplementedError naming the function, so the check falls back to
float64 with that reason. Sums use ``ctx.fsum``/``ctx.fdot`` (exact sum, one rounding).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from pytest_gradcheck.hp import registry as hp_registry
from pytest_gradcheck.hp.array import hp_view, operand
from pytest_gradcheck.hp.registry import Twin, patched_twin

__all__ = ["METRICS", "TWINS", "cdist", "pdist", "squareform"]

Row = list[Any]


def _euclidean(ctx: Any, d: Row, p: Any) -> Any:
    return ctx.sqrt(ctx.fdot((x, x) for x in d))


def _sqeuclidean(ctx: Any, d: Row, p: Any) -> Any:
    return ctx.fdot((x, x) for x in d)


def _cityblock(ctx: Any, d: Row, p: Any) -> Any:
    return ctx.fsum(abs(x) for x in d)


def _chebyshev(ctx: Any, d: Row, p: Any) -> Any:
    return max((abs(x) for x in d), default=ctx.zero)


def _minkowski(ctx: Any, d: Row, p: Any) -> Any:
    if p == math.inf:
        return _chebyshev(ctx, d, p)
    return ctx.power(ctx.fsum(ctx.power(abs(x), p) for x in d), 1 / p)


# Metrics of the differences u - v (cosine needs u and v themselves: see _cosine), by scipy's names.
METRICS: dict[str, Callable[[Any, Row, Any], Any]] = {
    "euclidean": _euclidean, "euclid": _euclidean, "eu": _euclidean, "e": _euclidean,
    "sqeuclidean": _sqeuclidean, "sqe": _sqeuclidean, "sqeuclid": _sqeuclidean,
    "cityblock": _cityblock, "cblock": _cityblock, "cb": _cityblock, "c": _cityblock, "manhattan": _cityblock,
    "chebyshev": _chebyshev, "chebychev": _chebyshev, "cheby": _chebyshev, "cheb": _chebyshev, "ch": _chebyshev,
    "minkowski": _minkowski, "mi": _minkowski, "m": _minkowski, "pnorm": _minkowski,
}
_COSINE = ("cosine", "cos")


def _cosine(ctx: Any, u: Row, v: Row) -> Any:
    """1 - u.v / (|u| |v|), clipped to [0, 2] as scipy's cosine; nan for a zero vector (0/0, as scipy)."""
    norms = ctx.sqrt(ctx.fdot((x, x) for x in u) * ctx.fdot((y, y) for y in v))
    if norms == 0:
        return ctx.nan
    return min(max(1 - ctx.fdot(zip(u, v, strict=True)) / norms, ctx.zero), ctx.mpf(2))


def _unsupported(function: str, what: str) -> NotImplementedError:
    """The error that sends the check to float64, naming the scipy function and what it lacks."""
    error = NotImplementedError(f"{what} has no high-precision twin (metrics: euclidean, sqeuclidean, "
                                "cityblock, chebyshev, minkowski with p > 0, cosine, or a callable)")
    error.hp_function = f"scipy.spatial.distance.{function}"  # type: ignore[attr-defined]
    return error


def _distance(function: str, ctx: Any, metric: Any, kwargs: dict[str, Any]) -> Callable[[Row, Row], Any]:
    """(u, v) -> the metric's distance of two rows of ctx's numbers."""
    if callable(metric):
        def called(u: Row, v: Row) -> Any:
            return metric(_row(u, ctx), _row(v, ctx), **kwargs)
        return called
    if not isinstance(metric, str):
        raise TypeError(f"{function}: metric: expected a str or a callable, got {type(metric).__name__}")
    name = metric.lower()
    p = kwargs.pop("p", 2)
    if kwargs:
        raise _unsupported(function, f"metric {metric!r} with {sorted(kwargs)}")
    if name in _COSINE:
        return lambda u, v: _cosine(ctx, u, v)
    if name not in METRICS:
        raise _unsupported(function, f"metric {metric!r}")
    if METRICS[name] is _minkowski and not p > 0:
        raise _unsupported(function, f"minkowski with p={p!r}")
    kernel, order = METRICS[name], (p if p == math.inf else ctx.convert(p))
    return lambda u, v: kernel(ctx, [a - b for a, b in zip(u, v, strict=True)], order)


def _row(values: Row, ctx: Any) -> Any:
    """A row as the callable metric sees it: a 1-D high-precision array."""
    return hp_view(np.array(values, dtype=object), ctx)


def _matrix(function: str, name: str, value: Any, ctx: Any) -> np.ndarray:
    matrix = operand(value, ctx)
    if matrix.ndim != 2:
        raise ValueError(f"{name} must be a 2-dimensional array." if function == "cdist"
                         else f"A 2-dimensional array must be passed. (Shape was {matrix.shape}).")
    return matrix


def _no_out(function: str, out: Any) -> None:
    if out is not None:
        raise _unsupported(function, "out=")


def pdist(X: Any, metric: Any = "euclidean", *, out: Any = None, **kwargs: Any) -> np.ndarray:
    """scipy.spatial.distance.pdist at high precision: the condensed distances d(X[i], X[j]), i < j."""
    ctx = hp_registry.context_of(X)
    _no_out("pdist", out)
    rows = _matrix("pdist", "X", X, ctx).tolist()
    distance = _distance("pdist", ctx, metric, dict(kwargs))
    values = [distance(rows[i], rows[j]) for i in range(len(rows)) for j in range(i + 1, len(rows))]
    return np.array([*values, None], dtype=object)[:-1]  # never nested, whatever the values are


def cdist(XA: Any, XB: Any, metric: Any = "euclidean", *, out: Any = None, **kwargs: Any) -> np.ndarray:
    """scipy.spatial.distance.cdist at high precision: d(XA[i], XB[j]) for every pair."""
    ctx = hp_registry.context_of(XA, XB)
    _no_out("cdist", out)
    a, b = _matrix("cdist", "XA", XA, ctx), _matrix("cdist", "XB", XB, ctx)
    if a.shape[1] != b.shape[1]:
        raise ValueError("XA and XB must have the same number of columns (i.e. feature dimension.)")
    distance = _distance("cdist", ctx, metric, dict(kwargs))
    values = [distance(u, v) for u in a.tolist() for v in b.tolist()]
    return np.array([*values, None], dtype=object)[:-1].reshape(a.shape[0], b.shape[0])


def squareform(X: Any, force: str = "no", checks: bool = True) -> np.ndarray:
    """scipy.spatial.distance.squareform at high precision: condensed vector <-> symmetric matrix."""
    ctx = hp_registry.context_of(X)
    x = operand(X, ctx)
    if force.lower() == "tomatrix" and x.ndim != 1:
        raise ValueError("Forcing 'tomatrix' but input X is not a distance vector.")
    if force.lower() == "tovector" and x.ndim != 2:
        raise ValueError("Forcing 'tovector' but input X is not a distance matrix.")
    if x.ndim == 1:
        return _to_matrix(x, ctx)
    if x.ndim == 2:
        return _to_vector(x, checks)
    raise ValueError("The first argument must be one or two dimensional array. "
                     f"A {x.ndim}-dimensional array is not permitted")


def _to_matrix(v: np.ndarray, ctx: Any) -> np.ndarray:
    if v.size == 0:
        return np.full((1, 1), ctx.zero, dtype=object)
    n = math.ceil(math.sqrt(v.size * 2))
    if n * (n - 1) != v.size * 2:
        raise ValueError("Incompatible vector size. It must be a binomial coefficient n choose 2 for some "
                         "integer n >= 2.")
    m = np.full((n, n), ctx.zero, dtype=object)
    upper = np.triu_indices(n, 1)
    m[upper] = v
    m.T[upper] = v
    return m


def _to_vector(m: np.ndarray, checks: bool) -> np.ndarray:
    if m.shape[0] != m.shape[1]:
        raise ValueError("The matrix argument must be square.")
    if checks:
        if any(m[i, j] != m[j, i] for i in range(len(m)) for j in range(i)):
            raise ValueError("Distance matrix 'X' must be symmetric.")
        if any(e != 0 for e in np.diagonal(m).tolist()):
            raise ValueError("Distance matrix 'X' diagonal must be zero.")
    return m[np.triu_indices(len(m), 1)]


def _vector_into_matrix(M: np.ndarray, X: np.ndarray) -> None:
    """scipy's compiled kernel behind squareform(vector), for object arrays: it copies 8-byte elements
    without reference counts, so on an object array it corrupts memory (a crash at the next garbage
    collection). Reached when user code imported squareform by name, which the patched twin cannot replace."""
    upper = np.triu_indices(len(M), 1)
    M[upper] = X
    M.T[upper] = X


def _matrix_into_vector(X: np.ndarray, v: np.ndarray) -> None:
    """The compiled kernel behind squareform(matrix), for object arrays (see _vector_into_matrix)."""
    v[:] = X[np.triu_indices(len(X), 1)]


def _np_pdist(X: Any, out: Any, w: Any, V: Any, VI: Any, metric: Any = "euclidean", **kwargs: Any) -> np.ndarray:
    """The kernel scipy's pdist hands its validated input to (scipy 1.15 and newer look it up on the module at
    each call): reached when user code imported pdist by name, which the patched twin cannot replace."""
    for name, value in (("w", w), ("V", V), ("VI", VI)):
        if value is not None:
            kwargs[name] = value
    return pdist(X, metric, out=out, **kwargs)


TWINS: dict[str, Twin] = {
    "scipy.spatial.distance.pdist": patched_twin(pdist),
    "scipy.spatial.distance._np_pdist": patched_twin(_np_pdist),
    "scipy.spatial.distance.cdist": patched_twin(cdist),
    "scipy.spatial.distance.squareform": patched_twin(squareform),
    # the compiled kernels squareform calls through its module: memory-safe on the checker's arrays
    "scipy.spatial._distance_wrap.to_squareform_from_vector_wrap": patched_twin(_vector_into_matrix),
    "scipy.spatial._distance_wrap.to_vector_from_squareform_wrap": patched_twin(_matrix_into_vector),
}

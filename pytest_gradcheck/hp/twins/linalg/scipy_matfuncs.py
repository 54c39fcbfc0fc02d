"""High-precision twins of scipy.linalg's matrix functions and Sylvester solver.

sqrtm (symmetric input: from the symmetric eigendecomposition, so exact to the working precision; other
input: mpmath's Denman-Beavers ``ctx.sqrtm``), expm (``ctx.expm``), logm (``ctx.logm``), solve_sylvester
(the Kronecker-product linear system, for the small matrices gradient checks use). Batches "...xNxN" are
looped over. Real results only: where scipy returns a complex matrix (sqrtm or logm of a matrix with a
negative real eigenvalue) the twin raises ValueError rather than leak complex numbers. scipy 1.17's sqrtm
of a scalar returns exp(a); the twin does not copy that and requires a 2-D input. The deprecated ``disp``
argument keeps its meaning (disp=False also returns scipy's error estimate) and warns as scipy does.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from pytest_gradcheck.hp.twins.linalg import kernels
from pytest_gradcheck.hp.twins.linalg.matrices import (
    LinAlgError,
    finish,
    from_rows,
    guarded,
    map_matrices,
    map_stacks,
    prepare,
)
from pytest_gradcheck.hp.twins.linalg.scipy_linalg import square_stack

__all__ = ["expm", "logm", "solve_sylvester", "sqrtm"]

_NOT_GIVEN: Any = object()


def _complex_result(function: str) -> ValueError:
    return ValueError(f"{function}: the result is complex (the matrix has an eigenvalue on the negative real "
                      "axis); high-precision evaluation supports real results only")


def _real(ctx: Any, matrix: Any, function: str) -> np.ndarray:
    """An mpmath matrix as an object array of mpf; ValueError if an entry has a nonzero imaginary part."""
    out = np.empty((matrix.rows, matrix.cols), dtype=object)
    for i in range(matrix.rows):
        for j in range(matrix.cols):
            x = matrix[i, j]
            if hasattr(x, "_mpc_"):
                if x.imag != 0:
                    raise _complex_result(function)
                x = x.real
            out[i, j] = ctx.convert(x)
    return out


def _deprecated(name: str) -> None:
    warnings.warn(f"The `{name}` argument is deprecated and will be removed in SciPy 1.18.0.", DeprecationWarning,
                  stacklevel=3)


def _frobenius(ctx: Any, m: np.ndarray) -> Any:
    return ctx.sqrt(ctx.fdot((x, x) for x in m.ravel().tolist()))


def _sqrtm(ctx: Any, m: np.ndarray) -> np.ndarray:
    rows, n = m.tolist(), m.shape[0]
    if all(rows[i][j] == rows[j][i] for i in range(n) for j in range(i)):
        values, vectors = kernels.symmetric_eigen(ctx, rows)
        if values and values[0] < 0:
            raise _complex_result("scipy.linalg.sqrtm")
        roots = [ctx.sqrt(v) for v in values]
        x = [[ctx.fdot((vectors[i][k] * roots[k], vectors[j][k]) for k in range(n)) for j in range(n)]  # type: ignore[index]
             for i in range(n)]
        return from_rows(x, (n, n))
    try:
        root = ctx.sqrtm(ctx.matrix(rows))
    except (ZeroDivisionError, ctx.NoConvergence) as exc:
        raise LinAlgError("scipy.linalg.sqrtm at high precision: the matrix is singular or has no square "
                          "root the iteration reaches") from exc
    return _real(ctx, root, "scipy.linalg.sqrtm")


def sqrtm(A: Any, disp: Any = _NOT_GIVEN, blocksize: Any = _NOT_GIVEN) -> Any:
    """scipy.linalg.sqrtm at high precision (the principal square root, real input and result)."""
    if disp is not _NOT_GIVEN:
        _deprecated("disp")
    if blocksize is not _NOT_GIVEN:
        _deprecated("blocksize")
    ctx, (a,) = prepare("scipy.linalg.sqrtm", ("A", A))
    square_stack(a)
    with guarded(ctx):
        root = map_matrices(lambda m: _sqrtm(ctx, m), a, ctx)
        if disp is False:
            error = _frobenius(ctx, np.matmul(root, root) - a) ** 2 / _frobenius(ctx, a)
            return finish(root), finish(error)
    return finish(root)


def expm(A: Any) -> np.ndarray:
    """scipy.linalg.expm at high precision (a scalar or 1-element input gives a 1x1 result, as scipy)."""
    ctx, (a,) = prepare("scipy.linalg.expm", ("A", A))
    if a.size == 1 and a.ndim < 2:
        a = a.reshape(1, 1)
    square_stack(a)
    with guarded(ctx):
        out = map_matrices(lambda m: _real(ctx, ctx.expm(ctx.matrix(m.tolist())), "scipy.linalg.expm"), a, ctx)
    return finish(out)


def _logm(ctx: Any, m: np.ndarray) -> np.ndarray:
    try:
        log = ctx.logm(ctx.matrix(m.tolist()))
    except (ZeroDivisionError, ctx.NoConvergence) as exc:
        raise LinAlgError("scipy.linalg.logm at high precision: the matrix is singular") from exc
    return _real(ctx, log, "scipy.linalg.logm")


def logm(A: Any, disp: Any = _NOT_GIVEN) -> Any:
    """scipy.linalg.logm at high precision (the principal logarithm, real input and result)."""
    if disp is not _NOT_GIVEN:
        _deprecated("disp")
    ctx, (a,) = prepare("scipy.linalg.logm", ("A", A))
    square_stack(a)
    with guarded(ctx):
        log = map_matrices(lambda m: _logm(ctx, m), a, ctx)
        if disp is False:
            exp = _real(ctx, ctx.expm(ctx.matrix(log.tolist())), "scipy.linalg.expm")
            one_norm = lambda m: max(ctx.fsum(abs(x) for x in column) for column in m.T.tolist())  # noqa: E731
            return finish(log), finish(one_norm(exp - a) / one_norm(a))
    return finish(log)


def _sylvester(ctx: Any, a: np.ndarray, b: np.ndarray, q: np.ndarray) -> np.ndarray:
    """X with A X + X B = Q, from (I kron A + B^T kron I) vec(X) = vec(Q), vec stacking columns."""
    n, m = q.shape
    size = n * m
    system = [[ctx.zero] * size for _ in range(size)]
    for j in range(m):
        for i in range(n):
            row = system[i + j * n]
            for k in range(n):
                row[k + j * n] += a[i, k]
            for k in range(m):
                row[i + k * n] += b[k, j]
    lu, pivots, singular = kernels.lu_factor(ctx, system)
    if singular is not None:
        raise LinAlgError("solve_sylvester: the equation is singular (a and -b have a common eigenvalue)")
    x = kernels.lu_solve(ctx, lu, pivots, [[q[i, j]] for j in range(m) for i in range(n)])
    return from_rows([[x[i + j * n][0] for j in range(m)] for i in range(n)], (n, m))


def solve_sylvester(a: Any, b: Any, q: Any) -> np.ndarray:
    """scipy.linalg.solve_sylvester at high precision: X with a X + X b = q."""
    ctx, (a, b, q) = prepare("scipy.linalg.solve_sylvester", ("a", a), ("b", b), ("q", q))
    for name, operand in (("a", a), ("b", b)):
        if operand.ndim < 2 or operand.shape[-1] != operand.shape[-2]:
            raise ValueError(f"scipy.linalg.solve_sylvester: {name}: expected a square matrix, got shape "
                             f"{operand.shape}")
    if q.ndim < 2 or q.shape[-2:] != (a.shape[-1], b.shape[-1]):
        raise ValueError(f"scipy.linalg.solve_sylvester: q: expected shape {(a.shape[-1], b.shape[-1])} for a of "
                         f"shape {a.shape[-2:]} and b of shape {b.shape[-2:]}, got {q.shape}")
    with guarded(ctx):
        out = map_stacks(lambda am, bm, qm: _sylvester(ctx, am, bm, qm), ctx, (a, 2), (b, 2), (q, 2))
    return finish(out)

"""High-precision twins of numpy.linalg's determinants, inverses and solvers.

det, slogdet, inv, solve, cholesky, matrix_power, tensorsolve, tensorinv: numpy's signatures, stacking
("...xMxN" batches), result structure and errors (``LinAlgError("Singular matrix")`` for an exactly zero
pivot, ``LinAlgError("Matrix is not positive definite")``). See :mod:`pytest_gradcheck.hp.twins.linalg.registrations`.
"""

from __future__ import annotations

import operator
from typing import Any

import numpy as np
from numpy.linalg._linalg import SlogdetResult

from pytest_gradcheck.hp.twins.linalg import kernels
from pytest_gradcheck.hp.twins.linalg.matrices import (
    LinAlgError,
    assert_stacked_square,
    eye,
    finish,
    from_rows,
    guarded,
    map_matrices,
    map_stacks,
    prepare,
)

__all__ = ["cholesky", "det", "inv", "matrix_power", "slogdet", "solve", "tensorinv", "tensorsolve"]


def _lu(ctx: Any, m: np.ndarray) -> tuple[kernels.Rows, list[int], int | None]:
    return kernels.lu_factor(ctx, m.tolist())


def determinant(ctx: Any, m: np.ndarray) -> Any:
    """The determinant of one converted matrix (no rounding: call under `guarded`)."""
    lu, pivots, singular = _lu(ctx, m)
    if singular is not None:
        return ctx.zero
    swaps = sum(1 for k, p in enumerate(pivots) if k != p)
    value = ctx.fprod(lu[i][i] for i in range(len(lu))) if lu else ctx.one
    return -value if swaps % 2 else value


def det(a: Any) -> Any:
    """numpy.linalg.det at high precision: an mpf, or an object array for a stack."""
    ctx, (a,) = prepare("numpy.linalg.det", ("a", a))
    assert_stacked_square(a)
    with guarded(ctx):
        out = map_matrices(lambda m: determinant(ctx, m), a, ctx)
    return finish(out)


def _slogdet(ctx: Any, m: np.ndarray) -> tuple[Any, Any]:
    lu, pivots, singular = _lu(ctx, m)
    if singular is not None:
        return ctx.zero, ctx.ninf
    negative = sum(1 for k, p in enumerate(pivots) if k != p) + sum(1 for i in range(len(lu)) if lu[i][i] < 0)
    logabsdet = ctx.fsum(ctx.ln(abs(lu[i][i])) for i in range(len(lu)))
    return (-ctx.one if negative % 2 else ctx.one), logabsdet


def slogdet(a: Any) -> SlogdetResult:
    """numpy.linalg.slogdet at high precision: SlogdetResult(sign, logabsdet); (0, -inf) when singular."""
    ctx, (a,) = prepare("numpy.linalg.slogdet", ("a", a))
    assert_stacked_square(a)
    with guarded(ctx):
        sign, logabsdet = map_matrices(lambda m: _slogdet(ctx, m), a, ctx)
    return finish(SlogdetResult(sign, logabsdet))


def _solved(ctx: Any, m: np.ndarray, rhs: kernels.Rows, columns: int) -> np.ndarray:
    lu, pivots, singular = _lu(ctx, m)
    if singular is not None:
        raise LinAlgError("Singular matrix")
    return from_rows(kernels.lu_solve(ctx, lu, pivots, rhs), (len(rhs), columns))


def inverse(ctx: Any, a: np.ndarray) -> np.ndarray:
    """The inverse of each matrix of a square stack of ``ctx.mpf`` (no rounding: call under `guarded`)."""
    return map_matrices(lambda m: _solved(ctx, m, eye(ctx, m.shape[0]).tolist(), m.shape[0]), a, ctx)


def inv(a: Any) -> np.ndarray:
    """numpy.linalg.inv at high precision."""
    ctx, (a,) = prepare("numpy.linalg.inv", ("a", a))
    assert_stacked_square(a)
    with guarded(ctx):
        out = inverse(ctx, a)
    return finish(out)


def solve_stack(ctx: Any, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """numpy 2's solve rule on converted arrays: b is a vector if 1-D, else a stack of M x K matrices."""
    m = a.shape[-1]
    if b.ndim == 0:
        raise ValueError("solve: Input operand 1 does not have enough dimensions (has 0, gufunc core with "
                         "signature (m,m),(m,n)->(m,n) requires 2)")
    vector = b.ndim == 1
    signature = "(m,m),(m)->(m)" if vector else "(m,m),(m,n)->(m,n)"
    rows = b.shape[-1] if vector else b.shape[-2]
    if rows != m:
        raise ValueError(f"solve: Input operand 1 has a mismatch in its core dimension 0, with gufunc signature "
                         f"{signature} (size {rows} is different from {m})")
    if vector:
        return map_stacks(lambda am, bv: _solved(ctx, am, [[x] for x in bv], 1)[:, 0], ctx, (a, 2), (b, 1))
    return map_stacks(lambda am, bm: _solved(ctx, am, bm.tolist(), bm.shape[1]), ctx, (a, 2), (b, 2))


def solve(a: Any, b: Any) -> np.ndarray:
    """numpy.linalg.solve at high precision (numpy 2 semantics: b is a vector only when 1-D)."""
    ctx, (a, b) = prepare("numpy.linalg.solve", ("a", a), ("b", b))
    assert_stacked_square(a)
    with guarded(ctx):
        out = solve_stack(ctx, a, b)
    return finish(out)


def cholesky_factor(ctx: Any, m: np.ndarray, *, upper: bool, message: str = "Matrix is not positive definite") -> Any:
    """L (reading m's lower triangle) or U = L^T (reading its upper triangle), as numpy.linalg.cholesky."""
    rows = m.tolist()
    try:
        factor = kernels.cholesky(ctx, kernels.transpose(rows) if upper else rows)
    except kernels.NotPositiveDefinite as exc:
        raise LinAlgError(message.format(order=exc.index + 1)) from None
    return from_rows(kernels.transpose(factor) if upper else factor, m.shape)


def cholesky(a: Any, /, *, upper: bool = False) -> np.ndarray:
    """numpy.linalg.cholesky at high precision: lower factor from the lower triangle, or with upper=True the
    upper factor from the upper triangle."""
    ctx, (a,) = prepare("numpy.linalg.cholesky", ("a", a))
    assert_stacked_square(a)
    with guarded(ctx):
        out = map_matrices(lambda m: cholesky_factor(ctx, m, upper=upper), a, ctx)
    return finish(out)


def matrix_power(a: Any, n: Any) -> np.ndarray:
    """numpy.linalg.matrix_power at high precision (negative powers through the inverse; stacks allowed)."""
    ctx, (a,) = prepare("numpy.linalg.matrix_power", ("a", a))
    assert_stacked_square(a)
    try:
        n = operator.index(n)
    except TypeError as exc:
        raise TypeError("exponent must be an integer") from exc
    with guarded(ctx):
        if n == 0:
            return np.broadcast_to(eye(ctx, a.shape[-1]), a.shape).copy()
        if n < 0:
            a, n = inverse(ctx, a), -n
        result, square = None, a
        while True:  # binary powering, least significant bit first
            n, bit = divmod(n, 2)
            if bit:
                result = square if result is None else np.matmul(result, square)
            if not n:
                break
            square = np.matmul(square, square)
    return finish(result)


def tensorsolve(a: Any, b: Any, axes: Any = None) -> np.ndarray:
    """numpy.linalg.tensorsolve at high precision."""
    ctx, (a, b) = prepare("numpy.linalg.tensorsolve", ("a", a), ("b", b))
    an = a.ndim
    if axes is not None:
        order = list(range(an))
        for k in axes:
            order.remove(k)
            order.insert(an, k)
        a = a.transpose(order)
    old_shape = a.shape[-(an - b.ndim):]
    size = int(np.prod(old_shape))
    if a.size != size**2:
        raise LinAlgError("Input arrays must satisfy the requirement prod(a.shape[b.ndim:]) == "
                          "prod(a.shape[:b.ndim])")
    with guarded(ctx):
        out = solve_stack(ctx, a.reshape(size, size), b.ravel())
    return finish(out.reshape(old_shape))


def tensorinv(a: Any, ind: int = 2) -> np.ndarray:
    """numpy.linalg.tensorinv at high precision."""
    ctx, (a,) = prepare("numpy.linalg.tensorinv", ("a", a))
    if ind <= 0:
        raise ValueError("Invalid ind argument.")
    old_shape = a.shape
    inv_shape = old_shape[ind:] + old_shape[:ind]
    size = int(np.prod(old_shape[ind:]))
    square = a.reshape(size, -1)
    assert_stacked_square(square)
    with guarded(ctx):
        out = inverse(ctx, square)
    return finish(out.reshape(*inv_shape))

"""High-precision twins of scipy.linalg's solvers and factorizations (patched in during hp evaluations).

solve_triangular, solve_banded, cho_factor, cho_solve, lu_factor, lu_solve, cholesky, det, inv, solve: scipy's
signatures, the entries each one reads (one triangle, the diagonal, the band that ``assume_a`` names),
batches ("...xNxN", b a vector only when 1-D) and error types. Nothing here imports scipy: ``LinAlgError``
is numpy's, which scipy raises too, and ``LinAlgWarning`` is looked up only when a singular lu_factor
warns. lu_factor takes square matrices only (scipy also factors rectangular ones). inv(assume_a='diagonal')
copies scipy 1.17, which inverts the diagonal and passes the off-diagonal entries through unchanged.
"""

from __future__ import annotations

import functools
import sys
import warnings
from typing import Any

import numpy as np

from pytest_gradcheck.hp.twins.linalg import kernels
from pytest_gradcheck.hp.twins.linalg.matrices import (
    LinAlgError,
    eye,
    finish,
    from_rows,
    guarded,
    map_matrices,
    map_stacks,
    prepare,
)
from pytest_gradcheck.hp.twins.linalg.solvers import cholesky_factor, determinant

__all__ = [
    "cho_factor", "cho_solve", "cholesky", "det", "inv", "lu_factor", "lu_solve", "solve", "solve_banded",
    "solve_triangular",
]

_TRANS = {0: False, "N": False, 1: True, "T": True, 2: True, "C": True}
_STRUCTURES = {
    None: "gen", "general": "gen", "gen": "gen", "banded": "gen", "diagonal": "diagonal", "tridiagonal": "tri",
    "upper triangular": "upper", "lower triangular": "lower", "pos": "pos", "positive definite": "pos",
    "sym": "sym", "symmetric": "sym", "her": "sym", "hermitian": "sym",
}


def square_stack(a: np.ndarray) -> None:
    """scipy's checks for a stack of square matrices (LinAlgError, as scipy.linalg's matrix functions)."""
    if a.ndim < 2:
        raise LinAlgError("The input array must be at least two-dimensional")
    if a.shape[-1] != a.shape[-2]:
        raise LinAlgError("Last 2 dimensions of the array must be square")


def _rhs(fn: Any, ctx: Any, a: np.ndarray, b: np.ndarray, n: int, message: str) -> np.ndarray:
    """Apply fn(matrix, rhs rows) over stacks, b a vector when 1-D (scipy's '1|2' rule)."""
    if b.ndim == 0 or (b.shape[0] if b.ndim == 1 else b.shape[-2]) != n:
        raise ValueError(message)
    if b.ndim == 1:
        return map_stacks(lambda m, v: fn(m, [[x] for x in v])[:, 0], ctx, (a, 2), (b, 1))
    return map_stacks(lambda m, rhs: fn(m, rhs.tolist()), ctx, (a, 2), (b, 2))


def solve_triangular(a: Any, b: Any, trans: Any = 0, lower: bool = False, unit_diagonal: bool = False,
                     overwrite_b: bool = False, check_finite: bool = True) -> np.ndarray:
    """scipy.linalg.solve_triangular at high precision: reads only the `lower` (or upper) triangle."""
    if trans not in _TRANS:
        raise ValueError(f"scipy.linalg.solve_triangular: trans: expected 0, 1, 2, 'N', 'T' or 'C', got {trans!r}")
    ctx, (a, b) = prepare("scipy.linalg.solve_triangular", ("a", a), ("b", b))
    if a.ndim < 2 or a.shape[-1] != a.shape[-2]:
        raise ValueError("expected square matrix")

    def one(m: np.ndarray, rhs: kernels.Rows) -> np.ndarray:
        try:
            x = kernels.triangular_solve(ctx, m.tolist(), rhs, lower=lower, trans=_TRANS[trans],
                                         unit_diagonal=unit_diagonal)
        except kernels.SingularMatrix as exc:
            raise LinAlgError(f"singular matrix: resolution failed at diagonal {exc.index}") from None
        return from_rows(x, (len(x), len(x[0]) if x else 0))

    with guarded(ctx):
        out = _rhs(one, ctx, a, b, a.shape[-1], f"shapes of a {a.shape} and b {b.shape} are incompatible")
    return finish(out)


def _cholesky(ctx: Any, m: np.ndarray, lower: bool) -> np.ndarray:
    return cholesky_factor(ctx, m, upper=not lower, message="{order}-th leading minor of the array is not "
                                                            "positive definite")


def cholesky(a: Any, lower: bool = False, overwrite_a: bool = False, check_finite: bool = True) -> np.ndarray:
    """scipy.linalg.cholesky at high precision: the upper factor by default (reading the upper triangle)."""
    ctx, (a,) = prepare("scipy.linalg.cholesky", ("a", a))
    square_stack(a)
    with guarded(ctx):
        out = map_matrices(lambda m: _cholesky(ctx, m, lower), a, ctx)
    return finish(out)


@functools.cache
def _keeps_unused_triangle() -> bool:
    """scipy up to 1.17 leaves a's own entries in the triangle cho_factor does not use; 1.18 zeroes them.
    Asked of the installed scipy once, when the twin first runs (its cho_factor is what the user called)."""
    from scipy import linalg

    c, _ = linalg.cho_factor(np.array([[4.0, 2.0], [2.0, 2.0]]))  # SPD, upper factor [[2, 1], [0, 1]]
    return bool(c[1, 0] != 0)


def cho_factor(a: Any, lower: bool = False, overwrite_a: bool = False, check_finite: bool = True
               ) -> tuple[np.ndarray, bool]:
    """scipy.linalg.cho_factor at high precision: (c, lower), the factor in c's `lower` (or upper) triangle and
    in the other a's own entries (scipy <= 1.17) or zeros (scipy >= 1.18), as the installed scipy leaves them."""
    ctx, (a,) = prepare("scipy.linalg.cho_factor", ("a", a))
    square_stack(a)
    keep = _keeps_unused_triangle()

    def one(m: np.ndarray) -> np.ndarray:
        factor = _cholesky(ctx, m, lower)
        c = m.copy() if keep else np.full(m.shape, ctx.zero, dtype=object)
        n = m.shape[0]
        for i in range(n):
            for j in range(n):
                if (i >= j) if lower else (i <= j):
                    c[i, j] = factor[i, j]
        return c

    with guarded(ctx):
        out = map_matrices(one, a, ctx)
    return finish(out), lower


def cho_solve(c_and_lower: tuple[Any, bool], b: Any, overwrite_b: bool = False, check_finite: bool = True
              ) -> np.ndarray:
    """scipy.linalg.cho_solve at high precision: solves A x = b from cho_factor's (c, lower)."""
    c, lower = c_and_lower
    ctx, (c, b) = prepare("scipy.linalg.cho_solve", ("c", c), ("b", b))
    if c.ndim < 2 or c.shape[-1] != c.shape[-2]:
        raise ValueError("The factored matrix c is not square.")

    def one(m: np.ndarray, rhs: kernels.Rows) -> np.ndarray:
        rows = m.tolist()
        y = kernels.triangular_solve(ctx, rows, rhs, lower=lower, trans=not lower)
        x = kernels.triangular_solve(ctx, rows, y, lower=lower, trans=lower)
        return from_rows(x, (len(x), len(x[0]) if x else 0))

    with guarded(ctx):
        out = _rhs(one, ctx, c, b, c.shape[-1], f"incompatible dimensions ({c.shape} and {b.shape})")
    return finish(out)


def lu_factor(a: Any, overwrite_a: bool = False, check_finite: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """scipy.linalg.lu_factor at high precision (square matrices): (lu, piv) with LAPACK's partial pivoting."""
    ctx, (a,) = prepare("scipy.linalg.lu_factor", ("a", a))
    if a.ndim < 2 or a.shape[-1] != a.shape[-2]:
        raise NotImplementedError(f"scipy.linalg.lu_factor at high precision: a: expected a square matrix, "
                                  f"got shape {a.shape}")

    def one(m: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        lu, pivots, singular = kernels.lu_factor(ctx, m.tolist())
        if singular is not None:
            warning = getattr(sys.modules.get("scipy.linalg"), "LinAlgWarning", RuntimeWarning)
            warnings.warn(f"Diagonal number {singular + 1} is exactly zero. Singular matrix.", warning,
                          stacklevel=4)
        return from_rows(lu, m.shape), np.array(pivots, dtype=np.int32)

    with guarded(ctx):
        lu, piv = map_matrices(one, a, ctx)
    return finish(lu), np.asarray(piv, dtype=np.int32)


def lu_solve(lu_and_piv: tuple[Any, Any], b: Any, trans: Any = 0, overwrite_b: bool = False,
             check_finite: bool = True) -> np.ndarray:
    """scipy.linalg.lu_solve at high precision, from lu_factor's (lu, piv)."""
    if trans not in _TRANS:
        raise ValueError(f"scipy.linalg.lu_solve: trans: expected 0, 1, 2, 'N', 'T' or 'C', got {trans!r}")
    lu, piv = lu_and_piv
    ctx, (lu, b) = prepare("scipy.linalg.lu_solve", ("lu", lu), ("b", b))
    pivots = np.asarray(piv)
    if lu.ndim != 2 or pivots.shape != (lu.shape[0],):
        raise ValueError(f"scipy.linalg.lu_solve at high precision: expected a square lu and piv of its length, "
                         f"got shapes {lu.shape} and {pivots.shape}")
    if b.ndim == 0 or b.shape[0] != lu.shape[0]:
        raise ValueError(f"Shapes of lu {lu.shape} and b {b.shape} are incompatible")
    vector = b.ndim == 1
    rhs = [[x] for x in b.tolist()] if vector else b.reshape(b.shape[0], -1).tolist()
    with guarded(ctx):
        x = kernels.lu_solve(ctx, lu.tolist(), [int(p) for p in pivots], rhs, trans=_TRANS[trans])
        out = from_rows(x, (len(x), len(rhs[0]) if rhs else 0))
    return finish(out[:, 0] if vector else out.reshape(b.shape))


def det(a: Any, overwrite_a: bool = False, check_finite: bool = True) -> Any:
    """scipy.linalg.det at high precision."""
    ctx, (a,) = prepare("scipy.linalg.det", ("a", a))
    if a.ndim < 2:
        raise ValueError("The input array must be at least two-dimensional.")
    if a.shape[-1] != a.shape[-2]:
        raise ValueError(f"Last 2 dimensions of the array must be square but received shape {a.shape}.")
    with guarded(ctx):
        out = map_matrices(lambda m: determinant(ctx, m), a, ctx)
    return finish(out)


def _referenced(structure: str, i: int, j: int) -> bool:
    """Whether scipy's solver for `structure` reads entry (i, j) as it stands."""
    if structure == "upper":
        return i <= j
    if structure == "lower":
        return i >= j
    if structure == "tri":
        return abs(i - j) <= 1
    if structure == "diagonal":
        return i == j
    return structure == "gen"


def _structured(ctx: Any, m: np.ndarray, structure: str, lower: bool) -> np.ndarray:
    """The matrix scipy's solver for `structure` sees: only the entries it references, the rest zero (or
    mirrored from the `lower` or upper triangle, for the symmetric kinds)."""
    n = m.shape[0]
    out = np.full(m.shape, ctx.zero, dtype=object)
    for i in range(n):
        for j in range(n):
            if structure in ("pos", "sym"):
                out[i, j] = m[max(i, j), min(i, j)] if lower else m[min(i, j), max(i, j)]
            elif _referenced(structure, i, j):
                out[i, j] = m[i, j]
    return out


def _solve_structured(ctx: Any, m: np.ndarray, rhs: kernels.Rows, structure: str, lower: bool,
                      transposed: bool) -> np.ndarray:
    matrix = _structured(ctx, m, structure, lower)
    if transposed:
        matrix = matrix.T
    rows = matrix.tolist()
    if structure == "pos":
        try:
            factor = kernels.cholesky(ctx, rows)
        except kernels.NotPositiveDefinite:
            raise LinAlgError("A singular matrix detected: the matrix is not positive definite "
                              "(assume_a='pos').") from None
        x = kernels.triangular_solve(ctx, factor, rhs, lower=True)
        x = kernels.triangular_solve(ctx, factor, x, lower=True, trans=True)
    else:
        lu, pivots, singular = kernels.lu_factor(ctx, rows)
        if singular is not None:
            raise LinAlgError("A singular matrix detected.")
        x = kernels.lu_solve(ctx, lu, pivots, rhs)
    return from_rows(x, (len(x), len(rhs[0]) if rhs else 0))


def _structure(assume_a: Any) -> str:
    if assume_a not in _STRUCTURES:
        raise ValueError(f"{assume_a} is not a recognized matrix structure")
    return _STRUCTURES[assume_a]


def solve(a: Any, b: Any, lower: bool = False, overwrite_a: bool = False, overwrite_b: bool = False,
          check_finite: bool = True, assume_a: Any = None, transposed: bool = False) -> np.ndarray:
    """scipy.linalg.solve at high precision; assume_a selects the entries read, as scipy's solvers do."""
    structure = _structure(assume_a)
    ctx, (a, b) = prepare("scipy.linalg.solve", ("a", a), ("b", b))
    a, b = np.atleast_2d(a), np.atleast_1d(b)
    if a.shape[-1] != a.shape[-2]:
        raise ValueError(f"Expected square matrix, got a1.shape={a.shape}")
    with guarded(ctx):
        if a.size == 1:
            if a.ravel()[0] == 0:
                raise LinAlgError("A singular matrix detected.")
            return finish(b / a.ravel()[0])
        out = _rhs(lambda m, rhs: _solve_structured(ctx, m, rhs, structure, lower, transposed), ctx, a, b,
                   a.shape[-1], f"incompatible shapes: a1.shape={a.shape} and b1.shape={b.shape}")
    return finish(out)


def inv(a: Any, overwrite_a: bool = False, check_finite: bool = True, *, assume_a: Any = None,
        lower: bool = False) -> np.ndarray:
    """scipy.linalg.inv at high precision; assume_a selects the entries read, as scipy does."""
    structure = _structure(assume_a)
    ctx, (a,) = prepare("scipy.linalg.inv", ("a", a))
    if a.ndim < 2 or a.shape[-1] != a.shape[-2]:
        raise ValueError(f"Expected square matrix, got a1.shape={a.shape}")
    with guarded(ctx):
        if structure == "diagonal":
            out = _reciprocal_diagonal(a)
        else:
            out = map_matrices(lambda m: _solve_structured(ctx, m, eye(ctx, m.shape[0]).tolist(), structure, lower,
                                                           False), a, ctx)
    return finish(out)


def _reciprocal_diagonal(a: np.ndarray) -> np.ndarray:
    """scipy 1.17's inv(assume_a='diagonal'): the diagonal inverted, off-diagonal entries passed through."""
    out = a.copy()
    n = a.shape[-1]
    for index in np.ndindex(a.shape[:-2]):
        for i in range(n):
            if out[(*index, i, i)] == 0:
                raise LinAlgError("A singular matrix detected.")
            out[(*index, i, i)] = 1 / out[(*index, i, i)]
    return out


def solve_banded(l_and_u: tuple[int, int], ab: Any, b: Any, overwrite_ab: bool = False, overwrite_b: bool = False,
                 check_finite: bool = True) -> np.ndarray:
    """scipy.linalg.solve_banded at high precision: a[i, j] = ab[u + i - j, j] inside the band."""
    lower_bands, upper_bands = (int(k) for k in l_and_u)
    ctx, (ab, b) = prepare("scipy.linalg.solve_banded", ("ab", ab), ("b", b))
    if ab.ndim != 2 or lower_bands + upper_bands + 1 != ab.shape[0]:
        raise ValueError(f"invalid values for the number of lower and upper diagonals: l+u+1 "
                         f"({lower_bands + upper_bands + 1}) does not equal ab.shape[0] ({ab.shape[0]})")
    n = ab.shape[1]
    if b.ndim == 0 or b.shape[0] != n:
        raise ValueError("shapes of ab and b are not compatible.")
    dense = [[ab[upper_bands + i - j, j] if -upper_bands <= i - j <= lower_bands else ctx.zero for j in range(n)]
             for i in range(n)]
    rhs = [[x] for x in b.tolist()] if b.ndim == 1 else b.reshape(n, -1).tolist()
    with guarded(ctx):
        lu, pivots, singular = kernels.lu_factor(ctx, dense)
        if singular is not None:
            raise LinAlgError("singular matrix")
        x = from_rows(kernels.lu_solve(ctx, lu, pivots, rhs), (n, len(rhs[0]) if rhs else 0))
    return finish(x[:, 0] if b.ndim == 1 else x.reshape(b.shape))

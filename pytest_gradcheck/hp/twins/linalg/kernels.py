"""Two-dimensional linear-algebra kernels on lists of rows of ``mpf``, in one private mpmath context.

LU (partial pivoting as LAPACK ``getrf``: the first largest-magnitude entry of the column), triangular
solves, Cholesky (reads one triangle, as LAPACK ``potrf``) and Householder QR (LAPACK ``geqrf``'s
reflectors and signs, so Q and R agree with numpy's, signs included) are written here: they are short,
and writing them gives numpy's exact semantics (which triangle is read, the pivot order, an exactly-zero
pivot as the only "singular"). The symmetric eigenproblem and the SVD use mpmath's own iterative
algorithms (``ctx.eigsy``, ``ctx.svd_r``), which converge to the working precision, with the ordering and
sign conventions of :mod:`pytest_gradcheck.hp.twins.linalg.registrations` applied afterwards. Sums of products use
``ctx.fdot`` (exact sum, one rounding).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import mpmath

from pytest_gradcheck.hp.twins.linalg.matrices import LinAlgError, sign_fixed

__all__ = [
    "NotPositiveDefinite", "Rows", "SingularMatrix", "cholesky", "householder_qr", "lu_factor", "lu_solve",
    "q_from_householder", "svd", "symmetric_eigen", "transpose", "triangular_solve",
]

Rows = list[list[Any]]


class SingularMatrix(ArithmeticError):
    """An exactly zero pivot at (0-based) `index`."""

    def __init__(self, index: int) -> None:
        super().__init__(f"zero pivot at diagonal {index}")
        self.index = index


class NotPositiveDefinite(ArithmeticError):
    """The leading minor of order `index` + 1 is not positive."""

    def __init__(self, index: int) -> None:
        super().__init__(f"leading minor {index + 1} is not positive definite")
        self.index = index


def transpose(rows: Sequence[Sequence[Any]]) -> Rows:
    return [list(column) for column in zip(*rows, strict=True)] if rows else []


def lu_factor(ctx: mpmath.MPContext, rows: Sequence[Sequence[Any]]) -> tuple[Rows, list[int], int | None]:
    """LAPACK getrf: (LU with unit-diagonal L below the diagonal, row interchanges, first zero pivot or None)."""
    a = [list(row) for row in rows]
    n = len(a)
    pivots: list[int] = []
    singular = None
    for k in range(n):
        p = max(range(k, n), key=lambda i: abs(a[i][k]))  # max() keeps the first of equal magnitudes
        pivots.append(p)
        if a[p][k] == 0:
            singular = k if singular is None else singular
            continue
        a[k], a[p] = a[p], a[k]
        pivot = a[k][k]
        for i in range(k + 1, n):
            factor = a[i][k] = a[i][k] / pivot
            if factor:
                row_k, row_i = a[k], a[i]
                for j in range(k + 1, n):
                    row_i[j] -= factor * row_k[j]
    return a, pivots, singular


def triangular_solve(
    ctx: mpmath.MPContext, t: Sequence[Sequence[Any]], b: Sequence[Sequence[Any]], *, lower: bool,
    trans: bool = False, unit_diagonal: bool = False,
) -> Rows:
    """Solve T X = B (or T^T X = B) reading only T's `lower` (or upper) triangle; B is n x k rows."""
    if trans:
        t, lower = transpose(t), not lower
    n = len(t)
    x: Rows = [list(row) for row in b]
    order = range(n) if lower else range(n - 1, -1, -1)
    for i in order:
        others = range(i) if lower else range(i + 1, n)
        diagonal = ctx.one if unit_diagonal else t[i][i]
        if diagonal == 0:
            raise SingularMatrix(i)
        for c in range(len(x[i])):
            total = x[i][c] - ctx.fdot((t[i][j], x[j][c]) for j in others)
            x[i][c] = total / diagonal
    return x


def lu_solve(
    ctx: mpmath.MPContext, lu: Sequence[Sequence[Any]], pivots: Sequence[int], b: Sequence[Sequence[Any]],
    *, trans: bool = False,
) -> Rows:
    """Solve A X = B (or A^T X = B) from A's getrf factors; B is n x k rows."""
    x = [list(row) for row in b]
    if not trans:
        for k, p in enumerate(pivots):
            x[k], x[p] = x[p], x[k]
        x = triangular_solve(ctx, lu, x, lower=True, unit_diagonal=True)
        return triangular_solve(ctx, lu, x, lower=False)
    x = triangular_solve(ctx, lu, x, lower=False, trans=True)
    x = triangular_solve(ctx, lu, x, lower=True, trans=True, unit_diagonal=True)
    for k in reversed(range(len(pivots))):
        p = pivots[k]
        x[k], x[p] = x[p], x[k]
    return x


def cholesky(ctx: mpmath.MPContext, rows: Sequence[Sequence[Any]]) -> Rows:
    """Lower Cholesky factor L (L L^T = A) reading only A's lower triangle; NotPositiveDefinite otherwise."""
    n = len(rows)
    factor: Rows = [[ctx.zero] * n for _ in range(n)]
    for j in range(n):
        row_j = factor[j]
        s = rows[j][j] - ctx.fdot((row_j[k], row_j[k]) for k in range(j))
        if not s > 0:
            raise NotPositiveDefinite(j)
        d = row_j[j] = ctx.sqrt(s)
        for i in range(j + 1, n):
            row_i = factor[i]
            row_i[j] = (rows[i][j] - ctx.fdot((row_i[k], row_j[k]) for k in range(j))) / d
    return factor


def householder_qr(ctx: mpmath.MPContext, rows: Sequence[Sequence[Any]]) -> tuple[Rows, list[Any]]:
    """LAPACK geqrf: R on and above the diagonal, reflector vectors below it, and the reflectors' tau.

    Reflector j maps column j's alpha, x to beta = -sign(alpha) * hypot(alpha, |x|) (sign(0) = +), or is the
    identity (tau = 0, beta = alpha) when x = 0, as LAPACK's dlarfg.
    """
    a = [list(row) for row in rows]
    m, n = len(a), len(a[0]) if a else 0
    taus = []
    for j in range(min(m, n)):
        alpha = a[j][j]
        xnorm = ctx.sqrt(ctx.fdot((a[i][j], a[i][j]) for i in range(j + 1, m)))
        if xnorm == 0:
            taus.append(ctx.zero)
            continue
        beta = ctx.hypot(alpha, xnorm)
        beta = -beta if alpha >= 0 else beta
        tau = (beta - alpha) / beta
        scale = 1 / (alpha - beta)
        for i in range(j + 1, m):
            a[i][j] *= scale
        a[j][j] = beta
        taus.append(tau)
        for c in range(j + 1, n):  # apply H = I - tau v v^T, v = (1, a[j+1:, j])
            w = a[j][c] + ctx.fdot((a[i][j], a[i][c]) for i in range(j + 1, m))
            if w:
                a[j][c] -= tau * w
                for i in range(j + 1, m):
                    a[i][c] -= tau * a[i][j] * w
    return a, taus


def q_from_householder(ctx: mpmath.MPContext, a: Sequence[Sequence[Any]], taus: Sequence[Any], columns: int) -> Rows:
    """The first `columns` columns of Q = H_0 H_1 ... H_{k-1} (LAPACK orgqr)."""
    m = len(a)
    q: Rows = [[ctx.one if i == c else ctx.zero for c in range(columns)] for i in range(m)]
    for j in reversed(range(len(taus))):
        tau = taus[j]
        if tau == 0:
            continue
        v = [ctx.one] + [a[i][j] for i in range(j + 1, m)]
        for c in range(columns):
            w = ctx.fdot((v[i - j], q[i][c]) for i in range(j, m))
            if w:
                for i in range(j, m):
                    q[i][c] -= tau * v[i - j] * w
    return q


def _columns_of(matrix: Any) -> Rows:
    return [[matrix[i, j] for i in range(matrix.rows)] for j in range(matrix.cols)]


def symmetric_eigen(
    ctx: mpmath.MPContext, rows: Sequence[Sequence[Any]], *, vectors: bool = True
) -> tuple[list[Any], Rows | None]:
    """Eigenvalues ascending and (if `vectors`) eigenvectors as the columns of a rows list, each with its
    largest-magnitude component positive. `rows` must be symmetric."""
    n = len(rows)
    if n == 0:
        return [], [] if vectors else None
    try:
        result = ctx.eigsy(ctx.matrix([list(r) for r in rows]), eigvals_only=not vectors)
    except RuntimeError as exc:  # mpmath: "no convergence to an eigenvalue after ... iterations"
        raise LinAlgError("Eigenvalues did not converge") from exc
    values_matrix, vector_matrix = (result, None) if not vectors else result
    values = [values_matrix[i] for i in range(n)]
    order = sorted(range(n), key=lambda i: values[i])
    if not vectors:
        return [values[i] for i in order], None
    columns = _columns_of(vector_matrix)
    fixed = []
    for i in order:
        sign = sign_fixed(ctx, columns[i])
        fixed.append([x if sign > 0 else -x for x in columns[i]])
    return [values[i] for i in order], transpose(fixed)


def svd(
    ctx: mpmath.MPContext, rows: Sequence[Sequence[Any]], *, full_matrices: bool, compute_uv: bool
) -> tuple[Rows, list[Any], Rows] | list[Any]:
    """Singular values descending; U's columns with their largest-magnitude component positive, Vh's rows
    flipped to match (extra columns/rows of full matrices fixed the same way on their own)."""
    m, n = len(rows), len(rows[0]) if rows else 0
    k = min(m, n)
    if k == 0:
        if not compute_uv:
            return []
        u = [[ctx.one if i == j else ctx.zero for j in range(m if full_matrices else 0)] for i in range(m)]
        vh_rows = n if full_matrices else 0
        return u, [], [[ctx.one if i == j else ctx.zero for j in range(n)] for i in range(vh_rows)]
    try:
        result = ctx.svd_r(ctx.matrix([list(r) for r in rows]), full_matrices=full_matrices, compute_uv=compute_uv)
    except RuntimeError as exc:  # mpmath: "svd: no convergence to an eigenvalue after ... iterations"
        raise LinAlgError("SVD did not converge") from exc
    s_matrix = result[1] if compute_uv else result
    s = [s_matrix[i] for i in range(k)]
    order = sorted(range(k), key=lambda i: -s[i])
    if not compute_uv:
        return [s[i] for i in order]
    u_columns, vh = _columns_of(result[0]), [[result[2][i, j] for j in range(n)] for i in range(result[2].rows)]
    u_sorted, vh_sorted = [], []
    for i in order:
        sign = sign_fixed(ctx, u_columns[i])
        u_sorted.append([x if sign > 0 else -x for x in u_columns[i]])
        vh_sorted.append([x if sign > 0 else -x for x in vh[i]])
    for column in u_columns[k:]:
        sign = sign_fixed(ctx, column)
        u_sorted.append([x if sign > 0 else -x for x in column])
    for row in vh[k:]:
        sign = sign_fixed(ctx, row)
        vh_sorted.append([x if sign > 0 else -x for x in row])
    return transpose(u_sorted), [s[i] for i in order], vh_sorted

"""High-precision twins of numpy.linalg's decompositions and least squares.

eigh, eigvalsh, svd, svdvals, qr, lstsq, pinv, matrix_rank: numpy's signatures, stacks, result types
(EighResult, SVDResult, QRResult) and errors. Conventions (ordering, signs, default cut-offs) are those
listed in :mod:`pytest_gradcheck.hp.twins.linalg.registrations`.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
from numpy.linalg._linalg import EighResult, EigResult, QRResult, SVDResult

from pytest_gradcheck.hp.twins.linalg import kernels
from pytest_gradcheck.hp.twins.linalg.matrices import (
    FLOAT64_EPS,
    LinAlgError,
    as_hp,
    assert_stacked_2d,
    assert_stacked_square,
    eye,
    finish,
    from_rows,
    guarded,
    map_matrices,
    map_stacks,
    prepare,
    sign_fixed,
)

__all__ = [
    "eig", "eigh", "eigvals", "eigvalsh", "lstsq", "matrix_rank", "pinv", "qr", "singular_values", "svd", "svdvals",
]

_UNSET: Any = object()  # pinv's rtol default: distinguishes "not given" from an explicit None, as numpy does


def _symmetric(m: np.ndarray, uplo: str) -> kernels.Rows:
    """The symmetric matrix defined by one triangle of m ('L': lower, 'U': upper), the other ignored."""
    n = m.shape[0]
    if uplo == "L":
        return [[m[max(i, j), min(i, j)] for j in range(n)] for i in range(n)]
    return [[m[min(i, j), max(i, j)] for j in range(n)] for i in range(n)]


def _checked_uplo(uplo: Any) -> str:
    if uplo not in ("L", "U"):
        raise ValueError("UPLO argument must be 'L' or 'U'")
    return uplo


def _eigh(ctx: Any, m: np.ndarray, uplo: str) -> EighResult:
    values, vectors = kernels.symmetric_eigen(ctx, _symmetric(m, uplo))
    n = m.shape[0]
    return EighResult(from_rows([values], (1, n))[0], from_rows(vectors, (n, n)))


def eigh(a: Any, UPLO: str = "L") -> EighResult:
    """numpy.linalg.eigh at high precision: eigenvalues ascending; each eigenvector (column) with its
    largest-magnitude component positive. Reads only the UPLO triangle."""
    uplo = _checked_uplo(UPLO)
    ctx, (a,) = prepare("numpy.linalg.eigh", ("a", a))
    assert_stacked_square(a)
    with guarded(ctx):
        out = map_matrices(lambda m: _eigh(ctx, m, uplo), a, ctx)
    return finish(out)


def _eigvalsh(ctx: Any, m: np.ndarray, uplo: str) -> np.ndarray:
    values, _ = kernels.symmetric_eigen(ctx, _symmetric(m, uplo), vectors=False)
    return from_rows([values], (1, m.shape[0]))[0]


def eigvalsh(a: Any, UPLO: str = "L") -> np.ndarray:
    """numpy.linalg.eigvalsh at high precision: eigenvalues ascending."""
    uplo = _checked_uplo(UPLO)
    ctx, (a,) = prepare("numpy.linalg.eigvalsh", ("a", a))
    assert_stacked_square(a)
    with guarded(ctx):
        out = map_matrices(lambda m: _eigvalsh(ctx, m, uplo), a, ctx)
    return finish(out)


def _vector(values: list[Any]) -> np.ndarray:
    return from_rows([values], (1, len(values)))[0]


def _eig(ctx: Any, m: np.ndarray, vectors: bool, function: str) -> Any:
    """Real eigenvalues ascending and unit eigenvectors (largest-magnitude component positive)."""
    n = m.shape[0]
    if n == 0:
        return EigResult(_vector([]), from_rows([], (0, 0))) if vectors else _vector([])
    try:
        result = ctx.eig(ctx.matrix(m.tolist()), left=False, right=vectors)
    except RuntimeError as exc:  # mpmath: no convergence
        raise LinAlgError("Eigenvalues did not converge") from exc
    values, right = (result if vectors else (result, None))
    if any(hasattr(v, "_mpc_") and v.imag != 0 for v in values):
        raise ValueError(f"{function}: the matrix has complex eigenvalues; high-precision evaluation supports "
                         "real results only")
    values = [v.real if hasattr(v, "_mpc_") else v for v in values]
    order = sorted(range(n), key=lambda i: values[i])
    if not vectors:
        return _vector([values[i] for i in order])
    columns = []
    for i in order:
        column = [right[r, i].real if hasattr(right[r, i], "_mpc_") else right[r, i] for r in range(n)]
        length = ctx.sqrt(ctx.fdot((x, x) for x in column)) * sign_fixed(ctx, column)
        columns.append([x / length for x in column])
    return EigResult(_vector([values[i] for i in order]), from_rows(kernels.transpose(columns), (n, n)))


def eig(a: Any) -> EigResult:
    """numpy.linalg.eig at high precision, for matrices with real eigenvalues (ValueError otherwise):
    eigenvalues ascending (numpy's order is LAPACK's), unit eigenvectors with the largest-magnitude
    component positive."""
    ctx, (a,) = prepare("numpy.linalg.eig", ("a", a))
    assert_stacked_square(a)
    with guarded(ctx):
        out = map_matrices(lambda m: _eig(ctx, m, True, "numpy.linalg.eig"), a, ctx)
    return finish(out)


def eigvals(a: Any) -> np.ndarray:
    """numpy.linalg.eigvals at high precision, for matrices with real eigenvalues: ascending."""
    ctx, (a,) = prepare("numpy.linalg.eigvals", ("a", a))
    assert_stacked_square(a)
    with guarded(ctx):
        out = map_matrices(lambda m: _eig(ctx, m, False, "numpy.linalg.eigvals"), a, ctx)
    return finish(out)


def _svd(ctx: Any, m: np.ndarray, full_matrices: bool, compute_uv: bool) -> Any:
    rows, (mm, nn) = m.tolist(), m.shape
    result = kernels.svd(ctx, rows, full_matrices=full_matrices, compute_uv=compute_uv)
    if not compute_uv:
        return _vector(result)  # type: ignore[arg-type]
    u, s, vh = result
    k = min(mm, nn)
    return SVDResult(from_rows(u, (mm, mm if full_matrices else k)), _vector(s),
                     from_rows(vh, (nn if full_matrices else k, nn)))


def _svd_hermitian(ctx: Any, m: np.ndarray, compute_uv: bool) -> Any:
    """numpy's hermitian branch: |eigenvalues| descending, the eigenvalues' signs moved into Vh."""
    n = m.shape[0]
    values, vectors = kernels.symmetric_eigen(ctx, _symmetric(m, "L"), vectors=compute_uv)
    order = sorted(range(n), key=lambda i: abs(values[i]))[::-1]  # numpy: argsort(s)[::-1]
    s = [abs(values[i]) for i in order]
    if not compute_uv:
        return _vector(sorted((abs(v) for v in values), reverse=True))
    u = [[vectors[r][i] for i in order] for r in range(n)]  # type: ignore[index]
    signs = [-1 if values[i] < 0 else 1 for i in order]
    vt = [[u[r][c] * signs[c] for r in range(n)] for c in range(n)]
    return SVDResult(from_rows(u, (n, n)), _vector(s), from_rows(vt, (n, n)))


def singular_values(ctx: Any, a: np.ndarray, hermitian: bool = False) -> np.ndarray:
    """Singular values (descending) of a stack of converted matrices; call under `guarded`."""
    if hermitian:
        assert_stacked_square(a)
        return map_matrices(lambda m: _svd_hermitian(ctx, m, False), a, ctx)
    assert_stacked_2d(a)
    return map_matrices(lambda m: _svd(ctx, m, False, False), a, ctx)


def svd(a: Any, full_matrices: bool = True, compute_uv: bool = True, hermitian: bool = False) -> Any:
    """numpy.linalg.svd at high precision: singular values descending; U's columns with their largest-magnitude
    component positive and Vh's rows matched. hermitian=True follows numpy's eigh-based branch."""
    ctx, (a,) = prepare("numpy.linalg.svd", ("a", a))
    with guarded(ctx):
        if hermitian:
            assert_stacked_square(a)
            out = map_matrices(lambda m: _svd_hermitian(ctx, m, compute_uv), a, ctx)
        else:
            assert_stacked_2d(a)
            out = map_matrices(lambda m: _svd(ctx, m, full_matrices, compute_uv), a, ctx)
    return finish(out)


def svdvals(x: Any, /) -> np.ndarray:
    """numpy.linalg.svdvals at high precision."""
    ctx, (x,) = prepare("numpy.linalg.svdvals", ("x", x))
    with guarded(ctx):
        out = singular_values(ctx, x)
    return finish(out)


_DEPRECATED_QR_MODES = {
    "f": ("reduced", "The 'full' option is deprecated in favor of 'reduced'.\n"
                     "For backward compatibility let mode default."),
    "full": ("reduced", "The 'full' option is deprecated in favor of 'reduced'.\n"
                        "For backward compatibility let mode default."),
    "e": ("economic", "The 'economic' option is deprecated."),
    "economic": ("economic", "The 'economic' option is deprecated."),
}


def _qr(ctx: Any, m: np.ndarray, mode: str) -> Any:
    rows, (mm, nn) = m.tolist(), m.shape
    k = min(mm, nn)
    h, taus = kernels.householder_qr(ctx, rows)
    if mode == "raw":
        return from_rows(kernels.transpose(h), (nn, mm)), _vector(taus)
    if mode == "economic":
        return from_rows(h, (mm, nn))
    columns = mm if mode == "complete" and mm > nn else k
    r = [[h[i][j] if j >= i else ctx.zero for j in range(nn)] for i in range(columns)]
    if mode == "r":
        return from_rows(r, (columns, nn))
    q = kernels.q_from_householder(ctx, h, taus, columns)
    return QRResult(from_rows(q, (mm, columns)), from_rows(r, (columns, nn)))


def qr(a: Any, mode: str = "reduced") -> Any:
    """numpy.linalg.qr at high precision, with LAPACK's Householder signs (the same Q and R as numpy)."""
    if mode not in ("reduced", "complete", "r", "raw"):
        if mode not in _DEPRECATED_QR_MODES:
            raise ValueError(f"Unrecognized mode '{mode}'")
        mode, message = _DEPRECATED_QR_MODES[mode]
        warnings.warn(message, DeprecationWarning, stacklevel=2)
    ctx, (a,) = prepare("numpy.linalg.qr", ("a", a))
    assert_stacked_2d(a)
    with guarded(ctx):
        out = map_matrices(lambda m: _qr(ctx, m, mode), a, ctx)
    return finish(out)


def _pseudo_solve(ctx: Any, u: np.ndarray, s: np.ndarray, vh: np.ndarray, cutoff: Any, rhs: np.ndarray
                  ) -> tuple[np.ndarray, int]:
    """V diag(1/s_i for s_i > cutoff) U^T rhs, and the number of singular values kept."""
    kept = [i for i in range(len(s)) if s[i] > cutoff]
    n, k = vh.shape[1], rhs.shape[1]
    coefficients = [[ctx.fdot((u[r, i], rhs[r, c]) for r in range(u.shape[0])) / s[i] for c in range(k)]
                    for i in kept]
    x = [[ctx.fdot((vh[i, j], coefficients[t][c]) for t, i in enumerate(kept)) for c in range(k)]
         for j in range(n)]
    return from_rows(x, (n, k)), len(kept)


def lstsq(a: Any, b: Any, rcond: Any = None) -> tuple[np.ndarray, np.ndarray, int, np.ndarray]:
    """numpy.linalg.lstsq at high precision: (x, residuals, rank, s). Singular values at or below
    rcond * max(s) count as zero; rcond=None means float64 eps * max(M, N), as numpy."""
    ctx, (a, b) = prepare("numpy.linalg.lstsq", ("a", a), ("b", b))
    is_1d = b.ndim == 1
    if is_1d:
        b = b[:, np.newaxis]
    for operand in (a, b):
        if operand.ndim != 2:
            raise LinAlgError(f"{operand.ndim}-dimensional array given. Array must be two-dimensional")
    (m, n), (m2, k) = a.shape, b.shape
    if m != m2:
        raise LinAlgError("Incompatible dimensions")
    if rcond is None:
        rcond = FLOAT64_EPS * max(n, m)
    elif rcond < 0:
        rcond = FLOAT64_EPS  # LAPACK gelsd: a negative rcond means machine precision
    with guarded(ctx):
        u, s, vh = _svd(ctx, a, False, True)
        cutoff = as_hp(rcond, ctx, "numpy.linalg.lstsq", "rcond")[()] * (s[0] if len(s) else 0)
        x, rank = _pseudo_solve(ctx, u, s, vh, cutoff, b)
        residuals = np.empty((0,), dtype=object)
        if rank == n and m > n:
            r = b - np.matmul(a, x)
            residuals = _vector([ctx.fdot((r[i, c], r[i, c]) for i in range(m)) for c in range(k)])
    if is_1d:
        x = x[:, 0]
    return finish(x), finish(residuals), rank, finish(s)


def pinv(a: Any, rcond: Any = None, hermitian: bool = False, *, rtol: Any = _UNSET) -> np.ndarray:
    """numpy.linalg.pinv at high precision, with numpy's rcond/rtol defaults (1e-15, or float64 eps * max(M, N)
    when rtol=None)."""
    ctx, (a,) = prepare("numpy.linalg.pinv", ("a", a))
    if rcond is None:
        rcond = 1e-15 if rtol is _UNSET else max(a.shape[-2:]) * FLOAT64_EPS if rtol is None else rtol
    elif rtol is not _UNSET:
        raise ValueError("`rtol` and `rcond` can't be both set.")
    (assert_stacked_square if hermitian else assert_stacked_2d)(a)
    rcond = as_hp(rcond, ctx, "numpy.linalg.pinv", "rcond")
    m, n = a.shape[-2:]
    if a.size == 0:
        return np.empty((*a.shape[:-2], n, m), dtype=object)

    def one(matrix: np.ndarray, relative: Any) -> np.ndarray:
        relative = relative[()] if isinstance(relative, np.ndarray) else relative
        u, s, vh = _svd_hermitian(ctx, matrix, True) if hermitian else _svd(ctx, matrix, False, True)
        return _pseudo_solve(ctx, u, s, vh, relative * max(s), eye(ctx, m))[0]

    with guarded(ctx):
        out = map_stacks(one, ctx, (a, 2), (rcond, 0))
    return finish(out)


def matrix_rank(A: Any, tol: Any = None, hermitian: bool = False, *, rtol: Any = None) -> Any:
    """numpy.linalg.matrix_rank at high precision (an int, or an int array for a stack); the default tolerance
    is max(s) * max(M, N) * float64 eps, as numpy."""
    if rtol is not None and tol is not None:
        raise ValueError("`tol` and `rtol` can't be both set.")
    ctx, (a,) = prepare("numpy.linalg.matrix_rank", ("A", A))
    if a.ndim < 2:
        return int(not all(x == 0 for x in a.ravel().tolist()))
    relative = tol is None
    limit = (max(a.shape[-2:]) * FLOAT64_EPS if rtol is None else rtol) if relative else tol
    limit = as_hp(limit, ctx, "numpy.linalg.matrix_rank", "rtol" if relative else "tol")
    (assert_stacked_square if hermitian else assert_stacked_2d)(a)

    def one(matrix: np.ndarray, bound: Any) -> int:
        bound = bound[()] if isinstance(bound, np.ndarray) else bound
        s = (_svd_hermitian(ctx, matrix, False) if hermitian else _svd(ctx, matrix, False, False)).tolist()
        threshold = bound * max(s, default=0) if relative else bound
        return sum(1 for x in s if x > threshold)

    with guarded(ctx):
        return map_stacks(one, ctx, (a, 2), (limit, 0))

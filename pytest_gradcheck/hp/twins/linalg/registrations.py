"""High-precision numpy.linalg and scipy.linalg: importing this module registers the twins.

numpy.linalg functions dispatch through ``__array_function__`` (`hp_registry.register_function`);
scipy.linalg functions do not dispatch and are patched in while high-precision evaluations run
(`hp_registry.register_patched`; registering never imports scipy). Each twin takes the function's own
arguments (numpy/scipy names and defaults), loops over stacked "...xMxN" batches and returns the same
structure (an mpf for one matrix's det, SlogdetResult, EighResult, SVDResult, QRResult, lstsq's 4-tuple),
as object arrays of the inputs' own context's ``mpf``: computed with 24 guard bits and rounded back, real
inputs giving real outputs (complex input or a complex result raises). ``mpmath.mp`` is never used.

Conventions, chosen so that every result is a continuous function of the input wherever the mathematical
object is (the twins are differenced at x +- h u with h ~ 1e-13):

- Eigenvalues (eigh, eigvalsh) ascending, as numpy. Each eigenvector has its largest-magnitude component
  positive (components within 256 ulps of the largest count as tied; the first decides). numpy's LAPACK
  signs are arbitrary, so the vectors agree with numpy's up to the sign of each column.
- SVD: singular values descending; each column of U has its largest-magnitude component positive and the
  matching row of Vh carries the same sign (U diag(s) Vh = A). Extra columns of a full U and rows of a full
  Vh (a basis of a null space, unique only up to rotation) get the same sign rule on their own.
  ``hermitian=True`` follows numpy's branch: |eigenvalues| descending, signs moved into Vh.
- QR: LAPACK's Householder reflectors (R[j, j] = -sign(alpha) * |column|, tau = 0 for an already-zero
  column), so Q, R, mode='raw' and mode='r' equal numpy's, signs included.
- Cholesky, eigh/eigvalsh (UPLO) and scipy's triangle/assume_a options read only the entries numpy's and
  scipy's LAPACK calls read; the other triangle does not influence the result (its derivative is zero).
- Singular: an exactly zero LU pivot raises ``LinAlgError("Singular matrix")`` (inv, solve; numpy's
  message) and makes det 0 and slogdet (0, -inf); a nearly singular matrix is solved at high precision.
- Rank cut-offs (lstsq, pinv, matrix_rank) use numpy's defaults in float64 terms: rcond=None is
  float64 eps * max(M, N) and pinv's default is 1e-15, so the high-precision result is the same
  function of the input as numpy's, with the same rank decisions.
- Not routed because numpy's own code already works on object arrays: trace, outer, cross, diagonal,
  matmul, matrix_transpose, tensordot, vecdot, multi_dot.
- eig/eigvals: matrices with real eigenvalues only (complex ones raise ValueError); eigenvalues ascending
  (numpy's order is LAPACK's, not sorted), unit eigenvectors with the sign rule above.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from pytest_gradcheck.hp import registry as hp_registry
from pytest_gradcheck.hp.twins.linalg.decompositions import (
    eig,
    eigh,
    eigvals,
    eigvalsh,
    lstsq,
    matrix_rank,
    pinv,
    qr,
    svd,
    svdvals,
)
from pytest_gradcheck.hp.twins.linalg.norms import cond, matrix_norm, norm, vector_norm
from pytest_gradcheck.hp.twins.linalg.scipy_linalg import (
    cho_factor,
    cho_solve,
    lu_factor,
    lu_solve,
    solve_banded,
    solve_triangular,
)
from pytest_gradcheck.hp.twins.linalg.scipy_linalg import cholesky as scipy_cholesky
from pytest_gradcheck.hp.twins.linalg.scipy_linalg import det as scipy_det
from pytest_gradcheck.hp.twins.linalg.scipy_linalg import inv as scipy_inv
from pytest_gradcheck.hp.twins.linalg.scipy_linalg import solve as scipy_solve
from pytest_gradcheck.hp.twins.linalg.scipy_matfuncs import expm, logm, solve_sylvester, sqrtm
from pytest_gradcheck.hp.twins.linalg.solvers import (
    cholesky,
    det,
    inv,
    matrix_power,
    slogdet,
    solve,
    tensorinv,
    tensorsolve,
)

__all__ = ["NUMPY_TWINS", "SCIPY_TWINS", "register"]

NUMPY_TWINS: dict[str, Callable[..., Any]] = {
    f"numpy.linalg.{twin.__name__}": twin
    for twin in (
        det, slogdet, inv, solve, cholesky, matrix_power, tensorsolve, tensorinv,
        eig, eigvals, eigh, eigvalsh, svd, svdvals, qr, lstsq, pinv, matrix_rank,
        norm, vector_norm, matrix_norm, cond,
    )
}

SCIPY_TWINS: dict[str, Callable[..., Any]] = {
    "scipy.linalg.solve_triangular": solve_triangular,
    "scipy.linalg.solve_banded": solve_banded,
    "scipy.linalg.cho_factor": cho_factor,
    "scipy.linalg.cho_solve": cho_solve,
    "scipy.linalg.lu_factor": lu_factor,
    "scipy.linalg.lu_solve": lu_solve,
    "scipy.linalg.cholesky": scipy_cholesky,
    "scipy.linalg.det": scipy_det,
    "scipy.linalg.inv": scipy_inv,
    "scipy.linalg.solve": scipy_solve,
    "scipy.linalg.sqrtm": sqrtm,
    "scipy.linalg.expm": expm,
    "scipy.linalg.logm": logm,
    "scipy.linalg.solve_sylvester": solve_sylvester,
}


def _naming(name: str, twin: Callable[..., Any]) -> Callable[..., Any]:
    """`twin`, with any exception it raises marked ``hp_function = name``: a high-precision evaluation that
    fails in it ("complex eigenvalues", a singular matrix) then names the numpy/scipy function the user called."""

    @functools.wraps(twin)
    def call(*args: Any, **kwargs: Any) -> Any:
        try:
            return twin(*args, **kwargs)
        except Exception as exc:  # always re-raised: only labelled with the function the user called
            if getattr(exc, "hp_function", None) is None:
                exc.hp_function = name  # type: ignore[attr-defined]
            raise

    return call


def register() -> None:
    """Register every twin (idempotent; runs at import)."""
    for name, twin in NUMPY_TWINS.items():
        hp_registry.register_function(name, _naming(name, twin))
    for name, twin in SCIPY_TWINS.items():
        hp_registry.register_patched(name, _naming(name, twin))


register()

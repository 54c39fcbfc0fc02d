"""High-precision numpy.linalg and scipy.linalg: the `TWINS` mapping of the linear-algebra family.

numpy.linalg functions dispatch through ``__array_function__`` (function twins); scipy.linalg functions do not
dispatch and are patched in while high-precision evaluations run (patched twins; registering never imports
scipy). To add a function, add its line to `TWINS` (and its kernel to a module of this package). Each twin
takes the function's own arguments (numpy/scipy names and defaults), loops over stacked "...xMxN" batches and
returns the same structure (an mpf for one matrix's det, SlogdetResult, EighResult, SVDResult, QRResult,
lstsq's 4-tuple), as object arrays of the inputs' own context's ``mpf``: computed with 24 guard bits and
rounded back, real inputs giving real outputs (complex input or a complex result raises). ``mpmath.mp`` is
never used.

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

from pytest_gradcheck.hp.registry import Twin, function_twin, patched_twin
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

__all__ = ["TWINS"]


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


def _labelled(twins: dict[str, Twin]) -> dict[str, Twin]:
    """Each entry's twin wrapped by `_naming` with its own dotted name."""
    return {name: entry._replace(twin=_naming(name, entry.twin)) for name, entry in twins.items()}


TWINS: dict[str, Twin] = _labelled({
    "numpy.linalg.det": function_twin(det),
    "numpy.linalg.slogdet": function_twin(slogdet),
    "numpy.linalg.inv": function_twin(inv),
    "numpy.linalg.solve": function_twin(solve),
    "numpy.linalg.cholesky": function_twin(cholesky),
    "numpy.linalg.matrix_power": function_twin(matrix_power),
    "numpy.linalg.tensorsolve": function_twin(tensorsolve),
    "numpy.linalg.tensorinv": function_twin(tensorinv),
    "numpy.linalg.eig": function_twin(eig),
    "numpy.linalg.eigvals": function_twin(eigvals),
    "numpy.linalg.eigh": function_twin(eigh),
    "numpy.linalg.eigvalsh": function_twin(eigvalsh),
    "numpy.linalg.svd": function_twin(svd),
    "numpy.linalg.svdvals": function_twin(svdvals),
    "numpy.linalg.qr": function_twin(qr),
    "numpy.linalg.lstsq": function_twin(lstsq),
    "numpy.linalg.pinv": function_twin(pinv),
    "numpy.linalg.matrix_rank": function_twin(matrix_rank),
    "numpy.linalg.norm": function_twin(norm),
    "numpy.linalg.vector_norm": function_twin(vector_norm),
    "numpy.linalg.matrix_norm": function_twin(matrix_norm),
    "numpy.linalg.cond": function_twin(cond),
    "scipy.linalg.solve_triangular": patched_twin(solve_triangular),
    "scipy.linalg.solve_banded": patched_twin(solve_banded),
    "scipy.linalg.cho_factor": patched_twin(cho_factor),
    "scipy.linalg.cho_solve": patched_twin(cho_solve),
    "scipy.linalg.lu_factor": patched_twin(lu_factor),
    "scipy.linalg.lu_solve": patched_twin(lu_solve),
    "scipy.linalg.cholesky": patched_twin(scipy_cholesky),
    "scipy.linalg.det": patched_twin(scipy_det),
    "scipy.linalg.inv": patched_twin(scipy_inv),
    "scipy.linalg.solve": patched_twin(scipy_solve),
    "scipy.linalg.sqrtm": patched_twin(sqrtm),
    "scipy.linalg.expm": patched_twin(expm),
    "scipy.linalg.logm": patched_twin(logm),
    "scipy.linalg.solve_sylvester": patched_twin(solve_sylvester),
})

"""High-precision twins of ``scipy.stats.multivariate_normal`` (pdf, logpdf, entropy) and ``scipy.stats.dirichlet``
(pdf, logpdf).

They parse and validate their arguments as scipy does (shapes of ``x``, ``mean``, ``cov`` and ``alpha``,
the same errors), and return ``mpf`` scalars or plain object arrays of ``mpf``, squeezed as scipy squeezes.
The normal's log-density uses a Cholesky factor of ``cov`` at the working precision (`hp_kernels`, lower
triangle as scipy's ``eigh``); a covariance that is not positive definite raises ``LinAlgError`` (scipy
also accepts singular ones with ``allow_singular=True``, through a pseudo-determinant not supported here).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from pytest_gradcheck.hp import registry as hp_registry
from pytest_gradcheck.hp.registry import Twin, patched_twin
from pytest_gradcheck.hp.twins.linalg.kernels import NotPositiveDefinite, cholesky
from pytest_gradcheck.hp.twins.special.arrays import apply, as_hp
from pytest_gradcheck.hp.twins.special.kernels import KERNELS

__all__ = ["TWINS", "dirichlet_logpdf", "dirichlet_pdf", "mvn_entropy", "mvn_logpdf", "mvn_pdf"]

_gammaln, _xlogy = KERNELS["scipy.special.gammaln"], KERNELS["scipy.special.xlogy"]
_SIMPLEX_TOLERANCE = 10e-10  # scipy's: |sum(x) - 1| above it is not on the simplex


def _context(name: str, *values: Any) -> Any:
    ctx = hp_registry.context_of(*values)
    if ctx is None:
        raise TypeError(f"{name}: expected at least one high-precision (mpf) argument")
    return ctx


def _squeeze(out: np.ndarray) -> Any:
    out = out.squeeze()
    return out[()] if out.ndim == 0 else out


# ---------------------------------------------------------------- multivariate_normal


def _mvn_parameters(ctx: Any, mean: Any, cov: Any) -> tuple[int, np.ndarray, np.ndarray]:
    """scipy's _process_parameters_psd: the dimension, mean (dim,) and cov (dim, dim)."""
    if mean is None:
        dim = 1 if cov is None or np.ndim(cov) < 2 else np.shape(cov)[0]
        mean = np.zeros(dim)
    mean = as_hp(mean, ctx, "multivariate_normal: mean")
    dim = mean.size
    cov = as_hp(1.0 if cov is None else cov, ctx, "multivariate_normal: cov")
    if dim == 1:
        mean, cov = mean.reshape(1), cov.reshape(1, 1)
    if mean.ndim != 1 or mean.shape[0] != dim:
        raise ValueError(f"Array 'mean' must be a vector of length {dim}.")
    if cov.ndim == 0:
        cov = np.array([[cov[()] if i == j else ctx.zero for j in range(dim)] for i in range(dim)], dtype=object)
    elif cov.ndim == 1:
        cov = np.array([[cov[i] if i == j else ctx.zero for j in range(dim)] for i in range(dim)], dtype=object)
    elif cov.ndim == 2 and cov.shape != (dim, dim):
        rows, cols = cov.shape
        if rows != cols:
            raise ValueError(f"Array 'cov' must be square if it is two dimensional, but cov.shape = {cov.shape}.")
        raise ValueError(f"Dimension mismatch: array 'cov' is of shape {cov.shape}, "
                         f"but 'mean' is a vector of length {dim}.")
    elif cov.ndim > 2:
        raise ValueError(f"Array 'cov' must be at most two-dimensional, but cov.ndim = {cov.ndim}")
    return dim, mean, cov


def _mvn_quantiles(x: np.ndarray, dim: int) -> np.ndarray:
    """scipy's _process_quantiles: points along the last axis."""
    if x.ndim == 0:
        return x[np.newaxis]
    if x.ndim == 1:
        return x[:, np.newaxis] if dim == 1 else x[np.newaxis, :]
    return x


def _mvn_logpdf(x: Any, mean: Any, cov: Any, allow_singular: bool) -> np.ndarray:
    """The log-densities before squeezing: shape x.shape[:-1] after _process_quantiles."""
    ctx = _context("multivariate_normal", x, mean, cov)
    dim, mean, cov = _mvn_parameters(ctx, mean, cov)
    x = _mvn_quantiles(as_hp(x, ctx, "multivariate_normal: x"), dim)
    if x.shape[-1] != dim:
        raise ValueError(f"multivariate_normal: x: expected points of dimension {dim} along the last axis, "
                         f"got shape {x.shape}")
    factor = _cholesky(ctx, cov, allow_singular)
    constant = dim * ctx.ln(2 * ctx.pi) + _log_det(ctx, factor)
    out = [-(constant + _mahalanobis(ctx, factor, [p - m for p, m in zip(point, mean, strict=True)])) / 2
           for point in x.reshape(-1, dim).tolist()]
    return np.array(out, dtype=object).reshape(x.shape[:-1])


def _cholesky(ctx: Any, cov: np.ndarray, allow_singular: bool) -> list[list[Any]]:
    """The lower Cholesky factor of `cov` (its lower triangle, as scipy's eigh reads)."""
    try:
        return cholesky(ctx, cov.tolist())
    except NotPositiveDefinite:
        detail = ("singular or indefinite covariances are not supported at high precision" if allow_singular
                  else "When `allow_singular is False`, the input matrix must be symmetric positive definite.")
        raise np.linalg.LinAlgError(f"multivariate_normal: cov: {detail}") from None


def _log_det(ctx: Any, factor: list[list[Any]]) -> Any:
    return 2 * ctx.fsum(ctx.ln(row[i]) for i, row in enumerate(factor))


def _mahalanobis(ctx: Any, factor: list[list[Any]], dev: list[Any]) -> Any:
    """|L^-1 dev|^2 by forward substitution."""
    w: list[Any] = []
    for i, row in enumerate(factor):
        w.append((dev[i] - ctx.fdot(zip(row[:i], w, strict=True))) / row[i])
    return ctx.fdot(zip(w, w, strict=True))


def _exp(log_values: np.ndarray) -> np.ndarray:
    return apply(lambda v: v.context.exp(v), log_values)


def mvn_logpdf(x: Any, mean: Any = None, cov: Any = 1, allow_singular: bool = False) -> Any:
    """scipy.stats.multivariate_normal.logpdf for a positive-definite `cov`."""
    return _squeeze(_mvn_logpdf(x, mean, cov, allow_singular))


def mvn_pdf(x: Any, mean: Any = None, cov: Any = 1, allow_singular: bool = False) -> Any:
    """scipy.stats.multivariate_normal.pdf for a positive-definite `cov`."""
    return _squeeze(_exp(_mvn_logpdf(x, mean, cov, allow_singular)))


def mvn_entropy(mean: Any = None, cov: Any = 1) -> Any:
    """scipy.stats.multivariate_normal.entropy for a positive-definite `cov`: (d (1 + log 2 pi) + log det) / 2."""
    ctx = _context("multivariate_normal.entropy", mean, cov)
    dim, _, cov = _mvn_parameters(ctx, mean, cov)
    return (dim * (1 + ctx.ln(2 * ctx.pi)) + _log_det(ctx, _cholesky(ctx, cov, allow_singular=True))) / 2


# ---------------------------------------------------------------- dirichlet


def _dirichlet_inputs(ctx: Any, x: Any, alpha: Any) -> tuple[np.ndarray, np.ndarray]:
    """scipy's _dirichlet_check_parameters and _dirichlet_check_input."""
    alpha = as_hp(alpha, ctx, "dirichlet: alpha")
    if min(alpha.ravel()) <= 0:
        raise ValueError("All parameters must be greater than 0")
    if alpha.ndim != 1:
        raise ValueError(f"Parameter vector 'a' must be one dimensional, but a.shape = {alpha.shape}.")
    x = as_hp(x, ctx, "dirichlet: x")
    if x.shape[0] + 1 != alpha.shape[0] and x.shape[0] != alpha.shape[0]:
        raise ValueError("Vector 'x' must have either the same number of entries as, or one entry fewer than, "
                         f"parameter vector 'a', but alpha.shape = {alpha.shape} and x.shape = {x.shape}.")
    if x.shape[0] != alpha.shape[0]:
        if x.ndim > 2:
            raise ValueError("The input must be one dimensional or a two dimensional matrix containing the entries.")
        last = np.asarray(1 - np.sum(x, axis=0), dtype=object)  # the implied last component
        x = np.concatenate([x, last[np.newaxis]], axis=0)
    if min(x.ravel()) < 0:
        raise ValueError("Each entry in 'x' must be greater than or equal to zero.")
    if max(x.ravel()) > 1:
        raise ValueError("Each entry in 'x' must be smaller or equal one.")
    lt1 = alpha.reshape((-1,) + (1,) * (x.ndim - 1)) < 1
    if np.any((x == 0) & lt1):
        raise ValueError("Each entry in 'x' must be greater than zero if its alpha is less than one.")
    sums = np.sum(x, axis=0)
    if any(abs(s - 1) > _SIMPLEX_TOLERANCE for s in np.ravel(sums)):
        raise ValueError(f"The input vector 'x' must lie within the normal simplex. but np.sum(x, 0) = {sums}.")
    return x, alpha


def _dirichlet_logpdf(x: Any, alpha: Any) -> np.ndarray:
    ctx = _context("dirichlet", x, alpha)
    x, alpha = _dirichlet_inputs(ctx, x, alpha)
    log_b = ctx.fsum(_gammaln(ctx, a) for a in alpha) - _gammaln(ctx, ctx.fsum(alpha))
    columns = x.reshape(x.shape[0], -1).T.tolist()
    out = [ctx.fsum(_xlogy(ctx, a - 1, v) for a, v in zip(alpha, column, strict=True)) - log_b for column in columns]
    return np.array(out, dtype=object).reshape(x.shape[1:])


def dirichlet_logpdf(x: Any, alpha: Any) -> Any:
    """scipy.stats.dirichlet.logpdf: components along the first axis of `x`."""
    return _squeeze(_dirichlet_logpdf(x, alpha))


def dirichlet_pdf(x: Any, alpha: Any) -> Any:
    """scipy.stats.dirichlet.pdf: components along the first axis of `x`."""
    return _squeeze(_exp(_dirichlet_logpdf(x, alpha)))


TWINS: dict[str, Twin] = {
    "scipy.stats.multivariate_normal.logpdf": patched_twin(mvn_logpdf),
    "scipy.stats.multivariate_normal.pdf": patched_twin(mvn_pdf),
    "scipy.stats.multivariate_normal.entropy": patched_twin(mvn_entropy),
    "scipy.stats.dirichlet.logpdf": patched_twin(dirichlet_logpdf),
    "scipy.stats.dirichlet.pdf": patched_twin(dirichlet_pdf),
}

"""High-precision twins of scipy.stats distribution methods, installed while high-precision evaluations run.

``scipy.stats.norm.logpdf(x, loc, scale)`` and the like do not dispatch (they call ``np.asarray`` and
scipy.special's float loops), so each method is a patched twin (`TWINS`, one entry per method of each
distribution of `CONTINUOUS`, and poisson's) under its dotted name: during a high-precision evaluation
the attribute ``logpdf`` of the object ``scipy.stats.norm`` is a wrapper that calls the twin when an
argument is high precision. (A frozen distribution,
``norm(loc, scale)``, holds its own instance and keeps scipy's methods.)

The twins follow scipy's ``rv_continuous``/``rv_discrete`` methods: shape parameters positional or by
keyword, then ``loc`` (and ``scale``), broadcast against ``x``; invalid parameters (``scale <= 0``,
``df <= 0``) or a nan argument give nan; outside the support the pdf is 0, the logpdf ``-inf`` and the
cdf 0 or 1; a scalar call returns an ``mpf``. Covered: norm (pdf, logpdf, cdf, logcdf, sf, logsf, ppf, isf),
t, gamma, beta and chi2 (pdf, logpdf, cdf, logcdf, sf, logsf), poisson (pmf, logpmf, cdf, sf); and in
`hp_stats_multivariate`, multivariate_normal (pdf, logpdf, entropy) and dirichlet (pdf, logpdf).
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from pytest_gradcheck.hp import registry as hp_registry
from pytest_gradcheck.hp.registry import Twin, patched_twin
from pytest_gradcheck.hp.twins.elementwise import elementwise, is_int
from pytest_gradcheck.hp.twins.special.arrays import apply, as_hp, scalar_or_array
from pytest_gradcheck.hp.twins.special.kernels import KERNELS, log_ndtr, ndtr, ndtri

__all__ = ["CONTINUOUS", "TWINS", "Continuous"]

_gammaln, _xlogy, _xlog1py = (KERNELS[f"scipy.special.{n}"] for n in ("gammaln", "xlogy", "xlog1py"))
_betaln, _gammainc, _gammaincc = (KERNELS[f"scipy.special.{n}"] for n in ("betaln", "gammainc", "gammaincc"))


@dataclass(frozen=True)
class Continuous:
    """A standardized continuous distribution: kernels of ``(ctx, z, *shapes)`` inside the support."""

    shapes: tuple[str, ...]
    logpdf: Callable[..., Any]
    cdf: Callable[..., Any]
    sf: Callable[..., Any]
    support: Callable[..., tuple[Any, Any]] = lambda ctx, *s: (ctx.ninf, ctx.inf)
    argcheck: Callable[..., bool] = lambda ctx, *s: all(p > 0 for p in s)  # scipy's default: shapes > 0, not nan
    overrides: dict[str, Callable[..., Any]] = field(default_factory=dict)  # pdf, logcdf, logsf, ppf, isf


def _norm_logpdf(ctx: Any, z: Any) -> Any:
    return -z * z / 2 - ctx.ln(2 * ctx.pi) / 2


def _t_logpdf(ctx: Any, z: Any, df: Any) -> Any:
    if ctx.isinf(df):
        return _norm_logpdf(ctx, z)
    # log(poch(df/2, 1/2)) as scipy; mpmath's rising factorial avoids the cancellation of two loggammas
    return ctx.ln(ctx.rf(df / 2, ctx.mpf(1) / 2)) - ctx.ln(df * ctx.pi) / 2 - (df + 1) / 2 * ctx.log1p(z * z / df)


def _t_cdf(ctx: Any, z: Any, df: Any) -> Any:
    """Student's t CDF through the regularized incomplete beta function, without cancellation near 0."""
    if ctx.isinf(df):
        return ndtr(ctx, z)
    z2 = z * z
    if z2 < df:  # 1/2 +- the central mass
        half = ctx.betainc(ctx.mpf(1) / 2, df / 2, 0, z2 / (df + z2), regularized=True) / 2
        return 1 / ctx.mpf(2) + (half if z > 0 else -half)
    tail = ctx.betainc(df / 2, ctx.mpf(1) / 2, 0, df / (df + z2), regularized=True) / 2
    return tail if z < 0 else 1 - tail


def _gamma_logpdf(ctx: Any, z: Any, a: Any) -> Any:
    return _xlogy(ctx, a - 1, z) - z - _gammaln(ctx, a)


def _beta_logpdf(ctx: Any, z: Any, a: Any, b: Any) -> Any:
    return _xlog1py(ctx, b - 1, -z) + _xlogy(ctx, a - 1, z) - _betaln(ctx, a, b)


def _chi2_logpdf(ctx: Any, z: Any, df: Any) -> Any:
    return _xlogy(ctx, df / 2 - 1, z) - z / 2 - _gammaln(ctx, df / 2) - ctx.ln2 * df / 2


def _beta_cdf(ctx: Any, z: Any, a: Any, b: Any) -> Any:
    return ctx.betainc(a, b, 0, z, regularized=True)


def _beta_sf(ctx: Any, z: Any, a: Any, b: Any) -> Any:
    return ctx.betainc(b, a, 0, 1 - z, regularized=True)


_HALF_LINE = {"support": lambda ctx, *s: (ctx.zero, ctx.inf)}

CONTINUOUS: dict[str, Continuous] = {
    "norm": Continuous(
        (), _norm_logpdf, ndtr, lambda ctx, z: ndtr(ctx, -z),
        overrides={"pdf": lambda ctx, z: ctx.npdf(z), "logcdf": log_ndtr,
                   "logsf": lambda ctx, z: log_ndtr(ctx, -z), "ppf": ndtri,
                   "isf": lambda ctx, q: -ndtri(ctx, q)}),
    "t": Continuous(("df",), _t_logpdf, _t_cdf, lambda ctx, z, df: _t_cdf(ctx, -z, df)),
    "gamma": Continuous(("a",), _gamma_logpdf, lambda ctx, z, a: _gammainc(ctx, a, z),
                        lambda ctx, z, a: _gammaincc(ctx, a, z), **_HALF_LINE),
    "beta": Continuous(("a", "b"), _beta_logpdf, _beta_cdf, _beta_sf,
                       support=lambda ctx, a, b: (ctx.zero, ctx.one)),
    "chi2": Continuous(("df",), _chi2_logpdf, lambda ctx, z, df: _gammainc(ctx, df / 2, z / 2),
                       lambda ctx, z, df: _gammaincc(ctx, df / 2, z / 2), **_HALF_LINE),
}  # fmt: skip


# outside the open support: (at or below the lower end, at or above the upper end), as scipy
_OUTSIDE = {"cdf": (0.0, 1.0), "logcdf": (-math.inf, 0.0), "sf": (1.0, 0.0), "logsf": (0.0, -math.inf)}


def _continuous_kernel(dist: Continuous, method: str) -> Callable[..., Any]:
    """The kernel of `method` inside the support: an override, else derived from logpdf, cdf and sf."""
    if method in dist.overrides:
        return dist.overrides[method]
    if method == "pdf":
        return lambda ctx, z, *s: ctx.exp(dist.logpdf(ctx, z, *s))
    if method in ("logcdf", "logsf"):
        plain, other = (dist.cdf, dist.sf) if method == "logcdf" else (dist.sf, dist.cdf)

        def log_probability(ctx: Any, z: Any, *s: Any) -> Any:
            p = plain(ctx, z, *s)
            return ctx.log1p(-other(ctx, z, *s)) if p > 0.5 else ctx.ln(p)  # near 1: no rounding to ln(1) = 0

        return log_probability
    return getattr(dist, method)


def _continuous_value(dist: Continuous, method: str) -> Callable[..., Any]:
    """``(ctx, x, *shapes, loc, scale) -> value`` of one method, with scipy's conditions around the kernel."""
    kernel = _continuous_kernel(dist, method)

    def value(ctx: Any, x: Any, *rest: Any) -> Any:
        *shapes, loc, scale = rest
        if not (dist.argcheck(ctx, *shapes) and scale > 0):
            return ctx.nan
        lo, hi = dist.support(ctx, *shapes)
        if method in ("ppf", "isf"):
            if ctx.isnan(loc) or not 0 <= x <= 1:
                return ctx.nan
            first, last = (lo, hi) if method == "ppf" else (hi, lo)
            return (first if x == 0 else last if x == 1 else kernel(ctx, x, *shapes)) * scale + loc
        z = (x - loc) / scale
        if ctx.isnan(z):
            return ctx.nan
        if method in ("pdf", "logpdf"):  # the closed support, as scipy's _support_mask
            if not lo <= z <= hi:
                return ctx.zero if method == "pdf" else ctx.ninf
            density = kernel(ctx, z, *shapes)
            return density / scale if method == "pdf" else density - ctx.ln(scale)
        if lo < z < hi:
            return kernel(ctx, z, *shapes)
        return ctx.mpf(_OUTSIDE[method][0 if z <= lo else 1])

    return value


def _poisson_value(method: str) -> Callable[..., Any]:
    """``(ctx, k, mu, loc) -> value`` of poisson's pmf, logpmf, cdf or sf, as scipy's rv_discrete."""

    def value(ctx: Any, k: Any, mu: Any, loc: Any) -> Any:
        k = k - loc
        if not mu >= 0 or ctx.isnan(k):
            return ctx.nan
        if method in ("pmf", "logpmf"):
            if k < 0 or not is_int(ctx, k):
                return ctx.zero if method == "pmf" else ctx.ninf
            log_pmf = _xlogy(ctx, k, mu) - _gammaln(ctx, k + 1) - mu
            return ctx.exp(log_pmf) if method == "pmf" else log_pmf
        if k < 0:
            return ctx.mpf(0 if method == "cdf" else 1)
        if ctx.isinf(k):
            return ctx.mpf(1 if method == "cdf" else 0)
        n = ctx.floor(k) + 1
        return _gammaincc(ctx, n, mu) if method == "cdf" else _gammainc(ctx, n, mu)

    return value


def _signature(first: str, shapes: tuple[str, ...], scale: bool) -> inspect.Signature:
    kind = inspect.Parameter.POSITIONAL_OR_KEYWORD
    parameters = [inspect.Parameter(name, kind) for name in (first, *shapes)]
    parameters.append(inspect.Parameter("loc", kind, default=0))
    if scale:
        parameters.append(inspect.Parameter("scale", kind, default=1))
    return inspect.Signature(parameters)


def _method_twin(dotted: str, signature: inspect.Signature, value: Callable[..., Any]) -> Callable[..., Any]:
    """The twin of one distribution method: scipy's argument parsing, broadcasting, elementwise `value`
    (nan and infinite arguments as `hp_elementwise.elementwise` with `nonfinite_from` handles them)."""
    twin_value = elementwise(value, nan_in_nan_out=False, nonfinite_from=dotted)

    def twin(*args: Any, **kwargs: Any) -> Any:
        try:
            bound = signature.bind(*args, **kwargs)
        except TypeError as exc:
            raise TypeError(f"{dotted}: {exc}") from None
        bound.apply_defaults()
        ctx = hp_registry.context_of(*bound.arguments.values())
        if ctx is None:
            raise TypeError(f"{dotted}: expected at least one high-precision (mpf) argument")
        arrays = [as_hp(v, ctx, f"{dotted}: {name}") for name, v in bound.arguments.items()]
        return scalar_or_array(apply(twin_value, *arrays))

    twin.__name__ = twin.__qualname__ = dotted.rpartition(".")[2]
    twin.__doc__ = f"High-precision {dotted}{signature}."
    return twin


_CONTINUOUS_METHODS = ("pdf", "logpdf", "cdf", "logcdf", "sf", "logsf")
_POISSON_METHODS = ("pmf", "logpmf", "cdf", "sf")


def _method_twins() -> dict[str, Twin]:
    """A patched twin per method of each distribution of `CONTINUOUS`, and of poisson."""
    twins: dict[str, Twin] = {}
    for name, dist in CONTINUOUS.items():
        for method in (*_CONTINUOUS_METHODS, *(m for m in ("ppf", "isf") if m in dist.overrides)):
            dotted = f"scipy.stats.{name}.{method}"
            signature = _signature("q" if method in ("ppf", "isf") else "x", dist.shapes, scale=True)
            twins[dotted] = patched_twin(_method_twin(dotted, signature, _continuous_value(dist, method)))
    for method in _POISSON_METHODS:
        dotted = f"scipy.stats.poisson.{method}"
        signature = _signature("k", ("mu",), scale=False)
        twins[dotted] = patched_twin(_method_twin(dotted, signature, _poisson_value(method)))
    return twins


# to add a distribution, add its line to CONTINUOUS: its methods follow
TWINS: dict[str, Twin] = _method_twins()

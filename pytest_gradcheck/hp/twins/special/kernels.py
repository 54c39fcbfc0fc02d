"""Kernels of scipy.special's ufuncs at high precision: ``kernel(ctx, *mpf) -> mpf`` (see `hp_elementwise`).

Each kernel checks the real domain first and returns scipy's value outside it (``nan``, or ``+-inf`` at
poles, with scipy's signs), then calls mpmath. Kernels see no nan (the twin returns scipy's own value
there), and one-argument kernels no infinity either (scipy's value: a limit or nan). Infinite arguments
of multi-argument kernels follow the mathematical limits, which can differ from scipy's conventions
(``powm1(0.5, -inf)`` is inf, scipy gives 0). The Bessel kernels are in `hp_bessel_kernels`.
"""

from __future__ import annotations

from typing import Any

from pytest_gradcheck.hp.twins.elementwise import Kernel, is_int, is_pole
from pytest_gradcheck.hp.twins.special import bessel

__all__ = ["KERNELS", "erfcinv", "log_ndtr", "ndtr", "ndtri"]


# ---------------------------------------------------------------- logistic


def _expit(ctx: Any, x: Any) -> Any:
    return 1 / (1 + ctx.exp(-x))


def _logit(ctx: Any, p: Any) -> Any:
    if p < 0 or p > 1:
        return ctx.nan
    if p == 0 or p == 1:
        return ctx.ninf if p == 0 else ctx.inf
    return ctx.ln(p) - ctx.log1p(-p)


def _log_expit(ctx: Any, x: Any) -> Any:
    return -ctx.log1p(ctx.exp(-x)) if x >= 0 else x - ctx.log1p(ctx.exp(x))


# ---------------------------------------------------------------- error function and normal distribution


def erfcinv(ctx: Any, y: Any) -> Any:
    """erfc^-1(y) for 0 < y < 2, accurate also for tiny y (1 - y formed exactly, erfinv at the extra bits)."""
    extra = max(0, -int(ctx.mag(y))) + 10  # 1 - y needs about -log2(y) more bits to keep y's digits
    with ctx.extraprec(extra):
        t = ctx.fsub(1, y, exact=True)
        value = ctx.erfinv(t)
    return +value


def _erfinv(ctx: Any, y: Any) -> Any:
    if abs(y) > 1:
        return ctx.nan
    return ctx.erfinv(y)  # +-inf at +-1


def _erfcinv(ctx: Any, y: Any) -> Any:
    if y < 0 or y > 2:
        return ctx.nan
    if y == 0 or y == 2:
        return ctx.inf if y == 0 else ctx.ninf
    return erfcinv(ctx, y)


def ndtr(ctx: Any, x: Any) -> Any:
    """The standard normal CDF."""
    return ctx.erfc(-x / ctx.sqrt(2)) / 2


def ndtri(ctx: Any, p: Any) -> Any:
    """The standard normal quantile: nan outside [0, 1], -inf at 0, inf at 1."""
    if p < 0 or p > 1:
        return ctx.nan
    if p == 0 or p == 1:
        return ctx.ninf if p == 0 else ctx.inf
    return -ctx.sqrt(2) * erfcinv(ctx, 2 * p)


def log_ndtr(ctx: Any, x: Any) -> Any:
    """log of the standard normal CDF, without cancellation in either tail."""
    if x > 0:
        return ctx.log1p(-ctx.erfc(x / ctx.sqrt(2)) / 2)
    return ctx.ln(ndtr(ctx, x))


def _ndtri_exp(ctx: Any, y: Any) -> Any:
    if y > 0:
        return ctx.nan
    if y == 0:
        return ctx.inf
    if y < -ctx.ln2:
        return ndtri(ctx, ctx.exp(y))
    return ctx.sqrt(2) * erfcinv(ctx, -2 * ctx.expm1(y))  # ndtri(1 - q) = -ndtri(q), q = 1 - exp(y) exactly


# ---------------------------------------------------------------- gamma family


def _gamma(ctx: Any, x: Any) -> Any:
    if is_pole(ctx, x):
        return ctx.inf if x == 0 else ctx.nan
    return ctx.gamma(x)


def _gammaln(ctx: Any, x: Any) -> Any:
    if is_pole(ctx, x):
        return ctx.inf
    return ctx.loggamma(x) if x > 0 else ctx.ln(abs(ctx.gamma(x)))  # log|gamma(x)|, real for x < 0


def _loggamma(ctx: Any, x: Any) -> Any:
    if x <= 0:
        return ctx.inf if x == 0 else ctx.nan
    return ctx.loggamma(x)


def _gammasgn(ctx: Any, x: Any) -> Any:
    if x >= 0:
        return ctx.mpf(1)  # scipy: +1 also at 0
    if is_int(ctx, x):
        return ctx.nan
    return ctx.mpf(-1 if int(ctx.ceil(-x)) % 2 else 1)  # Gamma < 0 on (-1, 0), (-3, -2), ...


def _digamma(ctx: Any, x: Any) -> Any:
    if is_pole(ctx, x):
        return ctx.ninf if x == 0 else ctx.nan
    return ctx.digamma(x)


def _beta(ctx: Any, a: Any, b: Any) -> Any:
    """B(a, b); at a pole of Gamma(a) (then of Gamma(b)) scipy's (cephes') limits and signs."""
    for m, n in ((a, b), (b, a)):
        if is_pole(ctx, m):
            if is_int(ctx, n) and 1 - m - n > 0:
                # the poles of Gamma(m) and Gamma(m + n) cancel: B(m, n) = (-1)^n B(1 - m - n, n)
                return (1 if int(n) % 2 == 0 else -1) * _beta(ctx, 1 - m - n, n)
            return ctx.inf
    return ctx.beta(a, b)


def _betaln(ctx: Any, a: Any, b: Any) -> Any:
    return ctx.ln(abs(_beta(ctx, a, b)))


def _gammainc(ctx: Any, a: Any, x: Any) -> Any:
    if a < 0 or x < 0 or (a == 0 and x == 0):
        return ctx.nan
    if a == 0:
        return ctx.mpf(1)
    return ctx.gammainc(a, 0, x, regularized=True)


def _gammaincc(ctx: Any, a: Any, x: Any) -> Any:
    if a < 0 or x < 0 or (a == 0 and x == 0):
        return ctx.nan
    if a == 0:
        return ctx.mpf(0)
    return ctx.gammainc(a, x, ctx.inf, regularized=True)


def _betainc(ctx: Any, a: Any, b: Any, x: Any) -> Any:
    if a < 0 or b < 0 or x < 0 or x > 1 or (a == 0 and b == 0):
        return ctx.nan
    if x == 0 or x == 1 or a == 0 or b == 0:
        return ctx.mpf(0 if x == 0 or (b == 0 and x < 1) else 1)  # a point mass at 0 (a = 0) or 1 (b = 0)
    return ctx.betainc(a, b, 0, x, regularized=True)


def _zeta_riemann(ctx: Any, x: Any) -> Any:
    return ctx.inf if x == 1 else ctx.zeta(x)


def _zeta_hurwitz(ctx: Any, x: Any, q: Any) -> Any:
    if x < 1:
        return ctx.nan
    if x == 1 or is_pole(ctx, q):
        return ctx.inf
    if q < 0 and not is_int(ctx, x):
        return ctx.nan
    if ctx.isinf(x):  # the first term (q ** -x) decides; mpmath returns 1 for every q
        return ctx.inf if q < 1 else ctx.mpf(q == 1)
    return ctx.zeta(x, q)


# ---------------------------------------------------------------- information theory and losses


def _xlogy(ctx: Any, x: Any, y: Any) -> Any:
    if x == 0:
        return ctx.mpf(0)
    return ctx.nan if y < 0 else x * ctx.ln(y)


def _xlog1py(ctx: Any, x: Any, y: Any) -> Any:
    if x == 0:
        return ctx.mpf(0)
    return ctx.nan if y < -1 else x * ctx.log1p(y)


def _entr(ctx: Any, x: Any) -> Any:
    if x <= 0:
        return ctx.mpf(0) if x == 0 else ctx.ninf
    return -x * ctx.ln(x)


def _rel_entr(ctx: Any, x: Any, y: Any) -> Any:
    if x > 0 and y > 0:
        return x * ctx.ln(x / y)
    return ctx.mpf(0) if x == 0 and y >= 0 else ctx.inf


def _kl_div(ctx: Any, x: Any, y: Any) -> Any:
    if x > 0 and y > 0:
        return x * ctx.ln(x / y) - x + y
    return y if x == 0 and y >= 0 else ctx.inf


def _huber(ctx: Any, delta: Any, r: Any) -> Any:
    if delta < 0:
        return ctx.inf
    return r * r / 2 if abs(r) <= delta else delta * (abs(r) - delta / 2)


def _pseudo_huber(ctx: Any, delta: Any, r: Any) -> Any:
    if delta <= 0:
        return ctx.inf if delta < 0 else ctx.mpf(0)
    t2 = (r / delta) ** 2
    return delta * delta * t2 / (ctx.sqrt(1 + t2) + 1)  # sqrt(1 + t2) - 1 without cancellation


# ---------------------------------------------------------------- elementary functions and Box-Cox


def _log1p(ctx: Any, x: Any) -> Any:
    return ctx.nan if x < -1 else ctx.log1p(x)


def _cbrt(ctx: Any, x: Any) -> Any:
    return ctx.cbrt(x) if x >= 0 else -ctx.cbrt(-x)


def _exprel(ctx: Any, x: Any) -> Any:
    return ctx.mpf(1) if x == 0 else ctx.expm1(x) / x


def _powm1(ctx: Any, x: Any, y: Any) -> Any:
    if y == 0 or x == 1:
        return ctx.mpf(0)
    if x > 0:
        return ctx.expm1(y * ctx.ln(x))
    if x == 0:
        return ctx.mpf(-1) if y > 0 else ctx.inf
    return ctx.power(x, y) - 1 if is_int(ctx, y) else ctx.nan


def _boxcox(ctx: Any, x: Any, lmbda: Any) -> Any:
    if x < 0:
        return ctx.nan
    if x == 0:
        return ctx.ninf if lmbda <= 0 else -1 / lmbda
    return ctx.ln(x) if lmbda == 0 else ctx.expm1(lmbda * ctx.ln(x)) / lmbda


def _boxcox1p(ctx: Any, x: Any, lmbda: Any) -> Any:
    if x < -1:
        return ctx.nan
    if x == -1:
        return ctx.ninf if lmbda <= 0 else -1 / lmbda
    return ctx.log1p(x) if lmbda == 0 else ctx.expm1(lmbda * ctx.log1p(x)) / lmbda


def _inv_boxcox(ctx: Any, y: Any, lmbda: Any) -> Any:
    if lmbda == 0:
        return ctx.exp(y)
    t = lmbda * y
    return ctx.nan if t < -1 else ctx.exp(ctx.log1p(t) / lmbda)


def _inv_boxcox1p(ctx: Any, y: Any, lmbda: Any) -> Any:
    if lmbda == 0:
        return ctx.expm1(y)
    t = lmbda * y
    return ctx.nan if t < -1 else ctx.expm1(ctx.log1p(t) / lmbda)


def _spence(ctx: Any, z: Any) -> Any:
    if z < 0:
        return ctx.nan
    w = 1 - z
    if w >= -1:
        return ctx.polylog(2, w)
    # Li2(w) for w < -1 by inversion (mpmath's own continuation passes through complex logarithms)
    return -ctx.pi**2 / 6 - ctx.ln(-w) ** 2 / 2 - ctx.polylog(2, 1 / w)


def _dawsn(ctx: Any, x: Any) -> Any:
    return ctx.sqrt(ctx.pi) / 2 * ctx.exp(-x * x) * ctx.erfi(x)


# scipy.special's ufuncs, by name in scipy.special (all arguments are mpf; kernel(ctx, *xs) -> mpf)
_SCIPY_SPECIAL: dict[str, Kernel] = {
    "expit": _expit, "logit": _logit, "log_expit": _log_expit,
    "erf": lambda ctx, x: ctx.erf(x), "erfc": lambda ctx, x: ctx.erfc(x),
    "erfcx": lambda ctx, x: ctx.exp(x * x) * ctx.erfc(x), "erfinv": _erfinv, "erfcinv": _erfcinv,
    "erfi": lambda ctx, x: ctx.erfi(x), "dawsn": _dawsn,
    "ndtr": ndtr, "ndtri": ndtri, "log_ndtr": log_ndtr, "ndtri_exp": _ndtri_exp,
    "gamma": _gamma, "gammaln": _gammaln, "loggamma": _loggamma, "rgamma": lambda ctx, x: ctx.rgamma(x),
    "gammasgn": _gammasgn, "digamma": _digamma, "psi": _digamma, "beta": _beta, "betaln": _betaln,
    "gammainc": _gammainc, "gammaincc": _gammaincc, "betainc": _betainc,
    "zetac": lambda ctx, x: ctx.inf if x == 1 else ctx.zeta(x, 2),  # Hurwitz zeta(x, 2) = zeta(x) - 1 exactly
    "xlogy": _xlogy, "xlog1py": _xlog1py, "entr": _entr, "rel_entr": _rel_entr, "kl_div": _kl_div,
    "huber": _huber, "pseudo_huber": _pseudo_huber,
    "iv": bessel.iv, "ive": bessel.ive, "jv": bessel.jv, "yv": bessel.yv, "yn": bessel.yn, "kv": bessel.kv,
    "kve": bessel.kve, "i0": bessel.order(bessel.iv, 0), "i0e": bessel.order(bessel.ive, 0),
    "i1": bessel.order(bessel.iv, 1), "i1e": bessel.order(bessel.ive, 1), "j0": bessel.order(bessel.jv, 0),
    "j1": bessel.order(bessel.jv, 1), "y0": bessel.order(bessel.yv, 0), "y1": bessel.order(bessel.yv, 1),
    "k0": bessel.order(bessel.kv, 0), "k0e": bessel.order(bessel.kve, 0), "k1": bessel.order(bessel.kv, 1),
    "k1e": bessel.order(bessel.kve, 1),
    "expm1": lambda ctx, x: ctx.expm1(x), "log1p": _log1p, "cosm1": lambda ctx, x: -2 * ctx.sin(x / 2) ** 2,
    "exp2": lambda ctx, x: ctx.power(2, x), "exp10": lambda ctx, x: ctx.power(10, x), "cbrt": _cbrt,
    "exprel": _exprel, "powm1": _powm1, "sindg": lambda ctx, x: ctx.sinpi(x / 180),
    "cosdg": lambda ctx, x: ctx.cospi(x / 180), "spence": _spence,
    "boxcox": _boxcox, "boxcox1p": _boxcox1p, "inv_boxcox": _inv_boxcox, "inv_boxcox1p": _inv_boxcox1p,
}  # fmt: skip

# dotted ufunc name -> kernel; scipy.special.zeta is a Python function calling the two private ufuncs
KERNELS: dict[str, Kernel] = {
    **{f"scipy.special.{name}": kernel for name, kernel in _SCIPY_SPECIAL.items()},
    "scipy.special._ufuncs._riemann_zeta": _zeta_riemann,
    "scipy.special._ufuncs._zeta": _zeta_hurwitz,
}

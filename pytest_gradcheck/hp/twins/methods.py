"""Twins of the ufuncs whose object loop calls an element method (``np.tanh(a)`` calls ``a[i].tanh()``).

They are one more mapping loaded like every other twin module: ``numpy.tanh`` -> `method_twin` of a factory
``ctx -> the function of ctx's numbers``. The methods cannot be looked up per call as the other kinds are:
numpy calls them on the elements, so `precision.context` attaches each entry of `registry.METHODS` to its
private ``mpf`` class when it builds a context, under `registry.method_name` (``__floor__`` for
``numpy.floor``: numpy's object floor calls ``math.floor``). Real domain: each method returns nan where the
result would be complex, as numpy's float loops do (`precision`).
"""

from __future__ import annotations

from typing import Any

import mpmath

from pytest_gradcheck.hp.registry import Twin, method_twin

__all__ = ["TWINS"]


def _real_cbrt(ctx: mpmath.MPContext, x: Any) -> Any:
    return ctx.cbrt(x) if x >= 0 else -ctx.cbrt(-x)  # mpmath's cbrt of x < 0 is the complex principal root


def _trunc(ctx: mpmath.MPContext, x: Any) -> Any:
    return ctx.floor(x) if x >= 0 else ctx.ceil(x)


def _c_fmod(ctx: mpmath.MPContext, x: Any, y: Any) -> Any:
    if y == 0:
        return ctx.nan  # C and numpy: fmod(x, 0) is nan
    r = ctx.fmod(ctx.fabs(x), ctx.fabs(y))  # mpmath's fmod takes the divisor's sign; C's takes the dividend's
    return r if x >= 0 else -r


def _real_log1p(ctx: mpmath.MPContext, x: Any) -> Any:
    """log(1 + x) for a real x of ctx: the logarithm, rounded once, of 1 + x added exactly. mpmath's log1p gets
    the same digits through a generic wrapper at 10 extra bits, at twice the cost; its series for tiny x and its
    domain errors (x <= -1) are kept by handing those cases to it. Public calls only: mpmath's internal logarithm
    was renamed in 1.4 (``libmp.mpf_log`` warns there, deprecated for ``mpf_ln``)."""
    value = x._mpf_  # (sign, mantissa, exponent, bitcount) in mpmath 1.3 and 1.4
    if not value[1] or x <= -1:  # zero, inf, nan (no mantissa) or outside the domain
        return ctx.log1p(x)
    exponent = value[2] + value[3]  # |x| < 2^exponent
    if not -ctx.prec < exponent < ctx.prec:  # tiny: 1 + x would need too many bits; huge: no cancellation
        return ctx.log1p(x)
    return ctx.ln(ctx.fadd(ctx.one, x, exact=True))


TWINS: dict[str, Twin] = {
    "numpy.exp": method_twin(lambda ctx: ctx.exp),
    "numpy.exp2": method_twin(lambda ctx: lambda x: ctx.power(2, x)),
    "numpy.expm1": method_twin(lambda ctx: ctx.expm1),
    "numpy.log": method_twin(lambda ctx: ctx.ln),
    "numpy.log2": method_twin(lambda ctx: lambda x: ctx.log(x, 2)),
    "numpy.log10": method_twin(lambda ctx: ctx.log10),
    "numpy.log1p": method_twin(lambda ctx: lambda x: _real_log1p(ctx, x)),
    "numpy.sqrt": method_twin(lambda ctx: ctx.sqrt),
    "numpy.cbrt": method_twin(lambda ctx: lambda x: _real_cbrt(ctx, x)),
    "numpy.sin": method_twin(lambda ctx: ctx.sin),
    "numpy.cos": method_twin(lambda ctx: ctx.cos),
    "numpy.tan": method_twin(lambda ctx: ctx.tan),
    "numpy.arcsin": method_twin(lambda ctx: ctx.asin),
    "numpy.arccos": method_twin(lambda ctx: ctx.acos),
    "numpy.arctan": method_twin(lambda ctx: ctx.atan),
    "numpy.sinh": method_twin(lambda ctx: ctx.sinh),
    "numpy.cosh": method_twin(lambda ctx: ctx.cosh),
    "numpy.tanh": method_twin(lambda ctx: ctx.tanh),
    "numpy.arcsinh": method_twin(lambda ctx: ctx.asinh),
    "numpy.arccosh": method_twin(lambda ctx: ctx.acosh),
    "numpy.arctanh": method_twin(lambda ctx: ctx.atanh),
    "numpy.deg2rad": method_twin(lambda ctx: ctx.radians),
    "numpy.radians": method_twin(lambda ctx: ctx.radians),
    "numpy.rad2deg": method_twin(lambda ctx: ctx.degrees),
    "numpy.degrees": method_twin(lambda ctx: ctx.degrees),
    "numpy.fabs": method_twin(lambda ctx: ctx.fabs),
    "numpy.rint": method_twin(lambda ctx: ctx.nint),  # nint rounds ties to even, as rint does
    "numpy.floor": method_twin(lambda ctx: ctx.floor),  # attached as __floor__ (math.floor would round via float)
    "numpy.ceil": method_twin(lambda ctx: ctx.ceil),
    "numpy.trunc": method_twin(lambda ctx: lambda x: _trunc(ctx, x)),
    "numpy.hypot": method_twin(lambda ctx: ctx.hypot),
    "numpy.arctan2": method_twin(lambda ctx: ctx.atan2),
    "numpy.fmod": method_twin(lambda ctx: lambda x, y: _c_fmod(ctx, x, y)),
}

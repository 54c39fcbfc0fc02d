"""High-precision twins of the ufuncs without an object loop, registered at import.

numpy's ``logaddexp``, ``logaddexp2``, ``isnan``, ``isinf``, ``isfinite``, ``signbit``, ``copysign``,
``heaviside``, ``ldexp`` and ``float_power`` are here; scipy.special's ufuncs (``expit``, ``erf``,
``gammaln``, ``xlogy``, ``iv``, ...) are in `hp_special_kernels`; array-level functions (``np.sinc``,
``np.i0``, ``scipy.special.logsumexp``, ...) in `hp_special_arrays`. Importing this module registers all
of them with `hp_registry`; it never imports scipy. ``nextafter`` and ``spacing`` are float64 concepts and
stay unregistered (a high-precision evaluation using them falls back to float64).

The twins are elementwise (see `hp_elementwise`): they take ``mpf`` numbers of one private context, mixed
with real constants, and return an ``mpf`` of that context, or a ``bool`` for the predicates. Semantics
follow the float64 functions: out-of-domain arguments give ``nan`` and poles ``+-inf`` as numpy and scipy
do (``logit(2) = nan``, ``gammaln(-1) = inf``, ``y0(0) = -inf``), never an ``mpc``. mpmath has no
overflow: values beyond float64's range stay finite (``gamma(200)``) and become ``inf`` only when rounded
to float64. mpf has no signed zero: ``-0.0`` operands become 0, so ``signbit(-0.0)`` is False and
``copysign(x, -0.0)`` is ``|x|`` (numpy: True and ``-|x|``).
"""

from __future__ import annotations

from typing import Any

from pytest_gradcheck.hp import registry as hp_registry
from pytest_gradcheck.hp.twins.elementwise import Kernel, elementwise, is_int
from pytest_gradcheck.hp.twins.special import arrays as hp_special_arrays
from pytest_gradcheck.hp.twins.special.kernels import KERNELS

__all__ = ["NUMPY_TWINS", "register"]


def _logaddexp(ctx: Any, x: Any, y: Any) -> Any:
    if x == y:
        return x + ctx.ln2  # also right for two infinities of one sign, where x - y is nan
    return max(x, y) + ctx.log1p(ctx.exp(-abs(x - y)))


def _logaddexp2(ctx: Any, x: Any, y: Any) -> Any:
    if x == y:
        return x + 1
    return max(x, y) + ctx.log1p(ctx.power(2, -abs(x - y))) / ctx.ln2


def _signbit(ctx: Any, x: Any) -> bool:
    return bool(x < 0)  # mpf has no -0.0 and no signed nan


def _copysign(ctx: Any, x: Any, y: Any) -> Any:
    return -abs(x) if y < 0 else abs(x)


def _heaviside(ctx: Any, x: Any, h0: Any) -> Any:
    if ctx.isnan(x):
        return ctx.nan
    return ctx.mpf(0) if x < 0 else h0 if x == 0 else ctx.mpf(1)  # h0 (even nan) only at x == 0


def _ldexp(ctx: Any, x: Any, exponent: Any) -> Any:
    if not is_int(ctx, exponent):  # HPArray hands over int operands as mpf: integer values are accepted
        raise TypeError(f"ldexp: exponent: expected an integer, got {exponent}")
    return ctx.ldexp(x, int(exponent))


def _float_power(ctx: Any, x: Any, y: Any) -> Any:
    """x ** y with C's pow conventions: 1 for y == 0 or x == 1 (even with nan), inf for 0 ** negative,
    nan for a negative base and a finite non-integer exponent, the limits at infinite operands."""
    if y == 0 or x == 1:
        return ctx.mpf(1)
    if ctx.isnan(x) or ctx.isnan(y):
        return ctx.nan
    if x == 0 and y < 0:
        return ctx.inf
    if ctx.isinf(x) or ctx.isinf(y):
        magnitude = ctx.mpf(1) if abs(x) == 1 else ctx.power(abs(x), y)
        return -magnitude if x < 0 and is_int(ctx, y) and int(y) % 2 == 1 else magnitude
    if x < 0 and not is_int(ctx, y):
        return ctx.nan
    return ctx.power(x, y)


def _predicate(name: str) -> Kernel:
    def predicate(ctx: Any, x: Any) -> bool:
        return bool(getattr(ctx, name)(x))

    predicate.__name__ = name
    return elementwise(predicate, nan_in_nan_out=False)


NUMPY_TWINS: dict[str, Kernel] = {
    "numpy.logaddexp": elementwise(_logaddexp),
    "numpy.logaddexp2": elementwise(_logaddexp2),
    "numpy.isnan": _predicate("isnan"),
    "numpy.isinf": _predicate("isinf"),
    "numpy.isfinite": _predicate("isfinite"),
    "numpy.signbit": elementwise(_signbit, nan_in_nan_out=False),
    "numpy.copysign": elementwise(_copysign, nan_in_nan_out=False),  # copysign(x, nan) = |x|
    "numpy.heaviside": elementwise(_heaviside, nan_in_nan_out=False),
    "numpy.ldexp": elementwise(_ldexp),
    "numpy.float_power": elementwise(_float_power, nan_in_nan_out=False),
}


def register() -> None:
    """Register every special-function twin (idempotent: registering again replaces the same entries)."""
    for dotted, twin in NUMPY_TWINS.items():
        hp_registry.register_ufunc(dotted, twin)
    for dotted, kernel in KERNELS.items():
        hp_registry.register_ufunc(dotted, elementwise(kernel, nonfinite_from=dotted))
    hp_special_arrays.register()


register()

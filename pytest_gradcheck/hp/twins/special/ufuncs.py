"""High-precision twins of the ufuncs without an object loop: the `TWINS` mapping of the special family.

numpy's ``logaddexp``, ``logaddexp2``, ``isnan``, ``isinf``, ``isfinite``, ``signbit``, ``copysign``,
``heaviside``, ``ldexp`` and ``float_power`` are here; scipy.special's ufuncs (``expit``, ``erf``,
``gammaln``, ``xlogy``, ``iv``, ...) have their kernels in `kernels.KERNELS` and their entries here, one
per kernel; array-level functions (``np.sinc``, ``np.i0``, ``scipy.special.logsumexp``, ...) are the
`TWINS` of `arrays`. `install.load` registers them; nothing here imports scipy. ``nextafter`` and
``spacing`` are float64 concepts and stay unregistered (a high-precision evaluation using them falls back
to float64).

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

from pytest_gradcheck.hp.registry import Twin, ufunc_twin
from pytest_gradcheck.hp.twins.elementwise import Kernel, elementwise, is_int
from pytest_gradcheck.hp.twins.special.kernels import KERNELS

__all__ = ["TWINS"]


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


TWINS: dict[str, Twin] = {
    "numpy.logaddexp": ufunc_twin(elementwise(_logaddexp)),
    "numpy.logaddexp2": ufunc_twin(elementwise(_logaddexp2)),
    "numpy.isnan": ufunc_twin(_predicate("isnan")),
    "numpy.isinf": ufunc_twin(_predicate("isinf")),
    "numpy.isfinite": ufunc_twin(_predicate("isfinite")),
    "numpy.signbit": ufunc_twin(elementwise(_signbit, nan_in_nan_out=False)),
    "numpy.copysign": ufunc_twin(elementwise(_copysign, nan_in_nan_out=False)),  # copysign(x, nan) = |x|
    "numpy.heaviside": ufunc_twin(elementwise(_heaviside, nan_in_nan_out=False)),
    "numpy.ldexp": ufunc_twin(elementwise(_ldexp)),
    "numpy.float_power": ufunc_twin(elementwise(_float_power, nan_in_nan_out=False)),
    # scipy.special's ufuncs: one per kernel (to add one, add its line to `kernels.KERNELS`)
    **{dotted: ufunc_twin(elementwise(kernel, nonfinite_from=dotted)) for dotted, kernel in KERNELS.items()},
}

"""Building blocks of the elementwise high-precision twins: operand conversion and the twin wrapper.

A kernel is ``kernel(ctx, *xs)``: ``xs`` are ``mpf`` numbers of the private context ``ctx`` (see `precision`)
and it returns an ``mpf`` (or a ``bool`` for predicates). `elementwise` turns a kernel into what a
`registry.ufunc_twin` holds: a function of the raw operands, which may mix ``mpf`` numbers with the real
constants numpy inserts into object arrays (Python or numpy floats and ints, converted exactly by `exact`).
"""

from __future__ import annotations

import contextlib
import importlib
import sys
import warnings
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from pytest_gradcheck.hp.exact import to_mpf

__all__ = ["Kernel", "elementwise", "hp_context", "is_int", "is_pole"]

Kernel = Callable[..., Any]
_ROUND_OFF_BITS = 10  # an imaginary part below 2**-(prec - 10) of the real part is round-off of a real value


def hp_context(args: tuple[Any, ...], what: str = "arguments") -> Any:
    """The context of the first ``mpf`` among `args`; a TypeError naming `what` if there is none."""
    for arg in args:
        if hasattr(arg, "_mpf_"):
            return arg.context
    raise TypeError(f"{what}: expected at least one high-precision mpf, got {[type(a).__name__ for a in args]}")


def _real(ctx: Any, value: Any) -> Any:
    """A kernel's result as an ``mpf`` of `ctx`: an mpc from a complex intermediate keeps its real part when
    its imaginary part is round-off, else it is nan (outside the real domain, as float64 gives)."""
    if isinstance(value, bool):
        return value
    if hasattr(value, "_mpc_"):
        real, imag = ctx.mpf(value.real), ctx.mpf(value.imag)
        return real if abs(imag) <= abs(real) * ctx.ldexp(1, _ROUND_OFF_BITS - ctx.prec) else ctx.nan
    return to_mpf(ctx, value)


@contextlib.contextmanager
def _complex_allowed(ctx: Any) -> Iterator[None]:
    """Let mpmath use complex intermediates (``precision`` contexts trap them) for the kernel's duration.

    Several real functions pass through complex values inside mpmath (``besseli(0, 30)`` takes a square root
    of -z), which the trap would turn into errors. Contexts are per thread, so the switch is not seen by
    other threads; it is restored when the kernel returns or raises.
    """
    trap = ctx.trap_complex
    ctx.trap_complex = False
    try:
        yield
    finally:
        ctx.trap_complex = trap


def _float64_value(dotted: str, ctx: Any, xs: tuple[Any, ...]) -> Any:
    """The float64 function's value at `xs`: "scipy.special.erf" or an object's method, "scipy.stats.norm.cdf".

    The module is imported already (the function is being called); a patched method's wrapper passes
    float arguments through to scipy's original.
    """
    parts = dotted.split(".")
    cut = max(i for i in range(1, len(parts)) if ".".join(parts[:i]) in sys.modules)
    function = importlib.import_module(".".join(parts[:cut]))
    for part in parts[cut:]:
        function = getattr(function, part)
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # scipy's own warnings (yn's "truncated to an integer") are not the user's
        return to_mpf(ctx, float(function(*(float(x) for x in xs))))


def elementwise(kernel: Kernel, *, nan_in_nan_out: bool = True, nonfinite_from: str | None = None) -> Kernel:
    """A registry twin from ``kernel(ctx, *mpf)``: converts the operands and rounds the result to an mpf.

    `nan_in_nan_out`: a nan operand gives nan without calling the kernel. `nonfinite_from`: the dotted name
    of the float64 function whose own value to return at a nan operand, and at an infinite operand of a
    one-argument function (limits or nan there, exact in float64). With several arguments an infinite one
    goes to the kernel, which follows the mathematical limit (``huber(inf, r) = r**2 / 2``, exact at high
    precision); where mpmath cannot take it (an error or nan), scipy's value is returned.
    """

    def twin(*args: Any) -> Any:
        ctx = hp_context(args)
        xs = tuple(to_mpf(ctx, a) for a in args)
        if nonfinite_from is not None and not all(ctx.isfinite(x) for x in xs):
            if len(xs) == 1 or any(ctx.isnan(x) for x in xs):
                return _float64_value(nonfinite_from, ctx, xs)
            try:
                value = _evaluate(kernel, ctx, xs)
            except (ValueError, OverflowError, ZeroDivisionError):  # mpmath rejects some infinite arguments
                value = ctx.nan
            return _float64_value(nonfinite_from, ctx, xs) if ctx.isnan(value) else value
        if nan_in_nan_out and any(ctx.isnan(x) for x in xs):
            return ctx.nan
        return _evaluate(kernel, ctx, xs)

    twin.__name__ = twin.__qualname__ = getattr(kernel, "__name__", "twin").lstrip("_")
    twin.kernel = kernel  # type: ignore[attr-defined]
    return twin


def _evaluate(kernel: Kernel, ctx: Any, xs: tuple[Any, ...]) -> Any:
    with _complex_allowed(ctx):
        return _real(ctx, kernel(ctx, *xs))


def is_int(ctx: Any, x: Any) -> bool:
    """Whether `x` is a finite integer."""
    return bool(ctx.isfinite(x) and x == ctx.floor(x))


def is_pole(ctx: Any, x: Any) -> bool:
    """Whether `x` is a pole of the gamma function: zero or a negative integer."""
    return bool(x <= 0 and is_int(ctx, x))

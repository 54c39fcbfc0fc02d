"""Kernels of scipy.special's Bessel functions at high precision (see `hp_special_kernels`).

Real domain as scipy: I_v(x) and J_v(x) of a negative x only for an integer order, Y and K only for x >= 0;
``yn`` truncates its order to an integer. At x = 0 the poles take scipy's signs where they are the limits
(``jv(-1.5, 0) = -inf``: mpmath drops the sign); for Y of a negative half-integer order mpmath's limit, 0,
is kept (scipy gives inf).
"""

from __future__ import annotations

from typing import Any

from pytest_gradcheck.hp.twins.elementwise import Kernel, is_int

__all__ = ["iv", "ive", "jv", "kv", "kve", "order", "yn", "yv"]


def _real_order(ctx: Any, v: Any, x: Any) -> bool:
    """Whether I_v(x) and J_v(x) are real: x >= 0, or an integer order."""
    return bool(x >= 0 or is_int(ctx, v))


def iv(ctx: Any, v: Any, x: Any) -> Any:
    return ctx.besseli(v, x) if _real_order(ctx, v, x) else ctx.nan


def ive(ctx: Any, v: Any, x: Any) -> Any:
    if not _real_order(ctx, v, x) or (x == 0 and v < 0 and not is_int(ctx, v)):
        return ctx.nan  # scipy: nan also at the pole x = 0 of a negative non-integer order
    return ctx.besseli(v, x) * ctx.exp(-abs(x))


def jv(ctx: Any, v: Any, x: Any) -> Any:
    if not _real_order(ctx, v, x):
        return ctx.nan
    if x == 0 and v < 0 and not is_int(ctx, v):
        return ctx.sign(ctx.gamma(v + 1)) * ctx.inf  # J_v(x) ~ (x/2)^v / Gamma(v + 1): mpmath drops the sign
    return ctx.besselj(v, x)


def yv(ctx: Any, v: Any, x: Any) -> Any:
    return ctx.nan if x < 0 else ctx.bessely(v, x)


def yn(ctx: Any, n: Any, x: Any) -> Any:
    """Y_n with the order truncated to an integer, as scipy's yn."""
    n = int(n)
    if x <= 0:
        return ctx.nan if x < 0 else ctx.inf if n < 0 and n % 2 else ctx.ninf  # Y_-n = (-1)^n Y_n
    return ctx.bessely(n, x)


def kv(ctx: Any, v: Any, x: Any) -> Any:
    return ctx.nan if x < 0 else ctx.inf if x == 0 else ctx.besselk(v, x)


def kve(ctx: Any, v: Any, x: Any) -> Any:
    return ctx.nan if x < 0 else ctx.inf if x == 0 else ctx.besselk(v, x) * ctx.exp(x)


def order(kernel: Kernel, v: int) -> Kernel:
    """A fixed-order Bessel kernel (i0, j1, k0e, ...) from a kernel of the order and the argument."""

    def fixed(ctx: Any, x: Any) -> Any:
        return kernel(ctx, ctx.mpf(v), x)

    return fixed

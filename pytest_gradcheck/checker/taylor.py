"""The Taylor test: remainders of the first-order expansion, which needs no step choice.

For a correct directional derivative d, r(h) = |phi(h) - phi(0) - h d| shrinks like h^2 (faster if the
curvature along u vanishes); for a wrong one the term h |d - phi'(0)| takes over as h -> 0, and the
order drops to 1. Vector phi uses the max-norm over its components.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from itertools import pairwise
from statistics import median
from typing import Any, NamedTuple

import numpy as np

from pytest_gradcheck.checker.differences import NOISE_ULPS

__all__ = ["TaylorResult", "taylor_test"]

FLOOR_MARGIN = 10.0  # remainders within a decade of the round-off floor give unreliable ratios: left out
ASYMPTOTIC = 3  # the order is the median over the three smallest steps above round-off
ORDER_SPLIT = (0.5, 1.5)  # order >= 1.5: consistent (2 expected); 0.5 .. 1.5: inconsistent (1 expected)


class TaylorResult(NamedTuple):
    """Remainders r(h) and their observed orders.

    `remainders[k]`: max-norm of phi(hs[k]) - phi(0) - hs[k] directional; `floors[k]`: its round-off level;
    `orders[k]`: log(r_k / r_k+1) / log(h_k / h_k+1), None unless both remainders exceed FLOOR_MARGIN
    times their floor. `order`: median of the last ASYMPTOTIC defined orders (smallest steps), None if none.
    `status`: "consistent" (order >= 1.5), "inconsistent" (0.5 <= order < 1.5), "exact" (every remainder
    at round-off: phi is linear along u and the derivative right within round-off), or "inconclusive".
    """

    hs: tuple[float, ...]
    remainders: tuple[float, ...]
    floors: tuple[float, ...]
    orders: tuple[float | None, ...]
    order: float | None
    status: str
    evaluations: int

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready data."""
        return {"hs": list(self.hs), "remainders": list(self.remainders), "floors": list(self.floors),
                "orders": list(self.orders), "order": self.order, "status": self.status,
                "evaluations": self.evaluations}


def _context(values: np.ndarray) -> Any:
    """The mpmath context of object-array values, or None (float arithmetic)."""
    first = values.flat[0] if values.dtype == object and values.size else None
    return getattr(first, "context", None)


def _eps(values: np.ndarray, context: Any) -> float:
    """Machine epsilon of the values: float dtypes from numpy, mpmath numbers from their context."""
    if context is not None:
        return float(context.eps)
    return float(np.finfo(values.dtype if values.dtype.kind == "f" else float).eps)


def remainder(phi0: np.ndarray, value: np.ndarray, directional: np.ndarray, h: Any, eps: float) -> tuple[Any, float]:
    """Max-norm of value - phi0 - h directional, and the round-off level of that difference."""
    term = np.abs(value - phi0 - h * directional)
    floor = 2 * NOISE_ULPS * eps * np.maximum(np.abs(value), np.abs(phi0))  # two evaluations' errors
    return np.max(term), float(np.max(floor))


def _order(r1: Any, r2: Any, h1: Any, h2: Any) -> float:
    return math.log(float(r1 / r2)) / math.log(float(h1) / float(h2))


def taylor_test(phi0: Any, phi: Callable[[Any], Any], directional: Any, hs: Sequence[Any],
                *, eps: float | None = None) -> TaylorResult:
    """Remainders of phi(h) ~ phi(0) + h directional at each step of `hs` (decreasing, positive).

    phi may be scalar (a projection v^T f) or a 1-D array; `directional` matches it. `eps`: the relative
    precision of phi's values, taken from phi0 when omitted (float dtype, or the mpmath context).
    """
    hs = tuple(hs)
    if not hs or any(float(h) <= 0 for h in hs) or any(float(a) <= float(b) for a, b in pairwise(hs)):
        raise ValueError(f"hs: expected decreasing positive steps, got {hs!r}")
    phi0, directional = np.atleast_1d(np.asarray(phi0)), np.atleast_1d(np.asarray(directional))
    context = _context(phi0)
    eps = _eps(phi0, context) if eps is None else eps
    exact = float if context is None else context.mpf  # h * directional at the precision of phi
    # tolist: numpy scalars become Python numbers (mpmath 1.3 cannot convert np.int64); mpf stay as they are
    directional = np.array([exact(d) for d in directional.ravel().tolist()], dtype=object if context else float)
    pairs = [remainder(phi0, np.atleast_1d(np.asarray(phi(h))), directional, exact(h), eps) for h in hs]
    valid = [r > FLOOR_MARGIN * floor for r, floor in pairs]
    orders: list[float | None] = [None] * (len(hs) - 1)
    for k in range(len(hs) - 1):
        if valid[k] and valid[k + 1] and pairs[k + 1][0] > 0:
            orders[k] = _order(pairs[k][0], pairs[k + 1][0], hs[k], hs[k + 1])
    defined = [p for p in orders if p is not None]
    order = median(defined[-ASYMPTOTIC:]) if defined else None
    if not any(valid):
        status = "exact"
    elif order is None or order < ORDER_SPLIT[0]:
        status = "inconclusive"
    else:
        status = "consistent" if order >= ORDER_SPLIT[1] else "inconsistent"
    return TaylorResult(tuple(float(h) for h in hs), tuple(float(r) for r, _ in pairs),
                        tuple(floor for _, floor in pairs), tuple(orders), order, status, len(hs))

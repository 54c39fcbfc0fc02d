"""The reference of a second-order check: entries of H and projections u^T H v from second differences of f.

Every value comes from `second_differences` along one direction w (w^T H w) through the evaluator (quad or
mpmath, or float64 after a fall-back): a diagonal entry H_pp along e_p, an off-diagonal one from the pair's
direction, H_pr = (q(e_p + e_r) - q(e_p) - q(e_r)) / 2, and a projection by polarisation,
u^T H v = (q(u + v) - q(u - v)) / 4. Directions are dyadic (`dyadic`), so that u + v and u - v are exact in
float64 and the reference is for the very directions the derivative under test is given.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from pytest_gradcheck.checker import second_differences
from pytest_gradcheck.checker.evaluation import F64_EPS, Evaluator
from pytest_gradcheck.checker.second_differences import SecondDerivative

DYADIC_BITS = 20  # random directions are rounded to multiples of 2^-20: u +- v stays exact in float64


def dyadic(values: np.ndarray) -> np.ndarray:
    """Values rounded to multiples of 2^-DYADIC_BITS (sums and differences of two such are exact)."""
    return np.round(values * 2.0**DYADIC_BITS) / 2.0**DYADIC_BITS


@dataclass
class Entry:
    """One reference value: `value` +- `error` (floats for the error and the one-sided values), its status
    ("ok", "nondifferentiable", "not_converged") and, at a kink, the one-sided second derivatives."""

    value: Any
    error: float
    status: str
    left: float
    right: float


def combine(parts: Sequence[tuple[float, SecondDerivative]]) -> Entry:
    """sum c_k q_k with its error (sum |c_k| e_k), the worst status, and at a kink the interval the one-sided
    values span (infinite when a first derivative jumps)."""
    value = sum(c * q.value for c, q in parts)
    error = sum(abs(c) * float(q.error) for c, q in parts)
    statuses = {q.status for _, q in parts}
    status = next((s for s in ("not_converged", "nondifferentiable") if s in statuses), "ok")
    if status != "nondifferentiable":
        return Entry(value, error, status, float(value), float(value))
    low = sum(c * float(min(q.left, q.right) if c > 0 else max(q.left, q.right)) for c, q in parts)
    high = sum(c * float(max(q.left, q.right) if c > 0 else min(q.left, q.right)) for c, q in parts)
    if not (np.isfinite(low) and np.isfinite(high)):
        low, high = -np.inf, np.inf
    return Entry((low + high) / 2 if np.isfinite(low) else value, error, status, low, high)


class Reference:
    """Second derivatives of f at the evaluator's point, each direction evaluated once."""

    def __init__(self, evaluator: Evaluator, levels: int = 3) -> None:
        self.evaluator, self.levels = evaluator, levels  # levels: of the Richardson table at high precision
        self.positions = [(a, i) for a, x in enumerate(evaluator.args) for i in range(x.size)]
        self.evaluations = 0
        self._diagonal: dict[int, SecondDerivative] = {}

    def along(self, direction: Sequence[np.ndarray | None]) -> SecondDerivative:
        """w^T H w along a direction given per argument (None: that argument held fixed)."""
        ev = self.evaluator
        phi = ev.phi(direction)
        if ev.high_precision:
            ctx = ev.ctx
            noise = max((_mp(ctx, n) for n in np.ravel(ev.noise)), default=0) if np.size(ev.noise) else 0
            step = second_differences.first_step(ctx.eps, _mp(ctx, ev.scale), self.levels)
            return second_differences.second_derivative(lambda t: phi(t)[0], ev.value_hp[0], step=step,
                                                        scale=ev.scale, eps=ctx.eps, noise=noise, levels=self.levels)
        step = second_differences.first_step(F64_EPS, float(ev.scale))
        return second_differences.second_derivative(lambda t: float(phi(t)[0]), float(ev.value64[0]), step=step,
                                                    scale=float(ev.scale), eps=F64_EPS)

    def unit(self, *flat: int) -> list[np.ndarray | None]:
        """The direction sum of e_p over the flat positions `flat` (across arguments)."""
        out: list[np.ndarray | None] = [None] * len(self.evaluator.args)
        for p in flat:
            a, i = self.positions[p]
            if out[a] is None:
                out[a] = np.zeros(self.evaluator.args[a].shape)
            out[a].flat[i] += 1.0
        return out

    def diagonal(self, p: int) -> SecondDerivative:
        if p not in self._diagonal:
            self._diagonal[p] = self.along(self.unit(p))
        return self._diagonal[p]

    def entry(self, p: int, r: int) -> Entry:
        """H_pr over flat positions p, r (across arguments)."""
        if p == r:
            return combine([(1, self.diagonal(p))])
        pair = self.along(self.unit(p, r))
        return combine([(0.5, pair), (-0.5, self.diagonal(p)), (-0.5, self.diagonal(r))])

    def projection(self, u: Sequence[np.ndarray], v: Sequence[np.ndarray]) -> Entry:
        """u^T H v for dyadic directions u, v (one array per argument)."""
        plus = self.along([a + b for a, b in zip(u, v, strict=True)])
        minus = self.along([a - b for a, b in zip(u, v, strict=True)])
        return combine([(0.25, plus), (-0.25, minus)])


def matrix(reference: Reference) -> list[list[Entry]]:
    """Every entry of H (flat positions across arguments), the upper triangle evaluated, the lower mirrored."""
    size = len(reference.positions)
    rows: list[list[Any]] = [[None] * size for _ in range(size)]
    for p in range(size):
        for r in range(p, size):
            rows[p][r] = rows[r][p] = reference.entry(p, r)
    return rows


def _mp(ctx: Any, value: Any) -> Any:
    """An mpmath number of `value`; numpy scalars go through Python's (mpmath 1.3 refuses np.int64)."""
    return ctx.mpf(value.item() if isinstance(value, np.generic) else value)

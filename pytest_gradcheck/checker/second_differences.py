"""Second directional derivatives w^T H w of a scalar f by central second differences, with an error estimate.

The caller gives ``phi(t) = f(x + t w)`` as a number (an mpmath number at high precision, a float in the
float64 fallback) and phi(0). The second difference D(s) = (phi(s) - 2 phi(0) + phi(-s)) / s^2 errs by
phi'''' s^2 / 12 (truncation, even in s) and by 4 e / s^2 (round-off, e one evaluation's error). Three steps
s, s/2, s/4 (6 evaluations) give a Richardson table whose last entry errs by O(s^6); the step balances its
error estimate (the table's last corrections, O(s^4)) against the round-off of the extrapolated value
(ROUNDOFF_WEIGHT e / s^2): s ~ (e / |phi|)^(1/6), 1e-5 relative on quad, 1e-6 at 40 digits, 1e-2 in float64.
A step that does not converge is retried once, RETRY_FACTOR smaller.

`levels=4` adds s/8 (8 evaluations): the last entry errs by O(s^8), the estimate is O(s^6), and the step grows to
(e / |phi|)^(1/8), 2e-4 relative on quad, so that the round-off e / s^2 is ~75 times smaller: what auto's screen
needs on quad (113 bits) when |f| is much larger than the second derivative it resolves.

Kinks: a jump of the first derivative along w makes D(s) grow like 1/s (D(s/2) = 2 D(s)); a jump of the second
derivative leaves D(s) converging to the mean of the one-sided second derivatives, but those differ by the
same amount at every step (smooth: by O(s)). Both are "nondifferentiable", never a value.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

NOISE_ULPS = 1000  # one evaluation is assumed correct to ~1000 ulps of its magnitude (as first order assumes)
# The extrapolated value is (D(s) - 20 D(s/2) + 64 D(s/4)) / 45; each D(s/2^k) carries 4^(k+1) e / s^2 of
# round-off: (1 + 20*4 + 64*16) * 4 / 45 = 98.2 e / s^2.
ROUNDOFF_WEIGHT = 98.2
# With s/8: (1, -84, 1344, -4096) / 2835, (4 + 84*16 + 1344*64 + 4096*256) / 2835 = 400.7 e / s^2.
ROUNDOFF_WEIGHTS = {3: ROUNDOFF_WEIGHT, 4: 400.7}
RETRY_FACTOR = 16  # the retry's step: a function whose fourth derivative is large on the first step's scale
STEADY = 0.1  # a second-derivative jump: the one-sided difference agrees within 10% across steps (smooth: halves)
GROWTH = (1.6, 2.5)  # a first-derivative jump: each halving of the step doubles D(s) (within these ratios)
GENERIC = 0.7071067811865476  # an irrational factor on the steps, as first order uses (sqrt(2)/2)


class SecondDerivative(NamedTuple):
    """w^T H w with its error estimate. status: "ok", "nondifferentiable" (value: the mean of `left` and
    `right`, the one-sided second derivatives; +-inf when the first derivative jumps) or "not_converged"."""

    value: Any
    error: Any
    status: str
    left: Any
    right: Any
    evaluations: int


def first_step(eps: float | Any, scale: Any, levels: int = 3) -> Any:
    """The largest step, for a direction with max |w_i| ~ 1 and the point's length scale `scale`: the table's
    error estimate, O(s^(2 levels - 2)), balanced against its round-off ROUNDOFF_WEIGHTS[levels] e / s^2."""
    return scale * GENERIC * (ROUNDOFF_WEIGHTS[levels] * NOISE_ULPS * eps) ** (1 / (2 * levels))


def second_derivative(phi: Callable[[Any], Any], phi0: Any, *, step: Any, scale: Any, eps: Any,
                      noise: Any = 0, levels: int = 3) -> SecondDerivative:
    """w^T H w from phi at +-s, +-s/2, +-s/4 (and +-s/8 with `levels`=4; s = `step`), retried once at
    s / RETRY_FACTOR when the table does not converge. `noise`: a measured bound on one evaluation's round-off,
    used where it exceeds NOISE_ULPS ulps of |phi|. `eps`: the working precision's epsilon (a number of phi's
    kind)."""
    quarter = eps**0.25  # agreement to a quarter of the working digits is convergence (as first order)
    result = None
    for attempt, s in enumerate((step, step / RETRY_FACTOR)):
        values = [phi(sign * s / 2**k) for k in range(levels) for sign in (1, -1)]
        table = _Table(s, phi0, values, max(NOISE_ULPS * eps * max(abs(v) for v in (phi0, *values)), noise))
        size = (abs(table.value) + table.magnitude / scale**2) * quarter
        kink = table.kink(size)
        result = kink or SecondDerivative(table.value, table.change + table.roundoff,
                                          "ok" if table.change <= size + table.roundoff else "not_converged",
                                          table.value, table.value, 0)
        result = result._replace(evaluations=2 * levels * (attempt + 1))
        if result.status != "not_converged":
            break
    assert result is not None
    return result


class _Table:
    """The second differences at s, s/2, s/4 (, s/8), their Richardson extrapolation and the one-sided
    differences (from the first three steps)."""

    def __init__(self, s: Any, f0: Any, values: list[Any], bound: Any) -> None:
        fp, fm, fp2, fm2, fp4, fm4 = values[:6]
        self.magnitude = max(abs(v) for v in (f0, *values))
        self.d = [(values[2 * k] - 2 * f0 + values[2 * k + 1]) * 4**k / s**2 for k in range(len(values) // 2)]
        rows = [[d] for d in self.d]  # the Richardson table: row k ends with the extrapolation from d[0..k]
        for i in range(1, len(rows)):
            for j in range(1, i + 1):
                rows[i].append(rows[i][j - 1] + (rows[i][j - 1] - rows[i - 1][j - 1]) / (4**j - 1))
        self.value = rows[-1][-1]  # the last corrections: the two entries of the order below it
        self.change = abs(self.value - rows[-1][-2]) + abs(self.value - rows[-2][-1])
        self.roundoff = ROUNDOFF_WEIGHTS[len(self.d)] * bound / s**2
        # one-sided second differences (phi(2r) - 2 phi(r) + phi(0)) / r^2 at r = s/2 and r = s/4
        self.right = [(fp - 2 * fp2 + f0) * 4 / s**2, (fp2 - 2 * fp4 + f0) * 16 / s**2]
        self.left = [(fm - 2 * fm2 + f0) * 4 / s**2, (fm2 - 2 * fm4 + f0) * 16 / s**2]
        self.side_roundoff = 64 * bound / s**2

    def kink(self, size: Any) -> SecondDerivative | None:
        """The kink this table shows, or None."""
        d0, d1, d2 = self.d[:3]
        threshold = size + self.roundoff
        if abs(d2) > threshold and d0 and d1 and all(GROWTH[0] <= r <= GROWTH[1] for r in (d1 / d0, d2 / d1)):
            inf = float("inf")
            return SecondDerivative(d2 * 0, inf, "nondifferentiable", -inf, inf, 6)
        side = [r - left for r, left in zip(self.right, self.left, strict=True)]
        if abs(side[1]) > size + self.side_roundoff and abs(side[1] - side[0]) <= STEADY * abs(side[1]):
            left, right = self.left[1], self.right[1]
            spread = abs(self.left[1] - self.left[0]) + abs(self.right[1] - self.right[0]) + self.side_roundoff
            return SecondDerivative((left + right) / 2, spread, "nondifferentiable", left, right, 6)
        return None

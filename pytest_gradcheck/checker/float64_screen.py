"""The quick float64 screen: a few random projections of a gradient that only runs in float64 (a framework's
autograd), each against a Richardson table of central differences of f itself, accepted only on clear agreement.

Why it may be this cheap: it never fails a gradient. A projection is accepted when the gradient under test and the
table agree to AGREEMENT of the projection's size, the table's own error estimate is below that, and its even part
shows no kink; anything else ("not clear") hands the decision to the thorough float64 check (measured noise, steps
chosen per component, kinks confirmed), which names elements. Agreement that close between a backward pass and
differences of the forward is no coincidence: a wrong gradient, a noisy one (a float32 backward, 1e-7) or a kink
(a jump in the one-sided slopes) leaves a visible gap.

phi(t) = <w, f(x + t u)> at t = 0 (f at the point, once for every table), +-h, +-h/2, +-h/4 (6 evaluations a
table): with D(h) the central difference, R1 and R2 the Richardson steps of (D(h), D(h/2)) and (D(h/2), D(h/4)), the
value is R2 + (R2 - R1) / 15, its error the change of that last step, |R2 - R1| / 15, plus round-off of
ROUNDOFF_ULPS ulps of phi's largest value through the table's weights. The even part E(h) = phi(h) + phi(-h) -
2 phi(0) is c2 h^2 + c4 h^4 + ... for a smooth f, plus J h with a kink of jump J: K(h) = (E(h) - 4 E(h/2)) / h =
-J + 3/4 c4 h^3, so |8 K(h/2) - K(h)| / 7 measures |J| with the smooth terms to O(h^5) removed.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from pytest_gradcheck.checker.inputs import validate_output

__all__ = ["AGREEMENT", "Plan", "Projection", "ScreenRun", "plan", "point_scale", "run_screen", "small_weighted",
           "tested_along", "well_scaled"]

F64_EPS = float(np.finfo(np.float64).eps)
AGREEMENT = 1e-10  # gradient and table agree within this share of the projection's size: a clear pass
# The largest step, relative to max(1, |x|): D's truncation (h^2 f''' / 6) is ~7e-7, R1's (h^4 f^(5)) ~1e-13 and the
# change R2 - R1 that bounds it is measurable; round-off through the weights ~10 eps |phi| / (h / 4) is ~4e-12.
STEP = 2e-3
LEVELS = 3  # D(h), D(h/2), D(h/4)
# The step along u is STEP * scale * UNIT_LENGTH / |u|: the truncation of a direction across many elements grows
# with its length; a single element (|u| = 1) takes up to twice STEP, which halves the round-off its smaller size
# feels.
UNIT_LENGTH = 2.0
ROUNDOFF_ULPS = 2.0  # assumed round-off of one evaluation of phi (ulps of its largest |value|): a floor under the
# measured change R2 - R1 (which carries the table's actual round-off), never a proof
# A jump of the one-sided slopes above this share of the size is no clear agreement. Looser than AGREEMENT: the
# measure keeps the smooth part's h^5 term (~1e-10 for a composition of a few tanh at h ~ 4e-3), while a kink at the
# point (relu at 0, a tie in a max) jumps by a sizeable share of the projection; the thorough float64 check resolves
# no finer jump either (its one-sided slopes err by ~1e-8).
KINK_AGREEMENT = 1e-8
# The projection's size: max(|<g, u>|, SIZE_FLOOR * sum |g_i u_i|), so that a projection whose terms cancel is not
# held to 1e-10 of a near-zero sum.
SIZE_FLOOR = 0.1
# Elements of the gradient below this share of the largest weigh SMALL_WEIGHT times in the projections: an error
# relative to such an element's scale (max(|g_i|, 1e-3 of the largest), as the thorough check judges it) shows at
# least 1e-2 as large as one in the largest element, so 1e-8 of it clears the agreement. The weight stops at 10:
# round-off over the step grows with the direction's length (quad_screen, with ~1e-22 round-off, weighs by
# 1/|g_i| in full).
SPREAD = 1e-2
SMALL_WEIGHT = 10.0
# The weights of the value R2 + (R2 - R1) / 15 on the central differences D(h), D(h/2), D(h/4): 1/45, -4/9, 64/45.
WEIGHTS = (1 / 45, -20 / 45, 64 / 45)


@dataclass
class Projection:
    """One projection: the gradient's <g, u>, the table's value and error, the kink measure, the steps and
    central differences (for reports), and whether it agreed clearly."""

    label: str
    tested: float
    value: float
    error: float
    kink: float
    size: float
    steps: list[float]
    estimates: list[float]
    clear: bool
    why: str = ""
    agreement: float = AGREEMENT  # the share of size the gap and the error must stay below
    kink_agreement: float = KINK_AGREEMENT  # ... and the kink measure
    high_precision: bool = False  # the table was computed beyond float64 (quad_screen)

    def relative(self) -> float:
        """|<g, u> - value| over the projection's size."""
        gap = abs(self.tested - self.value)
        return gap / self.size if self.size > 0 else (0.0 if gap == 0 else math.inf)

    def trace(self) -> dict[str, Any]:
        """The projection as a result's trace (the shape the thorough check's traces have)."""
        return {"label": self.label, "steps": self.steps, "estimates": self.estimates, "value": self.value,
                "error": self.error, "status": "ok" if self.clear else "not_converged",
                "high_precision": self.high_precision}

    def judge(self) -> Projection:
        """Set `why` (no clear agreement, or "") and `clear`; returns self."""
        self.why = _unclear(self)
        self.clear = not self.why
        return self


@dataclass
class ScreenRun:
    """What the screen found: passed (every projection agreed clearly), the gradient under test with the cotangent
    it was drawn with, the projections, the evaluations of f, and why it did not pass."""

    passed: bool
    gradient: tuple[np.ndarray, ...]
    cotangent: np.ndarray
    evaluations: int
    projections: list[Projection] = field(default_factory=list)
    why: str = ""

    def worst(self) -> float:
        return max((p.relative() for p in self.projections), default=0.0)


def well_scaled(gradient: Sequence[np.ndarray]) -> bool:
    """Whether every element of the gradient is finite and at least SPREAD of the largest (which is > 0)."""
    sizes = np.concatenate([np.abs(np.asarray(g, dtype=float)).ravel() for g in gradient]) if gradient else []
    if not len(sizes) or not np.all(np.isfinite(sizes)):
        return False
    largest = float(np.max(sizes))
    return largest > 0 and float(np.min(sizes)) >= SPREAD * largest


@dataclass
class Plan:
    """The derivatives a screen takes: (label, direction u, the floor of its size) each, the projections first."""

    derivatives: list[tuple[str, list[np.ndarray], float]]
    why: str = ""


Weigh = Callable[[np.ndarray, float], np.ndarray]  # (one argument's gradient, the largest |element|) -> weights


def small_weighted(v: np.ndarray, largest: float) -> np.ndarray:
    """This screen's weights: SMALL_WEIGHT for elements below SPREAD of the largest, 1 for the others."""
    return np.where(np.abs(v) < SPREAD * largest, SMALL_WEIGHT, 1.0)


def plan(args: Sequence[np.ndarray], g: tuple[np.ndarray, ...], projections: int, rng: np.random.Generator,
         weigh: Weigh = small_weighted) -> Plan:
    """`projections` random directions over every element, each element's normal draw times its weight
    (`weigh`; quad_screen weighs by each element's scale); no derivative and why when the gradient does not allow
    a screen."""
    largest, why = _largest_element(args, g)
    if why:
        return Plan([], why)
    weights = [weigh(v, largest) for v in g]
    out = []
    for k in range(projections):
        u = [w * rng.standard_normal(np.shape(x)) for w, x in zip(weights, args, strict=True)]
        out.append((f"projection {k}", u, SIZE_FLOOR * sum(float(np.abs(gv * uv).sum()) for gv, uv in
                                                          zip(g, u, strict=True))))
    return Plan(out)


def _largest_element(args: Sequence[np.ndarray], g: tuple[np.ndarray, ...]) -> tuple[float, str]:
    """The gradient's largest |element|, and why no screen can be planned on it ("" when one can)."""
    if len(g) != len(args) or any(np.shape(v) != np.shape(x) for v, x in zip(g, args, strict=False)):
        return 0.0, "the gradient's shapes differ from the arguments'"
    largest = max((float(np.max(np.abs(v))) for v in g if v.size), default=0.0)
    if not (math.isfinite(largest) and largest > 0) or not all(np.all(np.isfinite(v)) for v in g):
        return 0.0, "the gradient is 0 or not finite"
    return largest, ""


def point_scale(args: Sequence[np.ndarray]) -> float:
    """max(1, the largest |x|) over the arguments: the steps' scale."""
    return max([1.0] + [float(np.max(np.abs(x))) for x in args if x.size])


def tested_along(g: tuple[np.ndarray, ...], u: list[np.ndarray]) -> float:
    """<g, u>, summed exactly (math.fsum of the float64 products)."""
    return math.fsum(float(t) for gv, uv in zip(g, u, strict=True) for t in np.ravel(gv * uv))


Batch = Callable[[list[list[np.ndarray]]], Sequence[Any]]  # f at several points at once, one output per point


def run_screen(f: Callable[..., Any], args: Sequence[np.ndarray], gradient: Callable[[np.ndarray], Sequence[Any]],
               *, projections: int, rng: np.random.Generator, batch: Batch | None = None) -> ScreenRun:
    """`projections` random projections of `gradient(cotangent)` (one array per argument) against differences of
    f (float64 numpy in and out) at `args`, small elements weighted up (`plan`). Stops at the first
    derivative that does not agree clearly. `batch`, when given, evaluates every point of every table in one call
    (a framework's vmap: one dispatch per op instead of one per op and point); if it raises, f runs point by
    point."""
    f0 = validate_output(f(*args), "f(*args)")
    cotangent = np.ones(f0.shape) if f0.size == 1 else rng.standard_normal(f0.shape)
    g = tuple(np.asarray(v, dtype=float) for v in gradient(cotangent))
    run = ScreenRun(False, g, cotangent, 1)
    planned = plan(args, g, projections, rng)
    run.why = planned.why
    table = _Table(f, args, cotangent, float(np.sum(cotangent * f0)), STEP * point_scale(args))
    if batch is not None and planned.derivatives:
        table.prefetch([u for _, u, _ in planned.derivatives], batch)
        run.evaluations += len(table.known)  # every point of every table, whether or not the screen gets there
    for label, u, floor in planned.derivatives:
        projection = table.derivative(u, tested_along(g, u), floor, label)
        run.evaluations += 0 if table.known else 2 * LEVELS
        run.projections.append(projection)
        if not projection.clear:
            run.why = f"{projection.label}: {projection.why}"
            return run
    run.passed = not run.why
    return run


def step_along(u: list[np.ndarray], h: float) -> float:
    """The step along u: h * UNIT_LENGTH / |u| (at most 2 h)."""
    length = math.sqrt(sum(float(np.sum(d * d)) for d in u))
    return h * UNIT_LENGTH / max(length, UNIT_LENGTH / 2)


@dataclass
class _Table:
    """phi(t) = <cotangent, f(x + t u)> and the derivative at t = 0 from its Richardson table."""

    f: Callable[..., Any]
    args: Sequence[np.ndarray]
    cotangent: np.ndarray
    phi0: float
    h: float
    known: dict[tuple[int, float], float] = field(default_factory=dict)  # phi by (id of u, t), from `prefetch`

    def phi(self, u: list[np.ndarray], t: float) -> float:
        if (id(u), t) in self.known:
            return self.known[(id(u), t)]
        return self.project(self.f(*self.moved(u, t)))

    def moved(self, u: list[np.ndarray], t: float) -> list[np.ndarray]:
        return [x + t * d for x, d in zip(self.args, u, strict=True)]

    def project(self, value: Any) -> float:
        return float(np.sum(self.cotangent * validate_output(value, "f(*args)")))

    def prefetch(self, directions: list[list[np.ndarray]], batch: Batch) -> None:
        """phi at every step of every direction from one call of `batch`; nothing when it raises or returns
        something else than one output of f's shape per point (phi then calls f point by point)."""
        keys = [(u, sign * step_along(u, self.h) / 2**k) for u in directions for k in range(LEVELS)
                for sign in (1.0, -1.0)]
        try:
            outputs = list(batch([self.moved(u, t) for u, t in keys]))
            values = [self.project(out) for out in outputs]
        except Exception:  # not batchable (control flow on values, ...): the point-by-point calls say more
            return
        if len(values) == len(keys) and all(np.shape(out) == np.shape(self.cotangent) for out in outputs):
            self.known.update({(id(u), t): v for (u, t), v in zip(keys, values, strict=True)})

    def derivative(self, u: list[np.ndarray], tested: float, floor: float, label: str) -> Projection:
        """The table's value, error and kink measure along u against `tested` (<g, u>), whose size is
        max(|tested|, floor); whether all of them are clear."""
        steps = [step_along(u, self.h) / 2**k for k in range(LEVELS)]
        pairs = [(self.phi(u, s), self.phi(u, -s)) for s in steps]
        d = [(plus - minus) / (2 * s) for (plus, minus), s in zip(pairs, steps, strict=True)]
        r1, r2 = d[1] + (d[1] - d[0]) / 3, d[2] + (d[2] - d[1]) / 3
        value = r2 + (r2 - r1) / 15
        largest = max([abs(self.phi0)] + [abs(v) for pair in pairs for v in pair])
        roundoff = ROUNDOFF_ULPS * F64_EPS * largest * sum(abs(w) / s for w, s in zip(WEIGHTS, steps, strict=True))
        even = [plus + minus - 2 * self.phi0 for plus, minus in pairs]
        jumps = [(even[k] - 4 * even[k + 1]) / steps[k] for k in range(LEVELS - 1)]
        kink = abs(8 * jumps[1] - jumps[0]) / 7
        return Projection(label, tested, value, abs(value - r2) + roundoff, kink, max(abs(tested), floor),
                          [*steps, steps[-1]], [*d, value], False).judge()


def _unclear(p: Projection) -> str:
    """Why a projection is no clear agreement ("" when it is)."""
    limit, kink_limit = p.agreement * p.size, p.kink_agreement * p.size
    if not all(math.isfinite(v) for v in (p.tested, p.value, p.error, p.kink)):
        return "a value is not finite"
    if p.kink > kink_limit:
        return (f"the one-sided slopes differ by ~{p.kink:.1e} (above {kink_limit:.1e}): a kink or a "
                "curvature the steps do not resolve")
    if p.error > limit:
        return f"the table's error estimate {p.error:.1e} is above {limit:.1e}"
    if abs(p.tested - p.value) > limit:
        return f"the gradient and the table differ by {abs(p.tested - p.value):.1e} (above {limit:.1e})"
    return ""

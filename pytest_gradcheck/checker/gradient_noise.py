"""The round-off of a gradient that only runs in float64, measured instead of assumed.

A float64 gradient differs from the exact derivative by its round-off, a fixed error at a fixed point. Its size
is what the spread of the gradient's values over nearby points measures: moved by a relative 1e-9, every
intermediate value of the gradient's code moves by millions of ulps. `measure` evaluates the gradient under test
(the VJP with the check's cotangent) at NOISE_OFFSETS points x + t_k s along a random direction s, and fits each
element (and, being linear, any projection <g, u>) with a quadratic in t: the residuals are the round-off, so that
a projection is judged against its own noise, not against 1e-10 of the sum of its terms.

Why not ECnoise's equally spaced table: the rounding of a function that is linear in t at equally spaced t is a
sawtooth, linear in t between the rare points where it wraps, so every difference of order two and more can be
exactly 0 while the error is several ulps. The t_k are jittered (t_k = k + U(-1/4, 1/4)): a jitter moves the
rounding phase by ~1e5 ulps, so the residuals draw the rounding afresh at every point.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from pytest_gradcheck.checker import verdict

F64_EPS = float(np.finfo(np.float64).eps)  # 2^-52: the unit of float64 rounding
# Extra evaluations of the gradient: with the point itself 9 values per element, 6 degrees of freedom left by a
# quadratic fit, so that the estimated standard deviation is below a twentieth of the true one with probability 1e-7.
NOISE_OFFSETS = 8
# The points' spacing, relative to |x|: intermediate values move by ~1e7 ulps (their rounding is drawn afresh, even
# behind cancellation of 1e-6), while the cubic term of the gradient, ~(8e-9)^3 of its scale, is far below rounding.
OFFSET_SPACING = 1e-9
# The jitter of the points t_k = k + U(-JITTER, JITTER): enough to move every rounding phase, small enough to keep
# the points distinct and the fit well conditioned.
JITTER = 0.25
# The cotangent is scaled by 1 + COTANGENT_SPACING t_k at the offsets (the gradient divided back): a VJP is linear in
# its cotangent, so this changes nothing smooth, but it draws afresh the rounding of the parts of the gradient the
# offsets of x do not move (a bias gradient, a sum of the cotangent's elements with cancellation).
COTANGENT_SPACING = 1e-9
FIT_DEGREE = 2  # the smooth part along the line: value, slope and curvature (the cubic term is below rounding)
# The tolerance is this multiple of the measured noise: the error at the point is one draw of the round-off
# whose spread the fit measures; 100 covers a 5-sigma draw and a low estimate from 6 degrees of freedom (a factor 5
# low with probability 3e-4) with a factor 4 to spare, and still sits 1e4 below a 1e-10 error.
NOISE_SAFETY = 100.0
# Never tighter than this many ulps of the compared quantity: rounding that does not change over the offsets
# (a value on a float64 plateau) and the float64 sum of a projection's terms.
FLOOR_ULPS = 8.0
FLOOR_RTOL = FLOOR_ULPS * F64_EPS


@dataclass(frozen=True)
class GradientNoise:
    """Per argument, the gradient at the point and its offsets (rows) by flat element (columns)."""

    tables: tuple[np.ndarray, ...]
    element: tuple[np.ndarray, ...]  # standard deviation of the fit's residuals per element, in the argument's shape
    points: np.ndarray  # the t_k of the rows (0 first: the point itself)

    def element_allowance(self, argument: int) -> np.ndarray:
        """The absolute allowance for round-off of each element of one argument's gradient."""
        return NOISE_SAFETY * self.element[argument]

    def projected_noise(self, direction: Sequence[np.ndarray | None]) -> float:
        """The noise of <g, u> over the table (arguments whose direction is None left out)."""
        column = np.zeros(NOISE_OFFSETS + 1)
        for table, u in zip(self.tables, direction, strict=True):
            if u is not None:
                column = column + table @ np.asarray(u, dtype=float).ravel()
        return float(fit_noise(column[:, None], self.points)[0])

    def projection_allowance(self, direction: Sequence[np.ndarray | None]) -> float:
        """The absolute allowance for round-off of the projection <g, u>."""
        return NOISE_SAFETY * self.projected_noise(direction)

    def largest_relative(self) -> float:
        """The largest element noise relative to its argument's largest gradient element (for reports)."""
        out = 0.0
        for table, noise in zip(self.tables, self.element, strict=True):
            scale = float(np.max(np.abs(table[0]))) if table.size else 0.0
            if scale > 0 and np.isfinite(scale) and noise.size:
                out = max(out, float(np.max(noise)) / scale)
        return out


def fit_noise(table: np.ndarray, points: np.ndarray) -> np.ndarray:
    """Per column of `table` (rows: values at `points`), the standard deviation of the residuals of a least-squares
    polynomial of FIT_DEGREE; a column with a non-finite value has no measured noise (0: the floor judges it)."""
    finite = np.isfinite(table).all(axis=0)
    out = np.zeros(table.shape[1])
    if finite.any():
        centred = table[:, finite] - table[:1, finite]  # the fit then works on the small changes, not the values
        basis = np.vander(points, FIT_DEGREE + 1)
        coefficients = np.linalg.lstsq(basis, centred, rcond=None)[0]
        residuals = centred - basis @ coefficients
        out[finite] = np.sqrt(np.sum(residuals**2, axis=0) / (len(points) - FIT_DEGREE - 1))
    return out


def offset_steps(args: Sequence[np.ndarray], rng: np.random.Generator) -> list[np.ndarray]:
    """Per argument, the step of the offsets: OFFSET_SPACING times |x| (the argument's largest |x| where x is 0,
    1 for an all-zero argument), with a random sign and a factor in [0.5, 1.5] per element."""
    steps = []
    for x in args:
        size = np.abs(x)
        fill = float(np.max(size)) if size.size and np.max(size) > 0 else 1.0
        factor = rng.uniform(0.5, 1.5, x.shape) * rng.choice([-1.0, 1.0], x.shape)
        steps.append(OFFSET_SPACING * np.where(size > 0, size, fill) * factor)
    return steps


def measure(gradient: Callable[..., Sequence[np.ndarray]], args: Sequence[np.ndarray], at_point: Sequence[np.ndarray],
            rng: np.random.Generator) -> GradientNoise:
    """The noise table of `gradient` (called as gradient(*xs, scale=s), one array per argument, s the cotangent's
    scale) around `args`, where its value `at_point` is already known: NOISE_OFFSETS evaluations of the gradient,
    none of f."""
    steps = offset_steps(args, rng)
    points = np.concatenate([[0.0], np.arange(1, NOISE_OFFSETS + 1) + rng.uniform(-JITTER, JITTER, NOISE_OFFSETS)])
    rows = [tuple(at_point)]
    for t in points[1:]:
        xs = (x + t * s for x, s in zip(args, steps, strict=True))
        rows.append(tuple(gradient(*xs, scale=1.0 + COTANGENT_SPACING * t)))
    tables = tuple(np.stack([np.asarray(row[a], dtype=float).ravel() for row in rows]) for a in range(len(args)))
    element = tuple(fit_noise(t, points).reshape(np.shape(x)) for t, x in zip(tables, args, strict=True))
    return GradientNoise(tables, element, points)


def note(noise: GradientNoise) -> str:
    """What the verdict used, for the result's notes."""
    return (f"float64 gradient: its round-off measured over {NOISE_OFFSETS} extra gradient evaluations at offsets "
            f"of ~{OFFSET_SPACING:g} relative (largest element noise {noise.largest_relative():.1e} of its "
            f"argument's scale); tolerance {NOISE_SAFETY:g} x the measured noise (of each element, and of each "
            f"projection) + {FLOOR_ULPS:g} ulps")


def apply(setup: Any, options: Any) -> None:
    """A float64-only gradient: measure its round-off (NOISE_OFFSETS gradient evaluations) and
    judge its formula against that instead of FLOAT_RTOL; not with a user's rtol, nor for float32 arguments."""
    if options.rtol is not None or np.result_type(*setup.args) != np.float64 or setup.gradient64 is None:
        return
    rng = np.random.default_rng([0 if options.seed is None else options.seed, 1])  # not the check's own stream
    setup.noise = measure(setup.gradient64, setup.args, setup.g64, rng)
    setup.tol = verdict.with_measured_noise(setup.tol, user_rtol=options.rtol, floor_rtol=FLOOR_RTOL,
                                            largest=setup.noise.largest_relative(),
                                            safety=NOISE_SAFETY)
    setup.evaluator.notes.append(note(setup.noise))

"""The round-off of a gradient that only runs in float64, measured instead of assumed.

A float64 gradient differs from the exact derivative by its round-off, a fixed error at a fixed point. Its size
is what the spread of the gradient's values over nearby points measures: moved by a relative 1e-9, every
intermediate value of the gradient's code moves by millions of ulps, so its rounding is drawn afresh, while the
smooth change of the gradient (linear in the offset to ~1e-18 relative) vanishes from second differences on.
`measure` evaluates the gradient under test (the VJP with the check's cotangent) at NOISE_OFFSETS equally spaced
offsets along a random direction and keeps the table of values; ECnoise (More & Wild, as for f in
`float64_differences`) gives the noise of every element, and that of any projection <g, u> from the projected
table, so that a projection is judged against its own noise, not against 1e-10 of the sum of its terms.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from pytest_gradcheck.float64_differences import ecnoise

F64_EPS = float(np.finfo(np.float64).eps)  # 2^-52: the unit of float64 rounding
# Extra evaluations of the gradient: with the point itself a 7-row ECnoise table (More & Wild's recommendation).
NOISE_OFFSETS = 6
# Offsets k * 1e-9 * |x|: intermediate values move by ~1e7 ulps (their rounding is drawn afresh, even behind
# cancellation of 1e-6), while the gradient's curvature contributes ~(6e-9)^2 = 4e-17 of its scale, below rounding.
OFFSET_SPACING = 1e-9
# The tolerance is this multiple of the measured noise: the error at the point is one draw of the round-off
# whose spread the table measures; 100 covers a 5-sigma draw, heavy tails and ECnoise's 7-point estimate (a
# factor ~3 low at worst) with an order of magnitude to spare, and still sits 1e4 below a 1e-10 error.
NOISE_SAFETY = 100.0
# Never tighter than this many ulps of the compared quantity: rounding that does not change over the offsets
# (a value on a float64 plateau) and the float64 sum of a projection's terms.
FLOOR_ULPS = 8.0
FLOOR_RTOL = FLOOR_ULPS * F64_EPS


@dataclass(frozen=True)
class GradientNoise:
    """Per argument, the gradient at the point and its offsets (rows) by flat element (columns)."""

    tables: tuple[np.ndarray, ...]
    element: tuple[np.ndarray, ...]  # ECnoise standard deviation per element, in the argument's shape

    def element_allowance(self, argument: int) -> np.ndarray:
        """The absolute allowance for round-off of each element of one argument's gradient."""
        return NOISE_SAFETY * self.element[argument]

    def projected_noise(self, direction: Sequence[np.ndarray | None]) -> float:
        """ECnoise of <g, u> over the table (arguments whose direction is None left out)."""
        column = np.zeros(NOISE_OFFSETS + 1)
        for table, u in zip(self.tables, direction, strict=True):
            if u is not None:
                column = column + table @ np.asarray(u, dtype=float).ravel()
        return float(_noise(column[:, None])[0])

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


def _noise(table: np.ndarray) -> np.ndarray:
    """ECnoise per column; a column with a non-finite value has no measured noise (0: the floor judges it)."""
    finite = np.isfinite(table).all(axis=0)
    out = np.zeros(table.shape[1])
    if finite.any():
        out[finite] = ecnoise(table[:, finite])
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
    """The noise table of `gradient` (called as gradient(*xs), one array per argument) around `args`, where its
    value `at_point` is already known: NOISE_OFFSETS evaluations of the gradient, none of f."""
    steps = offset_steps(args, rng)
    rows = [tuple(at_point)]
    for k in range(1, NOISE_OFFSETS + 1):
        rows.append(tuple(gradient(*(x + k * s for x, s in zip(args, steps, strict=True)))))
    tables = tuple(np.stack([np.asarray(row[a], dtype=float).ravel() for row in rows]) for a in range(len(args)))
    element = tuple(_noise(t).reshape(np.shape(x)) for t, x in zip(tables, args, strict=True))
    return GradientNoise(tables, element)


def note(noise: GradientNoise) -> str:
    """What the verdict used, for the result's notes."""
    return (f"float64 gradient: its round-off measured over {NOISE_OFFSETS} extra gradient evaluations at offsets "
            f"of ~{OFFSET_SPACING:g} relative (largest element noise {noise.largest_relative():.1e} of its "
            f"argument's scale); tolerance {NOISE_SAFETY:g} x the measured noise (of each element, and of each "
            f"projection) + {FLOOR_ULPS:g} ulps")

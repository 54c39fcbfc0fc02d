"""The float64 fallback: a directional derivative of a function that only computes in float64.

Its noise is measured (`float64_noise`: a fit at jittered points, so that float32 stairs inside f count as the
noise they are), |phi'''| estimated, and one central difference taken at the step that minimises truncation plus
noise. A kink must survive that noise (`confirm_kinks`). `ecnoise` (More and Wild's estimator on an equally
spaced table) is kept for callers that have such a table. Conventions (``phi``, ``scale``, `Derivative`) as in
`differences`.
"""

from __future__ import annotations

import math

import numpy as np

from pytest_gradcheck.checker.differences import (
    KINK_WEIGHT,
    ONE_SIDED_WEIGHT,
    Attempt,
    Derivative,
    Phi,
    Stencil,
    assemble,
    check_scale,
    phi_at_zero,
    stencil,
)

__all__ = ["ecnoise", "float64_derivative"]

F64_EPS = float(np.finfo(np.float64).eps)  # 2^-52: the unit of float64 rounding (noise floor, smallest step)
NOISE_SPACING = 1e-6  # noise table spacing: over 8 of them a smooth f is a cubic to ~1e-21 (see FIT_DEGREE)
NOISE_POINTS = 8  # noise table: 8 points per side and phi(0), a cubic fit leaves 5 degrees of freedom
FIT_DEGREE = 3  # over 8 spacings (8e-6 scale) a smooth f's quartic term is ~1e-21: below any round-off
# Jittered positions k + J_k, J_k fixed pseudo-random in [-0.4, 0.4] (distinct, ordered): no pattern a rounding
# grid can follow (a Weyl sequence k * golden would not do: on a grid of whole ulps its offsets drift linearly too)
JITTER = np.random.default_rng(20111).uniform(-0.4, 0.4, NOISE_POINTS)
NOISE_LADDER = (NOISE_SPACING, 1e-4)  # a staircase wider than the table is measured again at 100x the spacing
# Constant over the table: probed at 1e-4 ... 1e-1 of the scale for stairs (a dead zone wider than that passes
# for flat)
STAIR_PROBES = (1e-4, 1e-3, 1e-2, 1e-1)
TIED_SHARE = 0.5  # more than half of neighbouring values exactly equal: the table sits inside one stair
NOISE_BOUND = 3.0  # float64: one evaluation's error is bounded by 3 standard deviations of its noise
THIRD_STEPS = (2e-2, 2e-3, 2e-4)  # f''' ladder: large enough for f''' h^3 >> noise, small for f^(5) h^2 << f'''
THIRD_AGREEMENT = 0.5  # f''' estimates within 50% (h* moves by under 15%, the cube root) are settled
STEP_RANGE = (1e3 * F64_EPS, 1e-2)  # float64 steps: x + t u moves >= 1000 ulps; no larger than f''' was seen
STEP_RATIO = 8.0  # unresolved components are retried at steps 8x apart: up from h* first (less noise), then down
KINK_STEPS = 3  # a kink must show at 3 steps, each analysed with its own noise bound
KINK_MARGIN = 3.0  # ... with a jump of one-sided derivatives beyond 3x their summed error bounds at each
MODEL_SLACK = 10.0  # float64: estimates at h and 2h disagreeing by 10x their bounds -> "not_converged"


def ecnoise(values: np.ndarray) -> np.ndarray:
    """Noise standard deviation per column of `values` (rows: equally spaced points), after More & Wild.

    The k-th differences of noise have variance (2k)!/(k!)^2 sigma^2 whatever the smooth part does once
    it is negligible; the level is accepted where three successive orders agree within a factor 4 and the
    differences change sign. Elsewhere the smallest level, an upper bound, is returned.
    """
    levels, signs, diff, gamma = [], [], values, 1.0
    for k in range(1, values.shape[0]):
        diff = np.diff(diff, axis=0)
        gamma *= 0.5 * k / (2 * k - 1)  # gamma_k = (k!)^2 / (2k)!
        levels.append(np.sqrt(gamma * np.mean(diff**2, axis=0)))
        signs.append(diff.min(axis=0) * diff.max(axis=0) < 0)
    noise = np.min(levels, axis=0)
    for k in reversed(range(len(levels) - 2)):  # the lowest accepted order wins
        window = np.stack(levels[k : k + 3])
        accept = signs[k] & (window.max(axis=0) <= 4 * window.min(axis=0))  # 4: More & Wild's agreement
        noise = np.where(accept, levels[k], noise)
    return noise


def _fit_noise(ts: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Noise standard deviation per column: the residual of a cubic least-squares fit over the points ts."""
    tau = ts / np.max(np.abs(ts))
    design = np.stack([tau**k for k in range(FIT_DEGREE + 1)], axis=1)
    centred = values - values[0]
    coefficients = np.linalg.lstsq(design, centred, rcond=None)[0]
    residual = centred - design @ coefficients
    return np.sqrt(np.sum(residual**2, axis=0) / (len(ts) - FIT_DEGREE - 1))


def _ties(values: np.ndarray) -> np.ndarray:
    """Per column: the share of neighbouring table values that are exactly equal."""
    return np.mean(np.diff(values, axis=0) == 0, axis=0)


def _float32_quantum(values: np.ndarray, moving: np.ndarray) -> np.ndarray:
    """Per column: float32's spacing at the largest |value| if every value is a float32 number and the column
    moves on either side of 0 (`moving`: an output the direction leaves at 1.5, say, is no float32 stair), else 0."""
    with np.errstate(over="ignore"):
        narrow = np.all(values.astype(np.float32).astype(float) == values, axis=0) & moving
    return np.where(narrow, np.spacing(np.max(np.abs(values), axis=0).astype(np.float32)).astype(float), 0.0)


def float64_noise(phi: Phi, f0: np.ndarray, scale: float) -> tuple[np.ndarray, int]:
    """Noise standard deviation of one evaluation, per component, and the evaluations spent (16 or more).

    On each side of 0 (so that a kink at 0 does not pass for noise), NOISE_POINTS points at jittered
    positions: a regular grid can meet rounding whose error drifts linearly (each step exactly m float32
    ulps of the output), which no difference table sees; at irregular positions rounding looks like the
    noise it is. Its level is the residual of a cubic fit. The sides agreeing within a factor 4 give the
    larger, otherwise the smaller (the other saw a kink). A staircase wider than the table (most neighbours
    exactly equal, yet not all) climbs NOISE_LADDER; the largest level seen counts. Floors: half an ulp of
    |phi(0)|, and for outputs that are float32 numbers float32's rounding, spacing / sqrt(12).
    """
    noise, evaluations = np.zeros(f0.shape), 0
    for spacing in NOISE_LADDER:
        sides, tied, flat = [], np.zeros(f0.shape, dtype=bool), np.ones(f0.shape, dtype=bool)
        tables = []
        for sign in (1.0, -1.0):
            ts = np.concatenate([[0.0], sign * spacing * scale * (np.arange(1, NOISE_POINTS + 1) + JITTER)])
            tables.append((ts, np.stack([f0, *(np.asarray(phi(float(t)), dtype=float) for t in ts[1:])])))
        moving = np.any(np.concatenate([values for _, values in tables]) != f0, axis=0)
        for ts, values in tables:
            sides.append(np.maximum(_fit_noise(ts, values), _float32_quantum(values, moving) / math.sqrt(12)))
            share = _ties(values)
            tied, flat = tied | ((share > TIED_SHARE) & (share < 1)), flat & (share == 1)
        evaluations += 2 * NOISE_POINTS
        low, high = np.minimum(*sides), np.maximum(*sides)
        noise = np.maximum(noise, np.where(high <= 4 * low, high, low))  # 4: More & Wild's agreement factor
        if not tied.any():
            break
    if flat.any():  # constant over the table: f ignores this direction, or its stairs are wider than the table
        noise, spent = _wide_stairs(phi, f0, scale, flat, noise)
        evaluations += spent
    return np.maximum(noise, 0.5 * F64_EPS * np.abs(f0)), evaluations


def _wide_stairs(phi: Phi, f0: np.ndarray, scale: float, flat: np.ndarray, noise: np.ndarray) -> tuple[np.ndarray, int]:
    """Components constant over the noise table that, probed at growing steps (STAIR_PROBES), move on both
    sides: stairs wider than the table (float16 inside, rounding to a few digits). Their noise is the smallest
    move seen (one stair, or a few) over sqrt(12), a stair's rounding error uniform over its height: an upper
    bound, so that the reference says what it cannot resolve. A move on one side only is a kink or an edge
    nearby, for the kink tests; no move at all, a direction f ignores."""
    evaluations, smallest = 0, np.full(f0.shape, np.inf)
    moved = [np.zeros(f0.shape, dtype=bool), np.zeros(f0.shape, dtype=bool)]
    for probe in STAIR_PROBES:
        for side, t in enumerate((probe * scale, -probe * scale)):
            change = np.abs(np.asarray(phi(t), dtype=float) - f0)
            moved[side] |= change > 0
            smallest = np.where(change > 0, np.minimum(smallest, change), smallest)
        evaluations += 2
        if (moved[0] & moved[1] | ~flat).all():
            break
    stairs = flat & moved[0] & moved[1]
    return np.where(stairs, np.maximum(noise, np.where(stairs, smallest, 0) / math.sqrt(12)), noise), evaluations


def third_derivative(phi: Phi, bound: np.ndarray, scale: float) -> tuple[np.ndarray, list, list, int]:
    """An upper estimate of |phi'''| from central differences at H, H/2, H/4 down THIRD_STEPS.

    T(H/2) = 8 (D(H) - D(H/2)) / H^2; |T| plus its change to T(H/4) plus its round-off. A component is
    settled at the first H where T(H/2) and T(H/4) agree within THIRD_AGREEMENT (or within round-off).
    Returns the estimate, the steps and central differences computed, and the evaluations spent.
    """
    found, settled_any, steps, estimates = None, np.zeros(bound.shape, dtype=bool), [], []
    for rel in THIRD_STEPS:
        hs = [rel * scale / 2**k for k in range(3)]
        d = [(np.asarray(phi(h), dtype=float) - np.asarray(phi(-h), dtype=float)) / (2 * h) for h in hs]
        steps, estimates = steps + hs, estimates + d
        t_big, t_small = 8 * (d[0] - d[1]) / hs[0] ** 2, 8 * (d[1] - d[2]) / hs[1] ** 2
        noise_big = 24 * bound / hs[0] ** 3  # D(h) round-off <= bound / h, so T(H/2) <= 8 (1 + 2) / H^3
        change, noise_small = np.abs(t_big - t_small), 8 * noise_big
        f3 = np.abs(t_small) + change + noise_small
        settled = change <= THIRD_AGREEMENT * np.abs(t_small) + noise_big + noise_small
        found = f3 if found is None else np.where(settled_any, found, f3)
        settled_any |= settled
        if settled_any.all():
            break
    return found, steps, estimates, 2 * len(steps)


def _float64_attempt(st: Stencil, f3: np.ndarray, bound: np.ndarray) -> Attempt:
    def total(h: float) -> np.ndarray:  # truncation f''' h^2 / 6 plus round-off bound / h
        return f3 * h * h / 6 + bound / h

    spread = np.abs(st.d_small - st.d_big)
    converged = spread <= MODEL_SLACK * (total(st.h) + total(st.h / 2))
    error = np.maximum(total(st.h / 2), spread)
    return Attempt(st, st.d_small, error, np.abs(st.kink) > KINK_WEIGHT * bound, converged, bound)


def retry_steps(h: float, scale: float) -> list[float]:
    """Steps after h*, for components it did not resolve: up by STEP_RATIO while within STEP_RANGE (noise
    shrinks as 1/h), then down; KINK_STEPS in all with h*."""
    low, high = STEP_RANGE[0] * scale, STEP_RANGE[1] * scale
    up = [h * STEP_RATIO**k for k in range(1, KINK_STEPS) if h * STEP_RATIO**k <= high * (1 + 1e-12)]
    down = [h / STEP_RATIO**k for k in range(1, KINK_STEPS) if h / STEP_RATIO**k >= low]
    return [*up, *down][: KINK_STEPS - 1]


def confirm_kinks(attempts: list[Attempt]) -> tuple[np.ndarray, np.ndarray]:
    """Kinks that survive noise: flagged at KINK_STEPS steps, the left and the right derivative each steady
    across them (within their error bounds, one-sided change plus ONE_SIDED_WEIGHT noise bounds / h), and
    their difference beyond KINK_MARGIN times those bounds at every step. Noise, however it is underestimated,
    gives one-sided slopes that move with h; a kink gives the same two limits at every step. Returns the
    confirmed mask and, per component, the attempt with the smallest one-sided error (its left and right)."""
    if len(attempts) < KINK_STEPS:
        return np.zeros(np.shape(attempts[0].kinked), dtype=bool), np.zeros(np.shape(attempts[0].kinked), dtype=int)
    errors = np.stack([a.stencil.side_change + ONE_SIDED_WEIGHT * a.bound / a.stencil.h for a in attempts])
    lefts, rights = np.stack([a.stencil.left for a in attempts]), np.stack([a.stencil.right for a in attempts])
    best = np.argmin(errors, axis=0)
    cols = np.arange(best.size)
    steady = np.ones(best.shape, dtype=bool)
    for sides in (lefts, rights):
        steady &= np.all(np.abs(sides - sides[best, cols]) <= errors + errors[best, cols], axis=0)
    apart = np.all(np.abs(rights - lefts) > KINK_MARGIN * 2 * errors, axis=0)
    return np.all([a.kinked for a in attempts], axis=0) & steady & apart, best


def step_groups(f3: np.ndarray, bound: np.ndarray, scale: float) -> list[tuple[float, np.ndarray]]:
    """Steps and the components each serves: every component's own h* = (3 bound / f''')^(1/3), rounded to
    a grid STEP_RATIO apart anchored at the h* of the summed bounds (so components alike share one step).
    One step cannot serve all: at a step far above a component's own h* its truncation, not its noise,
    dominates its difference and kink measure (f'''' h^4 / 16 beyond 16 bounds reads as a kink). Components
    with no measured f''' (constant along u) take the anchor. Anchor first, then by size."""
    low, high = STEP_RANGE[0] * scale, STEP_RANGE[1] * scale
    total_f3, total_bound = float(np.sum(f3)), float(np.sum(bound))
    anchor = float(np.clip((3 * total_bound / total_f3) ** (1 / 3) if total_f3 > 0 else math.inf, low, high))
    own = np.clip(np.cbrt(3 * bound / np.where(f3 > 0, f3, 1.0)), low, high)
    grid = np.where(f3 > 0, np.round(np.log(own / anchor) / math.log(STEP_RATIO)), 0).astype(int)
    ks = sorted(set(np.ravel(grid).tolist()), key=lambda k: (k != 0, k))
    return [(float(np.clip(anchor * STEP_RATIO**k, low, high)), grid == k) for k in ks]


def _resolve(phi: Phi, f0: np.ndarray, f3: np.ndarray, bound: np.ndarray, step: float, mask: np.ndarray,
             scale: float) -> list[Attempt]:
    """The attempts for the components in `mask`: a stencil at `step`, then `retry_steps` while some of them
    are unresolved. Outside `mask` an attempt counts as not converged (those components have their own step)."""
    attempts: list[Attempt] = []
    for h in (step, *retry_steps(step, scale)):
        st = stencil(lambda t: np.asarray(phi(float(t)), dtype=float), f0, 2 * h)
        attempt = _float64_attempt(st, f3, bound)
        attempts.append(attempt._replace(converged=attempt.converged & mask))
        if (np.stack([a.converged & ~a.kinked for a in attempts]).any(axis=0) | ~mask).all():
            break
    return attempts


def float64_derivative(phi: Phi, *, scale: float, phi0: np.ndarray | None = None) -> Derivative:
    """J u in float64: per component a central difference at the step minimising truncation + round-off.

    Noise sigma from `float64_noise` (at least the input rounding), |phi'''| from `third_derivative`; with
    a bound of NOISE_BOUND sigma per evaluation, the total bound f''' h^2/6 + 3 sigma/h is smallest at
    h* = (9 sigma / f''')^(1/3), per component on a grid of steps (`step_groups`; one step when components
    are alike). The value is D(h*); its error is that bound, or the spread |D(2h*) - D(h*)| if larger; a
    spread beyond MODEL_SLACK times the bounds is "not_converged". Components that a kink signature or
    disagreeing estimates leave unresolved are retried at `retry_steps`; a kink must pass `confirm_kinks`.
    27 evaluations on a smooth function (26 with `phi0`), 4 more per further step group, more for staircases
    and unresolved components.
    """
    check_scale(scale)
    f0, evaluations = phi_at_zero(phi, 0.0, phi0)
    f0 = np.asarray(f0, dtype=float)
    sigma, spent = float64_noise(phi, f0, float(scale))
    f3, steps, estimates, third = third_derivative(phi, NOISE_BOUND * sigma, float(scale))
    # x + t u is rounded too: phi moves by up to half an ulp of scale times |phi'|. It is a floor.
    sigma = np.maximum(sigma, 0.5 * F64_EPS * float(scale) * np.abs(estimates[-1]))
    bound = NOISE_BOUND * sigma
    evaluations += spent + third
    attempts: list[Attempt] = []
    confirmed, best = np.zeros(f0.shape, dtype=bool), np.zeros(f0.shape, dtype=int)
    for step, mask in step_groups(f3, bound, float(scale)):
        group = _resolve(phi, f0, f3, bound, step, mask, float(scale))
        kinks, first = confirm_kinks(group)
        confirmed, best = np.where(mask, kinks, confirmed), np.where(mask, first + len(attempts), best)
        attempts += group
    for a in attempts:
        steps, estimates = [*steps, a.stencil.h, a.stencil.h / 2], [*estimates, a.stencil.d_big, a.stencil.d_small]
    evaluations += 4 * len(attempts)
    derivative = assemble(attempts, confirmed, best, "float64", evaluations, steps, estimates)
    return derivative._replace(noise=sigma)

"""float64_differences: the float64 fallback's accuracy, noise-driven step, kinks, and ECnoise."""

import math

import numpy as np
import pytest

from pytest_gradcheck.checker import float64_differences as f64

EPS64 = float(np.finfo(float).eps)

FLOAT64 = [
    (np.exp, np.exp),
    (np.sin, np.cos),
    (np.log, lambda x: 1 / x),
    (np.tanh, lambda x: 1 - np.tanh(x) ** 2),
    (lambda x: x**5 - 3 * x**3, lambda x: 5 * x**4 - 9 * x**2),
]


def test_float64_smooth_within_bound_near_the_optimum():
    """200 cases: all within the reported bound; the bound is ~eps^(2/3) |f'| (the central-difference optimum)."""
    rng = np.random.default_rng(3)
    covered, ratios, evaluations = [], [], set()
    for x0 in rng.uniform(0.2, 3.0, 40):
        for f, df in FLOAT64:
            d = f64.float64_derivative(lambda t, f=f, x0=x0: np.array([f(x0 + t)]), scale=max(1.0, x0))
            true = float(df(np.longdouble(x0)))
            covered.append(abs(d.value[0] - true) <= d.error[0])
            ratios.append(d.error[0] / (EPS64 ** (2 / 3) * max(abs(true), abs(f(x0)))))
            evaluations.add(d.evaluations)
    assert np.mean(covered) >= 0.99
    assert 0.3 < np.median(ratios) < 10 and np.percentile(ratios, 95) < 30
    assert evaluations <= {27, 33, 39}  # phi(0), 16 for the noise, 6 to 18 for phi''', 4 for the stencil


def test_float64_vector_shares_one_step_and_covers():
    x = np.linspace(0.2, 2.5, 12)
    d = f64.float64_derivative(lambda t: np.concatenate([np.exp(x + t), np.sin(x + t)]), scale=2.5)
    true = np.concatenate([np.exp(x), np.cos(x)])
    assert d.status == "ok" and len(set(d.step)) == 1
    assert np.all(np.abs(d.value - true) <= d.error) and np.all(d.error < 1e-8 * np.maximum(1, np.abs(true)))


def test_float64_tiny_moving_component_among_constants_takes_its_own_step():
    """One component moves (exp at -20: value and derivative 2e-9), the others are constant along u with noise
    floors ~1e-14: the step their summed bounds suggest sits far above the small one's own optimum, where its
    truncation reads as a kink. Each component gets its own step: ok, covered, accurate to its own noise."""
    others = np.array([-1.0, 0.5, 10.0, 20.0])
    d = f64.float64_derivative(lambda t: np.concatenate([[np.exp(-20.0 + t)], others]), scale=20.0)
    true = np.concatenate([[float(np.exp(np.longdouble(-20)))], np.zeros(4)])
    assert d.status == "ok", d.component_status
    assert np.all(np.abs(d.value - true) <= d.error)
    assert d.error[0] < 1e-6 * true[0]  # 1e-6: float64 central differences reach ~eps^(2/3) = 4e-11 of f'
    assert d.step[0] < d.step[1] / 8  # 8: STEP_RATIO, the grid of steps


def test_float64_noisy_function_takes_a_larger_step():
    rng = np.random.default_rng(5)
    clean = f64.float64_derivative(lambda t: np.array([np.exp(1 + t)]), scale=1.0)
    noisy = f64.float64_derivative(lambda t: np.array([np.exp(1 + t) * (1 + 1e-10 * rng.standard_normal())]),
                                   scale=1.0)
    assert noisy.step[0] > 10 * clean.step[0]
    assert 1e-10 / 3 < noisy.noise[0] / math.e < 3e-10
    assert abs(noisy.value[0] - math.e) <= noisy.error[0] and noisy.error[0] > 10 * clean.error[0]


@pytest.mark.parametrize(("phi", "left", "right"), [
    (lambda t: np.array([abs(t)]), -1, 1),
    (lambda t: np.array([max(t, 0.0)]), 0, 1),
    (lambda t: np.array([max(0.5 + 2 * t, 0.5 - t)]), -1, 2),
])
def test_float64_kinks(phi, left, right):
    d = f64.float64_derivative(phi, scale=1.0)
    assert d.status == "nondifferentiable"
    assert abs(d.left[0] - left) < 1e-6 and abs(d.right[0] - right) < 1e-6


def test_ecnoise_recovers_white_noise():
    rng = np.random.default_rng(11)
    t = np.linspace(0, 6e-6, 7)[:, None]
    estimates = f64.ecnoise(np.sin(1 + t) + 1e-9 * rng.standard_normal((7, 400)))
    assert 0.8e-9 < np.median(estimates) < 1.25e-9 and np.mean((estimates > 0.25e-9) & (estimates < 4e-9)) > 0.95


# f(x) = sum(sin(y) y), y = x.astype(float32), along element 4 of this point (x4 = -0.1204): on a regular
# grid of spacing 1e-6 every step moves f by exactly two float32 ulps, so the rounding error drifts linearly
# and a difference table sees no noise at all.
STAIR_POINT = np.array([-0.47374109, 0.54229404, 0.14789166, -0.73056844, -0.12037150757434709, -0.03770766,
                        -0.61246995, 0.42223887])


def _float32_phi(x: np.ndarray, i: int):
    def phi(t):
        y = x.copy()
        y[i] += t
        y = y.astype(np.float32)
        return np.array([float(np.sum(np.sin(y) * y))])

    return phi


def test_float32_rounding_that_drifts_linearly_is_measured_at_jittered_points():
    phi = _float32_phi(STAIR_POINT, 4)
    f0 = phi(0.0)
    regular = np.stack([phi(1e-6 * k) for k in range(7)])  # the table the noise used to be measured on
    assert float(f64.ecnoise(regular)[0]) < 1e-14  # blind: the table is exactly linear
    sigma, _ = f64.float64_noise(phi, f0, 1.0)
    ulp32 = float(np.spacing(np.float32(f0[0])))
    assert 0.1 * ulp32 < sigma[0] < 10 * ulp32  # float32 rounding of the output, about ulp / sqrt(12)


def test_input_rounding_on_a_grid_of_whole_ulps_is_measured_at_jittered_points():
    """y = float32(x): a table spaced by exactly 10 float32 ulps of x0 = 1.5 lands on the float32 grid, so it
    sees the smooth function and no noise; jittered points land between and see the stairs, |f'| ulp / sqrt(12)."""
    ulp = float(np.spacing(np.float32(1.5)))

    def phi(t):
        y = float(np.float32(1.5 + t))
        return np.array([np.sin(y) * y])

    scale = 10 * ulp / f64.NOISE_SPACING  # the table's spacing: exactly 10 ulps
    regular = np.stack([phi(f64.NOISE_SPACING * scale * k) for k in range(7)])
    assert float(f64.ecnoise(regular)[0]) < 1e-15
    sigma, _ = f64.float64_noise(phi, phi(0.0), scale)
    slope = np.cos(1.5) * 1.5 + np.sin(1.5)
    assert 0.3 < sigma[0] / (abs(slope) * ulp / math.sqrt(12)) < 3


def test_float32_staircase_derivative_is_smooth_and_covered():
    """At 60 points, a float32-internal f: never a kink, never unresolved, the true derivative within the
    error bound, and the bound a few 1e-4 of it (the resolution float32 noise allows)."""
    rng = np.random.default_rng(2)
    statuses, covered, relative = [], [], []
    for _ in range(60):
        x, i = rng.uniform(-3, 3, 6), int(rng.integers(6))
        d = f64.float64_derivative(_float32_phi(x, i), scale=float(np.max(np.abs(x))))
        true = np.cos(x[i]) * x[i] + np.sin(x[i])
        statuses.append(d.status)
        covered.append(abs(d.value[0] - true) <= d.error[0])
        relative.append(d.error[0] / max(abs(true), 1e-3))
    assert set(statuses) == {"ok"}
    assert np.mean(covered) >= 0.95 and np.median(relative) < 1e-3


def test_noise_alone_never_confirms_a_kink():
    """Three stencils on a float32 staircase analysed with a bound 1e4 times too small: every one is flagged
    kinked, yet the one-sided slopes move with the step, so no kink is confirmed. |t| + float32 noise is."""
    def attempts(phi, h, bound):
        f0 = phi(0.0)
        return [f64._float64_attempt(f64.stencil(phi, f0, 2 * s), np.zeros(1), np.array([bound]))
                for s in (h, h / 8, h / 64)]

    stair = attempts(_float32_phi(STAIR_POINT, 1), 1e-4, 1e-11)
    assert all(a.kinked[0] for a in stair)
    assert not f64.confirm_kinks(stair)[0][0]
    kinked = attempts(lambda t: np.array([float(np.float32(1 + abs(t) + np.sin(t)))]), 1e-2, 1e-7)
    confirmed, best = f64.confirm_kinks(kinked)
    assert confirmed[0]
    assert abs(kinked[best[0]].stencil.left[0] - 0.0) < 1e-3 and abs(kinked[best[0]].stencil.right[0] - 2.0) < 1e-3


def test_a_kink_survives_float32_noise():
    d = f64.float64_derivative(lambda t: np.array([float(np.float32(1 + abs(t) + np.sin(t)))]), scale=1.0)
    assert d.status == "nondifferentiable"
    assert abs(d.left[0]) < 1e-3 and abs(d.right[0] - 2) < 1e-3


def test_stairs_wider_than_the_noise_table_are_noise_not_a_zero_derivative():
    """float16 inside: the stairs (0.0625 wide) hide the slope from every step up to 1e-2; without the wider
    probe the derivative reads 0 +- 1e-10, a false verdict against any correct gradient."""
    x0 = 100.3

    def phi(t):
        return np.array([float(np.float16(x0 + t)) ** 2])

    d = f64.float64_derivative(phi, scale=x0)
    assert d.status == "ok" and abs(d.value[0] - 2 * x0) <= d.error[0]  # the truth is inside the error
    flat = f64._wide_stairs(phi, phi(0.0), x0, np.array([True]), np.zeros(1))[0]
    assert flat[0] > 1  # measured at the probe: a stair's height over sqrt(12)


def test_an_output_the_direction_does_not_move_is_no_float32_stair():
    """Full mode moves one element: the other outputs stay put, and one that happens to be a float32 number (1.5)
    must not get float32's rounding as its noise (it hid errors of 1e-5 in float64-only checks)."""
    noise, _ = f64.float64_noise(lambda t: np.array([1.5, 3.0 * (0.1 + t)]), np.array([1.5, 0.3]), 1.0)
    assert noise[0] < 1e-15 and noise[1] < 1e-14

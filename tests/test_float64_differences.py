"""float64_differences: the float64 fallback's accuracy, noise-driven step, kinks, and ECnoise."""

import math

import numpy as np
import pytest

from pytest_gradcheck import float64_differences as f64

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

"""Library patterns on their own: float32 internals, dtype branches, np.finfo clipping, solves with a tolerance,
and compiled calls without a high-precision twin (math.fsum over float(), np.frompyfunc, np.vectorize).

Each builder takes a seeded generator and returns `(f, grad, chain_bug, args)`; `chain_bug` is the gradient
with one chain factor left out.
"""

from __future__ import annotations

import math

import numpy as np
from scipy.special import digamma, expit, ndtr

SCALE = 1.5  # an inner factor, so that leaving out its chain factor changes every element


def _sin_times_x(dtype):
    """f(x) = sum(sin(s y) y) with y = x.astype(dtype); float32: the gradient is the smooth float64 derivative."""

    def build(rng):
        def f(x):
            y = x.astype(dtype)
            return np.sum(np.sin(SCALE * y) * y)

        def gradient(x, inner=SCALE):
            return (np.sin(SCALE * x) + inner * x * np.cos(SCALE * x),)

        return f, gradient, lambda x: gradient(x, inner=1.0), (rng.normal(scale=1.5, size=6),)

    return build


def _softplus(x):
    """log(1 + e^x) with cut-offs chosen by dtype, as the library writes it."""
    x = np.asarray(x)
    if x.dtype == np.float64:
        lower, upper = -37.0, 33.3  # float64: e^x below -37 and x above 33.3 are exact to round-off
    else:
        lower, upper = -17.0, 9.0  # float32's cut-offs
    return np.where(x < lower, np.exp(x), np.where(x > upper, x, np.log1p(np.exp(x))))


def softplus_dtype_branch(rng):
    """f(x) = sum(c softplus(x / 2)) at x / 2 = [-20, -1, 0.5, 10, 20]: the float64 branch is exact there."""
    c = rng.normal(size=5)
    half = 0.5  # the inner factor

    def f(x):
        return np.sum(c * _softplus(half * x))

    def gradient(x, inner=half):
        return (c * inner * expit(half * x),)

    return f, gradient, lambda x: gradient(x, inner=1.0), (np.array([-40.0, -2.0, 1.0, 20.0, 40.0]),)


def clipped_log_loss(rng):
    """Binary cross-entropy of expit(z) with the library's np.finfo(dtype).eps clipping."""
    y = rng.integers(0, 2, size=8).astype(np.float64)
    w = rng.uniform(0.5, 1.5, size=8)

    def f(z):
        p = expit(z)
        eps = np.finfo(p.dtype).eps
        p = np.clip(p, eps, 1 - eps)
        return -np.sum(w * (y * np.log(p) + (1 - y) * np.log1p(-p)))

    def gradient(z, logit=True):
        p = expit(z)
        # the bug: d/dp, without dp/dz = p (1 - p)
        return (w * (p - y) if logit else w * (p - y) / (p * (1 - p)),)

    return f, gradient, lambda z: gradient(z, logit=False), (rng.normal(scale=2.0, size=8),)


def newton_implicit(rng):
    """z solves z + a tanh(z) = x (Newton, |step| < tol); f = sum(c z). dz/dx = 1 / (1 + a (1 - tanh(z)^2))."""
    c, a = rng.normal(size=6), 0.8  # a > 0: z + a tanh(z) is increasing, one root
    tol = 1e-12  # Newton converges quadratically: the last step's square is far below round-off

    def solve(x):
        z = np.array(x, dtype=float)
        for _ in range(50):  # enough for quadratic convergence from z = x
            t = np.tanh(z)
            step = (z + a * t - x) / (1 + a * (1 - t * t))
            z = z - step
            if np.max(np.abs(step)) < tol:
                break
        return z

    def f(x):
        return np.sum(c * solve(x))

    def gradient(x, implicit=True):
        z = solve(x)
        return (c / (1 + a * (1 - np.tanh(z) ** 2)) if implicit else c,)  # the bug: dz/dx left out

    return f, gradient, lambda x: gradient(x, implicit=False), (rng.normal(scale=2.0, size=6),)


def fixed_point_tol(rng):
    """z = x + b sin(z) by fixed-point iteration until |change| < tol; f = sum(c z). dz/dx = 1 / (1 - b cos z)."""
    c, b = rng.normal(size=6), 0.5  # |b| < 1: a contraction, linear convergence
    tol = 1e-9  # linear convergence: f carries an error of about tol, and jumps when the iteration count changes

    def solve(x):
        z = x
        for _ in range(200):  # 0.5**200: far more than tol needs
            new = x + b * np.sin(z)
            change = np.max(np.abs(new - z))
            z = new
            if change < tol:
                break
        return z

    def f(x):
        return np.sum(c * solve(x))

    def gradient(x, implicit=True):
        z = solve(x)
        return (c / (1 - b * np.cos(z)) if implicit else c,)

    return f, gradient, lambda x: gradient(x, implicit=False), (rng.normal(scale=2.0, size=6),)


def fsum_squared_loss(rng):
    """Weighted squared loss accumulated exactly with math.fsum over float() of each term (compiled)."""
    X, y, sw = rng.normal(size=(8, 3)), rng.normal(size=8), rng.uniform(0.5, 1.5, size=8)

    def f(w):
        terms = sw * (X @ w - y) ** 2
        return 0.5 * math.fsum(float(t) for t in terms)

    def gradient(w, weighted=True):
        return (X.T @ ((sw if weighted else 1) * (X @ w - y)),)

    return f, gradient, lambda w: gradient(w, weighted=False), (rng.normal(size=3),)


_norm_cdf = np.frompyfunc(lambda t: 0.5 * math.erfc(-t / math.sqrt(2)), 1, 1)


def probit_frompyfunc(rng):
    """Probit regression's negative log-likelihood; Phi through np.frompyfunc of math.erfc (compiled)."""
    X, y = rng.normal(scale=0.7, size=(8, 3)), rng.integers(0, 2, size=8).astype(np.float64)

    def f(w):
        p = _norm_cdf(X @ w).astype(np.float64)
        return -np.sum(y * np.log(p) + (1 - y) * np.log(1 - p))

    def gradient(w, density=True):
        z = X @ w
        p = ndtr(z)
        pdf = np.exp(-0.5 * z * z) / math.sqrt(2 * math.pi)
        r = (p - y) / (p * (1 - p))
        return (X.T @ (r * pdf if density else r),)  # the bug: no dPhi/dz

    return f, gradient, lambda w: gradient(w, density=False), (rng.normal(scale=0.5, size=3),)


_lgamma = np.vectorize(math.lgamma, otypes=[float])


def negative_binomial_dispersion(rng):
    """NB2 log-likelihood in theta = log r (one dispersion per group), lgamma via np.vectorize (compiled)."""
    mu = rng.uniform(0.5, 4.0, size=(3, 5))
    y = rng.poisson(mu).astype(np.float64)

    def f(theta):
        r = np.exp(theta)[:, np.newaxis]
        return np.sum(_lgamma(y + r) - _lgamma(r) + r * np.log(r / (r + mu)) + y * np.log(mu / (r + mu)))

    def gradient(theta, log_space=True):
        r = np.exp(theta)[:, np.newaxis]
        d_r = digamma(y + r) - digamma(r) + np.log(r / (r + mu)) + 1 - r / (r + mu) - y / (r + mu)
        return (np.sum(d_r * r if log_space else d_r, axis=1),)  # the bug: no dr/dtheta = r

    return f, gradient, lambda theta: gradient(theta, log_space=False), (rng.normal(scale=0.5, size=3),)


BUILDERS = {"float32_sin": _sin_times_x(np.float32), "softplus_dtype_branch": softplus_dtype_branch,
            "clipped_log_loss_finfo": clipped_log_loss, "newton_implicit_solve": newton_implicit,
            "fixed_point_tolerance": fixed_point_tol, "fsum_squared_loss": fsum_squared_loss,
            "probit_frompyfunc": probit_frompyfunc, "negative_binomial_lgamma_vectorize": negative_binomial_dispersion}
# the same functions computed in float64 throughout: what the float32 cases' gradients differentiate
FLOAT64_TWINS = {"float32_sin": _sin_times_x(np.float64)}

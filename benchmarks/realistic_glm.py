"""Generalized-linear-model, Huber, ridge and logistic-regression losses with the library's input validation.

Coefficients are packed the way the library's optimizers see them (features, then intercept, then any scale).
Each builder takes a seeded generator and returns `(f, grad, chain_bug, args)`; `chain_bug` is the gradient
with one chain factor left out. Data: 6-10 samples of 3 features with feature scale 0.7 (margins of order 1,
probabilities away from 0 and 1); sample weights in [0.5, 1.5].
"""

from __future__ import annotations

import numpy as np
from scipy.special import expit, logsumexp, xlogy


def check_array(array, *, ensure_2d=True, name="array"):
    """A validation helper of the library's kind: a float64 copy, its dimensions and finiteness checked."""
    array = np.array(array, dtype=float, copy=True)
    if ensure_2d and array.ndim != 2:
        raise ValueError(f"{name}: expected a 2-d array, got shape {array.shape}")
    if not np.isfinite(array).all():
        raise ValueError(f"{name} contains NaN or infinity")
    return array


def _check_sample_weight(sample_weight, n):
    sample_weight = np.asarray(sample_weight, dtype=np.float64)
    if sample_weight.shape != (n,):
        raise ValueError(f"sample_weight: expected shape {(n,)}, got {sample_weight.shape}")
    return sample_weight


def _data(rng, n=8, n_features=3):
    return rng.normal(scale=0.7, size=(n, n_features)), rng.uniform(0.5, 1.5, size=n)


def logistic_loss_and_grad(rng):
    """Binary logistic regression, labels +-1, intercept last; log_logistic(z) = -logaddexp(0, -z)."""
    X, sample_weight = _data(rng)
    y = np.where(rng.random(8) < 0.5, -1.0, 1.0)
    alpha = 0.1  # L2 penalty

    def parts(w):
        w = w.astype(float)
        n_features = X.shape[1]
        yz = y * (X @ w[:n_features] + w[-1])
        return w, n_features, yz

    def f(w):
        w, n_features, yz = parts(w)
        return -np.sum(sample_weight * -np.logaddexp(0, -yz)) + 0.5 * alpha * np.dot(w[:n_features], w[:n_features])

    def gradient(w, with_y=True):
        w, n_features, yz = parts(w)
        grad = np.empty_like(w)
        z0 = sample_weight * (expit(yz) - 1) * (y if with_y else 1)  # the bug: no factor y of d(yz)/dw
        grad[:n_features] = X.T @ z0 + alpha * w[:n_features]
        grad[-1] = z0.sum()
        return (grad,)

    return f, gradient, lambda w: gradient(w, with_y=False), (rng.normal(size=4),)


def multinomial_loss(rng):
    """Multinomial logistic regression: w is (classes, features + 1); log-probabilities via logsumexp."""
    X, sample_weight = _data(rng, n=6)
    Y = np.eye(3)[rng.integers(0, 3, size=6)]
    alpha = 0.1  # L2 penalty

    def log_proba(w):
        p = X @ w[:, :-1].T + w[:, -1]
        return p - logsumexp(p, axis=1)[:, np.newaxis]

    def f(w):
        w = check_array(w, name="coef")
        return -(sample_weight[:, np.newaxis] * Y * log_proba(w)).sum() + 0.5 * alpha * np.sum(w[:, :-1] ** 2)

    def gradient(w, weighted=True):
        p = np.exp(log_proba(w))
        diff = (sample_weight[:, np.newaxis] if weighted else 1) * (p - Y)  # the bug: no sample weights
        grad = np.zeros_like(w)
        grad[:, :-1] = diff.T @ X + alpha * w[:, :-1]
        grad[:, -1] = diff.sum(axis=0)
        return (grad,)

    return f, gradient, lambda w: gradient(w, weighted=False), (rng.normal(scale=0.5, size=(3, 4)),)


def _tweedie_deviance(y, mu, power):
    """The library's unit deviance, with its branches on the power."""
    if power == 0:
        return (y - mu) ** 2
    if power == 1:
        return 2 * (xlogy(y, y / mu) - y + mu)
    if power == 2:
        return 2 * (np.log(mu / y) + y / mu - 1)
    return 2 * (np.power(np.maximum(y, 0), 2 - power) / ((1 - power) * (2 - power))
                - y * np.power(mu, 1 - power) / (1 - power) + np.power(mu, 2 - power) / (2 - power))


def _glm(power):
    """A log-link GLM's mean deviance plus an L2 penalty; w = (coefficients, intercept)."""
    alpha = 0.05  # L2 penalty

    def build(rng):
        X, sample_weight = _data(rng)
        y = rng.poisson(2.0, size=8).astype(np.float64)
        if np.any(y < 0):
            raise ValueError("y must be non-negative")

        def mean(w):
            return np.exp(X @ w[:-1] + w[-1])

        def f(w):
            w = np.asarray(w, dtype=np.float64)
            deviance = _tweedie_deviance(y, mean(w), power)
            return np.average(deviance, weights=sample_weight) / 2 + 0.5 * alpha * np.dot(w[:-1], w[:-1])

        def gradient(w, log_link=True):
            mu = mean(w)
            d_mu = -y * mu ** (-power) + mu ** (1 - power)  # half the deviance's derivative in mu
            d_raw = sample_weight * d_mu * (mu if log_link else 1) / np.sum(sample_weight)  # bug: no d(mu)/d(raw)
            return (np.concatenate([X.T @ d_raw + alpha * w[:-1], [d_raw.sum()]]),)

        return f, gradient, lambda w: gradient(w, log_link=False), (rng.normal(scale=0.3, size=4),)

    return build


def huber_loss_and_gradient(rng):
    """The library's Huber regression objective in w = (coefficients, intercept, sigma)."""
    X, sample_weight = _data(rng, n=10)
    y = X @ np.array([1.0, -2.0, 0.5]) + rng.standard_t(2, size=10)
    epsilon, alpha = 1.35, 1e-3  # the library's defaults

    def loss_and_grad(w, factor=2.0):
        w = np.asarray(w, dtype=np.float64)
        n_features = X.shape[1]
        intercept, sigma, coef = w[-2], w[-1], w[:n_features]
        n_samples = np.sum(sample_weight)
        linear_loss = y - X @ coef - intercept
        abs_linear_loss = np.abs(linear_loss)
        outliers_mask = abs_linear_loss > epsilon * sigma
        outliers = abs_linear_loss[outliers_mask]
        outliers_sw = sample_weight[outliers_mask]
        n_sw_outliers = np.sum(outliers_sw)
        outlier_loss = 2.0 * epsilon * np.sum(outliers_sw * outliers) - sigma * n_sw_outliers * epsilon**2
        non_outliers = linear_loss[~outliers_mask]
        weighted_non_outliers = sample_weight[~outliers_mask] * non_outliers
        squared_loss = np.dot(weighted_non_outliers.T, non_outliers) / sigma
        grad = np.zeros(n_features + 2)
        # factor 2 is the square's derivative; the bug leaves it out
        grad[:n_features] = (factor / sigma) * (weighted_non_outliers @ -X[~outliers_mask])
        signed_outliers = np.where(linear_loss[outliers_mask] < 0, -1.0, 1.0)
        sw_outliers = sample_weight[outliers_mask] * signed_outliers
        grad[:n_features] -= 2.0 * epsilon * (sw_outliers @ X[outliers_mask])
        grad[:n_features] += alpha * 2.0 * coef
        grad[-1] = n_samples - n_sw_outliers * epsilon**2 - squared_loss / sigma
        grad[-2] = -2.0 * np.sum(weighted_non_outliers) / sigma - 2.0 * epsilon * np.sum(sw_outliers)
        loss = n_samples * sigma + squared_loss + outlier_loss + alpha * np.dot(coef, coef)
        return loss, grad

    def f(w):
        return loss_and_grad(w)[0]

    return (f, lambda w: (loss_and_grad(w)[1],), lambda w: (loss_and_grad(w, factor=1.0)[1],),
            (np.array([0.8, -1.5, 0.3, 0.1, 1.2]),))


def ridge_validated(rng):
    """Weighted ridge regression behind check_array / sample-weight validation."""
    X, sample_weight = _data(rng)
    y = rng.normal(size=8)
    alpha = 0.5  # ridge penalty

    def f(w):
        w = check_array(w, ensure_2d=False, name="coef")
        sw = _check_sample_weight(sample_weight, X.shape[0])
        residual = X @ w - y
        return 0.5 * np.sum(sw * residual**2) + 0.5 * alpha * np.dot(w, w)

    def gradient(w, weighted=True):
        residual = X @ w - y
        return (X.T @ ((sample_weight if weighted else 1) * residual) + alpha * w,)

    return f, gradient, lambda w: gradient(w, weighted=False), (rng.normal(size=3),)


def logistic_log1p(rng):
    """Logistic regression written with log1p(exp(-y z)), labels +-1, inputs cast with astype(float)."""
    X, _ = _data(rng)
    y = np.where(rng.random(8) < 0.5, -1.0, 1.0)
    alpha = 0.2  # L2 penalty

    def f(w):
        Xw = X.astype(float) @ np.asarray(w).astype(float)
        return np.sum(np.log1p(np.exp(-y * Xw))) + 0.5 * alpha * np.dot(w, w)

    def gradient(w, with_y=True):
        s = expit(-y * (X @ w))
        return (X.T @ (-(y if with_y else 1) * s) + alpha * w,)  # the bug: no factor y

    return f, gradient, lambda w: gradient(w, with_y=False), (rng.normal(size=3),)


BUILDERS = {"logistic_loss_and_grad": logistic_loss_and_grad, "multinomial_logsumexp": multinomial_loss,
            "poisson_deviance_log_link": _glm(1), "tweedie_deviance_p1_5": _glm(1.5),
            "huber_loss_and_gradient": huber_loss_and_gradient, "ridge_check_array": ridge_validated,
            "logistic_log1p_astype": logistic_log1p}

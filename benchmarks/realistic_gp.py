"""Gaussian-process kernels and their hyperparameter gradients, written the way a kernel library writes them.

Hyperparameters are differentiated in log space (theta = log of the parameter), as the library does; the
kernel matrix comes from `scipy.spatial.distance.pdist`/`squareform`/`cdist` and the log-marginal likelihood
from `scipy.linalg.cholesky`/`cho_solve`. Each builder takes a seeded generator and returns
`(f, grad, chain_bug, args)`: `chain_bug` is the gradient with one chain factor left out. Data are 6-7 points
(checks stay fast) and the points are log-hyperparameters of order 0.1-0.5 (length scales near 1).
"""

from __future__ import annotations

import math

import numpy as np
from scipy.linalg import cho_solve, cholesky
from scipy.spatial.distance import cdist, pdist, squareform


def _theta(theta):
    """The library's validation of a hyperparameter vector: a float64 cast and a shape check."""
    theta = np.asarray(theta, dtype=np.float64)
    if theta.ndim != 1:
        raise ValueError(f"theta must be 1-d, got shape {theta.shape}")
    return theta


def _symmetric(rng, n):
    c = rng.normal(size=(n, n))
    return c + c.T


def _rbf(X, length_scale):
    dists = pdist(X / length_scale, metric="sqeuclidean")
    K = np.exp(-0.5 * dists)
    K = squareform(K)
    np.fill_diagonal(K, 1)
    return K, dists


def rbf_isotropic(rng):
    X, C = rng.normal(size=(6, 2)), _symmetric(rng, 6)

    def f(theta):
        K, _ = _rbf(X, np.exp(_theta(theta)))
        return np.sum(C * K)

    def gradient(theta, log_space=True):
        length_scale = np.exp(theta)
        K, dists = _rbf(X, length_scale)
        K_gradient = (K * squareform(dists))[:, :, np.newaxis]
        if not log_space:  # the bug: d/d(length_scale), the factor d(length_scale)/d(theta) left out
            K_gradient = K_gradient / length_scale
        return (np.einsum("ij,ijk->k", C, K_gradient),)

    return f, gradient, lambda theta: gradient(theta, log_space=False), (np.array([0.2]),)


def rbf_anisotropic(rng):
    X, C = rng.normal(size=(6, 3)), _symmetric(rng, 6)

    def f(theta):
        K, _ = _rbf(X, np.exp(_theta(theta)))
        return np.sum(C * K)

    def gradient(theta, outer=True):
        length_scale = np.exp(theta)
        K, _ = _rbf(X, length_scale)
        K_gradient = (X[:, np.newaxis, :] - X[np.newaxis, :, :]) ** 2 / (length_scale**2)
        if outer:  # the bug leaves out exp's own derivative, the factor K
            K_gradient *= K[..., np.newaxis]
        return (np.einsum("ij,ijk->k", C, K_gradient),)

    return f, gradient, lambda theta: gradient(theta, outer=False), (np.array([-0.3, 0.1, 0.4]),)


def cross_kernel_inputs(rng):
    """The gradient of a weighted cross-kernel sum with respect to the query points (a predictive mean's)."""
    X_train, W = rng.normal(size=(5, 2)), rng.normal(size=(4, 5))
    length_scale = np.array([0.7, 1.3])  # anisotropic, so a missing 1/length_scale**2 changes every element

    def kernel(Xq):
        return np.exp(-0.5 * cdist(Xq / length_scale, X_train / length_scale, metric="sqeuclidean"))

    def f(Xq):
        Xq = np.asarray(Xq, dtype=np.float64)
        return np.sum(W * kernel(Xq))

    def gradient(Xq, scaled=True):
        WK = W * kernel(Xq)
        g = -(WK.sum(axis=1)[:, np.newaxis] * Xq - WK @ X_train)
        return (g / length_scale**2 if scaled else g,)

    return f, gradient, lambda Xq: gradient(Xq, scaled=False), (rng.normal(size=(4, 2)),)


def log_marginal_likelihood(rng):
    """A GP regressor's log-marginal likelihood in theta = (log amplitude, log length scale)."""
    X, y = rng.normal(size=(7, 2)), rng.normal(size=7)
    alpha = 1e-2  # observation noise on the diagonal: keeps K well conditioned

    def parts(theta):
        amplitude, length_scale = np.exp(theta)
        K_base, dists = _rbf(X, length_scale)
        K = amplitude * K_base
        K[np.diag_indices_from(K)] += alpha
        L = cholesky(K, lower=True)
        return amplitude, K_base, dists, L, cho_solve((L, True), y)

    def f(theta):
        _, _, _, L, a = parts(_theta(theta))
        return -0.5 * y @ a - np.log(np.diag(L)).sum() - 0.5 * len(y) * np.log(2 * np.pi)

    def gradient(theta, log_amplitude=True):
        amplitude, K_base, dists, L, a = parts(theta)
        K_gradient = np.empty((len(y), len(y), 2))
        # the bug differentiates in the amplitude itself: the factor d(amplitude)/d(theta_0) left out
        K_gradient[..., 0] = amplitude * K_base if log_amplitude else K_base
        K_gradient[..., 1] = amplitude * K_base * squareform(dists)
        tmp = np.outer(a, a) - cho_solve((L, True), np.eye(len(y)))
        return (0.5 * np.einsum("ij,jik->k", tmp, K_gradient),)

    return f, gradient, lambda theta: gradient(theta, log_amplitude=False), (np.array([0.3, -0.2]),)


def matern52(rng):
    X, C = rng.normal(size=(6, 2)), _symmetric(rng, 6)

    def f(theta):
        dists = pdist(X / np.exp(_theta(theta)), metric="euclidean")
        K = dists * math.sqrt(5)
        K = (1.0 + K + K**2 / 3.0) * np.exp(-K)
        K = squareform(K)
        np.fill_diagonal(K, 1)
        return np.sum(C * K)

    def gradient(theta, inner=True):
        D = squareform(pdist(X / np.exp(theta), metric="sqeuclidean"))[:, :, np.newaxis]
        tmp = np.sqrt(5 * D.sum(-1))[..., np.newaxis]
        # the bug: dK/ds without ds/dtheta = -s
        K_gradient = 5.0 / 3.0 * D * (tmp + 1) * np.exp(-tmp) if inner else -tmp / 3.0 * (tmp + 1) * np.exp(-tmp)
        return (np.einsum("ij,ijk->k", C, K_gradient),)

    return f, gradient, lambda theta: gradient(theta, inner=False), (np.array([0.1]),)


def rational_quadratic(rng):
    """theta = (log length scale, log alpha); distances of the data only, the parameters enter afterwards."""
    X, C = rng.normal(size=(6, 2)), _symmetric(rng, 6)
    dists = squareform(pdist(X, metric="sqeuclidean"))

    def kernel(theta):
        length_scale, alpha = np.exp(_theta(theta))
        base = 1 + dists / (2 * alpha * length_scale**2)
        K = base**-alpha
        np.fill_diagonal(K, 1)
        return K, base, length_scale, alpha

    def f(theta):
        return np.sum(C * kernel(theta)[0])

    def gradient(theta, log_alpha=True):
        K, base, length_scale, alpha = kernel(theta)
        length_scale_gradient = dists * K / (length_scale**2 * base)
        if log_alpha:
            alpha_gradient = K * (-alpha * np.log(base) + dists / (2 * length_scale**2 * base))
        else:  # d/d(alpha): the factor d(alpha)/d(log alpha) = alpha left out
            alpha_gradient = K * (-np.log(base) + dists / (2 * alpha * length_scale**2 * base))
        return (np.array([np.sum(C * length_scale_gradient), np.sum(C * alpha_gradient)]),)

    return f, gradient, lambda theta: gradient(theta, log_alpha=False), (np.array([0.2, 0.5]),)


BUILDERS = {"gp_rbf_isotropic": rbf_isotropic, "gp_rbf_anisotropic": rbf_anisotropic,
            "gp_cross_kernel_inputs": cross_kernel_inputs, "gp_log_marginal_likelihood": log_marginal_likelihood,
            "gp_matern52": matern52, "gp_rational_quadratic": rational_quadratic}

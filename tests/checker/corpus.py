"""Smooth test functions with hand-written gradients (precision-generic numpy), shared by checker tests."""

from __future__ import annotations

import numpy as np


def _sigmoid(z):
    return 1 / (1 + np.exp(-z))


CORPUS = {
    # name: (f, grad, shapes of the arguments)
    "sum_exp": (lambda x: np.sum(np.exp(x)), lambda x: np.exp(x), [(4,)]),
    "sin_prod": (lambda x, y: np.sum(np.sin(x) * y), lambda x, y: (np.cos(x) * y, np.sin(x)), [(3,), (3,)]),
    "log_cosh": (lambda x: np.sum(np.log(np.cosh(x))), lambda x: np.tanh(x), [(2, 3)]),
    "tanh_layer": (
        lambda w, x: np.sum(np.tanh(x @ w) ** 2),
        lambda w, x: (x.T @ (2 * np.tanh(x @ w) * (1 - np.tanh(x @ w) ** 2)),
                      (2 * np.tanh(x @ w) * (1 - np.tanh(x @ w) ** 2)) @ w.T),
        [(3, 2), (4, 3)],
    ),
    "rosenbrock": (
        lambda x: np.sum(100 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2),
        lambda x: np.concatenate([[0.0], 200 * (x[1:] - x[:-1] ** 2)])
        + np.concatenate([-400 * x[:-1] * (x[1:] - x[:-1] ** 2) - 2 * (1 - x[:-1]), [0.0]]),
        [(4,)],
    ),
    "softmax_xent": (
        lambda z: -np.log(np.exp(z[0]) / np.sum(np.exp(z))),
        lambda z: np.exp(z) / np.sum(np.exp(z)) - np.eye(z.shape[0])[0],
        [(4,)],
    ),
    "sigmoid_l2": (
        lambda w: 0.5 * np.sum((_sigmoid(w) - 0.3) ** 2),
        lambda w: (_sigmoid(w) - 0.3) * _sigmoid(w) * (1 - _sigmoid(w)),
        [(5,)],
    ),
}

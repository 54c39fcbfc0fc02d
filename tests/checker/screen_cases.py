"""Functions both quick screens (float64_screen, quad_screen) are tested on: (point, f, vjp) each, numpy in and
out, precision-generic."""

import numpy as np

POINT = np.array([0.3, -1.2, 0.8, 1.5, -0.4, 0.9, -0.7, 1.1])


def softplus(x):
    return np.sum(np.logaddexp(0.0, x))


def softplus_vjp(w, x):
    return (w / (1.0 + np.exp(-x)),)


def relu_sin(x):
    return np.sum(np.maximum(x, 0.0)) + np.sum(np.sin(x))


def relu_sin_vjp(w, x):
    """relu's subgradient at exactly 0 is 1/2, the average central differences give: only a kink test tells."""
    return (w * (np.where(x > 0, 1.0, np.where(x == 0, 0.5, 0.0)) + np.cos(x)),)


RELU_AT_ZERO = np.array([0.0, 0.3, -0.7, 1.2])


def square_sin(x):
    return np.sum(x * x) / 2 + np.sum(np.sin(x))


def square_sin_vjp(w, x):
    return (w * (x + np.cos(x)),)


SMALL_FIFTH = np.array([0.5, -0.3, 1.2, 2.0, -0.7390851332151607 + 5e-4, 0.4])  # x + cos x = 0 near the 5th

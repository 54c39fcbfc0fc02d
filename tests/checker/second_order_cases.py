"""Scalar test functions for the second-order checks (precision-generic numpy), and planted errors."""

from __future__ import annotations

import numpy as np

import autodiff_ref


def _sigmoid(z):
    return 1 / (1 + np.exp(-z))


_rng = np.random.default_rng(7)
_X, _Y = _rng.standard_normal((5, 3)), np.sign(_rng.standard_normal(5))
_INPUTS, _TARGETS = _rng.standard_normal((4, 2)), _rng.standard_normal((4, 1))
_A = np.array([[2.0, 0.5, 0.0], [0.5, 1.0, -0.3], [0.0, -0.3, 3.0]])


def quadratic(x):
    return 0.5 * x @ _A @ x + np.sum(x)


def quadratic_hvp(v, x):
    return (_A @ v[0],)


def logistic(w):
    return np.sum(np.log(1 + np.exp(-_Y * (_X @ w))))


def logistic_hvp(v, w):
    s = _sigmoid(_Y * (_X @ w))
    return (_X.T @ (s * (1 - s) * (_X @ v[0])),)


def rosenbrock(x):
    return np.sum(100 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2)


def net(w1, w2, w3):
    """A 3-layer sigmoid network with an L2 loss on a tiny batch."""
    return 0.5 * np.sum((_sigmoid(_sigmoid(_sigmoid(_INPUTS @ w1) @ w2) @ w3) - _TARGETS) ** 2)


CASES = {
    # name: (f, arguments)
    "quadratic": (quadratic, (np.array([0.3, -1.2, 0.8]),)),
    "logistic": (logistic, (np.array([0.4, -0.2, 0.9]),)),
    "rosenbrock": (rosenbrock, (np.array([0.5, -0.4, 1.3, 0.9]),)),
    "net": (net, (_rng.standard_normal((2, 2)), _rng.standard_normal((2, 2)), _rng.standard_normal((2, 1)))),
}


def planted_hvp(f, argument, index, relative=1e-9):
    """The engine's HVP of f with one component of (H v)[argument] off by `relative`."""
    exact = autodiff_ref.hvp(f)

    def hvp(v, *args):
        out = list(exact(v, *args))
        scaled = np.ones(np.shape(out[argument]))
        scaled[index] += relative
        out[argument] = out[argument] * scaled
        return tuple(out)

    return hvp


def planted_hessian(f, count, block, index, relative=1e-9, mirrored=False):
    """The engine's Hessian of f with H[block][index] off by `relative` (and its mirror element, `mirrored`)."""
    exact = autodiff_ref.hessian(f, argnums=tuple(range(count)))

    def hessian(*args):
        rows = [list(row) for row in exact(*args)]
        i, j = block
        rows[i][j] = _scaled(rows[i][j], index, relative)
        if mirrored:
            di = np.ndim(args[i])
            rows[j][i] = _scaled(rows[j][i], index[di:] + index[:di], relative)
        return rows[0][0] if count == 1 else tuple(tuple(row) for row in rows)

    return hessian


def _scaled(block, index, relative):
    scaled = np.ones(np.shape(block))
    scaled[index] += relative
    return block * scaled

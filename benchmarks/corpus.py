"""Differentiable numpy functions of the kinds users test, each with a correct hand-written gradient.

Every function and gradient is precision-generic numpy (no np.linalg, no casts, no float64 buffers), so
check_grad can run both at 40 digits. A problem is built from a seeded generator: `make(name, seed)` gives
the function, its gradient and a point. Data that is not differentiated (inputs, targets, weights) is held
in closures; the differentiated arguments are the point.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "examples"))

from three_layer_net import loss, loss_gradient, make_problem


@dataclass(frozen=True)
class Problem:
    """A scalar f(*args), its correct gradient grad(*args) -> one array per argument, and the point."""

    name: str
    f: Callable[..., Any]
    grad: Callable[..., tuple[Any, ...]]
    args: tuple[np.ndarray, ...]


def _log_uniform(rng: np.random.Generator, low: float, high: float, shape: tuple[int, ...]) -> np.ndarray:
    return np.exp(rng.uniform(np.log(low), np.log(high), shape))


def _sigmoid(z: Any) -> Any:
    """exp(min(z, 0)) / (1 + exp(-|z|)): never overflows, and stays generic ((z - |z|) / 2 is min(z, 0))."""
    return np.exp((z - np.abs(z)) / 2) / (1 + np.exp(-np.abs(z)))


def _softplus(z: Any) -> Any:
    """max(z, 0) + log1p(exp(-|z|)): the stable form, exact for large |z|."""
    return (z + np.abs(z)) / 2 + np.log1p(np.exp(-np.abs(z)))


def _tanh(rng):
    c = rng.normal(size=(3, 3))
    return (lambda x: np.sum(c * np.tanh(x)), lambda x: (c * (1 - np.tanh(x) ** 2),),
            (rng.normal(scale=1.5, size=(3, 3)),))


def _softplus_sum(rng):
    c = rng.normal(size=(3, 3))
    # scale 10: some |x| near 20-30, where the naive log(1 + exp(x)) loses everything below exp(-x)
    return (lambda x: np.sum(c * _softplus(x)), lambda x: (c * _sigmoid(x),), (rng.normal(scale=10.0, size=(3, 3)),))


def _sum_of_squares(rng):
    c = rng.normal(size=4)
    return lambda x: np.sum((x - c) ** 2), lambda x: (2 * (x - c),), (rng.normal(size=4),)


def _logsumexp(rng):
    def f(x):
        m = np.max(x)
        return m + np.log(np.sum(np.exp(x - m)))

    def grad(x):
        e = np.exp(x - np.max(x))
        return (e / np.sum(e),)

    return f, grad, (rng.normal(scale=10.0, size=6),)  # scale 10: the shift by the max matters


def _softmax_xent(rng):
    x, labels = rng.normal(size=(5, 3)), rng.integers(0, 3, size=5)
    onehot = np.eye(3)[labels]

    def probabilities(w):
        z = x @ w
        e = np.exp(z - np.max(z, axis=1, keepdims=True))
        return e / np.sum(e, axis=1, keepdims=True)

    def f(w):
        return -np.sum(onehot * np.log(probabilities(w))) / len(x)

    return f, lambda w: (x.T @ (probabilities(w) - onehot) / len(x),), (rng.normal(size=(3, 3)),)


def _linear(rng, samples=5, inputs=8, outputs=8):
    x, t = rng.normal(size=(samples, inputs)), rng.normal(size=(samples, outputs))

    def grad(w, b):
        r = x @ w + b - t
        return x.T @ r, np.sum(r, axis=0)

    # by default 8x8 + 8 = 72 elements: above auto's full-mode limit of 64, so auto checks it with projections
    return (lambda w, b: 0.5 * np.sum((x @ w + b - t) ** 2), grad,
            (rng.normal(scale=0.5, size=(inputs, outputs)), rng.normal(size=outputs)))


def _rnn_states(w, u, xs, h0):
    states = [h0]
    for x in xs:
        states.append(np.tanh(w @ states[-1] + u @ x))
    return states


def _rnn(rng):
    xs, h0, y = rng.normal(size=(3, 2)), rng.normal(size=3), rng.normal(size=3)  # 3 steps, 2 inputs, 3 states

    def grad(w, u):
        states = _rnn_states(w, u, xs, h0)
        dh, dw, du = states[-1] - y, 0 * w, 0 * u
        for step in range(len(xs), 0, -1):
            da = dh * (1 - states[step] ** 2)
            dw = dw + da[:, None] * states[step - 1][None, :]
            du = du + da[:, None] * xs[step - 1][None, :]
            dh = w.T @ da
        return dw, du

    return (lambda w, u: 0.5 * np.sum((_rnn_states(w, u, xs, h0)[-1] - y) ** 2), grad,
            (rng.normal(scale=0.7, size=(3, 3)), rng.normal(scale=0.7, size=(3, 2))))


def _three_layer_net(rng):
    w1, w2, x, t = make_problem(int(rng.integers(2**31)))
    return lambda w1, w2: loss(w1, w2, x, t), lambda w1, w2: loss_gradient(w1, w2, x, t), (w1, w2)


def _rosenbrock(rng):
    def f(x):
        return np.sum(100 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2)

    def grad(x):
        inner = x[1:] - x[:-1] ** 2
        return (np.concatenate([-400 * x[:-1] * inner - 2 * (1 - x[:-1]), 0 * x[-1:]])
                + np.concatenate([0 * x[:1], 200 * inner]),)

    return f, grad, (rng.uniform(-2, 2, size=6),)


def _beale(rng):
    c = np.array([1.5, 2.25, 2.625])  # Beale's constants

    def terms(p):
        return [c[k] - p[0] + p[0] * p[1] ** (k + 1) for k in range(3)]

    def grad(p):
        r = terms(p)
        dx = sum(2 * r[k] * (p[1] ** (k + 1) - 1) for k in range(3))
        dy = sum(2 * r[k] * p[0] * (k + 1) * p[1] ** k for k in range(3))
        return (np.array([dx, dy]),)

    return lambda p: sum(r**2 for r in terms(p)), grad, (rng.uniform(-2, 2, size=2),)


def _styblinski_tang(rng):
    return (lambda x: 0.5 * np.sum(x**4 - 16 * x**2 + 5 * x), lambda x: (0.5 * (4 * x**3 - 32 * x + 5),),
            (rng.uniform(-4, 4, size=(2, 2)),))  # its usual domain is [-5, 5]


def _badly_scaled(rng):
    w = _log_uniform(rng, 1e-4, 1e4, (3, 3))
    x = _log_uniform(rng, 1e-4, 1e4, (3, 3)) * rng.choice([-1.0, 1.0], (3, 3))
    # pseudo-Huber sum(w sqrt(1 + x^2)): inputs and weights over 1e-4..1e4, gradient elements over 1e-8..1e4
    return lambda x: np.sum(w * np.sqrt(1 + x**2)), lambda x: (w * x / np.sqrt(1 + x**2),), (x,)


def _ill_conditioned(rng):
    q, _ = np.linalg.qr(rng.normal(size=(6, 6)))  # building the constant only; f itself has no np.linalg
    a = q @ np.diag(np.logspace(0, 8, 6)) @ q.T  # eigenvalues 1 .. 1e8: condition number 1e8
    a = (a + a.T) / 2  # exactly symmetric in float64, so the gradient of x.a.x / 2 is exactly a x
    b = rng.normal(size=6)
    return lambda x: 0.5 * np.sum(x * (a @ x)) - np.sum(b * x), lambda x: (a @ x - b,), (rng.normal(size=6),)


def _layernorm(rng):
    c, eps = rng.normal(size=(6, 12)), 1e-5  # eps: the usual layer-norm default

    def normalised(x):
        centred = x - np.mean(x, axis=1, keepdims=True)
        sigma = np.sqrt(np.mean(centred**2, axis=1, keepdims=True) + eps)
        return centred / sigma, sigma

    def grad(x, gamma):
        xhat, sigma = normalised(x)
        g = c * gamma
        dx = (g - np.mean(g, axis=1, keepdims=True) - xhat * np.mean(g * xhat, axis=1, keepdims=True)) / sigma
        return dx, np.sum(c * xhat, axis=0)

    # 6x12 + 12 = 84 elements: auto checks it with projections
    return (lambda x, gamma: np.sum(c * gamma * normalised(x)[0]), grad,
            (rng.normal(scale=2.0, size=(6, 12)), rng.uniform(0.5, 1.5, size=12)))


BUILDERS = {
    "tanh": _tanh, "softplus": _softplus_sum, "sum_of_squares": _sum_of_squares, "logsumexp": _logsumexp,
    "softmax_xent": _softmax_xent, "linear_layer": _linear, "rnn_3_steps": _rnn, "three_layer_net": _three_layer_net,
    "rosenbrock": _rosenbrock, "beale": _beale, "styblinski_tang": _styblinski_tang, "badly_scaled": _badly_scaled,
    "ill_conditioned": _ill_conditioned, "layernorm": _layernorm,
}  # fmt: skip
NAMES = tuple(BUILDERS)


def make(name: str, seed: int) -> Problem:
    """The problem `name` at the point (and with the data) drawn from `seed`."""
    f, grad, args = BUILDERS[name](np.random.default_rng(seed))
    return Problem(name, f, grad, tuple(np.asarray(a, dtype=np.float64) for a in args))

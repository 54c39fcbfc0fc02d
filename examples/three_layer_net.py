"""The classic 3-layer fully connected network: input, one hidden layer, output; sigmoid activations on the
hidden and output layers; no biases; L2 loss 0.5 * ||Y - T||^2.

Shapes: X (batch, n_in), W1 (n_hidden, n_in), W2 (n_out, n_hidden), T (batch, n_out).
The same plain-numpy code runs on float64 arrays, on autodiff_ref tensors and on the checker's high-precision
arrays (quad numbers, or object arrays of mpmath numbers).
"""

from __future__ import annotations

import numpy as np

import autodiff_ref


def sigmoid(z: np.ndarray) -> np.ndarray:
    return 1 / (1 + np.exp(-z))


def loss(w1: np.ndarray, w2: np.ndarray, x: np.ndarray, t: np.ndarray) -> np.ndarray:
    """Forward pass: hidden H = s(X W1^T), output Y = s(H W2^T), loss 0.5 * sum((Y - T)^2)."""
    h = sigmoid(x @ w1.T)
    y = sigmoid(h @ w2.T)
    return 0.5 * np.sum((y - t) ** 2)


def loss_gradient(w1: np.ndarray, w2: np.ndarray, x: np.ndarray, t: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """dL/dW1 and dL/dW2 derived by hand, layer by layer from the output backwards.

    Output layer:  dL/dY = Y - T;  with Y = s(Z2), s' = s (1 - s):  delta2 = (Y - T) * Y * (1 - Y)
                   Z2 = H W2^T, so dL/dW2 = delta2^T H.
    Hidden layer:  dL/dH = delta2 W2;  delta1 = (delta2 W2) * H * (1 - H)
                   Z1 = X W1^T, so dL/dW1 = delta1^T X.
    """
    h = sigmoid(x @ w1.T)
    y = sigmoid(h @ w2.T)
    delta2 = (y - t) * y * (1 - y)
    delta1 = (delta2 @ w2) * h * (1 - h)
    return delta1.T @ x, delta2.T @ h


def loss_gradient_buggy(w1: np.ndarray, w2: np.ndarray, x: np.ndarray, t: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The classic slip: the hidden layer's derivative written as s instead of s (1 - s)."""
    h = sigmoid(x @ w1.T)
    y = sigmoid(h @ w2.T)
    delta2 = (y - t) * y * (1 - y)
    delta1 = (delta2 @ w2) * h
    return delta1.T @ x, delta2.T @ h


def make_problem(seed: int = 0, batch: int = 4, n_in: int = 3, n_hidden: int = 5, n_out: int = 2):
    """Seeded weights, inputs and targets of a small network."""
    rng = np.random.default_rng(seed)
    w1 = rng.normal(scale=0.8, size=(n_hidden, n_in))
    w2 = rng.normal(scale=0.8, size=(n_out, n_hidden))
    x = rng.normal(size=(batch, n_in))
    t = rng.uniform(0.1, 0.9, size=(batch, n_out))
    return w1, w2, x, t


@autodiff_ref.primitive(elementwise=True)
def sigmoid_op(z: np.ndarray) -> np.ndarray:
    """The sigmoid as a custom op of its own, with a hand-written backward (given below)."""
    return 1 / (1 + np.exp(-z))


sigmoid_op.defvjp(lambda s, z: lambda g: g * s * (1 - s))


@autodiff_ref.primitive(elementwise=True)
def sigmoid_op_buggy(z: np.ndarray) -> np.ndarray:
    """The same op with the classic backward slip: s instead of s (1 - s)."""
    return 1 / (1 + np.exp(-z))


sigmoid_op_buggy.defvjp(lambda s, z: lambda g: g * s)


def loss_with_op(w1: np.ndarray, w2: np.ndarray, x: np.ndarray, t: np.ndarray, act=sigmoid_op) -> np.ndarray:
    """The same network, its activations given by a custom op (`act`)."""
    h = act(x @ w1.T)
    y = act(h @ w2.T)
    return 0.5 * np.sum((y - t) ** 2)

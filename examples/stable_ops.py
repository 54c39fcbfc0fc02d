"""Two numerically stable custom ops with hand-written backward rules, as a user of autodiff_ref writes them.

- `softplus(x) = log(1 + exp(x))`, computed as max(x, 0) + log1p(exp(-|x|)) so that it never overflows; its
  derivative is the sigmoid, written with one branch per sign so that no exponential overflows either.
  `softplus_copy_paste_bug` has the classic slip: the x >= 0 branch pasted into the x < 0 one, so its
  backward is wrong exactly at the negative inputs.
- `logsumexp(z) = log(sum(exp(z)))` over the last axis, shifted by the row maximum; its derivative is the
  softmax, exp(z - logsumexp(z)), which is stable for the same reason.

(autodiff_ref ships its own `softplus` and `logsumexp`; these are written from scratch to show how a custom
op is declared and checked.) Everything here uses numpy operations that also run on the checker's quad arrays
and on object arrays of mpmath numbers, so the checker can run the ops, and their backward rules, at high
precision.
"""

from __future__ import annotations

import numpy as np

import autodiff_ref


def _softplus_forward(x: np.ndarray) -> np.ndarray:
    return np.maximum(x, 0 * x) + np.log1p(np.exp(-np.abs(x)))


@autodiff_ref.primitive(elementwise=True)
def softplus(x: np.ndarray) -> np.ndarray:
    """log(1 + exp(x)) without overflow; elementwise, so per-op checks verify it element by element."""
    return _softplus_forward(x)


def _softplus_backward(ans: np.ndarray, x: np.ndarray):
    """d softplus / dx = sigmoid(x): 1 / (1 + e) for x >= 0 and e / (1 + e) for x < 0, with e = exp(-|x|) <= 1."""
    e = np.exp(-np.abs(x))
    return lambda g: g * np.where(x >= 0, 1 / (1 + e), e / (1 + e))


softplus.defvjp(_softplus_backward)


@autodiff_ref.primitive(elementwise=True)
def softplus_copy_paste_bug(x: np.ndarray) -> np.ndarray:
    """The same forward; the backward below has the x >= 0 branch pasted into the x < 0 one."""
    return _softplus_forward(x)


def _softplus_backward_bug(ans: np.ndarray, x: np.ndarray):
    e = np.exp(-np.abs(x))
    return lambda g: g * np.where(x >= 0, 1 / (1 + e), 1 / (1 + e))  # wrong for x < 0: sigmoid(|x|)


softplus_copy_paste_bug.defvjp(_softplus_backward_bug)


@autodiff_ref.primitive
def logsumexp(z: np.ndarray) -> np.ndarray:
    """log(sum(exp(z))) over the last axis, shifted by the row maximum so that no exponential overflows."""
    shift = np.max(z, axis=-1, keepdims=True)
    return np.squeeze(shift, axis=-1) + np.log(np.sum(np.exp(z - shift), axis=-1))


logsumexp.defvjp(lambda ans, z: lambda g: np.expand_dims(g, -1) * np.exp(z - np.expand_dims(ans, -1)))


def logistic_loss(w: np.ndarray, x: np.ndarray, y: np.ndarray, act=softplus, penalty: float = 0.05) -> np.ndarray:
    """Logistic regression's negative log-likelihood with an L2 penalty, labels y in {-1, +1}:
    sum(softplus(-y * (x @ w))) + penalty / 2 * ||w||^2. `act` is the softplus op to use."""
    margins = -y * (x @ w)
    return np.sum(act(margins)) + penalty / 2 * np.sum(w**2)


def logistic_problem() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Weights, inputs and labels of a small problem whose margins -y * (x @ w) have both signs and span
    -30 .. 30 (where a naive log(1 + exp(.)) starts to lose accuracy)."""
    w = np.array([1.5, -2.0, 0.5])
    x = np.array([[1.0, 0.2, -0.4], [0.2, -1.0, 2.0], [-0.5, 0.25, 1.0], [8.0, -9.0, 2.0], [-1.0, 0.0, 0.3],
                  [9.0, -8.0, -1.5]])
    y = np.array([1.0, -1.0, 1.0, 1.0, -1.0, -1.0])
    return w, x, y

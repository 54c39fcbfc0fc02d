"""Scipy-free activation helpers, each a primitive with its own VJP; stable and precision-generic."""

from __future__ import annotations

from typing import Any

import numpy as np

from autodiff_ref.arrays import expand_reduced
from autodiff_ref.tensor import Primitive


def _sigmoid(x: Any) -> Any:
    """1 / (1 + exp(-x)) from t = exp(-|x|) <= 1, as 1 / (1 + t) for x >= 0 and t / (1 + t) below: no overflow and
    no cancellation on either side ((1 + tanh(x/2)) / 2 kept only 8 digits of sigmoid(-20)); any precision."""
    t = np.exp(-np.abs(x))
    return np.where(x >= 0, 1 / (1 + t), t / (1 + t))


def _sigmoid_slope(x: Any) -> Any:
    """sigmoid(x) * sigmoid(-x) = t / (1 + t)^2 with t = exp(-|x|): accurate where ans * (1 - ans) is not."""
    t = np.exp(-np.abs(x))
    return t / ((1 + t) * (1 + t))


def _softplus(x: Any) -> Any:
    """log(1 + exp(x)) computed as max(x, 0) + log1p(exp(-|x|)): never overflows."""
    return np.where(x > 0, x, 0 * x) + np.log1p(np.exp(-np.abs(x)))


def _logsumexp(x: Any, axis: Any = None, keepdims: bool = False) -> Any:
    """log(sum(exp(x))) shifted by the maximum so that no exponential overflows."""
    shift = np.max(x, axis=axis, keepdims=True)
    total = shift + np.log(np.sum(np.exp(x - shift), axis=axis, keepdims=True))
    return total if keepdims else np.squeeze(total, axis=axis)


def _relu(x: Any) -> Any:
    return np.where(x > 0, x, 0 * x)


REAL = {"complex_inputs": False}  # real-only formulas (orderings, |x|): complex traced values are refused
sigmoid = Primitive(_sigmoid, "sigmoid", elementwise=True, **REAL).defvjp(
    lambda ans, x: lambda g: g * _sigmoid_slope(x)
)
softplus = Primitive(_softplus, "softplus", elementwise=True, **REAL).defvjp(lambda ans, x: lambda g: g * _sigmoid(x))
logsumexp = Primitive(_logsumexp, "logsumexp", **REAL).defvjp(
    lambda ans, x, axis=None, keepdims=False: lambda g: expand_reduced(g, np.shape(x), axis, keepdims)
    * np.exp(x - expand_reduced(ans, np.shape(x), axis, keepdims))
)
relu = Primitive(_relu, "relu", elementwise=True, **REAL).defvjp(lambda ans, x: lambda g: np.where(x > 0, g, 0 * g))

"""Scipy-free activation helpers, each a primitive with its own VJP; stable and precision-generic."""

from __future__ import annotations

from typing import Any

import numpy as np

from autodiff_ref.primitives import expand_reduced
from autodiff_ref.tensor import Primitive


def _sigmoid(x: Any) -> Any:
    """1 / (1 + exp(-x)) written as (1 + tanh(x/2)) / 2: no overflow for large |x|, runs at any precision."""
    return (np.tanh(x / 2) + 1) / 2


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


sigmoid = Primitive(_sigmoid, "sigmoid", elementwise=True).defvjp(lambda ans, x: lambda g: g * ans * (1 - ans))
softplus = Primitive(_softplus, "softplus", elementwise=True).defvjp(lambda ans, x: lambda g: g * _sigmoid(x))
logsumexp = Primitive(_logsumexp, "logsumexp").defvjp(
    lambda ans, x, axis=None, keepdims=False: lambda g: expand_reduced(g, np.shape(x), axis, keepdims)
    * np.exp(x - expand_reduced(ans, np.shape(x), axis, keepdims))
)
relu = Primitive(_relu, "relu", elementwise=True).defvjp(lambda ans, x: lambda g: np.where(x > 0, g, 0 * g))

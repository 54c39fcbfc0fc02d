"""Array helpers shared by the VJP rules and the numpy-call handlers: broadcasting, reductions, option checks.

Every helper is precision-generic: it runs on float64, float32 and object arrays of mpmath numbers alike, and
on traced values (tensors of an outer trace, when a gradient is itself differentiated): a tensor is never
converted with np.asarray, only transformed by recorded numpy calls.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from autodiff_ref.tensor import AutodiffError, Tensor, plain

NO_VALUE = np._NoValue  # numpy's "argument not given" sentinel in signatures such as np.clip's


def as_array(x: Any) -> Any:
    """x as an array: np.asarray for plain values, a tensor as it is (converting it would drop its gradient)."""
    return x if isinstance(x, Tensor) else np.asarray(x)


def dtype_of(x: Any) -> np.dtype:
    """The dtype of x's untraced value."""
    return np.asarray(plain(x)).dtype


def unbroadcast(g: Any, shape: tuple[int, ...]) -> Any:
    """Sum `g` over the axes that broadcasting added or stretched, so it has `shape`."""
    g = as_array(g)
    while g.ndim > len(shape):
        g = as_array(g.sum(axis=0))  # an object array's full sum is a bare mpf, not a 0-d array
    for axis, size in enumerate(shape):
        if size == 1 and g.shape[axis] != 1:
            g = g.sum(axis=axis, keepdims=True)
    return g


def shape_of(x: Any) -> tuple[int, ...]:
    return np.shape(x)


def ones_like(x: Any) -> np.ndarray:
    """Ones of x's shape and kind (mpmath ones for object arrays, so element methods like .log() exist)."""
    x = np.asarray(plain(x))
    if x.dtype != object:
        return np.ones_like(x)
    one = x.flat[0] * 0 + 1 if x.size else 1
    return np.full(x.shape, one, dtype=object)


def zeros_like_grad(shape: tuple[int, ...], g: Any) -> np.ndarray:
    """Zeros of `shape` of g's kind: the same array type (np.zeros_like dispatches on it) and dtype."""
    if isinstance(g, np.ndarray):
        return np.zeros_like(g, shape=shape)
    return np.zeros(shape, dtype=np.asarray(g).dtype)


def reduced_axes(ndim: int, axis: Any) -> tuple[int, ...]:
    """The non-negative axes a reduction over `axis` (None, an int or a tuple) removes from `ndim` dimensions."""
    if axis is None:
        return tuple(range(ndim))
    axes = axis if isinstance(axis, tuple) else (axis,)
    return tuple(sorted(a % ndim if ndim else a for a in axes))


def expand_reduced(g: Any, shape: tuple[int, ...], axis: Any, keepdims: bool) -> np.ndarray:
    """Broadcast the gradient of a reduction back over the input's shape."""
    g = as_array(g)
    if not keepdims:
        g = np.expand_dims(g, reduced_axes(len(shape), axis)) if shape else g
    return np.broadcast_to(g, shape) if isinstance(g, Tensor) else np.broadcast_to(g, shape).copy()


def reduced_count(shape: tuple[int, ...], axis: Any) -> int:
    """How many elements a reduction over `axis` combines into each output element."""
    return int(np.prod([shape[a] for a in reduced_axes(len(shape), axis)], dtype=np.int64))


def split_ties(g: Any, mask: np.ndarray, ties: np.ndarray) -> np.ndarray:
    """g on the masked (extremal) elements, divided equally among the `ties` of each reduced group."""
    dtype = dtype_of(g)
    counts = ties if dtype.kind == "O" else ties.astype(dtype)  # keep float32 gradients float32
    return np.where(mask, g, 0) / counts


def reject(name: str, **options: Any) -> None:
    """Options that change semantics (out=, dtype=, where=, ...) are refused rather than ignored."""
    given = sorted(k for k, v in options.items() if v is not None and v is not NO_VALUE)
    if given:
        raise AutodiffError(f"{name}: options {given} are not supported on traced values")

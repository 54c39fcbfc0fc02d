"""The primitive ops and their vector-Jacobian products, one rule per line where it fits.

Every rule is precision-generic: it uses only numpy operations that also run on object arrays of mpmath
numbers, and keeps float32 gradients float32 (masks go through np.where, never through float64 arithmetic).

Conventions at non-differentiable points (documented in docs/autodiff_ref.md and tested):
- abs at 0: gradient 0 (the sign function's value there).
- maximum / minimum at a tie: the gradient is split equally, 1/2 to each argument.
- max / min reductions with several maximal elements: the gradient is split equally among them.
- clip at a bound: gradient 1 for the value (the interval is closed), 0 for the bound.
- relu at 0: gradient 0 (as torch and jax.nn.relu).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from autodiff_ref.tensor import Primitive

# ----- helpers -----------------------------------------------------------------------------------------------


def unbroadcast(g: Any, shape: tuple[int, ...]) -> Any:
    """Sum `g` over the axes that broadcasting added or stretched, so it has `shape`."""
    g = np.asarray(g)
    while g.ndim > len(shape):
        g = np.asarray(g.sum(axis=0))  # an object array's full sum is a bare mpf, not a 0-d array
    for axis, size in enumerate(shape):
        if size == 1 and g.shape[axis] != 1:
            g = g.sum(axis=axis, keepdims=True)
    return g


def shape_of(x: Any) -> tuple[int, ...]:
    return np.shape(x)


def ones_like(x: Any) -> np.ndarray:
    """Ones of x's shape and kind (mpmath ones for object arrays, so element methods like .log() exist)."""
    x = np.asarray(x)
    if x.dtype != object:
        return np.ones_like(x)
    one = x.flat[0] * 0 + 1 if x.size else 1
    return np.full(x.shape, one, dtype=object)


def zeros_like_grad(shape: tuple[int, ...], g: Any) -> np.ndarray:
    return np.zeros(shape, dtype=np.asarray(g).dtype)


def _reduced_axes(ndim: int, axis: Any) -> tuple[int, ...]:
    if axis is None:
        return tuple(range(ndim))
    axes = axis if isinstance(axis, tuple) else (axis,)
    return tuple(sorted(a % ndim if ndim else a for a in axes))


def expand_reduced(g: Any, shape: tuple[int, ...], axis: Any, keepdims: bool) -> np.ndarray:
    """Broadcast the gradient of a reduction back over the input's shape."""
    g = np.asarray(g)
    if not keepdims:
        g = np.expand_dims(g, _reduced_axes(len(shape), axis)) if shape else g
    return np.broadcast_to(g, shape).copy()


def _count(shape: tuple[int, ...], axis: Any) -> int:
    return int(np.prod([shape[a] for a in _reduced_axes(len(shape), axis)], dtype=np.int64))


def _split_ties(g: Any, mask: np.ndarray, ties: np.ndarray) -> np.ndarray:
    g = np.asarray(g)
    counts = ties if g.dtype == object else ties.astype(g.dtype)  # keep float32 gradients float32
    return np.where(mask, g, 0) / counts


def defelementwise(ufunc: Any, *makers: Any) -> Primitive:
    """A primitive for a numpy ufunc whose makers are written on broadcast inputs; results are unbroadcast."""
    prim = Primitive(ufunc, ufunc.__name__, elementwise=True)
    wrapped = []
    for maker in makers:
        if maker is None:
            wrapped.append(None)
            continue

        def unbroadcasting(ans: Any, *args: Any, _maker: Any = maker, _argnum: int = len(wrapped)) -> Any:
            rule = _maker(ans, *args)
            return lambda g: unbroadcast(rule(g), shape_of(args[_argnum]))

        wrapped.append(unbroadcasting)
    return prim.defvjp(*wrapped)


# ----- arithmetic --------------------------------------------------------------------------------------------

add = defelementwise(np.add, lambda ans, x, y: lambda g: g, lambda ans, x, y: lambda g: g)
subtract = defelementwise(np.subtract, lambda ans, x, y: lambda g: g, lambda ans, x, y: lambda g: -g)
multiply = defelementwise(np.multiply, lambda ans, x, y: lambda g: g * y, lambda ans, x, y: lambda g: g * x)
divide = defelementwise(np.divide, lambda ans, x, y: lambda g: g / y, lambda ans, x, y: lambda g: -g * ans / y)
negative = defelementwise(np.negative, lambda ans, x: lambda g: -g)
positive = defelementwise(np.positive, lambda ans, x: lambda g: g)
reciprocal = defelementwise(np.reciprocal, lambda ans, x: lambda g: -g * ans * ans)
square = defelementwise(np.square, lambda ans, x: lambda g: 2 * g * x)
absolute = defelementwise(np.absolute, lambda ans, x: lambda g: g * np.sign(x))


def vjp_power_base(ans: Any, x: Any, y: Any) -> Any:
    return lambda g: g * y * x ** (y - 1)


def vjp_power_exponent(ans: Any, x: Any, y: Any) -> Any:
    x = np.asarray(x)
    positive_x = np.where(x > 0, x, ones_like(x))
    # log in the result's kind: a constant float base must not make log(x) float64 (float32 or mpmath results)
    positive_x = positive_x * ones_like(ans) if ans.dtype == object else positive_x.astype(ans.dtype)
    return lambda g: np.where(x > 0, g * ans * np.log(positive_x), 0)


power = defelementwise(np.power, vjp_power_base, vjp_power_exponent)

# ----- elementwise functions ---------------------------------------------------------------------------------

exp = defelementwise(np.exp, lambda ans, x: lambda g: g * ans)
expm1 = defelementwise(np.expm1, lambda ans, x: lambda g: g * (ans + 1))
log = defelementwise(np.log, lambda ans, x: lambda g: g / x)
log1p = defelementwise(np.log1p, lambda ans, x: lambda g: g / (x + 1))
sqrt = defelementwise(np.sqrt, lambda ans, x: lambda g: g / (2 * ans))
sin = defelementwise(np.sin, lambda ans, x: lambda g: g * np.cos(x))
cos = defelementwise(np.cos, lambda ans, x: lambda g: -g * np.sin(x))
tan = defelementwise(np.tan, lambda ans, x: lambda g: g * (1 + ans * ans))
sinh = defelementwise(np.sinh, lambda ans, x: lambda g: g * np.cosh(x))
cosh = defelementwise(np.cosh, lambda ans, x: lambda g: g * np.sinh(x))


def sech_squared(x: Any) -> Any:
    """1 - tanh(x)^2 as 4t / (1 + t)^2 with t = exp(-2|x|) <= 1: accurate for every x (1 - ans * ans keeps only
    the rounding of ans once |tanh x| nears 1: relative error 3e-9 at x = 9) and never overflows."""
    t = np.exp(-2 * np.abs(x))
    return 4 * t / ((1 + t) * (1 + t))


tanh = defelementwise(np.tanh, lambda ans, x: lambda g: g * sech_squared(x))
arctan = defelementwise(np.arctan, lambda ans, x: lambda g: g / (1 + x * x))


def vjp_tie_split(first: bool) -> Any:
    """maximum/minimum: the winner gets g, a tie splits it equally."""

    def maker(ans: Any, x: Any, y: Any) -> Any:
        mine, other = (x, y) if first else (y, x)
        return lambda g: np.where(mine == ans, np.where(mine == other, g / 2, g), 0)

    return maker


def vjp_logaddexp(first: bool, base2: bool = False) -> Any:
    """logaddexp(x, y) = log(e^x + e^y): d/dx = e^(x - ans), at most 1, never overflowing (logaddexp2: 2^(x-ans))."""

    def maker(ans: Any, x: Any, y: Any) -> Any:
        mine = x if first else y
        return lambda g: g * (np.exp2(mine - ans) if base2 else np.exp(mine - ans))

    return maker


logaddexp = defelementwise(np.logaddexp, vjp_logaddexp(True), vjp_logaddexp(False))
logaddexp2 = defelementwise(np.logaddexp2, vjp_logaddexp(True, base2=True), vjp_logaddexp(False, base2=True))
maximum = defelementwise(np.maximum, vjp_tie_split(True), vjp_tie_split(False))
minimum = defelementwise(np.minimum, vjp_tie_split(True), vjp_tie_split(False))

# ----- reductions --------------------------------------------------------------------------------------------

sum_ = Primitive(np.sum, "sum").defvjp(
    lambda ans, x, axis=None, keepdims=False: lambda g: expand_reduced(g, shape_of(x), axis, keepdims)
)
mean = Primitive(np.mean, "mean").defvjp(
    lambda ans, x, axis=None, keepdims=False: lambda g: expand_reduced(g, shape_of(x), axis, keepdims)
    / _count(shape_of(x), axis)
)


def vjp_extremum(ans: Any, x: Any, axis: Any = None, keepdims: bool = False) -> Any:
    x = np.asarray(x)
    mask = x == expand_reduced(ans, x.shape, axis, keepdims)
    ties = np.sum(mask, axis=axis, keepdims=True)
    return lambda g: _split_ties(expand_reduced(g, x.shape, axis, keepdims), mask, ties)


max_ = Primitive(np.max, "max").defvjp(vjp_extremum)
min_ = Primitive(np.min, "min").defvjp(vjp_extremum)

# ----- shape and indexing ------------------------------------------------------------------------------------

reshape = Primitive(np.reshape, "reshape").defvjp(lambda ans, x, shape: lambda g: np.reshape(g, shape_of(x)))
ravel = Primitive(np.ravel, "ravel").defvjp(lambda ans, x: lambda g: np.reshape(g, shape_of(x)))
squeeze = Primitive(np.squeeze, "squeeze").defvjp(lambda ans, x, axis=None: lambda g: np.reshape(g, shape_of(x)))
expand_dims = Primitive(np.expand_dims, "expand_dims").defvjp(
    lambda ans, x, axis: lambda g: np.reshape(g, shape_of(x))
)
swapaxes = Primitive(np.swapaxes, "swapaxes").defvjp(lambda ans, x, a, b: lambda g: np.swapaxes(g, a, b))


def vjp_transpose(ans: Any, x: Any, axes: Any = None) -> Any:
    inverse = None if axes is None else tuple(np.argsort([a % np.ndim(x) for a in axes]))
    return lambda g: np.transpose(g, inverse)


transpose = Primitive(np.transpose, "transpose").defvjp(vjp_transpose)


def _getitem(x: Any, key: Any) -> Any:
    return x[key]


def vjp_getitem(ans: Any, x: Any, key: Any) -> Any:
    def vjp(g: Any) -> np.ndarray:
        out = zeros_like_grad(shape_of(x), g)
        np.add.at(out, key, g)
        return out

    return vjp


getitem = Primitive(_getitem, "getitem").defvjp(vjp_getitem)


def _concatenate(*arrays: Any, axis: int = 0) -> Any:
    return np.concatenate(arrays, axis=axis)


def vjp_concatenate(argnum: int, ans: Any, *arrays: Any, axis: int = 0) -> Any:
    start = sum(shape_of(a)[axis] for a in arrays[:argnum])
    stop = start + shape_of(arrays[argnum])[axis]
    return lambda g: np.take(g, np.arange(start, stop), axis=axis)


concatenate = Primitive(_concatenate, "concatenate").defvjp_argnum(vjp_concatenate)


def _stack(*arrays: Any, axis: int = 0) -> Any:
    return np.stack(arrays, axis=axis)


stack = Primitive(_stack, "stack").defvjp_argnum(
    lambda argnum, ans, *arrays, axis=0: lambda g: np.take(g, argnum, axis=axis)
)

# ----- selection ---------------------------------------------------------------------------------------------

where = Primitive(np.where, "where").defvjp(
    None,
    lambda ans, c, x, y: lambda g: unbroadcast(np.where(c, g, 0), shape_of(x)),
    lambda ans, c, x, y: lambda g: unbroadcast(np.where(c, 0, g), shape_of(y)),
)


def _clip(x: Any, lo: Any, hi: Any) -> Any:
    return np.clip(x, lo, hi)


def _inside(x: Any, lo: Any, hi: Any) -> Any:
    above = True if lo is None else x >= lo
    below = True if hi is None else x <= hi
    return np.logical_and(above, below)


clip = Primitive(_clip, "clip").defvjp(
    lambda ans, x, lo, hi: lambda g: unbroadcast(np.where(_inside(x, lo, hi), g, 0), shape_of(x)),
    lambda ans, x, lo, hi: lambda g: unbroadcast(np.where(x < lo, g, 0), shape_of(lo)),
    lambda ans, x, lo, hi: lambda g: unbroadcast(np.where(x > hi, g, 0), shape_of(hi)),
)

# ----- linear algebra ----------------------------------------------------------------------------------------


def vjp_matmul(argnum: int, ans: Any, a: Any, b: Any) -> Any:
    """matmul's VJP with 1-D operands promoted to matrices and batch dimensions unbroadcast."""
    a, b = np.asarray(a), np.asarray(b)
    a2 = a[np.newaxis, :] if a.ndim == 1 else a
    b2 = b[:, np.newaxis] if b.ndim == 1 else b

    def vjp(g: Any) -> Any:
        g2 = np.asarray(g)
        g2 = np.expand_dims(g2, -1) if b.ndim == 1 else g2
        g2 = np.expand_dims(g2, -2) if a.ndim == 1 else g2
        if argnum == 0:
            return unbroadcast(np.matmul(g2, np.swapaxes(b2, -1, -2)), a2.shape).reshape(a.shape)
        return unbroadcast(np.matmul(np.swapaxes(a2, -1, -2), g2), b2.shape).reshape(b.shape)

    return vjp


matmul = Primitive(np.matmul, "matmul").defvjp_argnum(vjp_matmul)
dot = Primitive(np.dot, "dot").defvjp_argnum(vjp_matmul)

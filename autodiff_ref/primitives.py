"""The primitive ops and their vector-Jacobian products, one rule per line where it fits.

Each op is registered where it is defined, with the numpy functions it implements (see `registration`):
`exp = defelementwise(np.exp, rule)` makes np.exp on traced values record `exp`; an op whose numpy signature
needs adapting (axis=, keepdims=, out=, ...) names its handler right next to it. `numpy_bridge` derives its
dispatch tables from this module, so adding an op is this one line (and its test case in
tests/autodiff/primitive_cases.py, which a test requires).

Every rule is precision-generic: it uses only numpy operations that also run on object arrays of mpmath
numbers, and keeps float32 gradients float32 (masks go through np.where, never through float64 arithmetic).
Every rule is also differentiable: `g`, `ans` and the arguments may be tensors of an outer trace (a gradient
being differentiated), so a rule never converts them with np.asarray or .astype and computes only with
recorded numpy calls and ops (the scatter of `getitem`'s rule is the op `untake`, with its own rule).

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

from autodiff_ref.arrays import (
    NO_VALUE,
    as_array,
    dtype_of,
    expand_reduced,
    ones_like,
    reduced_count,
    reject,
    shape_of,
    split_ties,
    unbroadcast,
    zeros_like_grad,
)
from autodiff_ref.registration import Composite, NumpyOp, defelementwise
from autodiff_ref.tensor import AutodiffError, Primitive, Tensor, unbox

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
    x = as_array(x)
    positive_x = np.where(x > 0, x, ones_like(x))
    # log in the result's kind: a constant float base must not make log(x) float64 (float32 or mpmath results)
    if dtype_of(ans).kind == "O":
        positive_x = positive_x * ones_like(ans)
    elif not isinstance(positive_x, Tensor):
        positive_x = positive_x.astype(dtype_of(ans))
    return lambda g: np.where(x > 0, g * ans * np.log(positive_x), 0)


power = defelementwise(np.power, vjp_power_base, vjp_power_exponent)

# ----- elementwise functions ---------------------------------------------------------------------------------

exp = defelementwise(np.exp, lambda ans, x: lambda g: g * ans)
exp2 = defelementwise(np.exp2, lambda ans, x: lambda g: g * ans * np.log(2 * ones_like(ans)))  # ln 2 in ans's kind
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


def reduction_call(op: Primitive, name: str, a: Any, axis: Any = None, dtype: Any = None, out: Any = None,
                   keepdims: Any = False, **rest: Any) -> Any:
    """np.sum / np.mean's signature: dtype=, out=, where=, initial= are refused."""
    reject(name, dtype=dtype, out=out, **rest)
    return op(a, axis=axis, keepdims=bool(keepdims))


def extremum_call(op: Primitive, name: str, a: Any, axis: Any = None, out: Any = None, keepdims: Any = False,
                  **rest: Any) -> Any:
    """np.max / np.min's signature: out=, initial=, where= are refused."""
    reject(name, out=out, **rest)
    return op(a, axis=axis, keepdims=bool(keepdims))


sum_ = NumpyOp(np.sum, "sum", numpy=(np.sum,), call=reduction_call).defvjp(
    lambda ans, x, axis=None, keepdims=False: lambda g: expand_reduced(g, shape_of(x), axis, keepdims)
)
mean = NumpyOp(np.mean, "mean", numpy=(np.mean,), call=reduction_call).defvjp(
    lambda ans, x, axis=None, keepdims=False: lambda g: expand_reduced(g, shape_of(x), axis, keepdims)
    / reduced_count(shape_of(x), axis)
)


def vjp_extremum(ans: Any, x: Any, axis: Any = None, keepdims: bool = False) -> Any:
    x = np.asarray(unbox(x))  # the mask is piecewise constant: it needs only the plain values
    mask = x == expand_reduced(unbox(ans), x.shape, axis, keepdims)
    ties = np.sum(mask, axis=axis, keepdims=True)
    return lambda g: split_ties(expand_reduced(g, x.shape, axis, keepdims), mask, ties)


max_ = NumpyOp(np.max, "max", numpy=(np.max, np.amax), call=extremum_call).defvjp(vjp_extremum)
min_ = NumpyOp(np.min, "min", numpy=(np.min, np.amin), call=extremum_call).defvjp(vjp_extremum)


def _var(a: Any, axis: Any = None, dtype: Any = None, out: Any = None, ddof: int = 0, keepdims: Any = False,
         **rest: Any) -> Any:
    reject("np.var", dtype=dtype, out=out, **rest)
    deviation = a - mean(a, axis=axis, keepdims=True)
    count = reduced_count(np.shape(a), axis)
    return sum_(deviation * deviation, axis=axis, keepdims=bool(keepdims)) / (count - ddof)


def _std(a: Any, *args: Any, **kwargs: Any) -> Any:
    return sqrt(_var(a, *args, **kwargs))


var = Composite(_var, numpy=(np.var,))
std = Composite(_std, numpy=(np.std,))

# ----- shape and indexing ------------------------------------------------------------------------------------


def reshape_call(op: Primitive, name: str, a: Any, shape: Any = None, order: str = "C", **rest: Any) -> Any:
    reject(name, **rest)
    if order != "C":
        raise AutodiffError(f"{name}: order={order!r} is not supported on traced values (only 'C')")
    return op(a, tuple(shape) if isinstance(shape, list | tuple) else (shape,))


def ravel_call(op: Primitive, name: str, a: Any, order: str = "C") -> Any:
    if order != "C":
        raise AutodiffError(f"{name}: order={order!r} is not supported on traced values (only 'C')")
    return op(a)


reshape = NumpyOp(np.reshape, "reshape", numpy=(np.reshape,), call=reshape_call).defvjp(
    lambda ans, x, shape: lambda g: np.reshape(g, shape_of(x))
)
ravel = NumpyOp(np.ravel, "ravel", numpy=(np.ravel,), call=ravel_call).defvjp(
    lambda ans, x: lambda g: np.reshape(g, shape_of(x))
)
broadcast_to = NumpyOp(np.broadcast_to, "broadcast_to", numpy=(np.broadcast_to,)).defvjp(
    lambda ans, x, shape, subok=False: lambda g: unbroadcast(g, shape_of(x))
)
squeeze = NumpyOp(np.squeeze, "squeeze", numpy=(np.squeeze,)).defvjp(
    lambda ans, x, axis=None: lambda g: np.reshape(g, shape_of(x))
)
expand_dims = NumpyOp(np.expand_dims, "expand_dims", numpy=(np.expand_dims,)).defvjp(
    lambda ans, x, axis: lambda g: np.reshape(g, shape_of(x))
)
swapaxes = NumpyOp(np.swapaxes, "swapaxes", numpy=(np.swapaxes,)).defvjp(
    lambda ans, x, axis1, axis2: lambda g: np.swapaxes(g, axis1, axis2)
)


def vjp_transpose(ans: Any, x: Any, axes: Any = None) -> Any:
    inverse = None if axes is None else tuple(np.argsort([a % np.ndim(x) for a in axes]))
    return lambda g: np.transpose(g, inverse)


def transpose_call(op: Primitive, name: str, a: Any, axes: Any = None) -> Any:
    return op(a, None if axes is None else tuple(axes))


transpose = NumpyOp(np.transpose, "transpose", numpy=(np.transpose,), call=transpose_call).defvjp(vjp_transpose)


def _getitem(x: Any, key: Any) -> Any:
    return x[key]


def _untake(g: Any, key: Any, shape: tuple[int, ...]) -> np.ndarray:
    """Zeros of `shape` with g added at `key` (repeated indices accumulate): the transpose of x[key]."""
    out = zeros_like_grad(shape, g)
    np.add.at(out, key, g)
    return out


untake = Primitive(_untake, "untake").defvjp(lambda ans, g, key, shape: lambda h: getitem(h, key))
getitem = Primitive(_getitem, "getitem").defvjp(  # x[key]: reached through Tensor.__getitem__
    lambda ans, x, key: lambda g: untake(g, key, shape_of(x))
)


def joining_call(op: Primitive, name: str, arrays: Any, axis: Any = 0, out: Any = None, **rest: Any) -> Any:
    """np.concatenate / np.stack: the arrays become the op's positional arguments (each may be traced)."""
    reject(name, out=out, **{k: v for k, v in rest.items() if k != "casting"})
    arrays = list(arrays)
    if axis is None and op is concatenate:
        arrays, axis = [np.ravel(a) for a in arrays], 0
    return op(*arrays, axis=axis)


def _concatenate(*arrays: Any, axis: int = 0) -> Any:
    return np.concatenate(arrays, axis=axis)


def along(axis: int, ndim: int, index: Any) -> tuple[Any, ...]:
    """The key that selects `index` along `axis` (negative counts from the end) of an ndim-dimensional array."""
    return (slice(None),) * (axis % ndim) + (index,)


def vjp_concatenate(argnum: int, ans: Any, *arrays: Any, axis: int = 0) -> Any:
    start = sum(shape_of(a)[axis] for a in arrays[:argnum])
    stop = start + shape_of(arrays[argnum])[axis]
    return lambda g: as_array(g)[along(axis, np.ndim(ans), slice(start, stop))]


concatenate = NumpyOp(_concatenate, "concatenate", numpy=(np.concatenate,), call=joining_call).defvjp_argnum(
    vjp_concatenate
)


def _stack(*arrays: Any, axis: int = 0) -> Any:
    return np.stack(arrays, axis=axis)


stack = NumpyOp(_stack, "stack", numpy=(np.stack,), call=joining_call).defvjp_argnum(
    lambda argnum, ans, *arrays, axis=0: lambda g: as_array(g)[along(axis, np.ndim(ans), argnum)]
)

# ----- selection ---------------------------------------------------------------------------------------------


def where_call(op: Primitive, name: str, condition: Any, *xy: Any) -> Any:
    """np.where(c, x, y) records the op; np.where(c) alone is index finding, evaluated on plain values."""
    if not xy:
        return np.where(unbox(condition))
    if len(xy) != 2:
        raise AutodiffError(f"{name} takes a condition and either both x and y or neither")
    return op(unbox(condition), *xy)


where = NumpyOp(np.where, "where", numpy=(np.where,), call=where_call).defvjp(
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


def clip_call(op: Primitive, name: str, a: Any, a_min: Any = NO_VALUE, a_max: Any = NO_VALUE, out: Any = None, *,
              min: Any = NO_VALUE, max: Any = NO_VALUE, **rest: Any) -> Any:
    """np.clip's bounds, positional (a_min, a_max) or keyword (min=, max=, numpy >= 2.1); None means unbounded."""
    reject(name, out=out, **rest)
    lo = min if a_min is NO_VALUE else a_min
    hi = max if a_max is NO_VALUE else a_max
    return op(a, None if lo is NO_VALUE else lo, None if hi is NO_VALUE else hi)


clip = NumpyOp(_clip, "clip", numpy=(np.clip,), call=clip_call).defvjp(
    lambda ans, x, lo, hi: lambda g: unbroadcast(np.where(_inside(x, lo, hi), g, 0), shape_of(x)),
    lambda ans, x, lo, hi: lambda g: unbroadcast(np.where(x < lo, g, 0), shape_of(lo)),
    lambda ans, x, lo, hi: lambda g: unbroadcast(np.where(x > hi, g, 0), shape_of(hi)),
)

# ----- linear algebra ----------------------------------------------------------------------------------------


def vjp_matmul(argnum: int, ans: Any, a: Any, b: Any) -> Any:
    """matmul's VJP with 1-D operands promoted to matrices and batch dimensions unbroadcast."""
    a, b = as_array(a), as_array(b)
    a2 = a[np.newaxis, :] if a.ndim == 1 else a
    b2 = b[:, np.newaxis] if b.ndim == 1 else b

    def vjp(g: Any) -> Any:
        g2 = as_array(g)
        g2 = np.expand_dims(g2, -1) if b.ndim == 1 else g2
        g2 = np.expand_dims(g2, -2) if a.ndim == 1 else g2
        if argnum == 0:
            return unbroadcast(np.matmul(g2, np.swapaxes(b2, -1, -2)), a2.shape).reshape(a.shape)
        return unbroadcast(np.matmul(np.swapaxes(a2, -1, -2), g2), b2.shape).reshape(b.shape)

    return vjp


def dot_call(op: Primitive, name: str, a: Any, b: Any, out: Any = None) -> Any:
    """np.dot: a scalar operand is a product; above 2-D numpy's dot is not matmul, and is refused."""
    reject(name, out=out)
    if np.ndim(a) == 0 or np.ndim(b) == 0:
        return multiply(a, b)
    if np.ndim(a) > 2 or np.ndim(b) > 2:
        raise AutodiffError(f"{name} on arrays of more than 2 dimensions is not supported; use np.matmul or @")
    return op(a, b)


matmul = NumpyOp(np.matmul, "matmul", numpy=(np.matmul,)).defvjp_argnum(vjp_matmul)
dot = NumpyOp(np.dot, "dot", numpy=(np.dot,), call=dot_call).defvjp_argnum(vjp_matmul)

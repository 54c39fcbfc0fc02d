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
from autodiff_ref.tensor import AutodiffError, Primitive, Tensor, is_complex, real_part, unbox

C = {"complex_inputs": True}  # the ops whose rules hold on complex values, in JAX's convention

# ----- arithmetic --------------------------------------------------------------------------------------------

add = defelementwise(np.add, lambda ans, x, y: lambda g: g, lambda ans, x, y: lambda g: g, **C)
subtract = defelementwise(np.subtract, lambda ans, x, y: lambda g: g, lambda ans, x, y: lambda g: -g, **C)
multiply = defelementwise(np.multiply, lambda ans, x, y: lambda g: g * y, lambda ans, x, y: lambda g: g * x, **C)
divide = defelementwise(np.divide, lambda ans, x, y: lambda g: g / y, lambda ans, x, y: lambda g: -g * ans / y, **C)
negative = defelementwise(np.negative, lambda ans, x: lambda g: -g, **C)
positive = defelementwise(np.positive, lambda ans, x: lambda g: g, **C)
reciprocal = defelementwise(np.reciprocal, lambda ans, x: lambda g: -g * ans * ans, **C)
square = defelementwise(np.square, lambda ans, x: lambda g: 2 * g * x, **C)


def nonzero_or_one(x: Any) -> tuple[Any, Any]:
    """(mask of x == 0, x with its zeros replaced by ones): a divisor that is safe where the mask is false."""
    zero = np.asarray(unbox(x)) == 0
    return zero, np.where(zero, ones_like(x), x)


def vjp_absolute(ans: Any, x: Any) -> Any:
    """Real x: g sign(x) (0 at 0). Complex z: g conj(z) / |z| (0 at 0), so that grad |z| = conj(z) / |z|."""
    if not is_complex(x):
        return lambda g: g * np.sign(x)
    zero, safe = nonzero_or_one(ans)
    return lambda g: np.where(zero, 0, g * np.conjugate(x) / safe)


absolute = defelementwise(np.absolute, vjp_absolute, **C)
conjugate = defelementwise(np.conjugate, lambda ans, x: lambda g: np.conjugate(g), **C)


def vjp_power_base(ans: Any, x: Any, y: Any) -> Any:
    return lambda g: g * y * x ** (y - 1)


def vjp_power_exponent(ans: Any, x: Any, y: Any) -> Any:
    x = as_array(x)
    if is_complex(x):  # principal branch: d x^y / dy = x^y log x
        return lambda g: g * ans * np.log(x)
    positive_x = np.where(x > 0, x, ones_like(x))
    # log in the result's kind: a constant float base must not make log(x) float64 (float32 or mpmath results)
    if dtype_of(ans).kind == "O":
        positive_x = positive_x * ones_like(ans)
    elif not isinstance(positive_x, Tensor):
        positive_x = positive_x.astype(dtype_of(ans))
    return lambda g: np.where(x > 0, g * ans * np.log(positive_x), 0)


power = defelementwise(np.power, vjp_power_base, vjp_power_exponent, **C)

# ----- elementwise functions ---------------------------------------------------------------------------------

exp = defelementwise(np.exp, lambda ans, x: lambda g: g * ans, **C)
exp2 = defelementwise(np.exp2, lambda ans, x: lambda g: g * ans * np.log(2 * ones_like(ans)))  # ln 2 in ans's kind
expm1 = defelementwise(np.expm1, lambda ans, x: lambda g: g * (ans + 1), **C)
log = defelementwise(np.log, lambda ans, x: lambda g: g / x, **C)
log1p = defelementwise(np.log1p, lambda ans, x: lambda g: g / (x + 1), **C)
sqrt = defelementwise(np.sqrt, lambda ans, x: lambda g: g / (2 * ans), **C)
sin = defelementwise(np.sin, lambda ans, x: lambda g: g * np.cos(x), **C)
cos = defelementwise(np.cos, lambda ans, x: lambda g: -g * np.sin(x), **C)
tan = defelementwise(np.tan, lambda ans, x: lambda g: g * (1 + ans * ans), **C)
sinh = defelementwise(np.sinh, lambda ans, x: lambda g: g * np.cosh(x), **C)
cosh = defelementwise(np.cosh, lambda ans, x: lambda g: g * np.sinh(x), **C)


def sech_squared(x: Any) -> Any:
    """1 - tanh(x)^2 as 4t / (1 + t)^2 with t = exp(-2|x|) <= 1: accurate for every x (1 - ans * ans keeps only
    the rounding of ans once |tanh x| nears 1: relative error 3e-9 at x = 9) and never overflows."""
    t = np.exp(-2 * np.abs(x))
    return 4 * t / ((1 + t) * (1 + t))


def vjp_tanh(ans: Any, x: Any) -> Any:
    if is_complex(x):  # sech_squared's |x| is for real x; 1 - tanh^2 is the holomorphic derivative
        return lambda g: g * (1 - ans * ans)
    return lambda g: g * sech_squared(x)


tanh = defelementwise(np.tanh, vjp_tanh, **C)
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

# ----- complex parts (JAX's convention: a cotangent c of z stands for the real covector dz -> Re(c dz)) -------


def _real(x: Any) -> Any:
    return real_part(x)


def _imag(x: Any) -> Any:
    return real_part(-1j * np.asarray(x))  # Im z = Re(-i z), element by element on object arrays too


def _angle(x: Any) -> Any:
    x = np.asarray(x)
    if x.dtype.kind != "O":
        return np.angle(x)
    return np.asarray(_OBJECT_ARG(x), dtype=object) if x.ndim else np.asarray(_OBJECT_ARG(x[()]), dtype=object)


_OBJECT_ARG = np.frompyfunc(lambda e: e.context.arg(e), 1, 1)  # mpmath's arg, in the element's own context


def vjp_angle(ans: Any, x: Any) -> Any:
    """angle z = atan2(y, x): d angle = Im(conj(z) dz) / |z|^2 = Re(-i conj(z) dz) / |z|^2 (0 at z = 0)."""
    zero, safe = nonzero_or_one(real_part(x * np.conjugate(x)))
    return lambda g: np.where(zero, 0, g * -1j * np.conjugate(x) / safe)


real = NumpyOp(_real, "real", numpy=(np.real,), **C).defvjp(lambda ans, x: lambda g: g)
imag = NumpyOp(_imag, "imag", numpy=(np.imag,), **C).defvjp(lambda ans, x: lambda g: g * -1j)
def angle_call(op: Primitive, name: str, z: Any, deg: bool = False) -> Any:
    if deg:
        raise AutodiffError(f"{name}: deg=True is not supported on traced values (radians only)")
    return op(z)


angle = NumpyOp(_angle, "angle", numpy=(np.angle,), call=angle_call, **C).defvjp(vjp_angle)

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


sum_ = NumpyOp(np.sum, "sum", numpy=(np.sum,), **C, call=reduction_call).defvjp(
    lambda ans, x, axis=None, keepdims=False: lambda g: expand_reduced(g, shape_of(x), axis, keepdims)
)
mean = NumpyOp(np.mean, "mean", numpy=(np.mean,), **C, call=reduction_call).defvjp(
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
    if is_complex(a):
        raise AutodiffError("np.var and np.std of complex traced values are not supported (use np.abs(x - m) ** 2)")
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


reshape = NumpyOp(np.reshape, "reshape", numpy=(np.reshape,), **C, call=reshape_call).defvjp(
    lambda ans, x, shape: lambda g: np.reshape(g, shape_of(x))
)
ravel = NumpyOp(np.ravel, "ravel", numpy=(np.ravel,), **C, call=ravel_call).defvjp(
    lambda ans, x: lambda g: np.reshape(g, shape_of(x))
)
broadcast_to = NumpyOp(np.broadcast_to, "broadcast_to", numpy=(np.broadcast_to,), **C).defvjp(
    lambda ans, x, shape, subok=False: lambda g: unbroadcast(g, shape_of(x))
)
squeeze = NumpyOp(np.squeeze, "squeeze", numpy=(np.squeeze,), **C).defvjp(
    lambda ans, x, axis=None: lambda g: np.reshape(g, shape_of(x))
)
expand_dims = NumpyOp(np.expand_dims, "expand_dims", numpy=(np.expand_dims,), **C).defvjp(
    lambda ans, x, axis: lambda g: np.reshape(g, shape_of(x))
)
swapaxes = NumpyOp(np.swapaxes, "swapaxes", numpy=(np.swapaxes,), **C).defvjp(
    lambda ans, x, axis1, axis2: lambda g: np.swapaxes(g, axis1, axis2)
)


def vjp_transpose(ans: Any, x: Any, axes: Any = None) -> Any:
    inverse = None if axes is None else tuple(np.argsort([a % np.ndim(x) for a in axes]))
    return lambda g: np.transpose(g, inverse)


def transpose_call(op: Primitive, name: str, a: Any, axes: Any = None) -> Any:
    return op(a, None if axes is None else tuple(axes))


transpose = NumpyOp(np.transpose, "transpose", numpy=(np.transpose,), **C, call=transpose_call).defvjp(vjp_transpose)


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


concatenate = NumpyOp(_concatenate, "concatenate", numpy=(np.concatenate,), **C, call=joining_call).defvjp_argnum(
    vjp_concatenate
)


def _stack(*arrays: Any, axis: int = 0) -> Any:
    return np.stack(arrays, axis=axis)


stack = NumpyOp(_stack, "stack", numpy=(np.stack,), **C, call=joining_call).defvjp_argnum(
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


where = NumpyOp(np.where, "where", numpy=(np.where,), **C, call=where_call).defvjp(
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


matmul = NumpyOp(np.matmul, "matmul", numpy=(np.matmul,), **C).defvjp_argnum(vjp_matmul)
dot = NumpyOp(np.dot, "dot", numpy=(np.dot,), **C, call=dot_call).defvjp_argnum(vjp_matmul)

# ----- discrete Fourier transform ----------------------------------------------------------------------------


def _dft(x: Any, axis: int, inverse: bool) -> np.ndarray:
    """np.fft.fft / ifft along `axis`; on object arrays the DFT matrix in the elements' own mpmath precision."""
    x = np.asarray(x)
    if x.dtype.kind != "O":
        return np.fft.ifft(x, axis=axis) if inverse else np.fft.fft(x, axis=axis)
    n = x.shape[axis]
    if not x.size:
        return x.copy()
    ctx = x.flat[0].context
    sign = 1 if inverse else -1
    turns = [[ctx.mpf(2 * sign * (j * k % n)) / n for k in range(n)] for j in range(n)]  # exp(i pi t), exactly
    matrix = np.array([[ctx.mpc(ctx.cospi(t), ctx.sinpi(t)) for t in row] for row in turns], dtype=object)
    out = np.moveaxis(x, axis, -1) @ matrix  # the DFT matrix is symmetric
    return np.moveaxis(out / n if inverse else out, -1, axis)


def _fft(x: Any, axis: int = -1) -> np.ndarray:
    return _dft(x, axis, inverse=False)


def _ifft(x: Any, axis: int = -1) -> np.ndarray:
    return _dft(x, axis, inverse=True)


def fft_call(op: Primitive, name: str, a: Any, n: Any = None, axis: int = -1, norm: Any = None, out: Any = None) -> Any:
    """np.fft.fft / ifft: the default length and normalisation only."""
    reject(name, n=n, out=out, norm=None if norm == "backward" else norm)
    return op(a, axis)


# y = F x with F symmetric, so the cotangent of x is F g (no conjugation: JAX's convention); ifft likewise.
fft = NumpyOp(_fft, "fft", numpy=(np.fft.fft,), call=fft_call, **C).defvjp(
    lambda ans, x, axis=-1: lambda g: fft(g, axis)
)
ifft = NumpyOp(_ifft, "ifft", numpy=(np.fft.ifft,), call=fft_call, **C).defvjp(
    lambda ans, x, axis=-1: lambda g: ifft(g, axis)
)

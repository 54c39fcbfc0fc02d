"""numpy dispatch: how `np.tanh(x @ w).sum()` on tensors becomes recorded primitives.

`Tensor.__array_ufunc__` and `Tensor.__array_function__` land here. Supported calls are mapped to primitives;
piecewise-constant and structural calls (comparisons, sign, argmax, shape, zeros_like) run on the plain values,
since their derivative is zero; anything else raises an `AutodiffError` naming the numpy function, so no
gradient is ever silently wrong or silently constant.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

import numpy as np

from autodiff_ref import primitives as p
from autodiff_ref.tensor import AutodiffError, Tensor

_NO_VALUE = np._NoValue  # numpy's "argument not given" sentinel in signatures such as np.clip's

UFUNCS: dict[np.ufunc, p.Primitive] = {
    np.add: p.add, np.subtract: p.subtract, np.multiply: p.multiply, np.divide: p.divide,
    np.negative: p.negative, np.positive: p.positive, np.reciprocal: p.reciprocal, np.square: p.square,
    np.absolute: p.absolute, np.power: p.power, np.exp: p.exp, np.expm1: p.expm1, np.log: p.log,
    np.log1p: p.log1p, np.sqrt: p.sqrt, np.sin: p.sin, np.cos: p.cos, np.tan: p.tan, np.sinh: p.sinh,
    np.cosh: p.cosh, np.tanh: p.tanh, np.arctan: p.arctan, np.maximum: p.maximum, np.minimum: p.minimum,
    np.logaddexp: p.logaddexp, np.logaddexp2: p.logaddexp2, np.matmul: p.matmul,
}  # fmt: skip

# Ufuncs whose result is boolean or piecewise constant: the derivative is zero wherever it exists.
CONSTANT_UFUNCS = frozenset({
    np.less, np.less_equal, np.greater, np.greater_equal, np.equal, np.not_equal, np.isfinite, np.isnan,
    np.isinf, np.sign, np.signbit, np.floor, np.ceil, np.trunc, np.rint, np.logical_and, np.logical_or,
    np.logical_not, np.logical_xor,
})  # fmt: skip


def unbox(x: Any) -> Any:
    """The plain value of a tensor; lists and tuples are unboxed element by element."""
    if isinstance(x, Tensor):
        return x.value
    if isinstance(x, list | tuple):
        return type(x)(unbox(item) for item in x)
    return x


UFUNC_HOMES = ("numpy", "scipy.special")  # where the ufuncs users call live (scipy.special's report no module)


def qualified_name(func: Any) -> str:
    """The name users call `func` by: the shortest public module path that holds it (`np.linalg.solve`,
    `scipy.special.logsumexp`, not `numpy.linalg._linalg.solve`), with numpy written `np`."""
    name = getattr(func, "__name__", repr(func))
    module = getattr(func, "__module__", None)
    homes = UFUNC_HOMES if isinstance(func, np.ufunc) else ()
    parts = module.split(".") if module else []
    candidates = [*homes, *(".".join(parts[:i]) for i in range(1, len(parts) + 1))]
    home = next((c for c in candidates if getattr(sys.modules.get(c), name, None) is func), module)
    qualified = f"{home}.{name}" if home else name
    return "np." + qualified.removeprefix("numpy.") if qualified.startswith("numpy.") else qualified


def dispatch_ufunc(ufunc: np.ufunc, method: str, inputs: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    name = qualified_name(ufunc)
    if method != "__call__":
        raise AutodiffError(f"{name}.{method} is not supported on traced values (only plain calls of {name})")
    if kwargs:
        raise AutodiffError(f"{name}: keyword arguments {sorted(kwargs)} are not supported on traced values")
    if ufunc in CONSTANT_UFUNCS:
        return ufunc(*unbox(inputs))
    prim = UFUNCS.get(ufunc)
    if prim is None:
        raise AutodiffError(f"{name} is not supported by autodiff_ref (no VJP rule); "
                            "register a custom op with @autodiff_ref.primitive and defvjp")
    return prim(*inputs)


def dispatch_function(func: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    handler = FUNCTIONS.get(func)
    if handler is None:
        raise AutodiffError(f"{qualified_name(func)} is not supported by autodiff_ref (no VJP rule); "
                            "register a custom op with @autodiff_ref.primitive and defvjp")
    return handler(*args, **kwargs)


def _reject(name: str, **options: Any) -> None:
    """Options that change semantics (out=, dtype=, where=, ...) are refused rather than ignored."""
    given = sorted(k for k, v in options.items() if v is not None and v is not _NO_VALUE)
    if given:
        raise AutodiffError(f"{name}: options {given} are not supported on traced values")


def _reduction(prim: p.Primitive, name: str) -> Callable[..., Any]:
    def handler(a: Any, axis: Any = None, dtype: Any = None, out: Any = None, keepdims: Any = False,
                **rest: Any) -> Any:
        _reject(name, dtype=dtype, out=out, **rest)
        return prim(a, axis=axis, keepdims=bool(keepdims))

    return handler


def _extremum(prim: p.Primitive, name: str) -> Callable[..., Any]:
    def handler(a: Any, axis: Any = None, out: Any = None, keepdims: Any = False, **rest: Any) -> Any:
        _reject(name, out=out, **rest)
        return prim(a, axis=axis, keepdims=bool(keepdims))

    return handler


def _reshape(a: Any, shape: Any = None, order: str = "C", **rest: Any) -> Any:
    _reject("np.reshape", **rest)
    if order != "C":
        raise AutodiffError(f"np.reshape: order={order!r} is not supported on traced values (only 'C')")
    return p.reshape(a, tuple(shape) if isinstance(shape, list | tuple) else (shape,))


def _ravel(a: Any, order: str = "C") -> Any:
    if order != "C":
        raise AutodiffError(f"np.ravel: order={order!r} is not supported on traced values (only 'C')")
    return p.ravel(a)


def _transpose(a: Any, axes: Any = None) -> Any:
    return p.transpose(a, None if axes is None else tuple(axes))


def _joining(prim: p.Primitive, name: str) -> Callable[..., Any]:
    def handler(arrays: Any, axis: Any = 0, out: Any = None, **rest: Any) -> Any:
        _reject(name, out=out, **{k: v for k, v in rest.items() if k != "casting"})
        arrays = list(arrays)
        if axis is None and prim is p.concatenate:
            arrays, axis = [np.ravel(a) for a in arrays], 0
        return prim(*arrays, axis=axis)

    return handler


def _where(condition: Any, *xy: Any) -> Any:
    if not xy:
        return np.where(unbox(condition))
    if len(xy) != 2:
        raise AutodiffError("np.where takes a condition and either both x and y or neither")
    return p.where(unbox(condition), *xy)


def _clip(a: Any, a_min: Any = _NO_VALUE, a_max: Any = _NO_VALUE, out: Any = None, *,
          min: Any = _NO_VALUE, max: Any = _NO_VALUE, **rest: Any) -> Any:
    _reject("np.clip", out=out, **rest)
    lo = min if a_min is _NO_VALUE else a_min
    hi = max if a_max is _NO_VALUE else a_max
    return p.clip(a, None if lo is _NO_VALUE else lo, None if hi is _NO_VALUE else hi)


def _dot(a: Any, b: Any, out: Any = None) -> Any:
    _reject("np.dot", out=out)
    if np.ndim(a) == 0 or np.ndim(b) == 0:
        return p.multiply(a, b)
    if np.ndim(a) > 2 or np.ndim(b) > 2:
        raise AutodiffError("np.dot on arrays of more than 2 dimensions is not supported; use np.matmul or @")
    return p.dot(a, b)


def _var(a: Any, axis: Any = None, dtype: Any = None, out: Any = None, ddof: int = 0, keepdims: Any = False,
         **rest: Any) -> Any:
    _reject("np.var", dtype=dtype, out=out, **rest)
    deviation = a - p.mean(a, axis=axis, keepdims=True)
    count = p._count(np.shape(a), axis)
    return p.sum_(deviation * deviation, axis=axis, keepdims=bool(keepdims)) / (count - ddof)


def _std(a: Any, *args: Any, **kwargs: Any) -> Any:
    return p.sqrt(_var(a, *args, **kwargs))


def _constant(func: Any) -> Callable[..., Any]:
    """Structural or piecewise-constant functions: evaluated on plain values (derivative zero)."""

    def handler(*args: Any, **kwargs: Any) -> Any:
        if any(isinstance(a, Tensor) for a in args[1:]) or any(isinstance(v, Tensor) for v in kwargs.values()):
            raise AutodiffError(f"{qualified_name(func)}: only its first argument may be a traced value")
        return func(*unbox(args), **kwargs)

    return handler


FUNCTIONS: dict[Any, Callable[..., Any]] = {
    np.sum: _reduction(p.sum_, "np.sum"), np.mean: _reduction(p.mean, "np.mean"),
    np.max: _extremum(p.max_, "np.max"), np.amax: _extremum(p.max_, "np.amax"),
    np.min: _extremum(p.min_, "np.min"), np.amin: _extremum(p.min_, "np.amin"),
    np.reshape: _reshape, np.ravel: _ravel, np.transpose: _transpose,
    np.swapaxes: lambda a, axis1, axis2: p.swapaxes(a, axis1, axis2),
    np.squeeze: lambda a, axis=None: p.squeeze(a, axis=axis),
    np.expand_dims: lambda a, axis: p.expand_dims(a, axis),
    np.concatenate: _joining(p.concatenate, "np.concatenate"), np.stack: _joining(p.stack, "np.stack"),
    np.where: _where, np.clip: _clip, np.dot: _dot, np.var: _var, np.std: _std,
}  # fmt: skip
for _func in (np.shape, np.ndim, np.size, np.argmax, np.argmin, np.argsort, np.zeros_like, np.ones_like,
              np.empty_like, np.full_like, np.isclose, np.allclose, np.array_equal, np.count_nonzero,
              np.nonzero, np.result_type):
    FUNCTIONS[_func] = _constant(_func)

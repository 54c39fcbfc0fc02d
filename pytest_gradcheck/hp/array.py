"""The high-precision array: an object ndarray of one private context's numbers that routes numpy calls.

`HPArray` is what `precision.to_hp` returns. Plain object arrays already carry most numpy code (operators
and most ufuncs call methods of the elements); this subclass adds, through numpy's own protocols:

- ``__array_ufunc__``: ufuncs without an object loop (``np.logaddexp``, ``scipy.special.erf``) run their
  registered scalar twin per element (`hp_registry`); the rest run numpy's object loop.
- ``__array_function__``: numpy functions with a registered twin (``np.linalg.det``, ``np.fft.fft``,
  ``np.clip``) run it; the rest run numpy's own implementation on the high-precision array.
- Results stay high precision: object results are wrapped back, and plain numbers that numpy put into them
  (``np.maximum(x, 0.0)``, ``np.where``, ``np.zeros_like``) become exact numbers of the context, so a later
  ``np.exp`` on them works.
- ``astype(float)`` keeps high precision (the function is the float64 function: `hp_casts`); ``astype`` to
  another float dtype (float32) is recorded (`leaks`): the checker names it when it falls back to float64.

The context's scalars get an ``__array_ufunc__`` too (`install_scalar_protocol`), so ``np.logaddexp(s, 0.0)``
with a high-precision scalar ``s`` (a sum, say) is routed like an array.
"""

from __future__ import annotations

import functools
import operator
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np

from pytest_gradcheck.hp import dtype_questions
from pytest_gradcheck.hp import registry as hp_registry
from pytest_gradcheck.hp.blame import HPUnsupported, checker_fault, forwarding
from pytest_gradcheck.hp.exact import exact_objects, to_mpf

__all__ = [
    "HPArray", "hp_twin", "hp_view", "install_scalar_protocol", "note_leak", "objects", "operand", "plain_arithmetic",
    "recording_leaks", "wrap",
]

_local = threading.local()


@contextmanager
def recording_leaks() -> Iterator[list[str]]:
    """Collect, in this thread, the names of calls that turned high-precision arrays into float64."""
    previous = getattr(_local, "leaks", None)
    found: list[str] = []
    _local.leaks = found
    try:
        yield found
    finally:
        _local.leaks = previous


class plain_arithmetic:
    """Within (this thread): ufuncs on high-precision values return plain object arrays, unrouted except for
    twins. For the checker's own arithmetic on results (differences, error estimates), where the routing that
    user code needs costs more than the arithmetic; `plain_arithmetic(False)` restores it around user code.
    (A class, not a generator: it is entered several times per derivative.)"""

    __slots__ = ("on", "previous")

    def __init__(self, on: bool = True) -> None:
        self.on = on

    def __enter__(self) -> None:
        state = _local.__dict__
        self.previous = state.get("plain", False)
        state["plain"] = self.on

    def __exit__(self, *exc: object) -> None:
        _local.__dict__["plain"] = self.previous


def note_leak(name: str) -> None:
    """Record a call that turned high-precision values into a lower precision (see `recording_leaks`)."""
    _leak(name)


def _leak(name: str) -> None:
    found = getattr(_local, "leaks", None)
    if found is not None and name not in found:
        found.append(name)


def objects(flat: list[Any], shape: tuple[int, ...]) -> np.ndarray:
    """An object array of exactly these elements (never nested, whatever they are)."""
    return np.fromiter(flat, dtype=object, count=len(flat)).reshape(shape)


def _is_number(e: Any) -> bool:
    return isinstance(e, float | int | np.floating | np.integer) and not isinstance(e, bool | np.bool_)


def _exact(ctx: Any, flat: list[Any]) -> list[Any]:
    """Plain real numbers among the elements as exact numbers of ctx (floats and ints are exact in mpf)."""
    return [to_mpf(ctx, e) if _is_number(e) else e for e in flat]


def _types(ctx: Any) -> frozenset[type]:
    """The number types of ctx (mpf, mpc), remembered on the context."""
    types = ctx.__dict__.get("hp_types")
    if types is None:
        types = ctx.hp_types = frozenset({ctx.mpf, ctx.mpc})
    return types


def wrap(value: Any, ctx: Any) -> Any:
    """A result as the caller should see it: object arrays as HPArray with plain numbers made exact."""
    if isinstance(value, np.ndarray):
        if value.dtype != object:  # float64 (or bool) results leave the high-precision type
            return value.view(np.ndarray) if isinstance(value, HPArray) else value
        flat = value.ravel().tolist()
        if not set(map(type, flat)) <= _types(ctx):
            value = objects(_exact(ctx, flat), value.shape)
        out = value.view(HPArray)
        out.hp_context = ctx
        return out
    if isinstance(value, tuple) and hasattr(value, "_fields"):  # namedtuples (slogdet, eigh, svd results)
        return type(value)(*(wrap(v, ctx) for v in value))
    if isinstance(value, tuple | list):
        return type(value)(wrap(v, ctx) for v in value)
    return value


def hp_twin(twin: Callable[..., Any]) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Decorator for your own function that high-precision arrays cannot pass through (it calls
    scipy.linalg, casts, or a compiled extension): called with a high-precision argument it runs `twin`
    instead, with the same arguments; with float arrays it runs itself.

        @hp_twin(lambda a: my_mpmath_sqrtm(a))
        def sqrtm(a):
            return scipy.linalg.sqrtm(a)
    """
    if not callable(twin):
        raise TypeError(f"twin: expected a callable, got {type(twin).__name__}")

    def decorate(function: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(function)
        def dispatching(*args: Any, **kwargs: Any) -> Any:
            values = (*args, *kwargs.values())
            for is_other_tier, bridge in hp_registry.QUAD_BRIDGE:  # quad arrays: the twin runs on mpmath
                if any(is_other_tier(a) for a in values):
                    return bridge(twin, args, kwargs)
            if any(hp_registry.is_hp_value(a) for a in values):
                return wrap(twin(*args, **kwargs), hp_registry.context_of(*values))
            return function(*args, **kwargs)

        dispatching.hp_twin = twin  # type: ignore[attr-defined]
        forwarding(dispatching)
        return dispatching

    return decorate


def hp_view(plain: np.ndarray, ctx: Any) -> HPArray:
    """An object array known to hold only ctx's numbers, as HPArray (no element scan)."""
    out = plain.view(HPArray)
    out.hp_context = ctx
    return out


def _plain(value: Any) -> Any:
    if isinstance(value, HPArray):
        return value.view(np.ndarray)
    if hasattr(value, "_mpf_") or hasattr(value, "_mpc_"):  # a 0-d array: no second trip through the scalar
        return np.asarray(value, dtype=object)  # protocol (in-place ufuncs, reductions would recurse)
    if isinstance(value, tuple | list) and any(isinstance(v, HPArray) for v in value):
        return type(value)(_plain(v) for v in value)
    return value


def _unwrap(value: Any) -> Any:
    return value.view(np.ndarray) if isinstance(value, HPArray) else value


def operand(value: Any, ctx: Any) -> np.ndarray:
    """A ufunc operand as an object array of ctx's numbers (floats converted exactly)."""
    array = np.asarray(value.view(np.ndarray) if isinstance(value, HPArray) else value)
    if array.dtype == object:
        return objects(_exact(ctx, array.ravel().tolist()), array.shape)
    if array.dtype.kind in "fiu":
        return exact_objects(array, ctx)
    if array.dtype.kind == "c":
        return objects([ctx.mpc(complex(e)) for e in array.ravel().tolist()], array.shape)
    if array.dtype.kind == "b":
        return array
    raise HPUnsupported(f"cannot use a {array.dtype} operand at high precision")


def _apply_twin(twin: Callable[..., Any], ufunc: np.ufunc, inputs: tuple[Any, ...], kwargs: dict[str, Any],
                ctx: Any) -> Any:
    """A ufunc's scalar twin applied with broadcasting; bool results give a bool array."""
    unsupported = set(kwargs) - {"out", "where", "casting", "order", "dtype", "subok", "signature"}
    if unsupported or kwargs.get("where", True) is not True:
        raise HPUnsupported(f"{ufunc.__name__} at high precision: keyword(s) {sorted(unsupported) or ['where']} "
                        "are not supported")
    operands = np.broadcast_arrays(*(operand(x, ctx) for x in inputs))
    shape = operands[0].shape if operands else ()
    results = [twin(*elements) for elements in zip(*(o.ravel().tolist() for o in operands), strict=True)]
    outputs = list(zip(*results, strict=True)) if ufunc.nout > 1 else [results]
    wrapped = []
    for values in outputs:
        if values and all(isinstance(v, bool | np.bool_) for v in values):
            wrapped.append(np.array(values, dtype=bool).reshape(shape))
        else:
            wrapped.append(wrap(objects(list(values), shape), ctx))
    out = kwargs.get("out")
    if out is not None:
        for target, value in zip(out, wrapped, strict=True):
            target[...] = value
        wrapped = list(out)
    if not shape and not any(isinstance(x, np.ndarray) and x.ndim for x in inputs):
        wrapped = [w[()] if isinstance(w, np.ndarray) else w for w in wrapped]
    return tuple(wrapped) if ufunc.nout > 1 else wrapped[0]


class HPArray(np.ndarray):
    """An object array of one private mpmath context's numbers; `hp_context` is that context."""

    hp_context: Any = None

    def __array_finalize__(self, obj: Any) -> None:
        self.hp_context = getattr(obj, "hp_context", None)

    @forwarding
    def __array_ufunc__(self, ufunc: np.ufunc, method: str, *inputs: Any, **kwargs: Any) -> Any:
        return dispatch_ufunc(ufunc, method, inputs, kwargs, self.hp_context)

    @forwarding
    def __array_function__(self, func: Any, types: Any, args: Any, kwargs: Any) -> Any:
        if not all(issubclass(t, np.ndarray) for t in types):
            return NotImplemented  # another array type (autodiff_ref's Tensor) takes the call
        ctx = self.hp_context or hp_registry.context_of(*args, *kwargs.values())
        twin = hp_registry.lookup_function(func)
        if twin is not None:
            return wrap(twin(*args, **kwargs), ctx)
        if func in _ARITHMETIC and "out" not in kwargs:  # the same loops, without routing each inner ufunc
            args = tuple(_unwrap(a) for a in args)
            kwargs = {k: _unwrap(v) for k, v in kwargs.items()}
        return wrap(func._implementation(*args, **kwargs), ctx)

    def astype(self, dtype: Any, *args: Any, **kwargs: Any) -> Any:
        """float64 (the function's own dtype) keeps high precision, as an object array with astype's copy
        semantics; other dtypes (float32, int) convert, and a float one is recorded as the leak."""
        target = np.dtype(dtype)
        if target == _FLOAT64:
            target = np.dtype(object)
        elif target.kind != "O":
            _leak(f"ndarray.astype({target})")
        out = super().astype(target, *args, **kwargs)
        return out if out is self else wrap(out, self.hp_context)  # copy=False: no copy, x itself

    @property  # type: ignore[override]
    def dtype(self) -> np.dtype:
        """The object dtype, noting who asked (`dtype_questions.recording`)."""
        dtype_questions.note()
        return _DTYPE.__get__(self)

    @dtype.setter
    def dtype(self, value: Any) -> None:
        _DTYPE.__set__(self, value)

    @property  # type: ignore[override]
    def real(self) -> Any:
        return wrap(objects([e.real for e in self.ravel().tolist()], self.shape), self.hp_context)

    @property  # type: ignore[override]
    def imag(self) -> Any:
        return wrap(objects([e.imag for e in self.ravel().tolist()], self.shape), self.hp_context)

    def __reduce__(self) -> Any:  # pickles as a plain object array: the context is private to a process
        return self.view(np.ndarray).__reduce__()


@forwarding
def _plain_ufunc(ufunc: np.ufunc, method: str, inputs: tuple[Any, ...], kwargs: dict[str, Any], ctx: Any) -> Any:
    """A ufunc call under `plain_arithmetic`: twins still apply, results are not wrapped."""
    if method == "__call__" and hp_registry.lookup_ufunc(ufunc) is not None:
        result = dispatch_ufunc(ufunc, method, inputs, kwargs, ctx, routed=True)
        return tuple(_unwrap(r) for r in result) if isinstance(result, tuple) else _unwrap(result)
    if "out" in kwargs:
        kwargs["out"] = tuple(_plain(o) for o in kwargs["out"])
    return getattr(ufunc, method)(*(_plain(x) for x in inputs), **kwargs)


@forwarding
def _plain_operands(method: str, inputs: tuple[Any, ...], ctx: Any) -> tuple[list[Any], bool]:
    """The operands as numpy's object loop takes them (plain object arrays, plain numbers made exact), and
    whether the call is on scalars only (then a 0-d result is returned as its element)."""
    plain, scalar_call = [], True
    for position, x in enumerate(inputs):
        kind = type(x)
        if method == "at" and position == 1:  # ufunc.at(a, indices, b): the indices stay integers
            plain.append(_plain(x))
            continue
        if method == "at" and position == 0 and kind is np.ndarray and x.dtype != object:
            plain.append(x)  # written in place: never a converted copy; numpy decides (float64, or no loop)
            scalar_call = False
            continue
        if kind is HPArray:
            plain.append(x.view(np.ndarray))
            scalar_call = False
        elif kind in _SCALARS:  # converted once, not per element (through mpmath's reflected operators)
            plain.append(np.asarray(_exact_scalar(ctx, x), dtype=object))
        elif kind is np.ndarray and x.dtype == _FLOAT64 and 0 < x.size <= CONSTANT_OPERAND_SIZE \
                and hasattr(ctx, "hp_float_array"):
            plain.append(ctx.hp_float_array(x))  # a constant array of f, converted once per value
            scalar_call = False
        else:
            plain.append(_plain(x))
            scalar_call = scalar_call and not isinstance(x, np.ndarray)
    return plain, scalar_call


@forwarding
def dispatch_ufunc(ufunc: np.ufunc, method: str, inputs: tuple[Any, ...], kwargs: dict[str, Any], ctx: Any,
                   routed: bool = False) -> Any:
    """Route one ufunc call with a high-precision operand. (On every operation of f at high precision: kept
    lean, the common case first.)"""
    if not routed and _local.__dict__.get("plain"):
        return _plain_ufunc(ufunc, method, inputs, kwargs, ctx)
    ctx = ctx or hp_registry.context_of(*inputs)
    if method == "__call__":
        twin = hp_registry.lookup_ufunc(ufunc)
        if twin is not None:
            return _apply_twin(twin, ufunc, inputs, kwargs, ctx)
        if ufunc is _POWER and not kwargs and len(inputs) == 2 and type(inputs[1]) is int and inputs[1] == 2:
            ufunc, inputs = _MULTIPLY, (inputs[0], inputs[0])  # x * x: the same correctly rounded square,
            # without mpmath's generic power
    plain, scalar_call = _plain_operands(method, inputs, ctx)
    out = kwargs.get("out") if kwargs else None
    if out is not None:
        kwargs["out"] = tuple(_plain(o) for o in out)
    try:
        result = getattr(ufunc, method)(*plain, **kwargs)
    except TypeError as error:  # no object loop, or an element without the method it needs
        if checker_fault(error) is not None:  # raised by the checker's own element method: a bug, not a signal
            raise
        unsupported = HPUnsupported(str(error))
        unsupported.hp_function = hp_registry.name_of(ufunc)  # type: ignore[attr-defined]
        raise unsupported from error
    if out is not None:
        return out[0] if len(out) == 1 else out
    if scalar_call and isinstance(result, np.ndarray) and result.ndim == 0:
        result = result[()]
    return wrap(result, ctx)


_POWER, _MULTIPLY, _FLOAT64 = np.power, np.multiply, np.dtype(np.float64)
_DTYPE = np.ndarray.dtype  # ndarray's own dtype descriptor, behind HPArray.dtype
# Float64 operands up to this size are converted once per value (ctx.hp_float_array, set up by precision).
CONSTANT_OPERAND_SIZE = 1024
# numpy functions that only add, multiply, divide and compare (object loops, no twin): they run on the plain
# object array, their result is wrapped once
_ARITHMETIC = frozenset({np.sum, np.mean, np.prod, np.max, np.min, np.amax, np.amin, np.cumsum, np.dot})


# Plain real scalars numpy passes to a ufunc; _exact_scalar turns them into the context's numbers, exactly.
_SCALARS = frozenset({float, int, np.float64, np.int64})


def _exact_scalar(ctx: Any, x: Any) -> Any:
    """A float, int, np.float64 or np.int64 as ctx's exact number (ctx.convert notes famous constants)."""
    return ctx.convert(float(x) if isinstance(x, float) else int(x))


# Ufuncs whose object loop is one Python operator: on scalars they are called directly.
_SCALAR_OPERATORS = {np.add: operator.add, np.subtract: operator.sub, np.multiply: operator.mul,
                     np.true_divide: operator.truediv, np.power: operator.pow, np.negative: operator.neg,
                     np.positive: operator.pos, np.absolute: operator.abs}


def install_scalar_protocol(ctx: Any) -> None:
    """Give ctx's mpf an __array_ufunc__, so that ufuncs on its scalars are routed like arrays."""

    mpf = ctx.mpf

    def scalar_array_ufunc(self: Any, ufunc: np.ufunc, method: str, *inputs: Any, **kwargs: Any) -> Any:
        direct = _SCALAR_OPERATORS.get(ufunc) if method == "__call__" and not kwargs else None
        # np.float64(1.5) - s and the like: what numpy's object loop would compute
        if direct is not None and all(type(x) is mpf or type(x) in _SCALARS for x in inputs):
            return direct(*(x if type(x) is mpf else _exact_scalar(ctx, x) for x in inputs))
        if getattr(_local, "plain", False):
            return _plain_ufunc(ufunc, method, inputs, kwargs, ctx)
        if hp_registry.lookup_ufunc(ufunc) is None and method == "__call__" and "out" not in kwargs:
            # numpy's object loop handles it; 0-d object arrays go through it
            operands = tuple(np.asarray(x, dtype=object) if x is self or hasattr(x, "_mpf_") else _plain(x)
                             for x in inputs)
            result = ufunc(*operands, **kwargs)
            if isinstance(result, np.ndarray) and result.ndim == 0 and not any(
                    isinstance(x, np.ndarray) and x.ndim for x in inputs):
                result = result[()]
            return wrap(result, ctx)
        return dispatch_ufunc(ufunc, method, inputs, kwargs, ctx)

    ctx.mpf.__array_ufunc__ = scalar_array_ufunc

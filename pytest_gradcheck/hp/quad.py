"""The quad tier: f runs on IEEE binary128 arrays (numpy-quaddtype), vectorised, call by call.

A check's cost is evaluating f at high precision. On object arrays of mpmath numbers every element is a Python
object and every operation a Python call; numpy-quaddtype's dtype has real ufunc loops (SLEEF kernels, 113-bit
significand, about 33 digits), 6 to 110 times faster on the same unmodified numpy code.

`QuadArray` carries the quad values through f. Its ``__array_ufunc__`` and ``__array_function__`` let through
only the operations in `quad_ops` (each run on quad by the project's tests, in a subprocess); any other call
goes to the mpmath path for that call alone: its quad operands become exact numbers of the tier's mpmath
context (113 bits: the same precision), the call runs as on the mpmath tier (twins, ``np.linalg.solve``,
``scipy.special``) and its result comes back as quad. One ``np.linalg.solve`` does not push a whole check onto
object arrays.

What the mpmath tier notes, this tier notes too: float64 roundings of famous constants (``np.pi``) mixed into
f, ``astype`` to a lower precision (a leak), and f's questions about the dtype of its input.

Conversions are exact both ways: a quad number splits into three float64 parts whose scaled sum is its
integer mantissa; an mpf number of at most 113 bits is written as a decimal string of 40 digits, which quad
parses to the nearest (the same number).
"""

from __future__ import annotations

import functools
import importlib.metadata
from collections.abc import Callable
from typing import Any

import numpy as np
from mpmath.libmp import to_str

from pytest_gradcheck.hp import array as hparray
from pytest_gradcheck.hp import constants, dtype_questions, quad_ops
from pytest_gradcheck.hp import registry as hp_registry
from pytest_gradcheck.hp.blame import HPUnsupported, forwarding

__all__ = [
    "QUAD_BITS", "QUAD_DIGITS", "QuadArray", "available", "from_objects", "is_quad", "moved",
    "objects_if_quad", "quad_dtype",
    "to_objects", "to_quad", "version",
]

QUAD_BITS = 113  # binary128's significand, the implicit bit included
QUAD_DIGITS = 33  # mpmath's dps for 113 bits: the tier's context is precision.context(QUAD_DIGITS)
_SPLIT = 2.0 ** QUAD_BITS  # a frexp mantissa in [0.5, 1) times this is an integer below 2**113
_DTYPE, _FLOAT64 = np.ndarray.dtype, np.dtype(np.float64)  # ndarray's own dtype descriptor; float64
_STRING_DIGITS = 40  # more than binary128's 36 round-trip digits: the string names the same number


@functools.cache
def version() -> tuple[int, ...] | None:
    """numpy-quaddtype's version as a tuple of ints, or None when it is not installed."""
    try:
        text = importlib.metadata.version("numpy-quaddtype")
    except importlib.metadata.PackageNotFoundError:
        return None
    return tuple(int(part) for part in text.split(".")[:2] if part.isdigit())


@functools.cache
def available() -> bool:
    """Whether a supported numpy-quaddtype (`quad_ops.SUPPORTED_VERSIONS`) is installed and imports."""
    found = version()
    low, high = quad_ops.SUPPORTED_VERSIONS
    if found is None or not low <= found < high:
        return False
    try:
        quad_dtype()
    except Exception:  # an install that does not import: the mpmath tier runs instead
        return False
    return True


@functools.cache
def quad_dtype() -> np.dtype:
    import numpy_quaddtype

    dtype = np.dtype(numpy_quaddtype.QuadPrecDType())
    _PINNED.extend([type(dtype)] * _PINS)  # see _PINS
    return dtype


# numpy-quaddtype 1.0's promoter drops a reference to the QuadPrecDType class per new (ufunc, operand dtypes)
# pair it meets with mixed operands; on Python 3.11 about 230 such pairs free the class and crash the process. The
# tier converts its own operands to quad, but a quad scalar in user code meets others: these references keep the
# class alive whatever user code does (800 kB).
_PINS = 100_000
_PINNED: list[type] = []


def is_quad(value: Any) -> bool:
    """A quad array or scalar (numpy-quaddtype's dtype)."""
    dtype = _DTYPE.__get__(value) if isinstance(value, np.ndarray) else getattr(value, "dtype", None)
    return dtype is not None and available() and dtype == quad_dtype()


def _view(plain: np.ndarray, ctx: Any) -> QuadArray:
    out = plain.view(QuadArray)
    out.hp_context = ctx
    return out


def to_quad(values: np.ndarray, ctx: Any) -> QuadArray:
    """A float64 or float32 array as quad, exactly (widening), carrying the tier's mpmath context."""
    return _view(np.asarray(values).astype(quad_dtype()), ctx)


def to_objects(values: Any, ctx: Any) -> np.ndarray:
    """A quad array or scalar as a plain object array of ctx's numbers, exactly (ctx has >= 113 bits)."""
    plain = np.asarray(values).view(np.ndarray)
    mantissa, exponent = np.frexp(plain)  # mantissa in [0.5, 1) (or 0, inf, nan), quad; exponent int
    finite = np.isfinite(plain)
    safe = np.where(finite, mantissa, 0).astype(quad_dtype())
    hi = safe.astype(np.float64)
    rest = safe - hi
    mid = rest.astype(np.float64)
    lo = (rest - mid).astype(np.float64)
    parts = zip((hi * _SPLIT).ravel().tolist(), (mid * _SPLIT).ravel().tolist(), (lo * _SPLIT).ravel().tolist(),
                (exponent.astype(np.int64) - QUAD_BITS).ravel().tolist(), finite.ravel().tolist(),
                plain.astype(np.float64).ravel().tolist(), strict=True)
    mpf = ctx.mpf
    flat = [mpf((int(a) + int(b) + int(c), e)) if ok else mpf(inf) for a, b, c, e, ok, inf in parts]
    return hparray.objects(flat, plain.shape)


def moved(x: QuadArray, u: QuadArray, t: Any) -> QuadArray:
    """x + t u in quad, as a QuadArray of x's shape (a 0-d argument stays an array, as f was given one)."""
    plain = x.view(np.ndarray) + u.view(np.ndarray) * np.asarray(t).view(np.ndarray)
    return _view(np.asarray(plain), x.hp_context)


def objects_if_quad(value: Any, ctx: Any) -> Any:
    """f's value as the checker takes it: a quad array or scalar as ctx's numbers (`to_objects`); anything
    else unchanged."""
    if isinstance(value, np.ndarray | np.generic) and is_quad(value):
        return hparray.hp_view(to_objects(value, ctx), ctx)
    return value


def from_objects(values: Any, ctx: Any) -> QuadArray:
    """Real numbers (mpf of any context, floats, ints; an array or a scalar) as a quad array, to nearest."""
    array = np.asarray(values)
    if array.dtype.kind in "fiub":
        return _view(array.astype(quad_dtype()), ctx)
    texts = [to_str(e._mpf_, _STRING_DIGITS) if hasattr(e, "_mpf_") else repr(float(e))
             for e in array.ravel().tolist()]
    return _view(np.array(texts, dtype=str).astype(quad_dtype()).reshape(array.shape), ctx)


# The names in quad_ops, as numpy's objects.
_UFUNCS = frozenset(getattr(np, name) for name in quad_ops.UFUNCS)
_REDUCTIONS = frozenset(getattr(np, name) for name in quad_ops.REDUCTIONS)
_FUNCTIONS = frozenset(getattr(np, name) for name in quad_ops.FUNCTIONS)
_CREATION = frozenset({np.zeros_like, np.ones_like, np.full_like, np.empty_like})
_IN_PLACE = frozenset(f for f in (np.put, np.place, np.putmask, np.fill_diagonal, np.put_along_axis))
_NATIVE_KINDS = frozenset("fiub")  # operands quad mixes with natively: float, int, bool arrays and scalars
_KEYWORDS = frozenset({"out", "axis", "keepdims"})  # ufunc keywords the native path takes


def _native_operand(value: Any) -> bool:
    kind = type(value)
    if kind is QuadArray or kind is float or kind is int:  # the common cases first: this runs on every call
        return kind is not QuadArray or is_quad(value)
    if isinstance(value, np.ndarray | np.generic):
        return value.dtype.kind in _NATIVE_KINDS or is_quad(value)
    return kind is bool


def _native_call(ufunc: np.ufunc, method: str, inputs: tuple[Any, ...], kwargs: dict[str, Any]) -> bool:
    """Whether quad runs this ufunc call itself: an allowed operation on operands it mixes with."""
    reducing = method in ("reduce", "accumulate") and ufunc in _REDUCTIONS
    allowed = ufunc in _UFUNCS if method == "__call__" else reducing
    if not allowed or not {k for k, v in kwargs.items() if not _default(k, v)} <= _KEYWORDS:
        return False
    outputs = kwargs.get("out") or ()
    return all(map(_native_operand, inputs)) and all(is_quad(o) for o in outputs)


def _default(keyword: str, value: Any) -> bool:
    """A keyword numpy's own wrappers pass with its default value (np.sum passes dtype=None, out=None)."""
    if keyword == "where":
        return value is True
    if keyword == "out":
        return value is None or (type(value) is tuple and all(v is None for v in value))
    if keyword == "axis":  # axis=None reduces over every axis: not reduce's default (axis 0)
        return False
    return value is None or value is np._NoValue


def _note_constants(inputs: tuple[Any, ...], ctx: Any) -> None:
    """Float64 roundings of famous constants among the operands, noted as the mpmath tier's convert does."""
    watch = getattr(ctx, "hp_constants", None)
    if watch is None:
        return
    famous = constants.FLOAT64_CONSTANTS
    for value in inputs:
        if type(value) is float or isinstance(value, np.float64):
            if float(value) in famous:
                watch.add(famous[float(value)])
        elif type(value) is np.ndarray and value.dtype == np.float64 and 0 < value.size <= \
                hparray.CONSTANT_OPERAND_SIZE:
            watch.update(_constant_operand(value)[1])


# Float64 operand arrays remembered with their quad copy and the famous constants they hold: a constant array
# of f (weights, data) meets every evaluation (at most hparray.CONSTANT_OPERAND_SIZE elements each).
_OPERANDS: dict[tuple[Any, bytes], tuple[np.ndarray, frozenset[str]]] = {}
_OPERANDS_KEPT = 256


def _constant_operand(value: np.ndarray) -> tuple[np.ndarray, frozenset[str]]:
    key = (value.shape, value.tobytes())
    entry = _OPERANDS.get(key)
    if entry is None:
        famous = constants.FLOAT64_CONSTANTS
        converted = value.astype(quad_dtype())
        converted.flags.writeable = False
        if len(_OPERANDS) >= _OPERANDS_KEPT:
            _OPERANDS.clear()
        entry = _OPERANDS[key] = (converted, frozenset(famous[v] for v in value.ravel().tolist() if v in famous))
    return entry


def _as_quad(value: Any) -> Any:
    """An operand of a native call as plain quad (numpy-quaddtype's promoter leaks on mixed operands: see
    _PINS), an array as an array, a scalar as a 0-d array."""
    kind = type(value)
    if kind is QuadArray or (kind is np.ndarray and is_quad(value)):
        return value.view(np.ndarray)
    if kind is np.ndarray and value.dtype == np.float64 and 0 < value.size <= hparray.CONSTANT_OPERAND_SIZE:
        return _constant_operand(value)[0]
    return np.asarray(value).astype(quad_dtype())


def _bare(value: Any) -> Any:
    """QuadArrays of another dtype than quad (np.vectorize's object casts) as plain arrays, searched into
    lists, tuples and dicts."""
    return _each(value, lambda x: x.view(np.ndarray) if type(x) is QuadArray and not is_quad(x) else x)


def _plain(value: Any) -> Any:
    """QuadArrays as plain quad arrays, searched into lists, tuples and dicts."""
    return _each(value, lambda x: x.view(np.ndarray) if isinstance(x, QuadArray) else x)


def _each(value: Any, leaf: Callable[[Any], Any]) -> Any:
    """`leaf` applied to every value inside lists, tuples and dicts (the containers rebuilt)."""
    if isinstance(value, dict):
        return {k: _each(v, leaf) for k, v in value.items()}
    if isinstance(value, tuple | list):
        return type(value)(_each(v, leaf) for v in value)
    return leaf(value)


def wrap(value: Any, ctx: Any) -> Any:
    """A native result as f should see it: quad arrays as QuadArray, a 0-d result as a quad scalar (numpy-
    quaddtype 1.0 reads a 0-d array of a subclass as 0 where it is stored into an array or listed in
    np.array([...]); its scalars are read right); tuples element by element; anything else unchanged."""
    if isinstance(value, tuple):
        return type(value)(wrap(v, ctx) for v in value)
    if isinstance(value, np.ndarray) and is_quad(value):
        return value.view(np.ndarray)[()] if value.ndim == 0 else _view(value, ctx)
    return value


def _to_mpmath(value: Any, ctx: Any) -> Any:
    """Quad operands (searched into lists, tuples and dicts: keyword arguments too) as high-precision arrays of
    ctx; QuadArrays of another dtype as plain arrays."""
    return _each(value, lambda x: _one_to_mpmath(x, ctx))


def _one_to_mpmath(value: Any, ctx: Any) -> Any:
    if isinstance(value, np.ndarray | np.generic) and is_quad(value):
        objects = to_objects(value, ctx)
        return hparray.hp_view(objects, ctx) if isinstance(value, np.ndarray) and value.ndim else objects[()]
    return value.view(np.ndarray) if type(value) is QuadArray else value  # another dtype (np.vectorize's)


def _from_mpmath(value: Any, ctx: Any) -> Any:
    """A result of the mpmath path back as quad: arrays and scalars of ctx's real numbers; others unchanged."""
    if isinstance(value, tuple) and hasattr(value, "_fields"):  # namedtuples (slogdet, eigh)
        return type(value)(*(_from_mpmath(v, ctx) for v in value))
    if isinstance(value, tuple | list):
        return type(value)(_from_mpmath(v, ctx) for v in value)
    if hasattr(value, "_mpf_"):
        return wrap(from_objects(np.asarray(value, dtype=object), ctx).view(np.ndarray), ctx)
    if isinstance(value, np.ndarray) and value.dtype == object and value.size and \
            all(hasattr(e, "_mpf_") or type(e) in (float, int) for e in value.ravel().tolist()):
        return wrap(from_objects(value, ctx).view(np.ndarray), ctx)
    return value


@forwarding
def through_mpmath(call: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any], ctx: Any) -> Any:
    """`call` on the mpmath path: quad operands converted to ctx's numbers, the result converted back.
    ``out=`` targets that are quad arrays receive the converted result."""
    outputs = kwargs.pop("out", None)
    result = _from_mpmath(call(*_to_mpmath(args, ctx), **_to_mpmath(kwargs, ctx)), ctx)
    if outputs is None:
        return result
    targets = outputs if isinstance(outputs, tuple) else (outputs,)
    values = result if isinstance(result, tuple) else (result,)
    for target, value in zip(targets, values, strict=True):
        target[...] = _plain(value)
    return outputs[0] if isinstance(outputs, tuple) and len(outputs) == 1 else outputs


@forwarding
def _matmul(inputs: tuple[Any, ...], kwargs: dict[str, Any], ctx: Any) -> Any:
    """a @ b: numpy-quaddtype's matmul is right only for two C-contiguous 2-D quad operands (1.0.0 gives wrong
    numbers, silently, for a transposed operand, a vector or a stack), so vectors become one-row or one-column
    matrices and every operand a contiguous quad copy; stacks, empty operands and keywords take the mpmath path."""
    a, b = (np.asarray(_plain(x)) for x in inputs) if len(inputs) == 2 else (None, None)
    if a is None or b is None or kwargs or not (1 <= a.ndim <= 2 and 1 <= b.ndim <= 2) or not a.size or \
            not b.size or not all(_native_operand(x) for x in (a, b)):  # empty: numpy-quaddtype's QBLAS raises
        return through_mpmath(np.matmul, inputs, kwargs, ctx)
    _note_constants(inputs, ctx)
    left = np.ascontiguousarray((a[None, :] if a.ndim == 1 else a).astype(quad_dtype()))
    right = np.ascontiguousarray((b[:, None] if b.ndim == 1 else b).astype(quad_dtype()))
    product = native(np.matmul, (left, right), {})
    shape = a.shape[:-1] + b.shape[1:]  # a vector's axis is dropped, as numpy's matmul drops it
    return wrap(product.reshape(shape), ctx)


def native(call: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any], name: str = "") -> Any:
    """A call numpy-quaddtype runs itself. Invalid operations give nan and overflow inf, as on the mpmath tier,
    without warnings; a division by zero, and anything quad refuses (an empty sum: its add has no identity),
    raise `HPUnsupported`, so that the check moves to the mpmath tier."""
    try:
        with np.errstate(divide="raise", over="ignore", under="ignore", invalid="ignore"):
            return call(*args, **kwargs)
    except Exception as error:  # numpy-quaddtype's refusal (or a division by zero): this tier cannot run it
        raise HPUnsupported(f"{name or getattr(call, '__name__', call)} on the quad tier: {error}") from error


def _function_name(func: Any) -> str:
    return f"{getattr(func, '__module__', '') or ''}.{getattr(func, '__name__', repr(func))}"


def _all_quad(inputs: tuple[Any, ...], ctx: Any) -> tuple[np.ndarray, ...] | None:
    """The operands as plain quad arrays when every one is a QuadArray of quad numbers or a Python float or int
    (converted once, its famous constants noted as the general path notes them), else None."""
    quad = quad_dtype()
    plain = []
    for x in inputs:
        kind = type(x)
        if kind is QuadArray and _DTYPE.__get__(x) == quad:
            plain.append(x.view(np.ndarray))
        elif kind is float or kind is int:
            plain.append(_scalar(x, ctx))
        else:
            return None
    return tuple(plain)


_SCALARS: dict[tuple[type, Any], np.ndarray] = {}  # Python numbers as 0-d quad arrays (read-only), converted once
_SCALARS_KEPT = 4096


def _scalar(value: float | int, ctx: Any) -> np.ndarray:
    if type(value) is float:
        _note_constants((value,), ctx)
    key = (type(value), value.hex() if type(value) is float else value)  # hex: -0.0 and 0.0 stay apart
    entry = _SCALARS.get(key)
    if entry is None:
        if len(_SCALARS) >= _SCALARS_KEPT:
            _SCALARS.clear()
        entry = _SCALARS[key] = _as_quad(value)
        entry.flags.writeable = False
    return entry


def _foreign(x: Any) -> bool:
    """An operand of an array type of its own, which numpy must ask next (it defines __array_ufunc__)."""
    return not isinstance(x, np.ndarray | np.generic) and getattr(type(x), "__array_ufunc__", None) is not None


class QuadArray(np.ndarray):
    """An array of numpy-quaddtype's binary128 numbers inside a check; `hp_context` is the tier's mpmath
    context, which the calls quad cannot run take."""

    hp_context: Any = None

    def __array_finalize__(self, obj: Any) -> None:
        self.hp_context = getattr(obj, "hp_context", None)

    @forwarding
    def __array_ufunc__(self, ufunc: np.ufunc, method: str, *inputs: Any, **kwargs: Any) -> Any:
        if method == "__call__" and not kwargs and ufunc in _UFUNCS and ufunc is not np.matmul:
            plain = _all_quad(inputs, self.hp_context)
            if plain is not None:  # the common case, run exactly as the general path below would run it
                return wrap(native(ufunc, plain, {}, ufunc.__name__), self.hp_context)
        if any(_foreign(x) for x in (*inputs, *kwargs.get("out", ()))):
            return NotImplemented  # another array type (autodiff_ref's Tensor, nested traces) takes the call
        ctx = self.hp_context
        if any(type(x) is QuadArray and not is_quad(x) for x in inputs):  # another dtype in this class (np.vectorize
            return getattr(ufunc, method)(*_bare(inputs), **_bare(kwargs))  # casts to object): plain numpy
        if ufunc is np.matmul and method == "__call__":
            return _matmul(inputs, kwargs, ctx)
        if method == "at":  # in place: natively into a quad array, never into a converted copy
            if not (is_quad(inputs[0]) and ufunc in _REDUCTIONS and not kwargs and
                    all(_native_operand(x) for x in inputs[2:])):
                raise HPUnsupported(f"{ufunc.__name__}.at on the quad tier")
            values = tuple(map(_as_quad, inputs[2:]))
            return native(ufunc.at, (inputs[0].view(np.ndarray), _plain(inputs[1]), *values), {})
        if _native_call(ufunc, method, inputs, kwargs):
            _note_constants(inputs, ctx)
            kwargs = {k: _plain(v) for k, v in kwargs.items() if not _default(k, v)}
            if method == "reduce" and ufunc.__name__ in quad_ops.REDUCTION_IDENTITIES and "initial" not in kwargs:
                kwargs["initial"] = _as_quad(quad_ops.REDUCTION_IDENTITIES[ufunc.__name__])  # an empty sum is 0
            return wrap(native(getattr(ufunc, method), tuple(map(_as_quad, inputs)), kwargs, ufunc.__name__), ctx)
        kwargs = {k: v for k, v in kwargs.items() if not _default(k, v)}
        return through_mpmath(getattr(ufunc, method), inputs, kwargs, ctx)

    @forwarding
    def __array_function__(self, func: Any, types: Any, args: Any, kwargs: Any) -> Any:
        if not all(issubclass(t, np.ndarray) for t in types):
            return NotImplemented  # another array type (autodiff_ref's Tensor) takes the call
        ctx = self.hp_context
        if func in _IN_PLACE:  # the mpmath path would write into a converted copy
            raise HPUnsupported(f"{_function_name(func)} writes into a quad array in place")
        if func in _CREATION:  # numpy fills the new array in place (copyto): on the plain quad array
            return wrap(native(func._implementation, _plain(args), _plain(kwargs)), ctx)
        if func in _FUNCTIONS and not any(hp_registry.is_hp_value(a) for a in (*args, *kwargs.values())):
            return wrap(native(func._implementation, args, kwargs), ctx)
        return through_mpmath(func, args, kwargs, ctx)

    def __setitem__(self, index: Any, value: Any) -> None:
        if hp_registry.is_hp_value(value):  # a result of the mpmath path (or an mpf) stored into quad
            value = from_objects(value, self.hp_context).view(np.ndarray)
        elif isinstance(value, QuadArray):  # stored as plain quad (a 0-d subclass array would be read as 0)
            value = value.view(np.ndarray)
            value = value[()] if value.ndim == 0 else value
        super().__setitem__(index, value)

    def mean(self, axis: Any = None, dtype: Any = None, out: Any = None, keepdims: bool = False,
             **kwargs: Any) -> Any:
        """The sum over the count, in quad: numpy's own mean converts its sum with ``dtype.type(...)``, and
        numpy-quaddtype 1.0's scalar constructor rounds a quad number to float64 on the way."""
        if dtype is not None or out is not None or kwargs:
            return through_mpmath(np.mean, (self,), {"axis": axis, "dtype": dtype, "out": out,
                                                       "keepdims": keepdims, **kwargs}, self.hp_context)
        axes = range(self.ndim) if axis is None else (axis,) if isinstance(axis, int) else axis
        count = int(np.prod([self.shape[a] for a in axes], dtype=np.int64))
        return np.add.reduce(self, axis=axis, keepdims=keepdims) / count

    def var(self, *args: Any, **kwargs: Any) -> Any:
        """On the mpmath path (numpy's var converts like its mean)."""
        return through_mpmath(np.var, (self, *args), kwargs, self.hp_context)

    def std(self, *args: Any, **kwargs: Any) -> Any:
        """On the mpmath path (numpy's std converts like its mean)."""
        return through_mpmath(np.std, (self, *args), kwargs, self.hp_context)

    def real_dtype(self) -> np.dtype:
        """The quad dtype (what `dtype` does not show f)."""
        return _DTYPE.__get__(self)

    def astype(self, dtype: Any, *args: Any, **kwargs: Any) -> Any:
        """float64 (the function's own dtype) keeps quad, with astype's copy semantics; a lower float precision
        (float32) converts and is recorded as the leak; other dtypes convert."""
        target = np.dtype(dtype)
        if target == np.float64:
            target = quad_dtype()
        elif target.kind == "f" or target.kind == "c":
            hparray.note_leak(f"ndarray.astype({target})")
        plain = self.view(np.ndarray)
        out = plain.astype(target, *args, **kwargs)
        return self if out is plain else wrap(out, self.hp_context)

    @property  # type: ignore[override]
    def dtype(self) -> np.dtype:
        """float64, the function's own dtype, noting who asked (`dtype_questions.recording`): f's buffers made
        with ``np.zeros(n, x.dtype)`` are float64 (a float64 buffer the check detects, which sends the check to
        the mpmath tier), never bare quad arrays that bypass this class. numpy's C code sees the quad dtype."""
        dtype_questions.note()
        return _FLOAT64

    @dtype.setter
    def dtype(self, value: Any) -> None:
        _DTYPE.__set__(self, value)

    def __reduce__(self) -> Any:  # pickles as a plain quad array: the context is private to a process
        return self.view(np.ndarray).__reduce__()


def twin_through_mpmath(twin: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    """A registered twin (`hparray.hp_twin`) called with quad arguments: run on the mpmath path."""
    ctx = next(a.hp_context for a in (*args, *kwargs.values()) if isinstance(a, QuadArray))
    return through_mpmath(twin, args, dict(kwargs), ctx)


hp_registry.QUAD_BRIDGE.append((lambda value: isinstance(value, QuadArray), twin_through_mpmath))

"""The private high-precision context, and float64 <-> high-precision ("hp") array conversion.

The same unmodified numpy code runs on float64 arrays and on object arrays of hp numbers: numpy's object
loops call Python operators (``+``, ``*``, ``**``, comparisons) on the elements, and call a method of the
same name for most other ufuncs (``np.tanh(a)`` calls ``a[i].tanh()``). Each ``mpmath.MPContext`` has its
own ``mpf`` subclass, so :func:`context` attaches those methods to a private context's ``mpf``; mpmath's
global ``mpmath.mp`` is never touched.

Where the methods come from: they are twins like any other, one more mapping (``hp/twins/methods.py``,
``"numpy.tanh": method_twin(lambda ctx: ctx.tanh)``) loaded by the same loader (`install.load`) into
`registry.METHODS`. This module only attaches what the registry holds, when it builds a context (methods
cannot be looked up per call: numpy calls them on the elements). The complex methods of ``mpc`` below are
not twins of any numpy function but mpmath's own functions under numpy's names, so they stay here.

Real domain: out-of-domain arguments give ``nan`` as numpy's float loops do (``log(-1)``, ``sqrt(-1)``,
``arcsin(2)``), never a silent ``mpc``. The context traps complex results, so ``x ** 0.5`` with ``x < 0``
raises ``ComplexResult`` (a ``ValueError``) where float64 warns and gives ``nan``; ``x / 0`` raises
``ZeroDivisionError`` where float64 warns and gives ``inf``.

Threads: some mpmath functions (``expm1``, ``log1p``) raise and restore ``ctx.prec`` while they run, so a
context shared by threads drifts (four threads sharing a 40-digit context ended at 20561 bits, not 136).
:func:`context` gives each thread its own context per digit count. hp numbers remember their context:
do not pass them to another thread.

On this private ``mpf``, ``x.exp`` is the method numpy calls, no longer mpmath's binary-exponent property,
and ``math.floor(x)`` returns an ``mpf`` (numpy's object floor calls it; rounding via float would be wrong).

numpy inserts Python floats into object arrays (``np.maximum(x, 0.0)``, ``np.clip``, ``np.where``); a later
``np.exp`` then fails, as a float has no ``exp`` method, and ``np.hypot(1.0, x)`` fails as the method is
looked up on the first operand. ``isnan``, ``logaddexp``, ``copysign`` and ``np.linalg`` solvers have no
object loop at all: :func:`evaluate_hp` reports such failures so the checker can fall back to float64.
"""

from __future__ import annotations

import linecache
import sys
import threading
import traceback
from collections.abc import Callable, Sequence
from fractions import Fraction
from types import FrameType
from typing import Any, Literal, NamedTuple

import mpmath
import numpy as np
from mpmath.libmp import ComplexResult

from pytest_gradcheck.hp import array as hparray
from pytest_gradcheck.hp import blame, constants, mpmath_warnings, quad
from pytest_gradcheck.hp import install as hp_twins
from pytest_gradcheck.hp import registry as hp_registry
from pytest_gradcheck.hp.exact import exact_objects, to_mpf
from pytest_gradcheck.hp.twins import methods as twin_methods

__all__ = [
    "DEFAULT_DIGITS",
    "ROUND_TRIP_DIGITS",
    "UFUNC_METHODS",
    "Precision",
    "context",
    "evaluate_hp",
    "exact_fraction",
    "is_high_precision",
    "is_hp",
    "precision_of",
    "to_float64",
    "to_hp",
]

DEFAULT_DIGITS = 40  # reference round-off ~1e-40, negligible against float64's unit round-off of 1.1e-16
ROUND_TRIP_DIGITS = 17  # float64 needs 17 significant digits to round-trip: fewer is no better than float64 itself
_FLOAT64_BITS = np.finfo(np.float64).nmant + 1  # 53: a context this precise holds every float64 exactly
_SMALLEST_NORMAL = float(np.finfo(np.float64).smallest_normal)  # below it mpmath's float() rounds twice

Precision = Literal["high", "mixed", "float64", "other"]

_LIBRARY_ROOTS = ("numpy", "scipy", "mpmath", "pytest_gradcheck")  # frames skipped when naming the user's line
_NAMED_ROOTS = ("numpy", "scipy")  # the libraries whose functions a fallback reason names
_local = threading.local()


UFUNC_METHODS = tuple(hp_registry.method_name(name) for name in twin_methods.TWINS)  # the names attached


def _as_method(ctx: mpmath.MPContext, fn: Callable[..., Any]) -> Callable[..., Any]:
    def method(self: Any, *args: Any) -> Any:
        try:
            return fn(self, *args)
        except ComplexResult:
            return ctx.nan  # outside the real domain: nan, as numpy's float loops give

    return method


# Floats and ints remembered per context with their exact mpf (a few MB at most).
CONVERTED_FLOATS = 1 << 14
# Float64 operand arrays remembered per context (each at most hparray.CONSTANT_OPERAND_SIZE elements).
CONVERTED_ARRAYS = 256


def _install_convert(ctx: mpmath.MPContext) -> None:
    """ctx.convert, which mpf operators call on their other operand, with two changes: an array operand is
    refused at once (mpmath would format the whole array into an error message before numpy takes over),
    and floats that round famous constants (np.pi) are noted while `ctx.hp_constants` is a set."""
    base = ctx.convert
    famous = constants.FLOAT64_CONSTANTS
    known: dict[float, Any] = {}  # number -> its exact mpf: the same constants meet every evaluation of f

    def convert(x: Any, strings: bool = True) -> Any:
        is_float = isinstance(x, float)
        if is_float or type(x) is int:  # 2 and 2.0 share a key: equal numbers, the same exact mpf
            watch = ctx.hp_constants
            if is_float and watch is not None and x in famous:
                watch.add(famous[x])
            exact = known.get(x)
            if exact is None:
                if len(known) >= CONVERTED_FLOATS:
                    known.clear()
                exact = known[x] = to_mpf(ctx, x)
            return exact
        if isinstance(x, np.ndarray) and x.ndim:
            raise TypeError("an array operand: numpy's turn")
        if isinstance(x, np.generic) and quad.is_quad(x):  # a quad scalar met on the mpmath path: exact
            return quad.to_objects(x, ctx)[()]
        return base(x, strings)

    arrays: dict[tuple[Any, bytes], tuple[np.ndarray, frozenset[str]]] = {}

    def float_array(x: np.ndarray) -> np.ndarray:
        """A small float64 operand as a read-only object array of exact mpf, remembered by value: a constant
        array of f (weights, data) meets every evaluation, and mpf * mpf skips mpmath's reflected operators."""
        key = (x.shape, x.tobytes())
        entry = arrays.get(key)
        if entry is None:
            flat = x.ravel().tolist()
            objects = exact_objects(x, ctx)
            objects.flags.writeable = False
            if len(arrays) >= CONVERTED_ARRAYS:
                arrays.clear()
            entry = arrays[key] = (objects, frozenset(famous[v] for v in flat if v in famous))
        watch = ctx.hp_constants
        if watch is not None and entry[1]:
            watch.update(entry[1])
        return entry[0]

    ctx.hp_constants = None
    ctx.convert = convert
    ctx.hp_float_array = float_array


_COMPLEX_METHODS = ("exp", "expm1", "log", "log1p", "sqrt", "sin", "cos", "tan", "sinh", "cosh", "tanh")
_MPMATH_NAMES = {"log": "ln"}


def _complex_method(fn: Callable[..., Any]) -> Callable[..., Any]:
    def method(self: Any) -> Any:
        return fn(self)

    return method


def build_context(digits: int) -> mpmath.MPContext:
    ctx = mpmath.MPContext()
    ctx.trap_complex = True  # raise rather than silently produce mpc (an attribute in mpmath 1.3 and 1.4)
    ctx.dps = digits
    hp_twins.load()  # the method twins among them
    for dotted, factory in hp_registry.METHODS.items():
        setattr(ctx.mpf, hp_registry.method_name(dotted), _as_method(ctx, factory(ctx)))  # this context's own class
    for name in _COMPLEX_METHODS:  # complex intermediates (np.exp of an FFT) take numpy's object loop too
        setattr(ctx.mpc, name, _complex_method(getattr(ctx, _MPMATH_NAMES.get(name, name))))
    _install_convert(ctx)
    hparray.install_scalar_protocol(ctx)
    return ctx


def context(digits: int = DEFAULT_DIGITS) -> mpmath.MPContext:
    """This thread's private mpmath context at ``digits`` decimal digits, its ``mpf`` ready for numpy.

    Cached per (thread, digits): building one costs about a millisecond. Treat it as read-only.
    """
    if isinstance(digits, bool) or not isinstance(digits, int):
        raise TypeError(f"digits must be an int, got {type(digits).__name__}")
    if digits < ROUND_TRIP_DIGITS:
        raise ValueError(f"digits must be at least {ROUND_TRIP_DIGITS} to be more precise than float64, got {digits}")
    cache = _local.__dict__.setdefault("contexts", {})
    if digits not in cache:
        cache[digits] = build_context(digits)
    return cache[digits]


def _describe(value: object) -> str:
    if isinstance(value, np.ndarray | np.generic):
        return f"dtype {value.dtype}"
    return type(value).__name__


def to_hp(array: np.ndarray | np.floating | float, ctx: mpmath.MPContext) -> np.ndarray:
    """Exact copy of a finite float64 or float32 array (or scalar) as an object array of ``ctx.mpf``.

    -0.0 becomes 0: mpmath has no signed zero.
    """
    if ctx.prec < _FLOAT64_BITS:
        raise ValueError(f"to_hp needs a context of at least {_FLOAT64_BITS} bits to be exact, got {ctx.prec}")
    if not isinstance(array, np.ndarray | np.floating | float):
        raise TypeError(f"to_hp expects a float64 or float32 array or scalar, got {_describe(array)}")
    arr = np.asarray(array)
    if arr.dtype not in (np.float64, np.float32):
        raise TypeError(f"to_hp expects a float64 or float32 array or scalar, got {_describe(array)}")
    if not np.isfinite(arr).all():
        index = tuple(int(i) for i in np.argwhere(~np.isfinite(arr))[0])
        raise ValueError(f"to_hp expects finite values, got {arr[index]} at index {index}")
    out = exact_objects(arr, ctx)  # float32 -> 64: exact
    out = out.view(hparray.HPArray)
    out.hp_context = ctx
    return out


def _is_real_constant(element: object) -> bool:
    return isinstance(element, float | int | np.integer) and not isinstance(element, bool)


def exact_fraction(x: Any) -> Fraction:
    """The exact value of a finite mpf of any context as a Fraction.

    Read from the ``_mpf_`` tuple (sign, mantissa, exponent, bitcount), which mpmath 1.3 and 1.4 share;
    ``mpf.as_integer_ratio`` only exists from mpmath 1.4 on.
    """
    sign, man, exp, _ = x._mpf_
    if not man and exp:  # inf and nan: no mantissa, a nonzero special exponent
        raise ValueError(f"exact_fraction expects a finite mpf, got {x}")
    value = Fraction(int(man) << exp) if exp >= 0 else Fraction(int(man), 1 << -exp)  # int(): gmpy2's mpz
    return -value if sign else value


def _nearest_float(element: Any) -> float:
    if hasattr(element, "_mpf_") and abs(element) < _SMALLEST_NORMAL:
        return float(exact_fraction(element))  # int / int rounds once, correctly
    return float(element)


def to_float64(array: Any) -> np.ndarray:
    """Round an array (or scalar) of mpf from any context, floats or ints to a float64 array, to nearest.

    Ties go to even; values beyond float64's range become +-inf.
    """
    if quad.is_quad(array):  # the quad tier's values: numpy-quaddtype rounds to nearest
        return np.asarray(np.asarray(array).view(np.ndarray)).astype(np.float64)
    arr = np.asarray(array)
    if arr.dtype.kind in "fiu":
        return arr.astype(np.float64)
    if arr.dtype != object:
        raise TypeError(f"to_float64 expects real numbers (mpf, float, int), got {_describe(arr)}")
    flat = arr.ravel().tolist()
    kinds = set(map(type, flat))
    if not all(hasattr(kind, "_mpf_") or kind in (float, int) for kind in kinds):
        for i, element in enumerate(flat):
            if not (hasattr(element, "_mpf_") or _is_real_constant(element)):
                index = tuple(int(k) for k in np.unravel_index(i, arr.shape))
                raise TypeError(f"to_float64 expects real numbers (mpf, float, int), got {element!r} at {index}")
    out = np.fromiter(map(float, flat), dtype=np.float64, count=len(flat))  # correctly rounded where normal
    with np.errstate(invalid="ignore"):
        small = np.abs(out) < _SMALLEST_NORMAL  # subnormal or zero: float() may round twice there
    for i in np.flatnonzero(small):
        out[i] = _nearest_float(flat[i])
    return out.reshape(arr.shape)


def precision_of(value: object, ctx: mpmath.MPContext) -> Precision:
    """Classify an output computed from hp inputs, by the types it holds.

    "high": a ``ctx.mpf`` scalar, or an object array of them only (an empty one too).
    "mixed": an object array of ``ctx.mpf`` and real float/int constants, as ``np.maximum(x, 0.0)``,
    ``np.clip`` and ``np.where`` insert. The constants are exact, so differencing at hp stays valid.
    "float64": a float64 array or a float scalar (Python or numpy).
    "other": anything else: int, bool, complex or float32 arrays and scalars, ``mpc`` or another context's
    mpf among the elements, tuples. (Int elements of an object array count as constants: ``np.sign``.)

    Types cannot show precision lost inside the function: ``b = np.zeros(n); b[:] = x`` rounds to float64
    and ``b * x`` is again "high". The checker detects that from how differences behave, not here.
    """
    mpf = ctx.mpf
    if not isinstance(value, np.ndarray):
        if type(value) is mpf:
            return "high"
        return "float64" if isinstance(value, float) else "other"
    if value.dtype != object:
        return "float64" if value.dtype == np.float64 else "other"
    flat = value.ravel().tolist()
    if set(map(type, flat)) <= {mpf}:  # the common case, at C speed
        return "high"
    precision: Precision = "high"
    for element in flat:
        if type(element) is mpf:
            continue
        if not _is_real_constant(element):
            return "other"
        precision = "mixed"
    return precision


def is_high_precision(value: object) -> bool:
    """Whether `value` is one of the checker's high-precision values (what f and the gradient get during a
    check): a quad array or scalar of the quad tier, or mpmath numbers (an object array of them) of the mpmath
    tier. For code that must tell the check's evaluations from float64 ones (tests planting a difference)."""
    return quad.is_quad(value) or hp_registry.is_hp_value(value)


def is_hp(value: object, ctx: mpmath.MPContext) -> bool:
    """Whether ``value`` is usable as a high-precision result: :func:`precision_of` is "high" or "mixed"."""
    return precision_of(value, ctx) in ("high", "mixed")


def _first_foreign(value: object, ctx: mpmath.MPContext) -> str:
    if not isinstance(value, np.ndarray) or value.dtype != object:
        return _describe(value)
    for index, element in np.ndenumerate(value):
        if type(element) is not ctx.mpf and not _is_real_constant(element):
            return f"{type(element).__name__} element {element!r} at {index}"
    return "object array"


def _is_library(frame: FrameType, roots: tuple[str, ...] = _LIBRARY_ROOTS) -> bool:
    return blame.package_of(frame) in roots


def describe_failure(exc: Exception) -> str:
    """'<library function>, which raised <Type>: <message> at <file>:<line> (`<source>`)': the numpy or scipy
    function the user's code called (or the ufunc without a high-precision loop), and the user's line."""
    frames = list(traceback.walk_tb(exc.__traceback__))[1:]  # the first frame is evaluate_hp_traced itself
    user = [i for i, (frame, _) in enumerate(frames) if not _is_library(frame)]
    callee = user[-1] + 1 if user else 0
    kind = type(exc.__cause__ if isinstance(exc, blame.HPUnsupported) and exc.__cause__ else exc).__name__
    text = f"{kind}: {exc}"
    named = getattr(exc, "hp_function", None)
    called = [frame for frame, _ in frames[callee:] if _is_library(frame, _NAMED_ROOTS)]
    if named or called:
        text = f"{named or _public_name(called[0])}, which raised {text}"
    if user:
        frame, line = frames[user[-1]]
        source = linecache.getline(frame.f_code.co_filename, line).strip()
        text += f" at {frame.f_code.co_filename}:{line} (`{source}`)"
    return text


def evaluate_hp(
    f: Callable[..., Any], args: Sequence[Any], ctx: mpmath.MPContext
) -> tuple[Any, None] | tuple[None, str]:
    """Call ``f(*args)`` on hp arguments: ``(value, None)`` if the result is hp, else ``(None, reason)``.

    The reason names the exception, the library function that raised it and the user's line, or the
    precision of the output, its first offending element and the call that turned it to float64.
    """
    evaluation = evaluate_hp_traced(f, args, ctx)
    return evaluation.value, evaluation.reason


class HPEvaluation(NamedTuple):
    """One traced high-precision evaluation: the value (None on failure), why it failed, and the float64
    constants (np.pi) the evaluation mixed in."""

    value: Any
    reason: str | None
    constants: frozenset[str]


def evaluate_hp_traced(f: Callable[..., Any], args: Sequence[Any], ctx: mpmath.MPContext) -> HPEvaluation:
    """evaluate_hp, also noting float64 constants mixed into the computation and naming float64 leaks.

    Only the user's f (or a library it called) may fail into a fallback: an exception raised by the checker's
    own code (a twin, the HPArray dispatch, an mpf ufunc method) raises :class:`blame.CheckerError`."""
    previous, found = ctx.hp_constants, set()
    ctx.hp_constants = found
    try:
        with hp_twins.patched(), hparray.recording_leaks() as leaked:
            try:
                value = mpmath_warnings.call(f, args)  # mpmath's own warnings are no reason to fail
            except Exception as exc:  # the user's call boundary: classified, a checker bug is re-raised
                fault = blame.checker_fault(exc)
                if fault is not None:
                    raise blame.CheckerError(f"high-precision evaluation of f: {fault}") from exc
                text = describe_failure(exc)
                link = " by " if ", which raised " in text else ": "
                return HPEvaluation(None, f"reference limited to float64{link}{text}", frozenset(found))
    finally:
        ctx.hp_constants = previous
    value = quad.objects_if_quad(value, ctx)  # the quad tier's value, as ctx's numbers
    precision = precision_of(value, ctx)
    if precision in ("high", "mixed"):
        return HPEvaluation(value, None, frozenset(found))
    source = leaked[0] if leaked else _float64_source(f, args)
    by = f"reference limited to float64 by {source}: " if source else ""
    return HPEvaluation(None, f"{by}returned {precision} output ({_first_foreign(value, ctx)}), expected "
                              f"{ctx.dps}-digit mpf", frozenset(found))


def _public_name(frame: FrameType) -> str:
    """The name under which users reach a library function: its module without private parts, shortened
    while the shorter module still has the name ("numpy._core.function_base.linspace" -> "numpy.linspace"),
    and for methods the object's name ("scipy.stats.norm.pdf" for norm_gen's pdf)."""
    module = frame.f_globals.get("__name__", "")
    name = frame.f_code.co_name
    parts = hp_registry.public_module(module).split(".")
    owner = frame.f_locals.get("self")
    if owner is not None and hasattr(owner, "name") and isinstance(owner.name, str):  # scipy.stats distributions
        return f"{'.'.join(parts)}.{owner.name}.{name}"
    for cut in range(1, len(parts) + 1):
        candidate = ".".join(parts[:cut])
        if hasattr(sys.modules.get(candidate), name):
            return f"{candidate}.{name}"
    return f"{'.'.join(parts)}.{name}"


def _float64_source(f: Callable[..., Any], args: Sequence[Any]) -> str | None:
    """Run f once more under a profiler: the first numpy/scipy function called from user code with a
    high-precision argument that returned float64."""
    with_hp: set[int] = set()
    found: list[str] = []

    def profiler(frame: FrameType, event: str, arg: Any) -> None:
        caller = frame.f_back  # only calls from the user's code into numpy/scipy
        if found or caller is None or not _is_library(frame, _NAMED_ROOTS) or _is_library(caller):
            return
        if event == "call" and any(hp_registry.is_hp_value(v) for v in frame.f_locals.values()):
            with_hp.add(id(frame))
        elif event == "return" and id(frame) in with_hp:
            with_hp.discard(id(frame))
            if isinstance(arg, float | np.floating) or (isinstance(arg, np.ndarray) and arg.dtype.kind == "f"):
                found.append(_public_name(frame))

    previous = sys.getprofile()
    sys.setprofile(profiler)
    try:
        with hp_twins.patched():
            f(*args)
    except Exception as exc:  # f ran once already; a second failure only leaves the source unnamed
        fault = blame.checker_fault(exc)
        if fault is not None:
            raise blame.CheckerError(f"naming the float64 source of f: {fault}") from exc
    finally:
        sys.setprofile(previous)
    return found[0] if found else None

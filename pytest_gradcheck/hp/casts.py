"""Validation casts that keep high precision: numpy's conversion and dtype-query functions during checks.

Library code validates its input before computing: ``np.asarray(x, dtype=np.float64)``, ``np.array(x,
dtype=float)``, ``np.finfo(x.dtype).eps``, ``if not np.issubdtype(x.dtype, np.floating): raise``. On the
checker's high-precision arrays these would drop to float64 (or raise), and the reference would fall back to
float64. The function being checked is the float64 function, so:

- a cast to float64 (or to no dtype in particular, or to object) of an array of the checker's context keeps
  it: the result is a high-precision array with the function's own copy and order semantics (``np.array``
  copies, ``np.asarray`` does not). Casts to other dtypes (float32, int, complex) run unchanged: a function
  that computes in float32 inside must keep its float32 noise.
- ``np.finfo``/``np.iinfo`` of an object dtype or of a high-precision value answer as for float64;
  ``np.issubdtype(object, t)`` answers as for float64 unless ``t`` asks about object itself.

numpy's conversion functions do not dispatch through ``__array_function__``: `hp_twins.patched` installs the
replacements below on the numpy module while checks run; they act only in a thread that is inside a check.
Arrays other than the checker's go to the original unchanged, and calls from numpy's own code, mpmath's and
the checker's keep the originals' behaviour. The
same-function check (`evaluation.Evaluator`) is the safety net: a function that takes another path on
high-precision input is caught by comparing its value with the float64 value.
"""

from __future__ import annotations

import functools
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np

from pytest_gradcheck.hp import array as hparray
from pytest_gradcheck.hp import blame, dtype_questions, quad

__all__ = ["CASTS", "REPLACEMENTS", "in_this_thread", "keeping", "limits", "subdtype"]

_local = threading.local()


@contextmanager
def in_this_thread() -> Iterator[None]:
    """The replacements act for this thread only while it is inside (re-entrant): they are installed on the
    numpy module for every thread, and another thread converting a result meanwhile gets numpy's answer."""
    _local.depth = getattr(_local, "depth", 0) + 1
    try:
        yield
    finally:
        _local.depth -= 1


def _acting() -> bool:
    return _local.__dict__.get("depth", 0) > 0

_FLOAT64, _OBJECT = np.dtype(np.float64), np.dtype(object)
# Callers whose calls are never changed: numpy's own implementation, mpmath and the checker itself.
_EXEMPT = ("numpy", "mpmath", "pytest_gradcheck")
# numpy's conversion functions, all with the signature (a, dtype=None, ...).
CASTS = ("asarray", "array", "asanyarray", "ascontiguousarray", "asfortranarray", "require", "asarray_chkfinite")


def _context_of(value: Any) -> Any:
    """The checker's context of a high-precision array (HPArray, or an object ndarray of one checker
    context's numbers only), else None."""
    kind = type(value)
    if kind is hparray.HPArray:
        return value.hp_context
    if kind is not np.ndarray or value.dtype != _OBJECT or not value.size:
        return None
    first = value.flat[0]
    ctx = getattr(first, "context", None)
    if ctx is None or not hasattr(ctx, "hp_float_array"):  # only the checker's contexts carry hp_float_array
        return None
    return ctx if set(map(type, value.ravel().tolist())) <= {ctx.mpf, ctx.mpc} else None


def _exempt_caller(depth: int = 2) -> bool:
    """Whether the function's caller (`depth` frames up from here) is numpy, mpmath or the checker."""
    return blame.package_of(sys._getframe(depth)) in _EXEMPT


def _keeps(dtype: Any) -> bool:
    """Whether a requested dtype keeps high precision: none given, float64 or object."""
    return dtype is None or np.dtype(dtype) in (_FLOAT64, _OBJECT)


def _all_finite(plain: np.ndarray) -> bool:
    return all(e.context.isfinite(e) for e in plain.ravel().tolist())


_HIGH_PRECISION = frozenset({hparray.HPArray, quad.QuadArray})  # the array types a cast may have to keep


def keeping(original: Callable[..., Any], name: str) -> Callable[..., Any]:
    """`original` (np.asarray and the like), keeping the checker's arrays high precision where it casts
    them to float64."""

    @functools.wraps(original)
    def cast(a: Any, dtype: Any = None, *args: Any, **kwargs: Any) -> Any:
        kind = type(a)
        if kind not in _HIGH_PRECISION and (kind is not np.ndarray or a.dtype != _OBJECT):  # the common case
            return original(a, dtype, *args, **kwargs)
        if kind is quad.QuadArray and _acting() and _keeps(dtype) and not _exempt_caller():
            return _keep_quad(a, original, name, *args, **kwargs)
        ctx = _context_of(a) if _acting() else None
        if ctx is None or not _keeps(dtype) or _exempt_caller():
            return original(a, dtype, *args, **kwargs)
        plain = a.view(np.ndarray)
        if name == "asarray_chkfinite":
            if not _all_finite(plain):
                raise ValueError("array must not contain infs or NaNs")
            name_used = np.asarray
        else:
            name_used = original
        return hparray.wrap(name_used(plain, _OBJECT, *args, **kwargs), ctx)

    cast.hp_original = original  # type: ignore[attr-defined]
    return cast


def _keep_quad(a: Any, original: Callable[..., Any], name: str, *args: Any, **kwargs: Any) -> Any:
    """A cast of the quad tier's array to float64 (or no dtype): the quad array, with the cast's copy
    semantics."""
    plain = a.view(np.ndarray)
    if name == "asarray_chkfinite" and not np.isfinite(plain).all():
        raise ValueError("array must not contain infs or NaNs")
    used = np.asarray if name == "asarray_chkfinite" else original
    return quad.wrap(used(plain, a.real_dtype(), *args, **kwargs), a.hp_context)


def _float64_if_ours(value: Any) -> Any:
    """float64 in place of the object dtype or a high-precision scalar of the checker's, a float64 array in
    place of a high-precision array; other values unchanged."""
    if _is_dtype_like(value):
        return _FLOAT64 if np.dtype(value) == _OBJECT else value
    if _context_of(value) is not None or type(value) is quad.QuadArray:
        return np.empty(value.shape)  # a float64 array: numpy answers (or refuses) as it would for f's own
    ctx = getattr(value, "context", None)
    if (hasattr(value, "_mpf_") or hasattr(value, "_mpc_")) and hasattr(ctx, "hp_float_array"):
        return _FLOAT64
    return value


def _is_dtype_like(value: Any) -> bool:
    return isinstance(value, np.dtype) or value is object or value is np.object_


def limits(original: type) -> Callable[[Any], Any]:
    """np.finfo / np.iinfo answering for float64 where asked about the object dtype or a high-precision
    value (iinfo then raises as it does for float64)."""

    @functools.wraps(original, updated=())
    def info(dtype: Any) -> Any:
        answer = _float64_if_ours(dtype) if _acting() else dtype
        if answer is not dtype and not _is_dtype_like(dtype):
            dtype_questions.note()  # np.finfo(x) of a high-precision x: a question about its dtype
        return original(answer)

    info.hp_original = original  # type: ignore[attr-defined]
    return info


def subdtype(original: Callable[[Any, Any], bool]) -> Callable[[Any, Any], bool]:
    """np.issubdtype answering for float64 where the first argument is the object dtype, unless the second
    asks about object itself (np.object_ or np.generic) or numpy, mpmath or the checker asks."""

    @functools.wraps(original)
    def issubdtype(arg1: Any, arg2: Any) -> bool:
        if _acting() and _is_dtype_like(arg1) and np.dtype(arg1) == _OBJECT and not _about_object(arg2) \
                and not _exempt_caller():
            return original(_FLOAT64, arg2)
        return original(arg1, arg2)

    issubdtype.hp_original = original  # type: ignore[attr-defined]
    return issubdtype


def _about_object(arg2: Any) -> bool:
    return arg2 is object or arg2 is np.object_ or arg2 is np.generic or (
        isinstance(arg2, np.dtype) and arg2 == _OBJECT)


# (owner, attribute, factory) of every replacement: the factory makes it from the original.
REPLACEMENTS: tuple[tuple[Any, str, Callable[[Any], Any]], ...] = (
    *((np, name, functools.partial(keeping, name=name)) for name in CASTS),
    (np, "finfo", limits), (np, "iinfo", limits), (np, "issubdtype", subdtype),
)

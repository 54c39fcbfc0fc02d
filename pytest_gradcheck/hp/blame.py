"""Who raised it: the user's code (a fallback or a skip may follow) or the checker itself (status "error").

A handler at the boundary where the checker calls the user's f or gradient walks the traceback from the
point of raise outwards:

- numpy, scipy, mpmath, gmpy2 and standard-library frames are skipped: a library raising on high-precision
  inputs (no object loop, a compiled function rejecting object arrays, ``x / 0``) is the user's call failing;
- a frame of the checker that only forwards a call to such a library (``HPArray``'s ufunc and function
  dispatch, ``hp_twin``'s wrapper, the per-op forward) is skipped when the exception came from beneath it;
- the first frame left decides: the user's code, or the edge of the user's call (a ``user_code`` wrapper), is
  the user's; a frame of ``pytest_gradcheck`` or ``autodiff_ref`` is a checker bug, unless the exception is a
  deliberate signal: :class:`HPUnsupported`, numpy's ``LinAlgError`` (the user's matrix is singular), or an
  explicit ``raise`` statement of the checker at the point of raise (a twin mirroring numpy's own error) that
  does not re-label an exception the checker's own code raised by accident.

An ``AttributeError`` from a missing attribute, a ``TypeError`` from a wrong call, a ``KeyError`` inside the
checker are bugs: reported as :class:`CheckerError`, never turned into a float64 fallback or a skip.
"""

from __future__ import annotations

import dis
import functools
import os
import sys
from collections.abc import Callable
from types import CodeType, FrameType, TracebackType
from typing import Any, TypeVar

from numpy.linalg import LinAlgError

_OURS = ("pytest_gradcheck", "autodiff_ref")
_LIBRARIES = frozenset({"numpy", "scipy", "mpmath", "gmpy2", *sys.stdlib_module_names})
_RAISE = frozenset({"RAISE_VARARGS"})  # the opcode of an explicit `raise X` / `raise X from Y`
_forwarding: set[CodeType] = set()
_boundaries: set[CodeType] = set()
F = TypeVar("F", bound=Callable[..., Any])


class HPUnsupported(TypeError):
    """Deliberate: this operation has no high-precision evaluation (no object loop, no twin, an unsupported
    keyword or operand dtype). The checker falls back to a float64 reference and names the call."""


class CheckerError(Exception):
    """A bug in the checker itself, found while it ran the user's code; `where` names the frame."""

    def __init__(self, where: str) -> None:
        super().__init__(where)
        self.where = where


def forwarding(function: F) -> F:
    """Mark a checker function that only forwards a call to a library on the user's behalf."""
    _forwarding.add(function.__code__)
    return function


def user_code(function: F) -> F:
    """`function` (the user's f or gradient) wrapped so that a traceback shows where the user's call begins."""
    if getattr(function, "__code__", None) in _boundaries:
        return function

    @functools.wraps(function)
    def user_call(*args: Any, **kwargs: Any) -> Any:
        return function(*args, **kwargs)

    if not hasattr(function, "__qualname__"):  # a ufunc of numpy < 2.1: the wrapper must not lend its own name
        user_call.__qualname__ = getattr(function, "__name__", repr(function))
    _boundaries.add(user_call.__code__)
    return user_call  # type: ignore[return-value]


def package_of(frame: FrameType) -> str:
    """The top-level package of the module `frame` runs in ("numpy" for numpy._core.fromnumeric)."""
    return str(frame.f_globals.get("__name__", "")).partition(".")[0]


def owner(frame: FrameType) -> str:
    """'ours' (pytest_gradcheck, autodiff_ref), 'library' (numpy, scipy, mpmath, the standard library) or 'user'."""
    root = package_of(frame)
    if root in _OURS:
        return "ours"
    return "library" if root in _LIBRARIES else "user"


def _explicit_raise(tb: TracebackType) -> bool:
    instructions = {i.offset: i.opname for i in dis.get_instructions(tb.tb_frame.f_code)}
    return instructions.get(tb.tb_lasti) in _RAISE


def _entries(exc: BaseException) -> list[TracebackType]:
    entries, tb = [], exc.__traceback__
    while tb is not None:
        entries.append(tb)
        tb = tb.tb_next
    return entries


def user_frame(exc: BaseException) -> TracebackType | None:
    """The innermost traceback entry in the user's own code (not ours, not a library's), if any."""
    return next((tb for tb in reversed(_entries(exc)) if owner(tb.tb_frame) == "user"), None)


def checker_fault(exc: BaseException, skip: int = 1) -> str | None:
    """Where the checker raised `exc` ('<Type>: <message> at <file>:<line> in <function>'), or None when the
    user's code (or a library it called) raised it or it is a deliberate signal. The first `skip` frames are
    the handler's own (the caller of the user's code)."""
    if isinstance(exc, CheckerError):
        return exc.where
    if isinstance(exc, HPUnsupported | LinAlgError):
        return None
    entries = _entries(exc)[skip:]
    beneath = False  # whether the exception came from beneath the current frame
    for position, tb in enumerate(reversed(entries)):
        code = tb.tb_frame.f_code
        if code in _boundaries:
            return None
        kind = owner(tb.tb_frame)
        if kind == "library" or (code in _forwarding and beneath):
            beneath = True
            continue
        if kind == "user":
            return None
        if position == 0 and _explicit_raise(tb):  # deliberate, unless it re-labels a bug it caught
            replaced = exc.__context__
            return None if replaced is None or _deliberate_context(replaced) else checker_fault(replaced, 0)
        return describe(exc, tb)
    return None


def _deliberate_context(exc: BaseException) -> bool:
    """Whether an exception that a `raise` of the checker replaced is no bug of the checker: it was raised by
    a library or the user's code, or by an explicit raise, or is a deliberate signal."""
    entries = _entries(exc)
    return not entries or owner(entries[-1].tb_frame) != "ours" or _explicit_raise(entries[-1]) \
        or isinstance(exc, HPUnsupported | LinAlgError)


def describe(exc: BaseException, tb: TracebackType | None = None) -> str:
    """'<Type>: <message> at <file>:<line> in <function>' for the frame `tb` (default: the point of raise)."""
    if tb is None:
        entries = _entries(exc)
        tb = entries[-1] if entries else None
    text = f"{type(exc).__name__}: {exc}"
    if tb is None:
        return text
    code = tb.tb_frame.f_code
    return f"{text} at {_short(code.co_filename)}:{tb.tb_lineno} in {code.co_name}"


def _short(path: str) -> str:
    try:
        relative = os.path.relpath(path)
    except ValueError:
        return path
    return path if relative.startswith("..") else relative

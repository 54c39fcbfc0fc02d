"""Warnings raised inside mpmath's own code while f runs at high precision.

mpmath deprecates internals between releases (1.4 warns in ``libmp.mpf_log``, renamed ``mpf_ln``). Under a
warnings-as-errors filter (``-W error``, pytest's ``filterwarnings = error``) such a warning is raised as an
exception in the middle of the high-precision evaluation, and the checker would fall back to a float64
reference for a reason that says nothing about f. :func:`call` runs f so that it does not: a warning that
was raised in a frame of an mpmath module is remembered, by category and exact message, and ignored while f
runs again (and in every later high-precision evaluation). Every other warning, the user's own included,
keeps the caller's filters. Warning filters are process-wide, so the rare quieted calls hold a lock.
"""

from __future__ import annotations

import re
import threading
import traceback
import warnings
from collections.abc import Callable, Sequence
from typing import Any

from pytest_gradcheck.hp import blame

__all__ = ["MAX_QUIETED", "QUIETED", "call", "raised_by_mpmath"]

# Distinct mpmath warnings ever quieted: each cost one more run of f; more than this would be a checker bug.
MAX_QUIETED = 8
QUIETED: set[tuple[type[Warning], str]] = set()  # (category, message) of mpmath's own warnings met so far
_lock = threading.RLock()  # catch_warnings swaps the process-wide filters: one quieted call at a time


def raised_by_mpmath(exc: BaseException) -> tuple[type[Warning], str] | None:
    """(category, message) of a warning that a warnings-as-errors filter raised inside an mpmath module
    (the innermost frame of its traceback is mpmath's), else None."""
    if not isinstance(exc, Warning):
        return None
    frames = list(traceback.walk_tb(exc.__traceback__))
    if not frames or blame.package_of(frames[-1][0]) != "mpmath":
        return None
    return type(exc), str(exc)


def _quietly(f: Callable[..., Any], args: Sequence[Any]) -> Any:
    with _lock:
        quiet = tuple(QUIETED)
        with warnings.catch_warnings():
            for category, message in quiet:  # exactly these messages: anything else keeps its filter
                warnings.filterwarnings("ignore", message=re.escape(message) + r"\Z", category=category)
            return f(*args)


def call(f: Callable[..., Any], args: Sequence[Any]) -> Any:
    """f(*args) on high-precision arguments, mpmath's own warnings never raised as errors (see the module)."""
    while True:
        try:
            return _quietly(f, args) if QUIETED else f(*args)
        except Warning as exc:
            warning = raised_by_mpmath(exc)
            if warning is None or warning in QUIETED or len(QUIETED) >= MAX_QUIETED:
                raise
            with _lock:
                QUIETED.add(warning)

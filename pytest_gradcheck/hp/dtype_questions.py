"""Where f's own code asks the dtype of a high-precision array: the evidence of a dtype branch.

`HPArray.dtype` and ``np.finfo`` of a high-precision value call `note`; `recording` collects the places, in
this thread, for the same-function check (`evaluation.Evaluator`). Questions from numpy's own code, mpmath's and
the checker's are not f's branches and are not recorded.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from pytest_gradcheck.hp import blame

__all__ = ["note", "recording"]

_local = threading.local()
_NOT_USER = ("numpy", "mpmath", "pytest_gradcheck")  # callers whose dtype questions are not f's branches
_PLACES = 8  # dtype questions remembered per evaluation: the first names the place, a few show a pattern


@contextmanager
def recording() -> Iterator[list[str]]:
    """Collect, in this thread, "file:line" of each place where code other than numpy's, mpmath's and the
    checker's read the dtype of a high-precision array (`if x.dtype == np.float64`, `np.finfo(x.dtype)`)."""
    previous = getattr(_local, "found", None)
    found: list[str] = []
    _local.found = found
    try:
        yield found
    finally:
        _local.found = previous


def note() -> None:
    """Record the caller of the function that called this one (the dtype property, np.finfo) as a dtype
    question, if it is not numpy, mpmath or the checker and questions are being recorded."""
    found = _local.__dict__.get("found")
    if found is None:
        return
    frame = sys._getframe(2)
    if blame.package_of(frame) not in _NOT_USER and len(found) < _PLACES:
        found.append(f"{frame.f_code.co_filename}:{frame.f_lineno}")

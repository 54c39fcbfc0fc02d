"""Loading the high-precision twins, and installing the patched ones while high-precision evaluations run."""

from __future__ import annotations

import importlib
import sys
import threading
import types
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from pytest_gradcheck import hp_registry

__all__ = ["TWIN_MODULES", "load", "patched"]

# Modules whose import registers twins (hp_registry.register_*).
TWIN_MODULES = (
    "pytest_gradcheck.hp_numpy", "pytest_gradcheck.hp_fft", "pytest_gradcheck.hp_linalg",
    "pytest_gradcheck.hp_special", "pytest_gradcheck.hp_stats",
)

_loaded = False
_lock = threading.RLock()
_depth = 0
_saved: list[tuple[Any, str, Any]] = []


def load() -> None:
    """Import every twin module once (registration happens at import)."""
    global _loaded
    if _loaded:
        return
    with _lock:
        for name in TWIN_MODULES:
            try:
                importlib.import_module(name)
            except ModuleNotFoundError as error:
                if error.name != name:
                    raise
        _loaded = True


def _owner(dotted: str) -> tuple[Any, str] | None:
    """(object, attribute) for a dotted name whose module is already imported: "scipy.stats.norm.logpdf" ->
    (scipy.stats.norm, "logpdf"). None when the module is not imported (the user's code cannot be calling it)."""
    parts = dotted.split(".")
    for cut in range(len(parts) - 1, 0, -1):
        module = sys.modules.get(".".join(parts[:cut]))
        if module is None:
            continue
        owner = module
        for part in parts[cut:-1]:
            owner = vars(owner).get(part)  # no getattr: scipy's lazy submodules would import themselves
            if owner is None:
                return None
        present = parts[-1] in vars(owner) if isinstance(owner, types.ModuleType) else hasattr(owner, parts[-1])
        return (owner, parts[-1]) if present else None
    return None


def _dispatching(original: Callable[..., Any], twin: Callable[..., Any]) -> Callable[..., Any]:
    def call(*args: Any, **kwargs: Any) -> Any:
        if any(hp_registry.is_hp_value(a) for a in (*args, *kwargs.values())):
            ctx = hp_registry.context_of(*args, *kwargs.values())
            from pytest_gradcheck.hparray import _wrap

            return _wrap(twin(*args, **kwargs), ctx)
        return original(*args, **kwargs)

    call.__wrapped__ = original  # type: ignore[attr-defined]
    call.__name__ = getattr(original, "__name__", "twin")
    call.__doc__ = getattr(original, "__doc__", None)
    return call


@contextmanager
def patched() -> Iterator[None]:
    """Replace registered non-dispatching functions by type-dispatching wrappers for the duration (re-entrant,
    shared by threads: installed by the first to enter, restored by the last to leave)."""
    global _depth
    load()  # the twins register on import: before the first check builds a context, too
    with _lock:
        if _depth == 0:
            for dotted, twin in hp_registry.PATCHED.items():
                found = _owner(dotted)
                if found is None:
                    continue
                owner, attribute = found
                original = getattr(owner, attribute)
                _saved.append((owner, attribute, original))
                setattr(owner, attribute, _dispatching(original, twin))
        _depth += 1
    try:
        yield
    finally:
        with _lock:
            _depth -= 1
            if _depth == 0:
                while _saved:
                    owner, attribute, original = _saved.pop()
                    setattr(owner, attribute, original)

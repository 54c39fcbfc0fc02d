"""Loading the high-precision twins, and installing the patched ones while high-precision evaluations run.

One way to add a twin: a line in the ``TWINS`` mapping of a twin module (`TWIN_MODULES`), dotted name ->
`registry.Twin` (``ufunc_twin(kernel)``, ``function_twin(f)``, ``patched_twin(f)`` or ``method_twin(factory)``).
A twin module exports exactly that one mapping and registers nothing itself; `load` imports the modules and
installs every entry with `registry.register`. Users' own twins go through `register_hp` / `hp_twin`.
"""

from __future__ import annotations

import importlib
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from pytest_gradcheck.hp import array as hparray
from pytest_gradcheck.hp import casts as hp_casts
from pytest_gradcheck.hp import registry as hp_registry

__all__ = ["TWIN_MODULES", "all_twins", "load", "patched", "twins_of"]

# The twin modules: each exports one mapping, TWINS (dotted name -> registry.Twin).
TWIN_MODULES = tuple(f"pytest_gradcheck.hp.twins.{name}" for name in (
    "methods", "numpy_functions", "fft", "linalg.registrations", "special.ufuncs", "special.arrays",
    "stats.distributions", "stats.multivariate", "distance",
))

_loaded = False
_lock = threading.RLock()
_depth = 0
_saved: list[tuple[Any, str, Any]] = []


def twins_of(module_name: str) -> dict[str, hp_registry.Twin]:
    """The ``TWINS`` mapping of the twin module called `module_name` (imported if it was not)."""
    twins = getattr(importlib.import_module(module_name), "TWINS", None)
    if not isinstance(twins, dict) or not all(isinstance(t, hp_registry.Twin) for t in twins.values()):
        raise TypeError(f"{module_name}: TWINS: expected a dict of dotted name -> registry.Twin, got {twins!r}")
    return twins


def all_twins() -> dict[str, hp_registry.Twin]:
    """The union of the twin modules' ``TWINS``; a name in two modules is an error."""
    owners: dict[str, str] = {}
    union: dict[str, hp_registry.Twin] = {}
    for module_name in TWIN_MODULES:
        for dotted, entry in twins_of(module_name).items():
            if dotted in owners:
                raise ValueError(f"{dotted}: a twin in both {owners[dotted]} and {module_name}")
            owners[dotted], union[dotted] = module_name, entry
    return union


def load(again: bool = False) -> None:
    """Install every entry of every twin module's ``TWINS`` with `registry.register`, once; `again` installs
    them anew (replacing a package twin that was unregistered or overridden since)."""
    global _loaded
    if _loaded and not again:
        return
    with _lock:
        if _loaded and not again:
            return
        for dotted, entry in all_twins().items():
            hp_registry.register(dotted, entry)
        _loaded = True


_located: tuple[Any, list[tuple[str, Any, str]]] = (None, [])
_wrappers: dict[tuple[Any, Any], Any] = {}  # (twin, original function) -> their type-dispatching wrapper


def _targets() -> list[tuple[str, Any, str]]:
    """(name, owner, attribute) of the patched functions reachable now; located again only when a module was
    imported or a twin (un)registered since (locating every name costs more than a small evaluation of f)."""
    global _located
    key = (len(sys.modules), hp_registry.version())
    if _located[0] != key:
        found = [(dotted, hp_registry.locate(dotted)) for dotted in hp_registry.PATCHED]
        # never imports: a module not imported is not being called
        _located = (key, [(dotted, *where) for dotted, where in found if where is not None])
    return _located[1]


@contextmanager
def patched() -> Iterator[None]:
    """Replace registered non-dispatching functions by type-dispatching wrappers, and numpy's casts by ones
    that keep the checker's arrays high precision (`hp_casts`), for the duration (re-entrant, shared by
    threads: installed by the first to enter, restored by the last to leave)."""
    global _depth
    load()  # the twins register on import: before the first check builds a context, too
    with _lock:
        if _depth == 0:
            for dotted, owner, attribute in _targets():
                original, twin = getattr(owner, attribute), hp_registry.PATCHED[dotted]
                key = (twin, original)
                if key not in _wrappers:
                    _wrappers[key] = hparray.hp_twin(twin)(original)
                _saved.append((owner, attribute, original))
                setattr(owner, attribute, _wrappers[key])
            for owner, attribute, factory in hp_casts.REPLACEMENTS:  # numpy's casts keep high precision
                original = getattr(owner, attribute)
                key = (factory, original)
                if key not in _wrappers:
                    _wrappers[key] = factory(original)
                _saved.append((owner, attribute, original))
                setattr(owner, attribute, _wrappers[key])
        _depth += 1
    try:
        with hp_casts.in_this_thread():
            yield
    finally:
        with _lock:
            _depth -= 1
            if _depth == 0:
                while _saved:
                    owner, attribute, original = _saved.pop()
                    setattr(owner, attribute, original)

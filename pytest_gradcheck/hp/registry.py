"""The registry of high-precision twins: which numpy/scipy calls run on high-precision arrays, and how.

Every entry is keyed by the function's public dotted name ("numpy.linalg.det", "scipy.special.expit") so
that registering never imports scipy, and is a `Twin`: the twin and its kind.

- ``ufunc`` (`ufunc_twin`): an elementwise scalar function of ``mpf`` numbers (all from one private
  context; ``x.context`` is it). Used for ufuncs without an object loop (``np.logaddexp``,
  ``scipy.special.erf``): the high-precision array broadcasts the operands and applies the twin per element.
- ``function`` (`function_twin`): for numpy API functions that dispatch through ``__array_function__``
  (``np.linalg.det``, ``np.fft.fft``, ``np.clip``). The twin takes the same arguments as the function, with
  high-precision arrays (object arrays of ``mpf``) where the function had arrays, and returns the same
  structure at high precision.
- ``patched`` (`patched_twin`): for functions that do not dispatch at all (``scipy.linalg.sqrtm``).
  While a high-precision evaluation runs, the module attribute is replaced by a wrapper that calls the twin
  when an argument is high precision and the original otherwise (code that imported the function by name
  before keeps the original: wrap your own functions with `hp_twin` instead).
- ``method`` (`method_twin`): for ufuncs that do have an object loop, which calls a method of the element
  (``np.tanh(a)`` calls ``a[i].tanh()``). The twin is a factory, ``twin(ctx)`` -> the function of ``ctx``'s
  numbers, attached to each private context's ``mpf`` under `method_name` (see `precision`).

The package's own twins are declared, one line each, in the ``TWINS`` mapping of a twin module
(``hp/twins``) and installed by `install.load` through `register`. `register_hp` is the public entry
point for users: it picks the kind from the function it is given. This module imports nothing else
from the package.
"""

from __future__ import annotations

import sys
import threading
import types
from collections.abc import Callable
from typing import Any, Literal, NamedTuple

import numpy as np

__all__ = [
    "FUNCTIONS", "METHODS", "PATCHED", "QUAD_BRIDGE", "TABLES", "UFUNCS", "Twin", "context_of", "function_twin",
    "is_hp_value",
    "locate", "lookup_function", "lookup_ufunc", "method_name", "method_twin", "name_of", "patched_twin",
    "public_module", "register", "register_function", "register_hp", "register_patched", "register_ufunc",
    "ufunc_twin", "unregister",
]

Kind = Literal["ufunc", "function", "patched", "method"]

# (is_value, bridge) per tier that carries its own arrays (the quad tier's, installed by `quad` on import): a
# twin called with such a value runs through `bridge(twin, args, kwargs)`, which converts for the call.
QUAD_BRIDGE: list[tuple[Callable[[Any], bool], Callable[..., Any]]] = []


class Twin(NamedTuple):
    """One entry of a twin module's ``TWINS`` mapping: how the twin is installed (`Kind`) and the twin."""

    kind: Kind
    twin: Callable[..., Any]


def ufunc_twin(twin: Callable[..., Any]) -> Twin:
    """An elementwise scalar twin for a ufunc without an object loop."""
    return Twin("ufunc", twin)


def function_twin(twin: Callable[..., Any]) -> Twin:
    """A twin for a numpy API function that dispatches through ``__array_function__``."""
    return Twin("function", twin)


def patched_twin(twin: Callable[..., Any]) -> Twin:
    """A twin for a function that does not dispatch, installed on its module during hp evaluations."""
    return Twin("patched", twin)


def method_twin(factory: Callable[..., Any]) -> Twin:
    """A twin for a ufunc whose object loop calls an element method: ``factory(ctx)`` is the method's function."""
    return Twin("method", factory)


UFUNCS: dict[str, Callable[..., Any]] = {}  # "numpy.logaddexp" -> scalar twin (mpf, ...) -> mpf
FUNCTIONS: dict[str, Callable[..., Any]] = {}  # "numpy.linalg.det" -> twin with the function's signature
PATCHED: dict[str, Callable[..., Any]] = {}  # "scipy.linalg.sqrtm" -> twin, installed while hp evaluations run
METHODS: dict[str, Callable[..., Any]] = {}  # "numpy.tanh" -> factory: ctx -> the function mpf.tanh runs
TABLES: dict[str, dict[str, Callable[..., Any]]] = {
    "ufunc": UFUNCS, "function": FUNCTIONS, "patched": PATCHED, "method": METHODS,
}

_lock = threading.Lock()
_resolved: dict[str, dict[Any, Callable[..., Any]]] = {"ufunc": {}, "function": {}}
_modules_seen: dict[str, tuple[int, int]] = {"ufunc": (0, -1), "function": (0, -1)}
_version = [0]  # bumped by every (un)registration


def public_module(module: str) -> str:
    """A module path without its private parts: "scipy.linalg._matfuncs_sqrtm" -> "scipy.linalg"."""
    return ".".join(part for part in module.split(".") if not part.startswith("_"))


def locate(dotted: str) -> tuple[Any, str] | None:
    """(object, attribute) for a dotted name reachable from an already imported module, never importing
    anything: "scipy.stats.norm.logpdf" -> (scipy.stats.norm, "logpdf"). Steps below the module go through
    the objects' own namespaces, not getattr: scipy's lazy submodules would import themselves, and numpy's
    submodules (numpy.fft) are found as numpy's attributes even where sys.modules lost them (pytester's
    in-process runs restore sys.modules, and numpy.fft's C extension cannot be imported twice)."""
    parts = dotted.split(".")
    for cut in range(len(parts) - 1, 0, -1):
        module = sys.modules.get(".".join(parts[:cut]))
        if module is None:
            continue
        owner = module
        for part in parts[cut:-1]:
            owner = vars(owner).get(part)
            if owner is None:
                return None
        present = parts[-1] in vars(owner) if isinstance(owner, types.ModuleType) else hasattr(owner, parts[-1])
        return (owner, parts[-1]) if present else None
    return None


def _resolve(dotted: str) -> Any | None:
    """The object a dotted name refers to, if it is reachable without importing anything."""
    found = locate(dotted)
    return None if found is None else getattr(*found)


def _table(kind: str) -> dict[Any, Callable[..., Any]]:
    """Object -> twin for the registered names whose modules are imported; rebuilt when new modules appear."""
    names = UFUNCS if kind == "ufunc" else FUNCTIONS
    key = (len(sys.modules), _version[0])  # a new import or registration rebuilds the table
    if _modules_seen[kind] != key:
        with _lock:
            table: dict[Any, Callable[..., Any]] = {}
            for dotted, twin in names.items():
                target = _resolve(dotted)
                if target is not None:
                    table[target] = twin
            _resolved[kind], _modules_seen[kind] = table, key
    return _resolved[kind]


def version() -> int:
    """Bumped by every (un)registration: caches of located names compare it."""
    return _version[0]


def lookup_ufunc(ufunc: np.ufunc) -> Callable[..., Any] | None:
    """The scalar twin of a ufunc, or None."""
    return _table("ufunc").get(ufunc)


def lookup_function(function: Callable[..., Any]) -> Callable[..., Any] | None:
    """The twin of a numpy API function, or None."""
    return _table("function").get(function)


def name_of(function: Any) -> str:
    """A function's public dotted name: private modules dropped ("scipy.linalg._matfuncs_sqrtm" -> "scipy.linalg")."""
    if isinstance(function, np.ufunc):
        for dotted in UFUNCS:
            if _resolve(dotted) is function:
                return dotted
        special = sys.modules.get("scipy.special")
        if special is not None and getattr(special, function.__name__, None) is function:
            return f"scipy.special.{function.__name__}"
        return f"numpy.{function.__name__}"
    public = public_module(getattr(function, "__module__", None) or "")
    return f"{public}.{getattr(function, '__qualname__', getattr(function, '__name__', repr(function)))}".lstrip(".")


def register(name: str, entry: Twin) -> None:
    """Install one entry under the dotted `name` ("scipy.special.erf") in the table of its kind."""
    if not isinstance(entry, Twin):
        raise TypeError(f"entry: expected a Twin (ufunc_twin(...), function_twin(...), ...), got {entry!r}")
    if entry.kind not in TABLES:
        raise ValueError(f"entry: kind must be one of {sorted(TABLES)}, got {entry.kind!r}")
    TABLES[entry.kind][_checked_name(name)] = _checked_twin(entry.twin)
    _version[0] += 1


def register_ufunc(name: str, twin: Callable[..., Any]) -> None:
    """Register an elementwise scalar twin for the ufunc called `name` ("scipy.special.erf")."""
    register(name, ufunc_twin(twin))


def register_function(name: str, twin: Callable[..., Any]) -> None:
    """Register a twin for the dispatching numpy API function called `name` ("numpy.linalg.det")."""
    register(name, function_twin(twin))


def register_patched(name: str, twin: Callable[..., Any]) -> None:
    """Register a twin for a non-dispatching function called `name`, installed during hp evaluations."""
    register(name, patched_twin(twin))


# numpy's object floor, ceil and trunc call math.floor/ceil/trunc, which look up these special methods
_MATH_METHODS = {"floor": "__floor__", "ceil": "__ceil__", "trunc": "__trunc__"}


def method_name(dotted: str) -> str:
    """The element method numpy's object loop calls for the ufunc called `dotted`: "numpy.tanh" -> "tanh"."""
    name = dotted.rpartition(".")[2]
    return _MATH_METHODS.get(name, name)


def unregister(name: str) -> Callable[..., Any] | None:
    """Remove the twin registered under `name` (any kind); returns it, or None if there was none."""
    found = None
    for table in TABLES.values():
        found = table.pop(name, None) or found
    _version[0] += 1
    return found


def register_hp(function: Any, twin: Callable[..., Any]) -> None:
    """Give `function` (a ufunc, a numpy API function or any module-level function) a high-precision twin.

    For a ufunc the twin is elementwise: it takes and returns ``mpf`` numbers. Otherwise it takes the
    function's own arguments with high-precision arrays in place of arrays. numpy API functions dispatch to
    it through ``__array_function__``; other functions (scipy.linalg's) are replaced by a type-dispatching
    wrapper on their module while high-precision evaluations run.
    """
    if isinstance(function, str):
        raise TypeError("register_hp: function: expected the function object itself, got a str "
                        "(use register_ufunc/register_function/register_patched with dotted names)")
    if not callable(function):
        raise TypeError(f"register_hp: function: expected a callable, got {type(function).__name__}")
    if isinstance(function, np.ufunc):
        register_ufunc(name_of(function), twin)
    elif hasattr(function, "_implementation"):  # numpy's array_function_dispatch marks dispatching functions
        register_function(_dispatch_name(function), twin)
    else:
        register_patched(_module_attribute(function), twin)


def _dispatch_name(function: Any) -> str:
    module = getattr(function, "__module__", "") or "numpy"
    return f"{module}.{function.__name__}"


def _module_attribute(function: Any) -> str:
    """The dotted name under which `function` is reachable from its public module."""
    module = getattr(function, "__module__", None)
    name = getattr(function, "__name__", None)
    if not module or not name:
        raise TypeError(f"register_hp: function: {function!r} has no module-level name to install a twin under")
    for candidate in (public_module(module), module):
        if getattr(sys.modules.get(candidate), name, None) is function:
            return f"{candidate}.{name}"
    return f"{module}.{name}"


def _checked_name(name: Any) -> str:
    if not isinstance(name, str) or "." not in name:
        raise TypeError(f"name: expected a dotted name such as 'numpy.linalg.det', got {name!r}")
    return name


def _checked_twin(twin: Any) -> Callable[..., Any]:
    if not callable(twin):
        raise TypeError(f"twin: expected a callable, got {type(twin).__name__}")
    return twin


def is_hp_value(value: Any) -> bool:
    """An mpf/mpc number, or an object array whose first element is one."""
    if hasattr(value, "_mpf_") or hasattr(value, "_mpc_"):
        return True
    if isinstance(value, np.ndarray) and value.dtype == object and value.size:
        first = value.flat[0]
        return hasattr(first, "_mpf_") or hasattr(first, "_mpc_")
    return False


def context_of(*values: Any) -> Any:
    """The private mpmath context of the first high-precision value among `values` (searched into
    lists and tuples), or None."""
    for value in values:
        ctx = getattr(value, "hp_context", None)
        if ctx is not None:
            return ctx
        if hasattr(value, "_mpf_") or hasattr(value, "_mpc_"):
            return value.context
        if isinstance(value, np.ndarray) and value.dtype == object:
            for element in value.flat:
                if hasattr(element, "_mpf_") or hasattr(element, "_mpc_"):
                    return element.context
        if isinstance(value, list | tuple):
            found = context_of(*value)
            if found is not None:
                return found
    return None

"""Gradient-check settings from the ini file, the command line and the marker, merged (closest wins).

Precedence for the `gradcheck` fixture: keyword arguments of the call > `@pytest.mark.gradcheck(...)` (function,
then class, then module marks) > command line > ini file > check_grad's own defaults. Pure functions: no
pytest, no numpy, so the plugin can import this module at start-up.
"""

from __future__ import annotations

import importlib.util
import os
import sys
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

MATPLOTLIB_MISSING = ("drawing pictures needs matplotlib, which is not installed; install it with "
                      "pip install 'pytest-gradcheck[plot]'")


def _choice(*allowed: str) -> Callable[[Any], str]:
    def parse(value: Any) -> str:
        if value not in allowed:
            raise ValueError(f"expected one of {', '.join(allowed)}; got {value!r}")
        return value

    parse.__name__ = "one of " + "/".join(allowed)
    return parse


def _number(kind: type) -> Callable[[Any], Any]:
    def parse(value: Any) -> Any:
        if isinstance(value, bool):
            raise ValueError(f"expected {kind.__name__}, got {value!r}")
        if isinstance(value, str):
            try:
                return kind(value)
            except ValueError:
                raise ValueError(f"expected {kind.__name__}, got {value!r}") from None
        if kind is float and isinstance(value, int | float):
            return float(value)
        if isinstance(value, kind):
            return value
        raise ValueError(f"expected {kind.__name__}, got {value!r}")

    parse.__name__ = kind.__name__
    return parse


def _per_op(value: Any) -> str | bool:
    if isinstance(value, bool):
        return value
    return _choice("auto", "always", "all", "custom", "off")(value)


def _matplotlib_installed() -> bool:
    """Whether matplotlib can be imported, found without importing it (plugin start-up stays light)."""
    if "matplotlib" in sys.modules:
        return sys.modules["matplotlib"] is not None  # None: imports of it are blocked
    try:
        return importlib.util.find_spec("matplotlib") is not None
    except (ImportError, ValueError):
        return False


def _directory(value: Any) -> str:
    """A folder for pictures: a path (str or os.PathLike) that is not an existing file; needs matplotlib."""
    path = os.fspath(value) if isinstance(value, os.PathLike) else value
    if not isinstance(path, str) or not path.strip():
        raise ValueError(f"expected a directory path (str or os.PathLike), got {value!r}")
    if os.path.exists(path) and not os.path.isdir(path):
        raise ValueError(f"expected a directory, but {path!r} is an existing file")
    if not _matplotlib_installed():
        raise ValueError(MATPLOTLIB_MISSING)
    return path


@dataclass(frozen=True)
class Setting:
    """A check_grad keyword that the plugin exposes as --gradcheck-NAME, ini key gradcheck_NAME, marker key."""

    name: str
    parse: Callable[[Any], Any]
    help: str

    @property
    def option(self) -> str:
        return "--gradcheck-" + self.name.replace("_", "-")

    @property
    def ini(self) -> str:
        return "gradcheck_" + self.name


SETTINGS: dict[str, Setting] = {s.name: s for s in (
    Setting("digits", _number(int), "decimal digits of the high-precision reference; giving them asks for the "
            "mpmath tier at exactly that precision (default: 33 on the quad tier, 40 on mpmath)"),
    Setting("backend", _choice("auto", "quad", "mpmath"), "high-precision tier: auto (quad when numpy-quaddtype is "
            "installed and digits is not given, else mpmath), quad (binary128, 33 digits, vectorised) or mpmath "
            "(object arrays, any digits) (default: auto)"),
    Setting("mode", _choice("auto", "full", "fast", "taylor", "diagonal"),
            "how to check: auto, full, fast, taylor or diagonal (default: auto)"),
    Setting("rtol", _number(float), "relative tolerance, overriding the defaults from the dtype (default: none)"),
    Setting("atol", _number(float), "absolute tolerance (default: 0)"),
    Setting("seed", _number(int), "seed of random directions and cotangents (default: 0)"),
    Setting("per_op", _per_op, "per-op checking: auto (each op of a check that did not pass, and the custom "
            "primitives under the engine's gradient), always (each op of every check; 'all' is a synonym), custom "
            "(custom primitives only) or off (default: auto)"),
    Setting("complex_convention", _choice("torch", "jax", "holomorphic"), "the convention of a complex gradient: "
            "torch (df/dx + i df/dy), jax (df/dx - i df/dy) or holomorphic (f'(z)); needed with complex arguments "
            "and a user grad/vjp (default: none; the engine's gradient is jax)"),
    Setting("float64_accuracy", _choice("fail", "warn"), "lost float64 accuracy: fail or warn (default: fail)"),
    Setting("projections", _number(int), "random projections in fast mode (default: 4)"),
    Setting("max_evaluations", _number(int), "most evaluations of f one check may spend (default: no limit)"),
    Setting("max_seconds", _number(float), "most seconds one check may spend, 'inf' for no limit (default: 60)"),
    Setting("plots", _directory, "draw pictures of failing and non-differentiable checks (error against step "
            "size, per-op errors) as PNG files into this directory; needs matplotlib (default: none)"),
)}


def parse_setting(name: str, value: Any, source: str) -> Any:
    """A setting's value checked and converted; errors name the setting and where it came from."""
    if name not in SETTINGS:
        raise ValueError(f"{source}: unknown gradcheck setting {name!r}; known settings: {', '.join(SETTINGS)}")
    try:
        return SETTINGS[name].parse(value)
    except ValueError as error:
        raise ValueError(f"{source}: {name}: {error}") from None


def layer(values: Mapping[str, Any], source: str) -> dict[str, Any]:
    """One source's settings, parsed; None means not given there."""
    return {k: parse_setting(k, v, source) for k, v in values.items() if v is not None and v != ""}


def merge_markers(marker_kwargs: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """Marks ordered closest first (as pytest's iter_markers gives them): the closest mark wins per key."""
    merged: dict[str, Any] = {}
    for kwargs in reversed(list(marker_kwargs)):
        merged.update(layer(kwargs, "@pytest.mark.gradcheck"))
    return merged


def resolve(ini: Mapping[str, Any], command_line: Mapping[str, Any], markers: Iterable[Mapping[str, Any]],
            call: Mapping[str, Any]) -> dict[str, Any]:
    """check_grad keywords for one call: call > marker > command line > ini."""
    merged = layer(ini, "ini file")
    merged.update(layer(command_line, "command line"))
    merged.update(merge_markers(markers))
    merged.update(call)  # check_grad validates the call's own keywords itself
    return merged

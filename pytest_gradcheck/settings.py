"""Gradient-check settings from the ini file, the command line and the marker, merged (closest wins).

Precedence for the `gradcheck` fixture: keyword arguments of the call > `@pytest.mark.gradcheck(...)` (function,
then class, then module marks) > command line > ini file > check_grad's own defaults. Pure functions: no
pytest, no numpy, so the plugin can import this module at start-up.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any


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
    return _choice("all", "custom", "off")(value)


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
    Setting("digits", _number(int), "decimal digits of the high-precision reference (default: 40)"),
    Setting("mode", _choice("auto", "full", "fast", "taylor", "diagonal"),
            "how to check: auto, full, fast, taylor or diagonal (default: auto)"),
    Setting("rtol", _number(float), "relative tolerance, overriding the defaults from the dtype (default: none)"),
    Setting("atol", _number(float), "absolute tolerance (default: 0)"),
    Setting("seed", _number(int), "seed of random directions and cotangents (default: 0)"),
    Setting("per_op", _per_op, "per-op checking: all, custom (custom primitives only) or off (default: all)"),
    Setting("float64_accuracy", _choice("fail", "warn"), "lost float64 accuracy: fail or warn (default: fail)"),
    Setting("projections", _number(int), "random projections in fast mode (default: 4)"),
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

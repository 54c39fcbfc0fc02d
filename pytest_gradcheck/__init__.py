"""pytest-gradcheck: check reverse-mode gradients against high-precision central differences.

Names are imported lazily, so that loading the pytest plugin (which imports this package) costs nothing
until a gradient check runs.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "check_grad": "pytest_gradcheck.api",
    "check_hessian": "pytest_gradcheck.api_second",
    "check_hvp": "pytest_gradcheck.api_second",
    "check_jvp": "pytest_gradcheck.api_jvp",
    "GradcheckUsageError": "pytest_gradcheck.checker.inputs",
    "GradcheckError": "pytest_gradcheck.checker.result",
    "GradcheckResult": "pytest_gradcheck.checker.result",
    "Kink": "pytest_gradcheck.checker.result",
    "Mismatch": "pytest_gradcheck.checker.result",
    "register_hp": "pytest_gradcheck.hp.registry",
    "hp_twin": "pytest_gradcheck.hp.array",
    "is_high_precision": "pytest_gradcheck.hp.precision",
}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module 'pytest_gradcheck' has no attribute {name!r}")
    return getattr(importlib.import_module(_EXPORTS[name]), name)

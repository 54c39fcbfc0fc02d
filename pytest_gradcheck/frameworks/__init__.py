"""Framework adapters (torch, JAX): check_grad on their arrays. Imported lazily: the core never imports a
framework, and an adapter's module is imported only when an argument belongs to its framework."""

from __future__ import annotations

import importlib
from typing import Any

from pytest_gradcheck.frameworks.base import Adapter

# The top-level module of an array's type -> the adapter module (each defines ADAPTER).
ADAPTER_MODULES = {
    "torch": "pytest_gradcheck.frameworks.torch_adapter",
    "jax": "pytest_gradcheck.frameworks.jax_adapter",
    "jaxlib": "pytest_gradcheck.frameworks.jax_adapter",
}


def framework_of(value: Any) -> str | None:
    """The top-level package of a value's type when an adapter exists for it ("torch", "jax"), else None."""
    root = type(value).__module__.partition(".")[0]
    return root if root in ADAPTER_MODULES else None


def adapter_for(args: Any) -> Adapter | None:
    """The adapter of the framework whose arrays are among `args` (one array, or a tuple), or None (numpy)."""
    values = args if isinstance(args, tuple | list) else (args,)
    for value in values:
        if framework_of(value) is not None:
            module = importlib.import_module(ADAPTER_MODULES[framework_of(value)])
            adapter: Adapter = module.ADAPTER
            return adapter
    return None

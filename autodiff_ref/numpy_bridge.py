"""numpy dispatch: how `np.tanh(x @ w).sum()` on tensors becomes recorded primitives.

`Tensor.__array_ufunc__` and `Tensor.__array_function__` land here. The dispatch tables are derived from the
ops in `autodiff_ref.primitives`, each of which names the numpy functions it implements (see `registration`);
piecewise-constant and structural calls (comparisons, sign, argmax, shape, zeros_like) run on the plain values,
since their derivative is zero; anything else raises an `AutodiffError` naming the numpy function, so no
gradient is ever silently wrong or silently constant.
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable, Iterable
from types import ModuleType
from typing import Any

import numpy as np

from autodiff_ref import primitives
from autodiff_ref.registration import Composite, NumpyOp
from autodiff_ref.tensor import AutodiffError, Tensor, is_complex, unbox

# Ufuncs whose result is boolean or piecewise constant: the derivative is zero wherever it exists.
CONSTANT_UFUNCS = frozenset({
    np.less, np.less_equal, np.greater, np.greater_equal, np.equal, np.not_equal, np.isfinite, np.isnan,
    np.isinf, np.sign, np.signbit, np.floor, np.ceil, np.trunc, np.rint, np.logical_and, np.logical_or,
    np.logical_not, np.logical_xor,
})  # fmt: skip

# Structural or piecewise-constant functions: evaluated on plain values (derivative zero).
CONSTANT_FUNCTIONS = (
    np.shape, np.ndim, np.size, np.argmax, np.argmin, np.argsort, np.zeros_like, np.ones_like, np.empty_like,
    np.full_like, np.isclose, np.allclose, np.array_equal, np.count_nonzero, np.nonzero, np.result_type,
)  # fmt: skip

# Constant functions that order values: on complex traced values they are refused, not evaluated.
ORDERING = frozenset({
    np.less, np.less_equal, np.greater, np.greater_equal, np.sign, np.signbit, np.floor, np.ceil, np.trunc,
    np.rint, np.argmax, np.argmin, np.argsort,
})  # fmt: skip

UFUNC_HOMES = ("numpy", "scipy.special")  # where the ufuncs users call live (scipy.special's report no module)


def qualified_name(func: Any) -> str:
    """The name users call `func` by: the shortest public module path that holds it (`np.linalg.solve`,
    `scipy.special.logsumexp`, not `numpy.linalg._linalg.solve`), with numpy written `np`."""
    name = getattr(func, "__name__", repr(func))
    module = getattr(func, "__module__", None)
    homes = UFUNC_HOMES if isinstance(func, np.ufunc) else ()
    parts = module.split(".") if module else []
    candidates = [*homes, *(".".join(parts[:i]) for i in range(1, len(parts) + 1))]
    home = next((c for c in candidates if getattr(sys.modules.get(c), name, None) is func), module)
    qualified = f"{home}.{name}" if home else name
    return "np." + qualified.removeprefix("numpy.") if qualified.startswith("numpy.") else qualified


def numpy_ops(module: ModuleType = primitives) -> list[NumpyOp | Composite]:
    """The ops of `module` that implement numpy functions or ufuncs, in definition order."""
    return [v for v in vars(module).values() if isinstance(v, NumpyOp | Composite)]


def _handler(op: NumpyOp | Composite, func: Any) -> Callable[..., Any]:
    """What a call of numpy function `func` on traced values runs: the op, its adapter, or the composite."""
    if isinstance(op, NumpyOp) and op.call is not None:
        return functools.partial(op.call, op, qualified_name(func))
    return op


def refuse_complex_ordering(func: Any, args: Iterable[Any]) -> None:
    """Orderings (comparisons, sign, floor, argmax, ...) are not meaningful on complex values: refuse them."""
    if func in ORDERING and any(is_complex(a) for a in args if isinstance(a, Tensor)):
        raise AutodiffError(f"{qualified_name(func)} orders values, which complex numbers do not have: "
                            "it is not supported on complex traced values (compare np.real, np.imag or np.abs)")


def _constant(func: Any) -> Callable[..., Any]:
    def handler(*args: Any, **kwargs: Any) -> Any:
        if any(isinstance(a, Tensor) for a in args[1:]) or any(isinstance(v, Tensor) for v in kwargs.values()):
            raise AutodiffError(f"{qualified_name(func)}: only its first argument may be a traced value")
        refuse_complex_ordering(func, args)
        return func(*unbox(args), **kwargs)

    return handler


def dispatch_tables(ops: Iterable[NumpyOp | Composite]) -> tuple[dict[np.ufunc, NumpyOp], dict[Any, Any]]:
    """(ufunc -> op, numpy function -> handler) from the ops' declarations; a function claimed twice is an error."""
    ufuncs: dict[np.ufunc, NumpyOp] = {}
    functions: dict[Any, Callable[..., Any]] = {f: _constant(f) for f in CONSTANT_FUNCTIONS}
    for op in ops:
        for func in op.numpy:
            if func in ufuncs or func in functions or func in CONSTANT_UFUNCS:
                raise ValueError(f"{qualified_name(func)} is implemented twice (again by {op!r})")
            if isinstance(func, np.ufunc):
                ufuncs[func] = op
            else:
                functions[func] = _handler(op, func)
    return ufuncs, functions


UFUNCS, FUNCTIONS = dispatch_tables(numpy_ops())


def _unsupported(func: Any) -> AutodiffError:
    return AutodiffError(f"{qualified_name(func)} is not supported by autodiff_ref (no VJP rule); "
                         "register a custom op with @autodiff_ref.primitive and defvjp")


def dispatch_ufunc(ufunc: np.ufunc, method: str, inputs: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    if method != "__call__":
        name = qualified_name(ufunc)
        raise AutodiffError(f"{name}.{method} is not supported on traced values (only plain calls of {name})")
    if kwargs:
        raise AutodiffError(f"{qualified_name(ufunc)}: keyword arguments {sorted(kwargs)} are not supported on "
                            "traced values")
    if ufunc in CONSTANT_UFUNCS:
        refuse_complex_ordering(ufunc, inputs)
        return ufunc(*unbox(inputs))
    prim = UFUNCS.get(ufunc)
    if prim is None:
        raise _unsupported(ufunc)
    return prim(*inputs)


def dispatch_function(func: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    handler = FUNCTIONS.get(func)
    if handler is None:
        raise _unsupported(func)
    return handler(*args, **kwargs)

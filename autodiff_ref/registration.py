"""How an engine op declares the numpy functions it implements, so that adding an op is one registration line.

- `defelementwise(np.exp, vjp)` registers the ufunc it is given, with VJP rules written on broadcast inputs.
- An engine op refuses traced complex arguments unless it declares `complex_inputs=True`.
- `NumpyOp(fn, name, numpy=(np.max, np.amax), call=handler)` is a `Primitive` that names the numpy functions it
  implements; `call(op, name, *args, **kwargs)` maps numpy's signature (axis=, keepdims=, out=, ...) onto the op,
  where `name` is the numpy function the user called (for error messages). Without `call` the op takes numpy's
  arguments as they are.
- `Composite(fn, numpy=(np.var,))` is a numpy function computed from primitives (it records those, not itself).

`numpy_bridge` derives its ufunc and function dispatch tables from these declarations in `primitives`; there
is no second table to edit.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import numpy as np

from autodiff_ref.arrays import shape_of, unbroadcast
from autodiff_ref.tensor import Primitive

Handler = Callable[..., Any]  # handler(op, name, *args, **kwargs) -> the op's result on traced values


def _checked_numpy(owner: str, numpy: Iterable[Any]) -> tuple[Any, ...]:
    functions = tuple(numpy)
    if not functions:
        raise ValueError(f"{owner}: numpy= must name at least one numpy function or ufunc")
    for func in functions:
        if not callable(func):
            raise TypeError(f"{owner}: numpy= entries must be numpy functions or ufuncs, got {func!r}")
    return functions


class NumpyOp(Primitive):
    """A primitive that implements the numpy functions or ufuncs in `numpy` on traced values."""

    def __init__(self, fn: Callable[..., Any], name: str | None = None, *, numpy: Iterable[Any],
                 call: Handler | None = None, elementwise: bool = False, complex_inputs: bool = False) -> None:
        super().__init__(fn, name, elementwise=elementwise, complex_inputs=complex_inputs)
        self.numpy = _checked_numpy(f"op {self.name!r}", numpy)
        if call is not None and any(isinstance(f, np.ufunc) for f in self.numpy):
            raise ValueError(f"op {self.name!r}: ufuncs are dispatched as plain calls; call= is for functions")
        self.call = call


class Composite:
    """A numpy function computed from primitives on traced values: calling it records the primitives it uses."""

    def __init__(self, fn: Callable[..., Any], *, numpy: Iterable[Any]) -> None:
        self.fn = fn
        self.name = getattr(fn, "__name__", repr(fn)).lstrip("_")
        self.numpy = _checked_numpy(f"composite {self.name!r}", numpy)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.fn(*args, **kwargs)

    def __repr__(self) -> str:
        return f"<autodiff_ref composite {self.name}>"


def defelementwise(ufunc: np.ufunc, *makers: Any, complex_inputs: bool = False) -> NumpyOp:
    """The op implementing numpy ufunc `ufunc`, with makers written on broadcast inputs (results are unbroadcast).
    `complex_inputs=True` for the ops whose rules hold on complex values (JAX's convention, docs/autodiff_ref.md)."""
    prim = NumpyOp(ufunc, ufunc.__name__, numpy=(ufunc,), elementwise=True, complex_inputs=complex_inputs)
    wrapped = []
    for maker in makers:
        if maker is None:
            wrapped.append(None)
            continue

        def unbroadcasting(ans: Any, *args: Any, _maker: Any = maker, _argnum: int = len(wrapped)) -> Any:
            rule = _maker(ans, *args)
            return lambda g: unbroadcast(rule(g), shape_of(args[_argnum]))

        wrapped.append(unbroadcasting)
    return prim.defvjp(*wrapped)

"""The user-facing transforms: `grad`, `vjp` and `record` (the tape behind both, used by per-op reports)."""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from autodiff_ref.arrays import as_array, ones_like
from autodiff_ref.tensor import AutodiffError, Node, Tape, Tensor, backward, is_complex, plain, source_location

FLOAT_DTYPES = (np.dtype(np.float64), np.dtype(np.float32), np.dtype(np.complex128), np.dtype(np.complex64))


def _argument_name(f: Callable[..., Any], index: int) -> str:
    try:
        names = [p.name for p in inspect.signature(f).parameters.values()
                 if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    except (TypeError, ValueError):
        names = []
    return f"argument {index} ({names[index]!r})" if index < len(names) else f"argument {index}"


class _ArgumentName:
    """"argument 0 ('x') of f", computed only when a message shows it: inspect.signature costs more than
    tracing a small function."""

    def __init__(self, f: Callable[..., Any], index: int) -> None:
        self.f, self.index = f, index

    def __str__(self) -> str:
        return f"{_argument_name(self.f, self.index)} of {getattr(self.f, '__name__', 'f')}"


def _is_mp_number(element: Any) -> bool:
    """An mpmath number (real mpf or complex mpc), recognised by its raw value tuple rather than by class: a
    private context's types, or mpmath imported twice (as pytest's pytester does across in-process runs), are
    other classes."""
    return isinstance(getattr(element, "_mpf_", None), tuple) or isinstance(getattr(element, "_mpc_", None), tuple)


def as_differentiable(value: Any, what: object) -> np.ndarray:
    """Check that `value` can be differentiated; return it as an array without changing any number in it.
    `what` names it in messages (anything printable: `str(what)` is taken only when a message needs it).

    A tensor of an outer trace (nested differentiation) is returned as it is, once its plain value is checked.
    """
    if isinstance(value, Tensor):
        as_differentiable(plain(value), what)
        return value
    if isinstance(value, float | complex | np.float32 | np.complex64):  # np.float64 is a float; float16 and
        return np.asarray(value)                                          # longdouble are refused below
    if not isinstance(value, np.ndarray):
        raise TypeError(f"{what}: expected a float64 or float32 numpy array (complex128 or complex64, or an "
                        f"object array of mpmath numbers), got {type(value).__name__}")
    if value.dtype in FLOAT_DTYPES:
        return value
    if value.dtype == object:
        bad = [e for e in value.flat if not _is_mp_number(e)]  # not next(..., None): a None element is bad too
        if not bad:
            return value
        raise TypeError(f"{what}: object arrays must hold mpmath numbers (mpf or mpc), found {type(bad[0]).__name__}")
    raise TypeError(f"{what}: expected a float64 or float32 array (complex128 or complex64, or an object array of "
                    f"mpmath numbers), got dtype {value.dtype}; convert integer or other inputs explicitly")


class Recording:
    """One traced call: the tape, the traced leaves and the output, with a reverse pass on demand."""

    def __init__(self, tape: Tape, leaves: Sequence[Node], output: Any) -> None:
        self.tape, self.leaves = tape, tuple(leaves)
        if isinstance(output, Tensor) and output.tape is not tape and output.tape.level > tape.level:
            raise AutodiffError("f returned a Tensor from another trace")
        if isinstance(output, list | tuple | dict):
            raise TypeError(f"f must return one array, got {type(output).__name__}")
        self.output = output
        self.traced = isinstance(output, Tensor) and output.tape is tape  # else constant on this trace
        self.value = output.value if self.traced else as_array(output)

    @property
    def nodes(self) -> list[Node]:
        return self.tape.nodes

    def backward(self, cotangent: Any) -> tuple[np.ndarray, ...]:
        """Gradient of `<cotangent, f>` with respect to each traced argument, as plain arrays (as tensors of the
        outer trace when the arguments or the cotangent are traced there: the gradient is differentiable)."""
        cotangent = as_array(cotangent)
        if np.shape(cotangent) != np.shape(self.value):
            raise ValueError(f"cotangent has shape {np.shape(cotangent)}, expected the output's shape "
                             f"{np.shape(self.value)}")
        if not self.traced:  # f does not depend on its traced arguments
            return tuple(as_gradient(None, leaf.value) for leaf in self.leaves)
        grads = backward(self.output.node, cotangent, self.leaves)
        return tuple(as_gradient(g, leaf.value) for g, leaf in zip(grads, self.leaves, strict=True))


def as_gradient(g: Any, like: np.ndarray) -> np.ndarray:
    """A fresh array of the argument's shape and kind; object gradients hold the argument's mpmath type."""
    if isinstance(g, Tensor):  # traced on an outer trace: differentiated further, returned as it is
        return g
    like = plain(like)
    if g is None:
        g = np.zeros(like.shape, dtype=like.dtype if like.dtype != object else float)
    g = np.array(g, dtype=like.dtype if like.dtype != object else object, copy=True)
    if like.dtype == object and like.size:
        mpf = type(next((e for e in like.flat if hasattr(e, "_mpc_")), like.flat[0]))  # mpc if any is complex
        g = np.array([e if isinstance(e, mpf) else mpf(e) for e in g.flat], dtype=object).reshape(like.shape)
    return g


def record(f: Callable[..., Any], args: Sequence[Any], argnums: Sequence[int] = (0,),
           kwargs: dict[str, Any] | None = None) -> Recording:
    """Run `f(*args, **kwargs)` with the arguments at `argnums` traced; return the recording."""
    tape, leaves, traced = trace(f, args, argnums)
    return Recording(tape, leaves, f(*traced, **(kwargs or {})))


def trace(f: Callable[..., Any], args: Sequence[Any], argnums: Sequence[int]) -> tuple[Tape, list[Node], list[Any]]:
    """A new tape with the arguments at `argnums` as its leaves: (tape, leaves, the arguments with those traced)."""
    args = list(args)
    for i in argnums:
        if not -len(args) <= i < len(args):
            raise ValueError(f"argnums: {i} is out of range for {len(args)} positional arguments")
    if len({i % len(args) for i in argnums}) != len(argnums):
        raise ValueError(f"argnums: {tuple(argnums)} names an argument twice")
    tape = Tape()
    location = source_location()
    leaves = []
    for i in argnums:
        value = as_differentiable(args[i], _ArgumentName(f, i))
        args[i] = tape.leaf(value, location)
        leaves.append(args[i].node)
    return tape, leaves, args


def argnums_tuple(argnums: int | Sequence[int]) -> tuple[int, ...]:
    if isinstance(argnums, int | np.integer):
        return (int(argnums),)
    if isinstance(argnums, tuple | list) and argnums and all(isinstance(a, int | np.integer) for a in argnums):
        return tuple(int(a) for a in argnums)
    raise TypeError(f"argnums: expected an int or a non-empty tuple of ints, got {argnums!r}")


def grad(f: Callable[..., Any], argnums: int | Sequence[int] = 0) -> Callable[..., Any]:
    """The gradient of scalar-valued `f`: one array for an int `argnums`, a tuple for a tuple."""
    positions = argnums_tuple(argnums)

    @functools.wraps(f)
    def grad_f(*args: Any, **kwargs: Any) -> Any:
        grads = gradient(f, args, positions, kwargs)
        return grads[0] if isinstance(argnums, int | np.integer) else grads

    return grad_f


def gradient(f: Callable[..., Any], args: Sequence[Any], positions: Sequence[int], kwargs: dict[str, Any],
             who: str = "grad") -> tuple[Any, ...]:
    """The gradient of scalar-valued `f` with respect to the arguments at `positions`, one entry each; `who`
    (the transform the user called) names the requirement in the error for a non-scalar f."""
    recording = record(f, args, positions, kwargs)
    if np.size(recording.value) != 1:
        raise ValueError(f"{who} requires a scalar-valued function; {getattr(f, '__name__', 'f')} returned shape "
                         f"{np.shape(recording.value)} (use autodiff_ref.vjp for array outputs)")
    if is_complex(recording.value):
        raise ValueError(f"{who} requires a real-valued function; {getattr(f, '__name__', 'f')} returned a complex "
                         "value (for a holomorphic f, autodiff_ref.vjp with cotangent 1 gives f'(z))")
    return recording.backward(ones_like(recording.value))


def vjp(f: Callable[..., Any], *args: Any) -> tuple[np.ndarray, Callable[[Any], tuple[np.ndarray, ...]]]:
    """`(f(*args), vjp_fn)` where `vjp_fn(cotangent)` returns one gradient array per argument."""
    recording = record(f, args, tuple(range(len(args))))
    value = recording.value
    return (value if isinstance(value, Tensor) else np.array(value, copy=True)), recording.backward

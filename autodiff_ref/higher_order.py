"""Transforms built on the differentiable reverse pass: `hessian`, `hvp` and `jvp`.

The gradient that `grad` returns for arguments traced on an outer tape is itself a tensor of that tape (the VJP
rules run on traced values), so a second reverse pass differentiates it:
- `hessian`: one reverse pass over the gradient per element of the gradient (the rows of H);
- `hvp`: one reverse pass over `<grad f(args), v>`, whose gradient is H v;
- `jvp`: forward mode computed by reverse over reverse. The VJP `u -> J^T u` is linear in the cotangent u, so
  with u traced, `<J^T u, t>` is a function of u whose gradient is J t, the output tangent (two reverse passes;
  there is no separate tangent propagation).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from autodiff_ref.api import Recording, argnums_tuple, gradient, record, trace
from autodiff_ref.arrays import as_array, ones_like
from autodiff_ref.tensor import AutodiffError, Tape, Tensor, is_complex, plain, source_location


def _unit(like: np.ndarray, index: tuple[int, ...]) -> np.ndarray:
    """Zeros of like's shape and kind with a one at `index` (mpmath zeros and one for object arrays)."""
    unit = _zeros(like.shape, like)
    unit[index] = ones_like(like)[index]
    return unit


def jacobian_rows(recording: Recording) -> tuple[Any, ...]:
    """d output / d leaf for each leaf, shaped output.shape + leaf.shape: one reverse pass per output element."""
    value = plain(recording.value)
    rows = [recording.backward(_unit(value, index)) for index in np.ndindex(value.shape)]
    jacobians = []
    for j, leaf in enumerate(recording.leaves):
        shape = value.shape + np.shape(plain(leaf.value))
        column = [row[j] for row in rows]
        jacobians.append(np.reshape(np.stack(column), shape) if column else _zeros(shape, leaf.value))
    return tuple(jacobians)


def _zeros(shape: tuple[int, ...], like: Any) -> np.ndarray:
    like = plain(like)
    if like.dtype != object or not like.size:
        return np.zeros(shape, dtype=like.dtype)
    return np.full(shape, like.flat[0] * 0, dtype=object)


def hessian(f: Callable[..., Any], argnums: int | Sequence[int] = 0) -> Callable[..., Any]:
    """The Hessian of scalar-valued `f`, a function of f's arguments (the style of `grad`).

    For an int `argnums` it returns one array shaped `x.shape + x.shape`; for a tuple, the nested tuple `H[i][j]`
    shaped `args[i].shape + args[j].shape` (d^2 f / d args[i] d args[j]).
    """
    positions = argnums_tuple(argnums)

    @functools.wraps(f)
    def hessian_f(*args: Any, **kwargs: Any) -> Any:
        tape, leaves, traced = trace(f, args, positions)
        for i in positions:
            if is_complex(args[i]):
                raise AutodiffError(f"hessian: argument {i} is complex; in JAX's convention the Hessian of a real "
                                    "function of complex arguments is not one complex array: use autodiff_ref.hvp")
        grads = gradient(f, traced, positions, kwargs, "hessian")
        rows = tuple(jacobian_rows(Recording(tape, leaves, g)) for g in grads)
        return rows[0][0] if isinstance(argnums, int | np.integer) else rows

    return hessian_f


def _directions(name: str, directions: Any, args: Sequence[Any], positions: Sequence[int]) -> tuple[Any, ...]:
    """`directions` checked against the arguments at `positions`: a tuple of as many arrays, of their shapes."""
    if not isinstance(directions, tuple | list):
        raise TypeError(f"{name}: expected a tuple with one array per differentiated argument, "
                        f"got {type(directions).__name__}")
    if len(directions) != len(positions):
        raise ValueError(f"{name}: expected {len(positions)} arrays (one per differentiated argument), "
                         f"got {len(directions)}")
    checked = []
    for k, (d, i) in enumerate(zip(directions, positions, strict=True)):
        d = as_array(d)
        if np.shape(d) != np.shape(args[i]):
            raise ValueError(f"{name}[{k}] has shape {np.shape(d)}, expected {np.shape(args[i])} "
                             f"(the shape of argument {i})")
        checked.append(d)
    return tuple(checked)


def _inner(vectors: Sequence[Any], directions: Sequence[Any]) -> Any:
    """sum_k <vectors[k], directions[k]> (plain 0 when every vector is a constant)."""
    total: Any = 0
    for a, d in zip(vectors, directions, strict=True):
        total = total + np.sum(a * d)
    return total


def hvp(f: Callable[..., Any], argnums: int | Sequence[int] | None = None) -> Callable[..., tuple[Any, ...]]:
    """`hvp_f(v, *args)`: the Hessian of scalar-valued `f` at `args` times `v`, one array per argument.

    `v` is a tuple with one array per differentiated argument (`argnums`; None: every positional argument), each
    of that argument's shape; the result is the gradient of `<grad f(args), v>`, a tuple in the same order.
    """
    chosen = None if argnums is None else argnums_tuple(argnums)

    @functools.wraps(f)
    def hvp_f(v: Sequence[Any], *args: Any, **kwargs: Any) -> tuple[Any, ...]:
        positions = tuple(range(len(args))) if chosen is None else chosen
        if not positions:
            raise ValueError("hvp: f needs at least one positional argument to differentiate")
        tape, leaves, traced = trace(f, args, positions)
        directions = _directions("v", v, args, positions)
        grads = gradient(f, traced, positions, kwargs, "hvp")
        total = _inner(grads, directions)
        return Recording(tape, leaves, total).backward(ones_like(total))

    return hvp_f


def jvp(f: Callable[..., Any], primals: Sequence[Any], tangents: Sequence[Any]) -> tuple[Any, Any]:
    """`(f(*primals), J tangents)`, JAX style: one primal and one tangent array per positional argument of f.

    Computed by reverse over reverse (see the module docstring): exact, at the cost of two reverse passes.
    """
    if not isinstance(primals, tuple | list):
        raise TypeError(f"primals: expected a tuple with one array per argument, got {type(primals).__name__}")
    if not primals:
        raise ValueError("primals: f needs at least one positional argument")
    positions = tuple(range(len(primals)))
    tangents = _directions("tangents", tangents, primals, positions)
    outer = Tape()  # older than the trace of f, so the cotangent's tape is the outer one
    recording = record(f, primals, positions)
    value = recording.value
    cotangent = outer.leaf(_zeros(np.shape(value), value), source_location())
    total = _inner(recording.backward(cotangent), tangents)
    (tangent,) = Recording(outer, [cotangent.node], total).backward(ones_like(total))
    return (value if isinstance(value, Tensor) else np.array(value, copy=True)), tangent


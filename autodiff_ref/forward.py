"""Forward mode: tangents pushed through a recorded tape, node by node in recording order.

Each node's output tangent comes from its op (see `Primitive`):
- the JVP makers given with `defjvp` (every elementwise ufunc derives them from its VJP rule, since its Jacobian
  is diagonal; products, max/min reductions, angle, sigmoid, softplus, relu and logsumexp have their own);
- a `linear` op (sum, reshape, indexing, concatenate, where, real, imag, fft, ...) applied to the tangents;
- otherwise, for the ops without either (clip, custom primitives without `defjvp`), the transpose of the op's own
  VJP rule: linear in the cotangent u, so the gradient of `<vjp(u), t>` with respect to a traced u is the tangent.
  This local reverse pass needs a VJP rule that runs on traced values.
A tangent of a real value is real (the real part, in JAX's convention for complex intermediates).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from autodiff_ref.api import Recording, as_gradient
from autodiff_ref.arrays import ones_like
from autodiff_ref.tensor import Node, Tape, Tensor, plain, real_if_real


def inner(vectors: Sequence[Any], directions: Sequence[Any]) -> Any:
    """sum_k sum(vectors[k] * directions[k]), without conjugation (plain 0 when there are none)."""
    total: Any = 0
    for a, d in zip(vectors, directions, strict=True):
        total = total + np.sum(a * d)
    return total


def zeros_like_value(value: Any) -> np.ndarray:
    """Zeros of value's shape and kind (mpmath zeros for object arrays, so later element methods exist)."""
    value = np.asarray(plain(value))
    if value.dtype.kind != "O" or not value.size:
        return np.zeros(value.shape, dtype=value.dtype)
    return np.full(value.shape, value.flat[0] * 0, dtype=object)


def transposed_tangent(node: Node, tangents: dict[int, Any]) -> Any:
    """The node's tangent from its VJP rules: the gradient of sum_i <vjp_i(u), t_i> with respect to u."""
    outer = Tape()  # newer than every trace the node's values belong to
    u = outer.leaf(zeros_like_value(node.value), node.location)
    rules = [node.primitive.vjp_maker(i, node.location)(node.value, *node.args, **node.kwargs) for i in tangents]
    total = inner([rule(u) for rule in rules], list(tangents.values()))
    (tangent,) = Recording(outer, [u.node], total).backward(ones_like(total))
    return tangent


def node_tangent(node: Node, tangents: dict[int, Any]) -> Any:
    """The tangent of node's output, given the tangents of its traced arguments (by position)."""
    op = node.primitive
    if all(i in op.jvp_makers for i in tangents):
        parts = [op.jvp_makers[i](node.value, *node.args, **node.kwargs)(t) for i, t in tangents.items()]
        return total_of(parts)
    if op.linear:
        args = [tangents[i] if i in tangents else zeros_like_value(a) if op.differentiable(i) else a
                for i, a in enumerate(node.args)]
        return op(*args, **node.kwargs)
    return transposed_tangent(node, tangents)


def total_of(parts: Sequence[Any]) -> Any:
    total = parts[0]
    for part in parts[1:]:
        total = total + part
    return total


def push_tangents(recording: Recording, tangents: Sequence[Any]) -> Any:
    """The output tangent of a recording for one tangent per leaf, shaped and typed like the output."""
    known: dict[Node, Any] = dict(zip(recording.leaves, tangents, strict=True))
    for node in recording.nodes:
        if node.primitive is None:
            continue
        given = {i: known[parent] for i, parent in node.parents if parent in known}
        if given:
            known[node] = real_if_real(node_tangent(node, given), node.value)
    output = recording.output
    tangent = known.get(output.node) if recording.traced and isinstance(output, Tensor) else None
    return as_gradient(tangent, recording.value)

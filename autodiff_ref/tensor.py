"""Tensors, tape nodes, primitives and the reverse pass.

A `Tensor` wraps a numpy array (float64, float32 or an object array of mpmath numbers) and the tape `Node`
that produced it. Calling a `Primitive` on tensors computes the forward value on the plain arrays and records
one node: the op's name, its inputs and output, its VJP makers and the user's source line. The reverse pass
walks the nodes reachable from the output in reverse topological order (an iterative sort that counts
children, so deep graphs never hit the recursion limit) and accumulates gradients where a value fans out.
"""

from __future__ import annotations

import itertools
import os
import sys
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

VJPMaker = Callable[..., Callable[[Any], Any]]

_LEVELS = itertools.count()  # nesting levels of tapes: increasing, so the newest trace is the innermost

_SKIPPED_DIRS = (os.path.dirname(os.path.abspath(__file__)), os.path.dirname(os.path.abspath(np.__file__)))


class AutodiffError(TypeError):
    """Raised for anything the engine cannot differentiate; never replaced by a silent wrong gradient."""


def source_location() -> str:
    """file:line of the innermost caller outside autodiff_ref and numpy (the user's line that made the op)."""
    frame = sys._getframe(1)
    while frame is not None and frame.f_code.co_filename.startswith(_SKIPPED_DIRS):
        frame = frame.f_back
    if frame is None:
        return "<unknown>"
    return f"{frame.f_code.co_filename}:{frame.f_lineno}"


class Primitive:
    """An op with a numpy-level forward `fn(*args, **kwargs)` and one VJP maker per differentiable argument.

    A maker is `maker(ans, *args, **kwargs) -> (g -> gradient with respect to that argument)`, the
    convention of HIPS autograd. Called without tensors, a primitive is just its forward function.
    """

    def __init__(self, fn: Callable[..., Any], name: str | None = None, *, elementwise: bool = False,
                 complex_inputs: bool = True) -> None:
        self.fn = fn
        self.name = name or getattr(fn, "__name__", repr(fn))
        # False: traced complex arguments are refused (the engine's ops where complex is not meaningful: kinks,
        # orderings, real-only formulas); a custom primitive's rules are its author's, so it accepts them.
        self.complex_inputs = complex_inputs
        # Each output element depends only on the same-index element of each (broadcast) input, so its
        # Jacobian with respect to a same-shape argument is diagonal: per-op checks use that.
        self.elementwise = elementwise
        self.makers: dict[int, VJPMaker] = {}
        self.any_argnum_maker: Callable[..., Callable[[Any], Any]] | None = None
        self.__doc__ = getattr(fn, "__doc__", None)
        self.__wrapped__ = fn

    def defvjp(self, *makers: VJPMaker | None) -> Primitive:
        """Give one VJP maker per positional argument (None for a non-differentiable argument)."""
        for argnum, maker in enumerate(makers):
            if maker is not None:
                if not callable(maker):
                    raise TypeError(f"defvjp for {self.name!r}: maker {argnum} must be callable, got {maker!r}")
                self.makers[argnum] = maker
        return self

    def defvjp_argnum(self, maker: Callable[..., Callable[[Any], Any]]) -> Primitive:
        """One maker for every argument: `maker(argnum, ans, *args, **kwargs)` (variadic ops like concatenate)."""
        self.any_argnum_maker = maker
        return self

    def vjp_maker(self, argnum: int, location: str) -> Callable[..., Callable[[Any], Any]]:
        if argnum in self.makers:
            return self.makers[argnum]
        if self.any_argnum_maker is not None:
            general = self.any_argnum_maker
            return lambda ans, *args, **kwargs: general(argnum, ans, *args, **kwargs)
        raise AutodiffError(
            f"no VJP rule for argument {argnum} of op {self.name!r} (called at {location}); "
            f"define one with {self.name}.defvjp(...) or pass that argument as a constant"
        )

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        """Record on the innermost trace among the arguments' tapes. The values unboxed from that trace may be
        tensors of outer traces: the forward value is this op called again on them (recorded on the outer tape),
        so that a gradient computed from this node's values is itself differentiable (nested differentiation)."""
        tapes = {a.tape for a in args if isinstance(a, Tensor)}
        if not tapes:
            return self.fn(*args, **kwargs)
        for key, value in kwargs.items():
            if isinstance(value, Tensor):
                raise AutodiffError(f"op {self.name!r}: traced value passed as keyword {key!r}; pass it positionally")
        if not self.complex_inputs and any(is_complex(a) for a in args if isinstance(a, Tensor)):
            raise AutodiffError(f"op {self.name!r} is not differentiable on complex inputs (it orders values, has "
                                "a kink or a real-only formula); differentiate np.real/np.imag/np.abs of them")
        tape = max(tapes, key=lambda t: t.level)
        mine = [isinstance(a, Tensor) and a.tape is tape for a in args]
        values = tuple(a.value if own else a for a, own in zip(args, mine, strict=True))
        ans = self(*values, **kwargs)
        ans = ans if isinstance(ans, Tensor) else np.asarray(ans)
        parents = tuple((i, a.node) for i, (a, own) in enumerate(zip(args, mine, strict=True)) if own)
        node = Node(tape, self, values, kwargs, parents, ans, source_location())
        return Tensor(node)

    def __repr__(self) -> str:
        return f"<autodiff_ref primitive {self.name}>"


def primitive(fn: Callable[..., Any] | None = None, *, elementwise: bool = False) -> Any:
    """Decorator: make `fn` an op of its own; give its backward with `fn.defvjp(maker_0, maker_1, ...)`.

    `@primitive(elementwise=True)` declares that each output element depends only on the same-index input
    elements (like a ufunc), which lets per-op checks verify every element with one directional derivative.
    """
    if fn is None:
        return lambda f: Primitive(f, elementwise=elementwise)
    return Primitive(fn, elementwise=elementwise)


def unbox(x: Any) -> Any:
    """The plain value of a tensor (of every trace it is nested in); lists and tuples element by element."""
    if isinstance(x, Tensor):
        return plain(x)
    if isinstance(x, list | tuple):
        return type(x)(unbox(item) for item in x)
    return x


def is_complex(x: Any) -> bool:
    """Whether x's untraced value is complex: a complex dtype, or an object array holding mpmath mpc numbers."""
    value = np.asarray(plain(x)) if not isinstance(plain(x), np.ndarray) else plain(x)
    if value.dtype.kind == "c":
        return True
    return value.dtype.kind == "O" and any(isinstance(getattr(e, "_mpc_", None), tuple) for e in value.flat)


def real_part(x: Any) -> Any:
    """The real part: recorded (np.real) on a tensor, element by element (`.real`) on an object array."""
    if isinstance(x, Tensor):
        return np.real(x)
    x = np.asarray(x)
    if x.dtype.kind != "O":
        return np.real(x)
    return np.asarray(_OBJECT_REAL(x), dtype=object) if x.ndim else np.asarray(_OBJECT_REAL(x[()]), dtype=object)


_OBJECT_REAL = np.frompyfunc(lambda e: e.real, 1, 1)


def plain(x: Any) -> Any:
    """The untraced value under a tensor of any nesting depth (x itself when it is not a tensor)."""
    while isinstance(x, Tensor):
        x = x.node.value
    return x


class Node:
    """One recorded op: what ran, on what, with what result, called from where."""

    __slots__ = ("args", "index", "kwargs", "location", "parents", "primitive", "tape", "value")

    def __init__(
        self,
        tape: Tape,
        prim: Primitive | None,
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
        parents: tuple[tuple[int, Node], ...],
        value: np.ndarray,
        location: str,
    ) -> None:
        self.tape, self.primitive, self.args, self.kwargs = tape, prim, args, kwargs
        self.parents, self.value, self.location = parents, value, location
        self.index = len(tape.nodes)
        tape.nodes.append(self)

    @property
    def name(self) -> str:
        return "input" if self.primitive is None else self.primitive.name

    def __repr__(self) -> str:
        return f"<Node {self.index} {self.name} {self.value.shape} at {self.location}>"


class Tape:
    """The nodes recorded while tracing one call, in recording order (which is a topological order).

    `level` orders nested traces: a tape made later (an inner `grad` inside an outer one) has a higher level, and
    an op on tensors of several traces records on the highest (innermost) one.
    """

    def __init__(self) -> None:
        self.nodes: list[Node] = []
        self.level = next(_LEVELS)

    def leaf(self, value: np.ndarray, location: str) -> Tensor:
        return Tensor(Node(self, None, (), {}, (), value, location))


class Tensor:
    """A traced array. Arithmetic, indexing and numpy calls on it are recorded on its tape."""

    __slots__ = ("node",)
    __array_priority__ = 100.0  # above ndarray, so mixed binary operators defer to the tensor

    def __init__(self, node: Node) -> None:
        self.node = node

    @property
    def value(self) -> np.ndarray:
        return self.node.value

    @property
    def tape(self) -> Tape:
        return self.node.tape

    shape = property(lambda self: self.value.shape)
    ndim = property(lambda self: self.value.ndim)
    size = property(lambda self: self.value.size)
    dtype = property(lambda self: self.value.dtype)
    T = property(lambda self: np.transpose(self))
    real = property(lambda self: np.real(self))
    imag = property(lambda self: np.imag(self))

    def __array_ufunc__(self, ufunc: np.ufunc, method: str, *inputs: Any, **kwargs: Any) -> Any:
        from autodiff_ref import numpy_bridge

        return numpy_bridge.dispatch_ufunc(ufunc, method, inputs, kwargs)

    def __array_function__(self, func: Any, types: Any, args: Any, kwargs: Any) -> Any:
        from autodiff_ref import numpy_bridge

        return numpy_bridge.dispatch_function(func, args, kwargs)

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        raise AutodiffError(
            "a traced Tensor was converted to a plain numpy array (np.asarray/np.array or a C extension), "
            "which would silently drop its gradient; use numpy functions on it directly"
        )

    def __float__(self) -> float:
        raise AutodiffError("float() of a traced Tensor would silently drop its gradient")

    def __setitem__(self, key: Any, value: Any) -> None:
        raise AutodiffError("in-place assignment into a traced Tensor is not supported; build the array with "
                            "np.where, np.concatenate or np.stack instead")

    def __getitem__(self, key: Any) -> Tensor:
        from autodiff_ref.primitives import getitem

        return getitem(self, key)

    def __len__(self) -> int:
        return len(self.value)

    def __iter__(self):
        return (self[i] for i in range(len(self)))

    def __bool__(self) -> bool:
        return bool(self.value)

    def __repr__(self) -> str:
        return f"Tensor({self.value!r}, op={self.node.name!r})"

    # Operators route through numpy so there is exactly one dispatch path.
    __add__ = lambda self, other: np.add(self, other)  # noqa: E731
    __radd__ = lambda self, other: np.add(other, self)  # noqa: E731
    __sub__ = lambda self, other: np.subtract(self, other)  # noqa: E731
    __rsub__ = lambda self, other: np.subtract(other, self)  # noqa: E731
    __mul__ = lambda self, other: np.multiply(self, other)  # noqa: E731
    __rmul__ = lambda self, other: np.multiply(other, self)  # noqa: E731
    __truediv__ = lambda self, other: np.divide(self, other)  # noqa: E731
    __rtruediv__ = lambda self, other: np.divide(other, self)  # noqa: E731
    __pow__ = lambda self, other: np.power(self, other)  # noqa: E731
    __rpow__ = lambda self, other: np.power(other, self)  # noqa: E731
    __matmul__ = lambda self, other: np.matmul(self, other)  # noqa: E731
    __rmatmul__ = lambda self, other: np.matmul(other, self)  # noqa: E731
    __neg__ = lambda self: np.negative(self)  # noqa: E731
    __pos__ = lambda self: self  # noqa: E731
    __abs__ = lambda self: np.absolute(self)  # noqa: E731
    __lt__ = lambda self, other: np.less(self, other)  # noqa: E731
    __le__ = lambda self, other: np.less_equal(self, other)  # noqa: E731
    __gt__ = lambda self, other: np.greater(self, other)  # noqa: E731
    __ge__ = lambda self, other: np.greater_equal(self, other)  # noqa: E731
    __eq__ = lambda self, other: np.equal(self, other)  # noqa: E731
    __ne__ = lambda self, other: np.not_equal(self, other)  # noqa: E731
    __hash__ = None  # type: ignore[assignment]

    def sum(self, axis: Any = None, keepdims: bool = False) -> Tensor:
        return np.sum(self, axis=axis, keepdims=keepdims)

    def mean(self, axis: Any = None, keepdims: bool = False) -> Tensor:
        return np.mean(self, axis=axis, keepdims=keepdims)

    def max(self, axis: Any = None, keepdims: bool = False) -> Tensor:
        return np.max(self, axis=axis, keepdims=keepdims)

    def min(self, axis: Any = None, keepdims: bool = False) -> Tensor:
        return np.min(self, axis=axis, keepdims=keepdims)

    def reshape(self, *shape: Any) -> Tensor:
        return np.reshape(self, shape[0] if len(shape) == 1 else shape)

    def transpose(self, *axes: Any) -> Tensor:
        return np.transpose(self, (axes[0] if len(axes) == 1 else axes) or None)

    def swapaxes(self, axis1: int, axis2: int) -> Tensor:
        return np.swapaxes(self, axis1, axis2)

    def ravel(self) -> Tensor:
        return np.ravel(self)

    def dot(self, other: Any) -> Tensor:
        return np.dot(self, other)

    def conj(self) -> Tensor:
        return np.conjugate(self)

    conjugate = conj


def toposort(output: Node) -> list[Node]:
    """Nodes reachable from `output`, each after every node that consumes it (children counted, no recursion)."""
    children: dict[Node, int] = {output: 0}
    stack = [output]
    while stack:
        node = stack.pop()
        for _, parent in node.parents:
            if parent not in children:
                children[parent] = 0
                stack.append(parent)
            children[parent] += 1
    order, ready = [], [output]
    while ready:
        node = ready.pop()
        order.append(node)
        for _, parent in node.parents:
            children[parent] -= 1
            if children[parent] == 0:
                ready.append(parent)
    return order


def backward(output: Node, cotangent: Any, leaves: Sequence[Node]) -> list[Any]:
    """Gradients of <cotangent, output> with respect to each leaf (None for a leaf the output does not reach)."""
    grads: dict[Node, Any] = {output: cotangent}
    for node in toposort(output):
        g = grads[node]
        if node.primitive is None:
            continue
        for argnum, parent in node.parents:
            maker = node.primitive.vjp_maker(argnum, node.location)
            contribution = maker(node.value, *node.args, **node.kwargs)(g)
            if is_complex(contribution) and not is_complex(parent.value):  # a real argument: d/dx of Re(...)
                contribution = real_part(contribution)
            _check_vjp_shape(node, argnum, parent, contribution)
            grads[parent] = contribution if parent not in grads else grads[parent] + contribution
        del grads[node]
    return [grads.get(leaf) for leaf in leaves]


def _check_vjp_shape(node: Node, argnum: int, parent: Node, contribution: Any) -> None:
    if np.shape(contribution) != parent.value.shape:
        raise AutodiffError(
            f"VJP of op {node.name!r} (called at {node.location}) for argument {argnum} returned shape "
            f"{np.shape(contribution)}, expected {parent.value.shape} (the argument's shape)"
        )

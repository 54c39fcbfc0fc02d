"""Random expression graphs over autodiff_ref's smooth primitives, and the same graphs with one planted VJP bug.

A `Graph` is a small program: inputs, then steps that each call exactly one primitive on earlier values (any
earlier value, so a value often feeds several steps: fan-out), then the sum of every value no step consumed.
Shapes stay small (sides <= 4, at most 12 elements) so that 40-digit evaluation stays cheap.

Every value carries an interval that contains it for all inputs in [-1, 1] (interval arithmetic, checked
when the step is drawn): an op is only drawn where it is smooth and well conditioned (log, sqrt, reciprocal
and division only on values >= 0.25, exp only below 2.5, every value bounded by 60), so no point is near a
kink or a pole. Non-smooth primitives (abs, maximum, minimum, max/min reductions, clip, where) are left out
on purpose: their verdicts at ties are covered by the per-op and nondifferentiable tests.

`run(graph, args, plant)` evaluates the graph with plain numpy calls (so the engine's numpy dispatch is what
gets traced); with a `Plant`, the chosen step instead calls a custom primitive with the same forward as the
engine's op and the engine's VJP plus DELTA * g[j] at one element i of one input (one Jacobian entry off by
DELTA). An additive bug is visible wherever the op is, unlike a relative one, which vanishes where the true
Jacobian entry is 0 (cos at 0, square at 0, a product with a zero factor).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from hypothesis import strategies as st

import autodiff_ref
from autodiff_ref import primitives as P
from pytest_gradcheck.strategies import well_scaled_arrays

MAX_SIDE = 4
MAX_ELEMENTS = 12
MAX_MAGNITUDE = 60.0  # every value stays within [-60, 60]
POSITIVE = 0.25  # log, sqrt, reciprocal and denominators only on values >= this
EXP_LIMIT = 2.5  # exp and expm1 only on values <= this
HYPERBOLIC_LIMIT = 3.0  # sinh and cosh only on |values| <= this
POSITIVE_INPUTS = (0.25, 1.5)  # the range of inputs drawn positive
DELTA = 1e-6  # the planted bug: one Jacobian entry off by this much
# No input is smaller than this in magnitude, not even 0 (strict xfails in test_fuzz_graphs.py): at x ~ 1e-100
# x**3 is inconclusive at 40 digits, and at x = 0 the reference of sum(x - mean(x)) is -1.3e-41 +- 8.9e-79, so
# its exact gradient 0 fails. Lower it to 0 when those tests XPASS.
TINY = 1e-6

Interval = tuple[float, float]


@dataclass(frozen=True)
class Op:
    """One primitive: how to call it with numpy and as a Primitive, where it is allowed, what it returns."""

    name: str
    arity: int
    primitive: autodiff_ref.Primitive  # the engine's own op: its forward and VJP rule
    numpy_call: Callable[..., Any]  # (operands, param) -> value, written as user code would
    primitive_call: Callable[..., Any]  # (prim, operands, param) -> value, the same call on a Primitive
    params: tuple[Any, ...] = (None,)  # the constant parameter choices (axis, exponent, ...)
    # (shapes, intervals, param) -> (shape, interval) of the result, or None where the op is not allowed
    rule: Callable[..., tuple[tuple[int, ...], Interval] | None] = lambda shapes, intervals, param: None


def _hull(*values: float) -> Interval:
    return min(values), max(values)


def _monotone(fn: Callable[[float], float]) -> Callable[[Interval], Interval]:
    return lambda i: _hull(fn(i[0]), fn(i[1]))


def _product(a: Interval, b: Interval) -> Interval:
    return _hull(a[0] * b[0], a[0] * b[1], a[1] * b[0], a[1] * b[1])


def _square(i: Interval) -> Interval:
    low = 0.0 if i[0] <= 0 <= i[1] else min(i[0] ** 2, i[1] ** 2)
    return low, max(i[0] ** 2, i[1] ** 2)


def _cosh(i: Interval) -> Interval:
    low = 1.0 if i[0] <= 0 <= i[1] else min(math.cosh(i[0]), math.cosh(i[1]))
    return low, max(math.cosh(i[0]), math.cosh(i[1]))


def _unary(name: str, prim: Any, numpy_fn: Callable[..., Any], image: Callable[[Interval], Interval],
           allowed: Callable[[Interval], bool] = lambda i: True) -> Op:
    def rule(shapes: Any, intervals: Any, param: Any) -> Any:
        return (shapes[0], image(intervals[0])) if allowed(intervals[0]) else None

    return Op(name, 1, prim, lambda xs, c: numpy_fn(xs[0]), lambda prim, xs, c: prim(xs[0]), rule=rule)


def _with_constant(name: str, prim: Any, numpy_fn: Callable[..., Any], constants: tuple[float, ...],
                   image: Callable[[Interval, float], Interval],
                   allowed: Callable[[Interval, float], bool] = lambda i, c: True) -> Op:
    """x op c with a Python float c: only x is traced."""

    def rule(shapes: Any, intervals: Any, c: float) -> Any:
        return (shapes[0], image(intervals[0], c)) if allowed(intervals[0], c) else None

    return Op(name, 1, prim, lambda xs, c: numpy_fn(xs[0], c), lambda prim, xs, c: prim(xs[0], c),
              params=constants, rule=rule)


def _broadcast(shapes: Any) -> tuple[int, ...] | None:
    try:
        shape = np.broadcast_shapes(*shapes)
    except ValueError:
        return None
    return shape if len(shape) <= 2 and math.prod(shape) <= MAX_ELEMENTS else None


def _binary(name: str, prim: Any, numpy_fn: Callable[..., Any], image: Callable[[Interval, Interval], Interval],
            allowed: Callable[[Interval, Interval], bool] = lambda a, b: True) -> Op:
    def rule(shapes: Any, intervals: Any, param: Any) -> Any:
        shape = _broadcast(shapes)
        if shape is None or not allowed(*intervals):
            return None
        return shape, image(*intervals)

    return Op(name, 2, prim, lambda xs, c: numpy_fn(xs[0], xs[1]), lambda prim, xs, c: prim(xs[0], xs[1]),
              rule=rule)


def _power_image(x: Interval, y: Interval) -> Interval:
    return _hull(*(a**b for a in x for b in y))  # x > 0: x^y is monotone in each argument


def _reduction(name: str, prim: Any, numpy_fn: Callable[..., Any], mean: bool) -> Op:
    """sum or mean over no axis or one axis, with or without keepdims; params are (axis, keepdims)."""

    def rule(shapes: Any, intervals: Any, param: Any) -> Any:
        (shape,), (interval,) = shapes, intervals
        axis, keepdims = param
        if axis is not None and axis >= len(shape):
            return None
        axes = range(len(shape)) if axis is None else (axis,)
        count = math.prod(shape[a] for a in axes)
        out = tuple(1 if a in axes else n for a, n in enumerate(shape)) if keepdims else tuple(
            n for a, n in enumerate(shape) if a not in axes)
        return out, (interval if mean else (count * interval[0], count * interval[1]))

    return Op(name, 1, prim, lambda xs, c: numpy_fn(xs[0], axis=c[0], keepdims=c[1]),
              lambda prim, xs, c: prim(xs[0], axis=c[0], keepdims=c[1]),
              params=tuple((axis, keep) for axis in (None, 0, 1) for keep in (False, True)), rule=rule)


def _matmul_rule(shapes: Any, intervals: Any, param: Any) -> Any:
    (a, b), (ia, ib) = shapes, intervals
    if len(a) != 2 or len(b) not in (1, 2) or a[1] != b[0]:
        return None
    out = (a[0],) if len(b) == 1 else (a[0], b[1])
    if math.prod(out) > MAX_ELEMENTS:
        return None
    p = _product(ia, ib)
    return out, (a[1] * p[0], a[1] * p[1])


def _transpose_rule(shapes: Any, intervals: Any, param: Any) -> Any:
    return (shapes[0][::-1], intervals[0]) if len(shapes[0]) == 2 else None


def _ravel_rule(shapes: Any, intervals: Any, param: Any) -> Any:
    return ((math.prod(shapes[0]),), intervals[0]) if len(shapes[0]) >= 1 else None


def _first_row_rule(shapes: Any, intervals: Any, param: Any) -> Any:
    return (shapes[0][1:], intervals[0]) if len(shapes[0]) >= 1 else None


def _positive(i: Interval) -> bool:
    return i[0] >= POSITIVE


OPS: tuple[Op, ...] = (
    _unary("tanh", P.tanh, np.tanh, _monotone(math.tanh)),
    _unary("sin", P.sin, np.sin, lambda i: (-1.0, 1.0)),
    _unary("cos", P.cos, np.cos, lambda i: (-1.0, 1.0)),
    _unary("arctan", P.arctan, np.arctan, _monotone(math.atan)),
    _unary("sigmoid", autodiff_ref.sigmoid, autodiff_ref.sigmoid, _monotone(lambda x: 1 / (1 + math.exp(-x)))),
    _unary("exp", P.exp, np.exp, _monotone(math.exp), lambda i: i[1] <= EXP_LIMIT),
    _unary("expm1", P.expm1, np.expm1, _monotone(math.expm1), lambda i: i[1] <= EXP_LIMIT),
    _unary("log", P.log, np.log, _monotone(math.log), _positive),
    _unary("log1p", P.log1p, np.log1p, _monotone(math.log1p), lambda i: i[0] >= POSITIVE - 1),
    _unary("sqrt", P.sqrt, np.sqrt, _monotone(math.sqrt), _positive),
    _unary("reciprocal", P.reciprocal, np.reciprocal, _monotone(lambda x: 1 / x), _positive),
    _unary("square", P.square, np.square, _square),
    _unary("negative", P.negative, np.negative, lambda i: (-i[1], -i[0])),
    _unary("sinh", P.sinh, np.sinh, _monotone(math.sinh), lambda i: max(map(abs, i)) <= HYPERBOLIC_LIMIT),
    _unary("cosh", P.cosh, np.cosh, _cosh, lambda i: max(map(abs, i)) <= HYPERBOLIC_LIMIT),
    _with_constant("multiply", P.multiply, lambda x, c: x * c, (0.5, -1.5, 2.0), lambda i, c: _product(i, (c, c))),
    _with_constant("add", P.add, lambda x, c: x + c, (0.75, 1.5, -0.5), lambda i, c: (i[0] + c, i[1] + c)),
    _with_constant("power", P.power, lambda x, c: x**c, (2.0, 3.0, 1.5, -0.5),
                   lambda i, c: _square(i) if c == 2 else _monotone(lambda x: x**c)(i),
                   lambda i, c: c in (2.0, 3.0) or _positive(i)),
    _binary("add", P.add, np.add, lambda a, b: (a[0] + b[0], a[1] + b[1])),
    _binary("subtract", P.subtract, np.subtract, lambda a, b: (a[0] - b[1], a[1] - b[0])),
    _binary("multiply", P.multiply, np.multiply, _product),
    _binary("divide", P.divide, np.divide, lambda a, b: _product(a, (1 / b[1], 1 / b[0])), lambda a, b: _positive(b)),
    _binary("power", P.power, np.power, _power_image, lambda a, b: _positive(a) and max(map(abs, b)) <= 2),
    _reduction("sum", P.sum_, np.sum, mean=False),
    _reduction("mean", P.mean, np.mean, mean=True),
    Op("matmul", 2, P.matmul, lambda xs, c: xs[0] @ xs[1], lambda prim, xs, c: prim(xs[0], xs[1]), rule=_matmul_rule),
    Op("transpose", 1, P.transpose, lambda xs, c: xs[0].T, lambda prim, xs, c: prim(xs[0], None),
       rule=_transpose_rule),
    Op("reshape", 1, P.reshape, lambda xs, c: np.reshape(xs[0], (-1,)), lambda prim, xs, c: prim(xs[0], (-1,)),
       rule=_ravel_rule),
    Op("getitem", 1, P.getitem, lambda xs, c: xs[0][0], lambda prim, xs, c: prim(xs[0], 0), rule=_first_row_rule),
)


@dataclass(frozen=True)
class Step:
    op: Op
    operands: tuple[int, ...]  # indices of earlier values (inputs first, then step results)
    param: Any
    shape: tuple[int, ...]
    interval: Interval

    def __repr__(self) -> str:
        param = "" if self.param is None else f", {self.param!r}"
        return f"{self.op.name}({', '.join(f'v{i}' for i in self.operands)}{param}) -> {self.shape}"


@dataclass(frozen=True)
class Graph:
    input_shapes: tuple[tuple[int, ...], ...]
    positive: tuple[bool, ...]  # inputs in [0.25, 1.5] instead of [-1, 1]
    steps: tuple[Step, ...]

    @property
    def sinks(self) -> tuple[int, ...]:
        """Values no step consumes (the last one always among them): their sums make the output."""
        used = {i for step in self.steps for i in step.operands}
        return tuple(i for i in range(len(self.input_shapes) + len(self.steps)) if i not in used)

    @property
    def fans_out(self) -> bool:
        """Some value feeds two or more operand slots (x * x counts): its gradient is a sum of contributions."""
        uses = [i for step in self.steps for i in step.operands]
        return len(uses) != len(set(uses))

    def shape_of(self, value: int) -> tuple[int, ...]:
        n = len(self.input_shapes)
        return self.input_shapes[value] if value < n else self.steps[value - n].shape

    def __repr__(self) -> str:
        n = len(self.input_shapes)
        lines = [f"v{i} = input {s}{' > 0' if p else ''}" for i, (s, p) in
                 enumerate(zip(self.input_shapes, self.positive, strict=True))]
        lines += [f"v{n + k} = {step!r}" for k, step in enumerate(self.steps)]
        return "Graph(" + "; ".join(lines) + f"; output = sum of the sums of v{self.sinks})"

    @property
    def output_ops(self) -> int:
        """Ops that join the sinks into the output: a sum per sink and the adds between them."""
        return 2 * len(self.sinks) - 1


@dataclass(frozen=True)
class Plant:
    """A bug in step `step`'s VJP for its operand `operand`: Jacobian entry (output j, element i) off by DELTA."""

    step: int
    operand: int
    element: tuple[int, ...]  # i, an index into that operand

    @property
    def name(self) -> str:
        return f"planted_{self.step}"


def _output_index(out_shape: tuple[int, ...], in_shape: tuple[int, ...], element: tuple[int, ...],
                  elementwise: bool) -> tuple[int, ...]:
    """j for the planted entry: for an elementwise op the output element that input element i broadcasts to
    (so the Jacobian keeps the diagonal structure the op declares), else the first output element."""
    if not elementwise:
        return (0,) * len(out_shape)
    return (0,) * (len(out_shape) - len(in_shape)) + tuple(element)  # a broadcast side of 1 has index 0 already


def planted_primitive(op: Op, plant: Plant) -> autodiff_ref.Primitive:
    """The engine's op with one wrong Jacobian entry in the VJP for operand `plant.operand`."""
    engine = op.primitive

    def maker(argnum: int, ans: Any, *args: Any, **kwargs: Any) -> Callable[[Any], Any]:
        right = engine.vjp_maker(argnum, "<planted>")(ans, *args, **kwargs)
        if argnum != plant.operand:
            return right

        def wrong(g: Any) -> Any:
            out = np.array(right(g), copy=True)  # the engine may return g itself: never write into it
            j = _output_index(np.shape(ans), np.shape(args[argnum]), plant.element, engine.elementwise)
            out[plant.element] = out[plant.element] + np.asarray(g)[j] * DELTA
            return out

        return wrong

    return autodiff_ref.Primitive(engine.fn, plant.name, elementwise=engine.elementwise).defvjp_argnum(maker)


def run(graph: Graph, args: tuple[Any, ...], plant: Plant | None = None) -> Any:
    """The graph's scalar output at `args` (float64, high-precision or traced values alike)."""
    values = list(args)
    buggy = None if plant is None else planted_primitive(graph.steps[plant.step].op, plant)
    for k, step in enumerate(graph.steps):
        operands = [values[i] for i in step.operands]
        if plant is not None and k == plant.step:
            values.append(step.op.primitive_call(buggy, operands, step.param))
        else:
            values.append(step.op.numpy_call(operands, step.param))
    total = None
    for i in graph.sinks:
        term = np.sum(values[i])
        total = term if total is None else total + term
    return total


def function_of(graph: Graph, plant: Plant | None = None) -> Callable[..., Any]:
    """f(*args) for check_grad."""

    def f(*args: Any) -> Any:
        return run(graph, args, plant)

    f.__qualname__ = f.__name__ = "random_graph" if plant is None else "planted_graph"
    return f


# ----- strategies ---------------------------------------------------------------------------------------------


@st.composite
def input_shapes(draw: st.DrawFn) -> tuple[tuple[int, ...], ...]:
    """1-3 input shapes built from two sides a, b, so that broadcasting and matmul partners come up often."""
    a = draw(st.integers(1, MAX_SIDE))
    b = draw(st.integers(1, min(MAX_SIDE, MAX_ELEMENTS // a)))
    pool = [(a, b), (b,), (a, 1), (1, b), (b, a), (a,), ()]
    return tuple(draw(st.lists(st.sampled_from(pool), min_size=1, max_size=3)))


def _kind(op: Op) -> str:
    if op.arity == 2:
        return "binary"
    return "unary" if op.params == (None,) and op.name not in ("transpose", "reshape", "getitem") else "other"


def _allowed(op: Op, param: Any, values: list[tuple[tuple[int, ...], Interval]], operands: list[int]) -> Any:
    found = op.rule([values[i][0] for i in operands], [values[i][1] for i in operands], param)
    return found if found is not None and max(map(abs, found[1])) <= MAX_MAGNITUDE else None


@st.composite
def graphs(draw: st.DrawFn, max_steps: int = 6) -> Graph:
    """Inputs (each in [-1, 1] or, to reach log, sqrt and division, in [0.25, 1.5]), then 2..max_steps steps:
    a kind of op (unary, binary with broadcasting, other: constants, reductions, shapes), one allowed op of it
    on a drawn earlier value and, for a binary op, any earlier value that fits (often itself: fan-out)."""
    shapes = draw(input_shapes())
    positive = draw(st.lists(st.booleans(), min_size=len(shapes), max_size=len(shapes)))
    values = [(s, POSITIVE_INPUTS if p else (-1.0, 1.0)) for s, p in zip(shapes, positive, strict=True)]
    steps: list[Step] = []
    for _ in range(draw(st.integers(2, max_steps))):
        first = draw(st.integers(0, len(values) - 1))
        choices: dict[str, dict[Op, list[tuple[Any, list[list[int]]]]]] = {}  # kind -> op -> (param, operands)
        for op in OPS:
            for param in op.params:
                partners = [[first]] if op.arity == 1 else [[first, i] for i in range(len(values))]
                fits = [operands for operands in partners if _allowed(op, param, values, operands)]
                if fits:
                    choices.setdefault(_kind(op), {}).setdefault(op, []).append((param, fits))
        ops = choices[draw(st.sampled_from(sorted(choices)))]  # tanh always fits: there is always a choice
        op = draw(st.sampled_from(list(ops)))
        param, fits = draw(st.sampled_from(ops[op]))
        operands = draw(st.sampled_from(fits))
        found = _allowed(op, param, values, operands)
        steps.append(Step(op, tuple(operands), param, *found))
        values.append(found)
    return Graph(tuple(shapes), tuple(positive), tuple(steps))


def arguments(graph: Graph) -> st.SearchStrategy[tuple[np.ndarray, ...]]:
    """One array per input, from the package's own strategy: in [-1, 1] with every element at least TINY in
    magnitude, or mapped to [0.25, 1.5]."""
    low, high = POSITIVE_INPUTS
    return st.tuples(*(
        well_scaled_arrays(shape, scale=1.0).map(lambda a: np.asarray((low + high) / 2 + (high - low) / 2 * a))
        if positive else well_scaled_arrays(shape, scale=1.0, min_magnitude=TINY)
        for shape, positive in zip(graph.input_shapes, graph.positive, strict=True)))


@st.composite
def plants(draw: st.DrawFn, graph: Graph) -> Plant:
    step = draw(st.integers(0, len(graph.steps) - 1))
    operand = draw(st.integers(0, graph.steps[step].op.arity - 1))
    shape = graph.shape_of(graph.steps[step].operands[operand])
    flat = draw(st.integers(0, max(math.prod(shape), 1) - 1))
    return Plant(step, operand, tuple(int(k) for k in np.unravel_index(flat, shape)))

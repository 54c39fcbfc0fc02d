"""The gradient test case of every engine op, declared once: each sweep over the ops reads this table.

A `Case` names the op it tests (`op`: the name of a primitive or composite of autodiff_ref), a representative
call `f`, the argument shapes and a range [low, high) where f is smooth, and for elementwise ops the exact partial
derivatives (mpmath, one per argument, as functions of the scalar arguments) that the 40-digit test compares
with. Python-scalar constants inside the functions test weak dtype promotion. test_registry.py fails when an
op has no case or a case names no op; `builtin_ops()` enumerates the ops from the engine's modules.
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

import autodiff_ref
from autodiff_ref import functions, primitives
from autodiff_ref.registration import Composite
from pytest_gradcheck.hp.precision import context

HP = context(40)  # the 40-digit context the exact partials are evaluated in
A, B, V = (2, 3), (3,), (4,)


@dataclass(frozen=True)
class Case:
    op: str
    f: Callable[..., Any]
    shapes: tuple[tuple[int, ...], ...]
    low: float
    high: float
    partials: tuple[Callable[..., Any], ...] | None = None  # elementwise ops: d f / d argument i, exactly


def builtin_ops() -> dict[str, Any]:
    """name -> op, for every primitive and composite the engine itself defines."""
    return {v.name: v for module in (primitives, functions) for v in vars(module).values()
            if isinstance(v, autodiff_ref.Primitive | Composite)}


def _sign(x):
    return (x > 0) - (x < 0)


def _one(*args):
    return 1


def _sigmoid(x):
    return 1 / (1 + HP.exp(-x))


CASES = {
    "add": Case("add", lambda x, y: x + y, (A, B), -1.0, 1.0, (_one, _one)),
    "subtract": Case("subtract", lambda x, y: x - y, (A, B), -1.0, 1.0, (_one, lambda x, y: -1)),
    "multiply": Case("multiply", lambda x, y: x * y, (A, B), -1.0, 1.0, (lambda x, y: y, lambda x, y: x)),
    "multiply by a scalar": Case("multiply", lambda x, s: x * s, (A, ()), -1.0, 1.0, (lambda x, s: s, lambda x, s: x)),
    "divide": Case("divide", lambda x, y: x / y, (A, B), 0.5, 2.0, (lambda x, y: 1 / y, lambda x, y: -x / y**2)),
    "negative": Case("negative", np.negative, (A,), -1.0, 1.0, (lambda x: -1,)),
    "positive": Case("positive", np.positive, (A,), -1.0, 1.0, (_one,)),
    "reciprocal": Case("reciprocal", np.reciprocal, (A,), 0.5, 2.0, (lambda x: -1 / x**2,)),
    "square": Case("square", np.square, (A,), -1.0, 1.0, (lambda x: 2 * x,)),
    "abs": Case("absolute", np.abs, (A,), -1.0, 1.0, (_sign,)),
    "conjugate": Case("conjugate", lambda x: np.real(np.conjugate(x * (1 + 2j)) * (x + 1j)), (A,), -1.0, 1.0,
                      (lambda x: 2 * x + 2,)),  # Re(x (1 - 2i) (x + i)) = x^2 + 2x
    "power": Case("power", np.power, (A, B), 0.5, 2.0,
                  (lambda x, y: y * HP.power(x, y - 1), lambda x, y: HP.power(x, y) * HP.ln(x))),
    "power scalar exponent": Case("power", lambda x: x**1.5, (A,), 0.5, 2.0, (lambda x: HP.mpf(1.5) * HP.sqrt(x),)),
    "power constant base": Case("power", lambda y: 2.5**y, (A,), -1.0, 1.0,
                                (lambda y: HP.power(HP.mpf(2.5), y) * HP.ln(HP.mpf(2.5)),)),
    "exp": Case("exp", np.exp, (A,), -2.0, 2.0, (HP.exp,)),
    "exp2": Case("exp2", np.exp2, (A,), -2.0, 2.0, (lambda x: HP.power(2, x) * HP.ln(2),)),
    "expm1": Case("expm1", np.expm1, (A,), -2.0, 2.0, (HP.exp,)),
    "log": Case("log", np.log, (A,), 0.2, 3.0, (lambda x: 1 / x,)),
    "log1p": Case("log1p", np.log1p, (A,), -0.7, 3.0, (lambda x: 1 / (1 + x),)),
    "sqrt": Case("sqrt", np.sqrt, (A,), 0.1, 3.0, (lambda x: 1 / (2 * HP.sqrt(x)),)),
    "sin": Case("sin", np.sin, (A,), -3.0, 3.0, (HP.cos,)),
    "cos": Case("cos", np.cos, (A,), -3.0, 3.0, (lambda x: -HP.sin(x),)),
    "tan": Case("tan", np.tan, (A,), -1.2, 1.2, (lambda x: 1 / HP.cos(x) ** 2,)),
    "sinh": Case("sinh", np.sinh, (A,), -2.0, 2.0, (HP.cosh,)),
    "cosh": Case("cosh", np.cosh, (A,), -2.0, 2.0, (HP.sinh,)),
    "tanh": Case("tanh", np.tanh, (A,), -2.5, 2.5, (lambda x: 1 / HP.cosh(x) ** 2,)),
    "arctan": Case("arctan", np.arctan, (A,), -3.0, 3.0, (lambda x: 1 / (1 + x**2),)),
    "maximum": Case("maximum", np.maximum, (A, B), -1.0, 1.0, (lambda x, y: int(x > y), lambda x, y: int(y > x))),
    "minimum": Case("minimum", np.minimum, (A, B), -1.0, 1.0, (lambda x, y: int(x < y), lambda x, y: int(y < x))),
    "maximum with a scalar": Case("maximum", lambda x: np.maximum(x, 0.25), (A,), -1.0, 1.0,
                                  (lambda x: int(x > HP.mpf(0.25)),)),
    "logaddexp": Case("logaddexp", np.logaddexp, (A, B), -3.0, 3.0,
                      (lambda x, y: 1 / (1 + HP.exp(y - x)), lambda x, y: 1 / (1 + HP.exp(x - y)))),
    "logaddexp with a zero": Case("logaddexp", lambda x: np.logaddexp(0.0, x), (A,), -3.0, 3.0, (_sigmoid,)),
    "logaddexp2": Case("logaddexp2", np.logaddexp2, (A, B), -3.0, 3.0,
                       (lambda x, y: 1 / (1 + HP.power(2, y - x)), lambda x, y: 1 / (1 + HP.power(2, x - y)))),
    "real": Case("real", lambda x, y: np.real((x + 1j * y) * (y - 0.5j)), (A, B), -1.0, 1.0),
    "imag": Case("imag", lambda x, y: np.imag((x + 1j * y) * (y - 0.5j)), (A, B), -1.0, 1.0),
    "angle": Case("angle", lambda x, y: np.angle(x + 1j * y), (A, B), 0.2, 1.0),
    "fft": Case("fft", lambda x: np.imag(np.fft.fft(x, axis=0)) + np.real(np.fft.fft(x * x)), (A,), -1.0, 1.0),
    "ifft": Case("ifft", lambda x: np.real(np.fft.ifft(x * (1 + 1j))) * np.imag(np.fft.ifft(x, axis=0)), (A,),
                 -1.0, 1.0),
    "sum": Case("sum", lambda x: np.sum(x, axis=0), (A,), -1.0, 1.0),
    "mean": Case("mean", lambda x: np.mean(x, axis=(0, 1)), (A,), -1.0, 1.0),
    "max": Case("max", lambda x: np.max(x, axis=1), (A,), -1.0, 1.0),
    "min": Case("min", np.min, (A,), -1.0, 1.0),
    "var": Case("var", lambda x: np.var(x, axis=0, ddof=1), (A,), -1.0, 1.0),
    "std": Case("std", np.std, (A,), -1.0, 1.0),
    "reshape": Case("reshape", lambda x: np.reshape(x, (3, 2)), (A,), -1.0, 1.0),
    "ravel": Case("ravel", np.ravel, (A,), -1.0, 1.0),
    "broadcast_to": Case("broadcast_to", lambda x: np.broadcast_to(x, (2, 4)), (V,), -1.0, 1.0),
    "squeeze": Case("squeeze", lambda x: np.squeeze(x[:1]), (A,), -1.0, 1.0),
    "expand_dims": Case("expand_dims", lambda x: np.expand_dims(x, 1), (A,), -1.0, 1.0),
    "transpose": Case("transpose", np.transpose, (A,), -1.0, 1.0),
    "swapaxes": Case("swapaxes", lambda x: np.swapaxes(x, 0, 1), (A,), -1.0, 1.0),
    "getitem": Case("getitem", lambda x: x[np.array([1, 1, 0]), 1:], (A,), -1.0, 1.0),
    "untake": Case("untake", lambda x: primitives.untake(x, (np.array([1, 1, 0]), slice(1, None)), A), ((3, 2),),
                   -1.0, 1.0),
    "getitem mask": Case("getitem", lambda x: x[x > 0], (A,), -1.0, 1.0),
    "concatenate": Case("concatenate", lambda x, y: np.concatenate([x, y[None]]), (A, B), -1.0, 1.0),
    "stack": Case("stack", lambda x, y: np.stack([x[0], y], axis=1), (A, B), -1.0, 1.0),
    "where": Case("where", lambda x, y: np.where(x > 0, x, y), (A, B), -1.0, 1.0),
    "where with a scalar": Case("where", lambda x: np.where(x > 0, 0.5, x), (A,), -1.0, 1.0),
    "clip": Case("clip", lambda x: np.clip(x, -0.5, 0.5), (A,), -1.0, 1.0),
    "clip traced bounds": Case("clip", np.clip, (A, B, ()), -1.0, 1.0),
    "matmul": Case("matmul", lambda x, y: x @ y, (A, B), -1.0, 1.0),
    "dot": Case("dot", lambda x, y: np.dot(y, x.T), (A, B), -1.0, 1.0),
    "dot with a scalar": Case("multiply", lambda x: np.dot(x, 1.5), (A,), -1.0, 1.0),
    "sigmoid": Case("sigmoid", autodiff_ref.sigmoid, (A,), -6.0, 6.0, (lambda x: _sigmoid(x) * _sigmoid(-x),)),
    "softplus": Case("softplus", autodiff_ref.softplus, (A,), -6.0, 6.0, (_sigmoid,)),
    "logsumexp": Case("logsumexp", lambda x: autodiff_ref.logsumexp(x, axis=1), (A,), -2.0, 2.0),
    "relu": Case("relu", autodiff_ref.relu, (A,), -2.0, 2.0, (lambda x: int(x > 0),)),
}  # fmt: skip

ELEMENTWISE = tuple(name for name, case in CASES.items() if case.partials is not None)
UNARY_ELEMENTWISE = tuple(name for name in ELEMENTWISE if len(CASES[name].shapes) == 1)
BINARY_ELEMENTWISE = tuple(name for name in ELEMENTWISE if len(CASES[name].shapes) == 2)


def arguments(name, seed=0, shapes=None):
    """float64 arguments of case `name`, drawn from its range (with its own shapes unless `shapes` is given)."""
    case = CASES[name]
    rng = np.random.default_rng(seed)
    return tuple(rng.uniform(case.low, case.high, size=shape) for shape in shapes or case.shapes)

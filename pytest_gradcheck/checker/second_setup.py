"""Preparing a second-order check (check_hvp, check_hessian): the validated call, f's evaluator, and the
derivative under test as a product H v, in float64 and at high precision (mpmath at the check's digits)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from pytest_gradcheck.checker import verdict
from pytest_gradcheck.checker.evaluation import Evaluator
from pytest_gradcheck.checker.inputs import (
    GradcheckUsageError,
    argument_names,
    describe,
    validate_args,
    validate_output,
)
from pytest_gradcheck.checker.options import Options
from pytest_gradcheck.checker.setup import CannotRun, call_at_high_precision, make_evaluator, same_twice
from pytest_gradcheck.hp import precision, quad

Product = Callable[[tuple[np.ndarray, ...]], tuple[Any, ...]]  # v (one array per argument) -> H v, per argument


@dataclass
class UnderTest:
    """The derivative under test as products H v: `float64(v)` in float64, `high(v)` at high precision on
    mpmath (None when its code cannot run there: `notes` says why, and the formula is judged in float64)."""

    float64: Product
    high: Callable[[tuple[np.ndarray, ...]], tuple[Any, ...] | None]
    source: str
    notes: list[str] = field(default_factory=list)


@dataclass
class SecondSetup:
    """What a second-order mode needs: the point, f's evaluator, the derivative under test and the tolerances."""

    f: Callable[..., Any]
    args: tuple[np.ndarray, ...]
    names: tuple[str, ...]
    evaluator: Evaluator
    under_test: UnderTest
    options: Options
    rng: np.random.Generator
    worst: dict[str, float] = field(default_factory=dict)

    def tolerances(self, high_precision_formula: bool) -> verdict.Tolerances:
        return verdict.resolve_tolerances(np.result_type(*self.args), rtol=self.options.rtol,
                                          atol=self.options.atol, hp_formula=high_precision_formula)

    @property
    def size(self) -> int:
        return sum(a.size for a in self.args)


def scalar_call(f: Any, args: Any, what: str) -> tuple[tuple[np.ndarray, ...], tuple[str, ...], np.ndarray]:
    """Validated arguments, their names and f's float64 value, which must be a scalar (evaluated twice: the two
    must agree, else Stopped("nondeterministic"))."""
    if not callable(f):
        raise GradcheckUsageError(f"f: expected a callable, got {describe(f)}; the function comes first: "
                                  f"{what}(f, args)")
    arrays = validate_args(args, lambda n: argument_names(f, n))
    names = argument_names(f, len(arrays))
    value = validate_output(f(*arrays), "f(*args)")
    if value.size != 1:
        raise GradcheckUsageError(f"f(*args): {what} needs a scalar-valued f, got an output of shape {value.shape}")
    tolerance = verdict.resolve_tolerances(np.result_type(*arrays), rtol=None, atol=None, hp_formula=True).to_dict()
    same_twice("f", value, validate_output(f(*arrays), "f(*args)"), ("", names, tolerance))
    return arrays, names, value


def stop_context(source: str, names: tuple[str, ...],
                 options: Options) -> tuple[str, tuple[str, ...], dict[str, float]]:
    """What a check that stops early (Stopped) still reports: the source, the names and the tolerances."""
    tolerance = verdict.resolve_tolerances(np.dtype(np.float64), rtol=options.rtol, atol=options.atol, hp_formula=True)
    return source, names, tolerance.to_dict()


def evaluator(f: Any, args: tuple[np.ndarray, ...], value: np.ndarray, options: Options) -> Evaluator:
    """f's evaluator at the check's tier (the budget may already be spent: Stopped)."""
    return make_evaluator(f, args, value, options, stop_context("", (), options))


def high_precision_call(fn: Callable[..., Any], inputs: list[Any], source: str, notes: list[str]) -> Any:
    """fn(*inputs) on high-precision inputs; None (and a note on why) when the user's code raises there. A bug
    of the checker met on the way raises blame.CheckerError."""
    raw = call_at_high_precision(fn, inputs, source)
    if isinstance(raw, CannotRun):
        notes.append(f"{source} {raw.reason}; the formula is judged in float64")
        return None
    return raw


def as_high_precision(values: tuple[Any, ...], ctx: Any, source: str, notes: list[str]) -> tuple[Any, ...] | None:
    """Arrays returned at high precision as object arrays of ctx's numbers, or None (and a note) when any is not."""
    values = tuple(np.asarray(quad.objects_if_quad(g, ctx)) for g in values)
    if all(g.size == 0 or precision.is_hp(g, ctx) for g in values):
        return tuple(np.asarray(g, dtype=object) for g in values)
    notes.append(f"{source} returns float64 when given high-precision inputs; the formula is judged in float64")
    return None


def hp_inputs(arrays: tuple[np.ndarray, ...], ctx: Any) -> list[Any]:
    return [precision.to_hp(np.asarray(a, dtype=float), ctx) for a in arrays]

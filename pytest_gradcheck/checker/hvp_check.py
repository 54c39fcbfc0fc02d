"""check_hvp's derivative under test: the user's `hvp(v, *args)` (or autodiff_ref's), as products H v."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from pytest_gradcheck.checker import second_per_op
from pytest_gradcheck.checker.inputs import (
    GradcheckUsageError,
    argument_names,
    describe,
    validate_args,
    validate_gradients,
)
from pytest_gradcheck.checker.options import Options
from pytest_gradcheck.checker.result import GradcheckResult
from pytest_gradcheck.checker.second_check import run_second
from pytest_gradcheck.checker.second_setup import (
    UnderTest,
    as_high_precision,
    high_precision_call,
    hp_inputs,
    stop_context,
)
from pytest_gradcheck.checker.setup import same_twice
from pytest_gradcheck.hp import blame


def run_hvp(f: Callable[..., Any], args: Any, hvp: Callable[..., Any] | None, options: Options) -> GradcheckResult:
    """check_hvp with validated options."""
    if hvp is not None and not callable(hvp):
        raise GradcheckUsageError(f"hvp: expected a callable, got {describe(hvp)}; pass the function itself, "
                                  "check_hvp(f, args, hvp=my_hvp)")

    def build(arrays: tuple[np.ndarray, ...], names: tuple[str, ...], ctx: Any) -> UnderTest:
        return hvp_under_test(f, hvp, arrays, names, ctx, options)

    result = run_second(f, args, build, options, "hvp")
    if hvp is None:
        second_per_op.attach(result, f, validate_args(args, lambda n: argument_names(f, n)), options, engine_check)
    return result


def engine_check(f: Callable[..., Any], args: tuple[np.ndarray, ...], options: Options) -> GradcheckResult:
    """check_hvp of the engine's HVP (per-op checks: their options say per_op="off")."""
    return run_hvp(f, args, None, options)


def engine_hvp(f: Callable[..., Any]) -> Callable[..., Any]:
    """autodiff_ref's Hessian-vector product of f: `(v, *args) -> tuple`."""
    import autodiff_ref

    return autodiff_ref.hvp(f)


def hvp_under_test(f: Callable[..., Any], hvp: Callable[..., Any] | None, args: tuple[np.ndarray, ...],
                   names: tuple[str, ...], ctx: Any, options: Options) -> UnderTest:
    """Products H v from `hvp(v, *args)`; the first float64 product is computed twice (the two must agree)."""
    source = "autodiff_ref" if hvp is None else "hvp"
    fn = blame.user_code(engine_hvp(f) if hvp is None else hvp)
    state = {"repeat": True, "high": True}

    def float64(v: tuple[np.ndarray, ...]) -> tuple[Any, ...]:
        out = validate_gradients(fn(v, *args), args, names, source)
        if state.pop("repeat", False):
            again = validate_gradients(fn(v, *args), args, names, source)
            for a, (first, second) in enumerate(zip(out, again, strict=True)):
                same_twice(f"{source} for argument {a} ({names[a]!r})", first, second,
                           stop_context(source, names, options))
        return out

    def high(v: tuple[np.ndarray, ...]) -> tuple[Any, ...] | None:
        if not state["high"]:
            return None
        inputs = hp_inputs(args, ctx)
        raw = high_precision_call(fn, [tuple(hp_inputs(v, ctx)), *inputs], source, under_test.notes)
        try:
            out = None if raw is None else as_high_precision(validate_gradients(raw, args, names, source), ctx,
                                                              source, under_test.notes)
        except GradcheckUsageError as error:
            under_test.notes.append(f"{source} at high precision: {error}; the formula is judged in float64")
            out = None
        state["high"] = out is not None
        return out

    under_test = UnderTest(float64, high, source)
    return under_test

"""check_grad on a framework's arrays: the adapter's numpy view of f, checked by the unchanged numpy checker.

The reference function is the user's numpy `reference=` (high precision: the formula is judged to 1e-15), after
a same-function check against the framework's forward at the point; without it, the framework's float64 forward
through the noise-aware float64 path. The gradient under test is the framework's autograd (or the user's
grad/vjp on framework arrays). In auto mode two random projections screen first (whole_check). When the check
did not pass (or per_op asks for it), each custom rule f's forward used is checked on its own, at the inputs it
received, and its row joins the per-op table; the framework's built-in ops are trusted.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import inspect
import math
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from pytest_gradcheck.checker import float64_screen, modes, per_op, planning
from pytest_gradcheck.checker.budget import Budget
from pytest_gradcheck.checker.check import check_ops, run_check
from pytest_gradcheck.checker.inputs import (
    GradcheckUsageError,
    argument_names,
    describe,
    gradient_under_test,
    validate_args,
    validate_output,
)
from pytest_gradcheck.checker.options import Options
from pytest_gradcheck.checker.result import GradcheckResult, OpRow
from pytest_gradcheck.checker.verdict import resolve_tolerances
from pytest_gradcheck.frameworks import quick
from pytest_gradcheck.frameworks.base import Adapter, CustomRule, Prepared
from pytest_gradcheck.hp import blame

# The same-function check: the numpy reference and the framework's forward, both in float64, may differ by
# round-off (each a few ulps; more behind cancellation), never by this much relative to max(|value|, floor).
SAME_FUNCTION_RTOL = 1e-7
SAME_FUNCTION_FLOOR = 1e-3  # ... of the largest |value|: elements near 0 are judged on that scale
LIMITED_NOTE = ("reference limited to float64: no reference= given, so f's own float64 forward ({framework}) is "
                "the reference function, with tolerances from its measured round-off; pass reference= (a numpy "
                "implementation of the same forward) to judge the formula at high precision")
# auto mode first checks this many random projections of f's gradient (each as costly as one element: ~26
# evaluations in float64, ~5 at high precision) instead of every element: their pass is the verdict ...
SCREEN = 2
# ... when the projections agree to this relative error (a pass within a tolerance widened by a noisy gradient, a
# float32 backward's, is no clear agreement: the full check decides) ...
SCREEN_AGREEMENT = 1e-10
SCREEN_NOTE = ("screen: {n} random projections agreed to 1e-10 relative, so the {size} elements "
                       "were not checked one by one (an error 1000x the tolerance goes unseen with probability "
                       '{miss:.0e}); mode="full" checks every element')
UNSCREENED_NOTE = (f"no screen: the gradient's elements differ in scale (some below {float64_screen.SPREAD:g} of the "
                   "largest), so each was checked on its own")
RULES_NAMED = 4  # a passing check's ops_note names at most this many rules
TRUSTED_NOTE = "{framework}'s built-in ops are trusted: the rows are f's custom rules, each checked on its own"


def check_numpy_reference(f: Callable[..., Any], args: Any, grad: Any, vjp: Any, reference: Any,
                          options: Options, draw: Callable[..., None] | None = None) -> GradcheckResult:
    """check_grad(f, args, reference=...) with a numpy f: the same-function check, then the reference stands in
    for f as the reference function; the gradient under test is grad/vjp or autodiff_ref's gradient of f."""
    started = time.perf_counter()
    usable_reference(reference)
    if not callable(f):
        raise GradcheckUsageError(f"f: expected a callable, got {describe(f)}")
    arrays = validate_args(args, lambda n: argument_names(f, n))
    if any(a.dtype.kind == "c" for a in arrays):
        raise GradcheckUsageError("reference: complex arguments are not supported with reference= yet")
    names = argument_names(f, len(arrays))
    engine = grad is None and vjp is None
    gap = disagreement(reference, f, arrays, "f")
    if gap is not None:
        return disagreement_result(f, "autodiff_ref" if engine else "grad" if grad is not None else "vjp", names,
                                   gap, options, started)
    if engine:
        vjp = gradient_under_test(f, None, None, scalar_output=False)[0]
    function = named_like(f, reference)
    result = run_check(function, arrays, grad, vjp, dataclasses.replace(options, per_op="off"))
    if draw is not None:
        draw(function, arrays, result)
    result.function = getattr(f, "__qualname__", repr(f))
    result.gradient_source = "autodiff_ref" if engine else result.gradient_source
    result.notes.append(f"reference function: {getattr(reference, '__qualname__', repr(reference))} (given as "
                        "reference=), which agrees with f at the point")
    check_ops(result, f, arrays, options, stopped=result.status == "budget_exceeded")  # f's autodiff_ref ops
    result.seconds = time.perf_counter() - started
    return result


def usable_reference(reference: Any) -> None:
    if not callable(reference):
        raise GradcheckUsageError(f"reference: expected a numpy function of the same arguments as f, got "
                                  f"{describe(reference)}")


def check(adapter: Adapter, f: Callable[..., Any], args: Any, grad: Any, vjp: Any, reference: Any,
          options: Options, draw: Callable[..., None] | None = None) -> GradcheckResult:
    """The check of f at framework `args`; the framework's global state is restored on exit. `draw(function,
    args, result)`, when given, draws the pictures of the numpy check (the api's plots)."""
    started = time.perf_counter()
    if reference is not None:
        usable_reference(reference)
    with adapter.state():
        prepared = adapter.prepare(f, args, reference)
        names = argument_names(f, len(prepared.args))
        if prepared.reference is not None:
            gap = disagreement(prepared.reference, prepared.f64, prepared.args, "f", prepared.value)
            if gap is not None:
                return disagreement_result(f, source_of(prepared), names, gap, options, started)
        engine = grad is None and vjp is None
        user_grad = prepared.to_numpy(grad) if grad is not None else None
        user_vjp = prepared.vjp if engine else prepared.to_numpy(vjp) if vjp is not None else None
        function = named_like(f, prepared.reference or prepared.f64)
        whole = dataclasses.replace(options, per_op="off")
        if prepared.reference is None:  # framework code runs in float64 only: no quad tier to probe first
            whole = dataclasses.replace(whole, backend="mpmath")
        tier = quick.tier_of(prepared.reference, options) if quick.applies(options) else None
        result = whole_check(function, prepared.args, user_grad, user_vjp, whole, tier, prepared.compile,
                             prepared.batch)
        describe_check(result, f, prepared, engine)
        if draw is not None:
            draw(function, prepared.args, result)
        rule_rows(result, prepared, options, engine)
    result.seconds = time.perf_counter() - started
    return result


def whole_check(function: Callable[..., Any], args: tuple[np.ndarray, ...], grad: Any, vjp: Any,
                options: Options, quick_tier: str | None = None,
                before_thorough: Callable[[], Any] = lambda: None, batch: Any = None) -> GradcheckResult:
    """The check of f as a whole. With `quick_tier` ("float64" without reference=, "quad" with it), the quick
    screen (frameworks.quick) comes first: its clear pass is the verdict. Then, in auto mode, the thorough screen
    (screened_check) on inputs up to AUTO_FULL_LIMIT elements, else the mode that decides."""
    size = sum(a.size for a in args)
    spent, why = 0, ""
    if quick_tier is not None and size > SCREEN:
        passed, spent, why = quick.screen(function, args, grad, vjp, options, quick_tier, batch)
        if passed is not None:
            return passed
    before_thorough()  # (JAX compiles f and its vjp: hundreds of evaluations follow)
    if options.mode == "auto" and SCREEN < size <= planning.AUTO_FULL_LIMIT:
        result = screened_check(function, args, grad, vjp, options, size)
    else:
        result = run_check(function, args, grad, vjp, options)
    result.evaluations += spent
    if why:
        result.notes.append(quick.FAILED_NOTE.format(why=why))
    return result


def screened_check(function: Callable[..., Any], args: tuple[np.ndarray, ...], grad: Any, vjp: Any,
                   options: Options, size: int) -> GradcheckResult:
    """The thorough screen (SCREEN random projections, each a full derivative), then the full check unless it
    agreed clearly on a well-scaled gradient."""
    if not float64_screen.well_scaled(first_gradient(function, args, grad, vjp)):
        result = run_check(function, args, grad, vjp, options)
        result.notes.append(UNSCREENED_NOTE)
        return result
    if options.budget is None:  # the screen and the full check share one budget
        options = dataclasses.replace(options, budget=Budget(options.max_evaluations, options.max_seconds))
    screen = run_check(function, args, grad, vjp, dataclasses.replace(options, mode="fast", projections=SCREEN))
    if screen.status == "pass" and screen.worst.get("formula", np.inf) <= SCREEN_AGREEMENT \
            and float64_screen.well_scaled(screen.gradient):
        screen.notes.append(SCREEN_NOTE.format(n=SCREEN, size=size, miss=modes.miss_probability(SCREEN, 1e3)))
        return screen
    result = run_check(function, args, grad, vjp, options)
    result.evaluations += screen.evaluations
    why = "did not agree clearly" if screen.status != "pass" or screen.worst.get("formula", np.inf) > \
        SCREEN_AGREEMENT else "passed, but the gradient's elements differ in scale"
    result.notes.append(f"the screen ({SCREEN} random projections) {why}, so the full check "
                        "decided")
    return result


def first_gradient(function: Callable[..., Any], args: tuple[np.ndarray, ...], grad: Any,
                   vjp: Any) -> tuple[np.ndarray, ...]:
    """The gradient under test at the point, with a cotangent of ones (the check draws its own): whether a
    screen is worth running. Empty when it cannot be had (the check itself then reports why)."""
    try:
        values = quick.gradient_at(function, args, grad, vjp, np.ones(np.shape(function(*args))))
        return tuple(np.asarray(v, dtype=float) for v in values)
    except Exception:  # the check runs the same calls and reports their errors
        return ()


def named_like(f: Callable[..., Any], function: Callable[..., Any]) -> Callable[..., Any]:
    """`function` (numpy) under f's name and signature, so that results name f's arguments."""

    @blame.forwarding
    def forward(*xs: Any) -> Any:
        return function(*xs)

    functools.update_wrapper(forward, f, assigned=("__module__", "__name__", "__qualname__", "__doc__"))
    with contextlib.suppress(TypeError, ValueError):
        forward.__signature__ = inspect.signature(f)  # type: ignore[attr-defined]
    return forward


def disagreement(reference: Callable[..., Any], forward: Callable[..., Any], args: tuple[np.ndarray, ...],
                 what: str, value: np.ndarray | None = None) -> str | None:
    """None when the numpy reference and `forward` agree in float64 at the point, else how they disagree
    (`value`: forward's value at args, when already computed)."""
    expected = validate_output(reference(*args), "reference(*args)")
    got = validate_output(forward(*args) if value is None else value, f"{what}(*args)")
    if expected.shape != got.shape:
        return f"in shape: reference returns {expected.shape}, {what} returns {got.shape}"
    if not expected.size:
        return None
    with np.errstate(invalid="ignore", over="ignore"):
        gap = np.abs(expected - got)
        if (gap <= SAME_FUNCTION_RTOL * np.maximum(np.abs(expected), np.abs(got))).all():
            return None  # the usual case (the floor below only widens the allowance; nan fails this test)
        largest = float(np.max(np.abs(got), initial=0.0, where=np.isfinite(got)))
        scale = np.maximum(np.maximum(np.abs(expected), np.abs(got)), SAME_FUNCTION_FLOOR * largest)
        relative = np.where(gap == 0, 0.0, gap / np.where(scale > 0, scale, np.inf))
    same_nan = np.isnan(expected) & np.isnan(got)
    relative = np.where(same_nan | (expected == got), 0.0, np.nan_to_num(relative, nan=np.inf))
    worst = np.unravel_index(int(np.argmax(relative)), relative.shape)
    if relative[worst] <= SAME_FUNCTION_RTOL:
        return None
    index = tuple(int(k) for k in worst)
    where = f" at element {index}" if index else ""
    return (f"{relative[worst]:.1e} relative{where} (reference {float(expected[worst])!r}, {what} "
            f"{float(got[worst])!r}; allowed {SAME_FUNCTION_RTOL:.0e} of max(|value|, {SAME_FUNCTION_FLOOR:g} of "
            "the largest))")


def disagreement_result(f: Callable[..., Any], source: str, names: tuple[str, ...], gap: str,
                        options: Options, started: float) -> GradcheckResult:
    """A formula_error of its own kind: the reference computes another function, so its derivative would
    judge f's gradient against the wrong thing; nothing else is checked."""
    tolerance = resolve_tolerances(np.dtype(np.float64), rtol=options.rtol, atol=options.atol,
                                   hp_formula=True).to_dict()
    note = (f"reference and f disagree at the point by {gap}: reference= must compute the same forward as f; "
            "the gradient was not checked")
    result = GradcheckResult(status="formula_error", mode=options.mode,
                             function=getattr(f, "__qualname__", repr(f)), gradient_source=source,
                             argument_names=names, tolerance=tolerance, high_precision=False,
                             precision_note="no reference computed: reference= and f disagree", notes=[note])
    result.ops_note = "reference and f disagree: no op was checked"
    result.seconds = time.perf_counter() - started
    return result


def source_of(prepared: Prepared) -> str:
    return prepared.gradient_source or f"{prepared.framework}.autograd"


def describe_check(result: GradcheckResult, f: Callable[..., Any], prepared: Prepared, engine: bool) -> None:
    """Name what was checked in the framework's terms: f, the framework's gradient, the reference used."""
    result.function = getattr(f, "__qualname__", repr(f))
    if engine:
        result.gradient_source = source_of(prepared)
    result.notes += prepared.notes
    if prepared.reference is None:
        result.notes.append(LIMITED_NOTE.format(framework=prepared.framework))
    else:
        name = getattr(prepared.reference, "__qualname__", repr(prepared.reference))
        result.notes.append(f"reference function: {name} (numpy, given as reference=), which agrees with f's "
                            f"{prepared.framework} forward at the point")


def rule_rows(result: GradcheckResult, prepared: Prepared, options: Options, engine: bool) -> None:
    """The custom rules f's forward used, each checked on its own: "auto" checks them when the whole check did
    not pass (to name the wrong one), "custom" and "always" on every check, "off" never. A pass has already
    checked every element of f's gradient, through each rule's backward; a rule's error that f's gradient does
    not show (an output f discards) is not an error of f's."""
    if options.per_op == "off":
        result.ops_note = 'per_op="off"'
        return
    if options.per_op == "auto" and result.status == "pass":
        result.ops_note = rules_passed_note(prepared)
        return
    rules, notes = prepared.custom_rules()
    result.notes += notes
    if not rules:
        result.ops_note = (f"f's forward used no custom rule; {prepared.framework}'s built-in ops are trusted")
        return
    result.ops = per_op.mark_first_failing([rule_row(rule, number, options)
                                            for number, rule in enumerate(rules, start=1)])
    result.ops_note = TRUSTED_NOTE.format(framework=prepared.framework)
    per_op.attribute(result, result.ops, engine=engine)
    if engine and result.status == "formula_error" and result.ops and all(row.ok for row in result.ops):
        result.notes.append(unattributed_note(result, prepared))


def unattributed_note(result: GradcheckResult, prepared: Prepared) -> str:
    """Why no rule is named when f's gradient is wrong and every rule passes its own check: each rule's reference
    is its own float64 forward (framework code), which may not resolve the error f's check found."""
    found = result.worst.get("formula", math.inf)
    gaps = [row.formula_error for row in result.ops if row.formula_error is not None
            and math.isfinite(row.formula_error)]
    largest = f" (the rules' largest gap, {max(gaps):.1e}, is within its error estimate)" if gaps else ""
    return (f"no rule is named: f's gradient is off by {found:.1e} relative, but every custom rule passes its own "
            f"check, whose reference is the rule's own float64 {prepared.framework} forward: a float64 reference "
            f"cannot resolve an error this small{largest}; {prepared.framework}'s built-in ops are trusted, not "
            "checked")


def rules_passed_note(prepared: Prepared) -> str:
    """The ops_note of a passing check under per_op="auto": which rules were not checked one by one (named when
    the adapter recorded them up front)."""
    if prepared.record is not None:
        return ("the whole-function check passed, so no custom rule f's forward uses was checked on its own; "
                'per_op="custom" checks each')
    if not prepared.rules:
        return f"f's forward used no custom rule; {prepared.framework}'s built-in ops are trusted"
    names = list(dict.fromkeys(rule.name for rule in prepared.rules))
    shown = ", ".join(names[:RULES_NAMED]) + (f" and {len(names) - RULES_NAMED} more" if len(names) > RULES_NAMED
                                              else "")
    return (f"the whole-function check passed, so f's custom rules ({shown}) were not checked one by one; "
            'per_op="custom" checks each')


def rule_row(rule: CustomRule, number: int, options: Options) -> OpRow:
    """One custom rule's row: its backward against the derivative of its float64 forward (noise-aware)."""
    base = dict(index=number, name=rule.name, location=per_op.short_location(rule.location),
                input_shapes=tuple(np.shape(a) for a in rule.inputs), custom=True)
    rule_options = dataclasses.replace(options, per_op="off", seed=(options.seed or 0) + number, budget=None,
                                       backend="mpmath")
    forward = rule.forward
    if rule.input_names:
        forward.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
            [inspect.Parameter(n, inspect.Parameter.POSITIONAL_ONLY) for n in rule.input_names])
    try:
        result = run_check(forward, rule.inputs, None, rule.vjp, rule_options)
    except per_op.BackwardRuleError as error:
        return per_op.unmeasured(base, "formula_error", str(error), ok=False)
    except Exception as error:  # the rule's forward raised (skipped, the note says where) or the checker did
        fault = blame.checker_fault(error)
        if fault is not None:
            return per_op.unmeasured(base, "error", f"checker error: {fault}", ok=False)
        raised = blame.describe(error, blame.user_frame(error))
        return per_op.unmeasured(base, "skipped", f"the rule's own code raised {raised}", ok=True)
    row = per_op.row(base, result)
    call = f"called at {rule.call_site}" if rule.call_site else ""
    return dataclasses.replace(row, note="; ".join(n for n in (call, row.note) if n))

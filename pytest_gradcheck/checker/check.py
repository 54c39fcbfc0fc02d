"""check_grad: compare a reverse-mode gradient with high-precision central differences and give a verdict."""

from __future__ import annotations

import dataclasses
import functools
import math
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from pytest_gradcheck.checker import budget as budgets
from pytest_gradcheck.checker import gradient_noise, verdict
from pytest_gradcheck.checker import per_op as per_op_checks
from pytest_gradcheck.checker.budget import DEFAULT_MAX_SECONDS, Budget, BudgetExceeded
from pytest_gradcheck.checker.evaluation import Evaluator
from pytest_gradcheck.checker.inputs import (
    GradcheckUsageError,
    argument_names,
    describe,
    gradient_under_test,
    validate_args,
    validate_gradients,
    validate_output,
)
from pytest_gradcheck.checker.nonfinite import floats, gradient_notes, mask
from pytest_gradcheck.checker.result import GradcheckError, GradcheckResult, Mismatch
from pytest_gradcheck.hp import array as hparray
from pytest_gradcheck.hp import blame, exact, mpmath_warnings, precision
from pytest_gradcheck.hp import install as hp_twins
from pytest_gradcheck.plots import plots as drawing
from pytest_gradcheck.report import records

MODES = ("auto", "full", "fast", "taylor", "diagonal")
# Full mode spends one directional derivative (a handful of high-precision evaluations) per element; past
# this many elements `auto` switches to random projections, whose cost does not grow with the input size.
AUTO_FULL_LIMIT = 64
# With a float64 reference an evaluation costs microseconds, and one projection of many elements dilutes an
# error below the float64 reference's own error: `auto` checks every element up to this many, when the timed
# float64 evaluation says the ~FLOAT64_PER_ELEMENT evaluations per element fit AUTO_BUDGET_SHARE of the budget.
AUTO_FULL_LIMIT_FLOAT64 = 256
FLOAT64_PER_ELEMENT = 40  # float64_derivative: 27 evaluations on a smooth function, more for staircases
# Four projections miss an error the size of the tolerance with probability 0.68**4 = 0.22, and an error ten
# times the tolerance with probability 0.08**4 = 4e-5 (see miss_probability).
DEFAULT_PROJECTIONS = 4
# At least 20 digits: below that the reference is no better than float64's 16.
MIN_DIGITS = 20
# At most this many: at 10000 digits one tanh takes 3.6 ms (1000x its cost at 40 digits); more is a typo, not a plan.
MAX_DIGITS = 10000
ACCURACY_POLICIES = ("fail", "warn")
# `auto` keeps the high-precision reference when the evaluations it plans are predicted (from the timed
# high-precision probe) to take at most this share of the time left in the budget; else it uses float64.
AUTO_BUDGET_SHARE = 0.5
# `auto` first screens with this many random projections at high precision and no precision checks (a float64
# buffer or unmeasured round-off inside f can only make such a projection fail, never pass); anything but a
# clean pass runs the thorough check (`full` up to AUTO_FULL_LIMIT elements, else `fast`), which decides.
SCREEN_PROJECTIONS = 1
SCREEN_FAILED_NOTE = ("the screening projection did not agree closely enough to decide alone, so the {chosen} "
                      "check decided this verdict")
# The screen's cost in evaluations of f per projection (differences.hp_quick_derivative).
SCREEN_EVALUATIONS = 3
# A check's fixed cost in evaluations of f (float64 value, high-precision probe, round-off probe, float64-buffer
# check; see test_fast_mode_reuses_the_precision_checks_direction_as_its_first_projection), and per direction.
FIXED_EVALUATIONS, PER_DIRECTION = 16, 4


@dataclass
class Setup:
    """What every mode needs: the point, the gradients under test, the evaluator and the tolerances."""

    f: Callable[..., Any]
    args: tuple[np.ndarray, ...]
    names: tuple[str, ...]
    evaluator: Evaluator
    cotangent: np.ndarray  # flattened float64 cotangent v; the check compares v^T J with vjp(v)
    g64: tuple[np.ndarray, ...]
    g_hp: tuple[np.ndarray, ...] | None
    tol: verdict.Tolerances
    rng: np.random.Generator
    gradient64: Callable[..., Any] | None = None  # the gradient under test at float64 points, (*xs) -> arrays
    noise: gradient_noise.GradientNoise | None = None  # its measured round-off, when it only runs in float64
    worst: dict[str, float] = field(default_factory=dict)  # largest relative error per diagnosis, pass or fail
    progress: Any = None  # the running mode's Outcome, so that a check stopped by its budget keeps its findings
    seconds64: float = 0.0  # wall time of one float64 evaluation of f (the repeat that checks determinism)

    @property
    def tested(self) -> tuple[np.ndarray, ...]:
        """The gradient whose *formula* is judged: high precision when available."""
        return self.g_hp if self.g_hp is not None else self.g64

    @property
    def formula_rtol(self) -> float:
        return self.tol.rtol_formula  # resolved for the gradient judged: high precision's, or float64's

    def element_noise(self, argument: int) -> Any:
        """The allowance for the measured round-off of each element of one argument's float64 gradient (0: none)."""
        return 0.0 if self.noise is None else self.noise.element_allowance(argument)

    def projection_noise(self, direction: list[np.ndarray | None]) -> float:
        """The allowance for the measured round-off of the float64 gradient's projection <g, u> (0: none)."""
        return 0.0 if self.noise is None else self.noise.projection_allowance(direction)

    @functools.cached_property
    def projection_tol(self) -> verdict.Tolerances:
        """The tolerances of a projection <g, u>: its scale is the terms' magnitude, judged against in full."""
        return dataclasses.replace(self.tol, relative_floor=1.0)

    @functools.cached_property
    def tested64(self) -> tuple[np.ndarray, ...]:
        """The gradient under test rounded to float64 (for magnitudes, not for verdicts)."""
        return tuple(precision.to_float64(g) for g in self.tested)

    def project(self, values: Any) -> Any:
        """v^T values, at the precision of `values`."""
        v = self.evaluator.cotangent_hp(self.cotangent) if _is_object(values) else self.cotangent
        return np.dot(v, values)

    def project_error(self, errors: Any) -> float:
        return float(np.dot(np.abs(self.cotangent), floats(errors)))  # an mpf nan: f nan at a step


def _is_object(values: Any) -> bool:
    return np.asarray(values).dtype == object


@dataclass(frozen=True)
class Options:
    """check_grad's settings once validated; per-op checks run with their own copy."""

    rtol: float | None = None
    atol: float | None = None
    mode: str = "auto"
    digits: int | None = None
    seed: int | None = None
    projections: int = DEFAULT_PROJECTIONS
    float64_accuracy: str = "fail"
    per_op: str = "all"
    verify_precision: bool = True  # look for float64 buffers inside f (skipped for the engine's own primitives)
    max_evaluations: int | None = None
    max_seconds: float = DEFAULT_MAX_SECONDS
    screen: bool | None = None  # screen before the mode runs; None: in auto mode only (per-op checks: always)
    budget: Budget | None = None  # set by run_check; per-op checks share it (and so its deadline)


def check_grad(
    f: Callable[..., Any],
    args: Any,
    *,
    grad: Callable[..., Any] | None = None,
    vjp: Callable[..., Any] | None = None,
    rtol: float | None = None,
    atol: float | None = None,
    mode: str = "auto",
    digits: int | None = None,
    seed: int | None = None,
    raise_on_mismatch: bool = True,
    projections: int = DEFAULT_PROJECTIONS,
    float64_accuracy: str = "fail",
    per_op: str | bool = "all",
    max_evaluations: int | None = None,
    max_seconds: float = DEFAULT_MAX_SECONDS,
    plots: str | os.PathLike[str] | None = None,
) -> GradcheckResult:
    """Check the gradient of `f` at `args` against high-precision central differences.

    The gradient under test is `grad(*args)` (scalar f: one array per argument), or `vjp(cotangent, *args)`
    (array f), or autodiff_ref's reverse mode when neither is given. Raises `GradcheckError` on a failing
    verdict unless `raise_on_mismatch=False`; bad input raises `GradcheckUsageError` naming the argument.
    `mode="auto"` screens first: one random projection at high precision whose agreement within 1e-3 of the
    tolerance is the verdict (mode "fast", one projection); anything else runs "full" (up to 64 elements) or
    "fast", which decide and name the elements.
    `per_op` ("all", "custom" for custom primitives only, or "off"; True/False mean "all"/"off") also
    checks every op of f's autodiff_ref trace on its own, to name the op whose backward rule is wrong.
    Budget: at most `max_evaluations` evaluations of f (None: no limit; each per-op check has its own count)
    and `max_seconds` of wall time for the whole call (math.inf: no limit); past either the check stops with
    status "budget_exceeded" and lists in `result.checked` what it did check. In `auto` mode a function too
    slow to evaluate at high precision within the budget (for the screen, then for the full or fast check when the
    screen does not settle it) is checked against a float64 reference instead.
    A function or gradient that returns different values at the same point is "nondeterministic".
    `plots` (a directory): a check that fails or meets a kink draws its pictures there (docs/plots.md), listed
    in `result.plots`; needs matplotlib.
    """
    __tracebackhide__ = True  # pytest shows the test's line and the verdict, not check_grad's source
    try:
        return _check_grad(f, args, grad, vjp, rtol, atol, mode, digits, seed, raise_on_mismatch, projections,
                           float64_accuracy, per_op, max_evaluations, max_seconds, plots)
    except GradcheckUsageError as error:  # its message names the argument: the checker's frames would bury it
        raise error.with_traceback(None) from None


def _check_grad(f: Any, args: Any, grad: Any, vjp: Any, rtol: Any, atol: Any, mode: Any, digits: Any, seed: Any,
                raise_on_mismatch: Any, projections: Any, float64_accuracy: Any, per_op: Any, max_evaluations: Any,
                max_seconds: Any, plots: Any) -> GradcheckResult:
    __tracebackhide__ = True
    _validate_options(mode, digits, seed, projections, float64_accuracy, rtol, atol, raise_on_mismatch,
                      max_evaluations, max_seconds)
    try:
        scope = per_op_checks.resolve_per_op(per_op)
    except ValueError as error:
        raise GradcheckUsageError(str(error)) from None
    options = Options(rtol, atol, mode, digits, seed, projections, float64_accuracy, scope,
                      max_evaluations=max_evaluations, max_seconds=float(max_seconds),
                      budget=Budget(max_evaluations, float(max_seconds)))
    picture_folder = drawing.directory_option(plots)
    result = run_check(f, args, grad, vjp, options)
    if picture_folder is not None and result.status in drawing.DRAWN_STATUSES:
        result.plots = drawing.write_plots(f, args, result, picture_folder)
    records.record_result(result)
    if raise_on_mismatch and not result.ok:
        raise GradcheckError(result)
    return result


def run_check(f: Callable[..., Any], args: Any, grad: Any, vjp: Any, options: Options) -> GradcheckResult:
    """The check itself, with validated options; never raises on a failing verdict. A bug of the checker met
    while it runs the user's code (blame.CheckerError) gives status "error", never a pass or a fallback."""
    started = time.perf_counter()
    user = [blame.user_code(g) if callable(g) else g for g in (f, grad, vjp)]  # where the user's calls begin
    with hp_twins.patched():  # non-dispatching functions (scipy.linalg's) reach their high-precision twins
        try:
            return _run_check(*user[:1], args, *user[1:], options)
        except blame.CheckerError as error:
            return _error_result(f, args, options, error, started)


def _error_result(f: Callable[..., Any], args: Any, options: Options, error: blame.CheckerError,
                  started: float) -> GradcheckResult:
    """Status "error": the checker raised, so nothing it computed can be trusted; the note names the frame."""
    status = verdict.decide([], [], [], True, checker_error=True)
    arrays = validate_args(args, lambda n: argument_names(f, n))  # valid: a CheckerError comes after validation
    tolerance = verdict.resolve_tolerances(np.result_type(*arrays), rtol=options.rtol, atol=options.atol,
                                           hp_formula=True).to_dict()
    result = GradcheckResult(status=status, mode=options.mode, function=getattr(f, "__qualname__", repr(f)),
                             gradient_source="", argument_names=argument_names(f, len(arrays)),
                             tolerance=tolerance, high_precision=False,
                             precision_note="no reference computed",
                             notes=[f"checker error: {error.where}"])
    result.seconds = time.perf_counter() - started
    return result


def _run_check(f: Callable[..., Any], args: Any, grad: Any, vjp: Any, options: Options) -> GradcheckResult:
    from pytest_gradcheck.checker import modes

    started = time.perf_counter()
    if options.budget is None:
        options = dataclasses.replace(options, budget=Budget(options.max_evaluations, options.max_seconds))
    try:
        setup, source = _prepare(f, args, grad, vjp, options)
    except _Stopped as stop:
        return _early_result(f, options, stop, started)
    chosen = options.mode
    screen = (chosen == "auto" if options.screen is None else options.screen) and setup.evaluator.high_precision \
        and setup.g_hp is not None
    if chosen == "auto":
        chosen = "full" if sum(a.size for a in setup.args) <= AUTO_FULL_LIMIT else "fast"
    runners = {"full": modes.run_full, "fast": modes.run_fast, "taylor": modes.run_taylor,
               "diagonal": modes.run_diagonal}
    stopped, escalated = None, False
    try:
        outcome = modes.run_screen(setup, SCREEN_PROJECTIONS) if screen else None
        if outcome is not None:
            chosen = "fast"
        else:
            if screen:  # the screening projection did not pass cleanly: the thorough check decides
                setup.worst.clear()
                escalated = True
            if options.mode == "auto" and not _afford_high_precision(setup.evaluator, setup.args, options,
                                                                     thorough=True):
                _judge_in_float64(setup, options)
            if options.mode == "auto" and chosen == "fast" and _full_in_float64(setup, options):
                chosen = "full"
            if options.verify_precision:
                direction = [setup.rng.standard_normal(a.shape) for a in setup.args]
                setup.evaluator.measure_noise(direction)
                setup.evaluator.verify_no_float64_buffer(direction)
            outcome = runners[chosen](setup, options.projections)
    except BudgetExceeded as error:
        stopped = str(error)
        outcome = setup.progress if setup.progress is not None else modes.Outcome()
    accuracy = _accuracy_mismatches(setup)
    status = verdict.decide(outcome.formula, accuracy, outcome.kinks, outcome.converged, stopped is not None)
    if escalated and status in ("pass", "float64_accuracy"):  # why a passing check cost more than usual
        outcome.notes.append(SCREEN_FAILED_NOTE.format(chosen=chosen))
    ev = setup.evaluator
    if stopped is not None:
        outcome.notes.append(_budget_note(stopped, ev.evaluations, time.perf_counter() - started, outcome))
    if not ev.high_precision:
        ev.notes.append(f"float64 reference: estimated noise of one evaluation of f {ev.float64_noise:.1e} "
                        f"(reference errors are bounded accordingly)")
    result = GradcheckResult(
        status=status, mode=chosen, function=getattr(f, "__qualname__", repr(f)), gradient_source=source,
        argument_names=setup.names, tolerance=setup.tol.to_dict(),
        mismatches=verdict.rank(outcome.formula) + verdict.rank(accuracy), kinks=outcome.kinks,
        reference=outcome.reference, reference_error=outcome.reference_error, gradient=setup.g64,
        gradient_hp=setup.g_hp, high_precision=ev.high_precision, precision_note=ev.note,
        digits=ev.ctx.dps, float64_constants=list(ev.constants), projections=outcome.projections,
        miss_probability=outcome.miss_probability,
        taylor=outcome.taylor, evaluations=ev.evaluations, notes=[*ev.notes, *outcome.notes],
        accuracy_is_warning=options.float64_accuracy == "warn", traces=outcome.traces, worst=dict(setup.worst),
        cotangent=setup.cotangent, checked=[t["label"] for t in outcome.traces] if stopped is not None else [],
    )
    if not any(a.size for a in setup.args):
        result.notes.append("nothing to check: every argument is empty")
    if options.per_op == "off":
        result.ops_note = 'per_op="off"'
    elif stopped is not None:
        result.ops_note = "the budget was spent before the per-op checks"
    else:
        rows, note, result.ops_note = per_op_checks.check_ops(f, setup.args, scope=options.per_op, options=options)
        result.ops = rows
        result.notes += [note] if note else []
        _attribute_to_ops(result, rows)
    result.seconds = time.perf_counter() - started
    return result


def _attribute_to_ops(result: GradcheckResult, rows: list[per_op_checks.OpRow]) -> None:
    """Relate the whole-function verdict to the per-op verdicts. A checker error in any op's check makes the
    whole result an error: the check did not do what it reports."""
    errors = [r for r in rows if r.status == "error"]
    if errors:
        result.status = verdict.decide([], [], [], True, checker_error=True)
        result.notes += [f"op {r.index} ({r.name}): {r.note}" for r in errors]  # each note: "checker error: ..."
    failing = [r for r in rows if not r.ok and r.status != "error"]
    engine = result.gradient_source == "autodiff_ref"
    if failing and engine and result.ok and not errors:
        wrong = [r for r in failing if r.status == "formula_error"]
        culprit = (wrong or failing)[0]
        result.status = culprit.status
        if wrong:
            result.notes.append(f"op {culprit.index} ({culprit.name}) has a wrong backward rule that this "
                                "check's cotangent did not expose in the whole-function comparison")
        else:
            result.notes.append(f"op {culprit.index} ({culprit.name}) could not be verified on its own "
                                f"({culprit.status}); see the per-op table")
    elif failing and not engine:
        result.notes.append(f"{len(failing)} op(s) of the traced graph fail their own check; your gradient "
                            "does not use the engine's rules, so they do not decide this verdict")
    kinked = [f"{r.index} ({r.name})" for r in rows if r.status == "nondifferentiable"]
    if kinked:
        result.notes.append(f"op(s) {', '.join(kinked)} sit at a non-differentiable point (see the per-op table)")
    if not failing and rows and not engine and result.status == "formula_error":
        result.notes.append("your gradient disagrees with the reference; every op in the traced graph is correct")


def _validate_options(mode: str, digits: Any, seed: Any, projections: Any, float64_accuracy: str, rtol: Any,
                      atol: Any, raise_on_mismatch: Any, max_evaluations: Any, max_seconds: Any) -> None:
    if mode not in MODES:
        raise GradcheckUsageError(f"mode: expected one of {MODES}, got {mode!r}")
    if digits is not None and (not isinstance(digits, int) or isinstance(digits, bool)
                               or not MIN_DIGITS <= digits <= MAX_DIGITS):
        raise GradcheckUsageError(f"digits: expected an int >= {MIN_DIGITS} and <= {MAX_DIGITS}, got {digits!r}")
    if seed is not None and (not isinstance(seed, int) or isinstance(seed, bool) or seed < 0):
        raise GradcheckUsageError(f"seed: expected a non-negative int, got {seed!r}")
    if not isinstance(projections, int) or isinstance(projections, bool) or projections < 1:
        raise GradcheckUsageError(f"projections: expected an int >= 1, got {projections!r}")
    if float64_accuracy not in ACCURACY_POLICIES:
        raise GradcheckUsageError(f"float64_accuracy: expected one of {ACCURACY_POLICIES}, got {float64_accuracy!r}")
    for name, value in (("rtol", rtol), ("atol", atol)):
        if value is not None and (not isinstance(value, int | float) or isinstance(value, bool)
                                  or not math.isfinite(value) or value < 0):
            raise GradcheckUsageError(f"{name}: expected a finite number >= 0 or None, got {value!r}")
    if not isinstance(raise_on_mismatch, bool):
        raise GradcheckUsageError(f"raise_on_mismatch: expected True or False, got {raise_on_mismatch!r}")
    problem = budgets.validate(max_evaluations, max_seconds)
    if problem:
        raise GradcheckUsageError(problem)


def _prepare(f: Any, args: Any, grad: Any, vjp: Any, options: Options) -> tuple[Setup, str]:
    if not callable(f):
        raise GradcheckUsageError(f"f: expected a callable, got {describe(f)}; the function comes first: "
                                  "check_grad(f, args)")
    args = validate_args(args, lambda n: argument_names(f, n))
    names = argument_names(f, len(args))
    value = validate_output(f(*args), "f(*args)")
    under_test, source = gradient_under_test(f, grad, vjp, scalar_output=value.size == 1)
    # Tolerances as they would be used: a check that ends before it starts still reports them.
    tolerance = verdict.resolve_tolerances(np.result_type(*args), rtol=options.rtol, atol=options.atol,
                                           hp_formula=True).to_dict()
    timed = time.perf_counter()
    again = validate_output(f(*args), "f(*args)")
    seconds64 = time.perf_counter() - timed
    _same_twice("f", value, again, (source, names, tolerance))
    # A fixed default seed keeps checks reproducible.
    rng = np.random.default_rng(0 if options.seed is None else options.seed)
    cotangent = np.ones(value.shape) if value.size == 1 else rng.standard_normal(value.shape)
    g64 = validate_gradients(under_test(cotangent.astype(value.dtype), *args), args, names, source)
    again = validate_gradients(under_test(cotangent.astype(value.dtype), *args), args, names, source)
    for a, (first, second) in enumerate(zip(g64, again, strict=True)):
        _same_twice(f"the gradient ({source}) for argument {a} ({names[a]!r})", first, second,
                    (source, names, tolerance))
    ctx = precision.context(precision.DEFAULT_DIGITS if options.digits is None else options.digits)
    try:
        evaluator = Evaluator(f, args, ctx, value, options.budget)
    except BudgetExceeded as error:
        raise _Stopped("budget_exceeded", f"budget exceeded ({error}) before the first high-precision evaluation",
                       (source, names, tolerance)) from None
    evaluator.evaluations += 2  # the two float64 evaluations above
    evaluator.notes += gradient_notes(g64, names, source, "float64")
    affordable = options.mode != "auto" or _afford_high_precision(evaluator, args, options)
    g_hp = _gradient_hp(under_test, cotangent, evaluator, names, source) if affordable else None
    hp_formula = g_hp is not None
    dtype = np.result_type(*args)
    tol = verdict.resolve_tolerances(dtype, rtol=options.rtol, atol=options.atol, hp_formula=hp_formula)
    def gradient64(*xs: np.ndarray) -> tuple[np.ndarray, ...]:
        return validate_gradients(under_test(cotangent.astype(value.dtype), *xs), args, names, source)

    setup = Setup(f, args, names, evaluator, cotangent.ravel(), g64, g_hp, tol, rng, gradient64)
    setup.seconds64 = seconds64
    if g_hp is None:
        _measure_gradient_noise(setup, options)
    return setup, source


def _measure_gradient_noise(setup: Setup, options: Options) -> None:
    """A float64-only gradient: measure its round-off (gradient_noise.NOISE_OFFSETS gradient evaluations) and
    judge its formula against that instead of FLOAT_RTOL; not with a user's rtol, nor for float32 arguments."""
    if options.rtol is not None or np.result_type(*setup.args) != np.float64 or setup.gradient64 is None:
        return
    rng = np.random.default_rng([0 if options.seed is None else options.seed, 1])  # not the check's own stream
    setup.noise = gradient_noise.measure(setup.gradient64, setup.args, setup.g64, rng)
    setup.tol = verdict.with_measured_noise(setup.tol, user_rtol=options.rtol, floor_rtol=gradient_noise.FLOOR_RTOL,
                                            largest=setup.noise.largest_relative(),
                                            safety=gradient_noise.NOISE_SAFETY)
    setup.evaluator.notes.append(gradient_noise.note(setup.noise))


class _Stopped(Exception):
    def __init__(self, status: str, note: str, context: tuple[str, tuple[str, ...], dict[str, float]]) -> None:
        super().__init__(note)
        self.status, self.note = status, note
        self.source, self.names, self.tolerance = context


def _same_twice(what: str, first: np.ndarray, second: np.ndarray, context: Any) -> None:
    """Two evaluations at the same point must agree bit for bit, or no difference quotient means anything."""
    first, second = np.asarray(first), np.asarray(second)
    if first.shape != second.shape:
        detail = f"shape {first.shape} then {second.shape}"
    else:
        if first.dtype.kind in "fc" and ((first == second).all() or np.array_equal(first, second, equal_nan=True)):
            return  # the common case, at numpy speed (nan equals nan here)
        differs = np.array([not (a == b or (a != a and b != b))  # nan equals nan here (object arrays too)
                            for a, b in zip(first.flat, second.flat, strict=True)], dtype=bool).reshape(first.shape)
        if not differs.any():
            return
        index = tuple(int(k) for k in np.argwhere(differs)[0])
        detail = (f"{int(np.count_nonzero(differs))} of {first.size} elements differ, e.g. element {index}: "
                  f"{first[index]!r} then {second[index]!r}")
    raise _Stopped("nondeterministic", f"{what} returned different values in two calls at the same point "
                   f"({detail}); seed any randomness inside it or hold state fixed", context)


def _afford_high_precision(evaluator: Evaluator, args: tuple[np.ndarray, ...], options: Options,
                           thorough: bool = False) -> bool:
    """auto: keep the high-precision reference if the planned evaluations fit the budget; else use float64.
    Planned first for the screen (its projections and the gradient at high precision); when the screen does not
    settle the check, again with `thorough` for the full or fast check, with the budget then left."""
    if not evaluator.high_precision or options.budget is None:
        return True
    if thorough:
        size = sum(a.size for a in args)
        directions = size if size <= AUTO_FULL_LIMIT else options.projections
        planned = FIXED_EVALUATIONS + PER_DIRECTION * directions
    else:
        planned = SCREEN_EVALUATIONS * SCREEN_PROJECTIONS + 2  # + the gradient at high precision
    predicted = evaluator.probe_seconds * planned
    if predicted <= AUTO_BUDGET_SHARE * options.budget.remaining():
        return True
    evaluator.fall_back(
        f"reference limited to float64 by the budget: one high-precision evaluation of f took "
        f"{evaluator.probe_seconds:.2g} s, so the ~{planned} evaluations of this check would take ~{predicted:.0f} s "
        f"of max_seconds={options.max_seconds:g}; raise max_seconds (or pass mode='fast'/'full') for a "
        "high-precision reference")
    return False


def _full_in_float64(setup: Setup, options: Options) -> bool:
    """auto with a float64 reference: every element (full) rather than projections, when it is cheap enough."""
    size = sum(a.size for a in setup.args)
    if setup.evaluator.high_precision or size > AUTO_FULL_LIMIT_FLOAT64:
        return False
    if options.max_evaluations is not None and \
            FLOAT64_PER_ELEMENT * size > options.max_evaluations - setup.evaluator.evaluations:
        return False
    remaining = options.budget.remaining() if options.budget is not None else math.inf
    return setup.seconds64 * FLOAT64_PER_ELEMENT * size <= AUTO_BUDGET_SHARE * remaining


def _judge_in_float64(setup: Setup, options: Options) -> None:
    """After a fall-back to the float64 reference: the formula is judged in float64 too (at high precision's
    tolerance against a float64 reference every correct gradient would fail)."""
    setup.g_hp = None
    setup.tol = verdict.resolve_tolerances(np.result_type(*setup.args), rtol=options.rtol, atol=options.atol,
                                           hp_formula=False)
    _measure_gradient_noise(setup, options)
    for derived in ("projection_tol", "tested64"):  # cached from the high-precision gradient
        setup.__dict__.pop(derived, None)


def _budget_note(reason: str, evaluations: int, seconds: float, outcome: Any) -> str:
    done = len(outcome.traces)
    return (f"budget exceeded ({reason}) after {evaluations} evaluations in {seconds:.1f} s: {done} directional "
            f"derivative(s) completed and compared (listed in `checked`); nothing beyond them was checked")


def _early_result(f: Callable[..., Any], options: Options, stop: _Stopped, started: float) -> GradcheckResult:
    """The result of a check that ended before it began: a nondeterministic f, or no budget left."""
    result = GradcheckResult(status=stop.status, mode=options.mode, function=getattr(f, "__qualname__", repr(f)),
                             gradient_source=stop.source, argument_names=stop.names, tolerance=stop.tolerance,
                             high_precision=False, precision_note="no reference computed", notes=[stop.note])
    result.seconds = time.perf_counter() - started
    return result


def _gradient_hp(under_test: Any, cotangent: np.ndarray, ev: Evaluator, names: Any, source: str) -> Any:
    """The gradient under test evaluated at high precision, or None when its code cannot run there (the note
    names the user's line); a bug of the checker met on the way raises blame.CheckerError."""
    cotangent_hp = hparray.hp_view(ev.cotangent_hp(cotangent), ev.ctx)
    try:
        raw = mpmath_warnings.call(under_test, (cotangent_hp, *ev.args_hp))  # mpmath's own warnings: no reason
    except Exception as error:  # the user's call boundary: classified, a checker bug is re-raised
        fault = blame.checker_fault(error)
        if fault is not None:
            raise blame.CheckerError(f"the gradient ({source}) at high precision: {fault}") from error
        ev.notes.append(f"{source} cannot run at high precision ({precision.describe_failure(error)}); "
                        "the formula is judged in float64")
        return None
    try:
        grads = validate_gradients(raw, ev.args, names, source)
    except GradcheckUsageError as error:
        ev.notes.append(f"{source} at high precision: {error}; the formula is judged in float64")
        return None
    if all(precision.is_hp(g, ev.ctx) for g in grads):  # nan/inf kept and judged: named, not switched away
        ev.notes += gradient_notes(grads, names, source, "high-precision")
        return tuple(np.asarray(g, dtype=object) for g in grads)
    ev.notes.append(f"{source} returns float64 when given high-precision inputs; the formula is judged in float64")
    return None


def hp_values(values: np.ndarray, ctx: Any) -> np.ndarray:
    """Float values as exact high-precision numbers; unlike to_hp, non-finite values pass (they are verdicts)."""
    values = np.asarray(values)
    return exact.exact_objects(values, ctx)


def _accuracy_mismatches(setup: Setup) -> list[Mismatch]:
    """Diagnosis 2: the float64 gradient against the same gradient at high precision (free: no f calls)."""
    if setup.g_hp is None:
        return []
    out: list[Mismatch] = []
    for a, (g64, g_hp) in enumerate(zip(setup.g64, setup.g_hp, strict=True)):
        judged = ~mask(g_hp)  # a nan/inf at high precision is a formula finding, not an accuracy one
        out += [m for m in verdict.compare("float64_accuracy", g_hp, 0.0, hp_values(g64, setup.evaluator.ctx),
                               rtol=setup.tol.rtol_float64, tol=setup.tol, scale=verdict.scale_of(setup.tested64[a]),
                               argument=a, name=setup.names[a], worst=setup.worst, reference64=setup.tested64[a])
                if judged[m.index]]
    return out

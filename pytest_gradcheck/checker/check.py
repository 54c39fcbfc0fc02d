"""A gradient check, step by step: prepare the call, screen (auto mode), run the mode that decides, judge the
float64 accuracy, build the result, then check every op of f's trace on its own."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from pytest_gradcheck.checker import modes, per_op, planning, verdict
from pytest_gradcheck.checker.budget import Budget, BudgetExceeded
from pytest_gradcheck.checker.inputs import argument_names, validate_args
from pytest_gradcheck.checker.nonfinite import mask
from pytest_gradcheck.checker.options import Options, tier
from pytest_gradcheck.checker.result import GradcheckResult, Mismatch
from pytest_gradcheck.checker.setup import Setup, Stopped, hp_values, prepare
from pytest_gradcheck.hp import blame, quad
from pytest_gradcheck.hp import install as hp_twins

RUNNERS = {"full": modes.run_full, "fast": modes.run_fast, "taylor": modes.run_taylor, "diagonal": modes.run_diagonal}


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
    result.backend, result.digits = tier(options)  # the tier the check ran on when the checker raised
    result.seconds = time.perf_counter() - started
    return result


def _run_check(f: Callable[..., Any], args: Any, grad: Any, vjp: Any, options: Options) -> GradcheckResult:
    started = time.perf_counter()
    if options.budget is None:
        options = dataclasses.replace(options, budget=Budget(options.max_evaluations, options.max_seconds))
    try:
        setup, source = prepare(f, args, grad, vjp, options)
    except Stopped as stop:
        return _early_result(f, options, stop, started)
    run = _decide(setup, options)
    result = _result(f, setup, source, options, run, started)
    check_ops(result, f, setup.args, options, stopped=run.stopped is not None)
    result.seconds = time.perf_counter() - started
    return result


@dataclasses.dataclass
class _Run:
    """What the deciding run produced: its outcome, the mode that ran, why it stopped early, if it did, and
    whether the screen escalated to it."""

    outcome: Any
    mode: str
    stopped: str | None = None
    escalated: bool = False


def _decide(setup: Setup, options: Options) -> _Run:
    """auto mode screens first (one projection at high precision); a clean pass is the verdict. Anything else,
    and every other mode, runs the mode that decides (full, fast, taylor, diagonal)."""
    chosen = options.mode
    if chosen == "auto":
        chosen = "full" if sum(a.size for a in setup.args) <= planning.AUTO_FULL_LIMIT else "fast"
    screen = (options.mode == "auto" if options.screen is None else options.screen) \
        and setup.evaluator.high_precision and setup.g_hp is not None
    run = _Run(None, chosen)
    try:
        run.outcome = modes.run_screen(setup, planning.SCREEN_PROJECTIONS) if screen else None
        if run.outcome is not None:
            run.mode = "fast"
            return run
        if screen:  # the screening projection did not pass cleanly: the thorough check decides
            setup.worst.clear()
            run.escalated = True
        run.mode = _thorough_mode(setup, options, chosen)
        _verify_precision(setup, options)
        run.outcome = RUNNERS[run.mode](setup, options.projections)
    except BudgetExceeded as error:
        run.stopped = str(error)
        run.outcome = setup.progress if setup.progress is not None else modes.Outcome()
    return run


def _thorough_mode(setup: Setup, options: Options, chosen: str) -> str:
    """auto: a float64 reference when the high-precision one does not fit the budget, and then every element
    rather than projections when that is cheap enough."""
    if options.mode != "auto":
        return chosen
    if not planning.afford_high_precision(setup.evaluator, setup.args, options, thorough=True):
        planning.judge_in_float64(setup, options)
    return "full" if chosen == "fast" and planning.full_in_float64(setup, options) else chosen


def _verify_precision(setup: Setup, options: Options) -> None:
    """Measure f's round-off and look for a float64 buffer inside it, along one random direction."""
    if options.verify_precision:
        direction = [setup.rng.standard_normal(a.shape) for a in setup.args]
        setup.evaluator.measure_noise(direction)
        setup.evaluator.verify_no_float64_buffer(direction)


def _result(f: Callable[..., Any], setup: Setup, source: str, options: Options, run: _Run,
            started: float) -> GradcheckResult:
    """The verdict of both diagnoses, with everything the check found and how."""
    outcome, ev = run.outcome, setup.evaluator
    accuracy = _accuracy_mismatches(setup)
    status = verdict.decide(outcome.formula, accuracy, outcome.kinks, outcome.converged, run.stopped is not None)
    if run.escalated and status in ("pass", "float64_accuracy"):  # why a passing check cost more than usual
        outcome.notes.append(planning.SCREEN_FAILED_NOTE.format(chosen=run.mode))
    if run.stopped is not None:
        outcome.notes.append(_budget_note(run.stopped, ev.evaluations, time.perf_counter() - started, outcome))
    if not ev.high_precision:
        ev.notes.append(f"float64 reference: estimated noise of one evaluation of f {ev.float64_noise:.1e} "
                        f"(reference errors are bounded accordingly)")
    result = GradcheckResult(
        status=status, mode=run.mode, function=getattr(f, "__qualname__", repr(f)), gradient_source=source,
        argument_names=setup.names, tolerance=setup.tol.to_dict(),
        mismatches=verdict.rank(outcome.formula) + verdict.rank(accuracy), kinks=outcome.kinks,
        reference=outcome.reference, reference_error=outcome.reference_error, gradient=setup.g64,
        gradient_hp=setup.g_hp, high_precision=ev.high_precision, precision_note=ev.note,
        digits=ev.ctx.dps, backend=ev.tier, float64_constants=list(ev.constants), projections=outcome.projections,
        miss_probability=outcome.miss_probability,
        taylor=outcome.taylor, evaluations=ev.evaluations, notes=[*ev.notes, *outcome.notes],
        accuracy_is_warning=options.float64_accuracy == "warn", traces=outcome.traces, worst=dict(setup.worst),
        cotangent=setup.cotangent, checked=[t["label"] for t in outcome.traces] if run.stopped is not None else [],
    )
    if not any(a.size for a in setup.args):
        result.notes.append("nothing to check: every argument is empty")
    return result


def check_ops(result: GradcheckResult, f: Callable[..., Any], args: tuple[np.ndarray, ...], options: Options, *,
              stopped: bool) -> None:
    """The ops of f's autodiff_ref trace that `per_op` asks for (per_op.scope: with "auto", every op when the
    whole-function check did not pass, else the custom ones when the gradient is the engine's) checked on their
    own (run_check on the op's forward and backward rule), and the whole-function verdict related to theirs."""
    if options.per_op == "off":
        result.ops_note = 'per_op="off"'
        return
    if stopped:
        result.ops_note = "the budget was spent before the per-op checks"
        return
    scope = per_op.scope(options.per_op, result.status, result.gradient_source)
    if not scope:  # "auto" on a passing hand-written gradient: f is not even traced
        result.ops_note = per_op.passed_note()
        return
    result.ops, note, result.ops_note = op_rows(f, args, options, scope)
    result.notes += [note] if note else []
    per_op.attribute(result, result.ops)


def op_rows(f: Callable[..., Any], args: tuple[np.ndarray, ...], options: Options,
            scope: str = "all") -> tuple[list[Any], str, str]:
    """The per-op rows of f at `args` (numbered from 1 in tape order) for `scope` ("all" or "custom"), a note
    on what else was found, and why there are no rows or only some (per_op.ops_note; "" when every op has one)."""
    nodes, note = per_op.traced_ops(f, args)
    rows = [per_op.check_op(node, number, custom=custom, options=options, run=run_check)
            for number, node, custom in per_op.selected(nodes, scope)]
    note = per_op.skipped_note(rows, note)
    return per_op.mark_first_failing(rows), note, per_op.ops_note(rows, nodes, note, options.per_op)


def _budget_note(reason: str, evaluations: int, seconds: float, outcome: Any) -> str:
    done = len(outcome.traces)
    return (f"budget exceeded ({reason}) after {evaluations} evaluations in {seconds:.1f} s: {done} directional "
            f"derivative(s) completed and compared (listed in `checked`); nothing beyond them was checked")


def _early_result(f: Callable[..., Any], options: Options, stop: Stopped, started: float) -> GradcheckResult:
    """The result of a check that ended before it began: a nondeterministic f, or no budget left."""
    result = GradcheckResult(status=stop.status, mode=options.mode, function=getattr(f, "__qualname__", repr(f)),
                             gradient_source=stop.source, argument_names=stop.names, tolerance=stop.tolerance,
                             high_precision=False, precision_note="no reference computed", notes=[stop.note])
    result.seconds = time.perf_counter() - started
    return result


def _accuracy_mismatches(setup: Setup) -> list[Mismatch]:
    """Diagnosis 2: the float64 gradient against the same gradient at high precision (free: no f calls)."""
    if setup.g_hp is None:
        return []
    out: list[Mismatch] = []
    for a, (g64, g_hp) in enumerate(zip(setup.g64, setup.g_hp, strict=True)):
        judged = ~mask(g_hp)  # a nan/inf at high precision is a formula finding, not an accuracy one
        under_test = g64 if quad.is_quad(g_hp) else hp_values(g64, setup.evaluator.ctx)  # quad: subtracted natively
        out += [m for m in verdict.compare("float64_accuracy", g_hp, 0.0, under_test,
                               rtol=setup.tol.rtol_float64, tol=setup.tol, scale=verdict.scale_of(setup.tested64[a]),
                               argument=a, name=setup.names[a], worst=setup.worst, reference64=setup.tested64[a])
                if judged[m.index]]
    return out

"""A second-order check, step by step: prepare the call, screen (auto mode), run the mode that decides (full or
fast), judge both diagnoses and build the result. check_hvp and check_hessian differ only in the derivative
under test (`UnderTest`) and in what they add to the verdict (the Hessian's symmetry)."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from pytest_gradcheck.checker import planning, second_modes, verdict
from pytest_gradcheck.checker.budget import Budget, BudgetExceeded
from pytest_gradcheck.checker.options import Options, tier
from pytest_gradcheck.checker.result import GradcheckResult, Mismatch
from pytest_gradcheck.checker.second_modes import SecondOutcome
from pytest_gradcheck.checker.second_setup import SecondSetup, UnderTest, evaluator, scalar_call, stop_context
from pytest_gradcheck.checker.setup import Stopped
from pytest_gradcheck.hp import blame
from pytest_gradcheck.hp import install as hp_twins

# auto: full mode evaluates n (n + 1) / 2 directions of 6 evaluations each; past this many input elements
# (136 directions, ~820 evaluations) it checks random projections instead (12 evaluations each).
FULL_LIMIT = 16
# The screen (one projection, no precision checks: a float64 buffer inside f can only make it fail) decides
# alone when it agrees within this share of the tolerance, as first order's screen does.
SCREEN_SHARE = 1e-3
# Planning auto's budget: each direction's second difference costs 6 evaluations; the precision checks of f
# (round-off measurement, float64-buffer check) about 16.
EVALUATIONS_PER_DIRECTION, PRECISION_CHECK_EVALUATIONS = 6, 16
Builder = Callable[[tuple[np.ndarray, ...], tuple[str, ...], Any], UnderTest]
Extra = Callable[[SecondSetup, SecondOutcome], list[Mismatch]]


def run_second(f: Callable[..., Any], args: Any, build: Builder, options: Options, kind: str,
               extra: Extra | None = None) -> GradcheckResult:
    """The check itself, with validated options; never raises on a failing verdict (a bug of the checker met
    while it runs the user's code gives status "error")."""
    started = time.perf_counter()
    if options.budget is None:
        options = dataclasses.replace(options, budget=Budget(options.max_evaluations, options.max_seconds))
    with hp_twins.patched():
        try:
            result = _run(blame.user_code(f), args, build, options, kind, extra)
        except Stopped as stop:
            result = GradcheckResult(status=stop.status, mode=options.mode, function=_name(f),
                                     gradient_source=stop.source, argument_names=stop.names,
                                     tolerance=stop.tolerance, high_precision=False,
                                     precision_note="no reference computed", notes=[stop.note])
        except blame.CheckerError as error:
            result = GradcheckResult(status="error", mode=options.mode, function=_name(f), gradient_source="",
                                     argument_names=(), tolerance=stop_context("", (), options)[2],
                                     high_precision=False,
                                     precision_note="no reference computed", notes=[f"checker error: {error.where}"])
            result.backend, result.digits = tier(options)
    result.function = _name(f)
    result.kind = kind
    result.seconds = time.perf_counter() - started
    return result


def _name(f: Any) -> str:
    return getattr(f, "__qualname__", repr(f))


def _run(f: Callable[..., Any], args: Any, build: Builder, options: Options, kind: str,
         extra: Extra | None) -> GradcheckResult:
    arrays, names, value = scalar_call(f, args, "check_hessian" if kind == "hessian" else "check_hvp")
    ev = evaluator(f, arrays, value, options)
    setup = SecondSetup(f, arrays, names, ev, build(arrays, names, ev.ctx), options,
                        np.random.default_rng(0 if options.seed is None else options.seed))
    mode, stopped, outcome = options.mode, None, SecondOutcome()
    try:
        mode, outcome = _decide(setup, kind)
        extras = extra(setup, outcome) if extra is not None else []
    except BudgetExceeded as error:
        stopped, extras = str(error), []
    return _result(setup, outcome, mode, stopped, extras)


def _decide(setup: SecondSetup, kind: str) -> tuple[str, SecondOutcome]:
    """auto: one screening projection at high precision; a clean pass is the verdict, anything else runs full
    (up to FULL_LIMIT elements) or fast. Other modes run as asked, after the precision checks of f."""
    mode = setup.options.mode
    if mode == "auto":
        _afford(setup)
        if setup.evaluator.high_precision:
            screen = second_modes.run_fast(setup, 1, narrow=False, levels=_screen_levels(setup))
            if _clean(screen):
                return "fast", screen
            setup.worst.clear()
        mode = "full" if setup.size <= FULL_LIMIT else "fast"
    elif mode not in ("full", "fast"):
        raise ValueError(f"mode: expected 'auto', 'full' or 'fast', got {mode!r}")  # validated by the api
    _verify_precision(setup)
    if mode == "full":
        return mode, second_modes.run_full(setup, kind)
    return mode, second_modes.run_fast(setup, setup.options.projections)


# On quad (113 bits) the screen's second differences take a fourth step, s/8 (8 evaluations per direction, not
# 6): their step grows ~15-fold and their round-off, NOISE_ULPS ulps of |f| over s^2, shrinks ~75-fold, which
# the screen's window needs when |f| is much larger than the second derivatives (three_layer_net: |f| 0.13,
# u^T H v ~0.008). At 40 digits and more, round-off is far below the window: three steps.
QUAD_SCREEN_LEVELS = 4


def _screen_levels(setup: SecondSetup) -> int:
    return QUAD_SCREEN_LEVELS if setup.evaluator.backend == "quad" else 3


def _afford(setup: SecondSetup) -> None:
    """auto: a high-precision reference only when its planned evaluations (the screen's, then full's or fast's),
    timed by the evaluator's probe, fit AUTO_BUDGET_SHARE of the budget left; else the float64 reference."""
    ev, options = setup.evaluator, setup.options
    if not ev.high_precision or options.budget is None:
        return
    directions = setup.size * (setup.size + 1) // 2 if setup.size <= FULL_LIMIT else 2 * options.projections
    screen = 2 * 2 * _screen_levels(setup)  # its two directions, 2 evaluations per step
    planned = PRECISION_CHECK_EVALUATIONS + screen + EVALUATIONS_PER_DIRECTION * directions
    predicted = ev.probe_seconds * planned
    if predicted > planning.AUTO_BUDGET_SHARE * options.budget.remaining():
        ev.fall_back(f"reference limited to float64 by the budget: one high-precision evaluation of f took "
                     f"{ev.probe_seconds:.2g} s, so the ~{planned} evaluations of this check would take "
                     f"~{predicted:.0f} s of max_seconds={options.max_seconds:g}; raise max_seconds (or pass "
                     "mode='fast'/'full') for a high-precision reference")


def _clean(screen: SecondOutcome) -> bool:
    """Whether the screening projection decides alone: it agreed, its reference error included, within
    SCREEN_SHARE of the tolerance (the verdict then states the chance that such a pass misses an error)."""
    if screen.formula or screen.accuracy or screen.kinks or not screen.converged or screen.margin > SCREEN_SHARE:
        return False
    screen.miss_probability = second_modes.miss_probability(1, 1 / SCREEN_SHARE)
    screen.notes = [f"screen: one random projection u^T H v at high precision agreed within {SCREEN_SHARE:g} of "
                    f"the tolerance (an error of one entry of H the size of the tolerance gets through with "
                    f"probability {screen.miss_probability:.1g}; anything else runs the full or fast check)"]
    return True


def _verify_precision(setup: SecondSetup) -> None:
    """f's round-off measured, and a float64 buffer inside f looked for, along one random direction."""
    direction = [setup.rng.standard_normal(a.shape) for a in setup.args]
    setup.evaluator.measure_noise(direction)
    setup.evaluator.verify_no_float64_buffer(direction)


def _result(setup: SecondSetup, outcome: SecondOutcome, mode: str, stopped: str | None,
            extras: list[Mismatch]) -> GradcheckResult:
    ev = setup.evaluator
    tol = outcome.tol if outcome.tol is not None else setup.tolerances(True)
    formula = verdict.rank(outcome.formula) + verdict.rank(extras)
    status = verdict.decide(formula, outcome.accuracy, outcome.kinks, outcome.converged, stopped is not None)
    notes = [*ev.notes, *setup.under_test.notes, *outcome.notes]
    if stopped is not None:
        notes.append(f"budget exceeded ({stopped}) after {ev.evaluations} evaluations: no verdict")
    if not ev.high_precision:
        notes.append("float64 reference: second differences of float64 values resolve about 7 digits of H "
                     "(their error estimates bound the tolerance accordingly)")
    if any(np.isinf(k.left) for k in outcome.kinks):
        notes.append("a kink where f's first derivative jumps: its second derivative is a Dirac mass, any finite "
                     "value under test is a conventional choice")
    return GradcheckResult(
        status=status, mode=mode, function="", gradient_source=setup.under_test.source, argument_names=setup.names,
        tolerance=tol.to_dict(), mismatches=formula + verdict.rank(outcome.accuracy), kinks=outcome.kinks,
        reference=outcome.reference, reference_error=outcome.reference_error, gradient=outcome.tested,
        high_precision=ev.high_precision, precision_note=ev.note, digits=ev.ctx.dps, backend=ev.tier,
        float64_constants=list(ev.constants), projections=outcome.projections,
        miss_probability=outcome.miss_probability, evaluations=ev.evaluations, notes=notes,
        accuracy_is_warning=setup.options.float64_accuracy == "warn", worst=dict(setup.worst))

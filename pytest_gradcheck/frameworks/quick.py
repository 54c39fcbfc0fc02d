"""The quick float64 screen of a framework check without reference= (checker.float64_screen): when it runs, and
the passing result it gives. A screen that does not pass is no verdict: the thorough check runs and decides."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import numpy as np

from pytest_gradcheck.checker import float64_screen, modes
from pytest_gradcheck.checker.inputs import argument_names
from pytest_gradcheck.checker.options import Options
from pytest_gradcheck.checker.result import GradcheckResult
from pytest_gradcheck.checker.verdict import resolve_tolerances

PROJECTIONS = 2  # each projection: 6 evaluations of f (7 for the first), no extra gradient evaluation
# Evaluations a quick screen spends at most: 1 + 6 per projection; a budget below it goes to the thorough check.
COST = 1 + 2 * float64_screen.LEVELS * PROJECTIONS
PASS_NOTE = ("quick screen: {n} random projections of the gradient agreed with Richardson tables of f's float64 "
             "forward to {agreement:g} of each projection's size (largest gap {worst:.1e}; the tables' error "
             "estimates below that, and no kink in their even parts), so the {size} elements were not checked one "
             "by one: an error vector 1000x that agreement goes unseen with probability {miss:.0e}; "
             'mode="full" checks every element')
FAILED_NOTE = "the quick screen did not agree clearly ({why}); the thorough float64 check decided"


def applies(options: Options) -> bool:
    """Auto mode at the default tolerances (a user's rtol/atol is judged by the thorough check, which states it)
    and a budget that covers the screen. (Its pass draws no pictures: plots are drawn for failures and kinks.)"""
    budget_ok = options.max_evaluations is None or options.max_evaluations >= COST
    return options.mode == "auto" and options.rtol is None and options.atol is None and budget_ok


def screen(function: Callable[..., Any], args: tuple[np.ndarray, ...], grad: Any, vjp: Any,
           options: Options) -> tuple[GradcheckResult | None, int, str]:
    """The passing result of the quick screen, or None with the evaluations it spent and why it did not pass.
    Anything the user's code raises here is left for the thorough check, which reports it."""
    rng = np.random.default_rng([0 if options.seed is None else options.seed, 7])

    def gradient(cotangent: np.ndarray) -> Any:
        if grad is None:
            return vjp(cotangent, *args)
        if cotangent.size != 1:
            raise ValueError("grad= with a non-scalar output")
        value = grad(*args)
        return value if isinstance(value, tuple | list) else (value,)

    try:
        run = float64_screen.run_screen(function, args, gradient, projections=PROJECTIONS, rng=rng)
    except Exception as error:  # the thorough check runs the same calls and reports what they raise
        return None, 0, f"it raised {type(error).__name__}"
    if not run.passed:
        return None, run.evaluations, run.why
    return passed_result(function, args, run, "vjp" if grad is None else "grad"), run.evaluations, ""


def passed_result(function: Callable[..., Any], args: tuple[np.ndarray, ...], run: float64_screen.ScreenRun,
                  source: str) -> GradcheckResult:
    """A pass in mode "fast" on the float64 tier; its tolerance is the agreement it was held to. `source`: "grad"
    or "vjp" (the framework's own autograd is named by the caller)."""
    tolerance = resolve_tolerances(np.dtype(np.float64), rtol=float64_screen.AGREEMENT, atol=0.0, hp_formula=False)
    tolerance = dataclasses.replace(tolerance, relative_floor=float64_screen.SIZE_FLOOR)
    size = sum(a.size for a in args)
    note = PASS_NOTE.format(n=PROJECTIONS, agreement=float64_screen.AGREEMENT, worst=run.worst(), size=size,
                            miss=modes.miss_probability(PROJECTIONS, 1e3))
    return GradcheckResult(
        status="pass", mode="fast", function=getattr(function, "__qualname__", repr(function)), gradient_source=source,
        argument_names=argument_names(function, len(args)), tolerance=tolerance.to_dict(), gradient=run.gradient,
        high_precision=False,
        precision_note="reference limited to float64: the framework's forward runs in float64 only",
        digits=16, backend="float64", projections=PROJECTIONS, miss_probability=modes.miss_probability(PROJECTIONS),
        evaluations=run.evaluations, notes=[note], traces=[p.trace() for p in run.projections],
        worst={"formula": run.worst()}, cotangent=run.cotangent.ravel())

"""The quick screens of a framework check (checker.float64_screen without reference=, checker.quad_screen on the
quad tier with it): when they run, and the passing result they give. A screen that does not pass is no verdict: the
thorough check runs and decides."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any, NamedTuple

import numpy as np

from pytest_gradcheck.checker import float64_screen, modes, quad_screen
from pytest_gradcheck.checker.inputs import argument_names, gradient_under_test, validate_gradients
from pytest_gradcheck.checker.options import Options
from pytest_gradcheck.checker.result import GradcheckResult
from pytest_gradcheck.checker.verdict import resolve_tolerances
from pytest_gradcheck.hp import quad

PROJECTIONS = 2  # random projections, each 6 evaluations of f in float64 (3 on quad), no extra gradient evaluation
# Evaluations a quick screen spends at most (f and the projections, in float64); a smaller max_evaluations goes to
# the thorough check.
COST = 1 + 2 * float64_screen.LEVELS * PROJECTIONS


class Tier(NamedTuple):
    """What a pass says of a quick screen's tier."""

    reference: str  # the reference function
    tables: str  # what each projection is compared with
    kinks: str  # where a kink would show
    weighting: str  # how elements weigh in the projections
    agreement: float  # the share of a projection's size gradient and table agree within


TIERS = {
    "float64": Tier("f's float64 forward", "Richardson tables", "the even parts",
                    f" (elements below {float64_screen.SPREAD:g} of the largest weighted "
                    f"{float64_screen.SMALL_WEIGHT:g}x)", float64_screen.AGREEMENT),
    "quad": Tier("the reference on the quad tier (113 bits)", "the slopes of cubics through 4 points",
                 "the third differences", f" (each element weighted by 1 / max(|g_i|, {quad_screen.ELEMENT_FLOOR:g} "
                 "of the largest))", quad_screen.AGREEMENT)}
PASS_NOTE = ("quick screen: {n} random projections of the gradient{weighting} agreed with {tables} of {reference} "
             "to {agreement:g} of each one's size (largest gap {worst:.1e}; the error estimates below that, and no "
             "kink in {kinks}), so the {size} elements were not checked one by one: an error vector 1000x "
             'that agreement goes unseen with probability {miss:.0e}; mode="full" checks every element')
FAILED_NOTE = "the quick screen did not agree clearly ({why}); the thorough check decided"


def applies(options: Options) -> bool:
    """Auto mode at the default tolerances (a user's rtol/atol is judged by the thorough check, which states it)
    and a budget that covers the screen. (Its pass draws no pictures: plots are drawn for failures and kinks.)"""
    budget_ok = options.max_evaluations is None or options.max_evaluations >= COST
    return options.mode == "auto" and options.rtol is None and options.atol is None and budget_ok


def tier_of(reference: Any, options: Options) -> str | None:
    """"float64" without reference=; "quad" with it, when the quad tier is the check's (installed, backend "auto"
    or "quad", no digits=); None: no quick screen (mpmath is not quick)."""
    if reference is None:
        return "float64"
    if options.digits is None and options.backend in ("auto", "quad") and quad.available():
        return "quad"
    return None


def screen(function: Callable[..., Any], args: tuple[np.ndarray, ...], grad: Any, vjp: Any, options: Options,
           tier: str, batch: Any = None) -> tuple[GradcheckResult | None, int, str]:
    """The passing result of the quick screen on `tier`, or None with the evaluations it spent and why it did not
    pass (`batch`: the function at several points at once, for the float64 tier). Anything the user's code raises
    here is left for the thorough check, which reports it."""
    rng = np.random.default_rng([0 if options.seed is None else options.seed, 7])

    def gradient(cotangent: np.ndarray) -> tuple[Any, ...]:
        return gradient_at(function, args, grad, vjp, cotangent)

    try:
        if tier == "quad":
            run = quad_screen.run_screen(function, args, gradient, projections=PROJECTIONS, rng=rng)
        else:
            run = float64_screen.run_screen(function, args, gradient, projections=PROJECTIONS, rng=rng, batch=batch)
    except Exception as error:  # the thorough check runs the same calls and reports what they raise
        return None, 0, f"it raised {type(error).__name__}"
    if not run.passed:
        return None, run.evaluations, run.why
    return passed_result(function, args, run, "vjp" if grad is None else "grad", tier), run.evaluations, ""


def gradient_at(function: Callable[..., Any], args: tuple[np.ndarray, ...], grad: Any, vjp: Any,
                cotangent: np.ndarray) -> tuple[Any, ...]:
    """The gradient under test at `args` with `cotangent` (grad= needs a scalar f), one array per argument, as the
    check calls and validates it (GradcheckUsageError otherwise)."""
    under_test, source = gradient_under_test(function, grad, vjp, scalar_output=cotangent.size == 1)
    names = argument_names(function, len(args))
    return validate_gradients(under_test(cotangent, *args), args, names, source)


def passed_result(function: Callable[..., Any], args: tuple[np.ndarray, ...], run: float64_screen.ScreenRun,
                  source: str, tier: str) -> GradcheckResult:
    """A pass in mode "fast" on `tier`; its tolerance is the agreement it was held to. `source`: "grad" or "vjp"
    (the framework's own autograd is named by the caller)."""
    said = TIERS[tier]
    tolerance = resolve_tolerances(np.dtype(np.float64), rtol=said.agreement, atol=0.0, hp_formula=tier == "quad")
    tolerance = dataclasses.replace(tolerance, relative_floor=float64_screen.SIZE_FLOOR)
    note = PASS_NOTE.format(n=PROJECTIONS, **said._asdict(), worst=run.worst(), size=sum(a.size for a in args),
                            miss=modes.miss_probability(PROJECTIONS, 1e3))
    precision_note = "" if tier == "quad" else \
        "reference limited to float64: the framework's forward runs in float64 only"
    return GradcheckResult(
        status="pass", mode="fast", function=getattr(function, "__qualname__", repr(function)), gradient_source=source,
        argument_names=argument_names(function, len(args)), tolerance=tolerance.to_dict(), gradient=run.gradient,
        high_precision=tier == "quad", precision_note=precision_note,
        digits=quad.QUAD_DIGITS if tier == "quad" else 16, backend=tier, projections=PROJECTIONS,
        miss_probability=modes.miss_probability(PROJECTIONS), evaluations=run.evaluations, notes=[note],
        traces=[p.trace() for p in run.projections], worst={"formula": run.worst()}, cotangent=run.cotangent.ravel())

"""auto mode's choices: a high-precision reference or a float64 one, every element or random projections."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from pytest_gradcheck.checker import gradient_noise, verdict
from pytest_gradcheck.checker.evaluation import Evaluator
from pytest_gradcheck.checker.options import Options

# Full mode spends one directional derivative (a handful of high-precision evaluations) per element; past
# this many elements `auto` switches to random projections, whose cost does not grow with the input size.
AUTO_FULL_LIMIT = 64
# With a float64 reference an evaluation costs microseconds, and one projection of many elements dilutes an
# error below the float64 reference's own error: `auto` checks every element up to this many, when the timed
# float64 evaluation says the ~FLOAT64_PER_ELEMENT evaluations per element fit AUTO_BUDGET_SHARE of the budget.
AUTO_FULL_LIMIT_FLOAT64 = 256
FLOAT64_PER_ELEMENT = 40  # float64_derivative: 27 evaluations on a smooth function, more for staircases
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


def afford_high_precision(evaluator: Evaluator, args: tuple[np.ndarray, ...], options: Options,
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


def full_in_float64(setup: Any, options: Options) -> bool:
    """auto with a float64 reference: every element (full) rather than projections, when it is cheap enough."""
    size = sum(a.size for a in setup.args)
    if setup.evaluator.high_precision or size > AUTO_FULL_LIMIT_FLOAT64:
        return False
    if options.max_evaluations is not None and \
            FLOAT64_PER_ELEMENT * size > options.max_evaluations - setup.evaluator.evaluations:
        return False
    remaining = options.budget.remaining() if options.budget is not None else math.inf
    return setup.seconds64 * FLOAT64_PER_ELEMENT * size <= AUTO_BUDGET_SHARE * remaining


def judge_in_float64(setup: Any, options: Options) -> None:
    """After a fall-back to the float64 reference: the formula is judged in float64 too (at high precision's
    tolerance against a float64 reference every correct gradient would fail)."""
    setup.g_hp = None
    setup.tol = verdict.resolve_tolerances(np.result_type(*setup.args), rtol=options.rtol, atol=options.atol,
                                           hp_formula=False)
    gradient_noise.apply(setup, options)
    for derived in ("projection_tol", "tested64"):  # cached from the high-precision gradient
        setup.__dict__.pop(derived, None)

"""A forward-mode check, step by step: the JVP under test along tangents against the same high-precision
directional derivative J u that the first-order check computes (every output element at once, with its error
estimate), in two diagnoses (the formula, at high precision; the float64 evaluation against the same JVP at high
precision), and, given a VJP, whether the two are transposes of each other (`jvp_transpose`).

Modes: "full" (every unit tangent e_j: the whole Jacobian, column by column, element by element), "fast" (random
tangents, every output element of J v compared), "auto" (one random tangent screened as the first-order check
does, on quad with a 6-evaluation Richardson derivative where the 3-evaluation one's round-off is in the way,
then full up to planning.AUTO_FULL_LIMIT input elements, else fast).
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from pytest_gradcheck.checker import differences, modes, planning, verdict
from pytest_gradcheck.checker.budget import Budget, BudgetExceeded
from pytest_gradcheck.checker.inputs import (
    GradcheckUsageError,
    argument_names,
    describe,
    validate_args,
    validate_output,
)
from pytest_gradcheck.checker.jvp_setup import JvpSetup, under_test
from pytest_gradcheck.checker.jvp_transpose import transpose_mismatches
from pytest_gradcheck.checker.nonfinite import floats, mask, step_reason
from pytest_gradcheck.checker.options import Options, tier
from pytest_gradcheck.checker.result import GradcheckResult, Kink, Mismatch
from pytest_gradcheck.checker.setup import Stopped, hp_values, make_evaluator, same_twice
from pytest_gradcheck.hp import blame, precision
from pytest_gradcheck.hp import install as hp_twins

JVP_MODES = ("auto", "full", "fast")
KIND = "jvp"
RANDOM = "a random tangent"


def run_jvp_check(f: Callable[..., Any], args: Any, jvp: Any, vjp: Any, options: Options) -> GradcheckResult:
    """The check itself, with validated options; never raises on a failing verdict. A bug of the checker met
    while it runs the user's code gives status "error"."""
    started = time.perf_counter()
    if options.mode not in JVP_MODES:
        raise GradcheckUsageError(f"mode: expected one of {JVP_MODES} for a jvp check, got {options.mode!r}")
    user = [blame.user_code(g) if callable(g) else g for g in (f, jvp, vjp)]
    with hp_twins.patched():  # non-dispatching functions (scipy.linalg's) reach their high-precision twins
        try:
            return _run(*user, args, options, started)
        except blame.CheckerError as error:
            return _bare_result(f, args, options, "error", f"checker error: {error.where}", "", started)


@dataclasses.dataclass
class Outcome:
    """What the deciding run found: both diagnoses' mismatches, kinks, and what it compared."""

    mode: str
    formula: list[Mismatch] = dataclasses.field(default_factory=list)
    accuracy: list[Mismatch] = dataclasses.field(default_factory=list)
    kinks: list[Kink] = dataclasses.field(default_factory=list)
    converged: bool = True
    notes: list[str] = dataclasses.field(default_factory=list)
    checked: list[str] = dataclasses.field(default_factory=list)  # the tangents compared, in order
    reference: tuple[np.ndarray, ...] | None = None  # full mode: the Jacobian, out.shape + x.shape per argument
    reference_error: tuple[np.ndarray, ...] | None = None
    jacobian64: tuple[np.ndarray, ...] = ()  # full mode: the float64 JVP's Jacobian, the same shapes
    projections: int = 0
    miss_probability: float | None = None
    stopped: str | None = None


def _run(f: Any, jvp: Any, vjp: Any, args: Any, options: Options, started: float) -> GradcheckResult:
    if options.budget is None:
        options = dataclasses.replace(options, budget=Budget(options.max_evaluations, options.max_seconds))
    try:
        setup = prepare(f, args, jvp, vjp, options)
    except Stopped as stop:
        return _bare_result(f, args, options, stop.status, stop.note, stop.source, started)
    outcome = Outcome(options.mode)
    try:
        _decide(setup, options, outcome)
        if setup.vjp is not None:
            outcome.formula += transpose_mismatches(setup, outcome.notes)
    except BudgetExceeded as error:
        outcome.stopped = str(error)
    return _result(setup, options, outcome, started)


def prepare(f: Any, args: Any, jvp: Any, vjp: Any, options: Options) -> JvpSetup:
    """Validate the call, evaluate f twice in float64 (the values must agree), open the evaluator at high
    precision, and find out whether the JVP under test runs there (along one random tangent)."""
    if not callable(f):
        raise GradcheckUsageError(f"f: expected a callable, got {describe(f)}; the function comes first: "
                                  "check_jvp(f, args)")
    args = validate_args(args, lambda n: argument_names(f, n))
    names = argument_names(f, len(args))
    value = validate_output(f(*args), "f(*args)")
    jvp, vjp, source = under_test(f, jvp, vjp)
    context = (source, names, verdict.resolve_tolerances(np.result_type(*args), rtol=options.rtol,
                                                         atol=options.atol, hp_formula=True).to_dict())
    same_twice("f", value, validate_output(f(*args), "f(*args)"), context)
    evaluator = make_evaluator(f, args, value, options, context)
    rng = np.random.default_rng(0 if options.seed is None else options.seed)  # a fixed default: reproducible
    setup = JvpSetup(f, args, names, value, jvp, vjp, source, evaluator, rng, (options.rtol, options.atol))
    direction = [rng.standard_normal(x.shape) for x in args]
    same_twice(f"the jvp ({source})", setup.jvp64(direction, RANDOM), setup.jvp64(direction, RANDOM), context)
    if evaluator.high_precision:
        setup.jvp_hp(direction, RANDOM)  # does it run at high precision? (a note says why not)
    return setup


def _decide(setup: JvpSetup, options: Options, outcome: Outcome) -> None:
    """auto screens first (one random tangent at high precision); a clean pass is the verdict. Anything else,
    and every other mode, runs full or fast after the precision checks."""
    size = sum(a.size for a in setup.args)
    chosen = options.mode if options.mode != "auto" else "full" if size <= planning.AUTO_FULL_LIMIT else "fast"
    if options.mode == "auto" and setup.judged_at_high_precision and _screen(setup, outcome):
        return
    if options.mode == "auto":
        planning.afford_high_precision(setup.evaluator, setup.args, options, thorough=True)
    outcome.mode = chosen
    if setup.evaluator.high_precision:  # round-off of f and float64 buffers inside it, along one direction
        direction = [setup.rng.standard_normal(a.shape) for a in setup.args]
        setup.evaluator.measure_noise(direction)
        setup.evaluator.verify_no_float64_buffer(direction)
    (_run_full if chosen == "full" else _run_fast)(setup, options.projections, outcome)


def _screen(setup: JvpSetup, outcome: Outcome) -> bool:
    """One random tangent at high precision: every output element within modes.SCREEN_SHARE of its tolerance,
    the derivative's error included, is a pass (mode "fast", one projection). The derivative is the
    3-evaluation one, or on quad, where its round-off (NOISE_ULPS ulps of |f| over a step ~eps^(1/3)) can
    exceed the window of an output element much smaller than |f|, the 6-evaluation Richardson one: at once when
    that round-off is predicted in the way, else as a second attempt when the first's error estimate was. The
    second attempt is along the same tangent, against the same JVP under test: it can only shrink the reference's
    error, never give an error in the JVP a second chance to hide (the miss probability stays that of one
    tangent)."""
    u = [setup.rng.standard_normal(a.shape) for a in setup.args]
    tested = setup.jvp_hp(u, RANDOM)
    if tested is None:
        return False
    ev = setup.evaluator
    quad = ev.backend == "quad"
    d = ev.richardson_derivative(u) if quad and _roundoff_in_the_way(setup, tested) else ev.quick_derivative(u)
    agreed, estimate_in_the_way = _screened(setup, d, tested)
    if not agreed and estimate_in_the_way and quad and d.evaluations == 3:
        agreed = _screened(setup, ev.richardson_derivative(u), tested)[0]
    if not agreed:
        setup.worst.clear()
        return False
    outcome.mode, outcome.projections = "fast", 1
    outcome.miss_probability = modes.miss_probability(1, 1 / modes.SCREEN_SHARE)
    outcome.checked.append(RANDOM)
    outcome.accuracy += _accuracy(setup, setup.jvp64(u, RANDOM), tested, None, "random tangent (screen)", ())
    outcome.notes.append(f"screen: one random tangent at high precision agreed within {modes.SCREEN_SHARE:g} of "
                         "the tolerance in every output element (an error the size of the tolerance gets through "
                         f"with probability {outcome.miss_probability:.1g}; anything else runs the full or fast "
                         "check)")
    return True


def _window(setup: JvpSetup, values: Any) -> np.ndarray:
    """The screen's window per output element: modes.SCREEN_SHARE of the tolerance of J u ~ `values`."""
    tol = setup.tol
    return modes.SCREEN_SHARE * verdict.allowed(values, 0.0, verdict.scale_of(values), tol.rtol_formula, tol)


def _roundoff_in_the_way(setup: JvpSetup, tested: np.ndarray) -> bool:
    """Whether the 3-evaluation derivative's round-off alone, predicted from |f| at the point, would take more
    than half the window of some output element (the JVP under test standing in for J u): a choice of cost only,
    every derivative's error estimate is honest."""
    ev = setup.evaluator
    roundoff = differences.quick_roundoff(ev.ctx, ev.scale, np.abs(floats(ev.value_hp)))
    return bool(np.any(setup.tol.safety * roundoff > _window(setup, tested) / 2))


def _screened(setup: JvpSetup, d: Any, tested: np.ndarray) -> tuple[bool, bool]:
    """Whether the screen's derivative agrees with the JVP within the screen's window in every output element,
    and, when it does not, whether only its error estimate stands in the way (every difference within its
    window)."""
    tol = setup.tol
    scale = verdict.scale_of(d.value)
    discrepancy = floats(np.abs(tested - d.value))
    size = verdict.error_scale(d.value, scale, tol)
    with np.errstate(invalid="ignore", divide="ignore"):
        relative = float(np.max(np.where(size > 0, discrepancy / size, np.where(discrepancy > 0, np.inf, 0.0)),
                                initial=0.0))
    setup.worst["formula"] = max(setup.worst.get("formula", 0.0), relative)
    window = _window(setup, d.value)
    if np.all(discrepancy + tol.safety * floats(d.error) <= window):
        return True, False
    return False, bool(np.all(discrepancy < window))


def _run_full(setup: JvpSetup, projections: int, outcome: Outcome) -> None:
    """Every unit tangent e_j of every argument: the Jacobian column by column, every element compared."""
    out = setup.value.size
    references, errors, jacobians = [], [], []
    for a, x in enumerate(setup.args):
        reference = np.zeros((out, x.size), dtype=object if setup.evaluator.high_precision else float)
        error, jacobian = np.zeros((out, x.size)), np.zeros((out, x.size))
        for i in range(x.size):
            where = f"element {tuple(int(k) for k in np.unravel_index(i, x.shape))}"
            d, t64 = _judge(setup, setup.evaluator.unit(a, i), a, setup.names[a], where, outcome)
            reference[:, i], error[:, i], jacobian[:, i] = d.value, floats(d.error), t64
        shape = setup.value.shape + x.shape
        references.append(reference.reshape(shape))
        errors.append(error.reshape(shape))
        jacobians.append(jacobian.reshape(shape))
    outcome.reference, outcome.reference_error = tuple(references), tuple(errors)
    outcome.jacobian64 = tuple(jacobians)


def _run_fast(setup: JvpSetup, projections: int, outcome: Outcome) -> None:
    """Random Gaussian tangents over every argument, every output element of J v compared. An error e in one
    row of the Jacobian shows as <e, v> ~ N(0, |e|^2) in that output element: as for first-order projections,
    it goes unseen with probability modes.miss_probability."""
    outcome.projections = projections
    outcome.miss_probability = modes.miss_probability(projections)
    for k in range(projections):
        direction = [setup.rng.standard_normal(a.shape) for a in setup.args]
        _judge(setup, direction, None, f"random tangent {k}", "", outcome)
    outcome.notes.append(f"an error 10x the tolerance goes unseen with probability "
                         f"{modes.miss_probability(projections, 10):.1g}; mode=\"full\" names the argument and "
                         "element of a failing tangent")


def _output_place(shape: tuple[int, ...], k: int) -> str:
    return f"output element {tuple(int(i) for i in np.unravel_index(k, shape))}" if shape else "output"


def _judge(setup: JvpSetup, direction: list[np.ndarray | None], argument: int | None, name: str, where: str,
           outcome: Outcome) -> tuple[Any, np.ndarray]:
    """One tangent: the reference J u against the JVP under test in every output element (formula), and the
    float64 JVP against the same JVP at high precision (accuracy); returns the reference and the float64 JVP."""
    ev = setup.evaluator
    tangent = f"argument {argument} ({name!r}), {where}" if argument is not None else name
    d = ev.derivative(direction)
    outcome.checked.append(tangent)
    t64 = setup.jvp64(direction, tangent)
    t_hp = setup.jvp_hp(direction, tangent) if setup.judged_at_high_precision else None
    tested = t_hp if t_hp is not None else t64
    labels = [_output_place(setup.value.shape, k) + (f" along {where}" if where else "")
              for k in range(setup.value.size)]
    judged = _judged(setup, d, tested, argument, tangent, labels, outcome)
    tol = setup.tol
    found = verdict.compare("formula", d.value[judged], floats(d.error)[judged], tested[judged],
                            rtol=tol.rtol_formula, tol=tol, scale=verdict.scale_of(d.value), argument=argument,
                            name=name, labels=[labels[k] for k in np.flatnonzero(judged)], worst=setup.worst)
    outcome.formula += found
    if t_hp is not None:
        outcome.accuracy += _accuracy(setup, t64, t_hp, argument, name, labels)
    return d, t64


def _accuracy(setup: JvpSetup, t64: np.ndarray, t_hp: np.ndarray, argument: int | None, name: str,
              labels: Any) -> list[Mismatch]:
    """Diagnosis 2: the float64 JVP against the same JVP at high precision (a nan/inf there is the formula's)."""
    judged = ~mask(t_hp)
    labels = list(labels) or [_output_place(setup.value.shape, k) for k in range(setup.value.size)]
    tol = setup.tol
    return verdict.compare("float64_accuracy", t_hp[judged], 0.0, hp_values(t64[judged], setup.evaluator.ctx),
                           rtol=tol.rtol_float64, tol=tol, scale=verdict.scale_of(t64), argument=argument, name=name,
                           labels=[labels[k] for k in np.flatnonzero(judged)], worst=setup.worst,
                           reference64=precision.to_float64(t_hp[judged]))


def _judged(setup: JvpSetup, d: Any, tested: np.ndarray, argument: int | None, tangent: str, labels: list[str],
            outcome: Outcome) -> np.ndarray:
    """Where the reference can judge: its components that converged; a kink is recorded with the one-sided
    derivatives, and a component that did not converge, or whose error estimate is too large, gets a note."""
    status = np.asarray(d.component_status).ravel()
    scale = verdict.scale_of(d.value)
    for k in np.flatnonzero(status == "nondifferentiable"):
        outcome.kinks.append(_kink(setup, d, k, tested[k], argument, f"{tangent}, {labels[k]}", scale))
    if np.any((status != "ok") & (status != "nondifferentiable")):
        outcome.converged = False
        outcome.notes.append(f"{tangent}: central differences did not converge{step_reason(d)}")
    ev = setup.evaluator
    resolution = float(ev.ctx.eps if ev.high_precision else np.finfo(np.float64).eps) ** 0.5
    uncertain = verdict.unresolved(d.value, d.error, scale, setup.tol, resolution) & (status == "ok")
    if uncertain.any():
        outcome.converged = False
        k = int(np.flatnonzero(uncertain)[0])
        outcome.notes.append(f"{tangent}, {labels[k]}: the reference {float(d.value[k]):.6g} +- "
                             f"{float(d.error[k]):.1e} is too uncertain to judge ({int(uncertain.sum())} output "
                             "element(s)); no verdict on them")
    return (status == "ok") & ~uncertain


def _kink(setup: JvpSetup, d: Any, k: int, value: Any, argument: int | None, where: str, scale: float) -> Kink:
    """A kink along a tangent in one output element: left and right derivatives, and whether the JVP under test
    lies between them (a valid one-sided choice)."""
    left, right = float(d.left[k]), float(d.right[k])
    lo, hi = min(left, right), max(left, right)
    tol = setup.tol
    slack = float(verdict.allowed(hi, float(d.error[k]), scale, tol.rtol_formula, tol))
    return Kink(argument, where, left, right, float(value), bool(lo - slack <= float(value) <= hi + slack))


def _result(setup: JvpSetup, options: Options, outcome: Outcome, started: float) -> GradcheckResult:
    ev = setup.evaluator
    status = verdict.decide(outcome.formula, outcome.accuracy, outcome.kinks, outcome.converged,
                            outcome.stopped is not None)
    notes = [*ev.notes, *setup.notes, *outcome.notes]
    if outcome.stopped is not None:
        notes.append(f"budget exceeded ({outcome.stopped}) after {ev.evaluations} evaluations: "
                     f"{len(outcome.checked)} tangent(s) compared (listed in `checked`); nothing beyond them was "
                     "checked")
    if not any(a.size for a in setup.args):
        notes.append("nothing to check: every argument is empty")
    result = GradcheckResult(
        status=status, mode=outcome.mode, kind=KIND, function=getattr(setup.f, "__qualname__", repr(setup.f)),
        gradient_source=setup.source, argument_names=setup.names, tolerance=setup.tol.to_dict(),
        mismatches=verdict.rank(outcome.formula) + verdict.rank(outcome.accuracy), kinks=outcome.kinks,
        reference=outcome.reference, reference_error=outcome.reference_error, gradient=outcome.jacobian64,
        high_precision=ev.high_precision, precision_note=ev.note, digits=ev.ctx.dps, backend=ev.tier,
        float64_constants=list(ev.constants), projections=outcome.projections,
        miss_probability=outcome.miss_probability, evaluations=ev.evaluations, notes=notes,
        accuracy_is_warning=options.float64_accuracy == "warn", worst=dict(setup.worst),
        checked=list(outcome.checked) if outcome.stopped is not None else [])
    result.seconds = time.perf_counter() - started
    return result


def _bare_result(f: Any, args: Any, options: Options, status: str, note: str, source: str,
                 started: float) -> GradcheckResult:
    """The result of a check that ended before it began (a nondeterministic f or JVP, no budget left), or whose
    checker raised (status "error")."""
    arrays = validate_args(args, lambda n: argument_names(f, n))
    tolerance = verdict.resolve_tolerances(np.result_type(*arrays), rtol=options.rtol, atol=options.atol,
                                           hp_formula=True).to_dict()
    result = GradcheckResult(status=status, mode=options.mode, kind=KIND, function=getattr(f, "__qualname__",
                                                                                            repr(f)),
                             gradient_source=source, argument_names=argument_names(f, len(arrays)),
                             tolerance=tolerance, high_precision=False, precision_note="no reference computed",
                             notes=[note])
    result.backend, result.digits = tier(options)
    result.seconds = time.perf_counter() - started
    return result

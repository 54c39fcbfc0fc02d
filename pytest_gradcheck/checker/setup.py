"""Preparing a check: the validated call, its float64 and high-precision gradients, and the `Setup` every mode uses."""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from pytest_gradcheck.checker import gradient_noise, planning, verdict
from pytest_gradcheck.checker.budget import BudgetExceeded
from pytest_gradcheck.checker.evaluation import QUAD_NOISE_LIMIT, Evaluator, differences_from
from pytest_gradcheck.checker.inputs import (
    GradcheckUsageError,
    argument_names,
    describe,
    gradient_under_test,
    validate_args,
    validate_gradients,
    validate_output,
)
from pytest_gradcheck.checker.nonfinite import floats, gradient_notes
from pytest_gradcheck.checker.options import Options, tier
from pytest_gradcheck.hp import array as hparray
from pytest_gradcheck.hp import blame, exact, mpmath_warnings, precision, quad


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

    def as_objects(self) -> None:
        """A gradient kept on the quad tier (large) as the context's numbers, for the modes that work element by
        element."""
        if self.g_hp is not None and any(quad.is_quad(g) for g in self.g_hp):
            self.g_hp = tuple(quad.to_objects(g, self.evaluator.ctx) if quad.is_quad(g) else g for g in self.g_hp)
            self.__dict__.pop("tested64", None)

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
        v = self.evaluator.cotangent_hp(self.cotangent) if is_object(values) else self.cotangent
        return np.dot(v, values)

    def project_error(self, errors: Any) -> float:
        return float(np.dot(np.abs(self.cotangent), floats(errors)))  # an mpf nan: f nan at a step


def is_object(values: Any) -> bool:
    return np.asarray(values).dtype == object


class Stopped(Exception):
    """A check that ends before its reference is computed: a nondeterministic f, or no budget left."""

    def __init__(self, status: str, note: str, context: tuple[str, tuple[str, ...], dict[str, float]]) -> None:
        super().__init__(note)
        self.status, self.note = status, note
        self.source, self.names, self.tolerance = context


def prepare(f: Any, args: Any, grad: Any, vjp: Any, options: Options) -> tuple[Setup, str]:
    """Validate the call, evaluate f and the gradient under test twice each in float64 (they must agree), time
    f, open the evaluator at high precision and evaluate the gradient there when it can run there."""
    if not callable(f):
        raise GradcheckUsageError(f"f: expected a callable, got {describe(f)}; the function comes first: "
                                  "check_grad(f, args)")
    args = validate_args(args, lambda n: argument_names(f, n))
    names = argument_names(f, len(args))
    value, again, seconds64 = _f_twice(f, args)
    under_test, source = gradient_under_test(f, grad, vjp, scalar_output=value.size == 1)
    # Tolerances as they would be used: a check that ends before it starts still reports them.
    tolerance = verdict.resolve_tolerances(np.result_type(*args), rtol=options.rtol, atol=options.atol,
                                           hp_formula=True).to_dict()
    context = (source, names, tolerance)
    same_twice("f", value, again, context)
    rng = np.random.default_rng(0 if options.seed is None else options.seed)  # a fixed default: reproducible
    cotangent = np.ones(value.shape) if value.size == 1 else rng.standard_normal(value.shape)

    def gradient64(*xs: np.ndarray, scale: float = 1.0) -> tuple[np.ndarray, ...]:
        """The gradient under test at xs; with a cotangent `scale`d (and the result divided by it), which a VJP,
        linear in its cotangent, gives with its rounding drawn afresh (gradient_noise measures it that way);
        grad= takes no cotangent, so its gradient is left as it is."""
        scale = 1.0 if grad is not None else scale
        grads = validate_gradients(under_test((cotangent * scale).astype(value.dtype), *xs), args, names, source)
        return grads if scale == 1.0 else tuple(np.asarray(g) / scale for g in grads)

    g64 = gradient64(*args)
    for a, (first, second) in enumerate(zip(g64, gradient64(*args), strict=True)):
        same_twice(f"the gradient ({source}) for argument {a} ({names[a]!r})", first, second, context)
    evaluator = make_evaluator(f, args, value, options, context)
    evaluator.notes += gradient_notes(g64, names, source, "float64")
    affordable = options.mode != "auto" or planning.afford_high_precision(evaluator, args, options)
    g_hp = gradient_hp(under_test, cotangent, evaluator, names, source, g64) if affordable else None
    tol = verdict.resolve_tolerances(np.result_type(*args), rtol=options.rtol, atol=options.atol,
                                     hp_formula=g_hp is not None)
    setup = Setup(f, args, names, evaluator, cotangent.ravel(), g64, g_hp, tol, rng, gradient64)
    setup.seconds64 = seconds64
    if g_hp is None:
        gradient_noise.apply(setup, options)
    return setup, source


def _f_twice(f: Any, args: tuple[np.ndarray, ...]) -> tuple[np.ndarray, np.ndarray, float]:
    """f's float64 value, evaluated twice (the two must agree), and the seconds one evaluation takes."""
    value = validate_output(f(*args), "f(*args)")
    timed = time.perf_counter()
    again = validate_output(f(*args), "f(*args)")
    return value, again, time.perf_counter() - timed


def make_evaluator(f: Any, args: tuple[np.ndarray, ...], value: np.ndarray, options: Options,
                   context: Any) -> Evaluator:
    """The high-precision evaluator of f at the check's tier and digits (every kind of check); the budget may
    already be spent: Stopped, with `context` (what the early result reports)."""
    backend, digits = tier(options)
    if backend == "quad" and not all(a.size for a in args):  # quad's sum has no identity: empty sums fail
        backend = "mpmath"
    try:
        evaluator = Evaluator(f, args, precision.context(digits), value, options.budget, backend=backend)
    except BudgetExceeded as error:
        raise Stopped("budget_exceeded", f"budget exceeded ({error}) before the first high-precision evaluation",
                      context) from None
    evaluator.evaluations += 2  # the two float64 evaluations of f
    return evaluator


def same_twice(what: str, first: np.ndarray, second: np.ndarray, context: Any) -> None:
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
    raise Stopped("nondeterministic", f"{what} returned different values in two calls at the same point "
                   f"({detail}); seed any randomness inside it or hold state fixed", context)


def gradient_hp(under_test: Any, cotangent: np.ndarray, ev: Evaluator, names: Any, source: str,
                g64: tuple[np.ndarray, ...] = ()) -> Any:
    """The gradient under test evaluated at high precision, or None when its code cannot run there (the note
    names the user's line); a bug of the checker met on the way raises blame.CheckerError. On the quad tier
    a gradient that quad cannot run, or whose value mpmath does not confirm, is mpmath's at the same precision."""
    if not (ev.backend == "quad" and ev.high_precision):
        return _gradient_on(under_test, (hparray.hp_view(ev.cotangent_hp(cotangent), ev.ctx), *ev.args_hp), ev,
                            names, source, ev.notes)
    notes: list[str] = []
    grads = _gradient_on(under_test, (quad.to_quad(cotangent, ev.ctx), *ev.args_hp), ev, names, source, notes)
    if grads is not None and not _beyond_float64(grads, g64):
        ev.notes += notes
        return grads
    on_mpmath: list[str] = []  # a quad gradient far from the float64 one is confirmed here
    checked = _gradient_on(under_test, (hparray.hp_view(ev.cotangent_hp(cotangent), ev.ctx),
                                        *(precision.to_hp(a, ev.ctx) for a in ev.args)), ev, names, source, on_mpmath)
    if grads is not None and (checked is None or max(
            differences_from(np.asarray(m).ravel(), np.asarray(q).ravel(), ev.ctx)
            for m, q in zip(checked, grads, strict=True)) <= QUAD_NOISE_LIMIT):
        ev.notes += notes  # confirmed, or nothing to confirm against: quad's stands
        return grads
    ev.notes += on_mpmath
    return checked


def _beyond_float64(grads: tuple[Any, ...], g64: tuple[np.ndarray, ...]) -> bool:
    """Whether a (small) gradient of the quad tier is further than SAME_GRADIENT_RELATIVE from the float64
    gradient anywhere (large gradients stay quad: nothing converted to compare)."""
    if not g64 or any(quad.is_quad(g) for g in grads):
        return False
    with np.errstate(invalid="ignore"):
        return any(np.any(np.abs(a - precision.to_float64(b)) > SAME_GRADIENT_RELATIVE * np.maximum(
            np.abs(a), GRADIENT_FLOOR * np.max(np.abs(a), initial=0.0)))
            for a, b in zip((np.asarray(g, dtype=float) for g in g64), grads, strict=True))


@dataclass(frozen=True)
class CannotRun:
    """Why the user's code raised on high-precision inputs (it then runs only in float64)."""

    reason: str


def call_at_high_precision(fn: Callable[..., Any], inputs: Any, what: str) -> Any:
    """fn(*inputs) on high-precision inputs, the user's call boundary of every kind of check: its value, or
    CannotRun when the user's code raises there; a bug of the checker met on the way raises blame.CheckerError
    naming `what`. mpmath's own warnings are not reasons, and neither are numpy's "invalid value" flags on the quad
    tier: numpy-quaddtype 1.0 raises them where nothing is invalid (0 ** 2 on plain quad arrays, which autodiff_ref's
    ops compute on); a value that is really invalid is a nan, which the check judges."""
    quad_tier = any(quad.is_quad(x) for x in inputs)
    try:
        with np.errstate(invalid="ignore") if quad_tier else contextlib.nullcontext():
            return mpmath_warnings.call(fn, inputs)
    except Exception as error:  # classified: a checker bug is re-raised, the user's code may not run there
        fault = blame.checker_fault(error)
        if fault is not None:
            raise blame.CheckerError(f"{what} at high precision: {fault}") from error
        return CannotRun(f"cannot run at high precision ({precision.describe_failure(error)})")


def _gradient_on(under_test: Any, inputs: tuple[Any, ...], ev: Evaluator, names: Any, source: str,
                 notes: list[str]) -> Any:
    """The gradient under test on these high-precision inputs, as object arrays of ctx's numbers, or None
    (with a note on why)."""
    raw = call_at_high_precision(under_test, inputs, f"the gradient ({source})")
    if isinstance(raw, CannotRun):
        notes.append(f"{source} {raw.reason}; the formula is judged in float64")
        return None
    large = sum(a.size for a in ev.args) > QUAD_KEPT_SIZE
    if isinstance(raw, tuple | list):  # the quad tier's arrays as ctx's numbers (large ones stay quad)
        raw = type(raw)(_tier_gradient(g, ev.ctx, large) for g in raw)
    try:
        grads = validate_gradients(_tier_gradient(raw, ev.ctx, large), ev.args, names, source)
    except GradcheckUsageError as error:
        notes.append(f"{source} at high precision: {error}; the formula is judged in float64")
        return None
    if large and all(quad.is_quad(g) for g in grads):
        notes += gradient_notes(grads, names, source, "high-precision")
        return tuple(grads)
    if all(precision.is_hp(g, ev.ctx) for g in grads):  # nan/inf kept and judged: named, not switched away
        notes += gradient_notes(grads, names, source, "high-precision")
        return tuple(np.asarray(g, dtype=object) for g in grads)
    notes.append(f"{source} returns float64 when given high-precision inputs; the formula is judged in float64")
    return None


# A gradient of the quad tier further than this (relative) from the float64 gradient is confirmed on mpmath: a
# float64 gradient's own round-off stays far below (hand-written backprop errs by ~100 ulps, 2e-14), while a
# wrong quad result is far above, and so is anything the float64_accuracy verdict (rtol 1e-10) would report.
SAME_GRADIENT_RELATIVE = 1e-12
GRADIENT_FLOOR = 1e-3  # ... of the largest element's magnitude: elements near 0 are judged on that scale
# A gradient of more elements than this, evaluated on the quad tier, stays a quad array: fast mode projects it
# and compares it with the float64 gradient natively (converting a million elements to mpmath numbers takes
# seconds); full, diagonal and taylor modes convert it (`Setup.as_objects`).
QUAD_KEPT_SIZE = 4096


def _tier_gradient(g: Any, ctx: Any, large: bool) -> Any:
    """One gradient of the quad tier as the checker keeps it: plain quad when large, else ctx's numbers."""
    if large and isinstance(g, np.ndarray) and quad.is_quad(g):
        return np.asarray(g.view(np.ndarray))
    return quad.objects_if_quad(g, ctx)


def hp_values(values: np.ndarray, ctx: Any) -> np.ndarray:
    """Float values as exact high-precision numbers; unlike to_hp, non-finite values pass (they are verdicts)."""
    values = np.asarray(values)
    return exact.exact_objects(values, ctx)

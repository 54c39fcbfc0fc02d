"""check_grad: compare a reverse-mode gradient with high-precision central differences and give a verdict."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from pytest_gradcheck import precision, verdict
from pytest_gradcheck.evaluation import Evaluator
from pytest_gradcheck.inputs import (
    GradcheckUsageError,
    argument_names,
    gradient_under_test,
    validate_args,
    validate_gradients,
    validate_output,
)
from pytest_gradcheck.result import GradcheckError, GradcheckResult, Kink, Mismatch

MODES = ("auto", "full", "fast", "taylor")
# Full mode spends one directional derivative (a handful of high-precision evaluations) per element; past
# this many elements `auto` switches to random projections, whose cost does not grow with the input size.
AUTO_FULL_LIMIT = 64
# Four projections miss an error the size of the tolerance with probability 0.68**4 = 0.22, and an error ten
# times the tolerance with probability 0.08**4 = 4e-5 (see miss_probability).
DEFAULT_PROJECTIONS = 4
# At least 20 digits: below that the reference is no better than float64's 16.
MIN_DIGITS = 20
ACCURACY_POLICIES = ("fail", "warn")


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

    @property
    def tested(self) -> tuple[np.ndarray, ...]:
        """The gradient whose *formula* is judged: high precision when available."""
        return self.g_hp if self.g_hp is not None else self.g64

    @property
    def formula_rtol(self) -> float:
        return self.tol.rtol_formula if self.g_hp is not None else self.tol.rtol_float64

    def project(self, values: Any) -> Any:
        """v^T values, at the precision of `values`."""
        v = self.cotangent if not _is_object(values) else precision.to_hp(self.cotangent, self.evaluator.ctx)
        return np.dot(v, values)

    def project_error(self, errors: Any) -> float:
        return float(np.dot(np.abs(self.cotangent), np.asarray(errors, dtype=float)))


def _is_object(values: Any) -> bool:
    return np.asarray(values).dtype == object


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
) -> GradcheckResult:
    """Check the gradient of `f` at `args` against high-precision central differences.

    The gradient under test is `grad(*args)` (scalar f: one array per argument), or `vjp(cotangent, *args)`
    (array f), or autodiff_ref's reverse mode when neither is given. Raises `GradcheckError` on a failing
    verdict unless `raise_on_mismatch=False`; bad input raises `GradcheckUsageError` naming the argument.
    """
    started = time.perf_counter()
    _validate_options(mode, digits, seed, projections, float64_accuracy)
    setup, source = _prepare(f, args, grad, vjp, rtol, atol, digits, seed)
    chosen = mode if mode != "auto" else ("full" if sum(a.size for a in setup.args) <= AUTO_FULL_LIMIT else "fast")
    from pytest_gradcheck import modes

    outcome = {"full": modes.run_full, "fast": modes.run_fast, "taylor": modes.run_taylor}[chosen](setup, projections)
    accuracy = _accuracy_mismatches(setup)
    status = verdict.decide(outcome.formula, accuracy, outcome.kinks, outcome.converged)
    ev = setup.evaluator
    if not ev.high_precision:
        ev.notes.append(f"float64 reference: estimated noise of one evaluation of f {ev.float64_noise:.1e} "
                        f"(reference errors are bounded accordingly)")
    result = GradcheckResult(
        status=status, mode=chosen, function=getattr(f, "__qualname__", repr(f)), gradient_source=source,
        argument_names=setup.names, tolerance=setup.tol.to_dict(),
        mismatches=verdict.rank(outcome.formula) + verdict.rank(accuracy), kinks=outcome.kinks,
        reference=outcome.reference, reference_error=outcome.reference_error, gradient=setup.g64,
        gradient_hp=setup.g_hp, high_precision=ev.high_precision, precision_note=ev.note,
        digits=ev.ctx.dps, projections=outcome.projections, miss_probability=outcome.miss_probability,
        taylor=outcome.taylor, evaluations=ev.evaluations, notes=[*ev.notes, *outcome.notes],
        accuracy_is_warning=float64_accuracy == "warn", traces=outcome.traces,
    )
    result.seconds = time.perf_counter() - started
    if raise_on_mismatch and not result.ok:
        raise GradcheckError(result)
    return result


def _validate_options(mode: str, digits: Any, seed: Any, projections: Any, float64_accuracy: str) -> None:
    if mode not in MODES:
        raise GradcheckUsageError(f"mode: expected one of {MODES}, got {mode!r}")
    if digits is not None and (not isinstance(digits, int) or isinstance(digits, bool) or digits < MIN_DIGITS):
        raise GradcheckUsageError(f"digits: expected an int >= {MIN_DIGITS}, got {digits!r}")
    if seed is not None and (not isinstance(seed, int) or isinstance(seed, bool) or seed < 0):
        raise GradcheckUsageError(f"seed: expected a non-negative int, got {seed!r}")
    if not isinstance(projections, int) or isinstance(projections, bool) or projections < 1:
        raise GradcheckUsageError(f"projections: expected an int >= 1, got {projections!r}")
    if float64_accuracy not in ACCURACY_POLICIES:
        raise GradcheckUsageError(f"float64_accuracy: expected one of {ACCURACY_POLICIES}, got {float64_accuracy!r}")


def _prepare(f: Any, args: Any, grad: Any, vjp: Any, rtol: Any, atol: Any, digits: Any, seed: Any) -> tuple[Setup, str]:
    if not callable(f):
        raise GradcheckUsageError(f"f: expected a callable, got {type(f).__name__}")
    args = validate_args(args, lambda n: argument_names(f, n))
    names = argument_names(f, len(args))
    value = validate_output(f(*args), "f(*args)")
    under_test, source = gradient_under_test(f, grad, vjp, scalar_output=value.size == 1)
    rng = np.random.default_rng(0 if seed is None else seed)  # a fixed default seed keeps checks reproducible
    cotangent = np.ones(value.shape) if value.size == 1 else rng.standard_normal(value.shape)
    g64 = validate_gradients(under_test(cotangent.astype(value.dtype), *args), args, names, source)
    ctx = precision.context(precision.DEFAULT_DIGITS if digits is None else digits)
    evaluator = Evaluator(f, args, ctx)
    evaluator.evaluations += 1  # the float64 evaluation above
    g_hp = _gradient_hp(under_test, cotangent, evaluator, names, source)
    hp_formula = g_hp is not None
    dtype = np.result_type(*args)
    tol = verdict.resolve_tolerances(dtype, rtol=rtol, atol=atol, hp_formula=hp_formula)
    setup = Setup(f, args, names, evaluator, cotangent.ravel(), g64, g_hp, tol, rng)
    evaluator.verify_no_float64_buffer([rng.standard_normal(a.shape) for a in args])
    return setup, source


def _gradient_hp(under_test: Any, cotangent: np.ndarray, ev: Evaluator, names: Any, source: str) -> Any:
    """The gradient under test evaluated at high precision, or None when its code cannot run there."""
    try:
        raw = under_test(precision.to_hp(cotangent, ev.ctx), *ev.args_hp)
        grads = validate_gradients(raw, ev.args, names, source)
    except Exception as error:
        ev.notes.append(f"{source} cannot run at high precision ({type(error).__name__}: {error}); "
                        "the formula is judged in float64")
        return None
    if all(precision.is_hp(g, ev.ctx) for g in grads):
        return tuple(np.asarray(g, dtype=object) for g in grads)
    ev.notes.append(f"{source} returns float64 when given high-precision inputs; the formula is judged in float64")
    return None


def hp_values(values: np.ndarray, ctx: Any) -> np.ndarray:
    """Float values as exact high-precision numbers; unlike to_hp, non-finite values pass (they are verdicts)."""
    flat = [ctx.mpf(float(e)) for e in np.asarray(values).flat]
    return np.array(flat, dtype=object).reshape(np.shape(values))


def _accuracy_mismatches(setup: Setup) -> list[Mismatch]:
    """Diagnosis 2: the float64 gradient against the same gradient at high precision (free: no f calls)."""
    if setup.g_hp is None:
        return []
    out: list[Mismatch] = []
    for a, (g64, g_hp) in enumerate(zip(setup.g64, setup.g_hp, strict=True)):
        scale = float(np.max(np.abs(precision.to_float64(g_hp)))) if g_hp.size else 0.0
        out += verdict.compare("float64_accuracy", g_hp, 0.0, hp_values(g64, setup.evaluator.ctx),
                               rtol=setup.tol.rtol_float64, tol=setup.tol, scale=scale, argument=a,
                               name=setup.names[a])
    return out


def subgradient_kink(setup: Setup, argument: int | None, where: str, derivative: Any, value: Any, scale: float) -> Kink:
    """A kink record: left/right one-sided derivatives projected on the cotangent, and where `value` lies."""
    left, right = setup.project(derivative.left), setup.project(derivative.right)
    lo, hi = min(left, right), max(left, right)
    slack = float(verdict.allowed(hi, setup.project_error(derivative.error), scale, setup.formula_rtol, setup.tol))
    valid = bool(lo - slack <= value <= hi + slack)
    return Kink(argument, where, float(left), float(right), float(value), valid)

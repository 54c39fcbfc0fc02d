"""check_grad's settings: their defaults and limits, their validation, and the validated `Options` a check runs with."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from pytest_gradcheck.checker import budget as budgets
from pytest_gradcheck.checker.budget import DEFAULT_MAX_SECONDS, Budget
from pytest_gradcheck.checker.inputs import GradcheckUsageError
from pytest_gradcheck.hp import quad, quad_ops
from pytest_gradcheck.hp.precision import DEFAULT_DIGITS

MODES = ("auto", "full", "fast", "taylor", "diagonal")
# Four projections miss an error the size of the tolerance with probability 0.68**4 = 0.22, and an error ten
# times the tolerance with probability 0.08**4 = 4e-5 (see miss_probability).
DEFAULT_PROJECTIONS = 4
# At least 20 digits: below that the reference is no better than float64's 16.
MIN_DIGITS = 20
# At most this many: at 10000 digits one tanh takes 3.6 ms (1000x its cost at 40 digits); more is a typo, not a plan.
MAX_DIGITS = 10000
ACCURACY_POLICIES = ("fail", "warn")
# per_op: "auto" checks the ops one by one when the whole-function check did not pass, or when the gradient under
# test is the engine's and f's tape holds custom primitives (then those); "always" every op of every check ("all"
# is its older name); "custom" the custom primitives of every check; "off" never (see per_op.scope).
PER_OP_CHOICES = ("auto", "always", "all", "custom", "off")
# The precision tiers: "quad" (numpy-quaddtype, 113 bits, vectorised), "mpmath" (object arrays, any digits);
# "auto" takes quad when installed and digits= is not given (digits= asks for mpmath at exactly that precision).
BACKENDS = ("auto", "quad", "mpmath")


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
    per_op: str = "auto"
    backend: str = "auto"
    verify_precision: bool = True  # look for float64 buffers inside f (skipped for the engine's own primitives)
    max_evaluations: int | None = None
    max_seconds: float = DEFAULT_MAX_SECONDS
    screen: bool | None = None  # screen before the mode runs; None: in auto mode only (per-op checks: always)
    budget: Budget | None = None  # set by run_check; per-op checks share it (and so its deadline)


def resolve_per_op(per_op: Any) -> str:
    """True/False or one of PER_OP_CHOICES, as "auto", "always", "custom" or "off" (True and "all" are
    "always", False is "off")."""
    if per_op is True:
        return "always"
    if per_op is False:
        return "off"
    if not isinstance(per_op, str) or per_op not in PER_OP_CHOICES:
        raise GradcheckUsageError(f"per_op: expected True, False or one of {PER_OP_CHOICES}, got {per_op!r}")
    return "always" if per_op == "all" else per_op


def from_keywords(*, rtol: Any, atol: Any, mode: Any, digits: Any, seed: Any, projections: Any,
                  float64_accuracy: Any, per_op: Any, max_evaluations: Any, max_seconds: Any,
                  backend: Any = "auto") -> Options:
    """check_grad's keywords, validated (GradcheckUsageError names the first bad one), as Options."""
    validate(mode, digits, seed, projections, float64_accuracy, rtol, atol, max_evaluations, max_seconds)
    validate_backend(backend, digits)
    return Options(rtol, atol, mode, digits, seed, projections, float64_accuracy, resolve_per_op(per_op),
                   backend=backend, max_evaluations=max_evaluations, max_seconds=float(max_seconds),
                   budget=Budget(max_evaluations, float(max_seconds)))


def validate_backend(backend: Any, digits: Any) -> None:
    """GradcheckUsageError for an unknown backend, quad when numpy-quaddtype is missing, or more digits than
    quad carries with backend="quad"."""
    if backend not in BACKENDS:
        raise GradcheckUsageError(f"backend: expected one of {BACKENDS}, got {backend!r}")
    if backend != "quad":
        return
    if not quad.available():
        low, high = (".".join(map(str, v)) for v in quad_ops.SUPPORTED_VERSIONS)
        raise GradcheckUsageError(f"backend: 'quad' needs numpy-quaddtype >={low},<{high} "
                                  f"(pip install 'numpy-quaddtype>={low},<{high}'), found {quad.version() or 'none'}")
    if digits is not None and digits > quad.QUAD_DIGITS:
        raise GradcheckUsageError(f"digits: backend 'quad' carries {quad.QUAD_DIGITS} digits, got digits={digits}; "
                                  "pass backend='mpmath' (or 'auto') for more")


def tier(options: Options) -> tuple[str, int]:
    """(backend, digits) a check runs on: "auto" takes quad when it is installed and no digits are asked for
    (digits= asks for that precision exactly: mpmath at those digits), else mpmath."""
    wants_quad = options.backend == "quad" or (
        options.backend == "auto" and options.digits is None and quad.available())
    if wants_quad:
        return "quad", quad.QUAD_DIGITS
    return "mpmath", DEFAULT_DIGITS if options.digits is None else options.digits


def validate(mode: str, digits: Any, seed: Any, projections: Any, float64_accuracy: str, rtol: Any,
             atol: Any, max_evaluations: Any, max_seconds: Any) -> None:
    """GradcheckUsageError naming the first keyword that is out of its range or of the wrong type."""
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
    problem = budgets.validate(max_evaluations, max_seconds)
    if problem:
        raise GradcheckUsageError(problem)

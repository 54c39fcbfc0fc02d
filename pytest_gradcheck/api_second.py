"""check_hvp and check_hessian, the public entry points of second-order checks: validate the keywords, run the
check, hand the result to the active recorder, and raise GradcheckError on a failing verdict."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pytest_gradcheck.api import hand_out
from pytest_gradcheck.checker import options as check_options
from pytest_gradcheck.checker.budget import DEFAULT_MAX_SECONDS
from pytest_gradcheck.checker.hessian_check import run_hessian
from pytest_gradcheck.checker.hvp_check import run_hvp
from pytest_gradcheck.checker.inputs import GradcheckUsageError
from pytest_gradcheck.checker.options import DEFAULT_PROJECTIONS, Options
from pytest_gradcheck.checker.result import GradcheckResult

SECOND_ORDER_MODES = ("auto", "full", "fast")


def check_hvp(
    f: Callable[..., Any],
    args: Any,
    *,
    hvp: Callable[..., Any] | None = None,
    rtol: float | None = None,
    atol: float | None = None,
    mode: str = "auto",
    digits: int | None = None,
    seed: int | None = None,
    raise_on_mismatch: bool = True,
    projections: int = DEFAULT_PROJECTIONS,
    float64_accuracy: str = "fail",
    max_evaluations: int | None = None,
    max_seconds: float = DEFAULT_MAX_SECONDS,
    backend: str = "auto",
) -> GradcheckResult:
    """Check the Hessian-vector product of a scalar `f` at `args` against high-precision second differences of f.

    The product under test is `hvp(v, *args)`, with `v` a tuple of one array per argument, returning one array
    per argument (a single array when f has one argument); autodiff_ref's `hvp(f)` when `hvp` is None.
    The reference is a mixed second difference of f itself (steps adapted to second differences, Richardson
    extrapolation, an error estimate per value), on the quad or mpmath tier (float64 after a fall-back).
    `mode`: "full" compares every column H e_j with the reference entries of H (named by element of H v and
    column); "fast" compares `projections` random projections u^T H v (`result.miss_probability` states the
    chance that an error of one entry the size of the tolerance goes unseen); "auto" (default) screens with one
    projection, whose close agreement is the verdict, else runs full (up to 16 input elements) or fast.
    Two diagnoses: "formula_error" (the product evaluated on high-precision inputs against the reference) and
    "float64_accuracy" (the float64 product against the same product at high precision). A kink of f (a second
    derivative that does not exist) is "nondifferentiable". Other keywords as check_grad's;
    `result.kind` is "hvp". Raises `GradcheckError` on a failing verdict unless `raise_on_mismatch=False`.
    """
    __tracebackhide__ = True
    try:
        options = _options(rtol, atol, mode, digits, seed, raise_on_mismatch, projections, float64_accuracy,
                           max_evaluations, max_seconds, backend)
        result = run_hvp(f, args, hvp, options)
    except GradcheckUsageError as error:
        raise error.with_traceback(None) from None
    return hand_out(result, raise_on_mismatch)


def check_hessian(
    f: Callable[..., Any],
    args: Any,
    *,
    hessian: Callable[..., Any] | None = None,
    rtol: float | None = None,
    atol: float | None = None,
    mode: str = "auto",
    digits: int | None = None,
    seed: int | None = None,
    raise_on_mismatch: bool = True,
    projections: int = DEFAULT_PROJECTIONS,
    float64_accuracy: str = "fail",
    max_evaluations: int | None = None,
    max_seconds: float = DEFAULT_MAX_SECONDS,
    backend: str = "auto",
) -> GradcheckResult:
    """Check the Hessian of a scalar `f` at `args` against high-precision second differences of f.

    `hessian(*args)` returns an array shaped `x.shape + x.shape` for one argument, and for several a nested
    tuple `H[i][j]` shaped `args[i].shape + args[j].shape` (autodiff_ref's `hessian(f, argnums=...)` when None).
    Modes, diagnoses and keywords as check_hvp's (the Hessian's products H v are what is compared). A Hessian
    with H[i][j] != H[j][i] beyond the tolerance is reported as "symmetry" mismatches, apart from the
    "formula" ones (values against the reference). `result.kind` is "hessian"; `result.reference` and
    `result.gradient` hold the blocks [i][j] in one tuple, row-major (full mode).
    """
    __tracebackhide__ = True
    try:
        options = _options(rtol, atol, mode, digits, seed, raise_on_mismatch, projections, float64_accuracy,
                           max_evaluations, max_seconds, backend)
        result = run_hessian(f, args, hessian, options)
    except GradcheckUsageError as error:
        raise error.with_traceback(None) from None
    return hand_out(result, raise_on_mismatch)


def _options(rtol: Any, atol: Any, mode: Any, digits: Any, seed: Any, raise_on_mismatch: Any, projections: Any,
             float64_accuracy: Any, max_evaluations: Any, max_seconds: Any, backend: Any) -> Options:
    if not isinstance(raise_on_mismatch, bool):
        raise GradcheckUsageError(f"raise_on_mismatch: expected True or False, got {raise_on_mismatch!r}")
    if mode not in SECOND_ORDER_MODES:
        raise GradcheckUsageError(f"mode: expected one of {SECOND_ORDER_MODES}, got {mode!r}")
    return check_options.from_keywords(
        rtol=rtol, atol=atol, mode=mode, digits=digits, seed=seed, projections=projections,
        float64_accuracy=float64_accuracy, per_op="auto", max_evaluations=max_evaluations,
        max_seconds=max_seconds, backend=backend)

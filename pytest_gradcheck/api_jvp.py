"""check_jvp, the public entry point of forward-mode checks: validate the keywords, run the check, hand the result
to the active recorder (the pytest plugin's), and raise GradcheckError on a failing verdict."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pytest_gradcheck.api import hand_out
from pytest_gradcheck.checker import options as check_options
from pytest_gradcheck.checker.budget import DEFAULT_MAX_SECONDS
from pytest_gradcheck.checker.inputs import GradcheckUsageError
from pytest_gradcheck.checker.jvp import JVP_MODES, run_jvp_check
from pytest_gradcheck.checker.options import DEFAULT_PROJECTIONS
from pytest_gradcheck.checker.result import GradcheckResult


def check_jvp(
    f: Callable[..., Any],
    args: Any,
    *,
    jvp: Callable[..., Any] | None = None,
    vjp: Callable[..., Any] | None = None,
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
    """Check the forward-mode derivative (JVP) of `f` at `args` against high-precision central differences.

    The JVP under test is `jvp(tangents, *args)`, where `tangents` is a tuple with one array per argument, and
    which returns the output tangent J v, shaped like f's output; without `jvp=`, autodiff_ref's forward mode
    (`autodiff_ref.jvp`). The reference is the high-precision directional derivative of f along the tangent
    that check_grad computes, every output element at once. Two diagnoses, as check_grad's: the formula (the JVP
    on high-precision arrays against the reference) and float64 accuracy (the float64 JVP against the same JVP at
    high precision). Modes: "full" (every unit tangent: the Jacobian column by column, element by element),
    "fast" (`projections` random tangents, every output element of J v compared; `result.miss_probability` is
    the chance that an error the size of the tolerance went unseen), "auto" (one random tangent screened at high
    precision, then full up to 64 input elements, else fast). Mismatches name the output element and the tangent.
    With `vjp=(cotangent, *args)` (or when both come from autodiff_ref) the check also confirms that the JVP and
    the VJP are transposes of each other, <u, jvp(v)> = <vjp(u), v> for random u, v: a violation is a mismatch of
    kind "transpose" and a note. `result.kind` is "jvp". The other keywords are check_grad's. Raises
    `GradcheckError` on a failing verdict unless `raise_on_mismatch=False`; bad input raises
    `GradcheckUsageError` naming the argument.
    """
    __tracebackhide__ = True  # pytest shows the test's line and the verdict, not check_jvp's source
    try:
        if not isinstance(raise_on_mismatch, bool):
            raise GradcheckUsageError(f"raise_on_mismatch: expected True or False, got {raise_on_mismatch!r}")
        if mode not in JVP_MODES:
            raise GradcheckUsageError(f"mode: expected one of {JVP_MODES} for check_jvp, got {mode!r}")
        options = check_options.from_keywords(
            rtol=rtol, atol=atol, mode=mode, digits=digits, seed=seed, projections=projections,
            float64_accuracy=float64_accuracy, per_op="off", max_evaluations=max_evaluations,
            max_seconds=max_seconds, backend=backend)
        result = run_jvp_check(f, args, jvp, vjp, options)
    except GradcheckUsageError as error:  # its message names the argument: the checker's frames would bury it
        raise error.with_traceback(None) from None
    return hand_out(result, raise_on_mismatch)

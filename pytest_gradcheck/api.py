"""check_grad, the public entry point: validate the keywords, run the check, draw its pictures when asked, hand
the result to the active recorder (the pytest plugin's), and raise GradcheckError on a failing verdict."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

from pytest_gradcheck.checker import complex_args
from pytest_gradcheck.checker import options as check_options
from pytest_gradcheck.checker.budget import DEFAULT_MAX_SECONDS
from pytest_gradcheck.checker.check import run_check
from pytest_gradcheck.checker.inputs import GradcheckUsageError
from pytest_gradcheck.checker.options import DEFAULT_PROJECTIONS
from pytest_gradcheck.checker.result import GradcheckError, GradcheckResult
from pytest_gradcheck.frameworks import adapter_for
from pytest_gradcheck.frameworks import check as framework_check
from pytest_gradcheck.plots import plots as drawing
from pytest_gradcheck.report import records


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
    per_op: str | bool = "auto",
    max_evaluations: int | None = None,
    max_seconds: float = DEFAULT_MAX_SECONDS,
    plots: str | os.PathLike[str] | None = None,
    backend: str = "auto",
    complex_convention: str | None = None,
    reference: Callable[..., Any] | None = None,
) -> GradcheckResult:
    """Check the gradient of `f` at `args` against high-precision central differences.

    The gradient under test is `grad(*args)` (scalar f: one array per argument), or `vjp(cotangent, *args)`
    (array f), or autodiff_ref's reverse mode when neither is given. Raises `GradcheckError` on a failing
    verdict unless `raise_on_mismatch=False`; bad input raises `GradcheckUsageError` naming the argument.
    `mode="auto"` screens first: one random projection at high precision whose agreement within 1e-3 of the
    tolerance is the verdict (mode "fast", one projection); anything else runs "full" (up to 64 elements) or
    "fast", which decide and name the elements.
    `per_op` checks ops of f's autodiff_ref trace on their own, to name the op whose backward rule is wrong:
    "auto" (default) checks every op when the whole-function check did not pass (any status but "pass"), and
    on a pass only the custom primitives when the gradient under test is the engine's (a passing check
    otherwise skips it; `result.ops_note` says so); "always" checks every op of every check ("all" is a
    synonym); "custom" only custom primitives, always; "off" none. True/False mean "always"/"off".
    Budget: at most `max_evaluations` evaluations of f (None: no limit; each per-op check has its own count)
    and `max_seconds` of wall time for the whole call (math.inf: no limit); past either the check stops with
    status "budget_exceeded" and lists in `result.checked` what it did check. In `auto` mode a function too
    slow to evaluate at high precision within the budget (for the screen, then for the full or fast check when the
    screen does not settle it) is checked against a float64 reference instead.
    A function or gradient that returns different values at the same point is "nondeterministic".
    `backend`: the high-precision tier. "auto" (default) evaluates f on quad arrays (numpy-quaddtype: 113 bits,
    33 digits, vectorised) when that package is installed and `digits` is not given, with any call quad cannot
    run (linear algebra, FFT, scipy.special) on mpmath for that call; else on mpmath at `digits` (default 40).
    "quad" or "mpmath" ask for one; `result.backend` tells which tier the reference used ("float64" after a
    fall-back).
    `complex_convention`: complex arguments are checked as their real and imaginary parts (docs/complex.md), with
    the gradient under test in one convention: "torch" (g = df/dx + i df/dy, so grad |z|^2 = 2z), "jax"
    (g = df/dx - i df/dy, 2 conj(z)) for a real-valued f, or "holomorphic" (g = f'(z); a vjp c * f'(z)) for a
    complex-differentiable f. Needed with a user grad/vjp; the engine's gradient is "jax". Their reference runs on
    mpmath (numpy-quaddtype has no complex numbers; backend="quad" moves there with a note). A failing gradient
    that passes in the other convention is named in `result.convention_note`.
    torch tensors and JAX arrays as `args` (docs/frameworks.md): checked in float64 on CPU, the gradient under
    test the framework's autograd unless grad/vjp is given, each custom rule f's forward used (a
    torch.autograd.Function, a jax.custom_vjp) checked on its own in the per-op table; the framework's global
    settings are restored. `reference`: a numpy implementation of f's forward; after a same-function check at
    the point (a mismatch is a "formula_error": "reference and f disagree at the point by ..."), the reference
    derivative is computed from it at high precision. Without it a framework's f is its own reference, in
    float64 with tolerances from its measured round-off. With a numpy f it stands in for f as the reference
    function (f's gradient, or grad/vjp, is still the one under test).
    `plots` (a directory): a check that fails or meets a kink draws its pictures there (docs/plots.md), listed
    in `result.plots`; needs matplotlib.
    """
    __tracebackhide__ = True  # pytest shows the test's line and the verdict, not check_grad's source
    try:
        if not isinstance(raise_on_mismatch, bool):
            raise GradcheckUsageError(f"raise_on_mismatch: expected True or False, got {raise_on_mismatch!r}")
        options = check_options.from_keywords(
            rtol=rtol, atol=atol, mode=mode, digits=digits, seed=seed, projections=projections,
            float64_accuracy=float64_accuracy, per_op=per_op, max_evaluations=max_evaluations,
            max_seconds=max_seconds, backend=backend)
        picture_folder = drawing.directory_option(plots)
        convention = complex_args.resolve_convention(complex_convention, f, args, grad, vjp)
        adapter = adapter_for(args)
        if adapter is not None:
            result = framework_check.check(adapter, f, args, grad, vjp, reference, options)
        elif reference is not None:
            result = framework_check.check_numpy_reference(f, args, grad, vjp, reference, options)
        else:
            result = _checked(f, args, grad, vjp, options, convention, picture_folder)
    except GradcheckUsageError as error:  # its message names the argument: the checker's frames would bury it
        raise error.with_traceback(None) from None
    return hand_out(result, raise_on_mismatch)


def hand_out(result: GradcheckResult, raise_on_mismatch: bool) -> GradcheckResult:
    """Every public check ends here: the result goes to the active recorder (the pytest plugin's), and a failing
    verdict raises GradcheckError unless `raise_on_mismatch` is False."""
    __tracebackhide__ = True
    records.record_result(result)
    if raise_on_mismatch and not result.ok:
        raise GradcheckError(result)
    return result


def _checked(f: Callable[..., Any], args: Any, grad: Any, vjp: Any, options: check_options.Options,
             convention: str | None, picture_folder: Any) -> GradcheckResult:
    """The check, with its pictures; complex arguments as the check of their real and imaginary parts."""
    if convention is None or not complex_args.has_complex(args):
        result = run_check(f, args, grad, vjp, options)
        _draw(f, args, result, picture_folder)
        return result
    reduction = complex_args.reduce(f, args, grad, vjp, convention)
    result = complex_args.run(reduction, options)
    _draw(reduction.f, reduction.args, result, picture_folder)  # the pictures of the real check
    return complex_args.finish(result, reduction, options)


def _draw(f: Callable[..., Any], args: Any, result: GradcheckResult, picture_folder: Any) -> None:
    if picture_folder is not None and result.status in drawing.DRAWN_STATUSES:
        result.plots = drawing.write_plots(f, args, result, picture_folder)

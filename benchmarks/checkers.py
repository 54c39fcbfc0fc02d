"""The gradient checkers compared, behind one interface: `checker.run(f, args, grad) -> Outcome`.

check_grad runs in-process with `raise_on_mismatch=False`. torch.autograd.gradcheck and numdifftools are
optional: `available()` lists only the checkers whose package imports, so the benchmark runs without them.
"""

from __future__ import annotations

import importlib.util
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from pytest_gradcheck import check_grad

# numdifftools has no verdict of its own: its gradient is compared with np.allclose at numpy's default
# tolerances (a user reaching for it would write exactly that).
ND_RTOL, ND_ATOL = 1e-5, 1e-8


@dataclass(frozen=True)
class Outcome:
    """One check: did it fail the gradient, its verdict word, wall time and evaluations of f."""

    flagged: bool
    status: str
    seconds: float
    evaluations: int
    high_precision: bool | None = None  # check_grad's result.high_precision; None for the other checkers
    backend: str | None = None  # check_grad's result.backend where the result has one (the precision tier)


@dataclass(frozen=True)
class Checker:
    name: str
    label: str  # how the tables name it
    run: Callable[[Callable[..., Any], tuple[np.ndarray, ...], Callable[..., Any]], Outcome]
    mutations: bool = True  # False: a cost row, run on correct gradients only


def check_grad_default(f, args, grad) -> Outcome:
    """check_grad as a user calls it: `grad=` and `raise_on_mismatch=False`, every other setting at the default
    of the code being measured (mode, per-op pass, budget)."""
    start = time.perf_counter()
    try:
        result = check_grad(f, args, grad=grad, raise_on_mismatch=False)
    except Exception as error:  # recorded, never hidden
        return Outcome(True, f"error: {type(error).__name__}: {error}", time.perf_counter() - start, 0)
    return Outcome(not result.ok, result.status, time.perf_counter() - start, result.evaluations,
                   result.high_precision, getattr(result, "backend", None))


def check_grad_runner(mode: str, per_op: str) -> Callable[..., Outcome]:
    """check_grad in one mode and per-op setting, everything else at its default."""
    def run(f, args, grad):
        start = time.perf_counter()
        try:
            result = check_grad(f, args, grad=grad, mode=mode, per_op=per_op, raise_on_mismatch=False)
        except Exception as error:  # a crash on a correct gradient is a finding: recorded, never hidden
            return Outcome(True, f"error: {type(error).__name__}: {error}", time.perf_counter() - start, 0)
        return Outcome(not result.ok, result.status, time.perf_counter() - start, result.evaluations)

    return run


class Counted:
    """f with a call counter, for checkers that do not count evaluations themselves (the framework and
    second-order benchmarks use it too)."""

    def __init__(self, f: Callable[..., Any]) -> None:
        self.f, self.calls = f, 0

    def __call__(self, *args: Any) -> Any:
        self.calls += 1
        return self.f(*args)


def _torch_function(f: Counted, grad: Callable[..., Any]) -> Any:
    """f as a torch.autograd.Function: forward runs the numpy f, backward the hand-written gradient."""
    import torch

    class NumpyFunction(torch.autograd.Function):
        @staticmethod
        def forward(ctx, *xs):
            ctx.arrays = [x.detach().numpy().copy() for x in xs]  # a copy: gradcheck perturbs inputs in place
            return torch.as_tensor(np.asarray(f(*ctx.arrays), dtype=np.float64))

        @staticmethod
        def backward(ctx, grad_output):
            grads = grad(*ctx.arrays)
            grads = grads if isinstance(grads, tuple | list) else (grads,)
            return tuple(grad_output * torch.from_numpy(np.asarray(g, dtype=np.float64)) for g in grads)

    return NumpyFunction.apply


def _torch(fast_mode: bool) -> Callable[..., Outcome]:
    def run(f, args, grad):
        import torch

        start = time.perf_counter()
        counted = Counted(f)
        inputs = tuple(torch.tensor(a, dtype=torch.float64, requires_grad=True) for a in args)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # its advice on inputs that are not leaf doubles does not apply
            ok = torch.autograd.gradcheck(_torch_function(counted, grad), inputs, fast_mode=fast_mode,
                                          raise_exception=False)
        return Outcome(not ok, "pass" if ok else "fail", time.perf_counter() - start, counted.calls)

    return run


def _numdifftools(f, args, grad):
    import numdifftools as nd

    start = time.perf_counter()
    sizes = [a.size for a in args]
    splits = np.cumsum(sizes)[:-1]

    def flat(v):
        return f(*(part.reshape(a.shape) for part, a in zip(np.split(v, splits), args, strict=True)))

    counted = Counted(flat)
    numeric = np.ravel(nd.Gradient(counted)(np.concatenate([a.ravel() for a in args])))
    grads = grad(*args)
    analytic = np.concatenate([np.ravel(g) for g in (grads if isinstance(grads, tuple | list) else (grads,))])
    ok = bool(np.allclose(analytic, numeric, rtol=ND_RTOL, atol=ND_ATOL))
    return Outcome(not ok, "pass" if ok else "fail", time.perf_counter() - start, counted.calls)


CHECK_GRAD = (
    Checker("check_grad_full", "check_grad full", check_grad_runner("full", "off")),
    Checker("check_grad_fast", "check_grad fast", check_grad_runner("fast", "off")),
    Checker("check_grad_auto", "check_grad auto", check_grad_runner("auto", "off")),
    Checker("check_grad_auto_per_op", "check_grad auto + per-op", check_grad_runner("auto", "always"), mutations=False),
)
TORCH = (
    Checker("torch_full", "torch gradcheck", _torch(False)),
    Checker("torch_fast", "torch gradcheck fast_mode", _torch(True)),
)
NUMDIFFTOOLS = (Checker("numdifftools", "numdifftools + allclose", _numdifftools),)
TORCH_DEFAULT = "torch_full"  # the reference for cost ratios


def installed(module: str) -> bool:
    return importlib.util.find_spec(module) is not None


def available() -> tuple[Checker, ...]:
    """check_grad always; torch and numdifftools when they import."""
    return CHECK_GRAD + (TORCH if installed("torch") else ()) + (NUMDIFFTOOLS if installed("numdifftools") else ())


def versions() -> dict[str, str]:
    """Versions of the packages that decide the figures (None-free: absent ones are 'not installed')."""
    from importlib import metadata

    out = {}
    for package in ("numpy", "mpmath", "gmpy2", "numpy-quaddtype", "torch", "numdifftools", "scipy"):
        try:
            out[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            out[package] = "not installed"
    return out

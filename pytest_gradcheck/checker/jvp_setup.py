"""Preparing a forward-mode check: the validated call, the JVP under test (and the VJP it must be the transpose
of) at float64 and at high precision, and the `JvpSetup` every mode of `jvp` uses."""

from __future__ import annotations

import numbers
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from pytest_gradcheck.checker import verdict
from pytest_gradcheck.checker.evaluation import Evaluator
from pytest_gradcheck.checker.inputs import GradcheckUsageError, describe
from pytest_gradcheck.checker.setup import CannotRun, call_at_high_precision
from pytest_gradcheck.hp import precision, quad


@dataclass
class JvpSetup:
    """What every mode of a JVP check needs: the point, f's output, the JVP under test, the evaluator."""

    f: Callable[..., Any]
    args: tuple[np.ndarray, ...]
    names: tuple[str, ...]
    value: np.ndarray  # f(*args) in float64, f's output shape
    jvp: Callable[..., Any]  # (tangents, *args) -> the output tangent
    vjp: Callable[..., Any] | None  # (cotangent, *args) -> one array per argument, or None: no transpose check
    source: str  # "jvp" or "autodiff_ref"
    evaluator: Evaluator
    rng: np.random.Generator
    user_tolerances: tuple[float | None, float | None] = (None, None)  # the check's rtol= and atol=
    high_precision_jvp: bool = True  # whether the JVP runs at high precision (else its formula is judged in float64)
    worst: dict[str, float] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    @property
    def tol(self) -> verdict.Tolerances:
        """The tolerances for the formula as it is judged: at high precision's rtol only when both the JVP and
        the reference run there."""
        rtol, atol = self.user_tolerances
        return verdict.resolve_tolerances(np.result_type(*self.args), rtol=rtol, atol=atol,
                                          hp_formula=self.judged_at_high_precision)

    @property
    def judged_at_high_precision(self) -> bool:
        """The formula is judged at high precision: the JVP runs there and so does the reference."""
        return self.high_precision_jvp and self.evaluator.high_precision

    def tangents(self, direction: list[np.ndarray | None]) -> tuple[np.ndarray, ...]:
        """The float64 tangents of a direction (an argument it does not move gets zeros), each in its argument's
        dtype."""
        return tuple(np.zeros(x.shape, x.dtype) if u is None else np.asarray(u, dtype=x.dtype)
                     for x, u in zip(self.args, direction, strict=True))

    def jvp64(self, direction: list[np.ndarray | None], where: str) -> np.ndarray:
        """The JVP under test in float64 along `direction`, flat."""
        raw = self.jvp(self.tangents(direction), *self.args)
        return output_tangent(raw, self.value, self.source, where).astype(float).ravel()

    def jvp_hp(self, direction: list[np.ndarray | None], where: str) -> np.ndarray | None:
        """The JVP under test at high precision along `direction`, flat, as the context's numbers; None (with a
        note, once) when its code cannot run there."""
        if not self.high_precision_jvp:
            return None
        ev = self.evaluator
        tangents = tuple(hp_array(t, ev) for t in self.tangents(direction))
        found = call_at_high_precision(self.jvp, (tangents, *ev.args_hp), self.source)
        if isinstance(found, CannotRun):
            self.high_precision_jvp = False
            self.notes.append(f"{self.source} {found.reason}; the formula is judged in float64")
            return None
        values = output_tangent(quad.objects_if_quad(found, ev.ctx), self.value, self.source, where)
        if values.dtype != object or not precision.is_hp(values, ev.ctx):
            self.high_precision_jvp = False
            self.notes.append(f"{self.source} returns float64 when given high-precision inputs; the formula is "
                              "judged in float64")
            return None
        return values.ravel()


def hp_array(values: np.ndarray, ev: Evaluator) -> Any:
    """A float64 array on the evaluator's tier (quad, or mpmath numbers)."""
    return quad.to_quad(values, ev.ctx) if ev.backend == "quad" else precision.to_hp(values, ev.ctx)


def output_tangent(raw: Any, value: np.ndarray, source: str, where: str) -> np.ndarray:
    """What the JVP returned along the tangents `where`: one real array shaped like f's output."""
    if isinstance(raw, tuple | list):
        raise GradcheckUsageError(f"{source} returned {describe(raw)} for the tangents along {where}; expected the "
                                  f"output tangent, one array shaped like f's output {value.shape}")
    if not (isinstance(raw, np.ndarray | np.generic | numbers.Real) or _mp_real(raw)):
        raise GradcheckUsageError(f"{source} returned {describe(raw)} for the tangents along {where}; expected a "
                                  f"numpy array shaped like f's output {value.shape}")
    out = np.asarray(raw)
    if out.shape != value.shape and not (out.size == value.size == 1 and out.ndim <= 1 and value.ndim <= 1):
        raise GradcheckUsageError(f"{source} returned shape {out.shape} for the tangents along {where}, expected "
                                  f"f's output shape {value.shape}")
    real = out.dtype.kind in "fiu" or quad.is_quad(out) or (
        out.dtype.kind == "O" and all(_mp_real(e) or isinstance(e, numbers.Real) for e in out.flat))
    if not real:
        raise GradcheckUsageError(f"{source} returned dtype {out.dtype} for the tangents along {where}; expected "
                                  "real numbers (a float array)")
    return out.reshape(value.shape)


def _mp_real(value: Any) -> bool:
    return isinstance(getattr(value, "_mpf_", None), tuple)


def under_test(f: Callable[..., Any], jvp: Any, vjp: Any) -> tuple[Callable[..., Any], Callable[..., Any] | None,
                                                                     str]:
    """The JVP under test `(tangents, *args) -> output tangent`, the VJP it must be the transpose of (None: no
    such check), and where the JVP comes from: jvp= as given, or autodiff_ref's forward mode, whose own VJP is
    then the transpose to confirm."""
    for name, given in (("jvp", jvp), ("vjp", vjp)):
        if given is not None and not callable(given):
            raise GradcheckUsageError(f"{name}: expected a callable, got {describe(given)}; pass the function "
                                      f"itself, check_jvp(f, args, {name}=my_{name})")
    if jvp is not None:
        return jvp, vjp, "jvp"
    import autodiff_ref

    if not hasattr(autodiff_ref, "jvp"):
        raise GradcheckUsageError("jvp: this autodiff_ref has no forward mode (autodiff_ref.jvp); pass "
                                  "jvp=(tangents, *args) -> output tangent")

    def engine_jvp(tangents: Any, *args: Any) -> Any:
        return autodiff_ref.jvp(f, tuple(args), tuple(tangents))[1]

    def engine_vjp(cotangent: Any, *args: Any) -> Any:
        return autodiff_ref.vjp(f, *args)[1](cotangent)

    return engine_jvp, (engine_vjp if vjp is None else vjp), "autodiff_ref"

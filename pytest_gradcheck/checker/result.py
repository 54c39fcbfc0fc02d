"""What a check found: `GradcheckResult`, its mismatch records, and `GradcheckError` for pytest failures."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import mpmath
import numpy as np

from pytest_gradcheck.checker import result_text

STATUSES = ("pass", "formula_error", "float64_accuracy", "nondifferentiable", "inconclusive", "nondeterministic",
            "budget_exceeded", "error")
FAILING = frozenset({"formula_error", "float64_accuracy", "inconclusive", "nondeterministic", "budget_exceeded",
                     "error"})
# What a mismatch's value is compared with, by its kind ("transpose": check_jvp's <u, jvp(v)> = <vjp(u), v>;
# "symmetry": check_hessian's H_ij against H_ji).
COMPARED = {"formula": "reference", "float64_accuracy": "high-precision gradient", "transpose": "<vjp(u), v>",
            "symmetry": "transposed element"}
HP_DIGITS_SHOWN = 25  # high-precision values in reports: the reference is good to ~25 digits


@dataclass(frozen=True)
class Mismatch:
    """One compared quantity outside its tolerance (an element in full mode, a projection in fast mode).

    Attributes:
        kind: `formula` (the gradient against the reference derivative), `float64_accuracy` (the float64
            gradient against the same gradient at high precision) or `transpose` (check_jvp: <u, jvp(v)>, the
            value, against <vjp(u), v>, the reference).
        argument: the argument's position, or None for a projection over all arguments.
        name: the argument's name (or the projection's label).
        where: `element (2, 1)`, `projection 3`, ...
        index: the element's index in its argument, or None.
        reference: what the value should be: the reference derivative, or the high-precision gradient.
        reference_error: the reference's error estimate.
        value: the value under test.
        abs_error: |value - reference|.
        rel_error: abs_error relative to |reference|.
        tolerance: the absolute tolerance this comparison allowed.
    """

    kind: str  # "formula" (gradient vs reference derivative) or "float64_accuracy" (float64 vs high precision)
    argument: int | None  # None: a projection over all arguments
    name: str
    where: str  # "element (2, 1)" or "projection 3"
    index: tuple[int, ...] | None
    reference: float
    reference_error: float
    value: float
    abs_error: float
    rel_error: float
    tolerance: float

    @property
    def measurable(self) -> bool:
        """Whether value and reference are both finite (else there is no error to measure, nor a ratio)."""
        return math.isfinite(self.value) and math.isfinite(self.reference)

    @property
    def ratio(self) -> float:
        """How many tolerances the error is (inf when the tolerance is 0)."""
        return self.abs_error / self.tolerance if self.tolerance > 0 else float("inf")

    def describe(self) -> str:
        target = f"argument {self.argument} ({self.name!r})" if self.argument is not None else self.name
        compared = COMPARED.get(self.kind, "high-precision gradient")
        head = (f"{target}, {self.where}: {compared} {self.reference:.16g} +- {self.reference_error:.1e}, "
                f"under test {self.value:.16g}; ")
        if not self.measurable:
            return head + f"a non-finite value: no error to measure, tolerance {self.tolerance:.3e}"
        return head + (f"abs error {self.abs_error:.3e}, rel error {self.rel_error:.3e}, "
                       f"tolerance {self.tolerance:.3e} ({self.ratio:.3g}x)")

    def brief(self) -> str:
        """'input0 (1, 3): reference 0.58 +- 7e-26, under test 0.49, rel error 1.7e-01 (3.8e+14x tolerance)'."""
        place = self.where.removeprefix("element ")
        return (f"{self.name} {place}: reference {float(self.reference)!r} +- {self.reference_error:.1g}, "
                f"under test {float(self.value)!r}, {self._how_far()}")

    def _how_far(self) -> str:
        if not self.measurable:
            return "a non-finite value: no error to measure"
        return f"rel error {self.rel_error:.1e} ({self.ratio:.2g}x tolerance)"

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "argument": self.argument, "name": self.name, "where": self.where,
                "index": list(self.index) if self.index is not None else None, "reference": self.reference,
                "reference_error": self.reference_error, "value": self.value, "abs_error": self.abs_error,
                "rel_error": self.rel_error, "tolerance": self.tolerance, "ratio": self.ratio}


@dataclass(frozen=True)
class Kink:
    """A non-differentiable point seen along one direction, with the one-sided derivatives there.

    Attributes:
        argument: the argument's position, or None for a projection over all arguments.
        where: the element or projection, as in `Mismatch.where`.
        left: the left derivative.
        right: the right derivative.
        value: the gradient under test there.
        valid_choice: whether `value` lies between `left` and `right` (a valid one-sided choice).
        index: the element's index in its argument, or None (a projection), as in `Mismatch.index`.
    """

    argument: int | None
    where: str
    left: float
    right: float
    value: float
    valid_choice: bool  # the value under test lies between the one-sided derivatives (a subgradient)
    index: tuple[int, ...] | None = None  # the element's index in its argument (None: a projection)

    def describe(self) -> str:
        verdict = "a valid one-sided choice" if self.valid_choice else "OUTSIDE the one-sided derivatives"
        place = f"argument {self.argument}, " if self.argument is not None else ""
        return (f"{place}{self.where}: left derivative {self.left:.16g}, right derivative {self.right:.16g}; "
                f"the gradient under test {self.value:.16g} is {verdict}")

    def to_dict(self) -> dict[str, Any]:
        return {"argument": self.argument, "where": self.where, "left": self.left, "right": self.right,
                "value": self.value, "valid_choice": self.valid_choice,
                "index": list(self.index) if self.index is not None else None}


@dataclass(frozen=True)
class OpRow:
    """One op of the traced graph and its verdict (a row of `GradcheckResult.ops`).

    Attributes:
        index: the op's number: 1 for the first op f calls, counting every traced op in tape order.
        name: the op's name (`matmul`, `tanh`, or a custom primitive's function name).
        location: `file:line` of the code that called the op, relative to the working directory when inside it.
        input_shapes: the shapes of the op's traced inputs.
        custom: whether the op is a custom primitive (not one of autodiff_ref's own).
        status: a check status (`error`: the checker itself raised while checking the op, `note` names the
            frame), or `skipped` when the op's own code raised for a reason of its own (see `note`).
        ok: False when the op's backward rule fails its check.
        formula_error: the largest relative error of the op's VJP against the reference derivative.
        float64_error: the largest relative error of the float64 VJP against the same VJP at high precision.
        tolerance: the formula rtol used.
        high_precision: whether the op's reference was computed at high precision.
        mismatches: the op's worst elements outside tolerance.
        kinks: non-differentiable points of the op at its recorded inputs.
        note: why the op was skipped, or what else its check found.
        first_failing: whether this is the first failing op on the tape (marked `>` in messages).
    """

    index: int
    name: str
    location: str
    input_shapes: tuple[tuple[int, ...], ...]
    custom: bool
    status: str  # a check status ("error": the checker raised), or "skipped": the op's code raised (see note)
    ok: bool
    formula_error: float | None  # largest relative error of the VJP against the reference derivative
    float64_error: float | None  # largest relative error of the float64 VJP against the same VJP at high precision
    tolerance: float | None  # the formula rtol used
    high_precision: bool
    mismatches: tuple[Mismatch, ...] = ()
    kinks: tuple[Kink, ...] = ()
    note: str = ""
    first_failing: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {"index": self.index, "name": self.name, "location": self.location,
                "input_shapes": [list(s) for s in self.input_shapes], "custom": self.custom,
                "status": self.status, "ok": self.ok, "formula_error": self.formula_error,
                "float64_error": self.float64_error, "tolerance": self.tolerance,
                "high_precision": self.high_precision, "mismatches": [m.to_dict() for m in self.mismatches],
                "kinks": [k.to_dict() for k in self.kinks], "note": self.note, "first_failing": self.first_failing}


@dataclass(repr=False)  # the repr is one line (result_text.one_line); arrays stay in the fields
class GradcheckResult:
    """Everything a check found and how; `ok` is False exactly when the status is a failing one.

    Attributes:
        status: `pass`, `formula_error`, `float64_accuracy`, `nondifferentiable`, `inconclusive`,
            `nondeterministic`, `budget_exceeded` or `error` (the checker itself raised; docs/checker.md#statuses).
        mode: the mode that ran (`auto` resolves to `full` or `fast`).
        kind: what was checked: `grad` (a first-order VJP or gradient, check_grad), `jvp` (a forward-mode
            Jacobian-vector product, check_jvp), `hvp` (a Hessian-vector product, check_hvp) or `hessian` (a
            full Hessian, check_hessian).
        function: the checked function's name (`<lambda>` for a lambda).
        gradient_source: where the gradient under test came from: `grad`, `vjp` or `autodiff_ref`.
        argument_names: f's positional parameter names, as messages use them.
        tolerance: the tolerances used: `rtol_formula`, `rtol_float64`, `atol`, `relative_floor`, `safety`.
            A gradient that only runs in float64 adds `gradient_noise` (its measured round-off, relative to
            its scale) and `noise_safety` (the multiple of the measured noise each comparison allows).
        mismatches: every compared quantity outside its tolerance, worst first (`Mismatch`).
        kinks: the non-differentiable points seen, with one-sided derivatives (`Kink`).
        reference: the reference derivative per argument, in full mode (None in the other modes).
        reference_error: its error estimate, per argument and element.
        gradient: the float64 gradient under test, one array per argument.
        gradient_hp: the same gradient evaluated at high precision, or None when its code cannot run there.
        high_precision: whether the reference was computed at high precision (else float64, see precision_note).
        precision_note: why the reference fell back to float64 ("" when it did not).
        digits: the working precision of the reference, in decimal digits.
        backend: the tier the reference was computed on: "quad" (numpy-quaddtype arrays, 113 bits, with the
            calls quad cannot run on mpmath), "mpmath" (object arrays of mpmath numbers), or "float64" (the
            fall-back; see precision_note).
        projections: random projections compared (fast mode).
        miss_probability: fast mode: the chance that an error the size of the tolerance went unseen.
        taylor: taylor mode: steps, remainders and observed orders.
        evaluations: evaluations of f spent.
        seconds: wall time of the check.
        notes: what else the check found or assumed, one sentence each.
        ops: the per-op table (`pytest_gradcheck.checker.per_op.OpRow`), in tape order.
        checked: budget_exceeded: the directional derivatives completed and compared before the budget ran out.
        plots: the pictures drawn for this check (check_grad's `plots=`).
        ops_note: why `ops` is empty or partial: the whole-function check passed, so `per_op="auto"` checked
            no op one by one (or only the custom primitives, under the engine's gradient), `per_op="off"`, the
            budget was spent, f could not be traced (with the call that stopped the trace), or no custom op for
            `per_op="custom"` ("" otherwise).
    """

    status: str
    mode: str
    kind: str = field(default="grad", kw_only=True)  # "grad", "jvp", "hvp" or "hessian": what was checked
    function: str
    gradient_source: str
    argument_names: tuple[str, ...]
    tolerance: dict[str, float]
    mismatches: list[Mismatch] = field(default_factory=list)
    kinks: list[Kink] = field(default_factory=list)
    reference: tuple[np.ndarray, ...] | None = None
    reference_error: tuple[np.ndarray, ...] | None = None
    gradient: tuple[np.ndarray, ...] = ()
    gradient_hp: tuple[np.ndarray, ...] | None = None
    high_precision: bool = True
    precision_note: str = ""
    digits: int = 40
    projections: int = 0
    miss_probability: float | None = None
    taylor: Any = None
    evaluations: int = 0
    seconds: float = 0.0
    notes: list[str] = field(default_factory=list)
    accuracy_is_warning: bool = False  # float64_accuracy="warn": lost float64 accuracy is reported, not failed
    traces: list[dict[str, Any]] = field(default_factory=list)  # per derivative: steps tried, estimate at each
    worst: dict[str, float] = field(default_factory=dict)  # largest relative error per diagnosis, pass or fail
    ops: list[Any] = field(default_factory=list)  # per-op rows (pytest_gradcheck.checker.per_op.OpRow), tape order
    checked: list[str] = field(default_factory=list)  # budget_exceeded: the directional derivatives completed
    float64_constants: list[str] = field(default_factory=list)  # famous constants f mixes in as float64 (np.pi)

    @property
    def achieved_digits(self) -> float | None:
        """Digits to which f was evaluated as meant: the working precision, or about 16 when f mixes float64
        constants in (np.pi); None for a float64 reference (its error estimates say how good it is)."""
        from pytest_gradcheck.hp.constants import achieved_digits

        if not self.high_precision:
            return None
        return min(achieved_digits(), float(self.digits)) if self.float64_constants else float(self.digits)
    cotangent: np.ndarray | None = None  # the flattened cotangent v: the check compares v^T J with vjp(v)
    plots: list[str] = field(default_factory=list)  # pictures drawn for this check (check_grad's plots=)
    ops_note: str = ""  # why the per-op table is empty or partial (a pass under per_op="auto", "off", ...)
    backend: str = "mpmath"  # the reference's tier: "quad", "mpmath" or "float64"
    complex_convention: str | None = None  # complex arguments: "torch", "jax" or "holomorphic" (None: none)
    convention_note: str = ""  # complex: the gradient is in another convention, or f is not holomorphic

    @property
    def ok(self) -> bool:
        """False for a wrong formula, lost float64 accuracy (unless a warning), no verdict, or a kink where the
        gradient under test is not a valid one-sided choice; a kink with a valid choice is reported, not failed."""
        if self.status == "float64_accuracy" and self.accuracy_is_warning:
            return True
        if self.status == "nondifferentiable":
            return all(kink.valid_choice for kink in self.kinks)
        return self.status not in FAILING

    def summary(self) -> str:
        """The report's first line: what the verdict means, and how it was reached."""
        return result_text.headline(self)

    def report(self) -> str:
        """The multi-line report a failure shows (also for a passing result): the headline, the tolerance, the
        worst errors and the cost, the worst elements, the per-op table, notes and the remedy."""
        return "\n".join(result_text.report_lines(self))

    def message(self) -> str:
        """The text of a `GradcheckError` for this result (the same as `report()`)."""
        return self.report()

    def __str__(self) -> str:
        return self.report()

    def __repr__(self) -> str:
        return result_text.one_line(self)

    def to_dict(self) -> dict[str, Any]:
        def arrays(values: Any) -> Any:
            if values is None:
                return None
            return [_plain(v) for v in values]

        return {
            "ok": self.ok, "status": self.status, "mode": self.mode, "kind": self.kind, "function": self.function,
            "gradient_source": self.gradient_source, "argument_names": list(self.argument_names),
            "tolerance": dict(self.tolerance), "mismatches": [m.to_dict() for m in self.mismatches],
            "kinks": [k.to_dict() for k in self.kinks], "reference": arrays(self.reference),
            "reference_error": arrays(self.reference_error), "gradient": arrays(self.gradient),
            "high_precision": self.high_precision, "precision_note": self.precision_note, "digits": self.digits,
            "projections": self.projections, "miss_probability": self.miss_probability,
            "taylor": None if self.taylor is None else self.taylor.to_dict(),
            "gradient_hp": None if self.gradient_hp is None else [
                [mpmath.nstr(e, HP_DIGITS_SHOWN) for e in np.asarray(g).flat] for g in self.gradient_hp],
            "evaluations": self.evaluations, "seconds": self.seconds, "notes": list(self.notes),
            "traces": list(self.traces), "worst": dict(self.worst), "ops": [r.to_dict() for r in self.ops],
            "checked": list(self.checked), "float64_constants": list(self.float64_constants),
            "achieved_digits": self.achieved_digits,
            "plots": list(self.plots), "ops_note": self.ops_note,
            "complex_convention": self.complex_convention, "convention_note": self.convention_note,
        }


def _plain(values: Any) -> Any:
    """An array as JSON lists: floats, or [real, imaginary] pairs for a complex array (mpc numbers too)."""
    flat = np.asarray(values)
    if flat.dtype.kind == "c" or (flat.dtype == object and any(
            isinstance(e, complex) or hasattr(e, "_mpc_") for e in flat.ravel().tolist())):
        pairs = np.array([[float(e.real), float(e.imag)] for e in flat.ravel().tolist()]).reshape(*flat.shape, 2)
        return pairs.tolist()
    return np.asarray(values, dtype=float).tolist()


class GradcheckError(AssertionError):
    """A failed gradient check; the message reads as a pytest failure and `.result` has the details."""

    __module__ = "pytest_gradcheck"  # shown in tracebacks: the name users import it by

    def __init__(self, result: GradcheckResult) -> None:
        super().__init__(result.message())
        self.result = result

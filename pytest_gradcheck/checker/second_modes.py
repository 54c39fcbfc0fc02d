"""The modes of a second-order check: `full` (every column H e_j of the derivative under test against the
reference entries of H) and `fast` (random projections u^T H v against u . (H v)); auto's screen is one such
projection. Both diagnoses: the formula (the product under test at high precision against the reference) and
float64 accuracy (the float64 product against the same product at high precision)."""

from __future__ import annotations

import dataclasses
import functools
import math
from dataclasses import dataclass, field
from typing import Any

import mpmath
import numpy as np

from pytest_gradcheck.checker import hessian_reference, verdict
from pytest_gradcheck.checker.budget import BudgetExceeded
from pytest_gradcheck.checker.hessian_reference import Entry, Reference
from pytest_gradcheck.checker.result import Kink, Mismatch
from pytest_gradcheck.checker.second_setup import SecondSetup, hp_inputs
from pytest_gradcheck.hp.precision import to_float64


@dataclass
class SecondOutcome:
    """What a mode found: mismatches of each diagnosis, kinks, whether every reference value converged, the
    tolerances it judged with, and (full mode) the reference and tested Hessians as blocks [a][b] flattened
    row-major into one tuple."""

    tol: verdict.Tolerances | None = None
    formula: list[Mismatch] = field(default_factory=list)
    accuracy: list[Mismatch] = field(default_factory=list)
    kinks: list[Kink] = field(default_factory=list)
    converged: bool = True
    projections: int = 0
    miss_probability: float | None = None
    notes: list[str] = field(default_factory=list)
    reference: tuple[np.ndarray, ...] | None = None
    reference_error: tuple[np.ndarray, ...] | None = None
    tested: tuple[np.ndarray, ...] = ()
    margin: float = 0.0  # fast: the largest (|error| + reference error) / (rtol max(|r|, scale) + atol) seen


def miss_probability(projections: int, multiple: float = 1.0) -> float:
    """Chance that `projections` projections u^T E v (u, v independent standard normal) all stay within the
    tolerance when one entry of the error E is `multiple` times it: u_i v_j is a product of two normals, within
    c = 1 / multiple with probability 2 int_0^inf phi(y) erf(c / (y sqrt 2)) dy."""
    return _one_within(1.0 / multiple) ** projections


@functools.lru_cache(maxsize=64)
def _one_within(c: float) -> float:
    """P(|u v| <= c) for independent standard normals u, v: (2/pi) int_0^c K0 = c (K0 L_-1 + K1 L0)(c), with
    K the modified Bessel and L the modified Struve functions (once per c)."""
    x = mpmath.mpf(c)
    return float(x * (mpmath.besselk(0, x) * mpmath.struvel(-1, x) + mpmath.besselk(1, x) * mpmath.struvel(0, x)))


def products(setup: SecondSetup, v: tuple[np.ndarray, ...]) -> tuple[tuple[Any, ...], tuple[Any, ...] | None]:
    """H v under test: in float64 and at high precision (None when it cannot run there)."""
    return setup.under_test.float64(v), setup.under_test.high(v)


def column_labels(setup: SecondSetup, kind: str) -> Any:
    """The `where` of an element of a column: (row argument a, row index, column argument b, column index)."""
    def label(a: int, row: tuple[int, ...], b: int, col: tuple[int, ...]) -> str:
        if kind == "hessian":
            return f"element {row + col} of block [{setup.names[a]}][{setup.names[b]}]"
        return f"element {row} of H v, column {setup.names[b]} {col}"
    return label


def run_full(setup: SecondSetup, kind: str) -> SecondOutcome:
    """Every column H e_r under test against the reference entries H_pr (the upper triangle evaluated)."""
    reference = Reference(setup.evaluator)
    columns = [products(setup, _as_arrays(reference.unit(r), setup.args)) for r in range(setup.size)]
    high = all(hp is not None for _, hp in columns)
    outcome = SecondOutcome(tol=setup.tolerances(high))
    tested = [hp if high else low for low, hp in columns]
    entries = hessian_reference.matrix(reference)
    scales = [_scale(setup, reference, entries, tested, a) for a in range(len(setup.args))]
    label = column_labels(setup, kind)
    for r, (low, hp) in enumerate(columns):
        b, j = reference.positions[r]
        col = np.unravel_index(j, setup.args[b].shape)
        for a, x in enumerate(setup.args):
            rows = [p for p, (a2, _) in enumerate(reference.positions) if a2 == a]
            column = [entries[p][r] for p in rows]
            where = [label(a, tuple(int(k) for k in np.unravel_index(i, x.shape)), b, tuple(int(k) for k in col))
                     for i in range(x.size)]
            _judge(setup, outcome, column, tested[r][a].ravel(), where, a, scales[a])
            if hp is not None:
                outcome.accuracy += _compare("float64_accuracy", hp[a].ravel(), [0.0] * x.size,
                                             np.asarray(low[a], dtype=float).ravel(), outcome.tol.rtol_float64,
                                             outcome.tol, scales[a], a, setup.names[a], where, setup.worst)
    outcome.reference, outcome.reference_error, outcome.tested = _blocks(setup, reference, entries, columns)
    return outcome


def _scale(setup: SecondSetup, reference: Reference, entries: list[list[Entry]], tested: list[Any], a: int) -> float:
    """An argument's rows of H are judged on the scale of their largest entry, tested or reference."""
    rows = [p for p, (b, _) in enumerate(reference.positions) if b == a]
    known = [abs(float(entries[p][r].value)) for p in rows for r in range(setup.size) if entries[p][r].status == "ok"]
    return max([*(verdict.scale_of(t[a]) for t in tested), *known], default=0.0)


def _as_arrays(direction: list[np.ndarray | None], args: tuple[np.ndarray, ...]) -> tuple[np.ndarray, ...]:
    return tuple(np.zeros(x.shape) if u is None else u for u, x in zip(direction, args, strict=True))


def _judge(setup: SecondSetup, outcome: SecondOutcome, column: list[Entry], values: np.ndarray, where: list[str],
           a: int, scale: float) -> None:
    """The formula diagnosis of one argument's part of one column: converged entries compared, kinks recorded."""
    tol = outcome.tol
    assert tol is not None
    ok = [k for k, e in enumerate(column) if e.status == "ok"]
    outcome.converged &= all(e.status != "not_converged" for e in column)
    outcome.formula += _compare("formula", [column[k].value for k in ok], [column[k].error for k in ok],
                                values[ok], tol.rtol_formula, tol, scale, a, setup.names[a],
                                [where[k] for k in ok], setup.worst)
    for k, e in enumerate(column):
        if e.status == "nondifferentiable":
            outcome.kinks.append(_kink(e, float(to_float64(np.asarray([values[k]]))[0]), a, where[k], tol, scale))


def _kink(entry: Entry, value: float, argument: int | None, where: str, tol: verdict.Tolerances,
          scale: float) -> Kink:
    """A second derivative that does not exist: the value under test is a valid choice when it lies within the
    one-sided values (a jump of the first derivative: any value; its second derivative is a Dirac mass)."""
    slack = float(verdict.allowed(np.asarray([entry.right]), [entry.error], scale, tol.rtol_formula, tol)[0]) \
        if math.isfinite(entry.right) else math.inf
    inside = min(entry.left, entry.right) - slack <= value <= max(entry.left, entry.right) + slack
    return Kink(argument, where, entry.left, entry.right, value, bool(inside or not math.isfinite(entry.left)))


def _compare(kind: str, reference: Any, errors: Any, values: Any, rtol: float, tol: verdict.Tolerances,
             scale: float, argument: int | None, name: str, where: list[str],
             worst: dict[str, float]) -> list[Mismatch]:
    """verdict.compare over flat lists, each mismatch named by its `where`."""
    if not len(where):
        return []
    found = verdict.compare(kind, np.asarray(reference, dtype=object), np.asarray(errors, dtype=float),
                            np.asarray(values, dtype=object), rtol=rtol, tol=tol, scale=scale, argument=argument,
                            name=name, worst=worst)
    return [dataclasses.replace(m, where=where[m.index[0]], index=None) for m in found]


def _blocks(setup: SecondSetup, reference: Reference, entries: list[list[Entry]],
            columns: list[Any]) -> tuple[tuple[np.ndarray, ...], tuple[np.ndarray, ...], tuple[np.ndarray, ...]]:
    """The reference, its error and the float64 Hessian under test as blocks [a][b] shaped
    args[a].shape + args[b].shape, flattened row-major into one tuple each."""
    starts = np.cumsum([0] + [x.size for x in setup.args])
    value = np.array([[float(e.value) for e in row] for row in entries]).reshape(setup.size, setup.size)
    error = np.array([[e.error for e in row] for row in entries]).reshape(setup.size, setup.size)
    tested = np.array([np.concatenate([np.asarray(c, dtype=float).ravel() for c in low]) for low, _ in columns]).T \
        if columns else np.zeros((0, 0))
    out: tuple[list[np.ndarray], list[np.ndarray], list[np.ndarray]] = ([], [], [])
    for a, x in enumerate(setup.args):
        for b, y in enumerate(setup.args):
            for target, full in zip(out, (value, error, tested), strict=True):
                target.append(full[starts[a]:starts[a + 1], starts[b]:starts[b + 1]].reshape(x.shape + y.shape))
    return tuple(out[0]), tuple(out[1]), tuple(out[2])


def run_fast(setup: SecondSetup, projections: int, narrow: bool = True, levels: int = 3) -> SecondOutcome:
    """`projections` random projections u^T H v (u, v standard normal, dyadic) against u . (H v) under test; a
    failing one is narrowed to the elements of its H v (`narrow`; the screen does not). `levels`: of the
    reference's Richardson tables (second_differences; the projections' own, narrowing keeps them)."""
    reference = Reference(setup.evaluator, levels)
    outcome = SecondOutcome(projections=projections, miss_probability=miss_probability(projections))
    failed = [found for k in range(projections) if (found := _projection(setup, reference, outcome, k))]
    outcome.notes.append(f"an error 10x the tolerance in one entry of H goes unseen with probability "
                         f"{miss_probability(projections, 10):.1g}")
    if failed and narrow:
        _narrow(setup, reference, outcome, *failed[0])
    return outcome


# Fast mode names the wrong elements of H v (for the first failing projection's v) in arguments of up to this
# many elements: e_i^T H v by polarisation, 12 evaluations each.
NARROW_ELEMENTS = 64


def _narrow(setup: SecondSetup, reference: Reference, outcome: SecondOutcome, k: int, v: tuple[np.ndarray, ...],
            tested: tuple[Any, ...]) -> None:
    """The elements of H v under test (v: projection k's) against e_i^T H v, element by element."""
    try:
        for a, x in enumerate(setup.args):
            if x.size > NARROW_ELEMENTS:
                outcome.notes.append(f"argument {a} ({setup.names[a]!r}) has {x.size} elements, more than fast mode "
                                     f"narrows ({NARROW_ELEMENTS}); mode='full' names its elements")
                continue
            entries, where = [], []
            for i in range(x.size):
                unit = tuple(np.zeros(y.shape) for y in setup.args)
                unit[a].flat[i] = 1.0
                entries.append(reference.projection(unit, v))
                where.append(f"element {tuple(int(j) for j in np.unravel_index(i, x.shape))} of H v, v of "
                             f"projection {k}")
            values = np.asarray(tested[a]).ravel()
            _judge(setup, outcome, entries, values, where, a, verdict.scale_of(values))
    except BudgetExceeded as error:
        outcome.notes.append(f"naming the elements of the failing projection stopped: budget exceeded ({error})")


def _projection(setup: SecondSetup, reference: Reference, outcome: SecondOutcome,
                k: int) -> tuple[int, tuple[np.ndarray, ...], tuple[Any, ...]] | None:
    """One projection: the formula and float64-accuracy diagnoses of u . (H v), or a kink along u +- v; when
    the formula fails, (k, v, H v under test) for narrowing."""
    u = tuple(hessian_reference.dyadic(setup.rng.standard_normal(x.shape)) for x in setup.args)
    v = tuple(hessian_reference.dyadic(setup.rng.standard_normal(x.shape)) for x in setup.args)
    low, hp = products(setup, v)
    if outcome.tol is None:  # the first projection decides the formula's tolerance
        outcome.tol = setup.tolerances(hp is not None)
    tol = dataclasses.replace(outcome.tol, relative_floor=1.0)  # a projection is judged on its terms' size
    p64 = sum(float(np.dot(x.ravel(), np.asarray(h, dtype=float).ravel())) for x, h in zip(u, low, strict=True))
    scale = sum(float(np.dot(np.abs(x.ravel()), np.abs(np.asarray(h, dtype=float).ravel())))
                for x, h in zip(u, low, strict=True))
    p_hp = None if hp is None else sum(np.dot(np.asarray(x, dtype=object).ravel(), np.asarray(h).ravel())
                                       for x, h in zip(hp_inputs(u, setup.evaluator.ctx), hp, strict=True))
    entry = reference.projection(u, v)
    tested = p_hp if p_hp is not None else p64
    where = [f"projection {k}: u^T H v"]
    outcome.converged &= entry.status != "not_converged"
    if entry.status == "nondifferentiable":
        outcome.kinks.append(_kink(entry, float(tested), None, where[0], outcome.tol, scale))
    failed = None
    if entry.status == "ok":
        allowance = outcome.tol.atol + outcome.tol.rtol_formula * max(abs(float(entry.value)), scale)
        distance = abs(float(tested - entry.value)) + entry.error
        outcome.margin = max(outcome.margin, distance / allowance if allowance > 0 else math.inf)
        found = _compare("formula", [entry.value], [entry.error], [tested], outcome.tol.rtol_formula, tol, scale,
                         None, "projection", where, setup.worst)
        outcome.formula += found
        failed = (k, v, hp if hp is not None else low) if found else None
    if p_hp is not None:
        outcome.accuracy += _compare("float64_accuracy", [p_hp], [0.0], [p64], outcome.tol.rtol_float64, tol, scale,
                                     None, "projection", where, setup.worst)
    outcome.projections = max(outcome.projections, k + 1)
    return failed

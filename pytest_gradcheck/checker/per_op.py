"""Per-op checks: which primitive on the tape has the wrong backward rule, where it was called, by how much.

f is traced once by autodiff_ref at the point being checked; every op reachable from the output is then
checked on its own, at the inputs recorded on the tape (the model is never rerun): the op's VJP against
high-precision central differences of the op's forward. Elementwise ops need one directional derivative per
argument (their Jacobian is diagonal); other ops get a few random projections; only failing ops are narrowed
down to elements.
"""

from __future__ import annotations

import dataclasses
import inspect
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from pytest_gradcheck.checker.result import Kink, Mismatch
from pytest_gradcheck.hp import blame

PER_OP_CHOICES = ("all", "custom", "off")
# Non-elementwise ops: two seeded projections each (an op whose VJP is wrong in a whole direction fails both
# with near certainty); a failing op is then narrowed to elements.
OP_PROJECTIONS = 2
CONTEXT_ROWS = 1  # messages show each failing op with this many neighbours on either side


class BackwardRuleError(Exception):
    """An op's backward rule raised or returned the wrong shape: the op fails its check."""


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


def resolve_per_op(per_op: Any) -> str:
    """True/False or one of PER_OP_CHOICES."""
    if per_op is True:
        return "all"
    if per_op is False:
        return "off"
    if per_op not in PER_OP_CHOICES:
        raise ValueError(f"per_op: expected True, False or one of {PER_OP_CHOICES}, got {per_op!r}")
    return per_op


def _builtin_primitives() -> frozenset[int]:
    from autodiff_ref import functions, primitives
    from autodiff_ref.tensor import Primitive

    return frozenset(id(v) for module in (primitives, functions) for v in vars(module).values()
                     if isinstance(v, Primitive))


def traced_ops(f: Callable[..., Any], args: Sequence[np.ndarray]) -> tuple[list[Any], str]:
    """The tape nodes reachable from f's output, in recording order, or ([], why not)."""
    import autodiff_ref
    from autodiff_ref.tensor import toposort

    try:
        recording = autodiff_ref.record(f, args, tuple(range(len(args))))
    except Exception as error:  # the user's call boundary: f may not be traceable; a bug of the engine raises
        fault = blame.checker_fault(error)
        if fault is not None:
            raise blame.CheckerError(f"tracing f with autodiff_ref for the per-op checks: {fault}") from error
        frame = _user_frame(error)  # the user's call that stopped the trace (none when f is numpy's own)
        stop = blame.describe(error, frame) if frame is not None else f"{type(error).__name__}: {error}"
        return [], f"per-op checks unavailable: f could not be traced by autodiff_ref ({stop})"
    if not isinstance(recording.output, autodiff_ref.Tensor):
        return [], "per-op checks: f's output does not depend on its arguments"
    nodes = [n for n in toposort(recording.output.node) if n.primitive is not None]
    return sorted(nodes, key=lambda n: n.index), ""


def _op_function(node: Any, positions: list[int], number: int) -> tuple[Callable[..., Any], Callable[..., Any]]:
    """The op's forward and VJP as functions of its differentiable inputs; the other inputs stay as recorded."""
    prim, kwargs = node.primitive, node.kwargs

    def inputs(xs: Sequence[Any]) -> list[Any]:
        full = list(node.args)
        for p, x in zip(positions, xs, strict=True):
            full[p] = x
        return full

    @blame.forwarding
    def forward(*xs: Any) -> Any:
        return prim.fn(*inputs(xs), **kwargs)

    def vjp(g: Any, *xs: Any) -> tuple[Any, ...]:
        full = inputs(xs)
        ans = np.asarray(prim.fn(*full, **kwargs))
        out = []
        for p in positions:
            try:
                contribution = prim.vjp_maker(p, node.location)(ans, *full, **kwargs)(g)
            except Exception as error:  # the rule's call boundary: a bug of the checker is not the rule's fault
                fault = blame.checker_fault(error)
                if fault is not None:
                    raise blame.CheckerError(f"the backward rule of op {number} ({node.name}): {fault}") \
                        from error
                raise BackwardRuleError(f"its backward rule for input {p} raised {type(error).__name__}: "
                                        f"{error}") from error
            if np.shape(contribution) != np.shape(full[p]):
                raise BackwardRuleError(f"its backward rule for input {p} returned shape {np.shape(contribution)}, "
                                        f"expected {np.shape(full[p])}")
            out.append(contribution)
        return tuple(out)

    names = [f"input{p}" for p in positions]
    forward.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
        [inspect.Parameter(n, inspect.Parameter.POSITIONAL_ONLY) for n in names])
    forward.__qualname__ = f"op {number} {node.name}"
    return forward, vjp


def check_op(node: Any, *, custom: bool, options: Any, number: int) -> OpRow:
    """Check one tape node's VJP against high-precision central differences of its forward.

    The engine's own primitives are tested to be precision-generic, so only custom ops are searched for
    float64 buffers inside."""
    from pytest_gradcheck.checker.check import run_check

    positions = [argnum for argnum, _ in node.parents]
    values = tuple(np.asarray(node.args[p]) for p in positions)
    shapes = tuple(np.shape(a) for a in node.args if isinstance(a, np.ndarray | float | int))
    base = dict(index=number, name=node.name, location=short_location(node.location), input_shapes=shapes,
                custom=custom)
    forward, vjp = _op_function(node, positions, number)
    op_options = dataclasses.replace(
        options, mode="diagonal" if node.primitive.elementwise else "fast", projections=OP_PROJECTIONS,
        per_op="off", seed=(options.seed or 0) + node.index, verify_precision=custom, screen=True)
    try:
        result = run_check(forward, values, None, vjp, op_options)
    except BackwardRuleError as error:
        return OpRow(**base, status="formula_error", ok=False, formula_error=None, float64_error=None,
                     tolerance=None, high_precision=False, note=str(error))
    except Exception as error:  # the op's own code raised (skipped, the note says where) or the checker did
        fault = blame.checker_fault(error)
        if fault is not None:
            return OpRow(**base, status="error", ok=False, formula_error=None, float64_error=None, tolerance=None,
                         high_precision=False, note=f"checker error: {fault}")
        return OpRow(**base, status="skipped", ok=True, formula_error=None, float64_error=None, tolerance=None,
                     high_precision=False, note=f"the op's own code raised {blame.describe(error, _user_frame(error))}")
    if result.status == "error":  # the checker raised inside the op's check (run_check reports it as a result)
        return OpRow(**base, status="error", ok=False, formula_error=None, float64_error=None, tolerance=None,
                     high_precision=False, note="; ".join(result.notes))  # "checker error: <frame>"
    return OpRow(**base, status=result.status, ok=result.ok, formula_error=result.worst.get("formula"),
                 float64_error=result.worst.get("float64_accuracy"), tolerance=result.tolerance["rtol_formula"],
                 high_precision=result.high_precision, mismatches=tuple(result.mismatches),
                 kinks=tuple(result.kinks), note="; ".join([result.precision_note, *result.notes]).strip("; "))


def _entries(error: BaseException) -> list[Any]:
    entries, tb = [], error.__traceback__
    while tb is not None:
        entries.append(tb)
        tb = tb.tb_next
    return entries


def _user_frame(error: BaseException) -> Any:
    """The innermost traceback entry outside the checker and the libraries (the op's own line), if any."""
    return next((tb for tb in reversed(_entries(error)) if blame.owner(tb.tb_frame) == "user"), None)



def check_ops(f: Callable[..., Any], args: Sequence[np.ndarray], *, scope: str,
              options: Any) -> tuple[list[OpRow], str, str]:
    """Rows for every op reachable from f's output (only custom primitives when scope == "custom"), numbered
    from 1 in tape order; a note on what else was found, and why there are no rows ("" when there are)."""
    nodes, note = traced_ops(f, args)
    builtin = _builtin_primitives()
    rows = [check_op(n, custom=id(n.primitive) not in builtin, options=options, number=number)
            for number, n in enumerate(nodes, start=1) if scope == "all" or id(n.primitive) not in builtin]
    first = next((i for i, r in enumerate(rows) if not r.ok), None)
    if first is not None:
        rows[first] = OpRow(**{**rows[first].__dict__, "first_failing": True})
    skipped = [f"op {r.index} ({r.name}): {r.note}" for r in rows if r.status == "skipped"]
    if skipped:
        note = "; ".join([note, *(f"per-op check skipped {s}" for s in skipped)]).strip("; ")
    return rows, note, "" if rows else _no_rows(nodes, note, scope)


def _no_rows(nodes: list[Any], note: str, scope: str) -> str:
    """Why a per-op table is empty: f could not be traced (the call that stopped it), its output does not
    depend on its arguments, or per_op="custom" found no custom op."""
    if note:
        return note.removeprefix("per-op checks unavailable: ").removeprefix("per-op checks: ")
    if nodes and scope == "custom":
        return f'per_op="custom" and none of f\'s {len(nodes)} ops is a custom primitive'
    return "f's output is computed without any traced op"


def short_location(location: str) -> str:
    """file:line relative to the working directory when the file is below it."""
    path, _, line = location.rpartition(":")
    try:
        relative = os.path.relpath(path)
    except ValueError:
        return location
    return f"{relative}:{line}" if not relative.startswith("..") else location


def _fmt(value: float | None) -> str:
    return "-" if value is None else f"{value:.1e}"


def render_rows(rows: Sequence[OpRow], *, failing_only: bool) -> list[str]:
    """Table lines: with failing_only, the failing ops and CONTEXT_ROWS neighbours; '>' marks the first."""
    shown = range(len(rows))
    if failing_only:
        bad = [i for i, r in enumerate(rows) if not r.ok]
        shown = sorted({j for i in bad for j in range(i - CONTEXT_ROWS, i + CONTEXT_ROWS + 1) if 0 <= j < len(rows)})
    names = [r.name + ("*" if r.custom else "") for r in rows]
    inputs = [" ".join(str(s).replace(" ", "") for s in r.input_shapes) for r in rows]
    wide = [max([len(h), *(len(c[i]) for i in shown)]) for h, c in
            (("op", names), ("location", [r.location for r in rows]), ("inputs", inputs))]
    lines = [f"     {'#':>4}  {'op':<{wide[0]}}  {'location':<{wide[1]}}  {'inputs':<{wide[2]}}  {'formula':>8} "
             f"{'float64':>8} {'rtol':>8}  status"]
    for i in shown:
        r = rows[i]
        mark = ">" if r.first_failing else " "
        lines.append(f"   {mark} {r.index:>4}  {names[i]:<{wide[0]}}  {r.location:<{wide[1]}}  {inputs[i]:<{wide[2]}}  "
                     f"{_fmt(r.formula_error):>8} {_fmt(r.float64_error):>8} {_fmt(r.tolerance):>8}  {r.status}")
        lines.extend(f"           {m.kind}: {m.brief()}" for m in r.mismatches[:3] if not r.ok)
        if not r.ok and not r.mismatches and r.note:
            lines.append(f"           {r.note}")
        lines.extend(f"           kink at {k.describe()}" for k in r.kinks[:3])
    return lines

"""Per-op checks: which primitive on the tape has the wrong backward rule, where it was called, by how much.

f is traced once by autodiff_ref at the point being checked; every op reachable from the output is then
checked on its own, at the inputs recorded on the tape (the model is never rerun): the op's VJP against
high-precision central differences of the op's forward. Elementwise ops need one directional derivative per
argument (their Jacobian is diagonal); other ops get a few random projections; only failing ops are narrowed
down to elements. The loop over the ops is the check's (check.check_ops); this module builds each op's
check, turns its result into an `OpRow`, and relates the rows to the whole-function verdict.
"""

from __future__ import annotations

import dataclasses
import functools
import inspect
import os
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import numpy as np

from pytest_gradcheck.checker import verdict
from pytest_gradcheck.checker.options import Options
from pytest_gradcheck.checker.result import GradcheckResult, OpRow
from pytest_gradcheck.hp import blame

# Non-elementwise ops: two seeded projections each (an op whose VJP is wrong in a whole direction fails both
# with near certainty); a failing op is then narrowed to elements.
OP_PROJECTIONS = 2


class BackwardRuleError(Exception):
    """An op's backward rule raised or returned the wrong shape: the op fails its check."""


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
        frame = blame.user_frame(error)  # the user's call that stopped the trace (none when f is numpy's own)
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


def check_op(node: Any, number: int, *, custom: bool, options: Options,
             run: Callable[[Any, Any, Any, Any, Options], GradcheckResult]) -> OpRow:
    """Check one tape node's VJP against high-precision central differences of its forward, with `run` (the
    checker's run_check, handed in: this module does not import the check it is part of).

    The engine's own primitives are tested to be precision-generic, so only custom ops are searched for
    float64 buffers inside."""
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
        result = run(forward, values, None, vjp, op_options)
    except BackwardRuleError as error:
        return unmeasured(base, "formula_error", str(error), ok=False)
    except Exception as error:  # the op's own code raised (skipped, the note says where) or the checker did
        fault = blame.checker_fault(error)
        if fault is not None:
            return unmeasured(base, "error", f"checker error: {fault}", ok=False)
        raised = blame.describe(error, blame.user_frame(error))
        return unmeasured(base, "skipped", f"the op's own code raised {raised}", ok=True)
    return row(base, result)


def row(base: dict[str, Any], result: GradcheckResult) -> OpRow:
    """The row of one op from its own check's result; `base` holds index, name, location, input_shapes, custom."""
    if result.status == "error":  # the checker raised inside the op's check (run_check reports it as a result)
        return unmeasured(base, "error", "; ".join(result.notes), ok=False)  # "checker error: <frame>"
    return OpRow(**base, status=result.status, ok=result.ok, formula_error=result.worst.get("formula"),
                 float64_error=result.worst.get("float64_accuracy"), tolerance=result.tolerance["rtol_formula"],
                 high_precision=result.high_precision, mismatches=tuple(result.mismatches),
                 kinks=tuple(result.kinks), note="; ".join([result.precision_note, *result.notes]).strip("; "))


def unmeasured(base: dict[str, Any], status: str, note: str, *, ok: bool) -> OpRow:
    """A row without measured errors: the rule raised, the op's code raised, or the checker did."""
    return OpRow(**base, status=status, ok=ok, formula_error=None, float64_error=None, tolerance=None,
                 high_precision=False, note=note)


def scope(choice: str, status: str, gradient_source: str) -> str:
    """Which ops the per-op pass checks for the resolved `per_op` choice, given the whole-function verdict:
    "all", "custom" (custom primitives only) or "" (none).

    "auto" checks every op when the whole-function check did not pass (any status but "pass": a wrong formula,
    lost float64 accuracy, a kink or no verdict; the rows say which op is to blame), and on a pass only the
    custom primitives when the gradient under test is the engine's (the engine's own rules are tested; a
    custom rule may be wrong in a direction this check's cotangent did not expose). A passing hand-written
    gradient needs no op checked."""
    if choice == "auto":
        if status != "pass":
            return "all"
        return "custom" if gradient_source == "autodiff_ref" else ""
    return {"always": "all", "custom": "custom"}.get(choice, "")


def passed_note(checked: int = 0, total: int = 0) -> str:
    """The ops_note of a passing check whose ops "auto" did not all check: none of them, or only the
    `checked` custom primitives among f's `total` ops."""
    if checked:
        return (f"the whole-function check passed, so only f's custom primitives ({checked} of its {total} ops) "
                'were checked one by one; per_op="always" checks each op')
    return 'the whole-function check passed, so its ops were not checked one by one; per_op="always" checks each op'


def selected(nodes: list[Any], scope: str) -> Iterator[tuple[int, Any, bool]]:
    """(number, node, custom) of the ops to check, numbered from 1 among all traced ops in tape order: every
    op, or only custom primitives when scope == "custom"."""
    builtin = _builtin_primitives()
    for number, node in enumerate(nodes, start=1):
        custom = id(node.primitive) not in builtin
        if scope == "all" or custom:
            yield number, node, custom


def mark_first_failing(rows: list[OpRow]) -> list[OpRow]:
    """The rows, the first failing one marked (">" in messages)."""
    first = next((i for i, r in enumerate(rows) if not r.ok), None)
    if first is not None:
        rows = [*rows[:first], dataclasses.replace(rows[first], first_failing=True), *rows[first + 1:]]
    return rows


def skipped_note(rows: list[OpRow], note: str) -> str:
    """The tracing note, with the ops whose own code raised (their rows are "skipped") named after it."""
    skipped = [f"op {r.index} ({r.name}): {r.note}" for r in rows if r.status == "skipped"]
    return "; ".join([note, *(f"per-op check skipped {s}" for s in skipped)]).strip("; ") if skipped else note


def ops_note(rows: list[OpRow], nodes: list[Any], note: str, choice: str) -> str:
    """Why a per-op table is empty or partial ("" when every op has its row): f could not be traced (the call
    that stopped it), its output does not depend on its arguments, per_op="custom" found no custom op, or
    "auto" on a passing check checked only the custom primitives, or none."""
    if rows:
        return passed_note(len(rows), len(nodes)) if choice == "auto" and len(rows) < len(nodes) else ""
    if note:
        return note.removeprefix("per-op checks unavailable: ").removeprefix("per-op checks: ")
    if nodes and choice == "auto":
        return passed_note()
    if nodes and choice == "custom":
        return f'per_op="custom" and none of f\'s {len(nodes)} ops is a custom primitive'
    return "f's output is computed without any traced op"


def attribute(result: GradcheckResult, rows: list[OpRow], engine: bool | None = None) -> None:
    """Relate the whole-function verdict to the per-op verdicts. A checker error in any op's check makes the
    whole result an error: the check did not do what it reports. `engine`: whether the gradient under test is
    built from the rows' rules (default: the gradient is autodiff_ref's; a framework's autograd is too)."""
    errors = [r for r in rows if r.status == "error"]
    if errors:
        result.status = verdict.decide([], [], [], True, checker_error=True)
        result.notes += [f"op {r.index} ({r.name}): {r.note}" for r in errors]  # each note: "checker error: ..."
    failing = [r for r in rows if not r.ok and r.status != "error"]
    engine = result.gradient_source == "autodiff_ref" if engine is None else engine
    if failing and engine and result.ok and not errors:
        wrong = [r for r in failing if r.status == "formula_error"]
        culprit = (wrong or failing)[0]
        result.status = culprit.status
        if wrong:
            result.notes.append(f"op {culprit.index} ({culprit.name}) has a wrong backward rule that this "
                                "check's cotangent did not expose in the whole-function comparison")
        else:
            result.notes.append(f"op {culprit.index} ({culprit.name}) could not be verified on its own "
                                f"({culprit.status}); see the per-op table")
    elif failing and not engine:
        result.notes.append(f"{len(failing)} op(s) of the traced graph fail their own check; your gradient "
                            "does not use the engine's rules, so they do not decide this verdict")
    kinked = [f"{r.index} ({r.name})" for r in rows if r.status == "nondifferentiable"]
    if kinked:
        result.notes.append(f"op(s) {', '.join(kinked)} sit at a non-differentiable point (see the per-op table)")
    if not failing and rows and not engine and result.status == "formula_error":
        result.notes.append("your gradient disagrees with the reference; every op in the traced graph is correct")


def short_location(location: str) -> str:
    """file:line relative to the working directory when the file is below it."""
    return _short_location(location, os.getcwd())


@functools.lru_cache(maxsize=1024)  # relpath costs ~10 us, and every recorded call of a custom rule asks
def _short_location(location: str, cwd: str) -> str:
    path, _, line = location.rpartition(":")
    try:
        relative = os.path.relpath(path, cwd)
    except ValueError:
        return location
    return f"{relative}:{line}" if not relative.startswith("..") else location

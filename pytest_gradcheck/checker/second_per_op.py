"""Per-op second-order checks: which op of f's trace has a backward rule that is not differentiated correctly.

When the Hessian-vector product under test is the engine's and the whole-function check does not pass, every
op of f's autodiff_ref trace is checked on its own, at the inputs recorded on the tape: the engine's HVP of the
scalarised op <w, op(x)> (w a seeded random cotangent) against high-precision second differences of it. The
engine differentiates each op's VJP rule to get second derivatives, so the op whose row fails is the one
whose rule is wrong at second order (its first-order check may pass). The check itself is handed in (`run`):
this module does not import the check it is part of.
"""

from __future__ import annotations

import dataclasses
import inspect
from collections.abc import Callable
from typing import Any

import numpy as np

from pytest_gradcheck.checker import per_op
from pytest_gradcheck.checker.options import Options
from pytest_gradcheck.checker.result import GradcheckResult, OpRow
from pytest_gradcheck.hp import blame

OP_PROJECTIONS = 2  # ops larger than OP_FULL_LIMIT elements: random projections u^T H v
OP_FULL_LIMIT = 8  # ... up to this many input elements: every entry of the op's Hessian
Run = Callable[[Callable[..., Any], tuple[np.ndarray, ...], Options], GradcheckResult]


def scalarised(node: Any, number: int, weights: np.ndarray) -> Callable[..., Any]:
    """<weights, op(x)> as a function of the op's differentiable inputs (the others stay as recorded), traced
    by the engine through the op's own primitive."""
    positions = [argnum for argnum, _ in node.parents]

    def op_scalar(*xs: Any) -> Any:
        full = list(node.args)
        for p, x in zip(positions, xs, strict=True):
            full[p] = x
        return np.sum(weights * node.primitive(*full, **node.kwargs))

    op_scalar.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
        [inspect.Parameter(f"input{p}", inspect.Parameter.POSITIONAL_ONLY) for p in positions])
    op_scalar.__qualname__ = f"op {number} {node.name}"
    return op_scalar


def check_op(node: Any, number: int, custom: bool, options: Options, run: Run) -> OpRow:
    """One op's second-order row: the engine's HVP of its scalarised forward against second differences."""
    values = tuple(np.asarray(node.args[p], dtype=float) for p, _ in node.parents)
    shapes = tuple(np.shape(a) for a in node.args if isinstance(a, np.ndarray | float | int))
    base = dict(index=number, name=node.name, location=per_op.short_location(node.location), input_shapes=shapes,
                custom=custom)
    seed = (options.seed or 0) + node.index
    weights = np.random.default_rng(seed).standard_normal(np.shape(node.value))
    op_options = dataclasses.replace(options, mode="full" if sum(v.size for v in values) <= OP_FULL_LIMIT else "fast",
                                     projections=OP_PROJECTIONS, per_op="off", seed=seed)
    try:
        result = run(scalarised(node, number, weights), values, op_options)
    except Exception as error:  # the op's own code raised (skipped, the note says where) or the checker did
        fault = blame.checker_fault(error)
        status, note = ("error", f"checker error: {fault}") if fault is not None else (
            "skipped", f"the op's second-order check raised {blame.describe(error, blame.user_frame(error))}")
        return per_op.unmeasured(base, status, note, ok=status != "error")
    return per_op.row(base, result)


def attach(result: GradcheckResult, f: Callable[..., Any], args: tuple[np.ndarray, ...], options: Options,
           run: Run) -> None:
    """The per-op rows of a second-order check of the engine's derivative that did not pass, and a note naming
    the first failing op (or saying that every op passes on its own)."""
    if options.per_op == "off" or result.gradient_source != "autodiff_ref" or result.status in (
            "pass", "error", "budget_exceeded", "nondeterministic"):
        result.ops_note = "" if options.per_op == "off" else "per-op second-order checks: not needed or not possible"
        return
    nodes, note = per_op.traced_ops(f, args)
    rows = [check_op(node, number, custom, options, run) for number, node, custom in per_op.selected(nodes, "all")]
    result.ops = per_op.mark_first_failing(rows)
    result.ops_note = note
    failing = [r for r in result.ops if not r.ok]
    if failing:
        result.notes.append(f"op {failing[0].index} ({failing[0].name}) fails its own second-order check: its "
                            "backward rule is not differentiated correctly (see the per-op table)")
    elif rows:
        result.notes.append("every op of f's trace passes its own second-order check")

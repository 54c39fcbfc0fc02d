"""Check records: the plain-data summary of gradient checks that reports, baselines and xdist carry.

Every `check_grad` call made while a recorder is active (the plugin activates one around each test) adds its
result; calls of the same function inside one test (hypothesis examples, loops) fold into one record keyed
`<test node id>::<function>` (`...::<function>[jvp]` for a check of another kind: `kind`, one of
KINDS), keeping the worst status and the largest errors. Records are JSON-ready dicts.
"""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Iterator
from typing import Any

# Worst first: the status a folded record keeps.
SEVERITY = ("error", "formula_error", "float64_accuracy", "nondeterministic", "budget_exceeded", "inconclusive",
            "nondifferentiable", "pass")
KINDS = ("grad", "jvp", "hvp", "hessian")  # what a check checked: check_grad, check_jvp, check_hvp, check_hessian
# A check with complex arguments records its convention (check_grad's complex_convention)
COMPLEX_CONVENTIONS = ("torch", "jax", "holomorphic")
MAX_OPS_IN_RECORD = 200  # op rows kept per record: enough for real models, bounded for huge tapes

_active: contextvars.ContextVar[list[Any] | None] = contextvars.ContextVar("pytest_gradcheck_recorder",
                                                                          default=None)


@contextlib.contextmanager
def recording() -> Iterator[list[Any]]:
    """Collect the results of every check made inside the block (in this context)."""
    results: list[Any] = []
    token = _active.set(results)
    try:
        yield results
    finally:
        _active.reset(token)


def record_result(result: Any) -> None:
    """Called by check_grad: hand the result to the active recorder, if any."""
    results = _active.get()
    if results is not None:
        results.append(result)


def _worst_op(result: Any) -> str | None:
    failing = [r for r in result.ops if not r.ok]
    if failing:
        return f"{failing[0].name}@{failing[0].location}"
    if not result.ok:  # every op is right: what is wrong is the gradient under test itself
        return None
    measured = [r for r in result.ops if r.formula_error is not None]
    if not measured:
        return None
    top = max(measured, key=lambda r: r.formula_error)
    return f"{top.name}@{top.location}"


def _op_rows(result: Any) -> list[dict[str, Any]]:
    return [{"index": r.index, "name": r.name, "location": r.location, "custom": r.custom, "status": r.status,
             "formula_error": r.formula_error, "float64_error": r.float64_error,
             **({"note": r.note} if r.status in ("error", "skipped") else {})}  # why: the frame, or the op's line
            for r in result.ops[:MAX_OPS_IN_RECORD]]


def record_id(test: str, check: str, kind: str = "grad") -> str:
    """A record's id: `<test>::<function>`, with `[<kind>]` after it for a check that is not a first-order
    gradient check (`<test>::<function>[jvp]`), so that a function's gradient and jvp checks stay apart."""
    return f"{test}::{check}" + ("" if kind == "grad" else f"[{kind}]")


def kind_of(rec: dict[str, Any]) -> str:
    """A record's kind; records of report version 1 have none: they are first-order gradient checks."""
    return rec.get("kind", "grad")


def check_label(rec: dict[str, Any]) -> str:
    """The checked function as tables show it: its name, with the kind after it when it is not a first-order
    gradient check (`loss (jvp)`)."""
    kind = kind_of(rec)
    return rec["check"] if kind == "grad" else f"{rec['check']} ({kind})"


def to_record(result: Any, test: str) -> dict[str, Any]:
    """One check result as a record of the test `test` (a pytest node id)."""
    kind = getattr(result, "kind", "grad")
    return {
        "id": record_id(test, result.function, kind), "test": test, "check": result.function, "kind": kind,
        "status": result.status,
        "ok": result.ok, "calls": 1, "formula_error": result.worst.get("formula"),
        "float64_error": result.worst.get("float64_accuracy"), "tolerance": dict(result.tolerance),
        "worst_op": _worst_op(result), "evaluations": result.evaluations, "seconds": result.seconds,
        "mode": result.mode, "high_precision": result.high_precision, "digits": result.digits,
        "backend": result.backend, "gradient_source": result.gradient_source, "summary": result.summary(),
        "ops": _op_rows(result),
        **({"plots": list(result.plots)} if result.plots else {}),  # optional: only when pictures were drawn
        **({"ops_note": result.ops_note} if result.ops_note else {}),  # optional: why per-op rows are missing
        **_complex_fields(result),  # optional: complex arguments only
        **({"error": checker_error(result)} if result.status == "error" else {}),  # optional: the frame
    }


def _complex_fields(result: Any) -> dict[str, Any]:
    """The convention of a check with complex arguments, and what it found about it (optional fields)."""
    convention = getattr(result, "complex_convention", None)
    if convention is None:
        return {}
    note = getattr(result, "convention_note", None)
    return {"complex_convention": convention, **({"convention_note": note} if note else {})}


def mark_expected(recs: list[dict[str, Any]], test_passed: bool) -> list[dict[str, Any]]:
    """A failing check inside a test that passed was expected by the test (pytest.raises(GradcheckError),
    raise_on_mismatch=False with an assertion on the status): such records get `expected: True`."""
    if not test_passed:
        return recs
    return [{**rec, "expected": True} if not rec["ok"] else rec for rec in recs]


def checker_error(result: Any) -> str:
    """What the checker raised and where (the notes of an "error" result that name it)."""
    named = [note for note in result.notes if "checker error" in note]
    return "; ".join(named or result.notes) or "the checker raised an error"


def _larger(a: float | None, b: float | None) -> float | None:
    values = [v for v in (a, b) if v is not None]
    return max(values) if values else None


def fold(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Merge records with the same id: worst status (its details kept), largest errors, summed cost."""
    merged: dict[str, dict[str, Any]] = {}
    for rec in records:
        old = merged.get(rec["id"])
        if old is None:
            merged[rec["id"]] = dict(rec)
            continue
        worse = rec if SEVERITY.index(rec["status"]) < SEVERITY.index(old["status"]) else old
        new = dict(worse)
        new.update(
            ok=old["ok"] and rec["ok"], calls=old["calls"] + rec["calls"],
            formula_error=_larger(old["formula_error"], rec["formula_error"]),
            float64_error=_larger(old["float64_error"], rec["float64_error"]),
            evaluations=old["evaluations"] + rec["evaluations"], seconds=old["seconds"] + rec["seconds"],
            high_precision=old["high_precision"] and rec["high_precision"],
        )
        plots = list(dict.fromkeys([*old.get("plots", ()), *rec.get("plots", ())]))  # each picture once, in order
        if plots:
            new["plots"] = plots
        merged[rec["id"]] = new
    return [merged[key] for key in sorted(merged)]

"""The gradient checks of one test as an HTML fragment, for pytest-html's per-test extras.

A plain function, testable without pytest: every text from a record (test ids, function and op names,
locations, notes) is escaped, so a hostile name shows as text and never becomes markup.
"""

from __future__ import annotations

import html
from typing import Any

from pytest_gradcheck.report.records import check_label
from pytest_gradcheck.report.render import count_line, number, printable, shown_error, shown_status, worst_op_cell

CHECK_COLUMNS = ("check", "status", "error", "tolerance", "worst op", "evaluations", "seconds")
OP_COLUMNS = ("#", "op", "location", "status", "formula error", "float64 error")
STYLE = "border-collapse: collapse; margin: 0.3em 0; font-size: 0.9em"  # compact: it sits inside a table row


def _text(value: Any) -> str:
    return html.escape(printable(str(value)))


def _row(cells: list[str], tag: str = "td") -> str:
    return "<tr>" + "".join(f"<{tag}>{cell}</{tag}>" for cell in cells) + "</tr>"


def _table(header: tuple[str, ...], rows: list[list[str]], css_class: str) -> str:
    return (f'<table class="{css_class}" style="{STYLE}"><thead>{_row([_text(h) for h in header], "th")}</thead>'
            f"<tbody>{''.join(_row(r) for r in rows)}</tbody></table>")


def _check_table(rec: dict[str, Any]) -> str:
    error, tolerance = shown_error(rec)
    status = _text(shown_status(rec))
    status = status if rec["ok"] or rec.get("expected") else f"<strong>{status}</strong>"
    worst_op = worst_op_cell(rec)  # only for the engine's gradient: a hand-written one does not use its ops
    cells = [f"<code>{_text(check_label(rec))}</code>", status, number(error), number(tolerance, 1),
             f"<code>{_text(worst_op)}</code>" if worst_op else "-", _text(rec["evaluations"]),
             f"{rec['seconds']:.2f}"]
    return _table(CHECK_COLUMNS, [cells], "gradcheck-check")


def _op_table(rec: dict[str, Any]) -> str:
    ops = rec.get("ops") or []
    if not ops:
        return ""
    with_notes = any(op.get("note") for op in ops)
    rows = [[_text(op["index"]), f"<code>{_text(op['name'])}</code>", _text(op["location"]), _text(op["status"]),
             number(op["formula_error"]), number(op["float64_error"]),
             *([_text(op.get("note") or "")] if with_notes else [])] for op in ops]
    return _table(OP_COLUMNS + (("note",) if with_notes else ()), rows, "gradcheck-ops")


def render_html(records: list[dict[str, Any]]) -> str:
    """A title line (the test id and the count of checks by status), then per check a one-row table (check,
    status, error, tolerance, worst op, evaluations, seconds), its checker error if it raised, and its per-op
    rows when it has any."""
    if not records:
        return ""
    parts = [f'<div class="gradcheck"><p>Gradient checks of <code>{_text(records[0]["test"])}</code>: '
             f"{_text(count_line(records))}</p>"]
    for rec in records:
        parts.append(_check_table(rec))
        if rec.get("error"):
            parts.append(f"<p>checker error: <code>{_text(rec['error'])}</code></p>")
        parts.append(_op_table(rec))
    return "".join(parts) + "</div>"

"""Renderers for check records, reports and baseline comparisons: plain functions, testable without pytest.

`render_summary` and `render_comparison` write terminal lines through `write_line`; `render_markdown` returns
GitHub-flavoured Markdown for a CI job page.
"""

from __future__ import annotations

import math
import os
import urllib.parse
from collections.abc import Callable, Iterable
from typing import Any

from pytest_gradcheck.report.records import SEVERITY, check_label

WriteLine = Callable[[str], None]
ID_WIDTH = 48  # without a known terminal width, long test ids are shortened to this (a 132-column CI log)
MIN_ID_WIDTH = 32  # on a narrow terminal ids keep at least this much (the row wraps rather than losing the test)
CHECK_WIDTH = 24  # function names beyond this are shortened (lambdas, long method paths)
OP_WIDTH = 32  # "name@file.py:line" of the worst op
ELLIPSIS = "..."  # ASCII: CI logs and Windows consoles show it everywhere
MARKDOWN_ROWS = 500  # GitHub caps a job summary at 1 MiB; 500 rows of ~200 characters stay far below it
REMEDY = ("to accept the new values as the baseline, run pytest with --gradcheck-report={path} "
          "(or copy the new report over it)")


def _elide_middle(text: str, width: int) -> str:
    keep = max(width - len(ELLIPSIS), 2)
    head = keep // 3  # the end (test name, parameters) tells tests apart more often than the start
    return text[:head] + ELLIPSIS + text[len(text) - (keep - head):]


def printable(text: str) -> str:
    """Control characters (a terminal escape sequence in a hostile report) shown escaped, never sent raw."""
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


def shorten(text: str, width: int) -> str:
    """`text` in at most `width` characters: a test id loses its directories, then the middle of its name."""
    text = printable(text)
    if len(text) <= width:
        return text
    path, separator, rest = text.partition("::")
    if not separator:
        return _elide_middle(text, width)
    file_part = path.rsplit("/", 1)[-1] + separator
    if len(file_part) + len(rest) <= width:
        return file_part + rest
    if len(file_part) <= width // 2:
        return file_part + _elide_middle(rest, width - len(file_part))
    return _elide_middle(text, width)


def shorten_id(text: str, width: int) -> str:
    """A test id in at most `width` characters keeping its end (the test name and parameters tell tests apart):
    the directories go first, then the start of what is left."""
    text = printable(text)
    if len(text) <= width:
        return text
    path, separator, rest = text.partition("::")
    if separator:
        text = path.rsplit("/", 1)[-1] + separator + rest
    if len(text) <= width:
        return text
    return ELLIPSIS + text[len(text) - max(width - len(ELLIPSIS), 1):]


def shorten_op(text: str, width: int) -> str:
    """A worst op 'name@path/file.py:line' in at most `width` characters: the path loses its directories first."""
    name, at, where = text.partition("@")
    if len(text) > width and at:
        text = name + at + where.replace("\\", "/").rsplit("/", 1)[-1]
    return text if len(text) <= width else _elide_middle(text, width)


def number(value: float | None, digits: int = 2) -> str:
    """An error or tolerance for a table: '-' when not measured."""
    if value is None:
        return "-"
    return f"{value:.{digits}e}" if math.isfinite(value) else str(float(value))


def _table(header: list[str], rows: list[list[str]], right: set[int], indent: str = "") -> list[str]:
    """Columns as wide as their widest cell; columns in `right` (numbers) are right-aligned."""
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]

    def line(cells: list[str]) -> str:
        padded = [c.rjust(w) if i in right else c.ljust(w) for i, (c, w) in enumerate(zip(cells, widths, strict=True))]
        return (indent + "  ".join(padded)).rstrip()

    return [line(header), *(line(row) for row in rows)]


def count_line(records: Iterable[dict[str, Any]]) -> str:
    """'7 checks: 5 pass, 1 formula_error, 1 nondifferentiable' (pass first, then worst first)."""
    records = list(records)
    counts: dict[str, int] = {}
    for rec in records:
        counts[rec["status"]] = counts.get(rec["status"], 0) + 1
    total = sum(counts.values())
    order = ["pass", *(s for s in SEVERITY if s != "pass"), *sorted(set(counts) - set(SEVERITY))]
    parts = ", ".join(f"{counts[s]} {s}" for s in order if s in counts)
    line = f"{total} check{'' if total == 1 else 's'}" + (f": {parts}" if parts else "")
    return line + expected_clause(records)


def expected_clause(records: Iterable[dict[str, Any]]) -> str:
    """' (3 failing checks expected: their tests passed, asserting the failure)' or ''."""
    expected = sum(bool(rec.get("expected")) for rec in records)
    if not expected:
        return ""
    return (f" ({_plural(expected, 'failing check')} expected: {'its test' if expected == 1 else 'their tests'} "
            "passed, asserting the failure)")


def _op_lines(rec: dict[str, Any]) -> list[str]:
    rows = [[str(op["index"]), printable(op["name"]), printable(op["location"]), op["status"],
             number(op["formula_error"]), number(op["float64_error"])] for op in rec["ops"]]
    if not rows:
        return [f"    (no per-op rows: {printable(rec.get('ops_note') or 'none recorded')})"]
    return _table(["#", "op", "location", "status", "formula", "float64"], rows, {0, 4, 5}, indent="    ")


def shown_error(rec: dict[str, Any]) -> tuple[float | None, float | None]:
    """The error and tolerance a row shows: the float64-accuracy pair for a float64_accuracy verdict (the
    diagnosis that failed), else the formula pair."""
    if rec["status"] == "float64_accuracy":
        return rec["float64_error"], rec["tolerance"].get("rtol_float64")
    return rec["formula_error"], rec["tolerance"].get("rtol_formula")


def engine_gradients(records: Iterable[dict[str, Any]]) -> bool:
    """Whether any check tested the engine's gradient: only then is a "worst op" column about what was tested."""
    return any(rec.get("gradient_source") == "autodiff_ref" for rec in records)


def worst_op_cell(rec: dict[str, Any]) -> str | None:
    """The worst op of a check whose gradient is the engine's; None for a hand-written gradient (the engine's
    ops are not what it tested)."""
    return rec["worst_op"] if rec.get("gradient_source") == "autodiff_ref" else None


def shown_status(rec: dict[str, Any]) -> str:
    """The status, marked when a failing check was expected (its test passed: it asserted the failure)."""
    return rec["status"] + (" (expected)" if rec.get("expected") else "")


def render_summary(records: list[dict[str, Any]], write_line: WriteLine, *, verbose: bool = False,
                   width: int | None = None) -> None:
    """The terminal section: a row per check (no table when there are none), then the count line; `verbose`
    adds each check's per-op rows under it. Test ids fill the terminal's `width` (ID_WIDTH when unknown),
    keeping their ends; the "worst op" column is shown only when some check tested the engine's gradient."""
    with_ops = engine_gradients(records)
    header = ["test", "check", "status", *(["worst op"] if with_ops else []), "error", "tolerance", "evals",
              "seconds"]
    cells = [[shorten(check_label(rec), CHECK_WIDTH), shown_status(rec),
              *([shorten_op(worst_op_cell(rec) or "-", OP_WIDTH)] if with_ops else []), number(shown_error(rec)[0]),
              number(shown_error(rec)[1], 1), str(rec["evaluations"]), f"{rec['seconds']:.2f}"] for rec in records]
    id_width = ID_WIDTH
    if width is not None:
        others = [max(len(c[i]) for c in [header[1:], *cells]) for i in range(len(header) - 1)]
        id_width = max(width - 1 - sum(others) - 2 * len(others), MIN_ID_WIDTH)
    rows = [[shorten_id(rec["test"], id_width), *c] for rec, c in zip(records, cells, strict=True)]
    numbers = set(range(len(header) - 4, len(header)))
    lines = _table(header, rows, numbers)
    if records:
        write_line(lines[0])
    for rec, line in zip(records, lines[1:], strict=True):
        write_line(line)
        if rec.get("error"):
            write_line(f"    checker error: {printable(rec['error'])}")
        if verbose:
            for op_line in _op_lines(rec):
                write_line(op_line)
    write_line(count_line(records))


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def comparison_counts(comparison: Any) -> str:
    return (f"{_plural(len(comparison.regressions), 'regression')}, "
            f"{_plural(len(comparison.improvements), 'improvement')}, {len(comparison.new)} new, "
            f"{len(comparison.removed)} removed, {comparison.unchanged} unchanged (factor {comparison.factor:g})")


def render_comparison(comparison: Any, write_line: WriteLine, *, baseline_path: str | None = None) -> None:
    """Regressions first (each with its reason), then improvements, new and removed checks, then the counts;
    a regressed comparison ends with the remedy."""
    for change in comparison.regressions:
        write_line(printable(f"REGRESSION {change.id}: {change.reason}"))
    for change in comparison.improvements:
        write_line(printable(f"improved   {change.id}: {change.reason}"))
    for key in comparison.new:
        write_line(printable(f"new        {key}"))
    for key in comparison.removed:
        write_line(printable(f"removed    {key}"))
    verdict = "regressed" if comparison.regressed else "no regressions"
    write_line(f"baseline comparison: {verdict}: {comparison_counts(comparison)}")
    if comparison.regressed:
        write_line(REMEDY.format(path=baseline_path or "<baseline path>"))


def _code(text: str) -> str:
    """A Markdown table cell shown verbatim (ids hold '<lambda>', '[...]', '|')."""
    return "`" + printable(text).replace("`", "'").replace("|", "\\|") + "`"


def _markdown_table(header: list[str], rows: list[list[str]], right: set[int] = frozenset()) -> list[str]:
    rule = "|" + "".join("---:|" if i in right else "---|" for i in range(len(header)))
    return ["| " + " | ".join(header) + " |", rule, *("| " + " | ".join(r) + " |" for r in rows)]


def _check_rows(checks: list[dict[str, Any]]) -> list[str]:
    """Failing checks first, so that a long table cut at MARKDOWN_ROWS never hides one."""
    ordered = sorted(checks, key=lambda rec: (rec["ok"], bool(rec.get("expected"))))  # unexpected failures first
    with_ops = engine_gradients(checks)
    rows = [[_code(rec["test"]), _code(check_label(rec)),
             shown_status(rec) if rec["ok"] or rec.get("expected") else f"**{rec['status']}**",
             *([_code(worst_op_cell(rec)) if worst_op_cell(rec) else "-"] if with_ops else []),
             number(shown_error(rec)[0]), number(shown_error(rec)[1], 1)] for rec in ordered[:MARKDOWN_ROWS]]
    header = ["test", "check", "status", *(["worst op"] if with_ops else []), "error", "tolerance"]
    lines = _markdown_table(header, rows, {len(header) - 2, len(header) - 1})
    if len(ordered) > MARKDOWN_ROWS:
        lines.append(f"\n... and {len(ordered) - MARKDOWN_ROWS} more passing checks (see the JSON report)")
    return lines


def _comparison_sections(comparison: Any, baseline_path: str | None) -> list[str]:
    lines = [f"### Baseline comparison: {comparison_counts(comparison)}"]
    for title, changes in (("Regressions", comparison.regressions), ("Improvements", comparison.improvements)):
        if changes:
            rows = [[_code(c.id), c.old_status, c.new_status, c.reason.replace("|", "\\|")] for c in changes]
            lines += ["", f"#### {title} ({len(changes)})", "", *_markdown_table(["check", "was", "now", "why"], rows)]
    for title, keys in (("New checks", comparison.new), ("Removed checks", comparison.removed)):
        if keys:
            lines += ["", f"#### {title} ({len(keys)})", "", *(f"- {_code(key)}" for key in keys)]
    if comparison.regressed:
        lines += ["", REMEDY.format(path=baseline_path or "<baseline path>") + "."]
    return lines


def _error_lines(checks: list[dict[str, Any]]) -> list[str]:
    """The checks whose checker raised (status "error"), each with the frame it raised in."""
    broken = [rec for rec in checks if rec["status"] == "error"]
    if not broken:
        return []
    lines = ["", f"### Checker errors ({_plural(len(broken), 'check')}): a bug in pytest-gradcheck, no verdict", ""]
    lines += [f"- {_code(rec['id'])}: {_code(rec.get('error', 'see the JSON report'))}" for rec in broken]
    return lines


PICTURE_NAMES = {".sweep.png": "error against step", ".ops.png": "per-op errors"}  # plots.write_plots' files


def picture_link(path: str, markdown_path: str | os.PathLike[str] | None) -> str:
    """A link target for a picture: relative to the Markdown file's folder when one is given (both paths as
    seen from the working directory), else the path as recorded; URL-quoted, with '/' separators."""
    target = path
    if markdown_path is not None:
        try:
            target = os.path.relpath(os.path.abspath(path), os.path.dirname(os.path.abspath(markdown_path)))
        except ValueError:  # another drive (Windows): keep the recorded path
            target = path
    return urllib.parse.quote(target.replace(os.sep, "/"))


def _picture_lines(checks: list[dict[str, Any]], markdown_path: str | os.PathLike[str] | None) -> list[str]:
    """A list of the checks with pictures (--gradcheck-plots), each with links to its files."""
    drawn = [rec for rec in checks if rec.get("plots")]
    if not drawn:
        return []
    lines = ["", f"### Pictures ({_plural(len(drawn), 'check')})", ""]
    for rec in drawn[:MARKDOWN_ROWS]:
        names = [next((n for end, n in PICTURE_NAMES.items() if p.endswith(end)), os.path.basename(p))
                 for p in rec["plots"]]
        links = ", ".join(f"[{name}]({picture_link(p, markdown_path)})" for name, p in zip(names, rec["plots"],
                                                                                          strict=True))
        lines.append(f"- {_code(rec['id'])} ({rec['status']}): {links}")
    if len(drawn) > MARKDOWN_ROWS:
        lines.append(f"- ... and {len(drawn) - MARKDOWN_ROWS} more (see the JSON report)")
    return lines


def render_markdown(report: dict[str, Any], comparison: Any = None, *, baseline_path: str | None = None,
                    markdown_path: str | os.PathLike[str] | None = None) -> str:
    """A Markdown summary of a report (and of its comparison with a baseline, when given). Pictures are linked
    relative to the folder of `markdown_path`, the file the summary is written to, when given."""
    checks = report["checks"]
    failing = sum(not rec["ok"] for rec in checks)
    expected = sum(bool(rec.get("expected")) for rec in checks)
    headline = f"## Gradient checks: {len(checks) - failing} ok, {failing} failing"
    if expected:
        tests = "its test" if expected == 1 else "their tests"
        headline += f" ({'all ' if expected == failing else ''}{expected} expected by {tests})"
    if comparison is not None and comparison.regressed:
        headline += f", {_plural(len(comparison.regressions), 'regression')} against the baseline"
    env = report["environment"]
    lines = [headline, "", count_line(checks) + ".", ""]
    lines += _check_rows(checks) if checks else ["No gradient checks ran."]
    lines += _error_lines(checks)
    lines += _picture_lines(checks, markdown_path)
    if comparison is not None:
        lines += ["", *_comparison_sections(comparison, baseline_path)]
    lines += ["", f"<sub>pytest-gradcheck {report['pytest_gradcheck_version']}, Python {env['python']}, numpy "
              f"{env['numpy']}, mpmath {env['mpmath']} ({env['mpmath_backend']}); created {report['created']}</sub>"]
    return "\n".join(lines) + "\n"

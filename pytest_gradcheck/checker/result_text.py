"""The text of a check result: its one-line repr, and the report a failure shows (also for a passing result).

Arrays never appear here: the report names elements and shows their values, the arrays stay in the result's
fields.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

SHOWN_ELEMENTS = 5  # a report lists the worst few elements, never whole matrices
REPR_NAME_WIDTH = 60  # a function name longer than this (a lambda's long qualname) is cut in the repr
HEADLINES = {
    "pass": "gradient check passed",
    "formula_error": "the gradient formula disagrees with the high-precision derivative",
    "float64_accuracy": "the gradient formula is right but its float64 evaluation loses accuracy",
    "nondifferentiable": "the function is not differentiable at this point",
    "inconclusive": "the check could not reach a verdict",
    "nondeterministic": "f or its gradient returns different values at the same point: nothing to compare",
    "budget_exceeded": "the check reached its budget before a verdict (what it checked is listed)",
    "error": "the checker itself raised an error: no verdict (the note names the frame)",
}
# result.kind, in words; the second-order kinds are judged against second differences
SUBJECTS = {"grad": "gradient", "jvp": "jvp", "hvp": "Hessian-vector product", "hessian": "Hessian"}
SECOND_ORDER = ("hvp", "hessian")
CONTEXT_ROWS = 1  # messages show each failing op with this many neighbours on either side
# a mismatch's kind, as its table row says it
DIAGNOSES = {"formula": "formula", "float64_accuracy": "float64", "transpose": "transpose", "symmetry": "symmetry"}


def shown_worst(result: Any) -> tuple[float | None, float | None]:
    """The largest relative error and its tolerance for the diagnosis the status is about: float64 accuracy for
    a float64_accuracy verdict, the formula otherwise (None when nothing was compared)."""
    if result.status == "float64_accuracy":
        return result.worst.get("float64_accuracy"), result.tolerance.get("rtol_float64")
    return result.worst.get("formula"), result.tolerance.get("rtol_formula")


def _cut(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 3] + "..."


def one_line(result: Any) -> str:
    """`<GradcheckResult formula_error: loss, mode full, worst error 1.0e-02 > tolerance 4.4e-16, 135
    evaluations, 0.07 s>`: what a repr shows, in at most ~200 characters."""
    error, tol = shown_worst(result)
    if error is None:
        worst = "nothing compared"
    else:
        relation = "<=" if tol is not None and error <= tol else ">"
        worst = f"worst error {error:.1e} {relation} tolerance {tol:.1e}" if tol is not None else f"worst {error:.1e}"
    return (f"<GradcheckResult {result.status}: {_cut(result.function, REPR_NAME_WIDTH)}, mode {result.mode}, "
            f"{worst}, {result.evaluations} evaluations, {result.seconds:.2f} s>")


def headline(result: Any) -> str:
    """The first line of a report: what the verdict means, and how it was reached."""
    text = HEADLINES[result.status]
    if result.status == "formula_error" and not result.high_precision:  # no high-precision derivative to cite
        text = "the gradient formula disagrees with the float64 reference derivative"
    kind = getattr(result, "kind", "grad")
    subject = SUBJECTS.get(kind, "gradient")
    if subject != "gradient":  # "the jvp formula disagrees ...", "Hessian check passed"
        text = text.replace("gradient", subject, 1)
        if kind in SECOND_ORDER:  # judged against second differences
            text = text.replace(" derivative", " second derivative")
    precision = (f"{result.digits}-digit {result.backend} reference" if result.high_precision
                 else f"float64 reference ({result.precision_note})")
    return (f"{text} [{result.status}; {result.function}, mode {result.mode}, {precision}, "
            f"{subject} from {result.gradient_source}]")


def _number(value: float) -> str:
    return f"{value:.2g}"


def _measured(result: Any) -> str:
    """'worst error: formula 1.0e-02 (tolerance 4.4e-16), float64 3.1e-17 (tolerance 1.0e-10); 135 ...'."""
    parts = []
    for key, tol_key, label in (("formula", "rtol_formula", "formula"), ("float64_accuracy", "rtol_float64",
                                                                         "float64 accuracy")):
        if result.worst.get(key) is not None:
            parts.append(f"{label} {result.worst[key]:.1e} (tolerance {result.tolerance.get(tol_key, 0.0):.1e})")
    worst = "worst relative error: " + ", ".join(parts) if parts else "no element compared"
    return f"{worst}; {result.evaluations} evaluations of f in {result.seconds:.2f} s"


def _table(header: list[str], rows: list[list[str]], right: set[int], indent: str) -> list[str]:
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    return [(indent + "  ".join(c.rjust(w) if i in right else c.ljust(w)
                                for i, (c, w) in enumerate(zip(row, widths, strict=True)))).rstrip()
            for row in [header, *rows]]


def element_lines(result: Any) -> list[str]:
    """The worst elements outside tolerance as a table: diagnosis, argument, element, reference +- its error
    estimate, the value under test, the relative error and how many tolerances it is."""
    shown = result.mismatches[:SHOWN_ELEMENTS]
    if not shown:
        return []
    count = len(result.mismatches)
    title = (f"  {count} compared quantit{'y' if count == 1 else 'ies'} outside tolerance"
             f"{' (the worst ' + str(len(shown)) + ')' if count > len(shown) else ''}:")
    rows = [[DIAGNOSES.get(m.kind, m.kind), m.name, m.where.removeprefix("element "),
             f"{float(m.reference)!r} +- {m.reference_error:.1g}", repr(float(m.value)), *_errors(m)] for m in shown]
    header = ["diagnosis", "argument", "where", "reference", "under test", "rel error", "of tolerance"]
    return [title, *_table(header, rows, {5, 6}, indent="    ")]


def _errors(m: Any) -> list[str]:
    """The relative error and how many tolerances it is; a non-finite value or reference has neither."""
    if not m.measurable:
        return ["non-finite", "-"]
    return [f"{m.rel_error:.1e}", f"{m.ratio:.2g}x"]


def _op_lines(result: Any) -> list[str]:
    """The per-op table's failing rows, or the line saying every op checked passes, then `ops_note` (why some
    ops or all have no row) unless a note already says it."""
    failing = [r for r in result.ops if not r.ok]
    if failing:
        lines = [f"  per-op check: {len(failing)} of {len(result.ops)} ops fail ('>' the first, '*' a custom op; "
                 "errors are relative, largest over the op's elements):", *render_rows(result.ops, failing_only=True)]
    elif result.ops:
        every = f"every one of the {len(result.ops)} ops passes" if len(result.ops) > 1 else "the one op passes"
        lines = [f"  per-op check: {every} its own check"]
    else:
        lines = []
    reason = result.ops_note
    if not reason or any(reason in note for note in result.notes):  # a note already says it
        return lines
    return [*lines, f"  {'per-op check' if result.ops else 'no per-op rows'}: {reason}"]


def remedy(result: Any) -> list[str]:
    """What to do next, for a failing result."""
    if not result.ok and result.status in ("formula_error", "float64_accuracy"):
        return ["  to accept a looser gradient, pass rtol=/atol= (the tolerance shown above is what was used)"]
    if result.status == "budget_exceeded":
        return ["  to let the check finish, raise max_seconds=/max_evaluations= or pass mode='fast'"]
    if result.status == "error":
        return ["  this is a bug in pytest-gradcheck, not in your gradient: please report it with the note"]
    return []


def report_lines(result: Any) -> list[str]:
    """The multi-line report: headline, tolerance, worst errors and cost, the worst elements, kinks, the
    per-op table, notes, pictures, then the remedy."""
    lines = [headline(result)]
    lines.append("  tolerance: " + ", ".join(f"{k}={_number(v)}" for k, v in result.tolerance.items()))
    lines.append("  " + _measured(result))
    lines += element_lines(result)
    lines += [f"  kink at {_kink_text(result, kink)}" for kink in result.kinks[:SHOWN_ELEMENTS]]
    if result.miss_probability is not None:
        lines.append(f"  {result.projections} random projections: an error of the tolerance's size goes unseen "
                     f"with probability {result.miss_probability:.2g}")
    lines += _op_lines(result)
    if getattr(result, "convention_note", ""):
        lines.append(f"  complex convention: {result.convention_note}")
    lines += [f"  note: {note}" for note in result.notes]
    lines += [f"  picture: {path}" for path in result.plots]
    return lines + remedy(result)


def _kink_text(result: Any, kink: Any) -> str:
    """A kink's description; in a second-order check its one-sided values are second derivatives."""
    text = kink.describe()
    subject = SUBJECTS.get(getattr(result, "kind", "grad"), "gradient")
    if subject == "gradient":
        return text
    text = text.replace(" derivative ", " second derivative ")
    return text.replace("the gradient under test", "the value under test")


def _fmt(value: float | None) -> str:
    return "-" if value is None else f"{value:.1e}"


def render_rows(rows: Sequence[Any], *, failing_only: bool) -> list[str]:
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

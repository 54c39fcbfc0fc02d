"""Markdown tables of the detection benchmark: plain functions from the summary to lines."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import mutations


def _table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    return ["| " + " | ".join(header) + " |", "|" + "---|" * len(header),
            *("| " + " | ".join(row) + " |" for row in rows)]


def _pct(cell: Any) -> str:
    return "—" if cell is None else f"{100 * cell['rate']:.0f}%"


def _floor(value: Any) -> str:
    if value == "n/a":
        return "n/a (false positives)"
    return "none" if value is None else f"{value:.0e}"


def _seconds(value: float | None) -> str:
    """A wall time with its unit: milliseconds below a second (a check takes about one), else seconds."""
    if value is None or value != value:  # None, or nan when nothing was timed
        return "—"
    if value < 1:
        return f"{1000 * value:.2f} ms"
    return f"{value:.2f} s" if value < 10 else f"{value:.0f} s"


def summary_table(summary: dict[str, Any]) -> list[str]:
    rows = []
    for c in summary["checkers"].values():
        cost, floors = c["cost"], c["floor"]
        ratio = cost["time_vs_torch"]
        rows.append([c["label"], f"{c['false_positives']}/{c['correct_checks']}",
                     *((_floor(floors[k]) if c["mutations"] else "—") for k in mutations.SCALED_KINDS),
                     _seconds(cost["median_seconds"]), _seconds(cost["p90_seconds"]),
                     f"{cost['median_evaluations']:.0f}", "—" if ratio is None else f"{ratio:.1f}x"])
    floors = [f"floor {k}" for k in mutations.SCALED_KINDS]
    return _table(["checker", "false positives", *floors, "median time", "p90 time", "median evals", "time vs torch"],
                  rows)


def detection_table(summary: dict[str, Any]) -> list[str]:
    """Detection rate per checker, kind and d."""
    sizes = None
    rows = []
    for c in summary["checkers"].values():
        if not c["mutations"]:
            continue
        for kind, rates in c["detection"].items():
            sizes = list(rates)
            rows.append([c["label"], kind, *(_pct(rates[d]) for d in sizes)])
    return _table(["checker", "mutation", *(f"d={d}" for d in sizes or [])], rows)


def fixed_table(summary: dict[str, Any]) -> list[str]:
    rows = []
    for c in summary["checkers"].values():
        if not c["mutations"]:
            continue
        fixed = c["fixed"]
        ours = c["label"].startswith("check_grad")
        rows.append([c["label"], _pct(fixed["sign_flip"]), _pct(fixed["transpose"]), _pct(fixed["float32"]),
                     _pct(fixed["float32_diagnosed"]) if ours else "—",
                     _pct(fixed["formula_diagnosed"]) if ours else "—"])
    return _table(["checker", "sign flip", "transpose", "float32 rounding flagged", "float32 as float64_accuracy",
                   "flagged formula mutations as formula_error"], rows)


def per_function_table(summary: dict[str, Any]) -> list[str]:
    labels = {name: c["label"] for name, c in summary["checkers"].items()}
    names = list(labels)
    rows = [[r["function"], str(r["elements"]),
             *(f"{_seconds(r[n]['median_seconds'])} / {r[n]['median_evaluations']:.0f}" for n in names)]
            for r in summary["per_function"]]
    return _table(["function", "elements", *(f"{labels[n]} time / evals" for n in names)], rows)


def scaling_table(rows: list[dict[str, Any]], labels: dict[str, str]) -> list[str]:
    sizes = sorted({r["size"] for r in rows})
    checkers = list(dict.fromkeys(r["checker"] for r in rows))
    cells = {(r["checker"], r["size"]): r for r in rows}

    def cell(name: str, n: int) -> str:
        r = cells.get((name, n))
        if r is None:
            return "not run"
        if r["state"] != "done":
            return f"{r['state']}: {r['note']}"
        flag = "" if r["status"] == "pass" else f" ({r['status']})"
        return f"{_seconds(r['seconds'])} / {r['evaluations']}{flag}"

    return _table(["checker", *(f"n={n}" for n in sizes)],
                  [[labels.get(name, name), *(cell(name, n) for n in sizes)] for name in checkers])


def per_op_table(ratios: list[dict[str, Any]]) -> list[str]:
    return _table(["n", "per-op pass", "per-op / whole fast", "per-op / whole full"],
                  [[str(r["size"]), _seconds(r["per_op_seconds"]), f"{r['vs_fast']:.2f}x",
                    "—" if r["vs_full"] is None else f"{r['vs_full']:.3f}x"] for r in ratios])


def misses_table(misses: list[dict[str, Any]]) -> list[str]:
    if not misses:
        return ["(none)"]
    return _table(["checker", "function", "seed", "mutation", "d", "status"],
                  [[m["checker"], m["function"], str(m["seed"]), m["detail"], str(m["d"]), m["status"]]
                   for m in misses])


def false_positive_lines(summary: dict[str, Any]) -> list[str]:
    lines = [f"- {c['label']}: {case['function']} seed {case['seed']} ({case['status']})"
             for c in summary["checkers"].values() for case in c["false_positive_cases"]]
    return lines or ["(none)"]


def render(summary: dict[str, Any], scaling_rows: list[dict[str, Any]], ratios: list[dict[str, Any]],
           header: list[str]) -> str:
    labels = {name: c["label"] for name, c in summary["checkers"].items()} | {
        "check_grad_fast_per_op": "check_grad fast + per-op"}
    sections = [
        ("Summary (correct gradients: false positives and cost; floors over the graded mutations)",
         summary_table(summary)),
        ("Detection rate per mutation and size d", detection_table(summary)),
        ("Mutations without a size", fixed_table(summary)),
        ("Cost per function (median over points, correct gradients)", per_function_table(summary)),
        ("Scaling: f(x) = sum(x tanh x), wall time / evaluations of f", scaling_table(scaling_rows, labels)),
        ("Per-op pass against a whole-function check (same f)", per_op_table(ratios)),
        ("False positives", false_positive_lines(summary)),
        ("Formula mutations check_grad passed and torch's default check failed",
         misses_table(summary["misses_torch_catches"]) if "torch_full" in labels else ["(torch not installed)"]),
    ]
    parts = list(header)
    for title, lines in sections:
        parts += ["", f"### {title}", "", *lines]
    return "\n".join(parts) + "\n"

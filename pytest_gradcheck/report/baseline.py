"""Compare a report with a baseline report: which checks regressed, improved, appeared or disappeared.

Checks are matched by id and kind (`match_key`): a jvp check is compared only with a jvp check. A check present in
both regresses when it was ok and now is not, or when its formula error or float64 error
grew by more than `factor` against max(old error, floor), where floor = NOISE_FLOOR * the check's current rtol
for that kind of error (rtol_formula, rtol_float64): a 1e-29 -> 1e-28 change at 40 digits is noise, not a
regression. Improvements mirror this (failing -> ok, or an error shrank by more than `factor`). NaN errors
count as infinitely large; an error missing (null) on either side is not compared.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from pytest_gradcheck.report.records import kind_of

# An order of magnitude: the same seed gives the same figures, so any growth is a real change, and the small
# jitters of harmless refactors (summation order, an extra ulp) stay far below 10x.
DEFAULT_REGRESSION_FACTOR = 10.0
# Errors below a thousandth of their tolerance are noise: three digits of margin, however they move.
NOISE_FLOOR = 1e-3
ERROR_KINDS = (("formula_error", "rtol_formula", "formula error"), ("float64_error", "rtol_float64", "float64 error"))


@dataclass(frozen=True)
class Change:
    """A check that regressed or improved: both sides' status and errors, and why it counts."""

    id: str
    old_status: str
    new_status: str
    old_formula_error: float | None
    new_formula_error: float | None
    old_float64_error: float | None
    new_float64_error: float | None
    reason: str


@dataclass(frozen=True)
class Comparison:
    """The outcome of `compare`: changed checks (sorted by id), new and removed ids, the unchanged count."""

    factor: float
    regressions: list[Change] = field(default_factory=list)
    improvements: list[Change] = field(default_factory=list)
    new: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    unchanged: int = 0

    @property
    def regressed(self) -> bool:
        return bool(self.regressions)


def validate_factor(factor: Any) -> float:
    """`factor` as a float; ValueError unless it is a finite number > 1."""
    if isinstance(factor, bool) or not isinstance(factor, int | float) or not math.isfinite(factor) or factor <= 1:
        raise ValueError(f"factor: expected a finite number > 1, got {factor!r}")
    return float(factor)


def _number(value: float) -> str:
    return f"{value:.2g}"


def _moved(before: float, after: float, floor: float, factor: float) -> float | None:
    """How many times the larger error is past max(smaller error, floor), or None when not beyond `factor`."""
    worse, better = max(before, after), min(before, after)
    reference = max(better, floor)
    if worse <= factor * reference:
        return None
    return worse / reference if reference > 0 else math.inf


def _error_changes(old: dict[str, Any], new: dict[str, Any], factor: float) -> tuple[list[str], list[str]]:
    """Reasons why errors grew and why they shrank beyond the factor."""
    grew, shrank = [], []
    for key, rtol_key, label in ERROR_KINDS:
        if old[key] is None or new[key] is None:
            continue
        before, after = (math.inf if math.isnan(v) else float(v) for v in (old[key], new[key]))
        floor = NOISE_FLOOR * new["tolerance"][rtol_key]
        ratio = _moved(before, after, floor, factor)
        if ratio is not None:
            side, reasons = ("old", grew) if after > before else ("new", shrank)
            reasons.append(f"{label} {_number(before)} -> {_number(after)}: {ratio:.3g}x max({side}, floor "
                           f"{_number(floor)}), beyond the {factor:g}x factor")
    return grew, shrank


def _change(old: dict[str, Any], new: dict[str, Any], reasons: list[str]) -> Change:
    return Change(old["id"], old["status"], new["status"], old["formula_error"], new["formula_error"],
                  old["float64_error"], new["float64_error"], "; ".join(reasons))


def match_key(rec: dict[str, Any]) -> str:
    """What a check is matched by: its id, with its kind after it when it is not "grad" (a version 1 report's
    records have none: "grad"), so that a check is compared only against a check of the same kind and the ids
    of first-order checks, hence existing baselines, stay as they were."""
    kind = kind_of(rec)
    if kind == "grad" or rec["id"].endswith(f"[{kind}]"):
        return rec["id"]
    return f"{rec['id']}[{kind}]"


def compare(baseline: dict[str, Any], current: dict[str, Any],
            factor: float = DEFAULT_REGRESSION_FACTOR) -> Comparison:
    """Compare two reports (as built or loaded); ValueError unless factor is a finite number > 1."""
    factor = validate_factor(factor)
    old_checks = {match_key(rec): rec for rec in baseline["checks"]}
    new_checks = {match_key(rec): rec for rec in current["checks"]}
    regressions, improvements, unchanged = [], [], 0
    for key in sorted(old_checks.keys() & new_checks.keys()):
        old, new = old_checks[key], new_checks[key]
        grew, shrank = _error_changes(old, new, factor)
        if new["status"] == "error" and old["status"] != "error":  # the checker itself broke: always a regression
            grew.insert(0, f"the checker raised an error (was {old['status']}): {new.get('error', 'see the report')}")
        elif old["ok"] and not new["ok"]:
            grew.insert(0, f"was ok ({old['status']}), now failing ({new['status']})")
        elif new["ok"] and not old["ok"]:
            shrank.insert(0, f"was failing ({old['status']}), now ok ({new['status']})")
        if grew:
            regressions.append(_change(old, new, grew))
        elif shrank:
            improvements.append(_change(old, new, shrank))
        else:
            unchanged += 1
    return Comparison(factor, regressions, improvements, new=sorted(new_checks.keys() - old_checks.keys()),
                      removed=sorted(old_checks.keys() - new_checks.keys()), unchanged=unchanged)

"""Run every checker on the corpus (correct and mutated gradients) and reduce the records to rates and costs.

A record is one check: {checker, function, seed, kind (None: the correct gradient), d, flagged, status,
seconds, evaluations, detail}. Everything in the tables is computed from the records by `summarise`.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable, Sequence
from typing import Any

import corpus
import mutations
import numpy as np
from checkers import TORCH_DEFAULT, Checker

# A detection floor is the smallest d caught in at least 95% of cases (at that d and every larger one).
FLOOR_RATE = 0.95
P90 = 0.9  # the tail quantile of wall time reported beside the median


def _record(checker: Checker, problem: corpus.Problem, seed: int, grad: Any, kind: str | None,
            d: float | None, detail: str) -> dict[str, Any]:
    outcome = checker.run(problem.f, problem.args, grad)
    return {"checker": checker.name, "function": problem.name, "seed": seed, "kind": kind, "d": d,
            "flagged": outcome.flagged, "status": outcome.status, "seconds": outcome.seconds,
            "evaluations": outcome.evaluations, "detail": detail}


def warm_up(checkers: Sequence[Checker]) -> None:
    """One untimed check each: imports, caches and torch's first-call set-up stay out of the timings."""
    problem = corpus.make("sum_of_squares", 0)
    for checker in checkers:
        checker.run(problem.f, problem.args, problem.grad)


def run(checkers: Sequence[Checker], correct_seeds: Sequence[int], mutation_seeds: Sequence[int],
        sizes: Sequence[float], progress: Callable[[str], None]) -> list[dict[str, Any]]:
    """Correct gradients at every seed in `correct_seeds`; every mutation at every seed in `mutation_seeds`."""
    records = []
    for name in corpus.NAMES:
        for seed in sorted(set(correct_seeds) | set(mutation_seeds)):
            problem = corpus.make(name, seed)
            if seed in correct_seeds:
                records += [_record(c, problem, seed, problem.grad, None, None, "correct") for c in checkers]
            if seed in mutation_seeds:
                for m in mutations.mutations(problem.grad, problem.args, seed, sizes):
                    records += [_record(c, problem, seed, m.grad, m.kind, m.d, m.detail)
                                for c in checkers if c.mutations]
        progress(f"  {name}: done ({len(records)} checks so far)")
    return records


def _rate(rows: list[dict[str, Any]], test: Callable[[dict[str, Any]], bool] = lambda r: r["flagged"]) -> Any:
    return {"rate": sum(map(test, rows)) / len(rows), "n": len(rows)} if rows else None


def floor(rates: dict[float, Any], false_positives: int) -> Any:
    """Smallest d whose rate, and every larger d's, is >= FLOOR_RATE; None if none; 'n/a' with false positives."""
    if false_positives:
        return "n/a"
    best = None
    for d in sorted(rates, reverse=True):
        if rates[d] is None or rates[d]["rate"] < FLOOR_RATE:
            break
        best = d
    return best


def _quantile(values: list[float], q: float) -> float:
    return float(np.quantile(values, q)) if values else float("nan")


def _cost(rows: list[dict[str, Any]], torch_seconds: dict[tuple[str, int], float]) -> dict[str, Any]:
    """Wall time and evaluations per check on correct gradients; the time ratio to torch's default check is
    the median over cases of the ratio within each case (same function, same point, same run)."""
    seconds = [r["seconds"] for r in rows]
    ratios = [r["seconds"] / torch_seconds[(r["function"], r["seed"])] for r in rows
              if (r["function"], r["seed"]) in torch_seconds]
    evaluations = [r["evaluations"] for r in rows]
    return {"median_seconds": _quantile(seconds, 0.5), "p90_seconds": _quantile(seconds, P90),
            "median_evaluations": _quantile(evaluations, 0.5), "max_evaluations": max(evaluations, default=0),
            "time_vs_torch": statistics.median(ratios) if ratios else None}


def _per_checker(name: str, records: list[dict[str, Any]], sizes: Sequence[float],
                 torch_seconds: dict[tuple[str, int], float]) -> dict[str, Any]:
    mine = [r for r in records if r["checker"] == name]
    correct = [r for r in mine if r["kind"] is None]
    fp = [r for r in correct if r["flagged"]]
    out: dict[str, Any] = {"false_positives": len(fp), "correct_checks": len(correct),
                           "false_positive_cases": [{k: r[k] for k in ("function", "seed", "status")} for r in fp],
                           "cost": _cost(correct, torch_seconds), "detection": {}, "floor": {}, "fixed": {}}
    for kind in mutations.SCALED_KINDS:
        rates = {d: _rate([r for r in mine if r["kind"] == kind and r["d"] == d]) for d in sizes}
        out["detection"][kind] = {f"{d:.0e}": v for d, v in rates.items()}
        out["floor"][kind] = floor(rates, len(fp)) if any(rates.values()) else None
    for kind in mutations.FIXED_KINDS:
        rows = [r for r in mine if r["kind"] == kind]
        out["fixed"][kind] = _rate(rows)
    out["fixed"]["float32_diagnosed"] = _rate([r for r in mine if r["kind"] == "float32"],
                                              lambda r: r["status"] == "float64_accuracy")
    out["fixed"]["formula_diagnosed"] = _rate([r for r in mine if r["kind"] not in (None, "float32") and r["flagged"]],
                                              lambda r: r["status"] == "formula_error")
    return out


def _per_function(records: list[dict[str, Any]], names: Sequence[str]) -> list[dict[str, Any]]:
    """Median wall time and evaluations on correct gradients, per function and checker."""
    rows = []
    for function in corpus.NAMES:
        elements = sum(a.size for a in corpus.make(function, 0).args)
        row: dict[str, Any] = {"function": function, "elements": elements}
        for name in names:
            mine = [r for r in records if r["checker"] == name and r["function"] == function and r["kind"] is None]
            row[name] = {"median_seconds": _quantile([r["seconds"] for r in mine], 0.5),
                         "median_evaluations": _quantile([r["evaluations"] for r in mine], 0.5)}
        rows.append(row)
    return rows


def misses_torch_catches(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Formula mutations a check_grad checker passed while torch's default check failed them, at points where
    torch passes the correct gradient (elsewhere its failure says nothing about the mutation)."""
    torch_false_alarm = {(r["function"], r["seed"]) for r in records
                         if r["checker"] == TORCH_DEFAULT and r["kind"] is None and r["flagged"]}
    torch_flagged = {(r["function"], r["seed"], r["kind"], r["d"]) for r in records
                     if r["checker"] == TORCH_DEFAULT and r["flagged"]
                     and (r["function"], r["seed"]) not in torch_false_alarm}
    return [{k: r[k] for k in ("checker", "function", "seed", "kind", "d", "status", "detail")} for r in records
            if r["checker"].startswith("check_grad") and r["kind"] not in (None, "float32") and not r["flagged"]
            and (r["function"], r["seed"], r["kind"], r["d"]) in torch_flagged]


def summarise(records: list[dict[str, Any]], checkers: Sequence[Checker], sizes: Sequence[float]) -> dict[str, Any]:
    torch_seconds = {(r["function"], r["seed"]): r["seconds"] for r in records
                     if r["checker"] == TORCH_DEFAULT and r["kind"] is None}
    names = [c.name for c in checkers]
    return {"checkers": {c.name: {"label": c.label, "mutations": c.mutations,
                                  **_per_checker(c.name, records, sizes, torch_seconds)} for c in checkers},
            "per_function": _per_function(records, names), "misses_torch_catches": misses_torch_catches(records)}

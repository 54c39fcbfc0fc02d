"""check_grad on the realistic corpus (benchmarks/realistic_corpus.py): false positives, bugs caught per kind,
the high-precision share over checks whose code is not compiled, statuses and timings.

Command: `.venv/bin/python benchmarks/bench_realistic.py [--json PATH] [--seed N]`. Every check runs with
check_grad's defaults and `raise_on_mismatch=False`. A false positive is a correct gradient that is not `ok`;
a bug is caught when its check is not `ok`. Every function is differentiable at its point, so a correct
gradient that is `ok` with a status other than `pass` (`nondifferentiable`) is listed as well. The
high-precision share counts `result.high_precision` over the checks (correct and planted) of functions without
a compiled call. A check that raises is an `error`: a false positive on a correct gradient, never a caught bug.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import realistic_corpus

from pytest_gradcheck import check_grad


def run_case(case: realistic_corpus.Case) -> dict[str, Any]:
    """One default check of `case`, as a record: outcome, precision, time and the message's first lines.

    A checker that raises is recorded as status `error` with the exception (never as a verdict either way).
    """
    record = {"name": case.name, "bug": case.bug, "compiled": case.compiled, "float32": case.float32}
    started = time.perf_counter()
    try:
        result = check_grad(case.f, case.args, grad=case.grad, rtol=case.rtol, raise_on_mismatch=False)
    except Exception as error:  # reported as such: the run goes on to the other cases
        return {**record, "status": "error", "ok": False, "high_precision": False,
                "precision_note": f"check_grad raised {type(error).__name__}: {error}",
                "seconds": time.perf_counter() - started, "evaluations": None, "message": [repr(error)]}
    return {**record, "status": result.status, "ok": result.ok, "high_precision": result.high_precision,
            "precision_note": result.precision_note, "seconds": time.perf_counter() - started,
            "evaluations": result.evaluations, "message": result.message().splitlines()[:3]}


def _caught(record: dict[str, Any]) -> bool:
    return not record["ok"] and record["status"] != "error"


def summarize(records: list[dict[str, Any]]) -> dict[str, Any]:
    """The benchmark's figures from the per-check records."""
    correct = [r for r in records if r["bug"] is None]
    not_compiled = [r for r in records if not r["compiled"]]
    caught = {kind: [r for r in records if r["bug"] == kind] for kind in realistic_corpus.BUG_KINDS}
    times = [r["seconds"] for r in records]
    return {
        "checks": len(records),
        "false_positives": [f"{r['name']}: {r['status']}" for r in correct if not r["ok"]],
        "false_positive_count": sum(not r["ok"] for r in correct), "correct_checks": len(correct),
        # every function is differentiable at its point: `ok` with another status (nondifferentiable) is wrong too
        "correct_ok_not_pass": [f"{r['name']}: {r['status']}" for r in correct if r["ok"] and r["status"] != "pass"],
        "caught": {kind: f"{sum(_caught(r) for r in rs)}/{len(rs)}" for kind, rs in caught.items()},
        "missed": [f"{r['name']}[{r['bug']}]: {r['status']}" for rs in caught.values() for r in rs if not _caught(r)],
        "errors": [f"{r['name']}[{r['bug'] or 'correct'}]: {r['precision_note']}" for r in records
                   if r["status"] == "error"],
        "high_precision_share": sum(r["high_precision"] for r in not_compiled) / len(not_compiled),
        "high_precision": f"{sum(r['high_precision'] for r in not_compiled)}/{len(not_compiled)}",
        "statuses": dict(Counter(r["status"] for r in records)),
        "median_s": statistics.median(times), "total_s": sum(times), "max_s": max(times),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", type=Path, help="write the summary and every check's record here")
    parser.add_argument("--seed", type=int, default=0, help="the corpus's data and points")
    options = parser.parse_args()
    records = []
    for case in realistic_corpus.cases(options.seed):
        record = run_case(case)
        records.append(record)
        flag = "ok " if record["ok"] else "NOT"
        note = "" if record["high_precision"] else f"  [float64: {record['precision_note']}]"
        print(f"{flag} {case.label:55s} {record['status']:18s} {record['seconds']:6.2f} s{note}", flush=True)
    summary = summarize(records)
    print(json.dumps(summary, indent=1))
    if options.json is not None:
        options.json.write_text(json.dumps({"summary": summary, "checks": records}, indent=1))


if __name__ == "__main__":
    main()

"""High-precision coverage: which calls of the external corpus (hp_corpus.py) evaluate at high precision.

Each call runs on float64 inputs with numpy/scipy, and on the same inputs as high-precision arrays at two
working precisions (`LOW_DIGITS`, `HIGH_DIGITS`) through `precision.evaluate_hp`. A third evaluation, at the
low precision, moves every input element by a relative c * 2**-70 (c a small integer varying by element:
far below float64's resolution, exactly representable) and checks that the result moves: a twin that rounds
its inputs to float64 inside gives the same result at both precisions, and only this catches it. Statuses:

- "high": high-precision output (mpf only), the two precisions agree to at least `MIN_DIGITS` digits
  (relative to the largest output element), the result responds to the sub-float64 input change, and it
  agrees with numpy's float64 result to `SANITY_RTOL`.
- "mixed": high-precision output, but float constants among its elements, fewer agreeing digits, no response
  to the input change, or float64 agreement between `SANITY_RTOL` and `WRONG_RTOL`: the reason says which.
- "fallback": the evaluation raised or returned float64; the reason (from evaluate_hp) names the function.
- "wrong": high-precision output that disagrees with numpy's float64 result beyond `WRONG_RTOL` (or has
  another shape): a bug in a routed twin.

Run: .venv/bin/python benchmarks/hp_coverage.py --json --markdown [--docs]
(--json writes reports/hp_coverage.json, --markdown reports/hp_coverage.md, --docs docs/hp-coverage.md;
each takes an optional path; --only ID... runs some calls).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import math
import re
import sys
import time
import warnings
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from datetime import date
from pathlib import Path
from types import ModuleType
from typing import Any

import mpmath
import numpy as np

from pytest_gradcheck.hp import precision
from pytest_gradcheck.report.report import write_text


def _sibling(name: str) -> ModuleType:
    """benchmarks/<name>.py, imported by path: benchmarks/ is not put on sys.path (its corpus.py would shadow
    tests/checker/corpus.py when the tests load this module)."""
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, Path(__file__).resolve().with_name(f"{name}.py"))
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


hp_corpus = _sibling("hp_corpus")

ROOT = Path(__file__).resolve().parent.parent
LOW_DIGITS, HIGH_DIGITS = 40, 60
MIN_DIGITS = 30.0  # agreement between the two precisions for "high": float64 constants inside cap it near 16
SANITY_RTOL = 1e-10  # the routed result against numpy's float64 result, relative to the largest element
WRONG_RTOL = 1e-8  # beyond this the routed twin computes something else: "wrong"
NUDGE_BITS = 70  # inputs x -> x * (1 + c * 2**-70), c <= 13: exact at 40 digits (136 bits)
MIN_RESPONSE = 1e-35  # relative change below this (about 2**-70 * |df/dx| expected) counts as none
STATUSES = ("high", "mixed", "fallback", "wrong")
DEFAULT_PATHS = {"json": ROOT / "reports" / "hp_coverage.json", "markdown": ROOT / "reports" / "hp_coverage.md",
                 "docs": ROOT / "docs" / "hp-coverage.md"}


@dataclass(frozen=True)
class Outcome:
    """One call's classification, with what it was measured from."""

    id: str
    function: str
    module: str
    source: str
    args: list[str]
    status: str
    digits: float | None  # agreement of the two precisions, in decimal digits (None: not measured)
    float64_rel: float | None  # |hp - float64| / max|float64|
    reason: str | None  # why not "high"
    named: bool | None  # a fallback's reason names the function (its last dotted part); None if not fallback
    warnings: list[str]
    seconds: float


def _flat_numbers(value: Any) -> list[Any]:
    if isinstance(value, np.ndarray):
        return value.ravel().tolist()
    return [value]


def _shape(value: Any) -> tuple[int, ...]:
    return tuple(np.shape(value)) if isinstance(value, np.ndarray) else ()


def _relative(a: Sequence[Any], b: Sequence[Any], ctx: mpmath.MPContext) -> Any:
    """max|a - b| / max|b| in ctx; 0 when both are all zero, inf when only b is."""
    a = [ctx.mpf(x) for x in a]
    b = [ctx.mpf(x) for x in b]
    error = max((abs(x - y) for x, y in zip(a, b, strict=True)), default=ctx.mpf(0))
    scale = max((abs(y) for y in b), default=ctx.mpf(0))
    if error == 0:
        return ctx.mpf(0)
    return ctx.inf if scale == 0 else error / scale


def agreeing_digits(low: Any, high: Any, digits: int = LOW_DIGITS) -> float:
    """Decimal digits to which two hp results agree (relative to the larger one's largest element), at most
    `digits`."""
    ctx = precision.context(HIGH_DIGITS)
    rel = _relative(_flat_numbers(low), _flat_numbers(high), ctx)
    if rel == 0:
        return float(digits)
    return float(min(digits, max(0.0, -float(ctx.log10(rel)))))


def _nudge(arrays: Sequence[Any], ctx: mpmath.MPContext) -> list[Any]:
    """Each element times 1 + c * 2**-70, c in 1..13 varying by element and argument (a common factor would
    leave x / y and arctan2(y, x) unchanged). Exact: 53 + 70 + 4 bits fit in 40 digits' 136."""
    step = ctx.mpf(2) ** -NUDGE_BITS
    out = []
    for k, a in enumerate(arrays):
        c = np.arange(a.size, dtype=np.int64).reshape(a.shape) if isinstance(a, np.ndarray) else np.int64(0)
        factors = (1 + (7 * k + 5 * c) % 13) * step + 1  # int * mpf: exact
        out.append(a * factors)
    return out


def _evaluate(f: Any, args: Sequence[Any], ctx: mpmath.MPContext, caught: list[str]) -> tuple[Any, str | None]:
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")  # recorded, never raised: coverage measures routing, not warnings
        value, reason = precision.evaluate_hp(f, args, ctx)
    caught.extend(f"{w.category.__name__}: {w.message}" for w in seen)
    return value, reason


def _short(reason: str) -> str:
    """A reason without the file path and source line evaluate_hp appends (they point into the corpus)."""
    return re.sub(r" at (/\S+|<hp_corpus [^>]+>):\d+ \(`.*`\)$", "", reason.strip())


def names_function(reason: str, function: str) -> bool:
    """Whether a fallback reason names the function: its last dotted part ("det", "pdf", "astype") as a word."""
    return re.search(rf"(?<![\w]){re.escape(function.rsplit('.', 1)[-1])}(?![\w])", reason) is not None


def classify(call: hp_corpus.Call) -> Outcome:
    """Run one call at float64 and at both precisions and classify it (see the module docstring)."""
    start = time.perf_counter()
    inputs = call.inputs()
    caught: list[str] = []
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        expected = np.asarray(call.f(*inputs), dtype=np.float64)
    caught.extend(f"float64: {w.category.__name__}: {w.message}" for w in seen)

    def done(status: str, reason: str | None, digits: float | None = None, rel: float | None = None) -> Outcome:
        rel = rel if rel is None or math.isfinite(rel) else None  # JSON has no inf; the reason gives it
        named = names_function(reason or "", call.function) if status == "fallback" else None
        return Outcome(call.id, call.function, call.module, call.source, [a.describe() for a in call.args],
                       status, digits, rel, reason, named, caught, time.perf_counter() - start)

    values = {}
    for digits in (LOW_DIGITS, HIGH_DIGITS):
        ctx = precision.context(digits)
        value, reason = _evaluate(call.f, [precision.to_hp(x, ctx) for x in inputs], ctx, caught)
        if reason is not None:
            return done("fallback", reason)
        values[digits] = value
    low, high = values[LOW_DIGITS], values[HIGH_DIGITS]
    if _shape(high) != expected.shape or _shape(low) != expected.shape:
        return done("wrong", f"shape {_shape(high)} at high precision, {expected.shape} in float64")
    agreed = agreeing_digits(low, high)
    rel = float(_relative(precision.to_float64(high).ravel().tolist(), expected.ravel().tolist(),
                          precision.context(HIGH_DIGITS)))
    if not rel <= WRONG_RTOL:
        return done("wrong", f"differs from numpy's float64 result by {rel:.1e} relative", agreed, rel)
    problems = []
    ctx = precision.context(LOW_DIGITS)
    kinds = {precision.precision_of(low, ctx), precision.precision_of(high, precision.context(HIGH_DIGITS))}
    if "mixed" in kinds:
        constants = [e for e in _flat_numbers(high) if not hasattr(e, "_mpf_")]
        problems.append(f"{len(constants)} float/int constants among the output's elements ({constants[0]!r}, ...)")
    if agreed < MIN_DIGITS:
        problems.append(f"{LOW_DIGITS} and {HIGH_DIGITS} digits agree to {agreed:.1f} digits only")
    if not call.constant:
        nudged, reason = _evaluate(call.f, _nudge([precision.to_hp(x, ctx) for x in inputs], ctx), ctx, caught)
        if reason is not None:
            return done("fallback", f"with inputs moved below float64's resolution: {reason}", agreed, rel)
        response = _relative(_flat_numbers(nudged), _flat_numbers(low), ctx)
        if response < MIN_RESPONSE:
            problems.append(f"does not respond to a ~2**-{NUDGE_BITS} relative input change (relative change "
                            f"{float(response):.0e}): computed in float64 inside")
    if rel > SANITY_RTOL:
        problems.append(f"agrees with numpy's float64 result only to {rel:.1e} relative")
    return done("mixed" if problems else "high", "; ".join(problems) or None, agreed, rel)


def run(calls: Iterable[hp_corpus.Call] = hp_corpus.CALLS) -> list[Outcome]:
    return [classify(call) for call in calls]


def _share(outcomes: Sequence[Outcome]) -> float:
    return sum(o.status == "high" for o in outcomes) / len(outcomes) if outcomes else 0.0


def _function_rows(outcomes: Sequence[Outcome]) -> list[dict[str, Any]]:
    by_function: dict[str, list[Outcome]] = defaultdict(list)
    for o in outcomes:
        by_function[o.function].append(o)
    rows = []
    for function, group in by_function.items():
        counts = Counter(o.status for o in group)
        status = next(iter(counts)) if len(counts) == 1 else ", ".join(
            f"{counts[s]} {s}" for s in STATUSES if counts[s])
        digits = [o.digits for o in group if o.digits is not None]
        reasons = list(dict.fromkeys(f"{o.id}: {_short(o.reason)}" for o in group if o.reason))
        rows.append({"function": function, "module": group[0].module, "calls": len(group), "status": status,
                     "statuses": dict(counts), "min_digits": min(digits) if digits else None, "reasons": reasons})
    return rows


def summarize(outcomes: Sequence[Outcome], seconds: float) -> dict[str, Any]:
    """The report: totals, share high, per module, per function, and every call."""
    modules = {}
    for module in sorted(hp_corpus.MODULES, key=lambda m: (m.startswith("scipy"), m.count("."), m)):
        group = [o for o in outcomes if o.module == module]
        if group:
            counts = Counter(o.status for o in group)
            modules[module] = {"calls": len(group), "functions": len({o.function for o in group}),
                               **{s: counts[s] for s in STATUSES}, "share_high": _share(group)}
    counts = Counter(o.status for o in outcomes)
    return {
        "corpus": "benchmarks/hp_corpus.py (gradient definitions of HIPS/autograd)",
        "date": date.today().isoformat(),
        "digits": [LOW_DIGITS, HIGH_DIGITS],
        "thresholds": {"min_digits": MIN_DIGITS, "sanity_rtol": SANITY_RTOL, "wrong_rtol": WRONG_RTOL,
                       "nudge_bits": NUDGE_BITS},
        "calls": len(outcomes),
        "functions": len({o.function for o in outcomes}),
        "totals": {s: counts[s] for s in STATUSES},
        "share_high": _share(outcomes),
        "fallbacks_naming_the_function": sum(bool(o.named) for o in outcomes),
        "seconds": round(seconds, 2),
        "modules": modules,
        "causes": _causes(outcomes),
        "by_function": _function_rows(outcomes),
        "outcomes": [asdict(o) for o in outcomes],
    }


def _cause(outcome: Outcome) -> str:
    """What kind of failure a non-"high" call shows, for grouping: its module and the exception type (or the
    kind of output, or the first of a "mixed" call's problems)."""
    reason = outcome.reason or ""
    if outcome.status == "mixed":
        kind = next(k for k, marker in _MIXED_KINDS.items() if marker in reason)
    elif "returned float64 output" in reason:
        kind = "returns float64"
    elif "returned other output" in reason:
        kind = "returns a non-real or foreign output"
    else:
        found = re.search(r"\b([A-Z]\w*(?:Error|Exception|Result|Warning))\b", reason)
        kind = f"raises {found[1]}" if found else "fails"
    return f"{outcome.module}: {kind}"


_MIXED_KINDS = {"float constants in the output": "constants among", "precisions disagree": "digits agree to",
                "computed in float64 inside": "does not respond", "float64 agreement only": "agrees with numpy"}


def _causes(outcomes: Sequence[Outcome]) -> list[dict[str, Any]]:
    groups: dict[str, list[Outcome]] = defaultdict(list)
    for o in outcomes:
        if o.status in ("fallback", "mixed"):
            groups[_cause(o)].append(o)
    return [{"cause": cause, "calls": [o.id for o in group], "example": _short(group[0].reason or "")}
            for cause, group in sorted(groups.items(), key=lambda item: (-len(item[1]), item[0]))]


def _clip(text: str, limit: int = 200) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _digits(value: float | None) -> str:
    return "" if value is None else f"{value:.0f}"


def markdown_table(report: dict[str, Any]) -> str:
    """Totals, per-module summary, loud "wrong" list, fallback causes and the per-function table."""
    t = report["totals"]
    lines = [
        f"**{report['share_high']:.1%} high precision**: {t['high']} of {report['calls']} calls "
        f"({report['functions']} functions) high, {t['mixed']} mixed, {t['fallback']} fallback, "
        f"{t['wrong']} wrong; {report['digits'][0]} and {report['digits'][1]} digits, "
        f"{report['seconds']:.1f} s, {report['date']}.",
        "",
        f"Fallback reasons that name the function: {report['fallbacks_naming_the_function']} of {t['fallback']}.",
        "",
    ]
    wrong = [o for o in report["outcomes"] if o["status"] == "wrong"]
    if wrong:
        lines += ["**WRONG: routed results that disagree with numpy (bugs in a twin):**", ""]
        lines += [f"- `{o['id']}` ({o['function']}): {_cell(o['reason'])}" for o in wrong]
        lines.append("")
    lines += ["| module | functions | calls | high | mixed | fallback | wrong | share high |",
              "|---|---:|---:|---:|---:|---:|---:|---:|"]
    for module, m in report["modules"].items():
        lines.append(f"| {module} | {m['functions']} | {m['calls']} | {m['high']} | {m['mixed']} | "
                     f"{m['fallback']} | {m['wrong']} | {m['share_high']:.0%} |")
    if report["causes"]:
        lines += ["", "Fallback and mixed calls by cause:", ""]
        for c in report["causes"]:
            ids = ", ".join(f"`{i}`" for i in c["calls"])
            lines.append(f"- **{c['cause']}** ({len(c['calls'])}): {ids}. E.g. {_cell(_clip(c['example']))}")
    lines += ["", "| function | calls | status | digits | reason |", "|---|---:|---|---:|---|"]
    for row in report["by_function"]:
        reason = "; ".join(row["reasons"])
        lines.append(f"| `{row['function']}` | {row['calls']} | {row['status']} | {_digits(row['min_digits'])} | "
                     f"{_cell(reason)} |")
    return "\n".join(lines) + "\n"


DOCS_INTRO = """# High-precision coverage

The checker differentiates your function at high precision when the function runs on high-precision arrays;
when it cannot (a call raises, or returns float64), the check falls back to a float64 reference and says
which function caused it. This page measures how much real numpy/scipy code stays at high precision.

**The corpus** (`benchmarks/hp_corpus.py`) is external: every numpy/scipy function that autograd
(HIPS/autograd) defines a gradient for, read from its gradient definitions (`numpy_vjps.py`, `linalg.py`,
`fft.py`, `scipy/special.py`, `scipy/stats/*.py`, `scipy/linalg.py`, `scipy/signal.py`,
`scipy/integrate.py`), each called once or more as user code would: small float64 arrays in the function's
domain, a real result (complex-valued functions wrapped as a loss would, `np.abs(np.fft.fft(x)) ** 2`).

**The measurement** (`benchmarks/hp_coverage.py`) runs each call in float64 and on high-precision arrays at
40 and at 60 digits. A call counts as *high* when its result is high precision, the two precisions agree to
at least 30 digits, the result moves when the inputs move by a few times 2^-70 relative (below float64's
resolution: a routed function that rounds to float64 inside gives the same result at both precisions, and
would not move), and it agrees with numpy's float64 result to 1e-10. *Mixed*: high precision but one of those
fails (the reason says which). *Fallback*: the high-precision evaluation raised or returned float64; the
reason names the function. *Wrong*: a high-precision result that disagrees with numpy beyond 1e-8, a bug in a
routed implementation. The digits column is the smallest agreement between the two precisions over the
function's calls.

What agreement cannot show: a routed implementation with a float64 constant inside (a hard-coded
`1/sqrt(pi)`) gives the same result at both precisions and still moves with its inputs; the comparison with
numpy bounds that error by 1e-10 but does not exclude it.

Before the routing of issue 9 (commit 69179aa), 141 of these 255 calls (55.3%) stayed high precision.

Regenerate this page and the reports:

```bash
.venv/bin/python benchmarks/hp_coverage.py --json --markdown --docs
```

## Latest results

"""


def docs_page(report: dict[str, Any]) -> str:
    return DOCS_INTRO + markdown_table(report)


def _parse(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    for kind in ("json", "markdown", "docs"):
        parser.add_argument(f"--{kind}", nargs="?", const=DEFAULT_PATHS[kind], default=None, type=Path,
                            metavar="PATH", help=f"write the {kind} output (default path {DEFAULT_PATHS[kind]})")
    parser.add_argument("--only", nargs="+", metavar="ID", help="run only these call ids")
    args = parser.parse_args(argv)
    if args.only:
        known = {c.id for c in hp_corpus.CALLS}
        unknown = [i for i in args.only if i not in known]
        if unknown:
            parser.error(f"--only: unknown call ids {unknown}")
    return args


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    args = _parse(argv)
    calls = [c for c in hp_corpus.CALLS if not args.only or c.id in args.only]
    start = time.perf_counter()
    report = summarize(run(calls), time.perf_counter() - start)
    if args.json:
        write_text(args.json, json.dumps(report, indent=2, allow_nan=False) + "\n")
    if args.markdown:
        write_text(args.markdown, "# High-precision coverage of the corpus\n\n" + markdown_table(report))
    if args.docs:
        write_text(args.docs, docs_page(report))
    t = report["totals"]
    print(f"{report['share_high']:.1%} high ({t['high']}/{report['calls']} calls, {report['functions']} functions): "
          f"{t['mixed']} mixed, {t['fallback']} fallback, {t['wrong']} wrong in {report['seconds']:.1f} s")
    for o in report["outcomes"]:
        if o["status"] != "high":
            print(f"  {o['status']:8} {o['id']:32} {_short(o['reason'] or '')[:150]}")
    return report


if __name__ == "__main__":
    main()

"""Custom torch Functions and JAX custom_vjp rules: check_grad against torch.autograd.gradcheck and
jax.test_util.check_grads, in the same run.

Command: `fwvenv/bin/python benchmarks/bench_frameworks.py [--quick] [--json [PATH]] [--markdown [PATH]]`
(`--rules a,b` and `--frameworks torch|jax` narrow a run; `--render JSON` prints a saved run's tables again).
It needs torch and jax (CPU builds) and check_grad's framework adapters; a framework that does not import is
left out of the run.

On the corpus of benchmarks/framework_corpus.py (22 rules, each a torch.autograd.Function and a jax.custom_vjp
function, f = sum(c * op(*args)) at seeded points), with the planted bugs of framework_mutations.py (one
element or all elements scaled by 1 + d for d = 1e-1 .. 1e-12, a sign flipped in one term, a missing broadcast
reduction, a float32 backward), every check at its defaults:

- `ours_reference`: `check_grad(f, args, reference=numpy_f, raise_on_mismatch=False)`;
- `ours_float64`: `check_grad(f, args, raise_on_mismatch=False)` (the framework's float64 forward is the reference);
- torch rules: `torch.autograd.gradcheck(f, args)` at its defaults, and with `fast_mode=True`;
- JAX rules: `jax.test_util.check_grads(f, args, order=1, modes=("rev",))` (x64 enabled for the run).

A check *flags* a rule when it fails it (`ok` False; gradcheck returns False; check_grads raises). Reported:
false positives on the correct rules (target 0 for ours), detection per kind, size d and checker (targets:
with reference= >= 99% at 1e-9, without >= 95% at 1e-6), whether ours names the planted op in its per-op
table, and on the correct rules the median wall time of a passing check, its evaluations of f, and the median
over cases of the per-case time ratio ours / torch's default gradcheck (JAX: ours / check_grads) on the same
function in the same run. On a correct rule every checker runs once untimed first, so that none is timed with
the framework's first use of f at its shapes (JAX compiles each op on first dispatch); the first check in a fresh
process is what bench_framework_speed.py measures cold.
"""

from __future__ import annotations

import argparse
import importlib.util
import inspect
import json
import statistics
import sys
import time
import warnings
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
DEFAULT_JSON = "reports/bench_frameworks.json"  # reports/ is git-ignored
DEFAULT_MARKDOWN = "reports/bench_frameworks.md"
REFERENCE_TARGET, REFERENCE_D = 0.99, 1e-9  # with reference=: >= 99% caught at 1e-9
FLOAT64_TARGET, FLOAT64_D = 0.95, 1e-6  # without: >= 95% at 1e-6


def _load(name: str) -> Any:
    """A benchmarks/ module by path (benchmarks/ is not put on sys.path: its corpus.py would shadow others)."""
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, HERE / f"{name}.py")
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


outputs = _load("outputs")


mutations = _load("framework_mutations")
corpus = mutations.corpus
Counted = _load("checkers").Counted  # f with a call counter


@dataclass(frozen=True)
class Config:
    rules: tuple[str, ...]
    frameworks: tuple[str, ...]
    correct_seeds: tuple[int, ...]  # points at which every correct rule is checked (false positives, cost)
    mutation_seeds: tuple[int, ...]  # points at which every plant is checked
    sizes: tuple[float, ...]  # the d of the graded plants


FULL = Config(rules=corpus.NAMES, frameworks=corpus.FRAMEWORKS, correct_seeds=(0, 1, 2), mutation_seeds=(0, 1),
              sizes=mutations.SIZES)
QUICK = Config(rules=corpus.NAMES, frameworks=corpus.FRAMEWORKS, correct_seeds=(0,), mutation_seeds=(0,),
               sizes=(1e-1, 1e-3, 1e-6, 1e-9, 1e-12))


# ---- what this machine can run --------------------------------------------------------------------------------------

def installed(module: str) -> bool:
    return importlib.util.find_spec(module) is not None


def missing() -> list[str]:
    """What the run needs and does not have: torch, jax, check_grad's `reference=` and framework adapters."""
    out = [m for m in corpus.FRAMEWORKS if not installed(m)]
    import pytest_gradcheck

    if "reference" not in inspect.signature(pytest_gradcheck.check_grad).parameters:
        out.append("check_grad(reference=...)")
    for framework in corpus.FRAMEWORKS:
        if not installed(f"pytest_gradcheck.frameworks.{framework}_adapter"):
            out.append(f"pytest_gradcheck.frameworks.{framework}_adapter")
    return out


def available_frameworks() -> tuple[str, ...]:
    """The frameworks that import and have an adapter (none without check_grad's reference=)."""
    gone = set(missing())
    if "check_grad(reference=...)" in gone:
        return ()
    return tuple(f for f in corpus.FRAMEWORKS if not {f, f"pytest_gradcheck.frameworks.{f}_adapter"} & gone)


# ---- the checkers ---------------------------------------------------------------------------------------------------

def _named(result: Any, op_name: str) -> bool:
    """The per-op table has the planted op's row, failing."""
    return any(row.name == op_name and not row.ok for row in (getattr(result, "ops", None) or []))


def _ours(with_reference: bool) -> Callable[[Any], dict[str, Any]]:
    def run(problem: Any) -> dict[str, Any]:
        from pytest_gradcheck import check_grad

        reference = problem.reference if with_reference else None
        start = time.perf_counter()
        try:
            result = check_grad(problem.f, problem.inputs(), reference=reference, raise_on_mismatch=False)
        except Exception as error:  # a crash is a finding: recorded, never hidden
            return {"flagged": True, "status": f"error: {type(error).__name__}: {error}"[:300],
                    "seconds": time.perf_counter() - start, "evaluations": 0, "named": False}
        return {"flagged": not result.ok, "status": result.status, "seconds": time.perf_counter() - start,
                "evaluations": result.evaluations, "named": _named(result, problem.op_name)}

    return run


def _torch(fast_mode: bool) -> Callable[[Any], dict[str, Any]]:
    def run(problem: Any) -> dict[str, Any]:
        import torch

        f = Counted(problem.f)
        start = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ok = torch.autograd.gradcheck(f, problem.inputs(), fast_mode=fast_mode, raise_exception=False)
        return {"flagged": not ok, "status": "pass" if ok else "fail", "seconds": time.perf_counter() - start,
                "evaluations": f.calls}

    return run


def _jax(problem: Any) -> dict[str, Any]:
    from jax.test_util import check_grads

    f = Counted(problem.f)
    start = time.perf_counter()
    try:
        check_grads(f, problem.inputs(), order=1, modes=("rev",))
        status = "pass"
    except AssertionError:
        status = "fail"
    return {"flagged": status == "fail", "status": status, "seconds": time.perf_counter() - start,
            "evaluations": f.calls}


@dataclass(frozen=True)
class Checker:
    name: str
    label: str
    framework: str | None  # None: every framework
    run: Callable[[Any], dict[str, Any]]


CHECKERS = (
    Checker("ours_reference", "check_grad, reference=", None, _ours(True)),
    Checker("ours_float64", "check_grad, no reference", None, _ours(False)),
    Checker("torch_gradcheck", "torch gradcheck", "torch", _torch(False)),
    Checker("torch_gradcheck_fast", "torch gradcheck fast_mode", "torch", _torch(True)),
    Checker("jax_check_grads", "jax check_grads", "jax", _jax),
)
LABELS = {c.name: c.label for c in CHECKERS}
BASELINE = {"torch": "torch_gradcheck", "jax": "jax_check_grads"}  # the denominator of the time ratio
OURS = ("ours_reference", "ours_float64")


def checkers_for(framework: str) -> list[Checker]:
    return [c for c in CHECKERS if c.framework in (None, framework)]


# ---- the run --------------------------------------------------------------------------------------------------------


def _record(checker: Checker, problem: Any, kind: str | None, d: float | None, detail: str) -> dict[str, Any]:
    return {"framework": problem.framework, "rule": problem.name, "seed": problem.seed, "checker": checker.name,
            "kind": kind, "d": d, "detail": detail} | checker.run(problem)


def prepare(frameworks: tuple[str, ...]) -> None:
    """JAX in float64 for the whole run (check_grads needs float64 arrays; ours restores what it finds)."""
    if "jax" in frameworks:
        import jax

        jax.config.update("jax_enable_x64", True)


def warm_up(frameworks: tuple[str, ...]) -> None:
    """One untimed check per checker: imports and first-call set-up stay out of the timings."""
    for framework in frameworks:
        problem = corpus.make("softplus", framework, 99)
        for checker in checkers_for(framework):
            checker.run(problem)


def measure_rule(name: str, framework: str, config: Config) -> list[dict[str, Any]]:
    records = []
    chosen = checkers_for(framework)
    for seed in config.correct_seeds:
        problem = corpus.make(name, framework, seed)
        for checker in chosen:  # untimed: each framework's first use of f at its shapes and placement (JAX
            checker.run(problem)  # compiles each op on first dispatch, ~0.1 s a rule) stays out of the timings
        records += [_record(c, problem, None, None, "correct") for c in chosen]
    for seed in config.mutation_seeds:
        for planted in mutations.plants(name, seed, config.sizes):
            problem = mutations.mutate(name, framework, seed, planted)
            records += [_record(c, problem, planted.kind, planted.d, planted.detail) for c in chosen]
    return records


def measure(config: Config) -> list[dict[str, Any]]:
    prepare(config.frameworks)
    warm_up(config.frameworks)
    records = []
    for framework in config.frameworks:
        for name in config.rules:
            started = time.perf_counter()
            records += measure_rule(name, framework, config)
            outputs.progress(f"  {framework} {name}: {time.perf_counter() - started:.1f} s ({len(records)} checks so "
                             "far)")
    return records


# ---- summary --------------------------------------------------------------------------------------------------------

def _median(values: list[float]) -> float | None:
    return statistics.median(values) if values else None


def _rate(rows: list[dict[str, Any]], test: Callable[[dict[str, Any]], bool] = lambda r: r["flagged"]) -> Any:
    return {"caught": sum(map(test, rows)), "n": len(rows), "rate": sum(map(test, rows)) / len(rows)} if rows else None


def _errored(r: dict[str, Any]) -> bool:
    return str(r["status"]).startswith("error")


def _caught(r: dict[str, Any]) -> bool:
    """A plant is caught when the check fails it; a check that raised caught nothing."""
    return bool(r["flagged"]) and not _errored(r)


def _cost(correct: list[dict[str, Any]], baseline: dict[tuple[str, int], float]) -> dict[str, Any]:
    passing = [r for r in correct if r["status"] == "pass"]
    ratios = [r["seconds"] / baseline[(r["rule"], r["seed"])] for r in passing if (r["rule"], r["seed"]) in baseline]
    return {"passing": len(passing), "median_seconds": _median([r["seconds"] for r in passing]),
            "median_evaluations": _median([r["evaluations"] for r in passing]),
            "max_evaluations": max((r["evaluations"] for r in passing), default=None),
            "time_ratio": _median(ratios), "time_ratio_max": max(ratios, default=None)}


def _per_checker(mine: list[dict[str, Any]], sizes: list[float], baseline: dict[tuple[str, int], float]
                 ) -> dict[str, Any]:
    correct = [r for r in mine if r["kind"] is None]
    flagged = [r for r in correct if r["flagged"]]
    planted = [r for r in mine if r["kind"] is not None]
    out: dict[str, Any] = {
        "correct_checks": len(correct), "false_positives": len(flagged),
        "false_positive_cases": [f"{r['rule']} seed {r['seed']} ({r['status']})" for r in flagged],
        "errors": sorted({r["status"] for r in mine if _errored(r)}),
        "cost": _cost(correct, baseline), "detection": {}, "fixed": {},
    }
    for kind in mutations.SCALED_KINDS:
        out["detection"][kind] = {f"{d:.0e}": _rate([r for r in planted if r["kind"] == kind and r["d"] == d],
                                                     _caught) for d in sizes}
    out["detection"]["both"] = {f"{d:.0e}": _rate([r for r in planted if r["kind"] in mutations.SCALED_KINDS
                                                   and r["d"] == d], _caught) for d in sizes}
    for kind in mutations.FIXED_KINDS:
        out["fixed"][kind] = _rate([r for r in planted if r["kind"] == kind], _caught)
    if mine and mine[0]["checker"] in OURS:
        caught_formula = [r for r in planted if r["kind"] != "float32" and _caught(r)]
        out["named"] = _rate(caught_formula, lambda r: bool(r.get("named")))
        out["statuses"] = dict(Counter(r["status"] for r in planted if _caught(r)))
    return out


def summarize(records: list[dict[str, Any]]) -> dict[str, Any]:
    """Per framework and checker: false positives, detection per kind and d, fixed kinds, cost and time ratios."""
    out: dict[str, Any] = {}
    sizes = sorted({r["d"] for r in records if r["d"] is not None}, reverse=True)
    for framework in dict.fromkeys(r["framework"] for r in records):
        mine = [r for r in records if r["framework"] == framework]
        baseline = {(r["rule"], r["seed"]): r["seconds"] for r in mine
                    if r["checker"] == BASELINE[framework] and r["kind"] is None}
        out[framework] = {name: _per_checker([r for r in mine if r["checker"] == name], sizes, baseline)
                          for name in dict.fromkeys(r["checker"] for r in mine)}
    return out


def targets(summary: dict[str, Any]) -> list[dict[str, Any]]:
    """The issue's targets, per framework: met or not, with the figure."""
    rows = []
    for framework, checkers in summary.items():
        for name, target, d in (("ours_reference", REFERENCE_TARGET, REFERENCE_D),
                                ("ours_float64", FLOAT64_TARGET, FLOAT64_D)):
            if name not in checkers:
                continue
            s = checkers[name]
            rows.append({"framework": framework, "target": f"{LABELS[name]}: 0 false positives",
                         "figure": f"{s['false_positives']} / {s['correct_checks']}", "met": s["false_positives"] == 0})
            found = s["detection"]["both"].get(f"{d:.0e}")
            if found:
                rows.append({"framework": framework, "target": f"{LABELS[name]}: >= {target:.0%} caught at d = {d:.0e}",
                             "figure": f"{found['rate']:.1%} ({found['caught']} / {found['n']})",
                             "met": found["rate"] >= target})
            ratio = s["cost"]["time_ratio"]
            if ratio is not None:
                rows.append({"framework": framework,
                             "target": f"{LABELS[name]}: median time <= {LABELS[BASELINE[framework]]}'s",
                             "figure": f"{ratio:.2f}x", "met": ratio <= 1.0})
    return rows


# ---- Markdown -------------------------------------------------------------------------------------------------------

def _table(head: list[str], rows: list[list[Any]]) -> list[str]:
    return ["| " + " | ".join(head) + " |", "|" + "---|" * len(head),
            *("| " + " | ".join(str(c) for c in row) + " |" for row in rows), ""]


def _pct(cell: Any) -> str:
    return "—" if cell is None else f"{100 * cell['rate']:.0f}% ({cell['caught']}/{cell['n']})"


def _ms(seconds: float | None) -> str:
    return "—" if seconds is None else f"{seconds * 1e3:.1f}"


def summary_table(summary: dict[str, Any]) -> list[str]:
    rows = []
    for framework, checkers in summary.items():
        for name, s in checkers.items():
            cost = s["cost"]
            ratio = "—" if cost["time_ratio"] is None else f"{cost['time_ratio']:.2f}x"
            rows.append([framework, LABELS[name], f"**{s['false_positives']}** / {s['correct_checks']}",
                         _pct(s["detection"]["both"].get(f"{REFERENCE_D:.0e}")),
                         _pct(s["detection"]["both"].get(f"{FLOAT64_D:.0e}")), _pct(s["fixed"]["sign_flip"]),
                         _pct(s["fixed"]["missing_reduction"]), _pct(s["fixed"]["float32"]),
                         _pct(s.get("named")) if "named" in s else "—", _ms(cost["median_seconds"]),
                         "—" if cost["median_evaluations"] is None else f"{cost['median_evaluations']:g}",
                         ratio, len(s["errors"])])
    return _table(["framework", "checker", "false positives", "caught at 1e-9", "caught at 1e-6", "sign flip",
                   "missing reduction", "float32 backward", "op named", "median ms (passing)",
                   "median evaluations", "time vs baseline (median)", "checks that raised"], rows)


def detection_table(summary: dict[str, Any]) -> list[str]:
    rows, sizes = [], []
    for framework, checkers in summary.items():
        for name, s in checkers.items():
            for kind in mutations.SCALED_KINDS:
                sizes = list(s["detection"][kind])
                cells = [f"{100 * c['rate']:.0f}%" if c else "—" for c in s["detection"][kind].values()]
                rows.append([framework, LABELS[name], kind, *cells])
    return _table(["framework", "checker", "plant", *(f"d={d}" for d in sizes)], rows)


def cost_table(records: list[dict[str, Any]]) -> list[str]:
    """Per rule and framework: median ms / evaluations of each checker on the correct rule."""
    rows = []
    for framework in dict.fromkeys(r["framework"] for r in records):
        names = [c.name for c in checkers_for(framework)]
        for rule in dict.fromkeys(r["rule"] for r in records if r["framework"] == framework):
            cells = []
            for name in names:
                mine = [r for r in records if r["framework"] == framework and r["rule"] == rule
                        and r["checker"] == name and r["kind"] is None]
                seconds, evaluations = _median([r["seconds"] for r in mine]), _median([r["evaluations"] for r in mine])
                statuses = ",".join(sorted({r["status"] for r in mine} - {"pass"}))
                cells.append(f"{_ms(seconds)} / {evaluations:g}" + (f" ({statuses})" if statuses else "")
                             if mine else "—")
            rows.append([framework, rule, *cells, *([""] * (4 - len(cells)))])
    return _table(["framework", "rule", "ours, reference= ms / evals", "ours, no reference ms / evals",
                   "gradcheck (torch) / check_grads (jax) ms / evals", "gradcheck fast_mode ms / evals"], rows)


def misses(records: list[dict[str, Any]]) -> list[str]:
    """Formula plants ours missed at d >= its target's d, and every check of ours that raised."""
    lines = []
    for r in records:
        d_floor = REFERENCE_D if r["checker"] == "ours_reference" else FLOAT64_D
        if r["checker"] not in OURS or r["kind"] in (None, "float32"):
            continue
        if not _caught(r) and (r["d"] is None or r["d"] >= d_floor):
            lines.append(f"- {r['framework']} {r['rule']} seed {r['seed']}, {LABELS[r['checker']]}: {r['detail']} "
                         f"({r['status']})")
    return lines or ["(none)"]


def render(payload: dict[str, Any]) -> str:
    summary, records = payload["summary"], payload["records"]
    info = payload["machine"]
    lines = [f"## torch and JAX custom rules ({'quick' if payload['quick'] else 'full'} run)", "",
             f"Command: `{payload['command']}`; {info.get('date')}, {info.get('cpu')} ({info.get('cores')} cores), "
             f"Python {info.get('python')}, " + ", ".join(f"{k} {v}" for k, v in payload["versions"].items())
             + f"; run took {payload['seconds']:.0f} s.", "",
             f"Rules: {len(payload['config']['rules'])}; points per rule: {len(payload['config']['correct_seeds'])} "
             f"(correct), {len(payload['config']['mutation_seeds'])} (plants).", "",
             "### Targets", "",
             *_table(["framework", "target", "figure", "met"],
                     [[t["framework"], t["target"], t["figure"], "yes" if t["met"] else "**no**"]
                      for t in targets(summary)]),
             "### Summary", "", *summary_table(summary),
             "### Detection rate per plant and size d", "", *detection_table(summary),
             "### Cost per rule (correct rules, median over points)", "", *cost_table(records),
             "### False positives", "",
             *([f"- {fw} {LABELS[n]}: {case}" for fw, cs in summary.items() for n, s in cs.items()
                for case in s["false_positive_cases"]] or ["(none)"]), "",
             "### Formula plants ours missed (reference=: d >= 1e-9; no reference: d >= 1e-6; fixed kinds)", "",
             *misses(records)]
    return "\n".join(lines) + "\n"


# ---- main -----------------------------------------------------------------------------------------------------------

def _versions() -> dict[str, str]:
    from importlib import metadata

    out = {}
    for package in ("numpy", "mpmath", "torch", "jax", "jaxlib"):
        try:
            out[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            out[package] = "not installed"
    return out



def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="one point per rule, d in 1e-1, 1e-3, 1e-6, 1e-9, 1e-12")
    parser.add_argument("--rules", help=f"comma-separated rules (default: all of {', '.join(corpus.NAMES)})")
    parser.add_argument("--frameworks", help="comma-separated: torch, jax (default: those that import)")
    outputs.add_options(parser, DEFAULT_JSON, DEFAULT_MARKDOWN)
    return parser


def config_from(options: argparse.Namespace) -> Config:
    config = QUICK if options.quick else FULL
    rules = tuple(options.rules.split(",")) if options.rules else config.rules
    unknown = [r for r in rules if r not in corpus.RULES]
    if unknown:
        raise SystemExit(f"--rules: unknown rule(s) {', '.join(unknown)}")
    frameworks = tuple(options.frameworks.split(",")) if options.frameworks else available_frameworks()
    absent = [f for f in frameworks if f not in available_frameworks()]
    if absent or not frameworks:
        raise SystemExit(f"--frameworks: cannot run {', '.join(absent) or 'any framework'}; missing: "
                         f"{', '.join(missing())}")
    return Config(rules, frameworks, config.correct_seeds, config.mutation_seeds, config.sizes)


def main(argv: list[str] | None = None) -> dict[str, Any] | None:
    options = _parser().parse_args(argv)
    if options.render:
        payload = json.loads(Path(options.render).read_text())
        text = render(payload | {"summary": summarize(payload["records"])})  # the summary of this code
        outputs.publish(text, options)
        return None
    config = config_from(options)
    started = time.perf_counter()
    records = measure(config)
    arguments = " ".join(argv if argv is not None else sys.argv[1:])
    payload = {"benchmark": "frameworks", "quick": options.quick, "config": asdict(config),
               "command": f"python benchmarks/bench_frameworks.py {arguments}".strip(), "machine": _machine(),
               "versions": _versions(), "seconds": time.perf_counter() - started, "summary": summarize(records),
               "records": records}
    text = render(payload)
    outputs.publish(text, options, payload)
    return payload


def _machine() -> dict[str, Any]:
    import os
    import platform
    from datetime import date

    cpu = "unknown"
    if Path("/proc/cpuinfo").exists():
        models = [line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                  if line.startswith("model name")]
        cpu = models[0] if models else cpu
    return {"date": date.today().isoformat(), "cpu": cpu, "cores": os.cpu_count(), "python": platform.python_version()}


if __name__ == "__main__":
    main()

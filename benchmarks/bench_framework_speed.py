"""Passing framework checks: check_grad on torch and JAX custom rules against the frameworks' own checkers at
their defaults, median time side by side in the same run, warm and cold (issue 19: "median time of a passing
check at most torch's gradcheck's on the same function").

Command: `fwvenv/bin/python benchmarks/bench_framework_speed.py [--quick] [--no-cold] [--json [PATH]]
[--markdown [PATH]]` (about two minutes on 2 cores; `--quick` one torch case, a few seconds). Needs torch (and jax
for the JAX rows; either alone works).

- Cases: five correct rules of the corpus (framework_corpus.py: a torch.autograd.Function or a jax.custom_vjp,
  f a weighted sum over its output, at the corpus's first point): stable softplus, logsumexp over rows, a linear
  layer with a broadcast bias, GELU (erf), layer norm with its affine parameters.
- Checkers: `check_grad(f, args, raise_on_mismatch=False)` at its defaults (no reference=: the framework's float64
  forward is the reference, noise-aware), the same with `reference=` (a numpy forward, high precision),
  `torch.autograd.gradcheck(f, args)` at its defaults, `jax.test_util.check_grads(f, args, order=1,
  modes=("rev",))` (forward mode does not apply to a custom_vjp).
- Warm: after one untimed check of each kind, REPEATS checks of each, alternating; the median of each. Cold: the
  first check in a fresh interpreter (framework and pytest_gradcheck imported, not timed), one child per case
  and checker.
- Ratio: check_grad's median over the framework checker's, same case, same temperature.
"""

from __future__ import annotations

import argparse
import functools
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import framework_corpus  # noqa: E402 (benchmarks/ on the path first)
import outputs  # noqa: E402

DEFAULT_JSON = "reports/bench_framework_speed.json"  # reports/ is git-ignored
DEFAULT_MARKDOWN = "reports/bench_framework_speed.md"
REPEATS = 7
QUICK_REPEATS = 3
CASES = ("softplus", "logsumexp", "linear", "gelu_erf", "layer_norm")  # rules of benchmarks/framework_corpus.py


def available(module: str) -> bool:
    try:
        __import__(module)
    except ImportError:
        return False
    return True


# --- the cases: rules of the corpus at its first point -----------------------------------------------------

@functools.cache  # built once per process: a test module defines its Functions once, and jax caches by function
def case_problem(framework: str, case: str) -> Any:
    """framework_corpus's rule `case` as a `framework` op at seed 0: f (a weighted sum over the custom rule), its
    float64 arguments and the numpy reference of the same f."""
    if framework == "jax":
        import jax

        jax.config.update("jax_enable_x64", True)  # jax's own checker needs float64 to be fair
    problem = framework_corpus.make(case, framework, 0)
    return problem.f, problem.inputs(), problem.reference


# --- one check ------------------------------------------------------------------------------------------------

def run_one(framework: str, case: str, checker: str) -> dict[str, Any]:
    """One timed check: seconds, and check_grad's status, evaluations and mode."""
    f, args, numpy_reference = case_problem(framework, case)
    if checker.startswith("check_grad"):
        from pytest_gradcheck import check_grad

        reference = numpy_reference if checker == "check_grad_reference" else None
        started = time.perf_counter()
        result = check_grad(f, args, reference=reference, raise_on_mismatch=False)
        seconds = time.perf_counter() - started
        return {"seconds": seconds, "status": result.status, "evaluations": result.evaluations,
                "mode": result.mode, "backend": result.backend, "ops": len(result.ops)}
    started = time.perf_counter()
    if checker == "torch_gradcheck":
        import torch

        status = "pass" if torch.autograd.gradcheck(f, args, raise_exception=False) else "fail"
    else:
        from jax.test_util import check_grads

        try:
            check_grads(f, args, order=1, modes=("rev",))
            status = "pass"
        except AssertionError:
            status = "fail"
    return {"seconds": time.perf_counter() - started, "status": status}


def checkers_of(framework: str) -> tuple[str, ...]:
    native = "torch_gradcheck" if framework == "torch" else "jax_check_grads"
    return ("check_grad", "check_grad_reference", native)


def warm(framework: str, case: str, repeats: int) -> dict[str, Any]:
    """Medians in this process, after one untimed check of each kind, the checkers alternating."""
    kinds = checkers_of(framework)
    for kind in kinds:
        run_one(framework, case, kind)
    runs: dict[str, list[dict[str, Any]]] = {kind: [] for kind in kinds}
    for _ in range(repeats):
        for kind in kinds:
            runs[kind].append(run_one(framework, case, kind))
    return {kind: summary(done) for kind, done in runs.items()}


def summary(runs: list[dict[str, Any]]) -> dict[str, Any]:
    out = dict(runs[-1])
    out["seconds"] = statistics.median(r["seconds"] for r in runs)
    out["all_seconds"] = [r["seconds"] for r in runs]
    return out


def cold(framework: str, case: str) -> dict[str, Any]:
    """The first check in a fresh interpreter, per checker (imports not timed)."""
    out = {}
    for kind in checkers_of(framework):
        done = subprocess.run([sys.executable, __file__, "--child", framework, case, kind], capture_output=True,
                              text=True, timeout=600, check=True)
        out[kind] = json.loads(done.stdout.strip().splitlines()[-1])
    return out


def child(framework: str, case: str, kind: str) -> None:
    __import__(framework)
    import pytest_gradcheck  # noqa: F401  (imported before timing, as a test session would)

    if framework == "jax":
        import jax.test_util  # noqa: F401
    print(json.dumps(run_one(framework, case, kind)))


def ratios(rows: list[dict[str, Any]], temperature: str) -> dict[str, float]:
    """Median over cases of check_grad's time over the native checker's, per check_grad variant."""
    out = {}
    for kind in ("check_grad", "check_grad_reference"):
        values = [row[temperature][kind]["seconds"] / row[temperature][native(row)]["seconds"] for row in rows
                  if temperature in row]
        if values:
            out[kind] = statistics.median(values)
    return out


def native(row: dict[str, Any]) -> str:
    return checkers_of(row["framework"])[2]


def render(payload: dict[str, Any]) -> str:
    lines = ["| framework | case | temp | check_grad ms (mode, evals, ops) | with reference= ms | native ms | "
             "ratio | ratio ref |", "|---|---|---|---|---|---|---|---|"]
    for row in payload["rows"]:
        for temperature in ("warm", "cold"):
            if temperature not in row:
                continue
            cell = row[temperature]
            own, ref, nat = cell["check_grad"], cell["check_grad_reference"], cell[native(row)]
            lines.append(f"| {row['framework']} | {row['case']} | {temperature} | {1e3 * own['seconds']:.1f} "
                         f"({own['status']}, {own['mode']}, {own['evaluations']}, {own['ops']}) | "
                         f"{1e3 * ref['seconds']:.1f} ({ref['status']}) | {1e3 * nat['seconds']:.1f} "
                         f"({nat['status']}) | {own['seconds'] / nat['seconds']:.1f} | "
                         f"{ref['seconds'] / nat['seconds']:.1f} |")
    for temperature, values in payload["summary"].items():
        text = ", ".join(f"{k} {v:.2f}" for k, v in values.items())
        lines.append(f"\nmedian ratio ({temperature}): {text}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="one torch case, fewer repeats, no cold run")
    parser.add_argument("--cases", default=",".join(CASES))
    parser.add_argument("--frameworks", default="torch,jax")
    parser.add_argument("--no-cold", action="store_true")
    outputs.add_options(parser, DEFAULT_JSON, DEFAULT_MARKDOWN)
    parser.add_argument("--child", nargs=3, metavar=("FRAMEWORK", "CASE", "CHECKER"), help=argparse.SUPPRESS)
    options = parser.parse_args(argv)
    if options.child:
        child(*options.child)
        return 0
    if options.render:
        outputs.publish(render(json.loads(Path(options.render).read_text())), options)
        return 0
    frameworks = [name for name in options.frameworks.split(",") if available(name)]
    cases = options.cases.split(",")[:1] if options.quick else options.cases.split(",")
    if options.quick:
        frameworks = frameworks[:1]
    if not frameworks:
        print("neither torch nor jax is installed: nothing to measure")
        return 0
    rows = []
    for framework in frameworks:
        for case in cases:
            row = {"framework": framework, "case": case,
                   "warm": warm(framework, case, QUICK_REPEATS if options.quick else REPEATS)}
            if not (options.quick or options.no_cold):
                row["cold"] = cold(framework, case)
            rows.append(row)
    payload = {"rows": rows, "summary": {t: ratios(rows, t) for t in ("warm", "cold")
                                         if any(t in row for row in rows)}}
    outputs.publish(render(payload), options, payload)
    return 0


if __name__ == "__main__":
    sys.exit(main())

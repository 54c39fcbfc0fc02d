"""Detection and false positives of check_grad on gradients that only return float64.

Run: .venv/bin/python benchmarks/bench_float64_gradients.py [--quick] [--seeds N]

Every gradient of benchmarks/corpus.py (and of a few larger problems, up to 1000 elements) is wrapped so that it
rounds its inputs to float64 and returns float64 even on high-precision input, as library code with
`np.asarray(x, dtype=float)` or a compiled kernel does: check_grad then judges the formula in float64. Correct
gradients count false positives; `scale_one` (one element times 1 + d) and `scale_all` (every element) count
detections, in auto mode with per_op="off". The margin column is, over the correct gradients, the largest ratio
of the float64 gradient's actual error (against the same gradient at high precision) to the allowance that
check_grad's measured round-off grants it per element: below 1 means no element came near a false positive.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from typing import Any

import corpus
import mutations
import numpy as np

from pytest_gradcheck import check_grad, is_high_precision
from pytest_gradcheck.checker import verdict
from pytest_gradcheck.hp import array as hparray
from pytest_gradcheck.hp import precision

try:  # absent before tolerances were measured: the script then gives the "before" figures, without a margin
    from pytest_gradcheck.checker import gradient_noise
except ImportError:
    gradient_noise = None

SIZES = (1e-8, 1e-9, 1e-10)  # relative errors planted; the targets are stated at 1e-9 and 1e-10
KINDS = ("scale_one", "scale_all")
DIGITS = 40  # the checker's default precision, for the margin's high-precision gradient


def _large_quadratic(rng):
    return lambda x: np.sum(0.5 * x * x), lambda x: (x * 1.0,), (rng.standard_normal(1000),)


def _large_linear(rng):
    return corpus._linear(rng, samples=30, inputs=20, outputs=40)  # 20x40 + 40 = 840 elements


def _large_softplus(rng):
    c = rng.normal(size=500)
    return (lambda x: np.sum(c * corpus._softplus(x)), lambda x: (c * corpus._sigmoid(x),),
            (rng.normal(scale=10.0, size=500),))


def _large_logsumexp(rng):
    def f(x):
        m = np.max(x)
        return m + np.log(np.sum(np.exp(x - m)))

    def grad(x):
        e = np.exp(x - np.max(x))
        return (e / np.sum(e),)

    return f, grad, (rng.normal(scale=3.0, size=300),)


LARGE = {"quadratic_1000": _large_quadratic, "linear_840": _large_linear, "softplus_500": _large_softplus,
         "logsumexp_300": _large_logsumexp}


def problem(name: str, seed: int) -> corpus.Problem:
    if name in LARGE:
        f, grad, args = LARGE[name](np.random.default_rng(seed))
        return corpus.Problem(name, f, grad, tuple(np.asarray(a, dtype=np.float64) for a in args))
    return corpus.make(name, seed)


def float64_only(grad: Callable[..., Any]) -> Callable[..., tuple[np.ndarray, ...]]:
    """`grad` on the inputs rounded to float64, its output float64: what a validating cast or compiled code does."""
    def wrapped(*xs: Any, scale: float = 1.0) -> tuple[np.ndarray, ...]:  # a gradient: no cotangent to scale
        rounded = [precision.to_float64(x) if is_high_precision(x) else np.asarray(x) for x in xs]
        return tuple(np.asarray(g, dtype=np.float64) for g in mutations._as_list(grad(*rounded)))
    return wrapped


def margin(p: corpus.Problem) -> float:
    """Largest |g64 - g_exact| / allowance per element of the correct gradient (allowance as check_grad grants)."""
    ctx = precision.context(DIGITS)
    g64 = mutations._as_list(p.grad(*p.args))
    exact = mutations._as_list(p.grad(*(hparray.hp_view(precision.to_hp(x, ctx), ctx) for x in p.args)))
    noise = gradient_noise.measure(float64_only(p.grad), p.args, g64, np.random.default_rng([0, 1]))
    worst = 0.0
    for a, (g, e) in enumerate(zip(g64, exact, strict=True)):
        e64 = precision.to_float64(np.asarray(e, dtype=object))
        error = np.abs(np.asarray(np.asarray(g, dtype=object) - np.asarray(e, dtype=object), dtype=float))
        size = np.maximum(np.abs(e64), verdict.RELATIVE_FLOOR * verdict.scale_of(e64))
        allowance = gradient_noise.FLOOR_RTOL * size + noise.element_allowance(a)
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = np.where(error > 0, error / allowance, 0.0)
        worst = max(worst, float(np.max(ratio)) if ratio.size else 0.0)
    return worst


def run(names: list[str], seeds: range, progress: Callable[[str], None]) -> dict[str, Any]:
    rows: dict[Any, list[bool]] = {}
    false_positives, correct, margins, misses = 0, 0, [], []
    for name in names:
        for seed in seeds:
            p = problem(name, seed)
            result = check_grad(p.f, p.args, grad=float64_only(p.grad), per_op="off", raise_on_mismatch=False)
            correct += 1
            if not result.ok:
                false_positives += 1
                misses.append(f"false positive: {name} seed {seed}: {result.status}")
            margins.append(margin(p) if gradient_noise is not None else float("nan"))
            for kind in KINDS:
                for d in SIZES:
                    m = mutations.mutate(kind, d, p.grad, p.args, seed)
                    flagged = not check_grad(p.f, p.args, grad=float64_only(m.grad), per_op="off",
                                             raise_on_mismatch=False).ok
                    rows.setdefault((kind, d), []).append(flagged)
                    rows.setdefault(("larger" if name in LARGE else "corpus", kind, d), []).append(flagged)
                    if not flagged:
                        misses.append(f"missed: {name} seed {seed} {kind} d={d:g}")
        progress(f"  {name}: done")
    return {"rows": rows, "false_positives": false_positives, "correct": correct, "margin": max(margins),
            "misses": misses}


def render(summary: dict[str, Any], seconds: float, command: str) -> str:
    lines = [f"Command: `{command}`; run took {seconds:.0f} s.", "",
             f"False positives on correct float64-only gradients: {summary['false_positives']} of "
             f"{summary['correct']}; largest actual error / allowance per element: {summary['margin']:.2g}", "",
             "| mutation | " + " | ".join(f"d = {d:g}" for d in SIZES) + " |", "|---|" + "---|" * len(SIZES)]
    for kind in KINDS:
        for group in (None, "corpus", "larger"):
            cells = []
            for d in SIZES:
                flags = summary["rows"].get((kind, d) if group is None else (group, kind, d))
                if not flags:
                    break
                cells.append(f"{100 * sum(flags) / len(flags):.1f}% ({sum(flags)}/{len(flags)})")
            if len(cells) < len(SIZES):
                continue
            label = kind if group is None else f"{kind}, " + (
                "benchmarks/corpus.py (2-84 elements)" if group == "corpus" else "larger problems (300-1000 elements)")
            lines.append(f"| {label} | " + " | ".join(cells) + " |")
    return "\n".join([*lines, "", *(f"- {m}" for m in summary["misses"])])


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=3, help="random points per problem (default 3)")
    parser.add_argument("--quick", action="store_true", help="the larger problems only, one point each")
    options = parser.parse_args(argv)
    names = list(LARGE) if options.quick else [*corpus.NAMES, *LARGE]
    seeds = range(1 if options.quick else options.seeds)
    started = time.perf_counter()
    summary = run(names, seeds, lambda message: print(message, file=sys.stderr, flush=True))
    command = "python benchmarks/bench_float64_gradients.py" + (" --quick" if options.quick else
                                                                f" --seeds {options.seeds}")
    print(render(summary, time.perf_counter() - started, command))


if __name__ == "__main__":
    main()

"""Median wall time and evaluations per check on the benchmark corpus (14 functions x 3 seeds), per mode, and
torch.autograd.gradcheck's default (full) check on the same cases when torch is installed.

Command: `.venv/bin/python benchmarks/bench_check_speed.py [OUT.json]` (about 30 s). Each check is timed best of
REPEATS, with `per_op="off"`. torch's check (float64, its defaults) is timed the same way in the same run, case by
case, just before each mode's check of the same case (a slow spell of the machine hits both), and each mode's
time is given as a ratio to it: the ratio of the medians, and the median of the per-case ratios. Compare two
commits by running this in each, one after the other, on a quiet machine.

These are not the figures users get: per-op off, warm caches and the best of 3 flatter the check. For default
settings, first checks in fresh processes and failing checks, see bench_user_speed.py.
"""

import json
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import checkers
import corpus

from pytest_gradcheck import check_grad

REPEATS = 3


def _best(run):
    best, outcome = None, None
    for _ in range(REPEATS):
        started = time.perf_counter()
        outcome = run()
        elapsed = time.perf_counter() - started
        best = elapsed if best is None else min(best, elapsed)
    return best, outcome


def main() -> None:
    cases = [corpus.make(name, seed) for name in corpus.NAMES for seed in range(3)]
    torch_check = checkers.TORCH[0].run if checkers.installed("torch") else None
    if torch_check is not None:
        torch_check(cases[0].f, cases[0].args, cases[0].grad)  # first-call set-up stays out of the timings
    out = {}
    for mode in ("auto", "fast", "full"):
        times, evals, statuses, torch_times = [], [], [], []
        for p in cases:
            if torch_check is not None:
                torch_times.append(_best(lambda p=p: torch_check(p.f, p.args, p.grad))[0])
            best, result = _best(lambda p=p, mode=mode: check_grad(p.f, p.args, grad=p.grad, per_op="off",
                                                                   mode=mode, raise_on_mismatch=False))
            times.append(best)
            evals.append(result.evaluations)
            statuses.append(result.status)
        out[mode] = {"median_s": statistics.median(times), "total_s": sum(times),
                     "median_evals": statistics.median(evals), "total_evals": sum(evals),
                     "not_pass": sum(s != "pass" for s in statuses)}
        if torch_times:
            out[mode]["torch_median_s"] = statistics.median(torch_times)
            out[mode]["median_vs_torch"] = statistics.median(times) / statistics.median(torch_times)
            out[mode]["median_of_case_ratios"] = statistics.median(
                t / u for t, u in zip(times, torch_times, strict=True))
        print(mode, out[mode])
    if len(sys.argv) > 1:
        Path(sys.argv[1]).write_text(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()

"""Median wall time and evaluations per check on the benchmark corpus (14 functions x 3 seeds), per mode.

Command: `.venv/bin/python benchmarks/bench_check_speed.py [OUT.json]` (about 10 s). Each check is timed best of
2, with `per_op="off"`; compare two commits by running this in each, one after the other, on a quiet machine.
"""

import json
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import corpus

from pytest_gradcheck import check_grad


def main() -> None:
    out = {}
    for mode in ("auto", "fast", "full"):
        times, evals, statuses = [], [], []
        for name in corpus.NAMES:
            for seed in range(3):
                p = corpus.make(name, seed)
                best, result = None, None
                for _ in range(2):
                    started = time.perf_counter()
                    result = check_grad(p.f, p.args, grad=p.grad, per_op="off", mode=mode, raise_on_mismatch=False)
                    elapsed = time.perf_counter() - started
                    best = elapsed if best is None else min(best, elapsed)
                times.append(best)
                evals.append(result.evaluations)
                statuses.append(result.status)
        out[mode] = {"median_s": statistics.median(times), "total_s": sum(times),
                     "median_evals": statistics.median(evals), "total_evals": sum(evals),
                     "not_pass": sum(s != "pass" for s in statuses)}
        print(mode, out[mode])
    if len(sys.argv) > 1:
        Path(sys.argv[1]).write_text(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()

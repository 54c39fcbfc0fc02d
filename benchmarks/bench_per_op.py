"""Cost of the per-op pass as a ratio to one whole-function check, on the 3-layer network, and what a passing
check costs with the default per_op="auto" (which skips the pass when the whole-function check passes).

Run: .venv/bin/python benchmarks/bench_per_op.py  (prints a table and JSON; best of 3 per figure)
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "examples"))

from three_layer_net import loss, make_problem

from pytest_gradcheck import check_grad

SIZES = ((3, 5, 2), (6, 10, 4), (12, 20, 6))  # (n_in, n_hidden, n_out): 25 to 360 weights
REPEATS = 3  # best of three: the least disturbed run


def _timed(f, args, mode, per_op=None):
    """Best of REPEATS; per_op None: check_grad's default."""
    best, result = float("inf"), None
    options = {} if per_op is None else {"per_op": per_op}
    for _ in range(REPEATS):
        start = time.perf_counter()
        result = check_grad(f, args, mode=mode, **options)
        best = min(best, time.perf_counter() - start)
    return best, result


def main() -> None:
    rows = []
    for n_in, n_hidden, n_out in SIZES:
        w1, w2, x, t = make_problem(0, batch=4, n_in=n_in, n_hidden=n_hidden, n_out=n_out)
        f = lambda w1, w2, x=x, t=t: loss(w1, w2, x, t)  # noqa: E731
        for mode in ("auto", "full", "fast"):
            whole, whole_result = _timed(f, (w1, w2), mode, "off")
            both, both_result = _timed(f, (w1, w2), mode, "always")
            default, default_result = _timed(f, (w1, w2), mode)
            assert whole_result.ok and not default_result.ops  # a passing check: "auto" checks no op
            rows.append({"weights": w1.size + w2.size, "mode": mode, "ops": len(both_result.ops),
                         "whole_seconds": whole, "per_op_seconds": both - whole,
                         "ratio": (both - whole) / whole, "whole_evaluations": whole_result.evaluations,
                         "default_seconds": default})
    print(f"{'weights':>8} {'mode':>5} {'ops':>4} {'whole s':>9} {'per-op s':>9} {'per-op / whole':>15} "
          f"{'default s':>10}")
    for r in rows:
        print(f"{r['weights']:>8} {r['mode']:>5} {r['ops']:>4} {r['whole_seconds']:>9.3f} "
              f"{r['per_op_seconds']:>9.3f} {r['ratio']:>14.2f}x {r['default_seconds']:>10.3f}")
    print(json.dumps({"benchmark": "per_op_cost", "rows": rows}))


if __name__ == "__main__":
    main()

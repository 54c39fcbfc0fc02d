"""Time a representative high-precision workload with mpmath's gmpy2 backend and its pure-Python backend.

Run: ``python benchmarks/bench_gmpy2.py``. This process uses whichever backend mpmath picked (gmpy2 when it
is installed); a subprocess with ``MPMATH_NOGMPY=1`` times the same workload on pure Python. Both timings
and the speed-up come from the same run; the last line is the same data as JSON.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import timeit

import mpmath
import numpy as np

from pytest_gradcheck.hp.precision import DEFAULT_DIGITS, context, to_hp

SIZE = 50  # a 50x50 matrix: 2,500 elements per ufunc, 125,000 multiply-adds per matmul
REPEATS = 5  # best of 5 runs filters out scheduler noise without making the script slow
SEED = 0  # fixed inputs, so both backends time the same numbers
CHILD_FLAG = "--child"


def workload() -> dict[str, float]:
    """Best-of-REPEATS seconds for each operation on a SIZE x SIZE array at DEFAULT_DIGITS digits."""
    ctx = context(DEFAULT_DIGITS)
    a = to_hp(np.random.default_rng(SEED).normal(size=(SIZE, SIZE)), ctx) / 3  # full mantissas, like x +- h
    operations = {"tanh": lambda: np.tanh(a), "matmul": lambda: a @ a, "sum": lambda: a.sum()}
    seconds = {name: min(timeit.repeat(op, number=1, repeat=REPEATS)) for name, op in operations.items()}
    seconds["total"] = sum(seconds.values())
    return seconds


def measure() -> dict[str, object]:
    return {"backend": mpmath.libmp.BACKEND, "seconds": workload()}


def measure_pure_python() -> dict[str, object]:
    """The same measurement in a subprocess where mpmath must not use gmpy2."""
    env = {**os.environ, "MPMATH_NOGMPY": "1"}
    done = subprocess.run([sys.executable, __file__, CHILD_FLAG], env=env, capture_output=True, text=True, check=True)
    return json.loads(done.stdout)


def main() -> None:
    if CHILD_FLAG in sys.argv:
        print(json.dumps(measure()))
        return
    fast, slow = measure(), measure_pure_python()
    speedup = {name: slow["seconds"][name] / fast["seconds"][name] for name in fast["seconds"]}
    print(f"{SIZE}x{SIZE} object array, {DEFAULT_DIGITS} digits, best of {REPEATS}")
    print(f"{'op':8} {fast['backend'] + ' s':>12} {slow['backend'] + ' s':>12} {'speed-up':>9}")
    for name in fast["seconds"]:
        print(f"{name:8} {fast['seconds'][name]:12.4f} {slow['seconds'][name]:12.4f} {speedup[name]:8.2f}x")
    print(json.dumps({"size": SIZE, "digits": DEFAULT_DIGITS, "this_process": fast, "pure_python": slow,
                      "speedup": speedup}))  # fmt: skip


if __name__ == "__main__":
    main()

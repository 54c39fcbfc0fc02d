"""Wall time and evaluations against input size, on a cheap elementwise + sum function.

Each checker runs in a child process of its own that goes through the sizes in increasing order and reports
each as it finishes. A size whose predicted time (the previous size's time times the growth of the checker's
cost) exceeds the cap is skipped; a size still running at the cap is stopped (the child is terminated) and
recorded as such, and no larger size is tried.
"""

from __future__ import annotations

import multiprocessing
import queue
import time
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

# Checkers timed against size: (name, how their cost grows with the size n, as a power of n). Full modes take
# one directional derivative per element, each an evaluation of f of size n: n^2. Fast modes (and auto's screen)
# take a fixed number of derivatives: n. None: never skipped on a prediction, since the check keeps to its own
# wall-time budget (check_grad's defaults, max_seconds included); the cap still stops it.
SCALED = (("check_grad_full", 2), ("check_grad_fast", 1), ("check_grad_auto", 1), ("check_grad_fast_per_op", 1),
          ("check_grad_default", None), ("torch_full", 2), ("torch_fast", 1), ("numdifftools", 2))
STARTUP_SECONDS = 60  # a child's imports and warm-up (torch takes a few seconds), on top of the cap
POLL_SECONDS = 1.0  # how often the parent looks whether a silent child has died


def f(x):
    return np.sum(x * np.tanh(x))


def grad(x):
    t = np.tanh(x)
    return (t + x * (1 - t**2),)


def _runner(name: str) -> Callable[..., Any]:
    import checkers

    if name == "check_grad_fast_per_op":
        return checkers.check_grad_runner("fast", "always")
    if name == "check_grad_default":
        return checkers.check_grad_default
    return {c.name: c.run for c in checkers.CHECK_GRAD + checkers.TORCH + checkers.NUMDIFFTOOLS}[name]


def _child(name: str, growth: int | None, sizes: Sequence[int], cap: float, out: Any) -> None:
    """In the child: warm up, then each size in turn; one message per size."""
    run = _runner(name)
    run(f, (np.linspace(-1, 1, 4),), grad)  # warm-up, untimed
    previous = None
    for n in sizes:
        if growth is not None and previous is not None and previous[1] * (n / previous[0]) ** growth > cap:
            predicted = previous[1] * (n / previous[0]) ** growth
            out.put({"size": n, "state": "skipped", "note": f"predicted {predicted:.0f} s > cap {cap:.0f} s"})
            continue
        x = np.random.default_rng(n).normal(size=n)
        outcome = run(f, (x,), grad)
        row = {"size": n, "state": "done", "seconds": outcome.seconds, "evaluations": outcome.evaluations,
               "status": outcome.status}
        if outcome.high_precision is not None:
            row |= {"high_precision": outcome.high_precision, "backend": outcome.backend}
        out.put(row)
        previous = (n, outcome.seconds)


def _next(out: Any, child: Any, wait: float) -> dict[str, Any] | None:
    """The child's next message, or None if it has not come within `wait` seconds or the child died."""
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        try:
            return out.get(timeout=POLL_SECONDS)
        except queue.Empty:
            if not child.is_alive():
                return None
    return None


def _collect(name: str, growth: int | None, sizes: Sequence[int], cap: float) -> list[dict[str, Any]]:
    context = multiprocessing.get_context("spawn")  # a fresh interpreter: no torch threads inherited by a fork
    out = context.Queue()
    child = context.Process(target=_child, args=(name, growth, sizes, cap, out), daemon=True)
    child.start()
    rows, wait = [], cap + STARTUP_SECONDS
    try:
        for n in sizes:
            row = _next(out, child, wait)
            if row is None:
                note = f"stopped at the cap of {cap:.0f} s" if child.is_alive() else f"child exited ({child.exitcode})"
                rows.append({"size": n, "state": "stopped", "note": note})
                break
            rows.append(row)
            wait = cap
    finally:
        if child.is_alive():
            child.terminate()
        child.join()
    return [{"checker": name, **row} for row in rows]


def run(names: Sequence[str], sizes: Sequence[int], cap: float, progress: Callable[[str], None]) -> list[Any]:
    rows = []
    for name, growth in SCALED:
        if name in names:
            started = time.perf_counter()
            rows += _collect(name, growth, sizes, cap)
            progress(f"  scaling {name}: {time.perf_counter() - started:.0f} s")
    return rows


def per_op_ratios(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per size: the per-op pass (fast + per-op, minus fast) as a ratio to whole-function fast and full checks."""
    done = {(r["checker"], r["size"]): r["seconds"] for r in rows if r["state"] == "done"}
    out = []
    for n in sorted({r["size"] for r in rows}):
        fast, both, full = (done.get((c, n)) for c in ("check_grad_fast", "check_grad_fast_per_op", "check_grad_full"))
        if fast is None or both is None:
            continue
        per_op = max(both - fast, 0.0)
        out.append({"size": n, "per_op_seconds": per_op, "vs_fast": per_op / fast,
                    "vs_full": per_op / full if full else None})
    return out

"""autodiff_ref's own cost: a first-order gradient of the 3-layer network, and check_grad with the engine's
gradient, in this tree and (optionally) in other checkouts, alternating in one run so that a slow spell of the
machine hits every tree alike.

Command: `.venv/bin/python benchmarks/bench_engine.py [--tree PATH ...] [--rounds N]`. Each tree runs in a fresh
interpreter with PYTHONPATH set to it, once per round; a round times `autodiff_ref.grad` of the network
(8-16-16-4 on 32 rows, tanh, L2 loss: min and median of 200 calls, after one warm-up) and `check_grad` of
sum(tanh(x)^2) on 6 inputs with the engine's gradient (min and median of 50). The figures are the median over
rounds of each tree's min and median; ratios are against the first tree (this one).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

CHILD = r"""
import json, statistics, time
import numpy as np
import autodiff_ref
from pytest_gradcheck import check_grad

rng = np.random.default_rng(0)
W1, W2, W3 = rng.normal(size=(8, 16)), rng.normal(size=(16, 16)), rng.normal(size=(16, 4))
X, T = rng.normal(size=(32, 8)), rng.normal(size=(32, 4))

def net(W1, W2, W3):
    h = np.tanh(X @ W1)
    h = np.tanh(h @ W2)
    return np.sum((h @ W3 - T) ** 2) / 2

def timed(fn, n):
    fn()
    times = []
    for _ in range(n):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times), statistics.median(times)

gradient = autodiff_ref.grad(net, (0, 1, 2))
x = np.linspace(-1, 1, 6)
loss = lambda x: np.sum(np.tanh(x) ** 2)
print(json.dumps({"grad": timed(lambda: gradient(W1, W2, W3), 200),
                  "check_grad": timed(lambda: check_grad(loss, (x,)), 50)}))
"""


def run_tree(tree: Path) -> dict[str, list[float]]:
    env = dict(os.environ, PYTHONPATH=str(tree))
    done = subprocess.run([sys.executable, "-c", CHILD], env=env, capture_output=True, text=True, check=True,
                          cwd=tree)
    return json.loads(done.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> dict[str, dict[str, dict[str, float]]]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tree", action="append", default=[], help="another checkout to compare")
    parser.add_argument("--rounds", type=int, default=3)
    options = parser.parse_args(argv)
    trees = [ROOT, *(Path(t).resolve() for t in options.tree)]
    rounds: dict[Path, list[dict[str, list[float]]]] = {t: [] for t in trees}
    for _ in range(options.rounds):
        for tree in trees:
            rounds[tree].append(run_tree(tree))
    summary = {str(t): {what: {"min": statistics.median(r[what][0] for r in runs),
                               "median": statistics.median(r[what][1] for r in runs)}
                        for what in ("grad", "check_grad")} for t, runs in rounds.items()}
    first = summary[str(ROOT)]
    for tree, figures in summary.items():
        cells = [f"{what} min {1e3 * f['min']:.3f} ms, median {1e3 * f['median']:.3f} ms "
                 f"({f['min'] / first[what]['min']:.2f}x)" for what, f in figures.items()]
        print(f"{tree}: " + "; ".join(cells))
    return summary


if __name__ == "__main__":
    main()

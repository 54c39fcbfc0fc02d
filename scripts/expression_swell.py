"""Expression swell: the written-out symbolic derivative of a deeper and deeper network against autodiff_ref's tape.

The network has `depth` layers of WIDTH sigmoid units, h_k = 1 / (1 + exp(-W_k h_(k-1))), and its value is the
sum of the last layer's units. For each depth the script counts
- the nodes autodiff_ref records on its tape for one forward pass (leaves included; the reverse pass visits
  each node once, so this is the size of the work for the gradient with respect to *every* weight);
- sympy's operation count (`sympy.count_ops`) of f and of df/dw for w the first weight of the first layer,
  both as expression trees: a subexpression that occurs twice is written out, and counted, twice, as it is in a
  printed formula;
- the same derivative after common-subexpression elimination (`sympy.cse`), which shares repeated
  subexpressions the way the tape shares intermediate values.

Run: `.venv/bin/python scripts/expression_swell.py [--depth N]` (needs sympy: `pip install -e '.[docs]'`);
it prints the Markdown table that docs/theory.md shows.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from typing import Any

import numpy as np

import autodiff_ref

WIDTH = 2  # two units per layer: already enough for every unit to repeat the whole layer below it
DEFAULT_DEPTH = 6  # depth 6 takes well under a second in sympy; the tree has grown 500-fold by then
HEADER = ("depth", "tape nodes (autodiff_ref)", "f as a tree (sympy ops)", "df/dw as a tree (sympy ops)",
          "df/dw with shared subexpressions (ops after sympy.cse)")


def network(weights: Sequence[Any], x: Any) -> Any:
    """The network in plain numpy: h_k = sigmoid(W_k h_(k-1)) with h_0 = x; the value is sum(h_depth)."""
    h = x
    for w in weights:
        h = 1 / (1 + np.exp(-(w @ h)))
    return np.sum(h)


def example_point(depth: int, seed: int = 0) -> tuple[list[np.ndarray], np.ndarray]:
    """Seeded weights (depth matrices WIDTH x WIDTH) and an input vector of WIDTH elements."""
    rng = np.random.default_rng(seed)
    return [rng.normal(size=(WIDTH, WIDTH)) for _ in range(depth)], rng.normal(size=WIDTH)


def tape_nodes(depth: int) -> int:
    """The number of nodes autodiff_ref records for one forward pass of the network (leaves included)."""
    weights, x = example_point(depth)
    recording = autodiff_ref.record(lambda *ws: network(ws, x), weights, argnums=tuple(range(depth)))
    return len(recording.nodes)


def symbolic_network(depth: int) -> tuple[Any, list[Any], list[Any]]:
    """The same network in sympy: (f, the weight matrices, the input symbols)."""
    import sympy

    x = list(sympy.symbols(f"x0:{WIDTH}"))
    weights = [sympy.Matrix(WIDTH, WIDTH, sympy.symbols(f"w{k}_0:{WIDTH * WIDTH}")) for k in range(depth)]
    h = sympy.Matrix(x)
    for w in weights:
        h = (w * h).applyfunc(lambda z: 1 / (1 + sympy.exp(-z)))
    return sum(h), weights, x


def symbolic_sizes(depth: int) -> tuple[int, int, int]:
    """Operation counts of f and of df/dw (w: the first weight of the first layer), as trees and after cse."""
    import sympy

    f, weights, _ = symbolic_network(depth)
    derivative = sympy.diff(f, weights[0][0, 0])
    replacements, reduced = sympy.cse(derivative)
    shared = sum(sympy.count_ops(e) for _, e in replacements) + sympy.count_ops(reduced[0])
    return sympy.count_ops(f), sympy.count_ops(derivative), shared


def rows(max_depth: int) -> list[tuple[int, ...]]:
    """One row per depth 1..max_depth: depth, tape nodes, then the three sympy counts."""
    return [(depth, tape_nodes(depth), *symbolic_sizes(depth)) for depth in range(1, max_depth + 1)]


def markdown_table(table: Sequence[Sequence[int]]) -> str:
    lines = ["| " + " | ".join(HEADER) + " |", "|" + "---|" * len(HEADER)]
    lines += ["| " + " | ".join(str(v) for v in row) + " |" for row in table]
    return "\n".join(lines) + "\n"


def _depth(text: str) -> int:
    value = int(text)
    if not 1 <= value <= 10:
        raise argparse.ArgumentTypeError(f"expected an integer from 1 to 10 (sympy slows down fast), got {value}")
    return value


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Print the expression-swell table (Markdown) of docs/theory.md.")
    parser.add_argument("--depth", type=_depth, default=DEFAULT_DEPTH, help=f"largest depth (default: {DEFAULT_DEPTH})")
    args = parser.parse_args(argv)
    print(markdown_table(rows(args.depth)), end="")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

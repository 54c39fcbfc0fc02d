"""scripts/expression_swell.py and the table docs/theory.md shows from it.

The tape column is checked everywhere; the sympy columns, the whole table, and that the sympy network is the
numpy one, where sympy is installed (the `docs` extra).
"""

import importlib.util
import itertools
import re
from pathlib import Path

import numpy as np
import pytest

import autodiff_ref

ROOT = Path(__file__).resolve().parents[2]
THEORY = ROOT / "docs" / "theory.md"
# sympy 1.14 calls mpmath's bitcount, which mpmath 1.4 deprecates (sympy pins mpmath < 1.4; the docs extra
# installs it next to 1.4 with --no-deps): harmless here, and not this project's warning to fix.
SYMPY_ON_MPMATH_14 = pytest.mark.filterwarnings("ignore:bitcount function is deprecated:DeprecationWarning")


def _load_script():
    spec = importlib.util.spec_from_file_location("expression_swell", ROOT / "scripts" / "expression_swell.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


swell = _load_script()


def _docs_table() -> str:
    text = THEORY.read_text()
    match = re.search(r"<!-- expression-swell:start -->\n(.*?)<!-- expression-swell:end -->", text, flags=re.S)
    assert match, "docs/theory.md lost the expression-swell markers"
    return match[1]


def _docs_rows() -> list[list[int]]:
    return [[int(cell) for cell in line.strip("|").split("|")] for line in _docs_table().splitlines()[2:]]


def test_tape_grows_by_the_same_number_of_nodes_per_layer():
    sizes = [swell.tape_nodes(depth) for depth in range(1, 7)]
    steps = {b - a for a, b in itertools.pairwise(sizes)}
    assert steps == {6}  # the layer's weights, a matmul and the sigmoid's four ops: negative, exp, add, divide
    assert sizes[0] == 1 + 6  # and the final sum


def test_tape_records_the_ops_of_each_layer():
    weights, x = swell.example_point(2)
    recording = autodiff_ref.record(lambda *ws: swell.network(ws, x), weights, argnums=(0, 1))
    names = [node.name for node in recording.nodes]
    assert names == ["input", "input", "matmul", "negative", "exp", "add", "divide",
                     "matmul", "negative", "exp", "add", "divide", "sum"]


def test_docs_table_has_the_tape_column_of_the_script():
    rows = _docs_rows()
    assert [row[0] for row in rows] == list(range(1, swell.DEFAULT_DEPTH + 1))
    assert [row[1] for row in rows] == [swell.tape_nodes(depth) for depth in range(1, swell.DEFAULT_DEPTH + 1)]


def test_docs_table_shows_symbolic_growth_faster_than_the_tape():
    rows = _docs_rows()
    for before, after in itertools.pairwise(rows):
        assert after[3] / before[3] > 2 * after[1] / before[1]  # the tree at least doubles faster than the tape
    assert rows[-1][3] > 100 * rows[-1][1]
    shared = [row[4] for row in rows]
    assert max(b - a for a, b in itertools.pairwise(shared)) < 40  # cse: linear, like the tape


def test_bad_depth_is_refused_with_the_range(capsys):
    with pytest.raises(SystemExit) as stop:
        swell.main(["--depth", "0"])
    assert stop.value.code == 2 and "expected an integer from 1 to 10" in capsys.readouterr().err


@SYMPY_ON_MPMATH_14
def test_docs_table_is_the_script_output():
    pytest.importorskip("sympy")
    assert swell.markdown_table(swell.rows(swell.DEFAULT_DEPTH)) == _docs_table()


@SYMPY_ON_MPMATH_14
def test_symbolic_network_is_the_numpy_network():
    """Same value and same derivative with respect to the first weight, at a seeded point."""
    sympy = pytest.importorskip("sympy")
    depth = 3
    f, weight_symbols, x_symbols = swell.symbolic_network(depth)
    weights, x = swell.example_point(depth)
    values = {s: v for matrix, w in zip(weight_symbols, weights, strict=True) for s, v in zip(matrix, w.ravel(),
                                                                                             strict=True)}
    values.update(zip(x_symbols, x, strict=True))
    derivative = sympy.diff(f, weight_symbols[0][0, 0])
    numeric = autodiff_ref.grad(lambda *ws: swell.network(ws, x), argnums=tuple(range(depth)))(*weights)
    assert float(f.subs(values)) == pytest.approx(float(swell.network(weights, x)), rel=1e-14)
    assert float(derivative.subs(values)) == pytest.approx(float(numeric[0][0, 0]), rel=1e-12)
    assert np.any(numeric[0] != 0)

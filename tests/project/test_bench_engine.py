"""benchmarks/bench_engine.py runs a tree in a fresh interpreter and reports its figures against the first tree."""

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "benchmarks"))

import bench_engine  # noqa: E402


def test_one_round_of_this_tree_against_itself(capsys):
    summary = bench_engine.main(["--rounds", "1", "--tree", str(ROOT)])
    figures = summary[str(ROOT)]
    for what in ("grad", "check_grad"):
        assert 0 < figures[what]["min"] <= figures[what]["median"] < 5
    assert "(1.00x)" in capsys.readouterr().out

"""--gradcheck-plots and the marker's plots= in real pytest sessions: pictures, report entries, Markdown links."""

import json
import os
import re
import sys

import pytest

TESTS = """
import numpy as np
import pytest

def loss(w):
    return np.sum(np.tanh(w) ** 2)

def wrong(w):
    t = np.tanh(w)
    return 2 * t * (1 - t**2) * 1.0001

W = np.linspace(-1.0, 1.0, 4)

def test_bad(gradcheck):
    gradcheck(loss, W, grad=wrong)

def test_good(gradcheck):
    gradcheck(loss, W)

@pytest.mark.gradcheck(plots="marked")
def test_marked(gradcheck):
    gradcheck(loss, W + 0.5, grad=wrong)
"""


def _png(path):
    data = path.read_bytes()
    return data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 10_000


def test_command_line_option_draws_failing_checks_and_the_summary_links_them(pytester):
    pytester.makepyfile(test_model=TESTS)
    result = pytester.runpytest("--gradcheck-plots=pics", "--gradcheck-report=out/r.json",
                                "--gradcheck-markdown=out/summary.md", "-p", "no:randomly")
    result.assert_outcomes(passed=1, failed=2)
    pics = sorted(p.name for p in (pytester.path / "pics").iterdir())
    assert len(pics) == 2 and all(name.startswith("test_model.py_test_bad--loss-") for name in pics)
    assert all(_png(pytester.path / "pics" / name) for name in pics)
    marked = sorted(p.name for p in (pytester.path / "marked").iterdir())  # the mark beats the command line
    assert len(marked) == 2 and all("test_marked--loss-" in name for name in marked)
    result.stdout.fnmatch_lines(["*picture: pics*test_bad--loss-*.sweep.png"])  # in the failure message
    checks = {rec["test"].rsplit("::", 1)[1]: rec for rec in json.loads((pytester.path / "out/r.json").read_text())
              ["checks"]}
    assert [os.path.basename(p) for p in checks["test_bad"]["plots"]] == [
        n for n in pics if n.endswith(".sweep.png")] + [n for n in pics if n.endswith(".ops.png")]
    assert "plots" not in checks["test_good"]
    summary = (pytester.path / "out/summary.md").read_text()
    links = re.findall(r"\]\(([^)]+\.png)\)", summary)
    assert len(links) == 4 and {os.path.basename(link) for link in links} == set(pics) | set(marked)
    for link in links:  # relative to the summary's folder, and they resolve
        assert link.startswith("../") and (pytester.path / "out" / link).resolve().is_file()


def test_ini_setting_works_and_passing_runs_draw_nothing(pytester):
    pytester.makeini("[pytest]\ngradcheck_plots = from_ini\n")
    pytester.makepyfile(test_model=TESTS)
    pytester.runpytest("-k", "good").assert_outcomes(passed=1, deselected=2)
    assert not (pytester.path / "from_ini").exists()
    pytester.runpytest("-k", "bad").assert_outcomes(failed=1, deselected=2)
    assert len(list((pytester.path / "from_ini").iterdir())) == 2


def test_a_file_as_plots_directory_stops_the_run(pytester):
    pytester.makefile(".txt", taken="a file")
    result = pytester.runpytest("--gradcheck-plots=taken.txt")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert "command line: plots: expected a directory, but 'taken.txt' is an existing file" in result.stderr.str()


def test_without_matplotlib_the_option_says_how_to_install_it(pytester, monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    result = pytester.runpytest_inprocess("--gradcheck-plots=pics")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert "plots: drawing pictures needs matplotlib" in result.stderr.str()
    assert "pip install 'pytest-gradcheck[plot]'" in result.stderr.str()

"""CI conventions in real pytest sessions: the GitHub Actions step summary and pytest-html's per-test extras."""

import html
import json
import os
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

MODEL = """
import numpy as np
import pytest
import autodiff_ref

@autodiff_ref.primitive(elementwise=True)
def bad_sigmoid(z):
    return 1 / (1 + np.exp(-z))

bad_sigmoid.defvjp(lambda s, z: lambda g: g * s)  # wrong: s * (1 - s)

W = np.linspace(-1.0, 1.0, 4)

def good(w):
    return np.sum(np.tanh(w) ** 2)

def bad(w):
    return np.sum(bad_sigmoid(w) ** 2)
"""

TESTS = """
def test_good(gradcheck):
    gradcheck(good, W)

def test_bad(gradcheck):
    gradcheck(bad, W)

def test_plain():
    pass
"""
EARLIER = "### Coverage\n\nwritten by an earlier tool of the same step\n"  # what another writer left there


@pytest.fixture
def summary(pytester, monkeypatch):
    """GITHUB_STEP_SUMMARY set, as on GitHub Actions, to a file another tool of the step already wrote to."""
    path = pytester.path / "runner" / "step_summary.md"
    path.parent.mkdir()
    path.write_text(EARLIER)
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(path))
    return path


def _subprocess_imports_this_code(monkeypatch):
    """A subprocess run (xdist) imports the package from this source tree, not an installed copy."""
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))


def test_step_summary_is_appended_after_what_is_there(pytester, summary):
    pytester.makepyfile(test_model=MODEL + TESTS)
    result = pytester.runpytest()
    result.assert_outcomes(passed=2, failed=1)
    text = summary.read_text()
    assert text.startswith(EARLIER + "\n## Gradient checks: 1 ok, 1 failing\n"), text
    assert "2 checks: 1 pass, 1 formula_error." in text
    row = re.search(r"^\| `test_model.py::test_bad` \| `bad` \| \*\*formula_error\*\* \| `bad_sigmoid@test_model.py:"
                    r"\d+` \| (\S+) \| (\S+) \|$", text, re.M)
    assert row is not None, text
    assert float(row[1]) > 0.1 and float(row[2]) < 1e-10  # the planted bug: an O(1) error against ~1e-16
    assert "test_plain" not in text  # a test without checks has no row
    assert f"gradcheck: wrote {summary}" in result.stdout.str()


def test_a_second_run_appends_again(pytester, summary):
    pytester.makepyfile(test_model=MODEL + "def test_good(gradcheck):\n    gradcheck(good, W)\n")
    pytester.runpytest().assert_outcomes(passed=1)
    pytester.runpytest().assert_outcomes(passed=1)
    text = summary.read_text()
    assert text.startswith(EARLIER) and text.count("## Gradient checks: 1 ok, 0 failing\n") == 2


@pytest.mark.parametrize("off", [["--gradcheck-step-summary=off"], ["-o", "gradcheck_step_summary=off"]])
def test_step_summary_off_leaves_the_file_alone(pytester, summary, off):
    pytester.makepyfile(test_model=MODEL + TESTS)
    result = pytester.runpytest(*off)
    result.assert_outcomes(passed=2, failed=1)
    assert summary.read_text() == EARLIER
    assert "gradcheck: wrote" not in result.stdout.str()


def test_the_command_line_on_beats_the_ini_files_off(pytester, summary):
    pytester.makepyfile(test_model=MODEL + "def test_good(gradcheck):\n    gradcheck(good, W)\n")
    pytester.runpytest("-o", "gradcheck_step_summary=off", "--gradcheck-step-summary=on").assert_outcomes(passed=1)
    assert "## Gradient checks: 1 ok, 0 failing" in summary.read_text()


def test_without_the_variable_nothing_is_written(pytester):
    pytester.makepyfile(test_model=MODEL + TESTS)
    before = set(pytester.path.rglob("*"))
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(passed=2, failed=1)
    assert "gradcheck: wrote" not in result.stdout.str()
    assert {p for p in set(pytester.path.rglob("*")) - before if "__pycache__" not in p.parts} == set()


def test_a_run_without_checks_appends_nothing(pytester, summary):
    pytester.makepyfile(test_plain="def test_plain():\n    pass\n")
    pytester.runpytest().assert_outcomes(passed=1)
    assert summary.read_text() == EARLIER


def test_a_baseline_comparison_is_appended_even_without_checks(pytester, summary, monkeypatch):
    pytester.makepyfile(test_model=MODEL + "def test_good(gradcheck):\n    gradcheck(good, W)\n")
    monkeypatch.delenv("GITHUB_STEP_SUMMARY")  # the baseline is made outside the CI job
    pytester.runpytest("--gradcheck-report=baseline.json").assert_outcomes(passed=1)
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    pytester.makepyfile(test_model=MODEL + "def test_good():\n    pass\n")  # the check was removed
    result = pytester.runpytest("--gradcheck-baseline=baseline.json")
    assert result.ret == pytest.ExitCode.OK
    text = summary.read_text()
    assert text.startswith(EARLIER + "\n## Gradient checks: 0 ok, 0 failing\n"), text
    assert "0 regressions, 0 improvements, 0 new, 1 removed" in text
    assert "- `test_model.py::test_good::good`" in text


def test_an_unwritable_step_summary_is_a_clear_error_and_fails_the_run(pytester, monkeypatch):
    folder = pytester.path / "a_folder"  # a folder in the way: fails for root too, unlike a read-only file
    folder.mkdir()
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(folder))
    pytester.makepyfile(test_model=MODEL + "def test_good(gradcheck):\n    gradcheck(good, W)\n")
    result = pytester.runpytest()
    result.assert_outcomes(passed=1)
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines([f"gradcheck: could not write the step summary GITHUB_STEP_SUMMARY={folder}: "
                                 "Is a directory (--gradcheck-step-summary=off skips it)"])
    assert "Traceback" not in result.stdout.str()


@pytest.mark.parametrize("args", [["--gradcheck-step-summary=yes"], ["-o", "gradcheck_step_summary=OFF"]])
def test_a_bad_step_summary_value_is_a_usage_error(pytester, args):
    pytester.makepyfile(test_plain="def test_plain():\n    pass\n")
    result = pytester.runpytest(*args)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    value = args[-1].split("=")[1]
    assert (f"pytest-gradcheck: --gradcheck-step-summary (ini gradcheck_step_summary): expected one of on, off; "
            f"got '{value}'") in result.stderr.str()


def test_with_xdist_only_the_controller_appends(pytester, summary, monkeypatch):
    _subprocess_imports_this_code(monkeypatch)
    pytester.makepyfile(test_model=MODEL + TESTS)
    result = pytester.runpytest_subprocess("-n", "2", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=2, failed=1)
    text = summary.read_text()
    assert text.count("## Gradient checks") == 1 and "## Gradient checks: 1 ok, 1 failing" in text


def _html_extras(path):
    """The extras of each test in a pytest-html 4 report (its data is a JSON blob in an attribute)."""
    blob = re.search(r'data-jsonblob="([^"]*)"', path.read_text())
    tests = json.loads(html.unescape(blob[1]))["tests"]
    return {test_id: [e for report in reports for e in report["extras"]] for test_id, reports in tests.items()}


def test_pytest_html_report_carries_each_tests_gradient_table(pytester):
    pytest.importorskip("pytest_html")
    pytester.makepyfile(test_model=MODEL + TESTS)
    result = pytester.runpytest("--html=report.html", "--self-contained-html")
    result.assert_outcomes(passed=2, failed=1)
    extras = _html_extras(pytester.path / "report.html")
    assert extras["test_model.py::test_plain"] == []
    (bad,) = extras["test_model.py::test_bad"]
    assert bad["format_type"] == "html"
    assert "Gradient checks of <code>test_model.py::test_bad</code>: 1 check: 1 formula_error" in bad["content"]
    assert "<td><code>bad</code></td><td><strong>formula_error</strong></td>" in bad["content"]
    line = (pytester.path / "test_model.py").read_text().splitlines().index("    return np.sum(bad_sigmoid(w) ** 2)")
    assert re.search(rf"<tr><td>1</td><td><code>bad_sigmoid</code></td><td>test_model.py:{line + 1}</td>"
                     r"<td>formula_error</td>", bad["content"]), bad["content"]
    (good,) = extras["test_model.py::test_good"]
    assert "<td><code>good</code></td><td>pass</td>" in good["content"]


def test_pytest_html_extras_survive_xdist(pytester, monkeypatch):
    pytest.importorskip("pytest_html")
    _subprocess_imports_this_code(monkeypatch)
    pytester.makepyfile(test_model=MODEL + TESTS)
    result = pytester.runpytest_subprocess("-n", "2", "-p", "no:cacheprovider", "--html=report.html",
                                           "--self-contained-html")
    result.assert_outcomes(passed=2, failed=1)
    (bad,) = _html_extras(pytester.path / "report.html")["test_model.py::test_bad"]
    assert "<strong>formula_error</strong>" in bad["content"]


def test_without_pytest_html_reports_carry_no_extras(pytester):
    pytester.makeconftest("""
import pytest

@pytest.hookimpl(trylast=True)
def pytest_runtest_logreport(report):
    if report.when == "call":
        print(f"\\nEXTRAS {report.nodeid} {len(getattr(report, 'extras', []))}")
""")
    pytester.makepyfile(test_model=MODEL + "def test_good(gradcheck):\n    gradcheck(good, W)\n")
    blocked = pytester.runpytest("-p", "no:html", "-s")
    blocked.stdout.fnmatch_lines(["*EXTRAS test_model.py::test_good 0"])
    pytest.importorskip("pytest_html")
    pytester.runpytest("-s").stdout.fnmatch_lines(["*EXTRAS test_model.py::test_good 1"])

"""Whole pytest runs: failure output, terminal summary, JUnit properties, xdist, hypothesis, direct calls."""

import json
import re
import xml.etree.ElementTree as ET

import pytest

MODEL = """
import numpy as np
import pytest
import autodiff_ref
from pytest_gradcheck import check_grad

@autodiff_ref.primitive(elementwise=True)
def bad_sigmoid(z):
    return 1 / (1 + np.exp(-z))

bad_sigmoid.defvjp(lambda s, z: lambda g: g * s)  # wrong: s * (1 - s)

X = np.linspace(0.5, 2.0, 6).reshape(2, 3)

def good(w):
    return np.sum(np.tanh(X @ w) ** 2)

def bad(w):
    return np.sum(bad_sigmoid(X @ w) ** 2)

W = np.linspace(-1.0, 1.0, 6).reshape(3, 2)
"""

TESTS = """
@pytest.mark.gradcheck
def test_good(gradcheck):
    gradcheck(good, W)

@pytest.mark.gradcheck
def test_bad(gradcheck):
    gradcheck(bad, W)

def test_direct_call_is_recorded():
    check_grad(good, W + 0.5)

@pytest.mark.parametrize("shift", [0.0, 0.25])
def test_param(gradcheck, shift):
    gradcheck(good, W + shift)
"""


def _run(pytester, *args):
    pytester.makepyfile(test_model=MODEL + TESTS)
    return pytester.runpytest(*args)


def test_failing_check_shows_the_per_op_table_in_the_assertion(pytester):
    result = _run(pytester)
    result.assert_outcomes(passed=4, failed=1)
    text = result.stdout.str()
    assert "GradcheckError" in text and "formula_error" in text
    written = (pytester.path / "test_model.py").read_text().splitlines()
    line = written.index("    return np.sum(bad_sigmoid(X @ w) ** 2)") + 1
    assert re.search(rf">\s+\d+\s+bad_sigmoid\*\s+test_model.py:{line}\s", text), text


def test_terminal_summary_lists_every_check_with_a_count_line(pytester):
    result = _run(pytester)
    text = result.stdout.str()
    assert "gradient checks" in text
    for test in ("test_good", "test_bad", "test_direct_call_is_recorded", "test_param[0.0]", "test_param[0.25]"):
        assert test in text
    assert re.search(r"5 checks: 4 pass, 1 formula_error", text), text


def test_verbose_summary_adds_per_op_rows(pytester):
    quiet = _run(pytester, "--gradcheck-per-op=always").stdout.str()
    verbose = pytester.runpytest("-v", "--gradcheck-per-op=always").stdout.str()
    op_row = re.compile(r"^\s{4,}\d+\s+tanh\s", re.M)  # an indented per-op row under a passing check
    assert op_row.search(verbose[verbose.index("gradient checks"):])
    assert not op_row.search(quiet[quiet.index("gradient checks"):])
    # by default ("auto") a passing check has no rows, and says why; the failing one has its rows
    default = pytester.runpytest("-v").stdout.str()
    summary = default[default.index("gradient checks"):]
    assert not op_row.search(summary)
    assert re.search(r"^\s{4,}\d+\s+bad_sigmoid\s", summary, re.M), summary
    assert summary.count("(no per-op rows: the whole-function check passed, so its ops were not checked one by "
                         'one; per_op="always" checks each op)') == 4, summary


def test_json_report_and_markdown(pytester):
    result = _run(pytester, "--gradcheck-report=out/report.json", "--gradcheck-markdown=out/summary.md")
    result.assert_outcomes(passed=4, failed=1)
    report = json.loads((pytester.path / "out" / "report.json").read_text())
    assert report["schema"] == "pytest-gradcheck-report" and report["version"] == 2
    by_test = {c["test"].split("::")[-1]: c for c in report["checks"]}
    assert by_test["test_bad"]["status"] == "formula_error"
    assert by_test["test_bad"]["worst_op"].startswith("bad_sigmoid@")
    assert by_test["test_good"]["status"] == "pass" and by_test["test_good"]["evaluations"] > 0
    assert report["summary"]["checks"] == 5
    assert "test_bad" in (pytester.path / "out" / "summary.md").read_text()


def test_junit_xml_carries_key_figures_as_properties(pytester):
    _run(pytester, "--junitxml=junit.xml")
    tree = ET.parse(pytester.path / "junit.xml")
    cases = {c.get("name"): c for c in tree.iter("testcase")}
    props = {p.get("name"): p.get("value") for p in cases["test_bad"].iter("property")}
    assert props["gradcheck[bad].status"] == "formula_error"
    assert props["gradcheck[bad].worst_op"].startswith("bad_sigmoid@")
    assert float(props["gradcheck[bad].rtol"]) > 0 and int(props["gradcheck[bad].evaluations"]) > 0
    good = {p.get("name"): p.get("value") for p in cases["test_good"].iter("property")}
    assert good["gradcheck[good].status"] == "pass"


def _comparable(report):
    """A report without the fields that depend on timing or the clock."""
    checks = [{k: v for k, v in c.items() if k not in ("seconds",)} for c in report["checks"]]
    return checks, report["summary"]


def test_xdist_report_equals_serial_report(pytester):
    pytester.makepyfile(test_model=MODEL + TESTS)
    serial = pytester.runpytest_subprocess("--gradcheck-report=serial.json", "-p", "no:cacheprovider")
    parallel = pytester.runpytest_subprocess("--gradcheck-report=parallel.json", "-n", "2", "-p", "no:cacheprovider")
    serial.assert_outcomes(passed=4, failed=1)
    parallel.assert_outcomes(passed=4, failed=1)
    load = lambda name: json.loads((pytester.path / name).read_text())  # noqa: E731
    assert _comparable(load("serial.json")) == _comparable(load("parallel.json"))
    summary = lambda out: out[out.index("gradient checks"):].splitlines()[-6:]  # noqa: E731
    assert "5 checks: 4 pass, 1 formula_error" in parallel.stdout.str()
    assert len(summary(parallel.stdout.str())) == len(summary(serial.stdout.str()))


def test_hypothesis_with_the_fixture_has_no_health_check_error_and_shrinks(pytester):
    pytester.makepyfile(MODEL + """
from hypothesis import given, settings
from pytest_gradcheck.strategies import well_scaled_arrays

@settings(max_examples=8, deadline=None, database=None)
@given(well_scaled_arrays((3, 2)))
def test_good_everywhere(gradcheck, w):
    gradcheck(good, w)

@pytest.mark.gradcheck(per_op="off")  # the whole-function check suffices, and shrinking runs it many times
@settings(max_examples=10, deadline=None, database=None)
@given(well_scaled_arrays((3, 2)))
def test_bad_somewhere(gradcheck, w):
    gradcheck(bad, w)
""")
    result = pytester.runpytest()
    result.assert_outcomes(passed=1, failed=1)
    text = result.stdout.str()
    assert "FailedHealthCheck" not in text and "function_scoped_fixture" not in text
    assert ("Falsifying example" in text or "Failing test case" in text) and "formula_error" in text
    assert "w=array([[0., 0.]," in text, text  # shrunk to the simplest point


def test_regression_against_a_baseline_fails_the_run(pytester):
    pytester.makepyfile(test_model=MODEL + """
@pytest.mark.gradcheck
def test_model(gradcheck):
    gradcheck(good, W)
""")
    pytester.runpytest("--gradcheck-report=baseline.json").assert_outcomes(passed=1)
    assert pytester.runpytest("--gradcheck-baseline=baseline.json").ret == pytest.ExitCode.OK
    pytester.makepyfile(test_model=MODEL + """
@pytest.mark.gradcheck
def test_model(gradcheck):
    gradcheck(good, W, grad=lambda w: autodiff_ref.grad(good)(w) * (1 + 1e-9), raise_on_mismatch=False)
""")
    result = pytester.runpytest("--gradcheck-baseline=baseline.json")
    result.assert_outcomes(passed=1)
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    assert "regress" in result.stdout.str().lower()


@pytest.mark.parametrize("content", [None, "{not json", '{"schema": "something-else", "version": 1}'])
def test_missing_or_corrupt_baseline_is_a_clear_usage_error(pytester, content):
    if content is not None:
        (pytester.path / "baseline.json").write_text(content)
    pytester.makepyfile("def test_nothing():\n    pass\n")
    result = pytester.runpytest("--gradcheck-baseline=baseline.json")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert "--gradcheck-baseline" in result.stderr.str() and "baseline.json" in result.stderr.str()
    assert "Traceback" not in result.stderr.str()


@pytest.mark.parametrize("call", ["gradcheck(bad, W)", "check_grad(bad, W)"])
def test_a_failing_check_shows_the_tests_line_not_the_plugins_source(pytester, call):
    """__tracebackhide__ in check_grad and the fixture: a default run (long tracebacks) shows the test's own
    line and the verdict, and none of the plugin's source (check_grad's docstring used to fill the screen)."""
    pytester.makepyfile(test_model=MODEL + f"""
@pytest.mark.gradcheck
def test_bad_only(gradcheck):
    {call}
""")
    result = pytester.runpytest()
    result.assert_outcomes(failed=1)
    text = result.stdout.str()
    assert f">       {call}" in text and "formula_error" in text
    assert "def check_grad(" not in text and "raise GradcheckError(result)" not in text, text
    failure = _failure_section(text, "test_bad_only")
    assert len(failure) <= 30, "\n".join(failure)  # the target for one failing check
    assert not any("pytest_gradcheck" in line and ".py:" in line for line in failure), "\n".join(failure)


def _failure_section(text: str, test: str) -> list[str]:
    """The lines pytest prints for one failure: from its '____ test ____' title to the next section."""
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("_") and f" {test} " in line)
    end = next(i for i in range(start + 1, len(lines)) if lines[i].startswith(("=", "_")))
    return lines[start:end]


@pytest.mark.parametrize(("call", "named"), [
    ("check_grad(bad, [0.1, 0.2])", "a list of 2 floats"),
    ("check_grad(bad, (W.astype(int),))", "int64"),
    ("check_grad(bad, (None,))", "None"),
])
def test_bad_input_shows_the_tests_line_and_the_message_only(pytester, call, named):
    pytester.makepyfile(test_model=MODEL + f"""
def test_misuse():
    {call}
""")
    result = pytester.runpytest()
    result.assert_outcomes(failed=1)
    failure = _failure_section(result.stdout.str(), "test_misuse")
    text = "\n".join(failure)
    assert f">       {call}" in text and "GradcheckUsageError" in text and named in text, text
    assert not any("pytest_gradcheck" in line and ".py:" in line for line in failure), text
    assert len(failure) <= 30, text


def test_a_failure_the_test_asserts_is_marked_expected_in_every_output(pytester):
    pytester.makepyfile(test_model=MODEL + """
from pytest_gradcheck import GradcheckError

def test_bug_is_caught():
    with pytest.raises(GradcheckError):
        check_grad(bad, W)

def test_bug_escapes():
    check_grad(bad, W + 0.5)

def test_fine():
    check_grad(good, W)
""")
    result = pytester.runpytest("--gradcheck-report=report.json", "--gradcheck-markdown=summary.md")
    result.assert_outcomes(passed=2, failed=1)
    checks = {c["test"].split("::")[-1]: c for c in json.loads((pytester.path / "report.json").read_text())["checks"]}
    assert checks["test_bug_is_caught"]["expected"] is True and not checks["test_bug_is_caught"]["ok"]
    assert "expected" not in checks["test_bug_escapes"] and "expected" not in checks["test_fine"]
    text = result.stdout.str()
    assert re.search(r"test_bug_is_caught\s+bad\s+formula_error \(expected\)", text), text
    assert re.search(r"test_bug_escapes\s+bad\s+formula_error\s", text), text
    assert "(1 failing check expected: its test passed, asserting the failure)" in text
    summary = (pytester.path / "summary.md").read_text()
    assert "## Gradient checks: 1 ok, 2 failing (1 expected by its test)" in summary
    assert "**formula_error**" in summary and "formula_error (expected)" in summary

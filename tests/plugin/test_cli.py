"""The `gradcheck` command: show, compare, markdown; exit codes 0, 1, 2; one-line errors, no tracebacks."""

import json
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from pytest_gradcheck import check_grad, cli
from pytest_gradcheck.report import records, report

TEST = "tests/test_model.py::test_loss"


def loss(x):
    return np.sum(np.tanh(x) ** 2)


@pytest.fixture(scope="module")
def checks():
    with records.recording() as results:
        check_grad(loss, np.array([0.3, -0.7, 1.1]), per_op="always")  # a pass with its per-op rows
    return records.fold([records.to_record(r, TEST) for r in results])


@pytest.fixture
def paths(tmp_path, checks):
    """A baseline, an identical current report, and a regressed one (the check now fails)."""
    base, same, worse = tmp_path / "baseline.json", tmp_path / "same.json", tmp_path / "worse.json"
    report.write_report(base, report.build_report(checks, {"digits": 40}))
    report.write_report(same, report.build_report(checks, {"digits": 40}))
    failing = [dict(checks[0], ok=False, status="formula_error", formula_error=0.25)]
    report.write_report(worse, report.build_report(failing, {"digits": 40}))
    return base, same, worse


def run(capsys, *argv):
    code = cli.main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_show_prints_the_table(capsys, paths):
    code, out, err = run(capsys, "show", paths[0])
    assert code == 0 and err == ""
    assert out.splitlines()[0].startswith("test")
    assert re.search(r"^tests/test_model.py::test_loss\s+loss\s+pass\s+\w+@(\S*/)?test_cli.py:\d+\s", out, re.M), out
    assert out.splitlines()[-1] == "1 check: 1 pass"


def test_show_verbose_adds_op_rows(capsys, paths):
    quiet, verbose = run(capsys, "show", paths[0])[1], run(capsys, "show", "-v", paths[0])[1]
    assert "tanh" in verbose and len(verbose.splitlines()) > len(quiet.splitlines())


def test_compare_unchanged_exits_0(capsys, paths):
    code, out, _ = run(capsys, "compare", paths[0], paths[1])
    assert code == 0 and out.startswith("baseline comparison: no regressions: 0 regressions")


def test_compare_regression_exits_1_and_ends_with_the_remedy(capsys, paths):
    code, out, _ = run(capsys, "compare", paths[0], paths[2])
    lines = out.splitlines()
    assert code == 1 and lines[0].startswith(f"REGRESSION {TEST}::loss: was ok (pass), now failing (formula_error)")
    assert lines[-1].startswith("to accept the new values as the baseline, run pytest with "
                                f"--gradcheck-report={paths[0]}")


def test_compare_factor_option(capsys, tmp_path, checks):
    grown = dict(checks[0], formula_error=checks[0]["tolerance"]["rtol_formula"] * 5e-2)  # 50x the noise floor
    report.write_report(tmp_path / "a.json", report.build_report(checks, {}))
    report.write_report(tmp_path / "b.json", report.build_report([grown], {}))
    assert run(capsys, "compare", tmp_path / "a.json", tmp_path / "b.json")[0] == 1
    assert run(capsys, "compare", tmp_path / "a.json", tmp_path / "b.json", "--factor", "100")[0] == 0


@pytest.mark.parametrize("factor", ["1", "0.5", "inf", "nan", "ten"])
def test_bad_factor_is_a_usage_error(capsys, paths, factor):
    code, out, err = run(capsys, "compare", paths[0], paths[1], "--factor", factor)
    assert code == 2 and out == "" and "--factor" in err and "Traceback" not in err


def test_markdown_to_stdout_and_to_a_file(capsys, paths, tmp_path):
    code, out, _ = run(capsys, "markdown", paths[2], "--baseline", paths[0])
    assert code == 0 and out.startswith("## Gradient checks: 0 ok, 1 failing, 1 regression")
    assert "#### Regressions (1)" in out
    target = tmp_path / "ci" / "summary.md"
    code, out, _ = run(capsys, "markdown", paths[0], "-o", target)
    assert code == 0 and out == "" and target.read_text().startswith("## Gradient checks: 1 ok, 0 failing")


@pytest.mark.parametrize("command", ["show", "compare", "markdown"])
def test_missing_report_is_one_line_on_stderr_and_exit_2(capsys, tmp_path, paths, command):
    missing = tmp_path / "missing.json"
    argv = {"show": [missing], "compare": [paths[0], missing], "markdown": [paths[0], "--baseline", missing]}
    code, out, err = run(capsys, command, *argv[command])
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and str(missing) in err and "no such report file" in err


def test_corrupt_report_exits_2(capsys, tmp_path):
    (tmp_path / "bad.json").write_text('{"schema": "pytest-gradcheck-report", "version": 3}')
    code, _, err = run(capsys, "show", tmp_path / "bad.json")
    assert code == 2 and "version 3 is not supported" in err


def test_unwritable_output_exits_2(capsys, paths, tmp_path):
    (tmp_path / "file").write_text("")
    code, _, err = run(capsys, "markdown", paths[0], "-o", tmp_path / "file" / "summary.md")
    assert code == 2 and err.startswith("gradcheck markdown: error:") and err.count("\n") == 1


def test_usage_errors_exit_2(capsys):
    assert run(capsys, "frobnicate")[0] == 2
    assert run(capsys)[0] == 2


def test_module_entry_point(paths):
    done = subprocess.run([sys.executable, "-m", "pytest_gradcheck.cli", "compare", str(paths[0]), str(paths[2])],
                          capture_output=True, text=True, check=False)
    assert done.returncode == 1 and "REGRESSION" in done.stdout and done.stderr == ""
    broken = subprocess.run([sys.executable, "-m", "pytest_gradcheck.cli", "show", "nowhere.json"],
                            capture_output=True, text=True, check=False)
    assert broken.returncode == 2 and "Traceback" not in broken.stderr and "nowhere.json" in broken.stderr


def test_installed_console_script(paths):
    script = Path(sys.executable).with_name("gradcheck")
    done = subprocess.run([str(script), "show", str(paths[0])], capture_output=True, text=True, check=False)
    assert done.returncode == 0 and "1 check: 1 pass" in done.stdout


def test_reports_round_trip_through_json_for_other_tools(paths):
    assert json.loads(paths[0].read_text())["checks"][0]["id"] == f"{TEST}::loss"

"""GradcheckSession without pytest: settings precedence, validation, records folded, outputs written at the end,
the regression verdict against a baseline, and the terminal section."""

import json
import os

import numpy as np
import pytest

from pytest_gradcheck import check_grad
from pytest_gradcheck.report import records, report
from pytest_gradcheck.session import GradcheckFixture, GradcheckSession, ReportOptions

TEST = "tests/test_model.py::test_loss"
NONE = {"digits": None, "mode": None}  # ini/command-line values not given, as the plugin passes them


def softplus(x):
    return np.sum(np.log1p(np.exp(x)))


def softplus_grad(x):
    return 1 / (1 + np.exp(-x))


@pytest.fixture(scope="module")
def results():
    """Three real checks: softplus right twice (the same id: one record), and softplus with a wrong gradient."""
    with records.recording() as found:
        check_grad(softplus, np.array([0.1, -0.4]), grad=softplus_grad)
        check_grad(softplus, np.array([0.5, 0.2]), grad=softplus_grad)
        check_grad(softplus, np.array([0.1, -0.4]), grad=lambda x: softplus_grad(x) * 1.01, raise_on_mismatch=False)
    return found


def recs(results, *which, test=TEST):
    return [records.to_record(results[k], test) for k in which]


def session(tmp_path=None, *, ini=None, command_line=None, is_worker=False, **outputs):
    paths = {k: str(tmp_path / v) if tmp_path is not None and isinstance(v, str) else v for k, v in outputs.items()}
    return GradcheckSession(ini=ini or NONE, command_line=command_line or NONE, outputs=ReportOptions(**paths),
                            is_worker=is_worker)


# defaults


def test_the_closest_setting_wins_call_then_marker_then_command_line_then_ini():
    s = session(ini={"digits": "30", "mode": "fast"}, command_line={"digits": 35, "mode": None})
    assert s.defaults({}) == {"digits": 35, "mode": "fast"}  # the ini's string parsed; the command line wins
    s.current_markers = lambda: [{"digits": 25}, {"digits": 50, "mode": "full"}]  # closest first
    assert s.defaults({}) == {"digits": 25, "mode": "full"}
    assert s.defaults({"digits": 20}) == {"digits": 20, "mode": "full"}
    assert s.resolved_settings() == {"digits": 35, "mode": "fast"}  # the run's settings: no marker, no call


def test_a_bad_setting_is_an_error_naming_it_and_where_it_came_from():
    with pytest.raises(ValueError, match=r"^ini file: digits: expected int, got 'forty'"):
        session(ini={"digits": "forty", "mode": None}).validate()
    with pytest.raises(ValueError, match=r"^command line: mode: expected one of auto, full"):
        session(command_line={"digits": None, "mode": "slow"}).validate()
    s = session()
    s.current_markers = lambda: [{"digts": 30}]
    with pytest.raises(ValueError, match=r"^@pytest\.mark\.gradcheck: unknown gradcheck setting 'digts'"):
        s.defaults({})


# validate


@pytest.mark.parametrize("factor", [1.0, 0.5, float("nan"), float("inf")])
def test_a_bad_regression_factor_is_an_error_naming_the_option(factor):
    with pytest.raises(ValueError, match=r"^--gradcheck-regression-factor: factor: expected a finite number > 1"):
        session(factor=factor).validate()
    session(factor=1.5).validate()


def test_a_baseline_is_loaded_by_the_controller_and_a_bad_one_named(tmp_path, results):
    report.write_report(tmp_path / "base.json", report.build_report(records.fold(recs(results, 0)), {}))
    s = session(tmp_path, baseline="base.json")
    s.validate()
    assert [c["id"] for c in s.baseline["checks"]] == [f"{TEST}::softplus"]
    with pytest.raises(ValueError, match=r"^--gradcheck-baseline: .*missing\.json"):
        session(tmp_path, baseline="missing.json").validate()
    (tmp_path / "bad.json").write_text("{not json")
    with pytest.raises(ValueError, match=r"^--gradcheck-baseline: "):
        session(tmp_path, baseline="bad.json").validate()
    worker = session(tmp_path, baseline="missing.json", is_worker=True)
    worker.validate()  # workers never read it: the controller compares
    assert worker.baseline is None


# add, records


def test_records_of_the_same_check_fold_into_one_with_the_worst_status(results):
    s = session()
    s.add(recs(results, 0, 1))
    s.add(())  # a test report without records
    (rec,) = s.records()
    assert (rec["status"], rec["calls"], rec["ok"]) == ("pass", 2, True)
    assert rec["evaluations"] == results[0].evaluations + results[1].evaluations
    s.add(recs(results, 2))
    (rec,) = s.records()
    assert (rec["status"], rec["calls"], rec["ok"]) == ("formula_error", 3, False)
    s.add(recs(results, 0, test="tests/test_model.py::test_other"))
    assert [r["test"] for r in s.records()] == ["tests/test_model.py::test_loss", "tests/test_model.py::test_other"]


# finish


def test_without_outputs_finish_writes_nothing_and_passes(tmp_path, results):
    s = session()
    s.add(recs(results, 2))  # even a failing check: only a baseline comparison fails the run
    assert s.finish() is False and s.written == [] and s.write_errors == []


def test_finish_writes_the_report_and_the_markdown(tmp_path, results):
    s = session(tmp_path, ini={"digits": "30", "mode": None}, report="out/run.json", markdown="run.md")
    s.add(recs(results, 0, 2))
    assert s.finish() is False  # a failing check fails its test, not the run
    assert s.written == [str(tmp_path / "out/run.json"), str(tmp_path / "run.md")]
    written = report.load_report(tmp_path / "out/run.json")
    assert written["settings"] == {"digits": 30}
    (check,) = written["checks"]
    assert (check["id"], check["status"], check["calls"]) == (f"{TEST}::softplus", "formula_error", 2)
    assert "formula_error" in (tmp_path / "run.md").read_text()


def test_a_worker_writes_nothing(tmp_path, results):
    s = session(tmp_path, is_worker=True, report="run.json", markdown="run.md")
    s.add(recs(results, 0))
    assert s.finish() is False and not os.listdir(tmp_path)


def test_a_regression_against_the_baseline_fails_the_run(tmp_path, results):
    report.write_report(tmp_path / "base.json", report.build_report(records.fold(recs(results, 0)), {}))
    same = session(tmp_path, baseline="base.json")
    same.validate()
    same.add(recs(results, 1))
    assert same.finish() is False and not same.comparison.regressed
    worse = session(tmp_path, baseline="base.json")
    worse.validate()
    worse.add(recs(results, 2))
    assert worse.finish() is True
    (change,) = worse.comparison.regressions
    assert (change.id, change.old_status, change.new_status) == (f"{TEST}::softplus", "pass", "formula_error")


def test_an_output_that_cannot_be_written_fails_the_run_with_the_reason(tmp_path, results):
    (tmp_path / "taken").mkdir()  # a folder where the report should go
    s = session(tmp_path, report="taken", markdown="run.md")
    s.add(recs(results, 0))
    assert s.finish() is True
    (error,) = s.write_errors
    assert error.startswith(f"gradcheck: could not write {tmp_path / 'taken'}: ")
    assert s.written == [str(tmp_path / "run.md")]  # the other output is written all the same


def test_the_step_summary_is_appended_only_when_there_is_something_to_say(tmp_path, results):
    summary = tmp_path / "summary.md"
    summary.write_text("earlier step\n")
    empty = session(tmp_path, step_summary="summary.md")
    assert empty.finish() is False and summary.read_text() == "earlier step\n"  # no checks, no baseline
    s = session(tmp_path, step_summary="summary.md")
    s.add(recs(results, 2))
    assert s.finish() is False
    text = summary.read_text()
    assert text.startswith("earlier step\n\n") and f"`{TEST}`" in text and "formula_error" in text


def test_a_step_summary_that_cannot_be_written_names_the_variable_and_the_way_out(tmp_path, results):
    (tmp_path / "taken").mkdir()
    s = session(tmp_path, step_summary="taken")
    s.add(recs(results, 0))
    assert s.finish() is True
    (error,) = s.write_errors
    assert "could not write the step summary GITHUB_STEP_SUMMARY=" in error and "=off skips it" in error


# terminal_summary


def test_the_terminal_section_lists_checks_comparison_errors_and_written_files(tmp_path, results):
    report.write_report(tmp_path / "base.json", report.build_report(records.fold(recs(results, 0)), {}))
    (tmp_path / "taken").mkdir()
    s = session(tmp_path, baseline="base.json", report="taken", markdown="run.md")
    s.validate()
    s.add(recs(results, 2))
    s.finish()
    lines = []
    s.terminal_summary(lines.append, verbose=False, width=200)
    check_row = next(line for line in lines if line.startswith(TEST))
    assert "softplus" in check_row and "formula_error" in check_row
    assert any(line.startswith(f"REGRESSION {TEST}::softplus: ") for line in lines)
    assert any(line.startswith("baseline comparison: regressed") for line in lines)
    assert lines[-2].startswith("gradcheck: could not write") and lines[-1] == f"gradcheck: wrote {tmp_path / 'run.md'}"


def test_an_empty_run_has_an_empty_terminal_section():
    lines = []
    session().terminal_summary(lines.append, verbose=True)
    assert lines == []


# the fixture


def test_the_fixture_calls_check_grad_with_the_sessions_defaults(results):
    s = session(command_line={"digits": 30, "mode": "full"})
    s.current_markers = lambda: [{"mode": "fast"}]
    fixture = GradcheckFixture(s)
    with records.recording() as found:
        result = fixture(softplus, np.array([0.1, -0.4]), grad=softplus_grad)
        with pytest.raises(AssertionError, match="formula"):  # GradcheckError is an AssertionError
            fixture(softplus, np.array([0.1, -0.4]), grad=lambda x: softplus_grad(x) * 1.01)
    assert (result.digits, result.mode, result.ok) == (30, "fast", True)
    assert [r.status for r in found] == ["pass", "formula_error"]
    assert fixture(softplus, np.array([0.1]), grad=softplus_grad, mode="full").mode == "full"  # the call wins
    assert "check_grad" in repr(fixture)
    assert json.dumps(s.defaults({})) == '{"digits": 30, "mode": "fast"}'

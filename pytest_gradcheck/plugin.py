"""pytest hooks for gradient checks: options, marker, fixture, recording, summary, reports.

Thin by design: every hook is a line or two into `GradcheckSession` (stored in `config.stash`), and nothing
heavy (numpy, mpmath) is imported until a check runs.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Generator
from typing import Any

import pytest

from pytest_gradcheck import settings
from pytest_gradcheck.report import records, step_summary
from pytest_gradcheck.session import REPORT_ATTRIBUTE, GradcheckFixture, GradcheckSession, ReportOptions

SESSION = pytest.StashKey[GradcheckSession]()
RECORDS = pytest.StashKey[list]()
REPORT_OPTIONS = {  # name: (help, metavar)
    "report": ("write the gradient-check report (JSON, versioned schema) to PATH (default: none)", "PATH"),
    "baseline": ("compare with a stored report at PATH; regressions fail the run (default: none)", "PATH"),
    "markdown": ("write a Markdown summary of the checks to PATH, for a CI job page (default: none)", "PATH"),
    "regression_factor": ("an error that grows by more than this factor is a regression (default: 10)", "X"),
    "step_summary": ("append the Markdown summary to the file named by $GITHUB_STEP_SUMMARY when it is set "
                     "(GitHub Actions): on or off (default: on)", "on|off"),
}


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("gradcheck", "gradient checks (pytest-gradcheck)")
    for setting in settings.SETTINGS.values():
        group.addoption(setting.option, dest=setting.ini, default=None, metavar=setting.name.upper(),
                        help=setting.help)
        parser.addini(setting.ini, setting.help, default=None)
    for name, (text, metavar) in REPORT_OPTIONS.items():
        option = "--gradcheck-" + name.replace("_", "-")
        group.addoption(option, dest="gradcheck_" + name, default=None, metavar=metavar, help=text)
        parser.addini("gradcheck_" + name, text, default=None)


def _value(config: pytest.Config, key: str) -> Any:
    """Command line first, then the ini file."""
    given = config.getoption(key)
    return given if given is not None else config.getini(key)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "gradcheck(**settings): a gradient-check test; its settings (rtol, atol, "
                            "digits, backend, mode, seed, per_op, float64_accuracy, projections, plots) are the "
                            "gradcheck fixture's defaults")
    factor = _value(config, "gradcheck_regression_factor")
    summary_setting = _value(config, "gradcheck_step_summary") or None
    try:
        outputs = ReportOptions(*(_value(config, "gradcheck_" + n) or None for n in ("report", "baseline", "markdown")),
                                factor=float(factor) if factor not in (None, "") else None,
                                step_summary=step_summary.target(summary_setting, os.environ))
        session = GradcheckSession(
            ini={n: config.getini(s.ini) for n, s in settings.SETTINGS.items()},
            command_line={n: config.getoption(s.ini) for n, s in settings.SETTINGS.items()},
            outputs=outputs, is_worker=hasattr(config, "workerinput"))
        session.validate()
    except ValueError as error:
        raise pytest.UsageError(f"pytest-gradcheck: {error}") from None
    config.stash[SESSION] = session
    config.pluginmanager.register(_Collector(session), "gradcheck-collector")


@pytest.hookimpl(wrapper=True)
def pytest_runtest_protocol(item: pytest.Item) -> Generator[None, Any, Any]:
    session = item.config.stash[SESSION]
    session.current_markers = lambda: [m.kwargs for m in item.iter_markers("gradcheck")]  # read when used
    try:
        return (yield)
    finally:
        session.current_markers = list


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Generator[None, Any, Any]:
    with records.recording() as results:
        try:
            return (yield)
        finally:
            if results:  # tests without gradient checks pay nothing more
                recs = records.fold([records.to_record(r, item.nodeid) for r in results])
                item.stash[RECORDS] = recs
                item.user_properties.extend(_junit_properties(recs))


def _junit_properties(recs: list[dict[str, Any]]) -> list[tuple[str, Any]]:
    keys = ("status", "formula_error", "float64_error", "worst_op", "evaluations", "seconds", "calls")
    out = []
    for rec in recs:
        label = records.check_label(rec)
        out += [(f"gradcheck[{label}].{k}", rec[k]) for k in keys]
        out.append((f"gradcheck[{label}].rtol", rec["tolerance"]["rtol_formula"]))
    return out


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[Any]) -> Generator[None, Any, Any]:
    report = yield
    if call.when == "call" and RECORDS in item.stash:
        recs = records.mark_expected(item.stash[RECORDS], report.passed)
        setattr(report, REPORT_ATTRIBUTE, recs)
        if item.config.pluginmanager.hasplugin("html"):  # pytest-html: the checks' tables in the test's row
            _add_html_extra(report, recs)
    return report


def _add_html_extra(report: pytest.TestReport, recs: list[dict[str, Any]]) -> None:
    from pytest_html import extras

    from pytest_gradcheck.report.render_html import render_html

    report.extras = [*getattr(report, "extras", []), extras.html(render_html(recs))]


class _Collector:
    """Collects the records that test reports carry (in the controller they come from every xdist worker)."""

    def __init__(self, session: GradcheckSession) -> None:
        self.session = session

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        self.session.add(getattr(report, REPORT_ATTRIBUTE, ()))


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if session.config.stash[SESSION].finish() and session.exitstatus == pytest.ExitCode.OK:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    state = config.stash[SESSION]
    if state.collected or state.comparison is not None:
        terminalreporter.section("gradient checks")
        state.terminal_summary(terminalreporter.write_line, verbose=config.getoption("verbose") > 0,
                               width=config.get_terminal_writer().fullwidth)


@pytest.fixture(scope="session")
def gradcheck(pytestconfig: pytest.Config) -> Callable[..., Any]:
    """check_grad with defaults from the gradcheck marker, the command line and the ini file (call wins)."""
    return GradcheckFixture(pytestconfig.stash[SESSION])

"""The plugin's per-run state and logic, as a plain object the pytest hooks call into (testable without pytest).

Records ride on test reports (so pytest-xdist carries them from the workers); the controller collects them
from every report, and at the end writes the JSON report and the Markdown summary, compares with a baseline
and renders the terminal section.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from pytest_gradcheck import settings
from pytest_gradcheck.report import records

REPORT_ATTRIBUTE = "gradcheck_records"  # the attribute of a TestReport that carries its check records
# The modes of the other kinds of check: a marker's or ini file's mode that a kind does not have ("taylor") is
# dropped for it, as a setting that does not apply.
KIND_MODES = {"jvp": ("auto", "full", "fast"), "hvp": ("auto", "full", "fast"), "hessian": ("auto", "full", "fast")}


@dataclass
class ReportOptions:
    report: str | None = None
    baseline: str | None = None
    markdown: str | None = None
    factor: float | None = None
    step_summary: str | None = None  # the file to append the Markdown summary to (GITHUB_STEP_SUMMARY), if any


@dataclass
class GradcheckSession:
    """Defaults for the fixture, the records of the run, and the end-of-run outputs."""

    ini: Mapping[str, Any]
    command_line: Mapping[str, Any]
    outputs: ReportOptions
    is_worker: bool = False
    collected: list[dict[str, Any]] = field(default_factory=list)
    baseline: dict[str, Any] | None = None
    comparison: Any = None
    current_markers: Callable[[], list[Mapping[str, Any]]] = list  # the running test's marks, closest first
    written: list[str] = field(default_factory=list)
    write_errors: list[str] = field(default_factory=list)  # outputs that could not be written, and why

    def validate(self) -> None:
        """Fail fast on bad settings, factor or baseline (raises ValueError with a clear message)."""
        self.resolved_settings()
        if self.outputs.factor is not None:
            from pytest_gradcheck.report import baseline

            try:
                baseline.validate_factor(self.outputs.factor)
            except ValueError as error:
                raise ValueError(f"--gradcheck-regression-factor: {error}") from None
        if self.outputs.baseline and not self.is_worker:
            from pytest_gradcheck.report import report

            try:
                self.baseline = report.load_report(self.outputs.baseline)
            except report.ReportError as error:
                raise ValueError(f"--gradcheck-baseline: {error}") from None

    def defaults(self, call: Mapping[str, Any]) -> dict[str, Any]:
        """check_grad keywords for a fixture call inside the current test."""
        return settings.resolve(self.ini, self.command_line, self.current_markers(), call)

    def defaults_for(self, check: Callable[..., Any], kind: str, call: Mapping[str, Any]) -> dict[str, Any]:
        """Keywords of `check` (check_jvp, check_hvp, check_hessian) for a fixture call inside the current test:
        the settings as for check_grad, without those that do not apply to this kind of check (a keyword `check`
        does not take, such as per_op for check_jvp, or a mode it does not have); the call's own keywords as given."""
        accepted = inspect.signature(check).parameters
        merged = settings.resolve(self.ini, self.command_line, self.current_markers(), {})
        kept = {key: value for key, value in merged.items() if key in accepted}
        if kind in KIND_MODES and kept.get("mode", "auto") not in KIND_MODES[kind]:
            del kept["mode"]
        return {**kept, **call}

    def add(self, recs: Iterable[dict[str, Any]]) -> None:
        self.collected.extend(recs)

    def records(self) -> list[dict[str, Any]]:
        return records.fold(self.collected)

    def resolved_settings(self) -> dict[str, Any]:
        return settings.resolve(self.ini, self.command_line, [], {})

    def finish(self) -> bool:
        """Write the requested outputs and compare with the baseline; True when the run should fail: it regressed,
        or an output could not be written (the reason is kept in `write_errors`, never raised as a traceback)."""
        summary_path = self.outputs.step_summary if self.collected or self.baseline is not None else None
        if self.is_worker or not (self.outputs.report or self.outputs.markdown or self.baseline is not None
                                  or summary_path):
            return False
        from pytest_gradcheck.report import baseline, render, report, step_summary

        current = report.build_report(self.records(), self.resolved_settings())
        if self.baseline is not None:
            factor = self.outputs.factor or baseline.DEFAULT_REGRESSION_FACTOR
            self.comparison = baseline.compare(self.baseline, current, factor)
        if self.outputs.report:
            self._write(self.outputs.report, lambda path: report.write_report(path, current))
        if self.outputs.markdown:
            text = render.render_markdown(current, self.comparison, baseline_path=self.outputs.baseline,
                                          markdown_path=self.outputs.markdown)
            self._write(self.outputs.markdown, lambda path: report.write_text(path, text))
        if summary_path:  # pictures linked as recorded: the summary file lives in the runner's own folder
            summary = render.render_markdown(current, self.comparison, baseline_path=self.outputs.baseline)
            self._write(summary_path, lambda path: step_summary.append(path, summary),
                        name=f"the step summary {step_summary.VARIABLE}={summary_path}",
                        remedy=f" ({step_summary.OPTION}=off skips it)")
        return bool(self.comparison is not None and self.comparison.regressed) or bool(self.write_errors)

    def _write(self, path: str, write: Callable[[str], None], *, name: str | None = None, remedy: str = "") -> None:
        try:
            write(path)
        except OSError as error:  # a folder in the way, no permission, a full disk: the old file stays as it was
            self.write_errors.append(f"gradcheck: could not write {name or path}: {error.strerror or error}{remedy}")
        else:
            self.written.append(path)

    def terminal_summary(self, write_line: Callable[[str], None], *, verbose: bool, width: int | None = None) -> None:
        from pytest_gradcheck.report import render

        recs = self.records()
        if recs:
            render.render_summary(recs, write_line, verbose=verbose, width=width)
        if self.comparison is not None:
            render.render_comparison(self.comparison, write_line, baseline_path=self.outputs.baseline)
        for line in self.write_errors:
            write_line(line)
        for path in self.written:
            write_line(f"gradcheck: wrote {path}")


class GradcheckFixture:
    """The `gradcheck` fixture: `check_grad(f, args, **kwargs)` with defaults from the gradcheck marker, the
    command line and the ini file (the call's own keywords win); `.jvp(...)`, `.hvp(...)` and `.hessian(...)`
    run check_jvp, check_hvp and check_hessian with the same settings, those that apply to them."""

    def __init__(self, session: GradcheckSession) -> None:
        self._session = session

    def __call__(self, f: Callable[..., Any], args: Any, **kwargs: Any) -> Any:
        __tracebackhide__ = True  # a failing check shows the test's line and the verdict, not this frame
        from pytest_gradcheck.api import check_grad

        return check_grad(f, args, **self._session.defaults(kwargs))

    def jvp(self, f: Callable[..., Any], args: Any, **kwargs: Any) -> Any:
        """`check_jvp(f, args, **kwargs)` with this test's settings (those that apply to a jvp check)."""
        __tracebackhide__ = True
        from pytest_gradcheck.api_jvp import check_jvp

        return check_jvp(f, args, **self._session.defaults_for(check_jvp, "jvp", kwargs))

    def hvp(self, f: Callable[..., Any], args: Any, **kwargs: Any) -> Any:
        """`check_hvp(f, args, **kwargs)` with this test's settings (those that apply to an hvp check)."""
        __tracebackhide__ = True
        from pytest_gradcheck.api_second import check_hvp

        return check_hvp(f, args, **self._session.defaults_for(check_hvp, "hvp", kwargs))

    def hessian(self, f: Callable[..., Any], args: Any, **kwargs: Any) -> Any:
        """`check_hessian(f, args, **kwargs)` with this test's settings (those that apply to a Hessian check)."""
        __tracebackhide__ = True
        from pytest_gradcheck.api_second import check_hessian

        return check_hessian(f, args, **self._session.defaults_for(check_hessian, "hessian", kwargs))

    def __repr__(self) -> str:  # what a failing test's traceback shows for its argument
        return "<gradcheck fixture: check_grad with this test's settings>"

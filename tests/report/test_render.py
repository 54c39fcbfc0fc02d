"""Renderers as plain functions: the terminal table, the comparison lines and the Markdown summary."""

import math
import re

import numpy as np
import pytest

from pytest_gradcheck import check_grad
from pytest_gradcheck.report import baseline, records, render, report

LONG_TEST = ("tests/models/recurrent/attention/test_attention.py::TestMultiHead::"
             "test_gradient_of_the_attention_weights[heads-8-dim-64]")


def softplus(x):
    return np.sum(np.log1p(np.exp(x)))


def kinked(x):
    return np.sum(np.abs(x))


def wrong(x):
    return np.sum(np.exp(x))


@pytest.fixture(scope="module")
def checks():
    with records.recording() as results:
        check_grad(softplus, np.array([0.1, -0.4]), per_op="always")  # a passing check with its per-op rows
        check_grad(kinked, np.array([0.0, 0.2]), raise_on_mismatch=False)
        check_grad(wrong, np.array([0.1, 0.2]), grad=lambda x: np.exp(x) * 1.001, raise_on_mismatch=False)
    tests = ["tests/test_a.py::test_softplus", LONG_TEST, "tests/test_a.py::test_wrong"]
    return records.fold([records.to_record(r, t) for r, t in zip(results, tests, strict=True)])


@pytest.fixture(scope="module")
def named(checks):
    return {rec["check"]: rec for rec in checks}


def lines_of(render_function, *args, **kwargs):
    out = []
    render_function(*args, out.append, **kwargs)
    return out


def test_summary_has_a_header_a_row_per_check_and_the_count_line(checks):
    lines = lines_of(render.render_summary, checks)
    assert re.match(r"test\s+check\s+status\s+worst op\s+error\s+tolerance\s+evals\s+seconds$", lines[0])
    assert len(lines) == 1 + len(checks) + 1
    assert lines[-1] == "3 checks: 1 pass, 1 formula_error, 1 nondifferentiable"
    row = next(line for line in lines if "test_wrong" in line)
    # a wrong user gradient on a correct graph: no op is at fault, so the worst-op column shows "-"
    assert re.search(r"wrong\s+formula_error\s+-\s+1\.00e-03\s+4\.4e-16\s+\d+\s+\d+\.\d\d$", row), row


def test_summary_columns_line_up(checks):
    lines = lines_of(render.render_summary, checks)[:-1]
    statuses = ["status", *(rec["status"] for rec in checks)]
    assert len({line.index(f"  {status}  ") for line, status in zip(lines, statuses, strict=True)}) == 1


def test_long_test_ids_are_shortened_keeping_their_end(checks):
    lines = lines_of(render.render_summary, checks)
    row = next(line for line in lines if "heads-8-dim-64" in line)
    shown = row.split()[0]
    assert len(shown) == render.ID_WIDTH and shown.startswith(render.ELLIPSIS)
    assert LONG_TEST.endswith(shown.removeprefix(render.ELLIPSIS))


def test_a_wide_terminal_shows_whole_test_ids_and_a_narrow_one_keeps_their_ends(checks):
    wide = lines_of(render.render_summary, checks, width=240)
    assert any(line.startswith(LONG_TEST + " ") for line in wide) and max(map(len, wide)) <= 240
    narrow = lines_of(render.render_summary, checks, width=150)
    row = next(line for line in narrow if "heads-8-dim-64" in line)
    assert len(row) <= 150 and row.split()[0].startswith(render.ELLIPSIS)
    assert "gradient_of_the_attention_weights[heads-8-dim-64]" in row  # the distinctive end survives
    tiny = lines_of(render.render_summary, checks, width=20)  # never below MIN_ID_WIDTH: the row wraps instead
    assert len(next(line for line in tiny if "heads-8" in line).split()[0]) == render.MIN_ID_WIDTH


@pytest.mark.parametrize(("text", "width", "expected"), [
    ("tests/a/test_b.py::test_c", 40, "tests/a/test_b.py::test_c"),
    ("tests/a/test_b.py::test_c", 20, "test_b.py::test_c"),
    ("tests/a/test_b.py::test_long_name[p1]", 20, "...est_long_name[p1]"),
])
def test_shorten_id(text, width, expected):
    assert render.shorten_id(text, width) == expected


def test_the_worst_op_column_is_shown_only_for_the_engines_gradient(checks):
    assert {rec["gradient_source"] for rec in checks} == {"autodiff_ref", "grad"}
    lines = lines_of(render.render_summary, checks)
    assert "worst op" in lines[0]
    wrong_row = next(line for line in lines if "test_wrong" in line)
    assert re.search(r"wrong\s+formula_error\s+-\s+1\.00e-03", wrong_row)  # a hand-written gradient: no op
    hand_written = [rec for rec in checks if rec["gradient_source"] == "grad"]
    assert "worst op" not in lines_of(render.render_summary, hand_written)[0]
    assert "worst op" not in render.render_markdown(report.build_report(hand_written, {}))
    assert "worst op" in render.render_markdown(report.build_report(checks, {}))


def test_failing_checks_of_passing_tests_are_marked_expected(checks):
    marked = records.mark_expected(checks, test_passed=True)
    assert [rec.get("expected", False) for rec in marked] == [not rec["ok"] for rec in checks]
    assert records.mark_expected(checks, test_passed=False) == checks
    lines = lines_of(render.render_summary, marked)
    assert re.search(r"wrong\s+formula_error \(expected\)", next(line for line in lines if "test_wrong" in line))
    assert lines[-1].endswith("(1 failing check expected: its test passed, asserting the failure)")
    markdown = render.render_markdown(report.build_report(marked, {}))
    assert "## Gradient checks: 2 ok, 1 failing (all 1 expected by its test)" in markdown
    assert "**formula_error**" not in markdown and "formula_error (expected)" in markdown
    unexpected = render.render_markdown(report.build_report(checks, {}))
    assert "expected" not in unexpected and "**formula_error**" in unexpected


@pytest.mark.parametrize(("text", "width", "expected"), [
    ("tests/a/test_b.py::test_c", 40, "tests/a/test_b.py::test_c"),
    ("tests/a/test_b.py::test_c", 20, "test_b.py::test_c"),
    ("abcdefghijklmnopqrstuvwxyz", 11, "ab...uvwxyz"),
])
def test_shorten(text, width, expected):
    assert render.shorten(text, width) == expected


def test_shorten_op_drops_directories_first():
    assert render.shorten_op("tanh@/home/ci/project/tests/test_model.py:17", 30) == "tanh@test_model.py:17"
    assert render.shorten_op("tanh@model.py:17", 30) == "tanh@model.py:17"
    assert len(render.shorten_op("a_very_long_custom_primitive_name@m.py:1", 20)) == 20


def test_verbose_adds_the_per_op_rows_under_each_check(checks):
    quiet, verbose = lines_of(render.render_summary, checks), lines_of(render.render_summary, checks, verbose=True)
    ops = [line for line in verbose if line.startswith("    ")]
    assert len(verbose) == len(quiet) + len(ops) and not any(line.startswith("    ") for line in quiet)
    assert re.search(r"#\s+op\s+location\s+status\s+formula\s+float64", ops[0])
    assert any(re.search(r"^\s+1\s+absolute\s+\S+:\d+\s+nondifferentiable\s+\d\.\d\de-\d+", op) for op in ops)
    assert any("log1p" in op for op in ops)
    numbers = [int(op.split()[0]) for op in ops if op.split()[0].isdigit()]
    assert numbers.count(1) == len(checks) and 0 not in numbers  # numbered from 1 in each check


def test_verbose_says_why_a_check_has_no_per_op_rows(named):
    def log_det(a):
        return np.log(np.linalg.det(a))

    def log_det_grad(a):
        return np.linalg.inv(a).T

    with records.recording() as results:
        check_grad(log_det, np.eye(2) + 0.1, grad=log_det_grad, per_op="always")
        check_grad(np.linalg.det, np.eye(2) + 0.1, grad=lambda a: np.linalg.det(a) * np.linalg.inv(a).T,
                   per_op="always")
        check_grad(softplus, np.array([0.1, -0.4]), per_op="off")
        check_grad(softplus, np.array([0.1, -0.4]))  # passes: per_op="auto" checks no op one by one
    recs = [records.to_record(r, "t.py::t") for r in results]
    lines = [line for rec in recs for line in lines_of(render.render_summary, [rec], verbose=True)]
    untraced = [line for line in lines if "no per-op rows" in line and "np.linalg.det is not supported" in line]
    assert len(untraced) == 2 and all("could not be traced by autodiff_ref" in line for line in untraced)
    line = log_det.__code__.co_firstlineno + 1
    assert f"test_render.py:{line} in log_det" in untraced[0]  # the user's call that stopped the trace
    assert "numpy_bridge" not in untraced[1]  # f is numpy's own: no line of the engine is blamed
    assert '    (no per-op rows: per_op="off")' in lines
    assert ('    (no per-op rows: the whole-function check passed, so its ops were not checked one by one; '
            'per_op="always" checks each op)') in lines


def test_summary_shows_unmeasured_and_infinite_errors(named):
    rec = dict(named["softplus"], formula_error=None, worst_op=None)
    broken = dict(named["softplus"], id="x::y", formula_error=math.inf)
    lines = lines_of(render.render_summary, [rec, broken])
    assert re.search(r"softplus\s+pass\s+-\s+-\s+4\.4e-16", lines[1]) and " inf " in lines[2]


def test_count_line_of_nothing():
    assert lines_of(render.render_summary, []) == ["0 checks"]
    assert render.count_line([{"status": "pass"}]) == "1 check: 1 pass"


@pytest.fixture
def comparison(checks, named):
    """kinked regresses, wrong improves, softplus is removed and a new check appears."""
    new_checks = [dict(named["kinked"], ok=False, status="inconclusive"),
                  dict(named["wrong"], ok=True, status="pass", formula_error=1e-28),
                  dict(named["softplus"], id="tests/test_a.py::test_new::f")]
    return baseline.compare(report.build_report(checks, {}), report.build_report(new_checks, {}))


def test_comparison_lists_regressions_first_then_the_rest_then_the_remedy(comparison):
    lines = lines_of(render.render_comparison, comparison, baseline_path="ci/baseline.json")
    assert lines[0].startswith(f"REGRESSION {LONG_TEST}::kinked: was ok (nondifferentiable), now failing")
    assert lines[1].startswith("improved   tests/test_a.py::test_wrong::wrong: was failing (formula_error)")
    assert lines[2] == "new        tests/test_a.py::test_new::f"
    assert lines[3] == "removed    tests/test_a.py::test_softplus::softplus"
    assert lines[4] == ("baseline comparison: regressed: 1 regression, 1 improvement, 1 new, 1 removed, "
                        "0 unchanged (factor 10)")
    assert lines[5] == ("to accept the new values as the baseline, run pytest with "
                        "--gradcheck-report=ci/baseline.json (or copy the new report over it)")


def test_comparison_without_regressions_has_no_remedy(checks):
    built = report.build_report(checks, {})
    lines = lines_of(render.render_comparison, baseline.compare(built, built))
    assert lines == ["baseline comparison: no regressions: 0 regressions, 0 improvements, 0 new, 0 removed, "
                     "3 unchanged (factor 10)"]


def test_markdown_headline_counts_and_table(checks):
    text = render.render_markdown(report.build_report(checks, {}))
    lines = text.splitlines()
    assert lines[0] == "## Gradient checks: 2 ok, 1 failing"
    assert "3 checks: 1 pass, 1 formula_error, 1 nondifferentiable." in lines
    assert "| test | check | status | worst op | error | tolerance |" in lines
    table = [line for line in lines if line.startswith("| `")]
    assert len(table) == 3 and "**formula_error**" in table[0]  # failing checks first
    assert "`tests/test_a.py::test_wrong`" in table[0] and "| 1.00e-03 | 4.4e-16 |" in table[0]
    assert "Baseline" not in text and "mpmath" in lines[-1] and text.endswith("\n")


def test_markdown_escapes_pipes_in_ids(named):
    rec = dict(named["softplus"], test="tests/test_a.py::test_p[a|b]", id="tests/test_a.py::test_p[a|b]::softplus")
    assert "`tests/test_a.py::test_p[a\\|b]`" in render.render_markdown(report.build_report([rec], {}))


def test_markdown_with_a_comparison_has_its_sections(checks, comparison):
    text = render.render_markdown(report.build_report(checks, {}), comparison, baseline_path="base.json")
    assert text.splitlines()[0] == "## Gradient checks: 2 ok, 1 failing, 1 regression against the baseline"
    for heading in ("### Baseline comparison: 1 regression", "#### Regressions (1)", "#### Improvements (1)",
                    "#### New checks (1)", "#### Removed checks (1)"):
        assert heading in text
    assert f"| `{LONG_TEST}::kinked` | nondifferentiable | inconclusive | was ok" in text
    assert "- `tests/test_a.py::test_new::f`" in text and "--gradcheck-report=base.json" in text


def test_markdown_table_is_capped_with_failing_checks_kept(named, monkeypatch):
    monkeypatch.setattr(render, "MARKDOWN_ROWS", 2)
    many = [dict(named["softplus"], id=f"t::{i}") for i in range(4)] + [dict(named["wrong"], id="t::z")]
    text = render.render_markdown(report.build_report(many, {}))
    assert "**formula_error**" in text and "... and 3 more passing checks" in text


def test_markdown_of_no_checks():
    assert "No gradient checks ran." in render.render_markdown(report.build_report([], {}))


def test_a_float64_accuracy_row_shows_the_float64_error_against_its_tolerance():
    def cancelling_grad(x):  # the right formula; in float64 (x + 1e8) - 1e8 keeps only 8 digits of x
        return 2 * ((x + 1e8) - 1e8)

    with records.recording() as results:
        check_grad(lambda x: np.sum(x**2), np.array([0.1, 0.3]), grad=cancelling_grad, per_op="off",
                   raise_on_mismatch=False)
    (rec,) = records.fold([records.to_record(results[0], "tests/test_b.py::test_accuracy")])
    assert rec["status"] == "float64_accuracy"
    error, tolerance = render.shown_error(rec)
    assert (error, tolerance) == (rec["float64_error"], rec["tolerance"]["rtol_float64"]) and error > tolerance
    row = next(line for line in lines_of(render.render_summary, [rec]) if "test_accuracy" in line)
    assert render.number(error) in row and render.number(tolerance, 1) in row
    markdown_row = next(line for line in render.render_markdown(report.build_report([rec], {})).splitlines()
                        if "test_accuracy" in line)
    assert render.number(error) in markdown_row and render.number(tolerance, 1) in markdown_row


def test_control_characters_in_a_report_are_shown_escaped_never_sent_to_the_terminal(named):
    rec = dict(next(iter(named.values())))
    rec["test"] = "tests/test_x.py::test_\x1b[2Jcleared"
    rec["check"] = "f\x07"
    lines = lines_of(render.render_summary, [rec])
    assert not any("\x1b" in line or "\x07" in line for line in lines)
    assert any("\\x1b[2Jcleared" in line for line in lines)
    markdown = render.render_markdown(report.build_report([rec], {}))
    assert "\x1b" not in markdown and "\\x1b" in markdown

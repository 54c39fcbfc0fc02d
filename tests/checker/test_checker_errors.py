"""A bug in the checker is status "error" naming the frame, never a pass, a skip or a float64 fallback.

Each test breaks one piece of the checker's own code (monkeypatching an internal name to None, so the
checker's own line raises TypeError, as a real bug would) and asserts the check reports it. Before these
handlers classified who raised, each of these checks passed: the first three fell back to a float64
reference, the per-op one marked the op "skipped" with ok=True, the sweep lost its points silently.
"""

import re

import numpy as np
import pytest

from pytest_gradcheck import GradcheckError, check_grad, is_high_precision
from pytest_gradcheck.checker import modes
from pytest_gradcheck.hp import array as hparray
from pytest_gradcheck.hp import blame, precision, quad
from pytest_gradcheck.hp.twins import methods as twin_methods
from pytest_gradcheck.hp.twins.linalg import solvers as hp_solvers
from pytest_gradcheck.plots import step_sweep

X = np.array([0.3, -0.7, 1.1])
needs_quad = pytest.mark.skipif(not quad.available(), reason="the quad tier needs numpy-quaddtype")


def _assert_error(result, frame):
    assert result.status == "error"
    assert not result.ok
    note = " ".join(result.notes)
    assert re.search(frame, note), note
    assert "TypeError: 'NoneType' object is not callable" in note


def test_a_broken_mpf_ufunc_method_is_an_error_not_a_float64_fallback(monkeypatch):
    monkeypatch.setattr(twin_methods, "_real_cbrt", None)  # np.cbrt's element method calls it
    result = check_grad(lambda x: np.sum(np.cbrt(x)), X, grad=lambda x: np.cbrt(x) ** -2 / 3,
                        raise_on_mismatch=False, per_op="off", backend="mpmath")  # the mpmath tier's own mechanics
    _assert_error(result, r"pytest_gradcheck/hp/twins/methods\.py:\d+ in <lambda>")
    assert "high-precision evaluation of f" in result.notes[0]


def test_a_broken_hparray_dispatch_helper_is_an_error(monkeypatch):
    monkeypatch.setattr(hparray, "_exact_scalar", None)  # a Python scalar operand of a ufunc goes through it
    result = check_grad(lambda x: np.sum(2.5 * x * x), X, grad=lambda x: 5.0 * x, raise_on_mismatch=False,
                        per_op="off", backend="mpmath")  # the mpmath tier's own mechanics
    _assert_error(result, r"pytest_gradcheck/hp/array\.py:\d+ in _plain_operands")  # a step of dispatch_ufunc


@needs_quad
@pytest.mark.parametrize("helper", ["_all_quad", "_as_quad"])
def test_a_broken_quad_dispatch_helper_is_an_error(monkeypatch, helper):
    # _all_quad: the fast path of every ufunc call on quad arrays and Python numbers; _as_quad: the general path's
    # conversion of its operands (a float64 array operand takes it)
    monkeypatch.setattr(quad, helper, None)
    weights = np.full(np.shape(X), 2.5)
    result = check_grad(lambda x: np.sum(weights * x * x), X, grad=lambda x: 5.0 * x, raise_on_mismatch=False,
                        per_op="off", backend="quad")
    _assert_error(result, r"pytest_gradcheck/hp/quad\.py:\d+ in __array_ufunc__")


@needs_quad
def test_a_broken_step_of_the_quad_tiers_mpmath_path_is_an_error(monkeypatch):
    monkeypatch.setattr(quad, "_from_mpmath", None)  # np.sinc is no quad loop: it runs on the mpmath path
    result = check_grad(lambda x: np.sum(np.sinc(x)), X, grad=lambda x: 0 * x, raise_on_mismatch=False,
                        per_op="off", backend="quad")
    _assert_error(result, r"pytest_gradcheck/hp/quad\.py:\d+ in through_mpmath")


def test_a_broken_twin_is_an_error_and_check_grad_raises(monkeypatch):
    monkeypatch.setattr(hp_solvers, "_lu", None)  # numpy.linalg.det's twin factors through it
    a = np.array([[2.0, 0.5], [0.3, 1.5]])
    with pytest.raises(GradcheckError) as raised:
        check_grad(lambda a: np.linalg.det(a), a, grad=lambda a: np.array([[a[1, 1], -a[1, 0]], [-a[0, 1], a[0, 0]]]),
                   per_op="off")
    _assert_error(raised.value.result, r"pytest_gradcheck/hp/twins/linalg/solvers\.py:\d+ in determinant")
    assert "bug in pytest-gradcheck" in str(raised.value)


def test_a_checker_bug_in_the_gradient_at_high_precision_is_an_error(monkeypatch):
    monkeypatch.setattr(twin_methods, "_real_cbrt", None)  # only the gradient calls np.cbrt
    result = check_grad(lambda x: 0.5 * np.sum(x * x), X, grad=lambda x: np.cbrt(x * x * x),
                        raise_on_mismatch=False, per_op="off", backend="mpmath")  # the mpmath tier's own mechanics
    _assert_error(result, r"pytest_gradcheck/hp/twins/methods\.py:\d+ in <lambda>")
    assert "the gradient (grad) at high precision" in result.notes[0]


def test_a_checker_bug_inside_an_op_check_is_an_error_row_and_the_result_says_so(monkeypatch):
    monkeypatch.setattr(modes, "run_screen", None)  # per-op checks always screen; mode="full" alone does not
    x = np.array([0.4, -0.2])
    result = check_grad(lambda x: np.sum(np.tanh(x)), x, mode="full", per_op="always",
                        raise_on_mismatch=False)
    rows = [r for r in result.ops if r.name == "tanh"]
    assert rows and rows[0].status == "error" and not rows[0].ok
    assert re.search(r"pytest_gradcheck/checker/check\.py:\d+ in _decide", rows[0].note), rows[0].note
    _assert_error(result, r"op \d+ \(tanh\): checker error: ")
    assert "error" in "\n".join(result.message().splitlines()[-6:])


def test_a_checker_bug_in_the_step_sweep_raises_instead_of_losing_points(monkeypatch):
    phi = step_sweep._phi(blame.user_code(lambda x: np.sum(x ** 3)), (X,), (np.ones(3),), None)
    steps = [1e-2, 1e-3]
    central, _, _, _ = step_sweep._differences(phi, steps, lambda e: float(abs(np.sum(e))), 5.0)
    assert np.isfinite(central).all()  # intact, every step is a point
    monkeypatch.setattr(step_sweep, "_moved", None)
    with pytest.raises(blame.CheckerError, match=r"step_sweep\.py:\d+ in <genexpr>"):
        step_sweep._differences(phi, steps, lambda e: float(abs(np.sum(e))), 5.0)


def test_the_users_own_exception_at_high_precision_stays_a_fallback_naming_the_users_line():
    def f(x):
        if is_high_precision(x):
            raise ValueError("this code only runs in float64")
        return np.sum(x * x)

    result = check_grad(f, X, grad=lambda x: 2 * x, per_op="off")
    assert result.ok and not result.high_precision
    assert re.search(r"ValueError: this code only runs in float64 at .*test_checker_errors\.py:\d+",
                     result.precision_note), result.precision_note


def test_a_division_by_zero_in_the_users_code_stays_a_fallback():
    def f(x):
        with np.errstate(divide="ignore"):
            blowup = x / 0.0  # float64: +-inf; high precision: mpmath raises ZeroDivisionError
        return np.sum(x * x) + 0.0 * np.sum(blowup == blowup)

    result = check_grad(f, X, grad=lambda x: 2 * x, per_op="off")
    assert result.ok and not result.high_precision
    assert re.search(r"ZeroDivisionError.* at .*test_checker_errors\.py:\d+", result.precision_note), \
        result.precision_note


def test_no_object_loop_is_the_deliberate_unsupported_signal_and_stays_a_fallback():
    result = check_grad(lambda x: np.sum(x * x) + 0.0 * np.sum(np.nextafter(x, 2.0)), X, grad=lambda x: 2 * x,
                        per_op="off")
    assert result.ok and not result.high_precision
    assert "numpy.nextafter, which raised TypeError" in result.precision_note, result.precision_note


def _error_report(monkeypatch, tmp_path):
    """A report holding one real "error" check (a mutated twin) and one passing check, as written and loaded."""
    from pytest_gradcheck.report import records, report

    a = np.array([[2.0, 0.5], [0.3, 1.5]])
    with records.recording() as results:
        check_grad(lambda x: np.sum(x * x), X, grad=lambda x: 2 * x, per_op="off")
        with monkeypatch.context() as patch:
            patch.setattr(hp_solvers, "_lu", None)
            check_grad(lambda a: np.linalg.det(a), a, per_op="off", raise_on_mismatch=False,
                       grad=lambda a: np.array([[a[1, 1], -a[1, 0]], [-a[0, 1], a[0, 0]]]))
    built = report.build_report([records.to_record(r, f"test_{i}") for i, r in enumerate(results)], {})
    report.write_report(tmp_path / "report.json", built)
    return report.load_report(tmp_path / "report.json")


def test_an_error_check_reaches_the_json_report_markdown_and_terminal_naming_the_frame(monkeypatch, tmp_path):
    from pytest_gradcheck.report import render

    loaded = _error_report(monkeypatch, tmp_path)
    broken = [rec for rec in loaded["checks"] if rec["status"] == "error"]
    assert len(broken) == 1 and not broken[0]["ok"] and not loaded["summary"]["ok"]
    assert re.search(r"linalg/solvers\.py:\d+ in determinant", broken[0]["error"])
    assert loaded["summary"]["by_status"] == {"pass": 1, "error": 1}
    markdown = render.render_markdown(loaded)
    assert "### Checker errors (1 check)" in markdown and "**error**" in markdown
    assert re.search(r"linalg/solvers\.py:\d+ in determinant", markdown.split("### Checker errors")[1])
    lines = []
    render.render_summary(loaded["checks"], lines.append)
    assert any(re.search(r"checker error: .*linalg/solvers\.py:\d+ in determinant", line) for line in lines), lines
    assert lines[-1] == "2 checks: 1 pass, 1 error"


def test_an_error_is_a_regression_against_any_baseline_status(monkeypatch, tmp_path):
    import copy

    from pytest_gradcheck.report import baseline

    current = _error_report(monkeypatch, tmp_path)
    for old_status, old_ok in (("pass", True), ("formula_error", False)):
        old = copy.deepcopy(current)
        for rec in old["checks"]:
            if rec["status"] == "error":
                rec.update(status=old_status, ok=old_ok)
        comparison = baseline.compare(old, current)
        assert [c.new_status for c in comparison.regressions] == ["error"]
        assert comparison.regressions[0].old_status == old_status
        assert "the checker raised an error" in comparison.regressions[0].reason
    assert not baseline.compare(current, current).regressed  # an error that stays an error is not new


def test_an_op_whose_own_code_raises_is_skipped_with_its_line_in_the_row_and_the_overall_note():
    import autodiff_ref
    from pytest_gradcheck.checker import check
    from pytest_gradcheck.checker.options import Options

    state = {"armed": False}

    @autodiff_ref.primitive(elementwise=True)
    def flaky(x):
        if state["armed"]:
            raise ValueError("sensor offline")
        return np.sin(x)

    flaky.defvjp(lambda ans, x: lambda g: g * np.cos(x))

    def f(x):
        out = np.sum(flaky(x))
        state["armed"] = True  # traced once; the op's own check then meets the user's error
        return out

    options = Options(None, None, "auto", None, None, 4, "fail", "all")
    rows, note, _ = check.op_rows(f, (X,), options)
    row = next(r for r in rows if r.name == "flaky")
    assert row.status == "skipped" and row.ok
    assert re.search(r"ValueError: sensor offline at .*test_checker_errors\.py:\d+ in flaky", row.note), row.note
    assert re.search(r"per-op check skipped op \d+ \(flaky\): .*sensor offline", note), note


def test_a_picture_that_fails_leaves_the_verdict_and_a_note_naming_the_frame(monkeypatch, tmp_path):
    pytest.importorskip("matplotlib")
    monkeypatch.setattr(step_sweep, "_moved", None)
    result = check_grad(lambda x: np.sum(x ** 3), X, grad=lambda x: 3 * x * x + 1e-3, raise_on_mismatch=False,
                        per_op="off", plots=tmp_path)
    assert result.status == "formula_error"  # the verdict stands
    note = next(n for n in result.notes if n.startswith("plots:"))
    assert re.search(r"TypeError: 'NoneType' object is not callable at pytest_gradcheck/plots/step_sweep\.py:\d+ in "
                     r"<genexpr>", note), note
    assert [p.endswith(".ops.png") for p in result.plots] == [True]


def test_ufunc_at_keeps_an_integer_index_at_high_precision():
    # Found by the checks above: np.add.at(out, 0, g) (getitem's backward rule) converted the index 0 to an mpf,
    # numpy raised IndexError, and every getitem op's rule was silently judged in float64.
    ctx = precision.context(40)
    out = precision.to_hp(np.zeros(3), ctx)
    third = ctx.mpf(1) / 3
    np.add.at(out, 1, precision.to_hp(np.zeros(()), ctx) + third)
    assert list(out) == [0, third, 0]
    result = check_grad(lambda z: np.exp(z[0]) + np.sum(z), X, per_op="always", raise_on_mismatch=False)
    row = next(r for r in result.ops if r.name == "getitem")
    assert row.status == "pass" and "cannot run at high precision" not in row.note, row.note

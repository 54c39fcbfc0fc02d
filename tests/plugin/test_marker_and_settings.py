"""The marker, the fixture and the precedence of settings, in real pytest sessions (pytester)."""

import pytest

from pytest_gradcheck.hp import quad

# check_grad's own default digits: the quad tier's 33 when numpy-quaddtype is installed, else mpmath's 40.
DEFAULT_DIGITS = quad.QUAD_DIGITS if quad.available() else 40
needs_quad = pytest.mark.skipif(not quad.available(), reason="the quad tier needs numpy-quaddtype")

CHECK = """
import numpy as np
import pytest

def f(x):
    return np.sum(np.exp(x))

X = np.array([0.1, -0.3])
"""


def test_marker_is_registered(pytester):
    result = pytester.runpytest("--markers")
    result.stdout.fnmatch_lines(["@pytest.mark.gradcheck(**settings): a gradient-check test*"])


def test_marker_selects_gradient_tests(pytester):
    pytester.makepyfile(CHECK + """
@pytest.mark.gradcheck
def test_gradient(gradcheck):
    gradcheck(f, X)

def test_other():
    pass
""")
    result = pytester.runpytest("-m", "gradcheck", "--strict-markers")
    result.assert_outcomes(passed=1, deselected=1)


@pytest.mark.parametrize(
    ("ini", "command_line", "marker", "call", "expected"),
    [
        (None, None, None, None, DEFAULT_DIGITS),  # check_grad's own default
        (25, None, None, None, 25),
        (25, 35, None, None, 35),  # command line beats ini
        (25, 35, 30, None, 30),  # marker beats command line
        (25, 35, 30, 45, 45),  # the call beats everything
    ],
)
def test_precedence_call_marker_command_line_ini(pytester, ini, command_line, marker, call, expected):
    if ini is not None:
        pytester.makeini(f"[pytest]\ngradcheck_digits = {ini}\n")
    mark = f"@pytest.mark.gradcheck(digits={marker})" if marker is not None else ""
    keyword = f", digits={call}" if call is not None else ""
    pytester.makepyfile(CHECK + f"""
{mark}
def test_digits(gradcheck):
    assert gradcheck(f, X{keyword}).digits == {expected}
""")
    args = [f"--gradcheck-digits={command_line}"] if command_line is not None else []
    pytester.runpytest(*args).assert_outcomes(passed=1)


def test_module_and_class_marks_closest_wins(pytester):
    pytester.makepyfile(CHECK + """
pytestmark = pytest.mark.gradcheck(mode="fast", digits=30)

def test_module_level(gradcheck):
    result = gradcheck(f, X)
    assert (result.mode, result.digits) == ("fast", 30)

@pytest.mark.gradcheck(digits=35)
class TestClass:
    def test_class_level(self, gradcheck):
        result = gradcheck(f, X)
        assert (result.mode, result.digits) == ("fast", 35)

    @pytest.mark.gradcheck(mode="full")
    def test_function_level(self, gradcheck):
        result = gradcheck(f, X)
        assert (result.mode, result.digits) == ("full", 35)
""")
    pytester.runpytest().assert_outcomes(passed=3)


def test_every_setting_reaches_check_grad(pytester):
    pytester.makepyfile(CHECK + """
@pytest.mark.gradcheck(rtol=1e-6, atol=1e-9, seed=7, per_op="off", float64_accuracy="warn", projections=3,
                       mode="fast")
def test_all(gradcheck):
    result = gradcheck(f, X)
    assert result.tolerance["rtol_formula"] == 1e-6 and result.tolerance["atol"] == 1e-9
    assert result.ops == [] and result.accuracy_is_warning and result.projections == 3
""")
    pytester.runpytest().assert_outcomes(passed=1)


@pytest.mark.parametrize(
    ("where", "needle"),
    [
        ("ini", "ini file: digits: expected int, got 'many'"),
        ("command_line", "command line: mode: expected one of auto, full, fast, taylor, diagonal; got 'quick'"),
    ],
)
def test_bad_settings_are_usage_errors(pytester, where, needle):
    if where == "ini":
        pytester.makeini("[pytest]\ngradcheck_digits = many\n")
        result = pytester.runpytest()
    else:
        result = pytester.runpytest("--gradcheck-mode=quick")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert needle in result.stderr.str()


def test_unknown_marker_setting_fails_the_test_with_a_clear_message(pytester):
    pytester.makepyfile(CHECK + """
@pytest.mark.gradcheck(precision=50)
def test_typo(gradcheck):
    gradcheck(f, X)
""")
    result = pytester.runpytest()
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*unknown gradcheck setting 'precision'; known settings: digits, backend, mode*"])


def test_budget_settings_from_the_command_line_and_ini_stop_a_check(pytester):
    pytester.makeini("[pytest]\ngradcheck_max_seconds = inf\n")
    pytester.makepyfile(CHECK + """
def test_budget(gradcheck):
    result = gradcheck(f, X, mode="full", raise_on_mismatch=False)
    assert result.status == "budget_exceeded" and len(result.checked) < X.size
""")
    pytester.runpytest("--gradcheck-max-evaluations=20").assert_outcomes(passed=1)
    refused = pytester.runpytest("--gradcheck-max-seconds=0")
    refused.assert_outcomes(failed=1)
    refused.stdout.fnmatch_lines(["*max_seconds: expected a positive number of seconds*"])


def test_per_op_setting_takes_the_choices_check_grad_takes():
    from pytest_gradcheck.checker.options import PER_OP_CHOICES
    from pytest_gradcheck.settings import parse_setting

    for choice in PER_OP_CHOICES:
        assert parse_setting("per_op", choice, "ini file") == choice
    assert parse_setting("per_op", True, "marker") is True
    with pytest.raises(ValueError, match=r"^command line: per_op: expected one of auto, always, all, custom, off; "
                                         r"got 'sometimes'$"):
        parse_setting("per_op", "sometimes", "command line")


def test_per_op_from_the_ini_file_and_the_marker(pytester):
    pytester.makeini("[pytest]\ngradcheck_per_op = always\n")
    pytester.makepyfile(CHECK + """
def test_ini_always(gradcheck):
    result = gradcheck(f, X)
    assert result.status == "pass" and [row.name for row in result.ops] == ["exp", "sum"]

@pytest.mark.gradcheck(per_op="auto")
def test_marker_auto(gradcheck):
    result = gradcheck(f, X)
    assert result.status == "pass" and result.ops == [] and "were not checked one by one" in result.ops_note
""")
    pytester.runpytest().assert_outcomes(passed=2)


def test_backend_setting_takes_the_choices_check_grad_takes():
    from pytest_gradcheck.checker.options import BACKENDS
    from pytest_gradcheck.settings import SETTINGS, parse_setting

    for choice in BACKENDS:
        assert parse_setting("backend", choice, "ini file") == choice
    assert SETTINGS["backend"].option == "--gradcheck-backend" and SETTINGS["backend"].ini == "gradcheck_backend"
    with pytest.raises(ValueError, match=r"^@pytest.mark.gradcheck: backend: expected one of auto, quad, mpmath; "
                                         r"got 'float128'$"):
        parse_setting("backend", "float128", "@pytest.mark.gradcheck")


def test_backend_from_the_marker_reaches_the_check(pytester):
    pytester.makepyfile(CHECK + """
@pytest.mark.gradcheck(backend="mpmath")
def test_marker_mpmath(gradcheck):
    result = gradcheck(f, X)
    assert (result.backend, result.digits) == ("mpmath", 40)
    assert "40-digit mpmath reference" in result.summary()

@pytest.mark.gradcheck(backend="mpmath", digits=25)
def test_marker_mpmath_digits(gradcheck):
    assert (gradcheck(f, X).backend, gradcheck(f, X).digits) == ("mpmath", 25)

def test_default(gradcheck):
    assert gradcheck(f, X).backend == ("quad" if DEFAULT_DIGITS == 33 else "mpmath")
""".replace("DEFAULT_DIGITS", str(DEFAULT_DIGITS)))
    pytester.runpytest().assert_outcomes(passed=3)


@needs_quad
def test_backend_from_the_command_line_beats_ini_and_the_call_beats_both(pytester, monkeypatch):
    pytester.makeini("[pytest]\ngradcheck_backend = mpmath\n")
    pytester.makepyfile(CHECK + """
import os

def test_session_setting(gradcheck):
    assert gradcheck(f, X).backend == os.environ["EXPECTED_BACKEND"]

def test_call(gradcheck):
    assert gradcheck(f, X, backend="quad").backend == "quad"
""")
    monkeypatch.setenv("EXPECTED_BACKEND", "mpmath")
    pytester.runpytest().assert_outcomes(passed=2)
    monkeypatch.setenv("EXPECTED_BACKEND", "quad")
    pytester.runpytest("--gradcheck-backend=quad").assert_outcomes(passed=2)


def test_a_bad_backend_on_the_command_line_is_a_usage_error(pytester):
    result = pytester.runpytest("--gradcheck-backend=fast")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert "command line: backend: expected one of auto, quad, mpmath; got 'fast'" in result.stderr.str()

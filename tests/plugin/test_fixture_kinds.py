"""The fixture's other kinds of check (gradcheck.jvp, .hvp, .hessian) in real pytest sessions (pytester): the
test's settings apply as for gradcheck(...), those that do not apply are dropped, and results are recorded."""

import json

from pytest_gradcheck.session import GradcheckSession, ReportOptions

JVP = """
import numpy as np
import pytest

def f(x):
    return np.tanh(x)

def jvp(tangents, x):
    return (1 - np.tanh(x) ** 2) * tangents[0]

def wrong_jvp(tangents, x):
    out = jvp(tangents, x)
    out[1] *= 1 + 1e-9
    return out

X = np.array([0.1, -0.3, 0.5])
"""


def test_the_fixture_runs_check_jvp_with_the_markers_settings(pytester):
    pytester.makepyfile(JVP + """
@pytest.mark.gradcheck(digits=30, mode="full", seed=3, per_op="always", plots=None)
def test_jvp(gradcheck):
    result = gradcheck.jvp(f, (X,), jvp=jvp)
    assert result.kind == "jvp" and result.digits == 30 and result.mode == "full" and result.ok

@pytest.mark.gradcheck(mode="taylor")  # no taylor mode for jvp checks: dropped, not an error
def test_mode_that_does_not_apply(gradcheck):
    assert gradcheck.jvp(f, (X,), jvp=jvp, mode="fast").mode == "fast"
    assert gradcheck.jvp(f, (X,), jvp=jvp).mode in ("full", "fast")

def test_call_keywords_win(gradcheck):
    assert gradcheck.jvp(f, (X,), jvp=jvp, rtol=1e-3).tolerance["rtol_formula"] == 1e-3
""")
    result = pytester.runpytest("--gradcheck-per-op=off", "--gradcheck-rtol=1e-12")
    result.assert_outcomes(passed=3)


def test_command_line_settings_apply_to_jvp_checks(pytester):
    pytester.makepyfile(JVP + """
def test_jvp(gradcheck):
    result = gradcheck.jvp(f, (X,), jvp=jvp)
    assert result.tolerance["rtol_formula"] == 1e-12 and result.backend == "mpmath" and result.digits == 25
""")
    result = pytester.runpytest("--gradcheck-rtol=1e-12", "--gradcheck-digits=25", "--gradcheck-per-op=custom")
    result.assert_outcomes(passed=1)


def test_a_failing_jvp_check_fails_the_test_and_is_recorded_with_its_kind(pytester):
    pytester.makepyfile(JVP + """
def test_bad(gradcheck):
    gradcheck.jvp(f, (X,), jvp=wrong_jvp)

def test_grad_and_jvp_of_one_function(gradcheck):
    gradcheck(f, X)  # the engine's VJP of the same function: two records
    gradcheck.jvp(f, (X,), jvp=jvp)
""")
    result = pytester.runpytest("--gradcheck-report=out/report.json", "--gradcheck-markdown=out/summary.md")
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(["*the jvp formula disagrees*", "*output element (1,)*"])
    result.stdout.fnmatch_lines(["*f (jvp)*formula_error*"])
    report = json.loads((pytester.path / "out" / "report.json").read_text())
    assert report["version"] == 2
    kinds = {rec["id"].split("::", 1)[1]: rec["kind"] for rec in report["checks"]}
    assert kinds == {"test_bad::f[jvp]": "jvp", "test_grad_and_jvp_of_one_function::f[jvp]": "jvp",
                     "test_grad_and_jvp_of_one_function::f": "grad"}
    assert "`f (jvp)`" in (pytester.path / "out" / "summary.md").read_text()


def test_a_jvp_baseline_is_compared_with_the_same_kind_only(pytester):
    pytester.makepyfile(JVP + """
def test_one(gradcheck):
    gradcheck.jvp(f, (X,), jvp=jvp)
""")
    pytester.runpytest("--gradcheck-report=base.json").assert_outcomes(passed=1)
    pytester.makepyfile(JVP + """
def test_one(gradcheck):
    gradcheck.jvp(f, (X,), jvp=jvp)
    gradcheck(lambda x: np.sum(x ** 2), X)
""")
    result = pytester.runpytest("--gradcheck-baseline=base.json")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["*1 new*1 unchanged*"])


def _session(marker):
    session = GradcheckSession(ini={}, command_line={"per_op": "off", "plots": None}, outputs=ReportOptions())
    session.current_markers = lambda: [marker]
    return session


def test_settings_that_do_not_apply_to_a_kind_are_dropped():
    def check_kind(f, args, *, rtol=None, mode="auto", seed=None):  # a check without per_op or plots
        return {"rtol": rtol, "mode": mode, "seed": seed}

    session = _session({"rtol": 1e-9, "mode": "taylor", "per_op": "always", "seed": 2})
    assert session.defaults_for(check_kind, "jvp", {}) == {"rtol": 1e-9, "seed": 2}
    assert session.defaults_for(check_kind, "jvp", {"seed": 5}) == {"rtol": 1e-9, "seed": 5}
    assert session.defaults_for(check_kind, "hessian", {}) == {"rtol": 1e-9, "seed": 2}
    assert session.defaults_for(check_kind, "jvp", {"mode": "taylor"})["mode"] == "taylor"  # the call's: its error
    full = _session({"mode": "full", "per_op": "always"})
    assert full.defaults_for(check_kind, "hvp", {}) == {"mode": "full"}


SECOND = """
import numpy as np
import pytest

def quartic(x, y):
    return np.sum(x ** 4) / 4 + np.sum(x * y)

def hvp(v, x, y):  # H (vx, vy), one array per argument
    return 3 * x ** 2 * v[0] + v[1], v[0]

def wrong_hvp(v, x, y):
    hx, hy = hvp(v, x, y)
    hx = hx.copy()
    hx[0] *= 1 + 1e-9
    return hx, hy

def hessian(x, y):
    n = x.size
    return ((np.diag(3 * x ** 2), np.eye(n)), (np.eye(n), np.zeros((n, n))))

X, Y = np.array([0.3, -0.5]), np.array([1.0, 2.0])
"""


def test_the_fixture_runs_check_hvp_and_check_hessian_with_the_tests_settings(pytester):
    pytester.makepyfile(SECOND + """
@pytest.mark.gradcheck(mode="full", digits=30, per_op="always", plots=None)
def test_hvp(gradcheck):
    result = gradcheck.hvp(quartic, (X, Y), hvp=hvp)
    assert result.kind == "hvp" and result.mode == "full" and result.digits == 30 and result.ok

@pytest.mark.gradcheck(mode="taylor", seed=4)
def test_hessian(gradcheck):
    result = gradcheck.hessian(quartic, (X, Y), hessian=hessian)
    assert result.kind == "hessian" and result.ok and result.tolerance["rtol_formula"] == 1e-12

def test_wrong_hvp(gradcheck):
    gradcheck.hvp(quartic, (X, Y), hvp=wrong_hvp)
""")
    result = pytester.runpytest("--gradcheck-rtol=1e-12", "--gradcheck-report=out/report.json")
    result.assert_outcomes(passed=2, failed=1)
    result.stdout.fnmatch_lines(["*quartic (hvp)*formula_error*"])
    report = json.loads((pytester.path / "out" / "report.json").read_text())
    assert sorted((rec["id"].split("::", 1)[1], rec["kind"]) for rec in report["checks"]) == [
        ("test_hessian::quartic[hessian]", "hessian"), ("test_hvp::quartic[hvp]", "hvp"),
        ("test_wrong_hvp::quartic[hvp]", "hvp")]

"""CI with a stored baseline: a gradient that drifts is caught even while its check still passes.

A small project (written into a temporary folder by pytester) has two gradient checks. CI stores a baseline
report from a good run (`--gradcheck-report`); later runs compare with it (`--gradcheck-baseline`, or the
`gradcheck compare` command on two reports). Here someone "optimises" `2 * w / w.size` into
`2 * w * (1 / w.size)`: the rounded reciprocal makes the formula error jump from 1e-24 (the reference's own
noise) to 5.6e-17. That is still within the check's tolerance (4.4e-16), so every test passes, but the error grew
far more than the comparison factor allows (10x, against a floor of 1e-3 of the tolerance): the run fails, and
the comparison names exactly that check.
"""

import shutil
import sys
from pathlib import Path

import pytest

from pytest_gradcheck.report import baseline, report

GOOD = '''
import numpy as np


def mean_square(w):
    return np.sum(w ** 2) / w.size


def mean_square_grad(w):
    return 2 * w / w.size
'''
# The same gradient, "faster": multiply by the reciprocal, which float64 rounds (1/6 has no exact float64).
DRIFTED = GOOD.replace("return 2 * w / w.size", "return 2 * w * (1 / w.size)")

TESTS = '''
import numpy as np
import pytest

from energy import mean_square, mean_square_grad

W = np.linspace(-1.0, 1.0, 6).reshape(2, 3)


def tanh_layer(w):
    return np.sum(np.tanh(W.T @ w) ** 2)


@pytest.mark.gradcheck
def test_mean_square(gradcheck):
    gradcheck(mean_square, W, grad=mean_square_grad)


@pytest.mark.gradcheck
def test_tanh_layer(gradcheck):
    gradcheck(tanh_layer, W)
'''
DRIFTING_CHECK = "test_gradients.py::test_mean_square::mean_square"
STEADY_CHECK = "test_gradients.py::test_tanh_layer::tanh_layer"
# Plugins the small project does not use: without them an in-process run takes ~0.2 s instead of ~1 s.
UNUSED_PLUGINS = ("-p", "no:cacheprovider", "-p", "no:hypothesispytest")


def run_pytest(pytester, *args):
    """pytest on the small project, in this process."""
    return pytester.runpytest(*UNUSED_PLUGINS, *args)


@pytest.fixture
def project(pytester):
    """The project after a good run stored `baseline.json`, with the drifted gradient now in place."""
    assert DRIFTED != GOOD
    pytester.makepyfile(energy=GOOD, test_gradients=TESTS)
    first = run_pytest(pytester, "--gradcheck-report=baseline.json")
    first.assert_outcomes(passed=2)
    assert first.ret == pytest.ExitCode.OK
    pytester.makepyfile(energy=DRIFTED)
    return pytester


def test_the_baseline_run_fails_on_the_drifted_gradient(project):
    result = run_pytest(project, "--gradcheck-baseline=baseline.json", "--gradcheck-report=current.json",
                        "--gradcheck-markdown=current.md")
    result.assert_outcomes(passed=2)  # every check still passes on its own ...
    assert result.ret == pytest.ExitCode.TESTS_FAILED  # ... but the run fails: a check regressed
    regressions = [line for line in result.outlines if line.startswith("REGRESSION")]
    assert len(regressions) == 1 and regressions[0].startswith(f"REGRESSION {DRIFTING_CHECK}: formula error ")
    result.stdout.fnmatch_lines(["baseline comparison: regressed: 1 regression, 0 improvements, 0 new, 0 removed, "
                                 "1 unchanged (factor 10)"])
    markdown = (project.path / "current.md").read_text()
    assert "1 regression against the baseline" in markdown and f"`{DRIFTING_CHECK}`" in markdown


def test_the_comparison_names_exactly_the_drifted_check(project):
    run_pytest(project, "--gradcheck-report=current.json").assert_outcomes(passed=2)
    old, new = (report.load_report(project.path / name) for name in ("baseline.json", "current.json"))
    comparison = baseline.compare(old, new)
    assert [change.id for change in comparison.regressions] == [DRIFTING_CHECK]
    assert comparison.unchanged == 1 and not comparison.new and not comparison.removed
    (change,) = comparison.regressions
    assert change.old_status == change.new_status == "pass"
    by_id = {rec["id"]: rec for rec in new["checks"]}
    tolerance = by_id[DRIFTING_CHECK]["tolerance"]["rtol_formula"]
    assert change.old_formula_error < baseline.NOISE_FLOOR * tolerance  # noise, in the baseline
    assert 5e-17 < change.new_formula_error < 6e-17 < tolerance  # |1 - 6 * fl(1/6)|: still passing
    assert by_id[STEADY_CHECK]["formula_error"] < baseline.NOISE_FLOOR * tolerance


def _gradcheck_command() -> str:
    """The `gradcheck` console script installed next to this Python."""
    found = shutil.which("gradcheck", path=str(Path(sys.executable).parent))
    assert found, "the gradcheck command is installed with the package"
    return found


def test_gradcheck_compare_exits_1_on_the_regression(project):
    run_pytest(project, "--gradcheck-report=current.json").assert_outcomes(passed=2)
    regressed = project.run(_gradcheck_command(), "compare", "baseline.json", "current.json")
    assert regressed.ret == 1
    regressions = [line for line in regressed.outlines if line.startswith("REGRESSION")]
    assert len(regressions) == 1 and regressions[0].startswith(f"REGRESSION {DRIFTING_CHECK}: ")
    assert project.run(_gradcheck_command(), "compare", "baseline.json", "baseline.json").ret == 0
    # The error grew ~100x past the floor: a factor of 1000 would let this drift through.
    assert project.run(_gradcheck_command(), "compare", "baseline.json", "current.json", "--factor", "1000").ret == 0

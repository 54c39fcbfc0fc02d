"""Baseline comparison: status regressions, error growth beyond the factor, the noise floor, new and removed."""

import math

import pytest

from pytest_gradcheck.report import baseline

RTOL_FORMULA, RTOL_FLOAT64 = 4.4e-16, 1e-10  # the float64 defaults: formula floor 4.4e-19, float64 floor 1e-13


def record(name, status="pass", ok=None, formula_error=1e-17, float64_error=1e-12):
    return {"id": f"tests/test_m.py::test_{name}::f", "status": status, "ok": status == "pass" if ok is None else ok,
            "formula_error": formula_error, "float64_error": float64_error,
            "tolerance": {"rtol_formula": RTOL_FORMULA, "rtol_float64": RTOL_FLOAT64, "atol": 0.0,
                          "relative_floor": 1e-3, "safety": 2.0}}


def report(*records):
    return {"checks": list(records)}


def one(old, new, factor=baseline.DEFAULT_REGRESSION_FACTOR):
    return baseline.compare(report(old), report(new), factor)


def test_default_factor_is_an_order_of_magnitude():
    assert baseline.DEFAULT_REGRESSION_FACTOR == 10.0


def test_identical_reports_are_unchanged():
    checks = report(record("a"), record("b", "formula_error", formula_error=0.5))
    result = baseline.compare(checks, checks)
    assert (result.regressions, result.improvements, result.new, result.removed) == ([], [], [], [])
    assert result.unchanged == 2 and not result.regressed


def test_ok_to_failing_is_a_regression_with_both_sides():
    result = one(record("a"), record("a", "formula_error", formula_error=3e-17))
    (change,) = result.regressions
    assert result.regressed and result.unchanged == 0
    assert (change.id, change.old_status, change.new_status) == ("tests/test_m.py::test_a::f", "pass", "formula_error")
    assert (change.old_formula_error, change.new_formula_error) == (1e-17, 3e-17)
    assert change.reason == "was ok (pass), now failing (formula_error)"


def test_nondifferentiable_but_ok_to_failing_is_a_regression():
    result = one(record("a", "nondifferentiable", ok=True), record("a", "nondifferentiable", ok=False))
    assert result.regressed and "was ok (nondifferentiable)" in result.regressions[0].reason


def test_formula_error_growth_beyond_the_factor_regresses():
    (change,) = one(record("a", formula_error=1e-18), record("a", formula_error=2e-17)).regressions
    assert change.new_status == "pass" and change.reason.startswith("formula error 1e-18 -> 2e-17: 20x")
    assert "beyond the 10x factor" in change.reason


def test_float64_error_growth_beyond_the_factor_regresses():
    (change,) = one(record("a", float64_error=1e-12), record("a", float64_error=5e-11)).regressions
    assert change.reason.startswith("float64 error 1e-12 -> 5e-11: 50x")


def test_growth_below_the_factor_is_not_a_regression():
    result = one(record("a", formula_error=1e-18, float64_error=1e-12),
                 record("a", formula_error=9e-18, float64_error=9.9e-12))
    assert not result.regressed and result.unchanged == 1


def test_the_factor_is_configurable():
    old, new = record("a", formula_error=1e-18), record("a", formula_error=9e-18)
    assert one(old, new, factor=5).regressed and not one(old, new, factor=10).regressed


def test_noise_below_the_floor_is_not_a_regression():
    result = one(record("a", formula_error=1e-29, float64_error=0.0), record("a", formula_error=1e-28,
                                                                               float64_error=1e-15))
    assert not result.regressed and result.unchanged == 1


def test_growth_from_noise_to_beyond_ten_floors_regresses():
    (change,) = one(record("a", formula_error=1e-29), record("a", formula_error=5e-18)).regressions
    assert "floor 4.4e-19" in change.reason and "11.4x" in change.reason


def test_nan_counts_as_infinitely_large():
    assert one(record("a", formula_error=1e-17), record("a", formula_error=math.nan)).regressed
    assert not one(record("a", formula_error=math.inf), record("a", formula_error=math.nan)).regressed


def test_unmeasured_errors_are_not_compared():
    assert not one(record("a", formula_error=None), record("a", formula_error=1e-10)).regressed
    assert not one(record("a", formula_error=1e-20), record("a", formula_error=None)).regressed


def test_failing_to_ok_is_an_improvement():
    result = one(record("a", "formula_error", formula_error=0.5), record("a", formula_error=1e-17))
    (change,) = result.improvements
    assert not result.regressed and change.reason.startswith("was failing (formula_error), now ok (pass)")
    assert "formula error 0.5 -> 1e-17" in change.reason


def test_error_shrinking_beyond_the_factor_is_an_improvement():
    (change,) = one(record("a", float64_error=1e-11), record("a", float64_error=1e-13)).improvements
    assert change.reason.startswith("float64 error 1e-11 -> 1e-13: 100x")


def test_regression_wins_over_an_improvement_of_the_other_error():
    result = one(record("a", formula_error=1e-18, float64_error=1e-11),
                 record("a", formula_error=1e-16, float64_error=1e-13))
    assert len(result.regressions) == 1 and result.improvements == []
    assert "float64" not in result.regressions[0].reason


def test_new_and_removed_checks_are_listed_but_do_not_regress():
    result = baseline.compare(report(record("kept"), record("gone")), report(record("kept"), record("added")))
    assert result.new == ["tests/test_m.py::test_added::f"] and result.removed == ["tests/test_m.py::test_gone::f"]
    assert result.unchanged == 1 and not result.regressed


def test_changes_are_sorted_by_id():
    old = report(record("b"), record("a"))
    new = report(record("b", "formula_error"), record("a", "formula_error"))
    assert [c.id for c in baseline.compare(old, new).regressions] == sorted(c["id"] for c in old["checks"])


@pytest.mark.parametrize("factor", [1, 0.5, -3, math.inf, math.nan, True, "10"])
def test_factor_must_be_a_finite_number_above_one(factor):
    with pytest.raises(ValueError, match=r"factor: expected a finite number > 1"):
        baseline.compare(report(), report(), factor)

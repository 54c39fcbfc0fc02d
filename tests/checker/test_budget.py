"""Budgets (max_evaluations, max_seconds) and nondeterministic functions: a check stops or refuses, honestly."""

import itertools
import math
import time

import numpy as np
import pytest

from pytest_gradcheck import GradcheckUsageError, check_grad, is_high_precision
from pytest_gradcheck.checker import gradient_noise
from pytest_gradcheck.checker.budget import Budget, BudgetExceeded


def f(x):
    return np.sum(np.sin(x) * x)


def grad(x):
    return np.sin(x) + x * np.cos(x)


def grad_wrong_at(index):
    def wrong(x):
        g = grad(x)
        g[index] *= 1 + 1e-6
        return g

    return wrong


X = np.linspace(-1.0, 1.2, 9)


def test_a_full_check_stopped_by_max_evaluations_lists_what_it_checked_and_does_not_pass():
    result = check_grad(f, X, grad=grad, mode="full", per_op="off", max_evaluations=40, raise_on_mismatch=False)
    assert result.status == "budget_exceeded" and not result.ok
    assert result.evaluations <= 40
    done = len(result.checked)
    assert 0 < done < X.size  # some elements, not all
    assert result.checked == [f"argument 0 ('x'), element ({i},)" for i in range(done)]
    assert any("max_evaluations=40 reached" in n and f"{done} directional derivative" in n for n in result.notes)
    assert "budget" in result.summary()


def test_a_wrong_element_found_before_the_budget_ran_out_is_a_formula_error_at_that_element():
    result = check_grad(f, X, grad=grad_wrong_at(1), mode="full", per_op="off", max_evaluations=40,
                        raise_on_mismatch=False)
    assert result.status == "formula_error"
    assert [m.index for m in result.mismatches] == [(1,)]
    assert any("budget exceeded" in n for n in result.notes)


def test_a_wrong_element_beyond_the_budget_is_not_a_pass_and_not_a_false_mismatch():
    result = check_grad(f, X, grad=grad_wrong_at(8), mode="full", per_op="off", max_evaluations=40,
                        raise_on_mismatch=False)
    assert result.status == "budget_exceeded"
    assert result.mismatches == []


def test_fast_mode_stopped_while_narrowing_keeps_the_failed_projection():
    x = np.linspace(-1.0, 1.2, 200)
    full_cost = check_grad(f, x, grad=grad_wrong_at(7), mode="fast", per_op="off", raise_on_mismatch=False)
    assert full_cost.status == "formula_error" and (7,) in [m.index for m in full_cost.mismatches]
    limit = full_cost.evaluations - 8  # enough for the projections, not for the whole narrowing
    stopped = check_grad(f, x, grad=grad_wrong_at(7), mode="fast", per_op="off", max_evaluations=limit,
                         raise_on_mismatch=False)
    assert stopped.status == "formula_error"
    assert stopped.evaluations <= limit
    assert any(m.where.startswith("projection") for m in stopped.mismatches)
    assert any("budget exceeded" in n for n in stopped.notes)


def test_max_seconds_stops_a_slow_check_between_evaluations():
    def slow(x):
        time.sleep(0.02)
        return f(x)

    started = time.perf_counter()
    result = check_grad(slow, X, grad=grad, mode="full", per_op="off", max_seconds=0.3, raise_on_mismatch=False)
    assert result.status == "budget_exceeded"
    assert "max_seconds=0.3 passed" in " ".join(result.notes)
    assert time.perf_counter() - started < 1.0  # at most one evaluation past the deadline


def test_auto_mode_falls_back_to_a_float64_reference_when_high_precision_would_not_fit_the_budget():
    calls = {"hp": 0}

    def slow_at_high_precision(x):
        if is_high_precision(x):
            calls["hp"] += 1
            time.sleep(0.05)
        return f(x)

    # The screen (3 evaluations after the timed probe) fits in 1 s: a right gradient passes at high precision.
    right = check_grad(slow_at_high_precision, X, grad=grad, per_op="off", max_seconds=1.0)
    assert right.status == "pass" and right.high_precision and right.projections == 1
    assert calls["hp"] == 4
    # A wrong one fails the screen; the full check would not fit what is left, so it runs in float64.
    calls["hp"] = 0
    result = check_grad(slow_at_high_precision, X, grad=lambda x: grad(x) * (1 + 1e-6), per_op="off",
                        max_seconds=1.0, raise_on_mismatch=False)
    assert result.status == "formula_error" and result.mode == "full"
    assert not result.high_precision and "limited to float64 by the budget" in result.precision_note
    # judged in float64 against its measured round-off, not at high precision's tolerance
    assert result.tolerance["noise_safety"] == gradient_noise.NOISE_SAFETY
    assert result.tolerance["rtol_formula"] == gradient_noise.FLOOR_RTOL
    assert calls["hp"] == 4  # the probe and the screen; nothing after the fall-back
    # An explicit mode keeps the high-precision reference and stops at the budget instead.
    explicit = check_grad(slow_at_high_precision, X, grad=grad, mode="full", per_op="off", max_seconds=1.0,
                          raise_on_mismatch=False)
    assert explicit.status == "budget_exceeded" and explicit.high_precision


def test_per_op_checks_are_skipped_when_the_whole_check_spent_the_budget():
    result = check_grad(f, X, mode="full", max_evaluations=30, raise_on_mismatch=False)
    assert result.status == "budget_exceeded"
    assert result.ops == [] and result.ops_note == "the budget was spent before the per-op checks"
    assert "no per-op rows: the budget was spent" in result.report()


def test_the_default_budget_is_finite_and_a_whole_check_fits_it():
    result = check_grad(f, X, grad=grad, per_op="off")
    assert result.status == "pass"
    with pytest.raises(GradcheckUsageError, match="max_seconds"):
        check_grad(f, X, grad=grad, max_seconds=0)
    assert check_grad(f, X, grad=grad, per_op="off", max_seconds=math.inf).status == "pass"


@pytest.mark.parametrize(("name", "value"), [
    ("max_evaluations", 0), ("max_evaluations", 2.5), ("max_evaluations", True), ("max_evaluations", "10"),
    ("max_seconds", -1.0), ("max_seconds", float("nan")), ("max_seconds", "60"), ("max_seconds", None),
])
def test_bad_budget_settings_are_refused_naming_the_argument(name, value):
    with pytest.raises(GradcheckUsageError, match=f"^{name}: expected"):
        check_grad(f, X, grad=grad, **{name: value})


def test_budget_counts_evaluations_and_time():
    budget = Budget(max_evaluations=3)
    budget.charge(2)
    with pytest.raises(BudgetExceeded, match="max_evaluations=3"):
        budget.charge(3)
    late = Budget(max_seconds=0.01, started=time.perf_counter() - 1.0)
    with pytest.raises(BudgetExceeded, match=r"max_seconds=0\.01 passed"):
        late.charge(0)


def test_a_function_whose_value_changes_between_calls_is_nondeterministic_not_a_mismatch():
    rng = np.random.default_rng(1)

    def noisy(x):
        return np.sum(x**2) + 1e-12 * rng.standard_normal()

    result = check_grad(noisy, X, grad=lambda x: 2 * x, per_op="off", raise_on_mismatch=False)
    assert result.status == "nondeterministic" and not result.ok
    assert result.mismatches == []
    assert "f returned different values in two calls at the same point" in result.notes[0]


def test_a_stateful_function_is_nondeterministic():
    counter = itertools.count()

    def drifting(x):
        return np.sum(x**2) * (1 + next(counter))

    result = check_grad(drifting, X, grad=lambda x: 2 * x, per_op="off", raise_on_mismatch=False)
    assert result.status == "nondeterministic"


def test_a_gradient_that_changes_between_calls_is_nondeterministic_and_named():
    counter = itertools.count()

    def unstable_grad(x):
        g = grad(x)
        g[4] += next(counter) * 1e-9
        return g

    result = check_grad(f, X, grad=unstable_grad, per_op="off", raise_on_mismatch=False)
    assert result.status == "nondeterministic"
    assert "the gradient (grad) for argument 0 ('x')" in result.notes[0]
    assert "element (4,)" in result.notes[0]



def test_failure_messages_give_the_remedy_that_fits_the_status():
    stopped = check_grad(f, X, grad=grad, mode="full", per_op="off", max_evaluations=30, raise_on_mismatch=False)
    assert "raise max_seconds=/max_evaluations=" in stopped.message() and "rtol=/atol=" not in stopped.message()
    noisy = check_grad(lambda x: np.sum(x**2) * (1 + 1e-3 * np.random.default_rng().random()), X,
                       grad=lambda x: 2 * x, per_op="off", raise_on_mismatch=False)
    assert noisy.status == "nondeterministic" and "rtol=/atol=" not in noisy.message()
    wrong = check_grad(f, X, grad=grad_wrong_at(2), per_op="off", raise_on_mismatch=False)
    assert "rtol=/atol=" in wrong.message()

"""auto's screen: one high-precision projection decides a clean pass; everything else goes to the thorough check."""

import math

import numpy as np
import pytest

from pytest_gradcheck import check_grad
from pytest_gradcheck.checker import modes
from pytest_gradcheck.checker.planning import SCREEN_FAILED_NOTE

X = np.array([0.3, -1.2, 2.0, 0.7, -0.4, 1.5])


def f(x):
    return np.sum(np.sin(x) * x)


def grad(x):
    return np.cos(x) * x + np.sin(x)


def test_a_right_gradient_passes_on_one_projection_without_the_precision_checks():
    result = check_grad(f, X, grad=grad, per_op="off")
    assert result.status == "pass" and result.mode == "fast" and result.projections == 1
    # f twice in float64 (the nondeterminism probe), once at 40 digits, then 3 evaluations for J u: no round-off
    # probe at 60 digits, no float64-buffer tables
    assert result.evaluations == 6
    assert result.miss_probability == pytest.approx(math.erf(1 / (1000 * math.sqrt(2))))
    assert result.reference is None and len(result.traces) == 1
    assert any("agreed within 0.001 of the tolerance" in note for note in result.notes)
    assert result.worst["formula"] < 1e-3 * result.tolerance["rtol_formula"]


def _one_element_off(factor):
    def wrong(x):
        g = grad(x)
        g[3] *= 1 + factor
        return g
    return wrong


def test_an_error_a_few_times_the_tolerance_goes_to_the_full_check_and_is_named():
    result = check_grad(f, X, grad=_one_element_off(3 * 4.4e-16), per_op="off", raise_on_mismatch=False)
    assert result.status == "formula_error" and result.mode == "full"
    assert [m.index for m in result.mismatches] == [(3,)]


def test_without_the_narrowed_window_the_screen_would_pass_errors_near_the_tolerance(monkeypatch):
    """The narrowed window is what keeps the screen's misses rare: with the whole tolerance as its window a single
    projection lets an error of a few tolerances through for some seeds."""
    wrong = _one_element_off(3 * 4.4e-16)
    seeds = range(12)

    def statuses():
        return [check_grad(f, X, grad=wrong, per_op="off", seed=s, raise_on_mismatch=False).status for s in seeds]

    assert set(statuses()) == {"formula_error"}
    monkeypatch.setattr(modes, "SCREEN_SHARE", 1.0)
    assert "pass" in statuses()


def test_a_right_gradient_off_by_a_float64_constant_passes_the_thorough_check_and_says_why_it_cost_more():
    """f divides by float64 ln 2, the gradient multiplies by float64 1/ln 2: one ulp apart, inside the tolerance
    (4.4e-16) but outside the screen's window (4.4e-19), so the full check decides."""
    result = check_grad(lambda x: np.sum(x / np.log(2.0)), X, grad=lambda x: np.full_like(x, 1 / np.log(2.0)),
                        per_op="off")
    assert result.status == "pass" and result.mode == "full"
    assert SCREEN_FAILED_NOTE.format(chosen="full") in result.notes
    assert 1e-19 < result.worst["formula"] < 4.4e-16


def test_a_kink_on_the_screen_is_located_by_the_full_check():
    result = check_grad(lambda x: np.sum(np.abs(x)), np.array([0.0, 1.0, -2.0]), per_op="off",
                        raise_on_mismatch=False)
    assert result.status == "nondifferentiable" and result.mode == "full"
    assert [k.where for k in result.kinks] == ["element (0,)"]


def test_a_gradient_that_cannot_run_at_high_precision_is_not_screened():
    result = check_grad(f, X, grad=lambda x: grad(np.array(x.tolist(), dtype=float)), per_op="off")
    assert result.status == "pass" and result.mode == "full" and result.gradient_hp is None


def test_large_inputs_escalate_to_fast_mode():
    x = np.linspace(-1.0, 1.0, 100)
    wrong = check_grad(f, x, grad=lambda x: grad(x) * (1 + 1e-9), per_op="off", raise_on_mismatch=False)
    assert wrong.status == "formula_error" and wrong.mode == "fast" and wrong.projections == 4


def test_per_op_checks_screen_each_op_and_still_name_the_wrong_element(monkeypatch):
    """Each op of the tape is screened first; an op whose backward rule is wrong goes to its thorough check
    (diagonal for elementwise ops), which names the element."""
    import autodiff_ref

    @autodiff_ref.primitive(elementwise=True)
    def cube(z):
        return z**3

    cube.defvjp(lambda ans, z: lambda g: g * 3 * z**2 * (1 + 1e-12 * (z > 0.5)))  # wrong where z > 0.5 only

    screened = []
    original = modes.run_screen

    def counting(setup, projections):
        outcome = original(setup, projections)
        screened.append(outcome is not None)
        return outcome

    monkeypatch.setattr(modes, "run_screen", counting)
    x = np.array([0.2, -0.3, 0.9])
    result = check_grad(lambda x: np.sum(cube(x) * 2.0), x, raise_on_mismatch=False)
    assert result.status == "formula_error"
    rows = {row.name: row for row in result.ops}
    assert rows["cube"].status == "formula_error" and [m.index for m in rows["cube"].mismatches] == [(2,)]
    assert rows["multiply"].status == "pass"
    # the whole function, then every op: the wrong ones fail their screen, the right ones pass it
    assert len(screened) == 1 + len(result.ops) and screened.count(True) == len(result.ops) - 1

"""check_grad end to end: correct gradients pass, planted bugs are caught and located, kinks are named."""

import re

import numpy as np
import pytest
from corpus import CORPUS

from pytest_gradcheck import GradcheckError, check_grad, is_high_precision


def _point(shapes, seed):
    rng = np.random.default_rng(seed)
    return tuple(rng.uniform(-1.5, 1.5, size=s) for s in shapes)


@pytest.mark.parametrize("name", sorted(CORPUS))
@pytest.mark.parametrize("mode", ["full", "fast"])
def test_correct_hand_written_gradients_pass(name, mode):
    f, grad, shapes = CORPUS[name]
    result = check_grad(f, _point(shapes, 1), grad=grad, mode=mode)
    assert result.status == "pass", result.message()
    assert result.high_precision and result.gradient_hp is not None


@pytest.mark.parametrize("name", sorted(CORPUS))
def test_engine_gradients_pass_when_no_gradient_is_given(name):
    f, _, shapes = CORPUS[name]
    result = check_grad(f, _point(shapes, 2))
    assert result.ok and result.gradient_source == "autodiff_ref", result.message()


def _scaled_element(grad, argument, index, factor):
    def mutated(*args):
        grads = grad(*args)
        grads = list(grads) if isinstance(grads, tuple) else [grads]
        given = grads[argument]  # a copy at the gradient's own precision (quad or mpmath numbers, or float64)
        g = given.copy() if is_high_precision(given) else np.array(given, dtype=float)
        g[index] = g[index] * factor
        grads[argument] = g
        return tuple(grads) if len(grads) > 1 else grads[0]

    return mutated


@pytest.mark.parametrize("mode", ["full", "fast"])
def test_one_element_scaled_by_1e_minus_9_is_caught_and_located(mode):
    f, grad, shapes = CORPUS["tanh_layer"]
    bad = _scaled_element(grad, 0, (2, 1), 1 + 1e-9)
    result = check_grad(f, _point(shapes, 3), grad=bad, mode=mode, raise_on_mismatch=False)
    assert result.status == "formula_error"
    located = [m for m in result.mismatches if m.index is not None]
    assert located and located[0].argument == 0 and located[0].index == (2, 1)
    assert {m.index for m in located} == {(2, 1)}
    assert located[0].rel_error == pytest.approx(1e-9, rel=1e-3)


def test_failure_raises_gradcheck_error_naming_argument_and_element():
    f, grad, shapes = CORPUS["sin_prod"]
    bad = _scaled_element(grad, 1, (2,), -1.0)  # a sign flip
    with pytest.raises(GradcheckError) as info:
        check_grad(f, _point(shapes, 4), grad=bad, mode="full")
    message = str(info.value)
    assert "formula_error" in message and isinstance(info.value, AssertionError)
    # the element table: diagnosis, argument, element, reference +- error, under test, rel error, tolerances
    row = re.search(r"^ +formula +y +\(2,\) +(\S+) \+- \S+ +(\S+) +(\S+) +(\S+)x$", message, re.MULTILINE)
    assert row, message
    reference, value, rel_error = (float(row[i]) for i in (1, 2, 3))
    assert value == pytest.approx(-reference) and rel_error == pytest.approx(2.0)
    assert float(row[4]) > 1e10 and "tolerance: rtol_formula=" in message


def test_transposed_matrix_gradient_is_caught():
    def f(w):
        return np.sum(np.tanh(w @ np.array([1.0, -2.0, 0.5])) * np.array([0.3, 1.1, -0.7]))

    def wrong(w):
        from autodiff_ref import grad

        return grad(f)(w).T

    w = _point([(3, 3)], 5)[0]
    result = check_grad(f, w, grad=wrong, raise_on_mismatch=False)
    assert result.status == "formula_error"


def test_gradient_taken_at_a_shifted_point_is_caught():
    f, grad, shapes = CORPUS["log_cosh"]
    result = check_grad(f, _point(shapes, 6), grad=lambda x: grad(x + 1e-7), raise_on_mismatch=False)
    assert result.status == "formula_error"


def test_vjp_for_array_valued_function():
    def f(x):
        return np.tanh(x) * x[::-1]

    def vjp(g, x):
        return (g * (1 - np.tanh(x) ** 2) * x[::-1] + (g * np.tanh(x))[::-1],)

    x = _point([(5,)], 7)[0]
    assert check_grad(f, x, vjp=vjp, mode="full").status == "pass"
    wrong = lambda g, x: (g * (1 - np.tanh(x) ** 2) * x[::-1],)  # noqa: E731 - forgets the second term
    assert check_grad(f, x, vjp=wrong, raise_on_mismatch=False).status == "formula_error"


def test_taylor_mode_reports_order_two_for_right_and_one_for_wrong_gradient():
    f, grad, shapes = CORPUS["sum_exp"]
    x = _point(shapes, 8)
    right = check_grad(f, x, grad=grad, mode="taylor")
    assert right.status == "pass" and right.taylor.order == pytest.approx(2.0, abs=0.2)
    wrong = check_grad(f, x, grad=lambda x: np.exp(x) * (1 + 1e-6), mode="taylor", raise_on_mismatch=False)
    assert wrong.status == "formula_error" and wrong.taylor.order == pytest.approx(1.0, abs=0.2)


def test_fast_mode_states_its_miss_probability():
    f, grad, shapes = CORPUS["sum_exp"]
    result = check_grad(f, _point(shapes, 9), grad=grad, mode="fast", projections=3)
    assert result.projections == 3
    assert result.miss_probability == pytest.approx(0.6827**3, rel=1e-3)


def test_fast_mode_evaluations_do_not_grow_with_input_size_and_full_mode_spends_four_per_element():
    def f(x):
        return np.sum(np.tanh(x) * x)

    def grad(x):
        return np.tanh(x) + x * (1 - np.tanh(x) ** 2)

    small, large = np.linspace(-1, 1, 10), np.linspace(-1, 1, 300)
    fast = [check_grad(f, x, grad=grad, mode="fast", per_op="off").evaluations for x in (small, large)]
    assert fast[0] == fast[1]
    full = [check_grad(f, x, grad=grad, mode="full", per_op="off").evaluations for x in (small, small[:6])]
    assert full[0] - full[1] == 4 * 4  # a directional derivative costs 4 high-precision evaluations


def test_fast_mode_reuses_the_precision_checks_direction_as_its_first_projection():
    def f(x):
        return np.sum(np.tanh(x) * x)

    def grad(x):
        return np.tanh(x) + x * (1 - np.tanh(x) ** 2)

    x = np.linspace(-1, 1, 10)
    runs = {k: check_grad(f, x, grad=grad, mode="fast", per_op="off", projections=k) for k in (1, 2, 3)}
    assert runs[3].evaluations - runs[2].evaluations == 4  # each further projection: one directional derivative
    assert runs[2].evaluations - runs[1].evaluations == 4
    # The first projection costs nothing: the float64-buffer check already measured J u along that direction.
    # Its whole cost: f in float64 twice (2: the second call tells a nondeterministic f), the high-precision
    # probe (1), the round-off probe at the first step at two precisions (2), the tiny-step derivative (4, one
    # of them the round-off probe's point: 3) and the float64-visible Richardson table (8).
    assert runs[1].evaluations == 2 + 1 + 2 + 3 + 8


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_a_non_finite_gradient_is_a_formula_error_not_a_warning(bad):
    # the suite runs with warnings as errors: a RuntimeWarning from the comparison would fail this test
    result = check_grad(lambda x: np.sum(x**2), np.array([1.0, 2.0]), grad=lambda x: np.full_like(x, bad),
                        per_op="off", raise_on_mismatch=False)
    assert result.status == "formula_error"
    assert [m.index for m in result.mismatches if m.kind == "formula"] == [(0,), (1,)]


def test_empty_arguments_say_there_was_nothing_to_check():
    result = check_grad(lambda x: np.sum(x), np.zeros(0), grad=lambda x: np.ones_like(x), per_op="off")
    assert "nothing to check: every argument is empty" in result.notes


def test_round_off_linear_in_the_step_is_caught_by_the_cross_check_and_widens_only_that_error():
    # full mode: auto's screening projection passes this at once (see test_auto_screen_*). The mpmath tier's own
    # mechanics: its 40-digit round-off (on quad this f's round-off at x = 0 happens to cancel exactly)
    centred = check_grad(lambda x: np.sum(x - np.mean(x)), np.zeros(3), grad=lambda x: np.zeros_like(x),
                         per_op="off", mode="full", backend="mpmath")
    assert centred.status == "pass"
    assert any(n.startswith("the element references disagree with an independent directional derivative")
               for n in centred.notes)
    assert all(1e-42 < e < 1e-38 for e in centred.reference_error[0].flat)  # at round-off level, no wider
    wrong = check_grad(lambda x: np.sum(x - np.mean(x)), np.zeros(3), grad=lambda x: np.full_like(x, 1e-30),
                       per_op="off", raise_on_mismatch=False, mode="full", backend="mpmath")
    assert wrong.status == "formula_error"
    smooth = check_grad(lambda x: np.sum(np.sin(x)), np.array([0.3, 1.1]), grad=np.cos, per_op="off", mode="full")
    assert not any("disagree with an independent" in n for n in smooth.notes)

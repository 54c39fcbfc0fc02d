"""The 3-layer network (examples/three_layer_net.py): hand-derived backprop, the engine's gradient, and two bugs.

- The hand-derived gradient agrees with autodiff_ref's, and both pass the high-precision check.
- The classic slip in hand-written backprop (the hidden layer's s' written as s instead of s (1 - s)) is caught
  in W1, element by element, while W2 is right; every op of the traced model is correct, so the report says
  the fault is in the hand-written gradient itself.
- The same slip in the backward rule of a custom sigmoid op is named by the per-op report: the op, the line that
  called it, and the elements of its input.
"""

import inspect
import re

import numpy as np
import pytest
from three_layer_net import (
    loss,
    loss_gradient,
    loss_gradient_buggy,
    loss_with_op,
    make_problem,
    sigmoid,
    sigmoid_op_buggy,
)

import autodiff_ref
from pytest_gradcheck import GradcheckError, check_grad

W1, W2, X, T = make_problem(0)


def network_loss(w1, w2):
    """The loss as a function of the two weight matrices, at fixed data (X, T)."""
    return loss(w1, w2, X, T)


def network_gradient(w1, w2):
    return loss_gradient(w1, w2, X, T)


def network_gradient_buggy(w1, w2):
    return loss_gradient_buggy(w1, w2, X, T)


def network_loss_with_op(w1, w2):
    return loss_with_op(w1, w2, X, T)


def network_loss_with_buggy_op(w1, w2):
    return loss_with_op(w1, w2, X, T, act=sigmoid_op_buggy)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_hand_derived_gradient_matches_engine(seed):
    w1, w2, x, t = make_problem(seed)
    engine_w1, engine_w2 = autodiff_ref.grad(loss, argnums=(0, 1))(w1, w2, x, t)
    hand_w1, hand_w2 = loss_gradient(w1, w2, x, t)
    np.testing.assert_allclose(hand_w1, engine_w1, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(hand_w2, engine_w2, rtol=1e-12, atol=1e-15)


@pytest.mark.gradcheck(mode="full")
def test_hand_derived_backprop_passes_the_high_precision_check(gradcheck):
    result = gradcheck(network_loss, (W1, W2), grad=network_gradient)
    assert result.status == "pass" and result.high_precision and result.gradient_source == "grad"
    assert result.mode == "full" and result.reference is not None


def test_engine_gradient_passes_the_high_precision_check():
    result = check_grad(network_loss, (W1, W2))
    assert result.status == "pass" and result.gradient_source == "autodiff_ref"
    # a passing check of the engine's own ops: by default (per_op="auto") no op is checked on its own
    assert result.ops == [] and "were not checked one by one" in result.ops_note
    every_op = check_grad(network_loss, (W1, W2), per_op="always")
    assert every_op.ops and all(row.status == "pass" for row in every_op.ops)


def test_buggy_backprop_is_caught_in_every_element_of_w1_only():
    with pytest.raises(GradcheckError) as failure:
        check_grad(network_loss, (W1, W2), grad=network_gradient_buggy)
    result = failure.value.result
    assert result.status == "formula_error"
    buggy_w1, _ = network_gradient_buggy(W1, W2)
    right_w1, _ = network_gradient(W1, W2)  # agrees with the engine (test above)
    # s instead of s (1 - s) is wrong wherever s is not 0: every element of W1, none of W2.
    assert {(m.argument, m.index) for m in result.mismatches} == {(0, index) for index in np.ndindex(W1.shape)}
    for m in result.mismatches:  # the value under test is the buggy gradient; the reference, the right one
        assert m.name == "w1"
        np.testing.assert_allclose(m.value, buggy_w1[m.index], rtol=1e-10)  # (evaluated at high precision)
        np.testing.assert_allclose(m.reference, right_w1[m.index], rtol=1e-12)
    assert re.search(r"^ +formula +w1 +\(\d, \d\) ", str(failure.value), re.MULTILINE)  # the element table
    # The traced model has no wrong op: what is wrong is the hand-written gradient.
    assert all(row.ok for row in result.ops)
    assert "every op in the traced graph is correct" in str(failure.value)


def _op_lines():
    """`file:line` of the two lines of loss_with_op that call the activation op: hidden layer, output layer."""
    source, first = inspect.getsourcelines(loss_with_op)
    path = inspect.getsourcefile(loss_with_op)
    return [f"{path}:{first + i}" for i, text in enumerate(source) if "act(" in text and "=" in text]


def test_custom_sigmoid_op_with_correct_backward_passes_every_op():
    result = check_grad(network_loss_with_op, (W1, W2), per_op="always")
    assert result.status == "pass" and len(result.ops) >= 8
    assert all(row.status == "pass" for row in result.ops)
    assert [row.name for row in result.ops if row.custom] == ["sigmoid_op", "sigmoid_op"]
    # by default a passing check of the engine's gradient checks only the custom ops on their own
    default = check_grad(network_loss_with_op, (W1, W2))
    assert [(row.name, row.status) for row in default.ops] == [("sigmoid_op", "pass"), ("sigmoid_op", "pass")]


def test_report_names_the_custom_op_with_the_wrong_backward_its_line_and_elements():
    with pytest.raises(GradcheckError) as failure:
        check_grad(network_loss_with_buggy_op, (W1, W2))
    failing = [row for row in failure.value.result.ops if not row.ok]
    assert [row.name for row in failing] == ["sigmoid_op_buggy", "sigmoid_op_buggy"]  # no other op is blamed
    hidden, output = _op_lines()
    assert failing[0].first_failing and hidden.endswith(failing[0].location)
    assert output.endswith(failing[1].location)
    # The hidden layer's op: every element of its (batch, hidden) input is reported, and at each the value is
    # what the slip computes, 1 / (1 - s) times the right one (the missing factor 1 - s).
    z1 = X @ W1.T
    assert failing[0].input_shapes == (z1.shape,)
    assert {m.index for m in failing[0].mismatches} == set(np.ndindex(z1.shape))
    for m in failing[0].mismatches:
        np.testing.assert_allclose(m.value / m.reference, 1 / (1 - sigmoid(z1[m.index])), rtol=1e-9)
    message = str(failure.value)
    assert "sigmoid_op_buggy*" in message and failing[0].location in message
    assert f"formula: input0 {failing[0].mismatches[0].index}: reference" in message

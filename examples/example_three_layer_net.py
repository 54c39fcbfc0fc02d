"""The 3-layer network: hand-derived backprop against the reference engine's reverse mode."""

import inspect

import numpy as np
import pytest
from three_layer_net import (
    loss,
    loss_gradient,
    loss_gradient_buggy,
    loss_with_op,
    make_problem,
    sigmoid_op_buggy,
)

import autodiff_ref
from pytest_gradcheck import GradcheckError, check_grad


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_hand_derived_gradient_matches_engine(seed):
    w1, w2, x, t = make_problem(seed)
    engine_w1, engine_w2 = autodiff_ref.grad(loss, argnums=(0, 1))(w1, w2, x, t)
    hand_w1, hand_w2 = loss_gradient(w1, w2, x, t)
    np.testing.assert_allclose(hand_w1, engine_w1, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(hand_w2, engine_w2, rtol=1e-12, atol=1e-15)


def test_buggy_hidden_layer_gradient_disagrees_only_in_w1():
    w1, w2, x, t = make_problem(0)
    engine_w1, engine_w2 = autodiff_ref.grad(loss, argnums=(0, 1))(w1, w2, x, t)
    buggy_w1, buggy_w2 = loss_gradient_buggy(w1, w2, x, t)
    np.testing.assert_allclose(buggy_w2, engine_w2, rtol=1e-12)
    assert not np.allclose(buggy_w1, engine_w1, rtol=1e-3)


def _weights_only(x, t):
    """The loss as a function of the two weight matrices, at fixed data."""
    return lambda w1, w2: loss(w1, w2, x, t)


def test_hand_derived_backprop_passes_the_high_precision_check():
    w1, w2, x, t = make_problem(0)
    result = check_grad(_weights_only(x, t), (w1, w2), grad=lambda w1, w2: loss_gradient(w1, w2, x, t))
    assert result.status == "pass" and result.high_precision
    assert result.mode == "full" and result.reference is not None


def test_engine_gradient_passes_the_high_precision_check():
    w1, w2, x, t = make_problem(1)
    result = check_grad(_weights_only(x, t), (w1, w2))
    assert result.status == "pass" and result.gradient_source == "autodiff_ref"


def test_buggy_backprop_is_caught_in_w1_only():
    w1, w2, x, t = make_problem(0)
    with pytest.raises(GradcheckError) as info:
        check_grad(_weights_only(x, t), (w1, w2), grad=lambda w1, w2: loss_gradient_buggy(w1, w2, x, t))
    result = info.value.result
    assert result.status == "formula_error"
    assert {m.argument for m in result.mismatches} == {0}
    assert "argument 0 ('w1')" in str(info.value)


def _op_lines():
    """The source lines of loss_with_op that call the activation op: the hidden layer, then the output layer."""
    source, first = inspect.getsourcelines(loss_with_op)
    path = inspect.getsourcefile(loss_with_op)
    return [f"{path}:{first + i}" for i, text in enumerate(source) if "act(" in text and "=" in text]


def test_custom_sigmoid_op_with_correct_backward_passes_every_op():
    w1, w2, x, t = make_problem(2)
    result = check_grad(lambda w1, w2: loss_with_op(w1, w2, x, t), (w1, w2))
    assert result.status == "pass" and len(result.ops) >= 8
    assert all(row.status == "pass" for row in result.ops)
    assert [row.name for row in result.ops if row.custom] == ["sigmoid_op", "sigmoid_op"]


def test_report_names_the_custom_op_with_the_wrong_backward_and_its_line():
    w1, w2, x, t = make_problem(2)
    with pytest.raises(GradcheckError) as info:
        check_grad(lambda w1, w2: loss_with_op(w1, w2, x, t, act=sigmoid_op_buggy), (w1, w2))
    failing = [row for row in info.value.result.ops if not row.ok]
    assert {row.name for row in failing} == {"sigmoid_op_buggy"}
    hidden, output = _op_lines()
    assert failing[0].first_failing and hidden.endswith(failing[0].location)
    assert output.endswith(failing[1].location)
    assert "sigmoid_op_buggy*" in str(info.value) and failing[0].location in str(info.value)

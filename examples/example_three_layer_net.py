"""The 3-layer network: hand-derived backprop against the reference engine's reverse mode."""

import numpy as np
import pytest
from three_layer_net import loss, loss_gradient, loss_gradient_buggy, make_problem

import autodiff_ref


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

"""The documented gradients at non-differentiable points (autodiff_ref/primitives.py docstring)."""

import numpy as np
import pytest

import autodiff_ref


def _grads(f, *args):
    value, vjp_fn = autodiff_ref.vjp(f, *args)
    return vjp_fn(np.ones_like(value))


def test_abs_at_zero_is_zero():
    (g,) = _grads(np.abs, np.array([-2.0, -0.0, 0.0, 3.0]))
    np.testing.assert_array_equal(g, [-1.0, 0.0, 0.0, 1.0])
    (g,) = _grads(abs, np.array(0.0))
    assert g == 0.0


@pytest.mark.parametrize("op", [np.maximum, np.minimum])
def test_maximum_and_minimum_split_a_tie_equally(op):
    x, y = np.array([1.0, 2.0, 3.0]), np.array([1.0, 0.0, 5.0])
    gx, gy = _grads(op, x, y)
    winner_x = [0.5, 1.0, 0.0] if op is np.maximum else [0.5, 0.0, 1.0]
    np.testing.assert_array_equal(gx, winner_x)
    np.testing.assert_array_equal(gy, 1.0 - np.array(winner_x))


def test_maximum_tie_with_a_broadcast_constant():
    (g,) = _grads(lambda x: np.maximum(x, 0.0), np.array([-1.0, 0.0, 2.0]))
    np.testing.assert_array_equal(g, [0.0, 0.5, 1.0])
    gx, gy = _grads(np.maximum, np.array([[1.0, 2.0], [1.0, 0.0]]), np.array([1.0, 2.0]))
    np.testing.assert_array_equal(gx, [[0.5, 0.5], [0.5, 0.0]])
    np.testing.assert_array_equal(gy, [1.0, 1.5])


@pytest.mark.parametrize("name", ["max", "min", "amax", "amin"])
def test_extremum_reduction_splits_ties_equally(name):
    reduce = getattr(np, name)
    extreme = 3.0 if "max" in name else -3.0
    x = np.array([[extreme, 1.0, extreme], [0.0, extreme, 0.5]])
    (g,) = _grads(reduce, x)
    np.testing.assert_array_equal(g, np.where(x == extreme, 1 / 3, 0.0))
    (g,) = _grads(lambda x: reduce(x, axis=1), x)
    np.testing.assert_array_equal(g, np.where(x == extreme, [[0.5], [1.0]], 0.0))
    (g,) = _grads(lambda x: reduce(x, axis=0, keepdims=True), np.array([[1.0, 2.0], [1.0, 2.0]]))
    np.testing.assert_array_equal(g, np.full((2, 2), 0.5))


def test_max_of_all_equal_values():
    (g,) = _grads(np.max, np.full(4, 2.5))
    np.testing.assert_array_equal(g, np.full(4, 0.25))


def test_clip_at_a_bound_passes_the_gradient_to_the_value():
    x = np.array([-2.0, -1.0, 0.0, 1.0, 2.0])
    (g,) = _grads(lambda x: np.clip(x, -1.0, 1.0), x)
    np.testing.assert_array_equal(g, [0.0, 1.0, 1.0, 1.0, 0.0])


def test_clip_at_a_traced_bound_gives_the_bound_nothing():
    x, lo, hi = np.array([-2.0, -1.0, 0.0, 1.0, 2.0]), np.array(-1.0), np.array(1.0)
    gx, glo, ghi = _grads(np.clip, x, lo, hi)
    np.testing.assert_array_equal(gx, [0.0, 1.0, 1.0, 1.0, 0.0])
    assert glo == 1.0 and ghi == 1.0  # only from the elements strictly outside: -2.0 and 2.0


def test_relu_at_zero_is_zero():
    (g,) = _grads(autodiff_ref.relu, np.array([-1.0, -0.0, 0.0, 1e-300, 2.0]))
    np.testing.assert_array_equal(g, [0.0, 0.0, 0.0, 1.0, 1.0])


def test_power_exponent_gradient_is_zero_for_a_base_that_is_not_positive():
    gx, gy = _grads(np.power, np.array([0.0, -2.0, 2.0]), np.array([2.0, 2.0, 2.0]))
    np.testing.assert_array_equal(gy, [0.0, 0.0, 4.0 * np.log(2.0)])
    np.testing.assert_array_equal(gx, [0.0, -4.0, 4.0])


def test_clip_with_crossed_bounds_gives_the_upper_bound_the_gradient():
    """numpy's clip is minimum(maximum(x, lo), hi): for lo > hi every element is hi."""
    x, lo, hi = np.array([-2.0, 0.0, 2.0]), np.array(1.0), np.array(-1.0)
    gx, glo, ghi = _grads(np.clip, x, lo, hi)
    np.testing.assert_array_equal(gx, [0.0, 0.0, 0.0])
    assert glo == 0.0 and ghi == 3.0

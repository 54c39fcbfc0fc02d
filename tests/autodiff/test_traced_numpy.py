"""Unmodified numpy code traced as written: models, mixed operands, Tensor methods and protocols."""

import numpy as np
from fdcheck import check_vjp

import autodiff_ref


def test_tanh_of_matmul_summed(rng):
    x, w = rng.standard_normal((4, 3)), rng.standard_normal((3, 2))
    check_vjp(lambda x, w: np.tanh(x @ w).sum(), x, w)
    g = autodiff_ref.grad(lambda w: np.tanh(x @ w).sum())(w)
    np.testing.assert_allclose(g, x.T @ (1 - np.tanh(x @ w) ** 2), rtol=1e-14)


def test_softmax_written_with_exp_and_sum(rng):
    x = rng.standard_normal(5)
    check_vjp(lambda x: np.exp(x) / np.sum(np.exp(x)), x)
    v = rng.standard_normal(5)
    (g,) = autodiff_ref.vjp(lambda x: np.exp(x) / np.sum(np.exp(x)), x)[1](v)
    s = np.exp(x) / np.sum(np.exp(x))
    np.testing.assert_allclose(g, s * (v - s @ v), rtol=1e-13)


def _mlp(w1, b1, w2, b2, x, y):
    hidden = np.tanh(x @ w1 + b1)
    logits = hidden @ w2 + b2
    return np.mean((autodiff_ref.sigmoid(logits) - y) ** 2)


def test_two_layer_mlp(rng):
    w1, b1 = rng.standard_normal((3, 5)), rng.standard_normal(5)
    w2, b2 = rng.standard_normal((5, 2)), rng.standard_normal(2)
    x, y = rng.standard_normal((6, 3)), rng.random((6, 2))
    check_vjp(_mlp, w1, b1, w2, b2, x, y)


def test_plain_ndarray_on_the_left_of_every_operator(rng):
    a = rng.uniform(0.5, 1.5, size=(2, 3))
    m = rng.standard_normal((2, 2))
    x = rng.uniform(0.5, 1.5, size=(2, 3))
    check_vjp(lambda x: a + x, x)
    check_vjp(lambda x: a - x, x)
    check_vjp(lambda x: a * x, x)
    check_vjp(lambda x: a / x, x)
    check_vjp(lambda x: a**x, x)
    check_vjp(lambda x: m @ x, x)
    check_vjp(lambda x: np.float64(2.0) * x - np.float64(1.0), x)


def test_tensor_methods(rng):
    x = rng.permutation(12).reshape(3, 4) / 5.0
    check_vjp(lambda x: x.sum(), x)
    check_vjp(lambda x: x.sum(axis=0), x)
    check_vjp(lambda x: x.mean(axis=1, keepdims=True), x)
    check_vjp(lambda x: x.max(axis=1), x)
    check_vjp(lambda x: x.min(), x)
    check_vjp(lambda x: x.reshape(2, 6), x)
    check_vjp(lambda x: x.T, x)
    check_vjp(lambda x: x.transpose(1, 0), x)
    check_vjp(lambda x: x.swapaxes(0, 1), x)
    check_vjp(lambda x: x.ravel(), x)
    check_vjp(lambda x: x.dot(np.arange(4.0)), x)
    check_vjp(lambda x: +x, x)
    check_vjp(lambda x: abs(x - 1.0), x)


def test_len_iteration_and_shape_attributes(rng):
    x = rng.standard_normal((3, 2))

    def f(x):
        assert len(x) == 3 and x.shape == (3, 2) and x.ndim == 2 and x.size == 6 and x.dtype == np.float64
        rows = list(x)
        assert len(rows) == 3 and all(type(r) is type(x[0]) for r in rows)  # Tensor rows when traced
        return sum(row * (i + 1.0) for i, row in enumerate(rows))

    check_vjp(f, x)
    np.testing.assert_array_equal(autodiff_ref.grad(lambda x: np.sum(f(x)))(x), [[1.0] * 2, [2.0] * 2, [3.0] * 2])


def test_structural_functions_run_on_plain_values(rng):
    x = rng.standard_normal((2, 3))

    def f(x):
        assert np.shape(x) == (2, 3) and np.ndim(x) == 2 and np.size(x) == 6
        i = np.argmax(x, axis=1)
        z = np.zeros_like(x)
        assert type(i) is np.ndarray and type(z) is np.ndarray
        return x[np.arange(2), i] + np.sum(z) + np.ones_like(x)[0, :2]

    check_vjp(f, x)


def test_comparisons_give_plain_boolean_arrays_usable_as_masks(rng):
    x = rng.standard_normal(6)

    def f(x):
        masks = [x > 0, x >= 0, x < 0.5, x <= 0.5, x == x, x != 0]
        assert all(type(m) is np.ndarray and m.dtype == bool for m in masks)
        return np.where(masks[0] & masks[2], x**2, -x)

    check_vjp(f, x)


def test_python_control_flow_on_traced_values(rng):
    def f(x):
        return np.sum(x**2) if x.sum() > 0 else np.sum(np.sin(x))

    check_vjp(f, np.array([1.0, 2.0]))
    check_vjp(f, np.array([-1.0, -2.0]))

"""The reverse pass over whole graphs: fan-out, repeated operands, diamonds, deep chains, unused inputs."""

import numpy as np
from fdcheck import check_vjp

import autodiff_ref


def test_value_used_by_several_ops_accumulates(rng):
    x = rng.uniform(0.5, 1.5, size=3)

    def f(x):
        y = np.sin(x)
        return np.sum(y * 2.0) + np.sum(np.exp(y)) - np.sum(y**2)

    check_vjp(f, x)
    g, y = autodiff_ref.grad(f)(x), np.sin(x)
    np.testing.assert_allclose(g, np.cos(x) * (2.0 + np.exp(y) - 2 * y), rtol=1e-14)


def test_same_tensor_twice_in_one_op():
    x = np.array([-1.5, 0.5, 3.0])
    np.testing.assert_allclose(autodiff_ref.grad(lambda x: np.sum(x * x))(x), 2 * x, rtol=0)
    np.testing.assert_allclose(autodiff_ref.grad(lambda x: np.sum(x + x))(x), [2.0] * 3, rtol=0)
    np.testing.assert_allclose(autodiff_ref.grad(lambda x: np.sum(x - x))(x), [0.0] * 3, rtol=0)
    np.testing.assert_allclose(autodiff_ref.grad(lambda x: np.sum(x / x))(x), [0.0] * 3, atol=1e-15)
    np.testing.assert_allclose(autodiff_ref.grad(lambda x: x @ x)(x), 2 * x, rtol=0)
    check_vjp(lambda x: np.concatenate([x, x, x[::-1]]), x)
    check_vjp(lambda x: x ** x, np.abs(x))


def test_diamond_graph(rng):
    x = rng.uniform(0.5, 1.5, size=(2, 2))

    def diamond(x):
        top = np.tanh(x)
        left, right = top * 3.0, np.exp(top)
        return np.sum(left * right)

    check_vjp(diamond, x)
    g, t = autodiff_ref.grad(diamond)(x), np.tanh(x)
    np.testing.assert_allclose(g, (1 - t**2) * (3 * np.exp(t) + 3 * t * np.exp(t)), rtol=1e-14)


def test_nested_diamonds_with_shared_intermediates(rng):
    x, w = rng.standard_normal(4), rng.standard_normal((4, 4))

    def f(x, w):
        h = x @ w
        a, b = np.tanh(h), np.sin(h)
        c = a * b + a
        return np.sum(c * h) + np.sum(np.maximum(c, b))

    check_vjp(f, x, w)


def test_deep_chain_of_5000_ops_has_no_recursion_error():
    depth = 5000  # well past Python's default recursion limit of 1000

    def chain(x):
        for _ in range(depth):
            x = x * 1.0001
        return np.sum(x)

    g = autodiff_ref.grad(chain)(np.array([1.0, 2.0]))
    np.testing.assert_allclose(g, [1.0001**depth] * 2, rtol=1e-12)


def test_deep_chain_where_every_step_fans_out():
    depth = 5000

    def chain(x):
        for _ in range(depth):
            x = x + 1e-4 * np.sin(x)  # x feeds two ops at every step
        return x

    x, derivative = 0.3, 1.0
    for _ in range(depth):  # forward-mode derivative by hand
        x, derivative = x + 1e-4 * np.sin(x), derivative * (1 + 1e-4 * np.cos(x))
    (g,) = autodiff_ref.vjp(chain, np.array(0.3))[1](np.array(1.0))
    np.testing.assert_allclose(g, derivative, rtol=1e-12)


def test_unused_argument_gets_zero_gradient(rng):
    x, unused, z = rng.standard_normal(3), rng.standard_normal((2, 2)), rng.standard_normal(3)
    gx, gu, gz = autodiff_ref.grad(lambda x, u, z: np.sum(x * z), argnums=(0, 1, 2))(x, unused, z)
    np.testing.assert_array_equal(gu, np.zeros((2, 2)))
    np.testing.assert_allclose(gx, z, rtol=0)
    np.testing.assert_allclose(gz, x, rtol=0)


def test_function_that_ignores_its_input_returns_zeros():
    x = np.array([1.0, 2.0, 3.0])
    for constant in (lambda x: 3.0, lambda x: np.float64(2.0), lambda x: np.sum(np.ones(3))):
        g = autodiff_ref.grad(constant)(x)
        assert type(g) is np.ndarray and g.dtype == np.float64
        np.testing.assert_array_equal(g, np.zeros(3))
    _, vjp_fn = autodiff_ref.vjp(lambda x: np.ones((2, 2)), x)
    np.testing.assert_array_equal(vjp_fn(np.ones((2, 2)))[0], np.zeros(3))


def test_input_reached_only_through_a_zero_derivative_path():
    x = np.array([0.5, -0.5])
    g = autodiff_ref.grad(lambda x: np.sum(np.sign(x) + np.floor(x) + (x > 0)))(x)
    np.testing.assert_array_equal(g, np.zeros(2))


def test_identity_function():
    x = np.array([1.0, 2.0])
    _, vjp_fn = autodiff_ref.vjp(lambda x: x, x)
    np.testing.assert_array_equal(vjp_fn(np.array([3.0, -1.0]))[0], [3.0, -1.0])


def test_vjp_function_can_be_called_repeatedly(rng):
    x = rng.standard_normal(3)
    _, vjp_fn = autodiff_ref.vjp(lambda x: np.exp(x) * x, x)
    first = vjp_fn(np.ones(3))[0]
    vjp_fn(rng.standard_normal(3))
    np.testing.assert_array_equal(vjp_fn(np.ones(3))[0], first)

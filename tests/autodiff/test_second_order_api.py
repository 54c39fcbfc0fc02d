"""Nested differentiation and the second-order API: grad of grad, hessian, hvp, jvp, and their errors."""

import numpy as np
import pytest

import autodiff_ref
from autodiff_ref import AutodiffError
from pytest_gradcheck.hp.precision import context, to_hp

X = np.array([[0.5, -1.5], [0.25, 2.0]])
Y = np.array([0.3, -0.7])


def _f(x, y):
    return np.sum(np.tanh(x @ y) ** 3) + np.sum(x * x * y)


def _numerical_jacobian(g, x, step=1e-6):
    """d g(x) / d x by central differences, shaped g.shape + x.shape."""
    columns = []
    for index in np.ndindex(x.shape):
        e = np.zeros_like(x)
        e[index] = step
        columns.append((g(x + e) - g(x - e)) / (2 * step))
    return np.moveaxis(np.array(columns), 0, -1).reshape(np.shape(g(x)) + x.shape)


def test_grad_of_grad_is_the_second_derivative():
    x = np.array([0.5, -2.0, 3.0])
    d2 = autodiff_ref.grad(lambda x: np.sum(autodiff_ref.grad(lambda y: np.sum(y**3))(x)))(x)
    np.testing.assert_allclose(d2, 6 * x, rtol=1e-15)
    one = autodiff_ref.grad(lambda x: autodiff_ref.grad(lambda y: np.sum(np.sin(y) * y))(x)[1])(x)
    np.testing.assert_allclose(one, [0.0, 2 * np.cos(-2.0) + 2.0 * np.sin(-2.0), 0.0], rtol=1e-14)


def test_third_order_by_nesting_three_times():
    x = np.array([0.7, -0.2])

    def d(f):
        return lambda x: np.sum(autodiff_ref.grad(f)(x))

    np.testing.assert_allclose(autodiff_ref.grad(d(d(lambda y: np.sum(np.exp(2 * y)))))(x), 8 * np.exp(2 * x))


def test_hessian_of_one_argument_matches_differences_of_the_gradient():
    h = autodiff_ref.hessian(_f)(X, Y)
    assert h.shape == X.shape + X.shape and type(h) is np.ndarray
    expected = _numerical_jacobian(lambda x: autodiff_ref.grad(_f)(x, Y), X)
    np.testing.assert_allclose(h, expected, rtol=1e-7, atol=1e-8)
    np.testing.assert_allclose(h.reshape(4, 4), h.reshape(4, 4).T, rtol=1e-14)


def test_hessian_of_several_arguments_is_nested():
    h = autodiff_ref.hessian(_f, argnums=(0, 1))(X, Y)
    assert [[b.shape for b in row] for row in h] == [[(2, 2, 2, 2), (2, 2, 2)], [(2, 2, 2), (2, 2)]]
    np.testing.assert_allclose(h[0][1], np.moveaxis(h[1][0], 0, -1), rtol=1e-14)
    np.testing.assert_allclose(h[1][1], _numerical_jacobian(lambda y: autodiff_ref.grad(_f, 1)(X, y), Y),
                               rtol=1e-7, atol=1e-8)
    np.testing.assert_allclose(h[0][1], _numerical_jacobian(lambda y: autodiff_ref.grad(_f)(X, y), Y),
                               rtol=1e-7, atol=1e-8)


def test_hessian_of_a_function_linear_in_its_argument_is_zero():
    h = autodiff_ref.hessian(lambda x, y: np.sum(x * y), argnums=(0, 1))(Y, Y)
    np.testing.assert_array_equal(h[0][0], np.zeros((2, 2)))
    np.testing.assert_array_equal(h[0][1], np.eye(2))


def test_hvp_is_the_hessian_times_v():
    v = (np.array([[1.0, -2.0], [0.5, 0.25]]), np.array([3.0, -1.0]))
    hx, hy = autodiff_ref.hvp(_f)(v, X, Y)
    h = autodiff_ref.hessian(_f, argnums=(0, 1))(X, Y)
    np.testing.assert_allclose(hx, np.tensordot(h[0][0], v[0], 2) + np.tensordot(h[0][1], v[1], 1), rtol=1e-13)
    np.testing.assert_allclose(hy, np.tensordot(h[1][0], v[0], 2) + np.tensordot(h[1][1], v[1], 1), rtol=1e-13)
    (only_y,) = autodiff_ref.hvp(_f, argnums=1)((v[1],), X, Y)
    np.testing.assert_allclose(only_y, np.tensordot(h[1][1], v[1], 1), rtol=1e-13)


def test_jvp_matches_the_directional_derivative_and_is_the_transpose_of_vjp():
    def f(x, y):
        return np.tanh(x @ y) * y

    t = (np.array([[1.0, -2.0], [0.5, 0.25]]), np.array([3.0, -1.0]))
    value, tangent = autodiff_ref.jvp(f, (X, Y), t)
    np.testing.assert_array_equal(value, f(X, Y))
    step = 1e-6
    expected = (f(X + step * t[0], Y + step * t[1]) - f(X - step * t[0], Y - step * t[1])) / (2 * step)
    np.testing.assert_allclose(tangent, expected, rtol=1e-8)
    u = np.array([0.7, -1.3])
    gx, gy = autodiff_ref.vjp(f, X, Y)[1](u)
    np.testing.assert_allclose(np.sum(u * tangent), np.sum(gx * t[0]) + np.sum(gy * t[1]), rtol=1e-14)


def test_jvp_of_a_scalar_function_and_of_a_constant_one():
    value, tangent = autodiff_ref.jvp(lambda x: np.sum(x**2), (Y,), (np.ones(2),))
    assert value.shape == () and tangent.shape == ()
    np.testing.assert_allclose(tangent, 2 * np.sum(Y))
    _, zero = autodiff_ref.jvp(lambda x: np.ones(3), (Y,), (np.ones(2),))
    np.testing.assert_array_equal(zero, np.zeros(3))


def test_second_order_at_high_precision_holds_mpf():
    ctx = context(40)
    x = to_hp(np.array([0.5, -0.25]), ctx)
    h = autodiff_ref.hessian(lambda x: np.sum(np.exp(x) * x))(x)
    assert h.dtype == object and all(type(e) is ctx.mpf for e in h.flat)
    expected = [ctx.exp(e) * (e + 2) for e in x]
    assert abs(h[0, 0] - expected[0]) < ctx.mpf(10) ** -38 and abs(h[1, 1] - expected[1]) < ctx.mpf(10) ** -38
    assert h[0, 1] == 0 and h[1, 0] == 0
    (hv,) = autodiff_ref.hvp(lambda x: np.sum(np.sin(x) ** 2))((to_hp(np.ones(2), ctx),), x)
    assert all(type(e) is ctx.mpf for e in hv) and abs(hv[0] - 2 * ctx.cos(2 * x[0])) < ctx.mpf(10) ** -38
    _, tangent = autodiff_ref.jvp(np.tanh, (x,), (to_hp(np.ones(2), ctx),))
    assert all(type(e) is ctx.mpf for e in tangent) and abs(tangent[1] - 1 / ctx.cosh(x[1]) ** 2) < ctx.mpf(10) ** -38


def test_float32_second_order_stays_float32():
    x = np.array([0.5, -0.25], dtype=np.float32)
    assert autodiff_ref.hessian(lambda x: np.sum(np.exp(x) * x))(x).dtype == np.float32
    assert autodiff_ref.hvp(lambda x: np.sum(x**3))((np.ones(2, np.float32),), x)[0].dtype == np.float32


# ----- errors ------------------------------------------------------------------------------------------------


def test_hessian_of_a_non_scalar_function_is_refused():
    with pytest.raises(ValueError, match=r"hessian requires a scalar-valued function; <lambda> returned shape \(2,\)"):
        autodiff_ref.hessian(lambda x: x * x)(Y)
    with pytest.raises(ValueError, match="hvp requires a scalar-valued function"):
        autodiff_ref.hvp(lambda x: x * x)((Y,), Y)


@pytest.mark.parametrize("argnums", ["0", (), (0, "1"), 1.0])
def test_hessian_with_bad_argnums(argnums):
    with pytest.raises(TypeError, match="argnums: expected an int or a non-empty tuple of ints"):
        autodiff_ref.hessian(_f, argnums=argnums)


def test_hessian_and_hvp_with_argnums_out_of_range_or_repeated():
    with pytest.raises(ValueError, match="argnums: 2 is out of range for 2 positional arguments"):
        autodiff_ref.hessian(_f, argnums=2)(X, Y)
    with pytest.raises(ValueError, match=r"argnums: \(0, -2\) names an argument twice"):
        autodiff_ref.hvp(_f, argnums=(0, -2))((X, X), X, Y)


@pytest.mark.parametrize(("v", "message"), [
    ((X,), r"v: expected 2 arrays \(one per differentiated argument\), got 1"),
    ((X, Y, Y), "v: expected 2 arrays"),
    ((X, X), r"v\[1\] has shape \(2, 2\), expected \(2,\) \(the shape of argument 1\)"),
    ((Y, Y), r"v\[0\] has shape \(2,\), expected \(2, 2\)"),
])  # fmt: skip
def test_hvp_with_v_of_the_wrong_length_or_shape(v, message):
    with pytest.raises(ValueError, match=message):
        autodiff_ref.hvp(_f)(v, X, Y)


def test_hvp_with_v_not_a_tuple_and_with_no_argument():
    with pytest.raises(TypeError, match="v: expected a tuple with one array per differentiated argument, got ndarray"):
        autodiff_ref.hvp(_f)(X, X, Y)
    with pytest.raises(ValueError, match="hvp: f needs at least one positional argument"):
        autodiff_ref.hvp(lambda: 1.0)(())


def test_jvp_with_bad_primals_or_tangents():
    with pytest.raises(TypeError, match="primals: expected a tuple with one array per argument, got ndarray"):
        autodiff_ref.jvp(np.sin, Y, (Y,))
    with pytest.raises(ValueError, match=r"tangents\[0\] has shape \(2, 2\), expected \(2,\)"):
        autodiff_ref.jvp(np.sin, (Y,), (X,))
    with pytest.raises(ValueError, match="tangents: expected 1 arrays"):
        autodiff_ref.jvp(np.sin, (Y,), (Y, Y))
    # numpy before 2.1 gives np.sin no signature, so no parameter name
    with pytest.raises(TypeError, match=r"argument 0 (\(.*\) )?of sin: expected a float64 or float32"):
        autodiff_ref.jvp(np.sin, ([1.0, 2.0],), (Y,))


def test_an_inner_tensor_leaking_out_of_its_trace_is_refused():
    leaked = []

    def inner(y):
        leaked.append(y * 2)
        return np.sum(y)

    def outer(x):
        autodiff_ref.grad(inner)(x)
        return np.sum(leaked[-1])  # a tensor of the inner trace, which has ended

    with pytest.raises(AutodiffError, match="f returned a Tensor from another trace"):
        autodiff_ref.grad(outer)(Y)


def test_forward_over_reverse_and_reverse_over_forward_give_the_hvp():
    def f(x):
        return np.sum(np.tanh(x) ** 3 * np.clip(x, -0.5, 2.0))  # clip: the transposed-VJP fallback, nested too

    x, v = np.array([0.3, -0.7, 1.2]), np.array([1.0, 2.0, -1.0])
    (expected,) = autodiff_ref.hvp(f)((v,), x)
    _, forward_over_reverse = autodiff_ref.jvp(autodiff_ref.grad(f), (x,), (v,))
    reverse_over_forward = autodiff_ref.grad(lambda x: autodiff_ref.jvp(f, (x,), (v,))[1])(x)
    np.testing.assert_allclose(forward_over_reverse, expected, rtol=1e-14)
    np.testing.assert_allclose(reverse_over_forward, expected, rtol=1e-14)

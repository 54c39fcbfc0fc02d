"""The public contract of grad, vjp and record: return types, fresh arrays, and the recorded tape."""

import inspect

import numpy as np

import autodiff_ref


def _loss(w, x):
    return np.sum(np.tanh(x @ w) ** 2)


W, X = np.arange(6.0).reshape(3, 2) / 8, np.arange(6.0).reshape(2, 3) / 6


def _line_of(fn, text):
    """file:line of the line of fn's source that contains `text`."""
    lines, start = inspect.getsourcelines(fn)
    return f"{__file__}:{start + next(i for i, line in enumerate(lines) if text in line)}"


def _here():
    return f"{__file__}:{inspect.currentframe().f_back.f_lineno}"


def test_grad_with_an_int_argnums_returns_one_array():
    dw = autodiff_ref.grad(_loss)(W, X)
    dx = autodiff_ref.grad(_loss, argnums=1)(W, X)
    assert type(dw) is np.ndarray and dw.shape == W.shape
    assert type(dx) is np.ndarray and dx.shape == X.shape


def test_grad_with_a_tuple_argnums_returns_a_tuple_in_that_order():
    both = autodiff_ref.grad(_loss, argnums=(0, 1))(W, X)
    swapped = autodiff_ref.grad(_loss, argnums=(1, 0))(W, X)
    single = autodiff_ref.grad(_loss, argnums=(1,))(W, X)
    assert type(both) is tuple and len(both) == 2 and type(single) is tuple and len(single) == 1
    np.testing.assert_array_equal(both[0], swapped[1])
    np.testing.assert_array_equal(both[1], swapped[0])
    np.testing.assert_array_equal(single[0], both[1])
    np.testing.assert_array_equal(both[0], autodiff_ref.grad(_loss)(W, X))


def test_grad_passes_keyword_arguments_through_untraced():
    g = autodiff_ref.grad(lambda x, scale=1.0: np.sum(x * scale))(X, scale=3.0)
    np.testing.assert_array_equal(g, np.full(X.shape, 3.0))


def test_grad_keeps_the_functions_name():
    assert autodiff_ref.grad(_loss).__name__ == "_loss"


def test_vjp_returns_the_value_and_a_function_giving_one_array_per_argument():
    value, vjp_fn = autodiff_ref.vjp(lambda w, x: np.tanh(x @ w), W, X)
    assert type(value) is np.ndarray
    np.testing.assert_array_equal(value, np.tanh(X @ W))
    grads = vjp_fn(np.ones_like(value))
    assert type(grads) is tuple and len(grads) == 2
    assert all(type(g) is np.ndarray for g in grads)
    assert grads[0].shape == W.shape and grads[1].shape == X.shape
    (single,) = autodiff_ref.vjp(np.sin, X)[1](np.ones_like(X))
    np.testing.assert_allclose(single, np.cos(X), rtol=0)


def test_vjp_is_linear_in_the_cotangent_for_the_scalar_case():
    value, vjp_fn = autodiff_ref.vjp(_loss, W, X)
    assert value.shape == ()
    g1, g3 = vjp_fn(np.array(1.0))[0], vjp_fn(3.0)[0]
    np.testing.assert_allclose(g3, 3 * g1, rtol=1e-15)


def test_results_are_fresh_arrays():
    x = np.array([1.0, 2.0])
    identity = autodiff_ref.vjp(lambda x: x, x)
    value, vjp_fn = identity
    value[0] = 99.0
    assert x[0] == 1.0
    cotangent = np.array([5.0, 6.0])
    (g,) = vjp_fn(cotangent)
    g[0] = -1.0
    assert cotangent[0] == 5.0 and vjp_fn(cotangent)[0][0] == 5.0
    grad = autodiff_ref.grad(lambda x: np.sum(x))
    first = grad(x)
    first += 10.0
    np.testing.assert_array_equal(grad(x), [1.0, 1.0])
    np.testing.assert_array_equal(x, [1.0, 2.0])


def test_gradient_is_not_a_view_of_the_input_or_another_gradient():
    x = np.array([1.0, 2.0])
    gx, gy = autodiff_ref.vjp(lambda x, y: x + y, x, x.copy())[1](np.ones(2))
    assert not np.shares_memory(gx, gy)
    assert not np.shares_memory(gx, x)


def test_record_lists_nodes_with_names_values_and_the_users_line():
    def f(x, w):
        h = x @ w
        return np.sum(np.tanh(h))

    recording = autodiff_ref.record(f, (X, W), argnums=(0, 1))
    names = [node.name for node in recording.nodes]
    assert names == ["input", "input", "matmul", "tanh", "sum"]
    leaf_x, leaf_w, matmul, tanh, total = recording.nodes
    assert recording.leaves == (leaf_x, leaf_w)
    assert matmul.parents == ((0, leaf_x), (1, leaf_w))
    np.testing.assert_array_equal(matmul.args[0], X)
    np.testing.assert_array_equal(matmul.args[1], W)
    np.testing.assert_array_equal(matmul.value, X @ W)
    np.testing.assert_array_equal(tanh.args[0], X @ W)
    np.testing.assert_array_equal(total.value, np.sum(np.tanh(X @ W)))
    assert matmul.location == _line_of(f, "h = x @ w")
    assert tanh.location == total.location == _line_of(f, "np.sum(np.tanh(h))")
    np.testing.assert_array_equal(recording.value, total.value)


def test_record_location_points_at_operator_lines_and_helper_calls():
    def f(x):
        y = x * 2.0
        z = autodiff_ref.logsumexp(y)
        return z + 1.0

    here, nodes = _here(), autodiff_ref.record(f, (X,)).nodes
    assert [n.name for n in nodes] == ["input", "multiply", "logsumexp", "add"]
    assert nodes[0].location == here  # the leaf: where record was called
    assert nodes[1].location == _line_of(f, "y = x * 2.0")
    assert nodes[2].location == _line_of(f, "z = autodiff_ref.logsumexp(y)")
    assert nodes[3].location == _line_of(f, "return z + 1.0")


def test_record_backward_matches_grad():
    recording = autodiff_ref.record(_loss, (W, X), argnums=(0, 1))
    dw, dx = recording.backward(np.array(1.0))
    gw, gx = autodiff_ref.grad(_loss, argnums=(0, 1))(W, X)
    np.testing.assert_array_equal(dw, gw)
    np.testing.assert_array_equal(dx, gx)


def test_public_surface():
    assert sorted(autodiff_ref.__all__) == [
        "AutodiffError", "Node", "Primitive", "Recording", "Tensor", "grad", "hessian", "hvp", "jvp", "logsumexp",
        "primitive", "record", "relu", "sigmoid", "softplus", "vjp",
    ]  # fmt: skip
    assert issubclass(autodiff_ref.AutodiffError, TypeError)

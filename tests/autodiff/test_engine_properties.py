"""Property tests over random shapes and values: broadcasting, reductions, linearity, shape round-trips."""

import numpy as np
from fdcheck import check_vjp
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import autodiff_ref

SMALL = {"min_dims": 0, "max_dims": 3, "min_side": 1, "max_side": 3}  # at most 27 elements: fast differences
VALUES = st.floats(-2.0, 2.0, allow_nan=False, allow_subnormal=False)
POSITIVE = st.floats(0.5, 2.0)
GRID = st.integers(5, 20).map(lambda i: i / 10)  # values 0.1 apart: no ties within a difference step


def _array(shape, elements=VALUES):
    return hnp.arrays(np.float64, shape, elements=elements)


@st.composite
def broadcast_pair(draw, elements=VALUES):
    shapes = draw(hnp.mutually_broadcastable_shapes(num_shapes=2, **SMALL))
    return draw(_array(shapes.input_shapes[0], elements)), draw(_array(shapes.input_shapes[1], elements))


@given(st.sampled_from([np.add, np.subtract, np.multiply, np.divide, np.power]), broadcast_pair(POSITIVE),
       st.integers(0, 2**32 - 1))
def test_broadcasting_binary_ops_match_central_differences(op, pair, seed):
    check_vjp(op, *pair, seed=seed)


@given(st.sampled_from([np.maximum, np.minimum]), broadcast_pair(GRID), st.integers(0, 2**32 - 1))
def test_broadcasting_maximum_and_minimum_match_central_differences(op, pair, seed):
    x, y = pair
    check_vjp(op, x, y + 0.05, seed=seed)  # off the grid: never a tie


@st.composite
def array_and_axis(draw, unique=False):
    shape = hnp.array_shapes(min_dims=1, max_dims=3, max_side=3)
    x = draw(hnp.arrays(np.float64, shape, elements=st.integers(-30, 30).map(lambda i: i / 10), unique=unique))
    axis = draw(st.none() | st.integers(-x.ndim, x.ndim - 1) | hnp.valid_tuple_axes(x.ndim))
    return x, axis


@given(array_and_axis(unique=True), st.booleans(), st.sampled_from(["sum", "mean", "max", "min"]))
def test_reductions_over_random_axes_match_central_differences(x_axis, keepdims, name):
    x, axis = x_axis  # distinct values 0.1 apart: max and min are differentiable there
    reduce = getattr(np, name)
    check_vjp(lambda x: reduce(x, axis=axis, keepdims=keepdims), x)


@given(array_and_axis(), st.booleans())
def test_max_reduction_splits_ties_equally_on_random_shapes(x_axis, keepdims):
    x, axis = x_axis
    x = np.round(x)  # a coarse grid: many ties
    value, vjp_fn = autodiff_ref.vjp(lambda x: np.max(x, axis=axis, keepdims=keepdims), x)
    (g,) = vjp_fn(np.ones_like(value))
    winners = x == np.max(x, axis=axis, keepdims=True)
    np.testing.assert_allclose(g, winners / np.sum(winners, axis=axis, keepdims=True), rtol=1e-15)
    np.testing.assert_allclose(np.sum(g, axis=axis), np.ones(np.shape(np.max(x, axis=axis))), rtol=1e-14)


@given(broadcast_pair(), st.floats(-3.0, 3.0), st.floats(-3.0, 3.0), st.integers(0, 2**32 - 1))
def test_vjp_is_linear_in_the_cotangent(pair, a, b, seed):
    x, y = pair

    def f(x, y):
        return np.tanh(x * y) + np.sin(x)

    value, vjp_fn = autodiff_ref.vjp(f, x, y)
    rng = np.random.default_rng(seed)
    u, v = rng.standard_normal(value.shape), rng.standard_normal(value.shape)
    combined = vjp_fn(a * u + b * v)
    for whole, gu, gv in zip(combined, vjp_fn(u), vjp_fn(v), strict=True):
        np.testing.assert_allclose(whole, a * gu + b * gv, rtol=1e-12, atol=1e-12)


@given(_array(hnp.array_shapes(min_dims=1, max_dims=4, max_side=3)), st.data())
def test_transpose_then_inverse_transpose_is_the_identity(x, data):
    axes = data.draw(st.permutations(range(x.ndim)))
    inverse = tuple(np.argsort(axes))
    value, vjp_fn = autodiff_ref.vjp(lambda x: np.transpose(np.transpose(x, axes), inverse), x)
    np.testing.assert_array_equal(value, x)
    cotangent = np.arange(x.size, dtype=float).reshape(x.shape)
    np.testing.assert_array_equal(vjp_fn(cotangent)[0], cotangent)
    (g,) = autodiff_ref.vjp(lambda x: np.transpose(x, axes), x)[1](np.transpose(cotangent, axes))
    np.testing.assert_array_equal(g, cotangent)


@given(_array(hnp.array_shapes(min_dims=1, max_dims=3, max_side=4)), st.data())
def test_reshape_round_trip_and_vjp_of_reshape_is_reshape(x, data):
    target = data.draw(st.sampled_from([s for s in [(x.size,), (1, x.size), (x.size, 1), (-1,)] if s != x.shape]))
    value, vjp_fn = autodiff_ref.vjp(lambda x: x.reshape(target).reshape(x.shape), x)
    np.testing.assert_array_equal(value, x)
    cotangent = np.arange(x.size, dtype=float).reshape(x.shape)
    np.testing.assert_array_equal(vjp_fn(cotangent)[0], cotangent)
    (g,) = autodiff_ref.vjp(lambda x: np.reshape(x, target), x)[1](np.reshape(cotangent, target))
    np.testing.assert_array_equal(g, cotangent)


@given(_array(hnp.array_shapes(min_dims=1, max_dims=2, max_side=4)), st.data())
def test_integer_indexing_accumulates_counts(x, data):
    index = data.draw(hnp.arrays(np.intp, st.integers(1, 6), elements=st.integers(0, len(x) - 1)))
    g = autodiff_ref.grad(lambda x: np.sum(x[index]))(x)
    counts = np.bincount(index, minlength=len(x)).reshape((-1,) + (1,) * (x.ndim - 1))
    np.testing.assert_array_equal(g, np.broadcast_to(counts, x.shape).astype(float))


@given(broadcast_pair(), st.integers(0, 2**32 - 1))
def test_where_routes_the_cotangent_to_exactly_one_branch(pair, seed):
    x, y = pair
    condition = np.random.default_rng(seed).random(np.broadcast_shapes(x.shape, y.shape)) < 0.5
    value, vjp_fn = autodiff_ref.vjp(lambda x, y: np.where(condition, x, y), x, y)
    gx, gy = vjp_fn(np.ones_like(value))
    assert np.sum(gx) + np.sum(gy) == condition.size
    assert np.sum(gx) == np.count_nonzero(condition)

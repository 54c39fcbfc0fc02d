"""High-precision numpy.linalg norms and condition numbers (pytest_gradcheck.hp.twins.linalg.norms): every ord, axis and
keepdims against numpy's float64 results and mpmath's own norms, with numpy's errors for invalid orders."""

import math

import numpy as np
import pytest
from linalg_support import agreeing_digits, all_mpf, f64, hp, mp_matrix, rel_error, square

from pytest_gradcheck.hp import precision
from pytest_gradcheck.hp.twins.linalg import norms as hp_norms

FLOAT64_RTOL = 1e-12
VECTOR_ORDS = [None, 2, 1, 0, math.inf, -math.inf, 3, 0.5, -1, -2.5]
MATRIX_ORDS = [None, "fro", "nuc", math.inf, -math.inf, 1, -1, 2, -2]


@pytest.fixture
def ctx():
    return precision.context(40)


def _numpy_norm(x, ord=None, axis=None, keepdims=False):
    with np.errstate(divide="ignore"):  # numpy warns for a negative order with a zero entry (and gives 0)
        return np.linalg.norm(x, ord, axis, keepdims)


@pytest.mark.parametrize("ord", VECTOR_ORDS)
def test_vector_norms_match_numpy_along_every_axis(ctx, rng, ord):
    x = rng.uniform(-2.0, 2.0, (2, 3, 4))
    x[0, 1, 2] = 0.0  # the zero norm counts it; a negative order gives 0 along its line
    v = x[1, 1]  # no zero entry
    value = hp_norms.norm(hp(v, ctx), ord)
    assert type(value) is ctx.mpf and rel_error([value], [_numpy_norm(v, ord)]) < FLOAT64_RTOL
    for axis in (0, 1, -1):
        for keepdims in (False, True):
            out = hp_norms.norm(hp(x, ctx), ord, axis=axis, keepdims=keepdims)
            expected = _numpy_norm(x, ord, axis, keepdims)
            assert out.shape == expected.shape and all_mpf(out, ctx)
            assert np.allclose(f64(out), expected, rtol=FLOAT64_RTOL, atol=0)
    order = 2 if ord is None else ord
    out = hp_norms.vector_norm(hp(x, ctx), ord=order, axis=(0, 2), keepdims=True)
    with np.errstate(divide="ignore"):
        expected = np.linalg.vector_norm(x, ord=order, axis=(0, 2), keepdims=True)
    assert np.allclose(f64(out), expected, rtol=FLOAT64_RTOL)
    if ord in (None, 1, 2, 3, math.inf):  # mpmath's norm takes p >= 1 (and inf)
        expected = ctx.norm(ctx.matrix(hp(v, ctx).tolist()), ctx.inf if ord == math.inf else 2 if ord is None else ord)
        assert agreeing_digits([value], [expected]) > 35


@pytest.mark.parametrize("ord", MATRIX_ORDS)
def test_matrix_norms_match_numpy_for_every_pair_of_axes(ctx, rng, ord):
    a, x = square(rng, 3), rng.uniform(-2.0, 2.0, (2, 3, 4))
    value = hp_norms.norm(hp(a, ctx), ord)
    assert type(value) is ctx.mpf and rel_error([value], [np.linalg.norm(a, ord)]) < FLOAT64_RTOL
    for axis in ((1, 2), (2, 0), (-1, -2)):
        for keepdims in (False, True):
            out = hp_norms.norm(hp(x, ctx), ord, axis=axis, keepdims=keepdims)
            expected = np.linalg.norm(x, ord, axis, keepdims)
            assert out.shape == expected.shape and np.allclose(f64(out), expected, rtol=FLOAT64_RTOL, atol=0)
    order = "fro" if ord is None else ord
    out = hp_norms.matrix_norm(hp(x, ctx), ord=order, keepdims=True)
    assert np.allclose(f64(out), np.linalg.matrix_norm(x, ord=order, keepdims=True), rtol=FLOAT64_RTOL)
    mp_ord = {1: 1, math.inf: ctx.inf, "fro": "f", None: "f"}.get(ord)
    if mp_ord is not None:
        assert agreeing_digits([value], [ctx.mnorm(mp_matrix(ctx, hp(a, ctx)), mp_ord)]) > 35


def test_default_norm_of_any_shape_and_keepdims(ctx, rng):
    x = rng.uniform(-1.0, 1.0, (2, 3, 2))
    assert rel_error([hp_norms.norm(hp(x, ctx))], [np.linalg.norm(x)]) < FLOAT64_RTOL
    assert hp_norms.norm(hp(x, ctx), keepdims=True).shape == (1, 1, 1)
    assert rel_error(hp_norms.vector_norm(hp(x, ctx), ord=3), np.linalg.vector_norm(x, ord=3)) < FLOAT64_RTOL
    flat = ctx.matrix(hp(x, ctx).ravel().tolist())
    assert agreeing_digits([hp_norms.vector_norm(hp(x, ctx), ord=3)], [ctx.norm(flat, 3)]) > 35
    first = hp(x[0], ctx)
    assert agreeing_digits([hp_norms.matrix_norm(first, ord=1)], [ctx.mnorm(mp_matrix(ctx, first), 1)]) > 35


def test_invalid_orders_and_axes_raise_numpys_errors(ctx):
    v, a, t = hp(np.ones(3), ctx), hp(np.eye(2), ctx), hp(np.ones((2, 2, 2)), ctx)
    cases = [(lambda: hp_norms.norm(v, "fro"), lambda: np.linalg.norm(np.ones(3), "fro")),
             (lambda: hp_norms.norm(a, 3), lambda: np.linalg.norm(np.eye(2), 3)),
             (lambda: hp_norms.norm(t, 2), lambda: np.linalg.norm(np.ones((2, 2, 2)), 2)),
             (lambda: hp_norms.norm(a, axis=(0, 0)), lambda: np.linalg.norm(np.eye(2), axis=(0, 0))),
             (lambda: hp_norms.norm(a, axis="x"), lambda: np.linalg.norm(np.eye(2), axis="x"))]
    for ours, numpys in cases:
        with pytest.raises((ValueError, TypeError)) as expected:
            numpys()
        with pytest.raises(type(expected.value), match=f"^{expected.value}$".replace("(", r"\(").replace(")", r"\)")):
            ours()
    with pytest.raises(np.exceptions.AxisError):
        hp_norms.norm(v, axis=2)


def test_cond_matches_numpy_and_is_inf_for_a_singular_matrix(ctx, rng):
    a = square(rng, 3)
    for p in (None, 2, -2, 1, -1, math.inf, -math.inf, "fro", "nuc"):
        assert rel_error([hp_norms.cond(hp(a, ctx), p)], [np.linalg.cond(a, p)]) < FLOAT64_RTOL
    stack = np.stack([a, a.T @ a])
    assert rel_error(hp_norms.cond(hp(stack, ctx), 1), np.linalg.cond(stack, 1)) < FLOAT64_RTOL
    assert agreeing_digits([hp_norms.cond(hp(a, ctx), 1)], [ctx.cond(mp_matrix(ctx, hp(a, ctx)))]) > 35
    singular = hp([[1.0, 2.0], [2.0, 4.0]], ctx)
    assert hp_norms.cond(singular, 1) == ctx.inf and hp_norms.cond(hp(np.zeros((2, 2)), ctx)) == ctx.inf
    with pytest.raises(np.linalg.LinAlgError, match="cond is not defined on empty arrays"):
        hp_norms.cond(hp(np.zeros((0, 0)), ctx))


def test_norms_at_40_digits_agree_with_60_digits(rng):
    a = square(rng, 3)
    low, high = precision.context(40), precision.context(60)
    for ord in MATRIX_ORDS:
        assert agreeing_digits([hp_norms.norm(hp(a, low), ord)], [hp_norms.norm(hp(a, high), ord)]) > 35
    assert agreeing_digits([hp_norms.cond(hp(a, low))], [hp_norms.cond(hp(a, high))]) > 35

"""Hypothesis strategies: shapes, dtypes, bounds, margins around kinks (exactly), argument errors, shrinking."""

import math
import re
import subprocess
import sys
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import find, given, settings
from hypothesis import strategies as st

from pytest_gradcheck import check_grad
from pytest_gradcheck.strategies import points_away_from, same_shape_arrays, shapes, well_scaled_arrays

DTYPES = [np.float32, np.float64]
NO_DATABASE = settings(database=None)  # find() must not replay examples saved by other runs: minimal is minimal


def _assert_clean(x, scale):
    """Finite, within [-scale, scale], no subnormals, no -0.0."""
    assert np.all(np.isfinite(x))
    assert np.all(np.abs(x.astype(np.float64)) <= scale)
    assert np.all((x == 0) | (np.abs(x) >= np.finfo(x.dtype).tiny))
    assert not np.any(np.signbit(x[x == 0]))


def _distances(x, kink):
    """Exact |x - kink| per element (no rounding in the comparison)."""
    return [abs(Fraction(float(v)) - Fraction(kink)) for v in x.ravel()]


# ---------------------------------------------------------------- shapes, dtypes, bounds


@pytest.mark.parametrize("dtype", DTYPES)
@given(data=st.data())
def test_fixed_shape_dtype_and_bounds(dtype, data):
    x = data.draw(well_scaled_arrays((2, 3), dtype=dtype, scale=0.1))
    assert x.shape == (2, 3)
    assert x.dtype == dtype
    _assert_clean(x, 0.1)


@given(well_scaled_arrays(4))
def test_int_shape_is_one_dimensional(x):
    assert x.shape == (4,)


@given(well_scaled_arrays((0, 3)))
def test_empty_shape_is_allowed(x):
    assert x.shape == (0, 3)


@given(well_scaled_arrays(max_dims=3, max_side=2, scale=5.0))
def test_drawn_shapes_respect_max_dims_and_max_side(x):
    assert 1 <= x.ndim <= 3
    assert all(1 <= side <= 2 for side in x.shape)
    _assert_clean(x, 5.0)


@given(shapes(max_dims=4, max_side=3))
def test_shapes_strategy(shape):
    assert 1 <= len(shape) <= 4
    assert all(1 <= side <= 3 for side in shape)


@pytest.mark.parametrize("dtype", DTYPES)
@given(data=st.data())
def test_min_magnitude(dtype, data):
    x = data.draw(well_scaled_arrays(dtype=dtype, scale=2.0, min_magnitude=0.1))
    assert all(abs(Fraction(float(v))) >= Fraction(0.1) for v in x.ravel())
    _assert_clean(x, 2.0)


# ---------------------------------------------------------------- margins around kinks

KINK_SETS = [
    pytest.param(0.0, 0.1, 1.0, id="single"),
    pytest.param([-1.0, 1.0], 0.05, 2.0, id="clip"),
    pytest.param([0.3, 0.35, -0.7], 0.1, 1.0, id="asymmetric-overlapping"),
    pytest.param([0.95, -3.0], 0.1, 1.0, id="near-and-beyond-bounds"),
    pytest.param([0.1], 0.1, 1.0, id="edge-at-zero"),
    pytest.param(0.0, 1e-310, 1.0, id="subnormal-margin"),
]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize(("kinks", "margin", "scale"), KINK_SETS)
@given(data=st.data())
def test_every_element_is_margin_away_from_every_kink(dtype, kinks, margin, scale, data):
    x = data.draw(points_away_from(kinks, margin, dtype=dtype, scale=scale))
    assert x.dtype == dtype
    for kink in np.atleast_1d(kinks):
        assert min(_distances(x, kink)) >= Fraction(margin)
    _assert_clean(x, scale)


def _some_float64_remains(kinks, margin, scale):
    """Oracle: the allowed set, if not empty, holds ±scale or an edge kink ± margin (rounded outwards)."""
    def away(c):
        return abs(c) <= scale and all(abs(Fraction(c) - Fraction(k)) >= Fraction(margin) for k in kinks)

    edges = []
    for kink, side in ((k, s) for k in kinks for s in (-1, 1)):
        edge = kink + side * margin
        while abs(Fraction(edge) - Fraction(kink)) < Fraction(margin):
            edge = float(np.nextafter(edge, side * math.inf))
        edges.append(edge)
    return any(away(c) for c in [-scale, scale, *edges])


@given(data=st.data(), kinks=st.lists(st.floats(-3, 3), max_size=4), margin=st.floats(1e-3, 2.0),
       scale=st.floats(0.1, 3.0), dtype=st.sampled_from(DTYPES))
def test_any_kinks_margin_and_scale(data, kinks, margin, scale, dtype):
    try:
        strategy = points_away_from(kinks, margin, dtype=dtype, scale=scale)
    except ValueError:
        assert dtype is np.float32 or not _some_float64_remains(kinks, margin, scale)
        return
    x = data.draw(strategy)
    for kink in kinks:
        assert min(_distances(x, kink)) >= Fraction(margin)
    _assert_clean(x, scale)


@given(points_away_from(0.05, 0.1, (3, 2), min_magnitude=0.1))
def test_kinks_and_min_magnitude_together(x):
    assert x.shape == (3, 2)
    assert min(_distances(x, 0.05)) >= Fraction(0.1)
    assert min(_distances(x, 0.0)) >= Fraction(0.1)


@given(points_away_from(0.0, 1.0, 5))
def test_margin_leaving_only_the_bounds(x):
    assert set(x.tolist()) <= {-1.0, 1.0}


@given(points_away_from(0.0, 0.1, 3))
@settings(max_examples=5)  # each example runs a high-precision check
def test_abs_gradient_checks_away_from_its_kink(x):
    assert check_grad(lambda x: np.sum(np.abs(x)), x).status == "pass"


# ---------------------------------------------------------------- arguments

INVALID = [
    (well_scaled_arrays, {"dtype": np.int32}, ValueError, "dtype"),
    (well_scaled_arrays, {"dtype": np.float16}, ValueError, "dtype"),
    (well_scaled_arrays, {"dtype": "no such dtype"}, TypeError, "dtype"),
    (well_scaled_arrays, {"scale": 0.0}, ValueError, "scale"),
    (well_scaled_arrays, {"scale": -1.0}, ValueError, "scale"),
    (well_scaled_arrays, {"scale": math.inf}, ValueError, "scale"),
    (well_scaled_arrays, {"scale": math.nan}, ValueError, "scale"),
    (well_scaled_arrays, {"scale": "1"}, TypeError, "scale"),
    (well_scaled_arrays, {"scale": True}, TypeError, "scale"),
    (well_scaled_arrays, {"scale": 1e39, "dtype": np.float32}, ValueError, "scale"),
    (well_scaled_arrays, {"shape": -1}, ValueError, "shape"),
    (well_scaled_arrays, {"shape": 2.0}, TypeError, "shape"),
    (well_scaled_arrays, {"shape": (2, -1)}, ValueError, "shape[1]"),
    (well_scaled_arrays, {"shape": (2, 1.5)}, TypeError, "shape[1]"),
    (well_scaled_arrays, {"max_dims": 0}, ValueError, "max_dims"),
    (well_scaled_arrays, {"max_dims": 1.5}, TypeError, "max_dims"),
    (well_scaled_arrays, {"max_side": 0}, ValueError, "max_side"),
    (well_scaled_arrays, {"min_magnitude": -0.1}, ValueError, "min_magnitude"),
    (well_scaled_arrays, {"min_magnitude": 2.0}, ValueError, "min_magnitude"),
    (well_scaled_arrays, {"min_magnitude": 0.1, "scale": 0.1, "dtype": np.float32}, ValueError, "min_magnitude"),
    (shapes, {"max_dims": 33}, ValueError, "max_dims"),
    (points_away_from, {"kinks": 0.0, "margin": 0.0}, ValueError, "margin"),
    (points_away_from, {"kinks": 0.0, "margin": -0.1}, ValueError, "margin"),
    (points_away_from, {"kinks": 0.0, "margin": math.inf}, ValueError, "margin"),
    (points_away_from, {"kinks": 0.0, "margin": 1.5}, ValueError, "margin"),
    (points_away_from, {"kinks": [-0.5, 0.5], "margin": 0.6}, ValueError, "margin"),
    (points_away_from, {"kinks": "0", "margin": 0.1}, TypeError, "kinks"),
    (points_away_from, {"kinks": [0.0, None], "margin": 0.1}, TypeError, "kinks[1]"),
    (points_away_from, {"kinks": [math.nan], "margin": 0.1}, ValueError, "kinks[0]"),
    (same_shape_arrays, {"n": 0}, ValueError, "n"),
    (same_shape_arrays, {"n": 2.0}, TypeError, "n"),
    (same_shape_arrays, {"n": 2, "scale": -1.0}, ValueError, "scale"),
]


@pytest.mark.parametrize(("strategy", "kwargs", "error", "name"), INVALID,
                         ids=[f"{s.__name__}({', '.join(f'{a}={v!r}' for a, v in k.items())})" for s, k, *_ in INVALID])
def test_invalid_arguments_raise_at_construction_naming_the_argument(strategy, kwargs, error, name):
    with pytest.raises(error, match=rf"^{re.escape(name)}: expected"):
        strategy(**kwargs)


def test_impossible_margin_message_says_what_remains():
    with pytest.raises(ValueError, match=r"leaves some float64 in \[-scale, scale\] = \[-1.0, 1.0\] away from "
                                         r"kinks \[-0.5, 0.5\] .*, got 0.6: lower the margin or raise the scale"):
        points_away_from([-0.5, 0.5], 0.6)


# ---------------------------------------------------------------- shrinking


def test_shrinks_to_one_simple_element():
    x = find(well_scaled_arrays(), lambda x: np.any(x > 0.5), settings=NO_DATABASE)
    assert x.shape == (1,)
    assert x[0] == 1.0


def test_shrinks_to_simple_float32():
    x = find(well_scaled_arrays(dtype=np.float32, scale=0.1), lambda x: np.any(x > 0.05), settings=NO_DATABASE)
    assert x.shape == (1,)
    assert 0.05 < x[0] <= 0.0625  # 1/16: the simplest float32 above 0.05


def test_min_magnitude_shrinks_to_the_edge():
    x = find(well_scaled_arrays(min_magnitude=0.3), lambda x: True, settings=NO_DATABASE)
    assert x.tolist() == [0.3]


def test_points_away_from_shrinks_zero_to_the_margin():
    x = find(points_away_from(0.0, 0.1), lambda x: True, settings=NO_DATABASE)
    assert x.tolist() == [0.1]


def test_points_away_from_shrinks_past_a_kink_to_its_edge():
    x = find(points_away_from([-1.0, 1.0], 0.25, scale=2.0), lambda x: np.any(x > 0.5), settings=NO_DATABASE)
    assert x.shape == (1,)
    assert x[0] in (0.75, 1.25, 2.0)  # simple values: an edge of the zone around 1, or the bound


def test_same_shape_arrays_shrink_together():
    xs = find(same_shape_arrays(2), lambda xs: xs[0].size >= 2, settings=NO_DATABASE)
    assert [x.size for x in xs] == [2, 2]
    assert all(not x.any() for x in xs)


# ---------------------------------------------------------------- same_shape_arrays


@given(same_shape_arrays(3, max_dims=3, max_side=3))
def test_same_shape_arrays_share_a_drawn_shape(xs):
    assert len(xs) == 3
    assert len({x.shape for x in xs}) == 1


@given(same_shape_arrays(2, shape=(2, 2), dtype=np.float32, scale=3.0, min_magnitude=0.5))
def test_same_shape_arrays_pass_keywords_on(xs):
    for x in xs:
        assert x.shape == (2, 2)
        assert x.dtype == np.float32
        assert np.all(np.abs(x) >= 0.5)
        _assert_clean(x, 3.0)


def test_rest_of_the_package_does_not_import_hypothesis():
    code = ("import pkgutil, importlib, sys, pytest_gradcheck\n"
            "for m in pkgutil.iter_modules(pytest_gradcheck.__path__):\n"
            "    if m.name != 'strategies': importlib.import_module('pytest_gradcheck.' + m.name)\n"
            "assert 'hypothesis' not in sys.modules, 'hypothesis imported'\n")
    subprocess.run([sys.executable, "-c", code], check=True)

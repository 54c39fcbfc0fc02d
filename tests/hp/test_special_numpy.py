"""numpy's ufuncs without an object loop (logaddexp, isnan, copysign, ...) and np.sinc / np.i0 on
high-precision arrays: against mpmath at 60 digits and numpy's float64 results."""

import numpy as np
import pytest
from special_support import REF, assert_agrees, assert_all_mpf, assert_float64_close, ensure_registered, hp, off_grid
from special_support import same_as_float64 as same

from pytest_gradcheck.hp import precision
from pytest_gradcheck.hp import registry as hp_registry
from pytest_gradcheck.hp.array import HPArray

R = REF.mpf


@pytest.fixture(autouse=True)
def _registered():
    ensure_registered()


@pytest.fixture
def ctx():
    return precision.context(40)


X = np.array([-3.0, -0.4, 0.0, 1.25, 30.0])
Y = np.array([-2.5, 1.0, -1e-3, 1.25, -30.0])


@pytest.mark.parametrize(("name", "reference"), [
    ("logaddexp", lambda x, y: REF.log(REF.exp(x) + REF.exp(y))),
    ("logaddexp2", lambda x, y: REF.log(REF.power(2, x) + REF.power(2, y), 2)),
    ("float_power", lambda x, y: REF.power(abs(x), y)),
])
def test_binary_ufuncs_match_mpmath_and_numpy(ctx, name, reference):
    x, y = (np.abs(X) + 0.5, Y) if name == "float_power" else (X, Y)
    hx, hy = off_grid(x, ctx), off_grid(y, ctx)
    out = getattr(np, name)(hx, hy)
    assert isinstance(out, HPArray)
    assert_all_mpf(out, ctx, name)
    assert_agrees(out, [reference(R(a), R(b)) for a, b in zip(hx, hy, strict=True)], what=name)
    assert_float64_close(out, getattr(np, name)(x, y), what=name)


def test_logaddexp_of_equal_and_infinite_operands(ctx):
    twin = hp_registry.lookup_ufunc(np.logaddexp)
    assert twin(ctx.mpf(2), ctx.mpf(2)) == 2 + ctx.ln2
    assert twin(ctx.ninf, ctx.ninf) == ctx.ninf and twin(ctx.inf, ctx.mpf(1)) == ctx.inf
    assert twin(ctx.ninf, ctx.mpf(1.5)) == 1.5 and ctx.isnan(twin(ctx.nan, ctx.mpf(0)))
    far = np.logaddexp(hp([-1000.0], ctx), 0.0)[0]  # log1p(exp(-1000)): float64 gives exactly 0
    assert_agrees([far], [REF.log1p(REF.exp(-1000))])


def test_predicates_give_bool_arrays_like_numpy(ctx):
    values = np.array([ctx.mpf(1.5), ctx.inf, ctx.ninf, ctx.nan, ctx.mpf(-2), ctx.zero], dtype=object)
    floats = np.array([1.5, np.inf, -np.inf, np.nan, -2.0, 0.0])
    arg = hp([0.0] * 6, ctx)
    arg[...] = values
    for name in ("isnan", "isinf", "isfinite", "signbit"):
        out = getattr(np, name)(arg)
        assert out.dtype == bool and out.tolist() == getattr(np, name)(floats).tolist(), name


def test_copysign_signbit_and_heaviside(ctx):
    x = off_grid([2.5, -0.75, 3.0], ctx)
    out = np.copysign(x, np.array([-1.0, 2.0, -4.0]))
    assert_all_mpf(out, ctx)
    assert out[0] == -x[0] and out[1] == -x[1] and out[2] == -x[2]  # the exact high-precision magnitudes
    assert np.copysign(ctx.mpf(-3), 0.0) == 3
    assert np.signbit(hp([-0.5, 0.5], ctx)).tolist() == [True, False]
    h = np.heaviside(hp([-1.0, 0.0, 2.0], ctx), 0.5)
    assert_all_mpf(h, ctx)
    assert [float(v) for v in h] == [0.0, 0.5, 1.0]
    assert ctx.isnan(hp_registry.lookup_ufunc(np.heaviside)(ctx.nan, ctx.mpf(0.5)))


def test_ldexp_takes_integer_exponents_and_refuses_fractional_ones(ctx):
    x = off_grid([0.75, -3.0], ctx)
    out = np.ldexp(x, np.array([3, -2]))
    assert out[0] == x[0] * 8 and out[1] == x[1] / 4
    with pytest.raises(TypeError, match=r"ldexp: exponent: expected an integer, got 0\.5"):
        hp_registry.lookup_ufunc(np.ldexp)(ctx.mpf(1), ctx.mpf(0.5))


def test_float_power_outside_the_real_domain_and_at_zero(ctx):
    twin = hp_registry.lookup_ufunc(np.float_power)
    assert ctx.isnan(twin(ctx.mpf(-2), ctx.mpf(0.5)))  # numpy: nan, never an mpc
    assert twin(ctx.mpf(-2), ctx.mpf(3)) == -8 and twin(ctx.zero, ctx.mpf(-1)) == ctx.inf
    assert twin(ctx.nan, ctx.zero) == 1 and twin(ctx.one, ctx.nan) == 1  # C's pow


def test_a_twin_needs_one_high_precision_operand(ctx):
    with pytest.raises(TypeError, match="expected at least one high-precision mpf"):
        hp_registry.lookup_ufunc(np.logaddexp)(1.0, 2.0)


def test_sinc_uses_the_contexts_pi_not_float64_pi(ctx):
    x = off_grid([-2.5, 0.3, 1.5, 7.25], ctx)
    out = np.sinc(x)
    assert isinstance(out, HPArray)
    want = [REF.sin(REF.pi * R(v)) / (REF.pi * R(v)) for v in x]
    assert_agrees(out, want)
    assert np.sinc(hp([0.0], ctx))[0] == 1
    plain = np.sinc._implementation(np.asarray(x.view(np.ndarray)))  # numpy's own code: multiplies by float64 pi
    error = max(abs(R(p) - w) / abs(w) for p, w in zip(plain, want, strict=True))
    assert error > REF.mpf(10) ** -20  # what the twin avoids: float64 pi limits it to ~1e-17
    assert_float64_close(out, np.sinc(np.array([-2.5, 0.3, 1.5, 7.25])))


def test_i0_returns_high_precision_where_numpy_returns_float64(ctx):
    x = off_grid([-2.0, 0.5, 12.0], ctx)
    assert np.i0._implementation(np.asarray(x.view(np.ndarray))).dtype == np.float64  # numpy's own: float64
    out = np.i0(x)
    assert_all_mpf(out, ctx)
    assert_agrees(out, [REF.besseli(0, R(v)) for v in x])
    assert_float64_close(out, np.i0(np.array([-2.0, 0.5, 12.0])))


EDGES = [-np.inf, -2.0, -0.5, 0.0, 1.0, 2.5, np.inf, np.nan]


@pytest.mark.parametrize("name", ["logaddexp", "logaddexp2", "copysign", "heaviside", "float_power"])
def test_binary_ufunc_twins_give_numpys_values_at_infinities_nan_and_signs(ctx, name):
    twin = hp_registry.lookup_ufunc(getattr(np, name))
    pairs = [(a, b) for a in EDGES for b in EDGES]
    with np.errstate(all="ignore"):
        expected = getattr(np, name)(*(np.array(c) for c in zip(*pairs, strict=True)))
    got = [twin(ctx.mpf(a), ctx.mpf(b)) for a, b in pairs]
    assert_all_mpf(got, ctx, name)
    wrong = [(p, float(g), e) for p, g, e in zip(pairs, got, expected, strict=True) if not same(g, e)]
    assert not wrong, f"{name}: (arguments, twin, numpy): {wrong[:8]}"

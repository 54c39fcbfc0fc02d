"""Shared helpers of the special-function and statistics twin tests: a 60-digit mpmath reference context,
40-digit high-precision arrays, and comparisons against it and against scipy's float64 values."""

import mpmath
import numpy as np

from pytest_gradcheck.hp import install, precision

REF = mpmath.MPContext()  # the independent reference: mpmath's own functions at 60 digits, complex allowed
REF.dps = 60
AGREE_DIGITS = 35  # a 40-digit twin must match the 60-digit reference to 35 digits


def ensure_registered():
    """Register the twins again: other tests may unregister names they borrowed (idempotent)."""
    install.load(again=True)


def hp(values, ctx):
    return precision.to_hp(np.asarray(values, dtype=float), ctx)


def off_grid(values, ctx):
    """High-precision values a hair (3**-50 relative, ~1e-24) away from the float64 `values`: not float64
    numbers, so a twin that rounds its argument to float64 somewhere cannot match the reference."""
    return hp(values, ctx) * (1 + ctx.mpf(3) ** -50)


def assert_agrees(got, want, digits=AGREE_DIGITS, what=""):
    """`got` (40-digit mpf values) matches `want` (60-digit reference values) to `digits` relative digits."""
    got_flat, want_flat = np.ravel(np.asarray(got, dtype=object)), np.ravel(np.asarray(want, dtype=object))
    assert got_flat.shape == want_flat.shape, what
    for i, (g, w) in enumerate(zip(got_flat.tolist(), want_flat.tolist(), strict=True)):
        w = REF.mpf(REF.re(w))
        error = abs(REF.mpf(g) - w)
        assert error <= REF.mpf(10) ** -digits * abs(w), f"{what} element {i}: {g} vs reference {REF.nstr(w, 45)}"


def assert_all_mpf(values, ctx, what=""):
    bad = [type(v).__name__ for v in np.ravel(np.asarray(values, dtype=object)).tolist() if type(v) is not ctx.mpf]
    assert not bad, f"{what}: elements of types {sorted(set(bad))}, expected {ctx.dps}-digit mpf"


def same_as_float64(got, expected, rtol=1e-12, atol=0.0):
    """Whether a high-precision value rounds to scipy's float64 value: nan for nan, the same infinity, or
    within `rtol` relative (plus `atol` absolute, for values that cancel to about 0 in float64)."""
    got, expected = float(got), float(expected)
    if np.isnan(expected) or np.isnan(got):
        return bool(np.isnan(expected) and np.isnan(got))
    if np.isinf(expected) or np.isinf(got):
        return got == expected
    return abs(got - expected) <= rtol * abs(expected) + atol


def assert_float64_close(got, expected, rtol=1e-12, what=""):
    got_flat, expected_flat = precision.to_float64(got).ravel(), np.ravel(np.asarray(expected, dtype=float))
    assert got_flat.shape == expected_flat.shape, what
    for i, (g, e) in enumerate(zip(got_flat, expected_flat, strict=True)):
        assert same_as_float64(g, e, rtol), f"{what} element {i}: {g!r} vs float64 {e!r}"

"""Shared helpers of the high-precision linear-algebra tests: inputs, conversions, comparisons."""

import mpmath
import numpy as np

from pytest_gradcheck.hp import precision

_WIDE = mpmath.MPContext()
_WIDE.dps = 120  # differences of 40- and 60-digit results are exact here


def hp(values, ctx):
    return precision.to_hp(np.asarray(values, dtype=float), ctx)


def f64(values):
    return precision.to_float64(values)


def square(rng, n):
    return 2.0 * np.eye(n) + rng.uniform(-0.5, 0.5, (n, n))  # diagonally dominant: well conditioned


def spd(rng, n):
    b = rng.uniform(-1.0, 1.0, (n, n))
    return b @ b.T + n * np.eye(n)


def symmetric(rng, n):
    """Eigenvalues -1, ..., 2 + 1.5 (n - 3): well separated, so eigenvectors are well defined."""
    q, _ = np.linalg.qr(rng.uniform(-1.0, 1.0, (n, n)))
    s = q @ np.diag(np.linspace(-1.0, 2.0 + 1.5 * (n - 3), n)) @ q.T
    return (s + s.T) / 2


def rel_error(value, expected):
    """max |value - expected| / max |expected|, both as float64 arrays."""
    value, expected = np.asarray(f64(value)), np.asarray(f64(expected))
    assert value.shape == expected.shape, (value.shape, expected.shape)
    scale = np.max(np.abs(expected)) if expected.size else 1.0
    return float(np.max(np.abs(value - expected)) / scale) if expected.size else 0.0


def agreeing_digits(low, high):
    """-log10 of max |low - high| / max |high|, computed exactly (low and high: mpf arrays of two contexts)."""
    low = [_WIDE.convert(x) for x in np.ravel(np.asarray(low, dtype=object)).tolist()]
    high = [_WIDE.convert(x) for x in np.ravel(np.asarray(high, dtype=object)).tolist()]
    assert len(low) == len(high)
    scale = max(abs(x) for x in high)
    worst = max(abs(a - b) for a, b in zip(low, high, strict=True))
    return float("inf") if worst == 0 else float(-_WIDE.log10(worst / scale))


def mp_matrix(ctx, array):
    return ctx.matrix(np.asarray(array, dtype=object).tolist())


def mp_array(matrix):
    """An mpmath matrix (or column vector) as a 2-D object array."""
    return np.array([[matrix[i, j] for j in range(matrix.cols)] for i in range(matrix.rows)], dtype=object)


def column_signs_matched(value, expected):
    """`value` with each column's sign flipped to agree with `expected` (numpy's LAPACK signs are arbitrary)."""
    value = np.asarray(f64(value))
    signs = np.sign(np.sum(value * expected, axis=-2, keepdims=True))
    return value * signs


def all_mpf(value, ctx):
    return all(type(x) is ctx.mpf for x in np.ravel(np.asarray(value, dtype=object)).tolist())

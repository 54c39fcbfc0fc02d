"""Shared helpers of the central-difference tests: a 40-digit context and object arrays built from it."""

import mpmath
import numpy as np

DIGITS = 40  # the working precision the issue targets


def make_context(digits=DIGITS):
    context = mpmath.MPContext()
    context.dps = digits
    return context


def hp(context, values):
    return np.array([context.mpf(float(v)) for v in np.ravel(values)], dtype=object)


def elementwise(fn, values):
    """fn on each element: numpy object loops call x.exp(), which mpmath numbers lack."""
    return np.array([fn(v) for v in values], dtype=object)


def one(fn):
    """phi for a scalar function of t: a 1-element object array."""
    return lambda t: np.array([fn(t)], dtype=object)

"""The operations the quad tier lets numpy-quaddtype run natively: every one of them is run on quad arrays by
the project's tests (`tests/hp/test_quad_ops.py`, in a subprocess: a crash fails a test, never a user's run).

Anything not listed here goes to the mpmath path for that call (`quad.QuadArray`): numpy-quaddtype has sharp
edges (``np.einsum('i,i->', x, x)`` on 1-D quad arrays kills the interpreter; ``np.dot``, ``np.linalg``,
``np.fft`` raise; ``np.clip`` has no loop), so an operation joins these lists only with a test that runs it.

The lists hold under four rules the tier keeps (the tests run every operation under a model of them):

- only the listed ufunc methods and functions run natively;
- a ufunc's operands are converted to quad before the call unless ``MIXED_OPERANDS_SAFE``;
- a ``reduce`` of a ufunc in ``REDUCTION_IDENTITIES`` is given that identity as ``initial`` when the call gives
  none;
- results stay tier arrays, 0-d ones included: a bare ``QuadPrecision`` scalar would take the next operation on
  it (``np.mean``'s division by the count, ``total * weights``) out of the tier, unchecked and with mixed operands.
"""

from __future__ import annotations

__all__ = [
    "EXCLUDED", "FUNCTIONS", "MIXED_OPERANDS_SAFE", "REDUCTIONS", "REDUCTION_IDENTITIES", "SUPPORTED_VERSIONS",
    "UFUNCS",
]

# numpy-quaddtype releases whose loops these lists were tested on: >= the first, < the second (the pin of the
# `fast` extra in pyproject.toml says the same; a test checks).
SUPPORTED_VERSIONS = ((1, 0), (1, 1))

# ufuncs called elementwise (method "__call__") on quad operands (mixed with float64, float32, int and bool
# arrays and Python or numpy scalars, converted to quad first).
UFUNCS = frozenset({
    "add", "subtract", "multiply", "divide", "true_divide", "power", "float_power", "negative", "positive",
    "absolute", "fabs", "square", "reciprocal", "sqrt",
    "exp", "exp2", "expm1", "log", "log2", "log10", "log1p", "logaddexp", "logaddexp2",
    "sin", "cos", "tan", "arcsin", "arccos", "arctan", "arctan2", "hypot",
    "sinh", "cosh", "tanh", "arcsinh", "arccosh", "arctanh",
    "maximum", "minimum", "fmax", "fmin", "sign", "copysign", "floor", "ceil", "trunc", "rint",
    "less", "less_equal", "greater", "greater_equal", "equal", "not_equal",
    "isnan", "isfinite", "isinf", "signbit",
})

# ufuncs whose reduce and accumulate methods run on quad (np.sum, np.prod, np.max, np.cumsum, ...).
REDUCTIONS = frozenset({"add", "multiply", "maximum", "minimum"})

# numpy functions (through __array_function__) whose own implementation runs on quad arrays: shape and
# index manipulation, and functions made of the ufuncs above.
FUNCTIONS = frozenset({
    "reshape", "ravel", "transpose", "swapaxes", "moveaxis", "expand_dims", "squeeze", "atleast_1d",
    "atleast_2d", "broadcast_to", "broadcast_arrays", "concatenate", "stack", "vstack", "hstack", "where",
    "sum", "mean", "prod", "max", "min", "amax", "amin", "cumsum", "cumprod", "zeros_like", "ones_like",
    "full_like", "empty_like", "copy", "take", "diagonal", "trace", "tile", "repeat", "flip", "roll",
    "argmax", "argmin", "shape", "ndim", "size",
})

# numpy-quaddtype 1.0's promoter for mixed operands (quad with float64, int, a Python float, ...) drops a reference
# to the QuadPrecDType class once per new (ufunc, operand dtypes) pair; on Python 3.11 about 230 pairs in one process
# free the class and the interpreter segfaults (on 3.13 the class is immortal). Quad operands only, then: the tier
# converts the others first (casts to quad drop nothing).
MIXED_OPERANDS_SAFE = False

# numpy-quaddtype 1.0 gives add and multiply no identity: a reduce over a size-0 axis (np.sum of an empty array)
# or with where= raises where float64 starts from these (+0.0, as float64 does: np.sum([-0.0]) is 0.0).
REDUCTION_IDENTITIES = {"add": 0.0, "multiply": 1.0}

# Left out, and why (numpy-quaddtype 1.0.0); these go to the mpmath path. A name joins the lists above only with a
# passing run in tests/hp/test_quad_ops.py.
EXCLUDED = {
    "einsum": "np.einsum('i,i->', x, x) on 1-D quad arrays segfaults; 'ij,j->i' gives zeros",
    "dot": "np.dot, ndarray.dot, np.vdot, np.inner and np.tensordot raise",
    "linalg": "np.linalg raises",
    "fft": "np.fft raises",
    "clip": "np.clip has no quad loop",
    "matmul": "wrong values for transposed, strided or stacked (3-D) operands; raises on a size-0 inner dimension",
    "cbrt": "up to 11 ulps off (cbrt(1e-20), cbrt(-1e100)); the other math ufuncs tested are within 0.6 ulp",
    "outer": "np.outer converts its operands with np.asarray, so a float64 operand reaches numpy-quaddtype mixed",
}

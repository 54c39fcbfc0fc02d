"""The operations the quad tier lets numpy-quaddtype run natively: every one of them is run on quad arrays by
the project's tests (`tests/hp/test_quad_ops.py`, in a subprocess: a crash fails a test, never a user's run).

Anything not listed here goes to the mpmath path for that call (`quad.QuadArray`): numpy-quaddtype has sharp
edges (``np.einsum('i,i->', x, x)`` on 1-D quad arrays kills the interpreter; ``np.dot``, ``np.linalg``,
``np.fft`` raise; ``np.clip`` has no loop), so an operation joins these lists only with a test that runs it.
"""

from __future__ import annotations

__all__ = ["FUNCTIONS", "REDUCTIONS", "SUPPORTED_VERSIONS", "UFUNCS"]

# numpy-quaddtype releases whose loops these lists were tested on: >= the first, < the second.
SUPPORTED_VERSIONS = ((1, 0), (1, 1))

# ufuncs called elementwise (method "__call__") on quad operands (mixed with float64, float32, int and bool
# arrays and Python or numpy scalars).
UFUNCS = frozenset({
    "add", "subtract", "multiply", "divide", "true_divide", "power", "float_power", "negative", "positive",
    "absolute", "fabs", "square", "reciprocal", "sqrt", "cbrt",
    "exp", "exp2", "expm1", "log", "log2", "log10", "log1p", "logaddexp", "logaddexp2",
    "sin", "cos", "tan", "arcsin", "arccos", "arctan", "arctan2", "hypot",
    "sinh", "cosh", "tanh", "arcsinh", "arccosh", "arctanh",
    "maximum", "minimum", "fmax", "fmin", "sign", "copysign", "floor", "ceil", "trunc", "rint",
    "less", "less_equal", "greater", "greater_equal", "equal", "not_equal",
    "isnan", "isfinite", "isinf", "signbit", "matmul",
})

# ufuncs whose reduce and accumulate methods run on quad (np.sum, np.prod, np.max, np.cumsum, ...).
REDUCTIONS = frozenset({"add", "multiply", "maximum", "minimum"})

# numpy functions (through __array_function__) whose own implementation runs on quad arrays: shape and
# index manipulation, and functions made of the ufuncs above.
FUNCTIONS = frozenset({
    "reshape", "ravel", "transpose", "swapaxes", "moveaxis", "expand_dims", "squeeze", "atleast_1d",
    "atleast_2d", "broadcast_to", "broadcast_arrays", "concatenate", "stack", "vstack", "hstack", "where",
    "sum", "mean", "prod", "max", "min", "amax", "amin", "cumsum", "cumprod", "zeros_like", "ones_like",
    "full_like", "empty_like", "copy", "outer", "take", "diagonal", "trace", "tile", "repeat", "flip", "roll",
    "argmax", "argmin", "shape", "ndim", "size", "copyto",
})

"""One representative call of every primitive, for tests that sweep all of them (dtypes, precision).

Each case is (function, argument shapes, low, high): arguments are drawn uniformly from [low, high), a range
where the function is smooth. Python-scalar constants inside the functions test weak dtype promotion.
"""

import numpy as np

import autodiff_ref

A, B, V = (2, 3), (3,), (4,)

CASES = {
    "add": (lambda x, y: x + y, (A, B), -1.0, 1.0),
    "subtract": (lambda x, y: x - y, (A, B), -1.0, 1.0),
    "multiply": (lambda x, y: x * y, (A, B), -1.0, 1.0),
    "multiply by a scalar": (lambda x, s: x * s, (A, ()), -1.0, 1.0),
    "divide": (lambda x, y: x / y, (A, B), 0.5, 2.0),
    "negative": (np.negative, (A,), -1.0, 1.0),
    "positive": (np.positive, (A,), -1.0, 1.0),
    "reciprocal": (np.reciprocal, (A,), 0.5, 2.0),
    "square": (np.square, (A,), -1.0, 1.0),
    "abs": (np.abs, (A,), -1.0, 1.0),
    "power": (np.power, (A, B), 0.5, 2.0),
    "power scalar exponent": (lambda x: x**1.5, (A,), 0.5, 2.0),
    "power constant base": (lambda y: 2.5**y, (A,), -1.0, 1.0),
    "exp": (np.exp, (A,), -1.0, 1.0),
    "expm1": (np.expm1, (A,), -1.0, 1.0),
    "log": (np.log, (A,), 0.5, 2.0),
    "log1p": (np.log1p, (A,), 0.5, 2.0),
    "sqrt": (np.sqrt, (A,), 0.5, 2.0),
    "sin": (np.sin, (A,), -1.0, 1.0),
    "cos": (np.cos, (A,), -1.0, 1.0),
    "tan": (np.tan, (A,), -1.0, 1.0),
    "sinh": (np.sinh, (A,), -1.0, 1.0),
    "cosh": (np.cosh, (A,), -1.0, 1.0),
    "tanh": (np.tanh, (A,), -1.0, 1.0),
    "arctan": (np.arctan, (A,), -1.0, 1.0),
    "maximum": (np.maximum, (A, B), -1.0, 1.0),
    "minimum": (np.minimum, (A, B), -1.0, 1.0),
    "maximum with a scalar": (lambda x: np.maximum(x, 0.25), (A,), -1.0, 1.0),
    "logaddexp": (np.logaddexp, (A, B), -3.0, 3.0),
    "logaddexp with a zero": (lambda x: np.logaddexp(0.0, x), (A,), -3.0, 3.0),
    "logaddexp2": (np.logaddexp2, (A, B), -3.0, 3.0),
    "sum": (lambda x: np.sum(x, axis=0), (A,), -1.0, 1.0),
    "mean": (lambda x: np.mean(x, axis=(0, 1)), (A,), -1.0, 1.0),
    "max": (lambda x: np.max(x, axis=1), (A,), -1.0, 1.0),
    "min": (np.min, (A,), -1.0, 1.0),
    "var": (lambda x: np.var(x, axis=0, ddof=1), (A,), -1.0, 1.0),
    "std": (np.std, (A,), -1.0, 1.0),
    "reshape": (lambda x: np.reshape(x, (3, 2)), (A,), -1.0, 1.0),
    "ravel": (np.ravel, (A,), -1.0, 1.0),
    "squeeze": (lambda x: np.squeeze(x[:1]), (A,), -1.0, 1.0),
    "expand_dims": (lambda x: np.expand_dims(x, 1), (A,), -1.0, 1.0),
    "transpose": (np.transpose, (A,), -1.0, 1.0),
    "swapaxes": (lambda x: np.swapaxes(x, 0, 1), (A,), -1.0, 1.0),
    "getitem": (lambda x: x[np.array([1, 1, 0]), 1:], (A,), -1.0, 1.0),
    "getitem mask": (lambda x: x[x > 0], (A,), -1.0, 1.0),
    "concatenate": (lambda x, y: np.concatenate([x, y[None]]), (A, B), -1.0, 1.0),
    "stack": (lambda x, y: np.stack([x[0], y], axis=1), (A, B), -1.0, 1.0),
    "where": (lambda x, y: np.where(x > 0, x, y), (A, B), -1.0, 1.0),
    "where with a scalar": (lambda x: np.where(x > 0, 0.5, x), (A,), -1.0, 1.0),
    "clip": (lambda x: np.clip(x, -0.5, 0.5), (A,), -1.0, 1.0),
    "clip traced bounds": (np.clip, (A, B, ()), -1.0, 1.0),
    "matmul": (lambda x, y: x @ y, (A, B), -1.0, 1.0),
    "dot": (lambda x, y: np.dot(y, x.T), (A, B), -1.0, 1.0),
    "dot with a scalar": (lambda x: np.dot(x, 1.5), (A,), -1.0, 1.0),
    "sigmoid": (autodiff_ref.sigmoid, (A,), -2.0, 2.0),
    "softplus": (autodiff_ref.softplus, (A,), -2.0, 2.0),
    "logsumexp": (lambda x: autodiff_ref.logsumexp(x, axis=1), (A,), -2.0, 2.0),
    "relu": (autodiff_ref.relu, (A,), -2.0, 2.0),
}

ELEMENTWISE = (
    "add", "subtract", "multiply", "multiply by a scalar", "divide", "negative", "positive", "reciprocal", "square",
    "abs", "power", "power scalar exponent", "power constant base", "exp", "expm1", "log", "log1p", "sqrt", "sin",
    "cos", "tan", "sinh", "cosh", "tanh", "arctan", "maximum", "minimum", "maximum with a scalar", "sigmoid",
    "softplus", "relu", "logaddexp", "logaddexp with a zero", "logaddexp2",
)  # fmt: skip


def arguments(name, seed=0):
    """float64 arguments of case `name`, drawn from its range."""
    _, shapes, low, high = CASES[name]
    rng = np.random.default_rng(seed)
    return tuple(rng.uniform(low, high, size=shape) for shape in shapes)

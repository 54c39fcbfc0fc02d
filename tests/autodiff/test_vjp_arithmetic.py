"""VJPs of the arithmetic ufuncs against central differences, broadcasting included."""

import numpy as np
import pytest
from fdcheck import check_vjp

BROADCAST = [((3,), (3,)), ((2, 3), (3,)), ((3,), (2, 3)), ((2, 1), (1, 3)), ((), (2, 3)), ((2, 3), ()),
             ((4, 1, 3), (2, 1)), ((1,), (2, 2))]  # fmt: skip
SEEDS = [0, 1, 2]  # several points per case


def _uniform(seed, low, high, *shapes):
    rng = np.random.default_rng(seed)
    return tuple(rng.uniform(low, high, size=s) for s in shapes)


BINARY = {
    "add": lambda x, y: x + y, "np.add": np.add, "subtract": lambda x, y: x - y, "np.subtract": np.subtract,
    "multiply": lambda x, y: x * y, "np.multiply": np.multiply, "divide": lambda x, y: x / y,
    "np.divide": np.divide, "power": lambda x, y: x**y, "np.power": np.power,
    "maximum": np.maximum, "minimum": np.minimum,
}  # fmt: skip


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("shapes", BROADCAST, ids=str)
@pytest.mark.parametrize("name", sorted(BINARY))
def test_binary_ops_with_broadcasting(name, shapes, seed):
    x, y = _uniform(seed, 0.5, 2.0, *shapes)  # positive bases for power, no ties for maximum (continuous draw)
    if name not in ("power", "np.power", "divide", "np.divide"):
        y = y - 1.25  # mixed signs where the domain allows
    check_vjp(BINARY[name], x, y, seed=seed)


UNARY = {
    "negative": lambda x: -x, "np.negative": np.negative, "positive": np.positive, "square": np.square,
    "abs": np.abs, "builtin abs": abs, "reciprocal": np.reciprocal,
}  # fmt: skip


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("shape", [(), (4,), (2, 3)], ids=str)
@pytest.mark.parametrize("name", sorted(UNARY))
def test_unary_arithmetic(name, shape, seed):
    (x,) = _uniform(seed, 0.2, 1.5, shape)
    signs = np.where(np.random.default_rng(seed + 10).random(shape) < 0.5, -1.0, 1.0)
    check_vjp(UNARY[name], x * signs, seed=seed)


SCALAR_FORMS = {
    "x + 2": lambda x: x + 2.0, "2 + x": lambda x: 2.0 + x, "x - 2": lambda x: x - 2.0, "2 - x": lambda x: 2.0 - x,
    "3 * x": lambda x: 3.0 * x, "x * 3": lambda x: x * 3, "x / 3": lambda x: x / 3.0, "3 / x": lambda x: 3.0 / x,
    "x ** 2": lambda x: x**2, "x ** 3 (int)": lambda x: x**3, "x ** 0.5": lambda x: x**0.5,
    "x ** -1.5": lambda x: x**-1.5, "x ** 0": lambda x: x**0, "2 ** x": lambda x: 2.0**x,
    "0.5 ** x": lambda x: 0.5**x, "array ** x": lambda x: np.array([0.5, 2.0, 3.0]) ** x,
    "x ** array": lambda x: x ** np.array([-0.5, 2.0, 1.5]), "np.power(x, 2.5)": lambda x: np.power(x, 2.5),
    "np.power(3, x)": lambda x: np.power(3.0, x),
}  # fmt: skip


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("name", sorted(SCALAR_FORMS))
def test_scalar_and_constant_operands(name, seed):
    (x,) = _uniform(seed, 0.3, 1.8, (3,))
    check_vjp(SCALAR_FORMS[name], x, seed=seed)


@pytest.mark.parametrize("exponent", [2, 3, 4.0])
def test_power_of_negative_base_with_integer_exponent(exponent):
    check_vjp(lambda x: x**exponent, np.array([-1.5, -0.4, 0.7]))


"""VJPs of the two-argument elementwise ops (their cases in primitive_cases.py) and of the operators, broadcasting
included, against central differences."""

import numpy as np
import pytest
from fdcheck import check_vjp
from primitive_cases import BINARY_ELEMENTWISE, CASES, arguments, builtin_ops

BROADCAST = [((3,), (3,)), ((2, 3), (3,)), ((3,), (2, 3)), ((2, 1), (1, 3)), ((), (2, 3)), ((2, 3), ()),
             ((4, 1, 3), (2, 1)), ((1,), (2, 2))]  # fmt: skip
SEEDS = [0, 1, 2]  # several points per case


def _uniform(seed, low, high, *shapes):
    rng = np.random.default_rng(seed)
    return tuple(rng.uniform(low, high, size=s) for s in shapes)


def _binary_forms():
    """Each two-argument elementwise case of primitive_cases.py, as written there and as its op's numpy ufuncs."""
    ops = builtin_ops()
    forms = {}
    for name in BINARY_ELEMENTWISE:
        forms[name] = (name, CASES[name].f)
        for ufunc in getattr(ops[CASES[name].op], "numpy", ()):
            forms[f"np.{ufunc.__name__}"] = (name, ufunc)
    return forms


BINARY = _binary_forms()


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("shapes", BROADCAST, ids=str)
@pytest.mark.parametrize("form", sorted(BINARY))
def test_binary_ops_with_broadcasting(form, shapes, seed):
    name, f = BINARY[form]
    check_vjp(f, *arguments(name, seed, shapes=shapes), seed=seed)  # the case's range: no ties, no poles


OPERATOR_FORMS = {"-x": lambda x: -x, "+x": lambda x: +x, "builtin abs": abs, "x ** 2": lambda x: x**2}


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("shape", [(), (4,), (2, 3)], ids=str)
@pytest.mark.parametrize("name", sorted(OPERATOR_FORMS))
def test_unary_operators(name, shape, seed):
    (x,) = _uniform(seed, 0.2, 1.5, shape)
    signs = np.where(np.random.default_rng(seed + 10).random(shape) < 0.5, -1.0, 1.0)
    check_vjp(OPERATOR_FORMS[name], x * signs, seed=seed)


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


"""VJPs of the one-argument elementwise ops (their cases in primitive_cases.py), selection and the activations."""

import numpy as np
import pytest
from fdcheck import check_vjp
from primitive_cases import CASES, UNARY_ELEMENTWISE, arguments

import autodiff_ref

SEEDS = [0, 1, 2]
SHAPES = [(), (5,), (2, 3)]


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("shape", SHAPES, ids=str)
@pytest.mark.parametrize("name", UNARY_ELEMENTWISE)
def test_unary_elementwise_op(name, shape, seed):
    """Every one-argument elementwise case of primitive_cases.py, at several shapes, over its smooth range."""
    (x,) = arguments(name, seed, shapes=(shape,))
    check_vjp(CASES[name].f, x, seed=seed)


@pytest.mark.parametrize("x", [-40.0, -12.0, 12.0, 40.0])
@pytest.mark.parametrize("name", ["sigmoid", "softplus"])
def test_activation_helpers_far_in_the_tails(name, x):
    check_vjp(getattr(autodiff_ref, name), np.array([x, x / 3]))


def test_composition_of_elementwise_functions(rng):
    x = rng.uniform(0.2, 1.5, size=(2, 3))
    check_vjp(lambda x: np.log(np.cosh(x) + np.sqrt(x)) * np.sin(np.exp(-x)) / np.tanh(x), x)


WHERE_SHAPES = [((3,), (3,), (3,)), ((2, 3), (3,), (2, 1)), ((3,), (2, 3), ()), ((2, 1), (1, 3), (3,))]


@pytest.mark.parametrize("shapes", WHERE_SHAPES, ids=str)
def test_where_with_broadcasting(rng, shapes):
    c_shape, x_shape, y_shape = shapes
    condition = rng.random(c_shape) < 0.5
    x, y = rng.standard_normal(x_shape), rng.standard_normal(y_shape)
    check_vjp(lambda x, y: np.where(condition, x, y), x, y)


def test_where_with_a_scalar_branch_and_a_condition_computed_from_the_input(rng):
    x = rng.standard_normal(6)
    check_vjp(lambda x: np.where(x > 0, x * x, 0.0), x)
    check_vjp(lambda x: np.where(x > 0, -1.0, np.exp(x)), x)


CLIPS = {
    "constant bounds": lambda x: np.clip(x, -0.5, 0.5),
    "lower only": lambda x: np.clip(x, -0.5, None),
    "upper only": lambda x: np.clip(x, None, 0.5),
    "keyword min": lambda x: np.clip(x, min=-0.5),
    "array bounds": lambda x: np.clip(x, np.array([-1.0, -0.5, 0.0, -0.2, -2.0, 0.1]), 0.6),
}


# np.clip's min=/max= keywords are new in numpy 2.1; numpy 2.0 (our lower bound) refuses them itself.
CLIP_KEYWORDS = tuple(map(int, np.__version__.split(".")[:2])) >= (2, 1)


@pytest.mark.parametrize("name", sorted(CLIPS))
def test_clip_with_constant_bounds(rng, name):
    if name == "keyword min" and not CLIP_KEYWORDS:
        pytest.skip(f"numpy {np.__version__}'s clip has no min= keyword (numpy 2.1 added it)")
    check_vjp(CLIPS[name], rng.uniform(-1.5, 1.5, size=6))


@pytest.mark.parametrize("seed", SEEDS)
def test_clip_with_traced_bounds(seed):
    rng = np.random.default_rng(seed)
    x, lo, hi = rng.uniform(-1.5, 1.5, size=(2, 4)), rng.uniform(-1.0, 0.0, size=4), rng.uniform(0.0, 1.0, size=())
    x[0, 0], x[1, 3] = -3.0, 3.0  # one element below every lower bound, one above the upper bound
    grads = check_vjp(np.clip, x, lo, hi, seed=seed)
    assert grads[1][0] != 0 and grads[2] != 0  # the bounds' rules were exercised, not only the value's


def test_clip_with_traced_lower_bound_only(rng):
    x, lo = rng.uniform(-1.5, 1.5, size=(3, 2)), rng.uniform(-0.5, 0.5, size=(3, 1))
    check_vjp(lambda x, lo: np.clip(x, lo, None), x, lo)

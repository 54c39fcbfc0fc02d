"""VJPs of sum, mean, max, min, var, std and logsumexp over every kind of axis, with and without keepdims."""

import numpy as np
import pytest
from fdcheck import check_vjp

import autodiff_ref
from autodiff_ref.numpy_bridge import numpy_ops
from autodiff_ref.primitives import extremum_call, reduction_call

AXES = [None, 0, 1, -1, (0, 2), (-1, 0), (0, 1, 2), ()]
SHAPE = (2, 3, 4)


def _distinct(seed, shape=SHAPE):
    """Values without ties (a permutation, spread apart), so that max and min are differentiable."""
    rng = np.random.default_rng(seed)
    return rng.permutation(np.prod(shape)).reshape(shape) / 7.0 + rng.uniform(-0.01, 0.01, size=shape)


# every numpy function the engine dispatches to a reduction op (np.amax as well as np.max)
REDUCTIONS = {f.__name__: f for op in numpy_ops() if getattr(op, "call", None) in (reduction_call, extremum_call)
              for f in op.numpy}


@pytest.mark.parametrize("keepdims", [False, True])
@pytest.mark.parametrize("axis", AXES, ids=str)
@pytest.mark.parametrize("name", sorted(REDUCTIONS))
def test_reduction_functions(name, axis, keepdims):
    reduce = REDUCTIONS[name]
    check_vjp(lambda x: reduce(x, axis=axis, keepdims=keepdims), _distinct(1))


@pytest.mark.parametrize("axis", [None, 0, -1, (0, 1)], ids=str)
@pytest.mark.parametrize("name", ["sum", "mean", "max", "min"])
def test_reduction_methods(name, axis):
    check_vjp(lambda x: getattr(x, name)(axis=axis), _distinct(2, (3, 4)))
    check_vjp(lambda x: getattr(x, name)(axis=axis, keepdims=True), _distinct(3, (3, 4)))


@pytest.mark.parametrize("name", sorted(REDUCTIONS))
def test_reductions_of_vectors_and_scalars(name):
    reduce = REDUCTIONS[name]
    check_vjp(reduce, _distinct(4, (5,)))
    check_vjp(lambda x: reduce(x, axis=0), _distinct(5, (5,)))
    check_vjp(reduce, np.array(1.5))


@pytest.mark.parametrize("ddof", [0, 1])
@pytest.mark.parametrize("keepdims", [False, True])
@pytest.mark.parametrize("axis", [None, 0, -1, (0, 2)], ids=str)
@pytest.mark.parametrize("name", ["var", "std"])
def test_var_and_std(name, axis, keepdims, ddof):
    reduce = getattr(np, name)
    check_vjp(lambda x: reduce(x, axis=axis, ddof=ddof, keepdims=keepdims), _distinct(6))


@pytest.mark.parametrize("keepdims", [False, True])
@pytest.mark.parametrize("axis", [None, 0, 1, -1, (0, 2)], ids=str)
def test_logsumexp(axis, keepdims):
    check_vjp(lambda x: autodiff_ref.logsumexp(x, axis=axis, keepdims=keepdims), _distinct(7) * 3)


def test_logsumexp_of_large_values_does_not_overflow():
    x = np.array([[800.0, 801.0, 799.5], [-800.0, -801.0, -799.0]])
    check_vjp(lambda x: autodiff_ref.logsumexp(x, axis=1), x)
    check_vjp(autodiff_ref.logsumexp, x[:1])

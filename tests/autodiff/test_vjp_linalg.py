"""VJPs of matmul (every rank combination, broadcast batch dimensions) and dot."""

import numpy as np
import pytest
from fdcheck import check_vjp

MATMUL_SHAPES = [
    ((3,), (3,)),  # 1-D @ 1-D: inner product
    ((2, 3), (3,)),  # 2-D @ 1-D
    ((3,), (3, 4)),  # 1-D @ 2-D
    ((2, 3), (3, 4)),  # 2-D @ 2-D
    ((2, 2, 3), (3, 4)),  # batch @ matrix
    ((2, 3), (2, 3, 4)),  # matrix @ batch
    ((2, 1, 2, 3), (3, 3, 2)),  # batch dimensions (2, 1) and (3,) broadcast to (2, 3)
    ((1, 2, 3), (2, 3, 2)),  # a batch dimension of 1 stretched
    ((3,), (2, 3, 4)),  # 1-D @ batch
    ((2, 3, 4), (4,)),  # batch @ 1-D
]


@pytest.mark.parametrize("seed", [0, 1])
@pytest.mark.parametrize("shapes", MATMUL_SHAPES, ids=str)
def test_matmul(shapes, seed):
    rng = np.random.default_rng(seed)
    a, b = (rng.standard_normal(s) for s in shapes)
    check_vjp(lambda a, b: a @ b, a, b, seed=seed)
    check_vjp(np.matmul, a, b, seed=seed)


@pytest.mark.parametrize("shapes", MATMUL_SHAPES[:4], ids=str)
def test_matmul_with_a_constant_operand_on_either_side(rng, shapes):
    a, b = (rng.standard_normal(s) for s in shapes)
    check_vjp(lambda b: a @ b, b)  # ndarray @ tensor
    check_vjp(lambda a: a @ b, a)


DOT_SHAPES = [((3,), (3,)), ((2, 3), (3,)), ((3,), (3, 4)), ((2, 3), (3, 4)), ((), (3,)), ((2, 3), ()), ((), ())]


@pytest.mark.parametrize("seed", [0, 1])
@pytest.mark.parametrize("shapes", DOT_SHAPES, ids=str)
def test_dot(shapes, seed):
    rng = np.random.default_rng(seed)
    a, b = (rng.standard_normal(s) for s in shapes)
    check_vjp(np.dot, a, b, seed=seed)
    if np.ndim(a):
        check_vjp(lambda a, b: a.dot(b), a, b, seed=seed)


def test_dot_with_a_python_scalar(rng):
    x = rng.standard_normal((2, 3))
    check_vjp(lambda x: np.dot(x, 2.5), x)
    check_vjp(lambda x: np.dot(-1.5, x), x)

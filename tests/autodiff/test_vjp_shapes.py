"""VJPs of reshaping, transposing, indexing and slicing, concatenate and stack."""

import numpy as np
import pytest
from fdcheck import check_vjp

import autodiff_ref

RESHAPES = {
    "np.reshape tuple": lambda x: np.reshape(x, (4, 6)), "np.reshape -1": lambda x: np.reshape(x, -1),
    "method ints": lambda x: x.reshape(3, 2, 4), "method tuple": lambda x: x.reshape((6, -1)),
    "method -1": lambda x: x.reshape(-1), "ravel": np.ravel, "method ravel": lambda x: x.ravel(),
    "squeeze": lambda x: np.squeeze(x.reshape(1, 24, 1)), "squeeze axis": lambda x: np.squeeze(x[:1], axis=0),
    "expand_dims": lambda x: np.expand_dims(x, 1), "expand_dims tuple": lambda x: np.expand_dims(x, (0, -1)),
}  # fmt: skip

TRANSPOSES = {
    "np.transpose": np.transpose, ".T": lambda x: x.T, "axes": lambda x: np.transpose(x, (1, 2, 0)),
    "negative axes": lambda x: np.transpose(x, (-1, 0, -2)), "method": lambda x: x.transpose(),
    "method ints": lambda x: x.transpose(2, 0, 1), "method tuple": lambda x: x.transpose((0, 2, 1)),
    "swapaxes": lambda x: np.swapaxes(x, 0, 2), "swapaxes negative": lambda x: np.swapaxes(x, -1, 1),
    "method swapaxes": lambda x: x.swapaxes(1, 0),
}  # fmt: skip


@pytest.mark.parametrize("name", sorted(RESHAPES) + sorted(TRANSPOSES))
def test_reshape_and_transpose(rng, name):
    check_vjp(RESHAPES.get(name) or TRANSPOSES[name], rng.standard_normal((2, 3, 4)))  # random cotangent: order matters


def test_transpose_of_vectors_and_matrices(rng):
    check_vjp(lambda x: x.T, rng.standard_normal(3))
    check_vjp(lambda x: x.T @ np.arange(2.0), rng.standard_normal((2, 3)))


KEYS = {
    "integer": 1, "negative integer": -1, "slice": slice(1, None), "strided slice": slice(None, None, 2),
    "reversed slice": slice(None, None, -1), "tuple of slices": (slice(0, 2), slice(1, 3)),
    "ellipsis": (Ellipsis, 0), "newaxis": (None, slice(None), 1),
    "integer array": np.array([2, 0]), "repeated integers": np.array([1, 1, 1, 0]),
    "repeated list": [0, 2, 0], "two integer arrays": (np.array([0, 1, 1]), np.array([3, 3, 0])),
    "integer array and slice": (slice(None), np.array([0, 0, 2])),
    "2-D integer array": np.array([[0, 1], [1, 1]]),
    "boolean mask": np.array([[True, False, True, True], [False, False, True, False], [True] * 4]),
    "boolean row mask": np.array([True, False, True]), "empty mask": np.zeros((3, 4), dtype=bool),
}  # fmt: skip


@pytest.mark.parametrize("name", sorted(KEYS))
def test_indexing(rng, name):
    key = KEYS[name]
    check_vjp(lambda x: x[key], rng.standard_normal((3, 4)))


def test_repeated_indices_accumulate(rng):
    x = rng.standard_normal(4)
    g = autodiff_ref.grad(lambda x: np.sum(x[np.array([1, 1, 1, 3, 3])]))(x)
    np.testing.assert_array_equal(g, [0.0, 3.0, 0.0, 2.0])


def test_boolean_mask_computed_from_the_input(rng):
    x = rng.standard_normal(8)
    g = check_vjp(lambda x: x[x > 0] ** 2, x)[0]
    np.testing.assert_allclose(g[x <= 0], 0.0)


@pytest.mark.parametrize("axis", [0, 1, -1, None], ids=str)
def test_concatenate(rng, axis):
    a, b = rng.standard_normal((2, 3)), rng.standard_normal((2, 3))
    c = rng.standard_normal((2, 3))  # a constant among the traced arrays
    check_vjp(lambda a, b: np.concatenate([a, c, b], axis=axis), a, b)


def test_concatenate_of_different_lengths(rng):
    a, b = rng.standard_normal((2, 3)), rng.standard_normal((4, 3))
    check_vjp(lambda a, b: np.concatenate((b, a, b)), a, b)
    check_vjp(lambda a, b: np.concatenate((a.T, b.T), axis=1), a, b)


@pytest.mark.parametrize("axis", [0, 1, -1, 2])
def test_stack(rng, axis):
    a, b = rng.standard_normal((2, 3)), rng.standard_normal((2, 3))
    check_vjp(lambda a, b: np.stack([a, np.ones((2, 3)), b, a], axis=axis), a, b)

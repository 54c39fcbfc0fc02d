"""User-defined primitives: @autodiff_ref.primitive plus defvjp, used from inside traced numpy code."""

import numpy as np
import pytest
from fdcheck import check_vjp

import autodiff_ref
from autodiff_ref import AutodiffError


@autodiff_ref.primitive
def logaddexp(x, y):
    return np.logaddexp(x, y)  # np.logaddexp itself has no rule in the engine


logaddexp.defvjp(
    lambda ans, x, y: lambda g: g * np.exp(x - ans),
    lambda ans, x, y: lambda g: g * np.exp(y - ans),
)


def test_custom_primitive_inside_traced_code(rng):
    x, y = rng.standard_normal(4), rng.standard_normal(4)
    check_vjp(lambda x, y: np.tanh(logaddexp(x * 2.0, y) @ y), x, y)


def test_custom_primitive_on_plain_arrays_just_runs_the_forward():
    calls = []

    @autodiff_ref.primitive
    def double(x):
        calls.append(type(x))
        return 2 * x

    out = double(np.array([1.0, 2.0]))
    assert type(out) is np.ndarray and calls == [np.ndarray]
    np.testing.assert_array_equal(out, [2.0, 4.0])
    assert double(3.0) == 6.0


def test_engine_uses_the_users_vjp_even_when_it_is_wrong():
    @autodiff_ref.primitive
    def cube(x):
        return x**3

    cube.defvjp(lambda ans, x: lambda g: g * 7.0)  # deliberately wrong: the true derivative is 3 x**2
    x = np.array([1.0, 2.0])
    np.testing.assert_array_equal(autodiff_ref.grad(lambda x: np.sum(cube(x) * 2.0))(x), [14.0, 14.0])


def test_makers_receive_the_output_the_inputs_and_keywords():
    seen = {}

    @autodiff_ref.primitive
    def scaled_sum(x, scale, axis=None):
        return np.sum(x, axis=axis) * scale

    def maker(ans, x, scale, axis=None):
        seen.update(ans=ans, x=x, scale=scale, axis=axis)
        return lambda g: np.broadcast_to(np.expand_dims(g * scale, axis), x.shape).copy()

    scaled_sum.defvjp(maker, None)
    x = np.arange(6.0).reshape(2, 3)
    g = autodiff_ref.grad(lambda x: np.sum(scaled_sum(x, 2.0, axis=1)))(x)
    np.testing.assert_array_equal(g, np.full((2, 3), 2.0))
    assert type(seen["x"]) is np.ndarray and seen["scale"] == 2.0 and seen["axis"] == 1
    np.testing.assert_array_equal(seen["ans"], [6.0, 24.0])


def test_missing_maker_names_the_op_and_argument():
    @autodiff_ref.primitive
    def blend(x, y):
        return x * y

    blend.defvjp(lambda ans, x, y: lambda g: g * y)  # no maker for argument 1
    x = np.ones(2)
    assert autodiff_ref.grad(lambda x, y: np.sum(blend(x, y)))(x, x).shape == (2,)  # argument 1 is a constant
    with pytest.raises(AutodiffError, match=r"argument 1 of op 'blend'"):
        autodiff_ref.grad(lambda x, y: np.sum(blend(x, y)), argnums=1)(x, x)


def test_primitive_without_any_maker():
    @autodiff_ref.primitive
    def opaque(x):
        return x + 1

    with pytest.raises(AutodiffError, match=r"argument 0 of op 'opaque'.*defvjp"):
        autodiff_ref.grad(lambda x: np.sum(opaque(x)))(np.ones(3))


def test_vjp_of_the_wrong_shape_names_the_op():
    @autodiff_ref.primitive
    def rowsum(x):
        return np.sum(x, axis=1)

    rowsum.defvjp(lambda ans, x: lambda g: g)  # forgot to broadcast back to x's shape
    with pytest.raises(AutodiffError, match=r"op 'rowsum'.*returned shape \(2,\), expected \(2, 3\)"):
        autodiff_ref.grad(lambda x: np.sum(rowsum(x)))(np.ones((2, 3)))


def test_defvjp_rejects_a_maker_that_is_not_callable():
    @autodiff_ref.primitive
    def f(x):
        return x

    with pytest.raises(TypeError, match="maker 0 must be callable"):
        f.defvjp(2.0)


def test_primitive_keeps_the_functions_name_and_doc():
    @autodiff_ref.primitive
    def documented(x):
        """Doubles x."""
        return 2 * x

    assert documented.name == "documented" and documented.__doc__ == "Doubles x."
    assert isinstance(documented, autodiff_ref.Primitive)

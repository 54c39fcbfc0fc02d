"""Complex inputs in JAX's convention: for real-valued f of complex z, grad f = df/dx - i df/dy (so grad |z|^2 =
2 conj(z)); a cotangent c of z stands for the real covector dz -> Re(c dz); holomorphic rules are g * f'(z).

Every op that accepts complex values is checked at 40 digits against mpmath central differences of a real
scalarisation along each element's real and imaginary directions; the ops where complex is not meaningful are
refused with an error naming them.
"""

import numpy as np
import pytest

import autodiff_ref
from autodiff_ref import AutodiffError
from pytest_gradcheck.hp.precision import context

ctx = context(40)
STEP, AGREE = ctx.mpf(10) ** -12, ctx.mpf(10) ** -20  # truncation ~1e-24, round-off ~1e-28 (module docstring of
# test_second_order_high_precision.py); a wrong rule or convention is off by O(1)


def _mpc(array):
    return np.array([ctx.mpc(complex(e).real, complex(e).imag) for e in np.ravel(array)], dtype=object).reshape(
        np.shape(array))


def _random_complex(shape, seed):
    rng = np.random.default_rng(seed)
    return rng.uniform(-1, 1, shape) + 1j * rng.uniform(-1, 1, shape)


def _m(z):
    return np.reshape(z, (2, 2))


OPS = {
    "add": lambda z: z + z * 0.5j + (1 - 2j),
    "subtract": lambda z: (2 + 1j) - z,
    "multiply": lambda z: z * z[::-1],
    "divide": lambda z: z / (z[::-1] + 2),
    "negative": np.negative,
    "positive": np.positive,
    "reciprocal": lambda z: np.reciprocal(z + 2),
    "square": np.square,
    "absolute": np.abs,
    "abs squared": lambda z: np.abs(z) ** 2,
    "conjugate": lambda z: np.conj(z) * z[::-1],
    "conj method": lambda z: z.conj() + z.real * z.imag,
    "power real exponent": lambda z: (z + 2) ** 1.5,
    "power constant base": lambda z: 2.5**z,
    "power both traced": lambda z: (z + 2) ** z[::-1],
    "exp": np.exp,
    "expm1": np.expm1,
    "log": lambda z: np.log(z + 2),
    "log1p": np.log1p,
    "sqrt": lambda z: np.sqrt(z + 2),
    "sin": np.sin,
    "cos": np.cos,
    "tan": np.tan,
    "sinh": np.sinh,
    "cosh": np.cosh,
    "tanh": np.tanh,
    "sum": lambda z: np.sum(z * z),
    "mean": lambda z: np.mean(_m(z), axis=0),
    "matmul": lambda z: _m(z) @ _m(z)[::-1],
    "dot": lambda z: np.dot(_m(z), z[:2]),
    "real": lambda z: np.real(z * z),
    "imag": lambda z: np.imag(z * z) * np.real(z),
    "angle": np.angle,
    "fft": lambda z: np.fft.fft(z * z),
    "ifft": lambda z: np.fft.ifft(_m(z), axis=0),
    "getitem": lambda z: z[np.array([1, 1, 0])] * z[0],
    "concatenate and stack": lambda z: np.stack([np.concatenate([z, z[:1]]), np.concatenate([z[1:], z[:2]])]),
    "where": lambda z: np.where(np.real(z) > 0, z, z * z),
    "transpose, reshape, broadcast_to": lambda z: np.broadcast_to(_m(z).T, (3, 2, 2)).reshape(12) * 1j,
}  # fmt: skip


def _scalarised(name, seed):
    """s(z) = Re(sum(w * op(z))), real-valued, and its point z and weights w, as 40-digit mpc arrays."""
    z = _mpc(_random_complex(4, seed))
    out_shape = np.shape(autodiff_ref.vjp(OPS[name], _random_complex(4, seed))[0])
    w = _mpc(_random_complex(out_shape, seed + 1))

    def s(z):
        return np.real(np.sum(w * OPS[name](z)))

    return s, z


def _value(s, z):
    """s(z) evaluated by the engine's forward (np.real on a plain object array would not take real parts)."""
    return autodiff_ref.vjp(s, z)[0][()]


def _moved(z, index, step):
    out = z.copy()
    out[index] = z[index] + step
    return out


@pytest.mark.parametrize("name", sorted(OPS))
def test_gradient_at_40_digits_is_df_dx_minus_i_df_dy(name):
    s, z = _scalarised(name, seed=3)
    g = autodiff_ref.grad(s)(z)
    assert g.dtype == object and all(type(e) is ctx.mpc for e in g.flat), name
    for index in np.ndindex(z.shape):
        for direction, part in ((1, ctx.re), (1j, lambda e: -ctx.im(e))):
            h = STEP * direction
            derivative = (_value(s, _moved(z, index, h)) - _value(s, _moved(z, index, -h))) / (2 * STEP)
            assert abs(part(g[index]) - derivative) <= AGREE * max(1, abs(derivative)), (name, index, direction)


def test_grad_of_abs_squared_is_twice_the_conjugate_in_every_precision():
    z = np.array([1 + 2j, -3 + 0.5j, 0j])
    np.testing.assert_allclose(autodiff_ref.grad(lambda z: np.sum(np.abs(z) ** 2))(z), 2 * np.conj(z), rtol=1e-15)
    np.testing.assert_array_equal(autodiff_ref.grad(lambda z: np.sum(z * np.conj(z)).real)(z), 2 * np.conj(z))
    z64 = z.astype(np.complex64)
    g64 = autodiff_ref.grad(lambda z: np.sum(np.abs(z) ** 2))(z64)
    assert g64.dtype == np.complex64
    np.testing.assert_allclose(g64, 2 * np.conj(z64), rtol=1e-6)
    zp = _mpc(z)
    gp = autodiff_ref.grad(lambda z: np.sum(np.abs(z) ** 2))(zp)
    assert all(type(e) is ctx.mpc and e == 2 * ctx.conj(x) for e, x in zip(gp, zp, strict=True))


def test_grad_of_abs_is_conj_over_abs_and_zero_at_zero():
    z = np.array([3 + 4j, 0j, -1j])
    np.testing.assert_allclose(autodiff_ref.grad(lambda z: np.sum(np.abs(z)))(z), [0.6 - 0.8j, 0, 1j], rtol=1e-15)


def test_holomorphic_vjp_is_g_times_the_derivative_as_in_jax():
    z = np.array([0.5 - 0.25j, -1 + 2j])
    for f, derivative in ((np.exp, np.exp), (np.sin, np.cos), (np.log, lambda z: 1 / z), (np.square, lambda z: 2 * z)):
        (g,) = autodiff_ref.vjp(f, z)[1](np.array([1.0, 2j]))
        np.testing.assert_allclose(g, np.array([1.0, 2j]) * derivative(z), rtol=1e-15)
    (g,) = autodiff_ref.vjp(np.conj, z)[1](np.array([1.0, 2j]))
    np.testing.assert_array_equal(g, [1.0, -2j])  # conj: g -> conj(g)
    (g,) = autodiff_ref.vjp(np.fft.fft, z)[1](np.array([1.0, 2j]))
    np.testing.assert_allclose(g, np.fft.fft([1.0, 2j]), rtol=1e-15)  # F^T g, F symmetric, no conjugation


def test_a_real_argument_gets_the_real_part():
    x = np.array([0.5, -2.0])
    g = autodiff_ref.grad(lambda x: np.sum(np.abs(x * (1 + 1j) + 1j) ** 2))(x)
    assert g.dtype == np.float64
    np.testing.assert_allclose(g, 4 * x + 2, rtol=1e-15)  # |x + i(x + 1)|^2 = x^2 + (x + 1)^2


def test_jvp_with_complex_tangents():
    z, t = np.array([0.5 - 0.25j, -1 + 2j]), np.array([1j, 0.5 + 1j])
    _, tangent = autodiff_ref.jvp(np.sin, (z,), (t,))
    np.testing.assert_allclose(tangent, np.cos(z) * t, rtol=1e-15)
    _, tangent = autodiff_ref.jvp(np.conj, (z,), (t,))
    np.testing.assert_allclose(tangent, np.conj(t), rtol=1e-15)
    _, tangent = autodiff_ref.jvp(np.abs, (z,), (t,))
    np.testing.assert_allclose(tangent, np.real(np.conj(z) * t) / np.abs(z), rtol=1e-15)


def test_hvp_of_a_real_function_of_complex_arguments_at_40_digits():
    def f(z):
        return np.sum(np.abs(z) ** 4) + np.real(np.sum(np.exp(z) * z[::-1]))

    z, v = _mpc(_random_complex(2, 8)), _mpc(_random_complex(2, 9))
    (hv,) = autodiff_ref.hvp(f)((v,), z)
    ahead, behind = autodiff_ref.grad(f)(z + STEP * v), autodiff_ref.grad(f)(z - STEP * v)
    expected = (ahead - behind) / (2 * STEP)  # the gradient representation is R-linear: difference it
    assert all(abs(a - b) <= AGREE * max(1, abs(b)) for a, b in zip(hv, expected, strict=True))


# ----- refusals ----------------------------------------------------------------------------------------------

Z = np.array([0.5 - 0.25j, -1 + 2j])


@pytest.mark.parametrize(("f", "message"), [
    (lambda z: np.maximum(z, 0.0), "op 'maximum' is not differentiable on complex inputs"),
    (lambda z: np.minimum(z, z), "op 'minimum' is not differentiable on complex inputs"),
    (lambda z: np.max(z), "op 'max' is not differentiable on complex inputs"),
    (lambda z: np.clip(z, 0.0, 1.0), "op 'clip' is not differentiable on complex inputs"),
    (lambda z: np.logaddexp(z, z), "op 'logaddexp' is not differentiable on complex inputs"),
    (autodiff_ref.sigmoid, "op 'sigmoid' is not differentiable on complex inputs"),
    (autodiff_ref.relu, "op 'relu' is not differentiable on complex inputs"),
    (np.arctan, "op 'arctan' is not differentiable on complex inputs"),
    (lambda z: np.where(z > 0, z, 0), r"np\.greater orders values.*not supported on complex traced values"),
    (lambda z: z * np.sign(z), r"np\.sign orders values"),
    (lambda z: z[np.argmax(z)], r"np\.argmax orders values"),
    (np.var, "np.var and np.std of complex traced values are not supported"),
])  # fmt: skip
def test_ops_where_complex_is_not_meaningful_are_refused(f, message):
    with pytest.raises(AutodiffError, match=message):
        autodiff_ref.vjp(f, Z)


def test_grad_of_a_complex_valued_function_and_hessian_of_complex_arguments_are_refused():
    with pytest.raises(ValueError, match="grad requires a real-valued function; <lambda> returned a complex value"):
        autodiff_ref.grad(lambda z: np.sum(z * z))(Z)
    with pytest.raises(AutodiffError, match=r"hessian: argument 0 is complex.*use autodiff_ref\.hvp"):
        autodiff_ref.hessian(lambda z: np.sum(np.abs(z) ** 2))(Z)


def test_fft_options_that_change_the_transform_are_refused():
    with pytest.raises(AutodiffError, match=r"np\.fft\.fft: options \['n'\] are not supported"):
        autodiff_ref.vjp(lambda z: np.fft.fft(z, n=4), Z)
    with pytest.raises(AutodiffError, match=r"np\.fft\.ifft: options \['norm'\] are not supported"):
        autodiff_ref.vjp(lambda z: np.fft.ifft(z, norm="ortho"), Z)
    with pytest.raises(AutodiffError, match=r"np\.angle: deg=True is not supported"):
        autodiff_ref.vjp(lambda z: np.angle(z, deg=True), Z)

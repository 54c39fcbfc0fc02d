"""Complex arguments: check_grad's complex_convention ("torch", "jax", "holomorphic"), checked as the real and
imaginary parts on mpmath; the wrong convention named; a non-holomorphic f under "holomorphic" reported."""

import json

import numpy as np
import pytest

from pytest_gradcheck import GradcheckError, GradcheckUsageError, check_grad
from pytest_gradcheck.settings import parse_setting

Z = np.array([0.3 + 0.7j, -1.2 + 0.4j, 0.5 - 0.9j])
A = np.array([[1.0 + 2.0j, 0.5, -0.3j], [0.1j, 2.0, 1.0 - 1.0j]])
B = np.array([1.0, 1.0j])
W = np.array([0.5, 1.5, 2.0])


def norm2(z):
    return np.sum(np.abs(z) ** 2)


def residual(z):
    return np.sum(np.abs(A @ z - B) ** 2)


def spectrum(z):
    return np.sum(np.abs(np.fft.fft(z) * W) ** 2)


# The conjugate Wirtinger gradient 2 df/d(conj z): torch's convention; JAX's is its conjugate.
TORCH = {
    norm2: lambda z: 2 * z,
    residual: lambda z: 2 * (A.conj().T @ (A @ z - B)),
    spectrum: lambda z: 2 * len(z) * np.fft.ifft(W**2 * np.fft.fft(z)),
}


def conj_of(grad):
    return lambda z: np.conj(grad(z))


@pytest.mark.parametrize("f", [norm2, residual, spectrum], ids=["norm2", "residual", "fft"])
def test_real_valued_losses_pass_in_torch_and_jax_conventions(f):
    torch = check_grad(f, Z, grad=TORCH[f], complex_convention="torch")
    jax = check_grad(f, Z, grad=conj_of(TORCH[f]), complex_convention="jax")
    for result in (torch, jax):
        assert result.status == "pass" and result.backend == "mpmath" and result.high_precision
        assert result.argument_names == ("z",) and np.iscomplexobj(result.gradient[0])
    assert torch.complex_convention == "torch" and jax.complex_convention == "jax"
    np.testing.assert_allclose(torch.gradient[0], np.conj(jax.gradient[0]))


@pytest.mark.parametrize("f", [norm2, residual, spectrum], ids=["norm2", "residual", "fft"])
def test_a_real_valued_loss_under_holomorphic_is_not_holomorphic(f):
    result = check_grad(f, Z, grad=TORCH[f], complex_convention="holomorphic", raise_on_mismatch=False)
    assert result.status == "formula_error"
    assert "f is not holomorphic at this point" in result.convention_note
    assert "Cauchy-Riemann" in result.report()


def test_full_mode_reference_is_the_conventions_gradient():
    torch = check_grad(norm2, Z, grad=lambda z: 2 * z, complex_convention="torch", mode="full")
    jax = check_grad(norm2, Z, grad=lambda z: 2 * np.conj(z), complex_convention="jax", mode="full")
    np.testing.assert_allclose(np.asarray(torch.reference[0], dtype=complex), 2 * Z, rtol=1e-15)
    np.testing.assert_allclose(np.asarray(jax.reference[0], dtype=complex), 2 * np.conj(Z), rtol=1e-15)
    json.dumps(torch.to_dict())  # complex arrays as [real, imaginary] pairs
    assert torch.to_dict()["reference"][0][1] == pytest.approx([2 * Z[1].real, 2 * Z[1].imag])


HOLOMORPHIC = [
    (np.exp, np.exp),
    (np.sin, np.cos),
    (lambda z: z**3 - 2j * z + 1, lambda z: 3 * z**2 - 2j),
]


@pytest.mark.parametrize(("f", "derivative"), HOLOMORPHIC, ids=["exp", "sin", "polynomial"])
def test_holomorphic_functions_pass_with_their_derivative(f, derivative):
    scalar = check_grad(lambda z: np.sum(f(z)), Z, grad=derivative, complex_convention="holomorphic")
    array = check_grad(f, Z, vjp=lambda c, z: c * derivative(z), complex_convention="holomorphic", mode="full")
    assert scalar.status == array.status == "pass"
    assert array.convention_note == "" and array.cotangent.dtype.kind == "c"


@pytest.mark.parametrize(("f", "derivative"), HOLOMORPHIC, ids=["exp", "sin", "polynomial"])
def test_the_conjugate_derivative_is_named_under_holomorphic(f, derivative):
    result = check_grad(f, Z, vjp=lambda c, z: c * np.conj(derivative(z)), complex_convention="holomorphic",
                        raise_on_mismatch=False)
    assert result.status == "formula_error"
    assert result.convention_note.startswith("the gradient is conj(f'(z))")


def test_the_real_part_of_a_holomorphic_function():
    """Re f for a holomorphic f: JAX's gradient of Re f is f'(z) (its holomorphic vjp with cotangent 1), torch's
    conj(f'(z))."""
    def f(z):
        return np.sum(np.exp(z)).real

    assert check_grad(f, Z, grad=np.exp, complex_convention="jax").status == "pass"
    assert check_grad(f, Z, grad=lambda z: np.conj(np.exp(z)), complex_convention="torch").status == "pass"


@pytest.mark.parametrize(("given", "grad", "named"), [
    ("torch", lambda z: 2 * np.conj(z), "the gradient is in JAX's convention"),
    ("jax", lambda z: 2 * z, "the gradient is in torch's convention"),
])
def test_a_gradient_in_the_other_convention_is_named(given, grad, named):
    with pytest.raises(GradcheckError) as info:
        check_grad(norm2, Z, grad=grad, complex_convention=given)
    result = info.value.result
    assert result.status == "formula_error" and result.convention_note.startswith(named)
    other = "jax" if given == "torch" else "torch"
    assert f"complex_convention={other!r}" in result.convention_note
    assert "complex convention: " + named in str(info.value)


def test_a_wrong_gradient_gets_no_convention_note():
    result = check_grad(norm2, Z, grad=lambda z: 3 * z, complex_convention="torch", raise_on_mismatch=False)
    assert result.status == "formula_error" and result.convention_note == ""


@pytest.mark.parametrize("part", ["real", "imaginary"])
def test_a_1e_9_error_in_one_component_is_caught_and_named(part):
    def grad(z):
        g = 2 * A.conj().T @ (A @ z - B)
        g[1] += 1e-9 * (abs(g[1].real) if part == "real" else 1j * abs(g[1].imag))
        return g

    result = check_grad(residual, Z, grad=grad, complex_convention="torch", raise_on_mismatch=False)
    assert result.status == "formula_error"
    assert [(m.name, m.where) for m in result.mismatches] == [("z", f"element (1,), {part} part")]
    assert result.mismatches[0].rel_error == pytest.approx(1e-9, rel=1e-3)
    assert f"(1,), {part} part" in result.report() and result.convention_note == ""


def test_the_imaginary_part_is_shown_in_the_convention():
    """JAX's g = df/dx - i df/dy: the imaginary part shown is -df/dy, for the reference and the value alike."""
    def grad(z):
        g = 2 * np.conj(z)
        g[0] += 1e-6j
        return g

    result = check_grad(norm2, Z, grad=grad, complex_convention="jax", raise_on_mismatch=False)
    [m] = result.mismatches
    assert m.where == "element (0,), imaginary part"
    assert m.reference == pytest.approx(-2 * Z[0].imag) and m.value == pytest.approx(-2 * Z[0].imag + 1e-6)


def test_mixed_real_and_complex_arguments():
    def f(s, z):
        return s[0] * np.sum(np.abs(z) ** 2)

    s = np.array([1.5])
    result = check_grad(f, (s, Z), grad=lambda s, z: (np.array([np.sum(np.abs(z) ** 2)]), 2 * s[0] * z),
                        complex_convention="torch", mode="full")
    assert result.status == "pass" and result.argument_names == ("s", "z")
    assert result.gradient[0].dtype == np.float64 and result.gradient[1].dtype == np.complex128
    bad = check_grad(f, (s, Z), grad=lambda s, z: (np.array([np.sum(np.abs(z) ** 2)]), 2 * s[0] * z * (1 + 1e-8)),
                     complex_convention="torch", raise_on_mismatch=False)
    assert {m.name for m in bad.mismatches} == {"z"} and bad.mismatches[0].argument == 1


def test_quad_moves_to_mpmath_with_a_note():
    from pytest_gradcheck.hp import quad

    if not quad.available():
        pytest.skip("numpy-quaddtype not installed")
    result = check_grad(norm2, Z, grad=lambda z: 2 * z, complex_convention="torch", backend="quad")
    assert result.backend == "mpmath"
    assert any("numpy-quaddtype has no complex numbers" in n for n in result.notes)


def test_complex64_arguments():
    z = Z.astype(np.complex64)
    result = check_grad(norm2, z, grad=lambda z: 2 * z, complex_convention="torch")
    assert result.status == "pass"


def test_a_missing_convention_with_a_user_gradient_is_a_usage_error():
    with pytest.raises(GradcheckUsageError) as info:
        check_grad(norm2, Z, grad=lambda z: 2 * z)
    text = str(info.value)
    assert "complex_convention" in text and all(repr(c) in text for c in ("torch", "jax", "holomorphic"))


def test_an_unknown_convention_is_a_usage_error():
    with pytest.raises(GradcheckUsageError, match="complex_convention: expected None or one of"):
        check_grad(norm2, Z, grad=lambda z: 2 * z, complex_convention="pytorch")
    with pytest.raises(GradcheckUsageError, match="complex_convention: expected"):  # checked for real args too
        check_grad(lambda x: np.sum(x * x), np.ones(2), complex_convention="conj")


def test_a_complex_valued_f_under_a_real_convention_is_a_usage_error():
    with pytest.raises(GradcheckUsageError, match=r"'torch' is for a real-valued f.*'holomorphic'"):
        check_grad(lambda z: np.sum(z**2), Z, grad=lambda z: 2 * z, complex_convention="torch")


def test_a_gradient_of_the_wrong_shape_names_the_argument():
    with pytest.raises(GradcheckUsageError, match=r"shape \(2,\) for argument 0 \('z'\), expected \(3,\)"):
        check_grad(norm2, Z, grad=lambda z: 2 * z[:2], complex_convention="torch")


def test_the_plugin_setting():
    assert parse_setting("complex_convention", "jax", "ini file") == "jax"
    with pytest.raises(ValueError, match="complex_convention"):
        parse_setting("complex_convention", "numpy", "ini file")


def test_the_engine_gradient_is_read_in_jax_convention():
    import autodiff_ref

    try:
        autodiff_ref.vjp(norm2, Z)
    except TypeError:
        pytest.skip("autodiff_ref has no complex support here")
    assert check_grad(norm2, Z).status == "pass"


def test_a_zero_d_argument_and_a_complex_dtype_with_a_zero_imaginary_value():
    z = np.array(0.3 + 0.7j)
    result = check_grad(lambda z: np.vdot(z, z), z, grad=lambda z: 2 * z, complex_convention="torch")
    assert result.status == "pass" and result.gradient[0].shape == ()


def test_the_marker_setting_reaches_the_fixture(pytester):
    pytester.makepyfile("""
import numpy as np
import pytest

@pytest.mark.gradcheck(complex_convention="jax")
def test_jax(gradcheck):
    z = np.array([0.3 + 0.7j, -1.2 + 0.4j])
    assert gradcheck(lambda z: np.sum(np.abs(z) ** 2), z, grad=lambda z: 2 * np.conj(z)).complex_convention == "jax"
""")
    pytester.runpytest("-p", "no:cacheprovider").assert_outcomes(passed=1)


def test_norms_of_complex_arrays_run_at_high_precision():
    from pytest_gradcheck.hp import precision

    ctx = precision.context(40)
    z = precision.to_hp(Z.real, ctx) + 1j * precision.to_hp(Z.imag, ctx)
    exact = ctx.sqrt(sum(abs(e) ** 2 for e in z.tolist()))
    assert abs(np.linalg.norm(z) - exact) < 1e-36 * exact  # 40 digits: far beyond float64
    assert abs(np.linalg.vector_norm(z, ord=1) - sum(abs(e) for e in z.tolist())) < 1e-36
    with pytest.raises(TypeError, match="real matrices only"):  # spectral norms need complex SVD: refused
        np.linalg.norm(np.outer(z, z), 2)
    result = check_grad(lambda z: np.linalg.norm(z) ** 2, Z, grad=lambda z: 2 * z, complex_convention="torch")
    assert result.status == "pass" and result.high_precision and result.precision_note == ""


def test_a_holomorphic_function_of_a_real_and_a_complex_argument():
    def f(s, z):
        return s[0] * np.exp(z)

    def vjp(c, s, z):  # sum_j c_j df_j/ds (complex: its real part is the real argument's gradient), c * f'(z)
        return np.array([np.sum(c * np.exp(z))]), c * s[0] * np.exp(z)

    s = np.array([0.7])
    assert check_grad(f, (s, Z), vjp=vjp, complex_convention="holomorphic", mode="full").status == "pass"
    wrong = check_grad(f, (s, Z), vjp=lambda c, s, z: (vjp(c, s, z)[0] * 1.001, vjp(c, s, z)[1]),
                       complex_convention="holomorphic", raise_on_mismatch=False)
    assert [m.name for m in wrong.mismatches] == ["s"]

"""Second-order, forward-mode and complex checks (docs/second-order.md): a logistic-regression Hessian and its
HVP, a complex FFT-based loss in torch's and JAX's conventions, and a custom_jvp-style rule with its VJP.

Each correct derivative passes; each slip (s for s (1 - s) in the Hessian, the other framework's convention, a
lost sign in the tangent rule) fails with the diagnosis asserted here.
"""


import numpy as np

import pytest_gradcheck

# ---- a logistic-regression Hessian ------------------------------------------------------------------------------

rng = np.random.default_rng(0)
X, Y = rng.normal(size=(8, 3)), rng.choice([-1.0, 1.0], size=8)
LAM = 0.5
W = np.array([0.3, -1.2, 0.8])


def logistic_loss(w):
    """sum log(1 + exp(-y x.w)) + lam / 2 |w|^2."""
    return np.sum(np.logaddexp(0, -Y * (X @ w))) + LAM / 2 * np.sum(w * w)


def _curvature(w):
    s = 1 / (1 + np.exp(Y * (X @ w)))  # the sigmoid of the margins -y x.w
    return s * (1 - s)


def logistic_hessian(w):
    """X^T diag(s (1 - s)) X + lam I."""
    return X.T @ (_curvature(w)[:, None] * X) + LAM * np.eye(3)


def logistic_hvp(v, w):
    (v,) = v
    return (X.T @ (_curvature(w) * (X @ v)) + LAM * v,)


def logistic_hessian_with_slip(w):
    """The classic slip: s where s (1 - s) belongs."""
    s = 1 / (1 + np.exp(Y * (X @ w)))
    return X.T @ (s[:, None] * X) + LAM * np.eye(3)


def test_logistic_regression_hessian_and_hvp_pass():
    result = pytest_gradcheck.check_hessian(logistic_loss, W, hessian=logistic_hessian)
    assert result.status == "pass" and result.kind == "hessian"
    result = pytest_gradcheck.check_hvp(logistic_loss, W, hvp=logistic_hvp)
    assert result.status == "pass" and result.kind == "hvp"


def test_a_slip_in_the_hessian_is_a_formula_error():
    result = pytest_gradcheck.check_hessian(logistic_loss, W, hessian=logistic_hessian_with_slip,
                                            raise_on_mismatch=False)
    assert result.status == "formula_error" and result.mismatches


# ---- a complex FFT-based loss -----------------------------------------------------------------------------------

SPECTRAL_WEIGHTS = np.array([1.0, 0.5, 0.25, 0.5])
Z = np.array([1 + 2j, -0.5 + 1j, 0.3 - 0.7j, 2 - 1j])


def spectral_loss(z):
    """sum |fft(z) w|^2 = z^H (N ifft |w|^2 fft) z."""
    return np.sum(np.abs(np.fft.fft(z) * SPECTRAL_WEIGHTS) ** 2)


def spectral_grad_torch(z):
    """df/dx + i df/dy = 2 N ifft(|w|^2 fft(z))."""
    return 2 * z.size * np.fft.ifft(SPECTRAL_WEIGHTS**2 * np.fft.fft(z))


def spectral_grad_jax(z):
    """df/dx - i df/dy: the conjugate."""
    return np.conj(spectral_grad_torch(z))


def test_fft_loss_passes_in_each_convention():
    for grad, convention in ((spectral_grad_torch, "torch"), (spectral_grad_jax, "jax")):
        result = pytest_gradcheck.check_grad(spectral_loss, Z, grad=grad, complex_convention=convention)
        assert result.status == "pass", convention


def test_a_gradient_in_the_other_convention_is_named():
    result = pytest_gradcheck.check_grad(spectral_loss, Z, grad=spectral_grad_torch, complex_convention="jax",
                                         raise_on_mismatch=False)
    assert result.status == "formula_error" and "torch's convention" in result.message()
    result = pytest_gradcheck.check_grad(spectral_loss, Z, grad=spectral_grad_jax, complex_convention="torch",
                                         raise_on_mismatch=False)
    assert result.status == "formula_error" and "JAX's convention" in result.message()


# ---- a custom_jvp-style rule ------------------------------------------------------------------------------------

POINTS = np.array([-30.0, -2.0, 0.5, 3.0, 40.0])


def softplus(x):
    """log(1 + exp(x)) as max(x, 0) + log1p(exp(-|x|)): no overflow."""
    return np.maximum(x, 0) + np.log1p(np.exp(-np.abs(x)))


def _sigmoid(x):
    return np.exp(np.minimum(x, 0)) / (1 + np.exp(-np.abs(x)))


def softplus_jvp(tangents, x):
    """The tangent rule a custom_jvp would attach: d softplus = sigmoid(x) dx."""
    (t,) = tangents
    return _sigmoid(x) * t


def softplus_vjp(cotangent, x):
    return (_sigmoid(x) * cotangent,)


def softplus_jvp_with_slip(tangents, x):
    """sigmoid(-x): the argument's sign lost."""
    (t,) = tangents
    return _sigmoid(-x) * t


def test_custom_jvp_rule_passes_with_its_vjp():
    result = pytest_gradcheck.check_jvp(softplus, POINTS, jvp=softplus_jvp, vjp=softplus_vjp)
    assert result.status == "pass" and result.kind == "jvp"


def test_a_sign_slip_in_the_rule_is_a_formula_error():
    result = pytest_gradcheck.check_jvp(softplus, POINTS, jvp=softplus_jvp_with_slip, raise_on_mismatch=False)
    assert result.status == "formula_error"

"""Gradients that only run in float64: their round-off is measured and is the tolerance, not a fixed 1e-10."""

import numpy as np
import pytest

from pytest_gradcheck import check_grad, is_high_precision
from pytest_gradcheck.checker import gradient_noise
from pytest_gradcheck.checker.verdict import FLOAT_RTOL
from pytest_gradcheck.hp import precision


def float64_only(grad):
    """`grad` on inputs rounded to float64, returning float64: what np.asarray(x, dtype=float) inside it does."""
    def wrapped(x):
        x = precision.to_float64(x) if is_high_precision(x) else np.asarray(x, dtype=float)
        return np.asarray(grad(x), dtype=float)
    return wrapped


def half_square(x):
    return np.sum(0.5 * x * x)


def point(seed, n=1000):
    return np.random.default_rng(seed).standard_normal(n)


@pytest.mark.parametrize("error", [1e-9, 1e-10])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_a_tiny_error_in_every_element_of_1000_fails_in_fast_mode(seed, error):
    result = check_grad(half_square, point(seed), grad=float64_only(lambda x: x * (1 + error)), per_op="off",
                        raise_on_mismatch=False)
    assert result.mode == "fast" and not result.gradient_hp
    assert result.status == "formula_error"
    assert 0 < result.tolerance["gradient_noise"] < 1e-15  # x * c rounds once: about half an ulp


@pytest.mark.parametrize(("seed", "error"), [(0, 1e-9), (1, 1e-10)])
def test_a_tiny_error_in_one_element_of_1000_fails_and_narrowing_names_it(seed, error):
    def wrong(x):
        g = np.array(x)
        g[417] *= 1 + error
        return g

    result = check_grad(half_square, point(seed), grad=float64_only(wrong), per_op="off", raise_on_mismatch=False)
    assert result.status == "formula_error" and result.mode == "fast"
    assert "element (417,)" in [m.where for m in result.mismatches]


def test_the_same_gradient_passes_when_correct_and_the_tolerance_is_stated():
    result = check_grad(half_square, point(0), grad=float64_only(lambda x: x * 1.0), per_op="off")
    assert result.status == "pass"
    assert result.tolerance["noise_safety"] == gradient_noise.NOISE_SAFETY
    assert result.tolerance["rtol_formula"] == gradient_noise.FLOOR_RTOL < FLOAT_RTOL[np.dtype(np.float64)]
    assert any("round-off measured over 8 extra gradient evaluations" in n for n in result.notes)


def test_a_user_rtol_wins_over_the_measured_noise():
    result = check_grad(half_square, point(0), grad=float64_only(lambda x: x * (1 + 1e-9)), rtol=1e-6,
                        per_op="off")
    assert result.status == "pass" and result.tolerance["rtol_formula"] == 1e-6
    assert "noise_safety" not in result.tolerance


def _ill_conditioned(n):
    rng = np.random.default_rng(5)
    q, _ = np.linalg.qr(rng.normal(size=(n, n)))
    a = q @ np.diag(np.logspace(0, 10, n)) @ q.T  # condition number 1e10
    a = (a + a.T) / 2  # exactly symmetric: the gradient of x.a.x / 2 is a x
    b = a @ rng.normal(size=n)  # the minimiser nearby: a x - b cancels to ~1e-6 of its terms
    x = np.linalg.solve(a, b) + 1e-6 * rng.normal(size=n)
    return (lambda x: 0.5 * np.sum(x * (a @ x)) - np.sum(b * x), lambda x: a @ x - b, x)


def _large_sum(n):
    # every element is 2 sum(x): the sum's rounding (terms of 1e6) is shared by all elements
    return lambda x: np.sum(x) ** 2, lambda x: 2 * np.sum(x) * np.ones_like(x), 1e6 + point(3, n)


def _badly_scaled(n):
    rng = np.random.default_rng(6)
    w = np.exp(rng.uniform(np.log(1e-6), np.log(1e6), n))  # weights and inputs over 12 decades
    x = np.exp(rng.uniform(np.log(1e-6), np.log(1e6), n)) * rng.choice([-1.0, 1.0], n)
    return lambda x: np.sum(w * np.sqrt(1 + x**2)), lambda x: w * x / np.sqrt(1 + x**2), x


def _centred(n):
    # x - mean(x) on values near 1e4 cancels four digits; the tanh's 1 - t^2 cancels more where it saturates
    c = point(4, n)
    return (lambda x: np.sum(c * np.tanh(x - np.mean(x))),
            lambda x: c * (1 - np.tanh(x - np.mean(x)) ** 2) - np.mean(c * (1 - np.tanh(x - np.mean(x)) ** 2)),
            1e4 + 3 * point(7, n))


@pytest.mark.parametrize("case", [_ill_conditioned, _large_sum, _badly_scaled, _centred])
@pytest.mark.parametrize(("mode", "n"), [("auto", 200), ("full", 30)])
def test_correct_ill_conditioned_float64_gradients_pass(case, mode, n):
    f, grad, x = case(n)
    result = check_grad(f, x, grad=float64_only(grad), mode=mode, per_op="off", raise_on_mismatch=False)
    assert result.status == "pass", result.mismatches[:2]
    assert result.tolerance["noise_safety"] == gradient_noise.NOISE_SAFETY


def test_the_ill_conditioned_gradient_with_an_error_above_its_round_off_fails():
    f, grad, x = _ill_conditioned(40)
    result = check_grad(f, x, grad=float64_only(lambda x: grad(x) + 1e-5 * np.abs(grad(x)).max() * (x == x[3])),
                        per_op="off", raise_on_mismatch=False)
    assert result.status == "formula_error" and "element (3,)" in [m.where for m in result.mismatches]


def noisy(scale):
    """x + noise of standard deviation `scale`, fixed at each point (seeded by its bits), fresh at every other."""
    def grad(x):
        rng = np.random.default_rng(np.frombuffer(np.asarray(x, dtype=float).tobytes(), dtype=np.uint32))
        return x + scale * rng.standard_normal(x.shape)
    return grad


def test_the_measured_noise_matches_injected_noise_of_known_size():
    x = point(0, 300)
    grad = noisy(1e-11)
    noise = gradient_noise.measure(lambda x, scale=1.0: (grad(x),), (x,), (grad(x),), np.random.default_rng(1))
    element = noise.element[0]
    assert element.shape == x.shape
    assert 0.5e-11 < np.median(element) < 2e-11  # a 9-point fit: the median is close
    assert np.all(element < 1e-10)
    u = [np.random.default_rng(2).standard_normal(x.shape)]
    expected = 1e-11 * np.linalg.norm(u[0])  # independent noise projects to sigma |u|
    assert 0.3 * expected < noise.projected_noise(u) < 3 * expected
    assert noise.projected_noise([None]) == 0.0  # a direction that leaves the argument out sees none of it


def test_injected_noise_passes_because_it_is_measured_but_a_larger_error_fails():
    # 1e-11 of noise is far above the 8-ulp floor: it passes only because the check measured it
    x = point(0, 300)
    result = check_grad(half_square, x, grad=float64_only(noisy(1e-11)), per_op="off", raise_on_mismatch=False)
    assert result.status == "pass" and result.tolerance["gradient_noise"] > 1e-12
    assert gradient_noise.FLOOR_RTOL * np.max(np.abs(x)) < 1e-11 / 100  # the floor alone would fail it
    wrong = float64_only(lambda x: noisy(1e-11)(x) * (1 + 1e-7))
    result = check_grad(half_square, x, grad=wrong, per_op="off", raise_on_mismatch=False)
    assert result.status == "formula_error"


def test_the_fit_sees_rounding_that_an_equally_spaced_table_misses():
    # 1 - tanh(x)^2 near x = 2.66: locally linear, so on equally spaced points its rounding is a sawtooth, linear
    # between rare wraps, and ECnoise's differences vanish; the jittered points draw it afresh.
    import mpmath

    from pytest_gradcheck.checker.float64_differences import ecnoise

    x = 2.6630840808692113 + np.linspace(0, 1e-3, 50)

    def grad(x):
        return 1 - np.tanh(x) ** 2

    steps = gradient_noise.offset_steps((x,), np.random.default_rng(1))[0]
    equally_spaced = np.stack([grad(x + k * steps) for k in range(7)])
    assert np.any(ecnoise(equally_spaced) == 0)
    noise = gradient_noise.measure(lambda x, scale=1.0: (grad(x),), (x,), (grad(x),), np.random.default_rng(1))
    assert np.all(noise.element[0] > 0)
    ctx = mpmath.MPContext()
    ctx.dps = 30  # a private context: the exact value to 1e-30, rounded once to float64
    exact = np.array([float(ctx.sech(ctx.mpf(v)) ** 2) for v in x])
    error = np.abs(grad(x) - exact)
    assert error.max() > 4 * gradient_noise.F64_EPS * exact.max()  # several ulps: the floor alone is close
    assert np.all(error <= noise.element_allowance(0) / 10)


# A bias: the gradient of b in sum(C * (x @ W + b)) is the column sums of C, which no offset of x moves. Their
# float64 rounding (cancellation among terms of both signs) is measured by scaling the cotangent.
C_BIAS = np.random.default_rng(11).standard_normal((40, 6)) * np.array([1.0, 1e3, 1.0, 1e-2, 1.0, 1.0])


def float64_only_vjp(vjp):
    """`vjp` on inputs (and cotangent) rounded to float64: a VJP that never runs at high precision."""
    def wrapped(cotangent, *xs):
        plain = [precision.to_float64(v) if is_high_precision(v) else np.asarray(v, dtype=float)
                 for v in (cotangent, *xs)]
        return tuple(np.asarray(g, dtype=float) for g in vjp(*plain))
    return wrapped


def _bias_loss(x, w, b):
    return np.sum(C_BIAS * (x @ w + b))


def _bias_vjp(cotangent, x, w, b):
    g = cotangent * C_BIAS  # the cotangent of the sum, spread: a VJP, linear in its cotangent
    return g @ w.T, x.T @ g, np.sum(g, axis=0)


def test_the_rounding_of_a_gradient_element_no_offset_of_x_moves_is_measured_through_the_cotangent():
    rng = np.random.default_rng(3)
    args = (rng.standard_normal((40, 3)), rng.standard_normal((3, 6)), rng.standard_normal(6))
    vjp = float64_only_vjp(_bias_vjp)
    noise = gradient_noise.measure(lambda *xs, scale=1.0: tuple(g / scale for g in vjp(np.array(scale), *xs)),
                                   args, vjp(np.array(1.0), *args), np.random.default_rng(1))
    exact_columns = np.array([float(sum(precision.to_hp(C_BIAS[:, j], precision.context(40)))) for j in range(6)])
    rounding = np.abs(np.sum(C_BIAS, axis=0) - exact_columns)
    assert np.all(noise.element[2] > 0)  # without the cotangent's scale every bias element would read 0
    assert np.all(gradient_noise.NOISE_SAFETY * noise.element[2] >= rounding)
    result = check_grad(_bias_loss, args, vjp=vjp, per_op="off", raise_on_mismatch=False)
    assert result.status == "pass", result.report()

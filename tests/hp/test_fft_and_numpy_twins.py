"""np.fft, np.clip and np.gradient at high precision: against mpmath computed independently, and numpy."""

import mpmath
import numpy as np
import pytest

from pytest_gradcheck import check_grad
from pytest_gradcheck.hp import precision
from pytest_gradcheck.hp.array import HPArray

REF = mpmath.MPContext()
REF.dps = 60


@pytest.fixture
def ctx():
    return precision.context(40)


def hp(values, ctx):
    return precision.to_hp(np.asarray(values, dtype=float), ctx)


def dft_reference(values, sign):
    n = len(values)
    return [REF.fsum(REF.mpf(v) * REF.expjpi(sign * REF.mpf(2 * j * k) / n) for k, v in enumerate(values))
            for j in range(n)]


def assert_close_hp(out, expected, digits=35):
    for got, want in zip(np.ravel(out).tolist(), np.ravel(expected).tolist(), strict=True):
        scale = max(abs(want), 1)
        assert abs(REF.mpc(got) - want) <= scale * REF.mpf(10) ** -digits, (got, want)


X = np.array([0.3, -1.2, 2.5, 0.7, -0.4])


@pytest.mark.parametrize("norm", [None, "ortho", "forward"])
def test_fft_and_ifft_match_a_60_digit_dft_and_numpy(ctx, norm):
    out = np.fft.fft(hp(X, ctx), norm=norm)
    scale = {None: 1, "ortho": 1 / REF.sqrt(len(X)), "forward": REF.mpf(1) / len(X)}[norm]
    assert_close_hp(out, [v * scale for v in dft_reference(X, -1)])
    assert np.allclose(np.array([complex(v) for v in out]), np.fft.fft(X, norm=norm), rtol=1e-13, atol=1e-13)
    back = np.fft.ifft(out, norm=norm)
    assert_close_hp(back, [REF.mpc(v) for v in X])


@pytest.mark.parametrize("n", [None, 3, 8])
def test_rfft_irfft_roundtrip_and_numpy_agreement(ctx, n):
    spectrum = np.fft.rfft(hp(X, ctx), n=n)
    expected = np.fft.rfft(X, n=n)
    assert np.allclose([complex(v) for v in spectrum], expected, rtol=1e-13, atol=1e-13)
    m = len(X) if n is None else n
    back = np.fft.irfft(spectrum, n=m)
    assert all(type(v) is ctx.mpf for v in back)  # a real transform gives real numbers
    assert np.allclose([float(v) for v in back], np.fft.irfft(expected, n=m), rtol=1e-13, atol=1e-13)


def test_fft2_fftn_and_hfft_agree_with_numpy(ctx):
    m = np.arange(12.0).reshape(3, 4) / 7 - 0.5
    for name in ("fft2", "ifft2", "fftn", "ifftn", "rfft2", "rfftn"):
        out = getattr(np.fft, name)(hp(m, ctx))
        assert isinstance(out, HPArray)
        assert np.allclose(np.array([complex(v) for v in out.ravel()]).reshape(out.shape),
                           getattr(np.fft, name)(m), rtol=1e-12, atol=1e-12), name
    h = np.fft.hfft(hp(X, ctx))
    assert np.allclose([float(v) for v in h], np.fft.hfft(X), rtol=1e-12, atol=1e-12)
    assert np.allclose([complex(v) for v in np.fft.ihfft(hp(X, ctx))], np.fft.ihfft(X), rtol=1e-12, atol=1e-12)


def test_a_power_spectrum_loss_is_checked_at_high_precision():
    def f(x):
        return np.sum(np.abs(np.fft.rfft(x)) ** 2)

    def grad(x):  # d|X_k|^2/dx_j = 2 Re(X_k e^{2 pi i jk/n}): 2n Re(ifft) of the half spectrum, zero-padded
        n = x.size
        half = np.fft.rfft(x)
        padded = np.concatenate([half, np.zeros(n - half.size)])
        return 2 * n * np.real(np.fft.ifft(padded))

    x = np.array([0.3, -1.2, 2.5, 0.7, -0.4, 1.1])
    result = check_grad(f, x, grad=grad, per_op="off")
    assert result.high_precision and result.status == "pass"
    wrong = check_grad(f, x, grad=lambda x: grad(x) * (1 + 1e-9), per_op="off", raise_on_mismatch=False)
    assert wrong.status == "formula_error"


def test_clip_with_array_bounds_and_out_of_order_values(ctx):
    lo, hi = np.array([0.0, -1.0, 0.5]), 0.8
    out = np.clip(hp([-0.2, 3.0, 0.6], ctx), lo, hi)
    assert all(type(v) is ctx.mpf for v in out) and [float(v) for v in out] == [0.0, 0.8, 0.6]
    assert [float(v) for v in np.clip(hp([-0.2, 3.0], ctx), None, 1.0)] == [-0.2, 1.0]
    with pytest.raises(ValueError, match="max or min"):
        np.clip(hp([1.0], ctx), None, None)


@pytest.mark.parametrize("edge_order", [1, 2])
def test_gradient_matches_numpy_uniform_and_coordinates(ctx, edge_order):
    y = np.array([0.1, 0.4, 1.3, 2.0, 2.2, 3.9])
    coordinates = np.array([0.0, 0.5, 1.1, 2.0, 2.4, 3.0])
    for spacing in ((), (0.3,), (coordinates,)):
        out = np.gradient(hp(y, ctx), *(hp(s, ctx) if np.ndim(s) else s for s in spacing), edge_order=edge_order)
        expected = np.gradient(y, *spacing, edge_order=edge_order)
        assert all(type(v) is ctx.mpf for v in out)
        assert np.allclose([float(v) for v in out], expected, rtol=1e-13, atol=1e-13)


def test_gradient_of_a_matrix_gives_one_array_per_axis(ctx):
    m = np.arange(12.0).reshape(3, 4) ** 1.5
    rows, cols = np.gradient(hp(m, ctx))
    expected_rows, expected_cols = np.gradient(m)
    assert np.allclose(np.array([float(v) for v in rows.ravel()]).reshape(3, 4), expected_rows, rtol=1e-13)
    assert np.allclose(np.array([float(v) for v in cols.ravel()]).reshape(3, 4), expected_cols, rtol=1e-13)
    only = np.gradient(hp(m, ctx), axis=1)
    assert np.allclose(np.array([float(v) for v in only.ravel()]).reshape(3, 4), expected_cols, rtol=1e-13)


def test_gradient_clip_and_angle_match_mpmath_computed_independently(ctx):
    y, spacing = np.array([0.1, 0.4, 1.3, 2.0]), np.array([0.0, 0.5, 1.1, 2.0])
    out = np.gradient(hp(y, ctx), hp(spacing, ctx))
    Y, S = [REF.mpf(v) for v in y], [REF.mpf(v) for v in spacing]
    d1, d2 = S[2] - S[1], S[3] - S[2]  # the interior formula at index 2 (second order, non-uniform)
    d0 = S[1] - S[0]
    interior = -d2 / (d1 * (d1 + d2)) * Y[1] + (d2 - d1) / (d1 * d2) * Y[2] + d1 / (d2 * (d1 + d2)) * Y[3]
    expected = [(Y[1] - Y[0]) / d0, None, interior, (Y[3] - Y[2]) / d2]
    for got, want in zip(out, expected, strict=True):
        if want is not None:
            assert abs(REF.mpf(got) - want) <= abs(want) * REF.mpf(10) ** -38
    clipped = np.clip(hp([0.1, 0.7], ctx) * 3, 0.5, 2.0)
    assert REF.mpf(clipped[0]) == REF.mpf(0.5) and REF.mpf(clipped[1]) == REF.mpf(2.0)
    z = np.fft.fft(hp([1.0, -2.0, 0.5], ctx))
    for got, value in zip(np.angle(z), dft_reference([1.0, -2.0, 0.5], -1), strict=True):
        assert abs(REF.mpf(got) - REF.atan2(value.imag, value.real)) <= REF.mpf(10) ** -35

"""High-precision twins of numpy.fft: direct discrete Fourier transforms with exact twiddle factors.

O(n^2) per axis, which is fine at the sizes gradient checks use. Twiddle factors exp(-2 pi i jk/n) come
from the context's cospi/sinpi of the exact rational jk/n, so they are correct to the working precision.
Complex values are the context's mpc; real parts of real transforms (irfft, hfft) are its mpf.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from pytest_gradcheck.hp import registry as hp_registry
from pytest_gradcheck.hp.array import operand
from pytest_gradcheck.hp.registry import Twin, function_twin

__all__ = ["TWINS", "fft", "fft2", "fftn", "hfft", "ifft", "ifft2", "ifftn", "ihfft", "irfft", "irfft2", "irfftn",
           "rfft", "rfft2", "rfftn"]

NORMS = (None, "backward", "ortho", "forward")


def _matrix(ctx: Any, n: int, m: int, sign: int) -> np.ndarray:
    """W[j, k] = exp(sign 2 pi i j k / n) for j < m outputs and k < n inputs."""
    out = np.empty((m, n), dtype=object)
    for j in range(m):
        for k in range(n):
            r = ctx.mpf(2 * ((j * k) % n)) / n
            out[j, k] = ctx.mpc(ctx.cospi(r), sign * ctx.sinpi(r))
    return out


def _scale(ctx: Any, n: int, norm: str | None, inverse: bool) -> Any:
    if norm not in NORMS:
        raise ValueError(f'Invalid norm value {norm}; should be "backward", "ortho" or "forward".')
    if norm == "ortho":
        return 1 / ctx.sqrt(n)
    if (norm in (None, "backward")) == inverse:
        return ctx.mpf(1) / n
    return ctx.mpf(1)


def _resize(x: np.ndarray, n: int, axis: int, ctx: Any) -> np.ndarray:
    """Truncate or zero-pad along axis to length n, as numpy.fft does."""
    if n < 1:
        raise ValueError(f"Invalid number of FFT data points ({n}) specified.")
    length = x.shape[axis]
    if n <= length:
        return np.take(x, np.arange(n), axis=axis)
    pad_shape = list(x.shape)
    pad_shape[axis] = n - length
    return np.concatenate([x, np.full(pad_shape, ctx.mpf(0), dtype=object)], axis=axis)


def _transform(a: Any, n: int | None, axis: int, norm: str | None, sign: int, outputs: int | None = None) -> Any:
    ctx = hp_registry.context_of(a)
    x = operand(a, ctx)
    axis = axis % x.ndim
    x = _resize(x, x.shape[axis] if n is None else n, axis, ctx)
    size = x.shape[axis]
    w = _matrix(ctx, size, size if outputs is None else outputs, sign)
    moved = np.moveaxis(x, axis, -1)
    result = moved @ w.T
    inverse = sign > 0
    return np.moveaxis(result * _scale(ctx, size, norm, inverse), -1, axis)


def fft(a: Any, n: int | None = None, axis: int = -1, norm: str | None = None, out: Any = None) -> Any:
    return _store(_transform(a, n, axis, norm, -1), out)


def ifft(a: Any, n: int | None = None, axis: int = -1, norm: str | None = None, out: Any = None) -> Any:
    return _store(_transform(a, n, axis, norm, +1), out)


def rfft(a: Any, n: int | None = None, axis: int = -1, norm: str | None = None, out: Any = None) -> Any:
    size = np.shape(a)[axis] if n is None else n
    return _store(_transform(a, n, axis, norm, -1, outputs=size // 2 + 1), out)


def _hermitian_full(a: Any, n: int | None, axis: int) -> tuple[np.ndarray, int, Any]:
    """The full spectrum of length n from its first n//2+1 terms (conjugate symmetry)."""
    ctx = hp_registry.context_of(a)
    x = np.moveaxis(operand(a, ctx), axis % np.ndim(a), -1)
    m = x.shape[-1]
    n = 2 * (m - 1) if n is None else n
    if n < 1:
        raise ValueError(f"Invalid number of FFT data points ({n}) specified.")
    half = n // 2 + 1
    x = _resize(x, half, -1, ctx)
    full = np.empty((*x.shape[:-1], n), dtype=object)
    full[..., :half] = x
    for k in range(half, n):
        full[..., k] = np.vectorize(lambda z: z.conjugate(), otypes=[object])(x[..., n - k])
    # numpy discards the imaginary parts of the terms that must be real (0 and, for even n, n/2)
    full[..., 0] = np.vectorize(lambda z: ctx.mpf(z.real) if z.imag else z, otypes=[object])(full[..., 0])
    if n % 2 == 0:
        full[..., n // 2] = np.vectorize(lambda z: ctx.mpf(z.real), otypes=[object])(full[..., n // 2])
    return full, n, ctx


def irfft(a: Any, n: int | None = None, axis: int = -1, norm: str | None = None, out: Any = None) -> Any:
    full, n, _ = _hermitian_full(a, n, axis)
    result = _transform(full, n, -1, norm, +1)
    return _store(np.moveaxis(_real(result), -1, axis % np.ndim(a)), out)


def hfft(a: Any, n: int | None = None, axis: int = -1, norm: str | None = None, out: Any = None) -> Any:
    full, n, _ = _hermitian_full(a, n, axis)
    result = _transform(full, n, -1, norm, -1)
    return _store(np.moveaxis(_real(result), -1, axis % np.ndim(a)), out)


def ihfft(a: Any, n: int | None = None, axis: int = -1, norm: str | None = None, out: Any = None) -> Any:
    size = np.shape(a)[axis] if n is None else n
    return _store(_transform(a, n, axis, norm, +1, outputs=size // 2 + 1), out)


def _real(values: np.ndarray) -> np.ndarray:
    return np.vectorize(lambda z: z.real, otypes=[object])(values)


def _axes(a: Any, s: Sequence[int] | None, axes: Sequence[int] | None) -> tuple[list[int | None], list[int]]:
    ndim = np.ndim(a)
    if axes is None:
        axes = list(range(ndim))[-len(s):] if s is not None else list(range(ndim))
    axes = [int(ax) % ndim for ax in axes]
    sizes: list[int | None] = [None] * len(axes) if s is None else list(s)
    if len(sizes) != len(axes):
        raise ValueError("Shape and axes have different lengths.")
    return sizes, axes


def fftn(a: Any, s: Sequence[int] | None = None, axes: Sequence[int] | None = None, norm: str | None = None,
         out: Any = None) -> Any:
    sizes, axes = _axes(a, s, axes)
    result = a
    for n, ax in zip(sizes, axes, strict=True):
        result = _transform(result, n, ax, norm, -1)
    return _store(result, out)


def ifftn(a: Any, s: Sequence[int] | None = None, axes: Sequence[int] | None = None, norm: str | None = None,
          out: Any = None) -> Any:
    sizes, axes = _axes(a, s, axes)
    result = a
    for n, ax in zip(sizes, axes, strict=True):
        result = _transform(result, n, ax, norm, +1)
    return _store(result, out)


def rfftn(a: Any, s: Sequence[int] | None = None, axes: Sequence[int] | None = None, norm: str | None = None,
          out: Any = None) -> Any:
    sizes, axes = _axes(a, s, axes)
    result = rfft(a, sizes[-1], axes[-1], norm)
    for n, ax in zip(sizes[:-1], axes[:-1], strict=True):
        result = _transform(result, n, ax, norm, -1)
    return _store(result, out)


def irfftn(a: Any, s: Sequence[int] | None = None, axes: Sequence[int] | None = None, norm: str | None = None,
           out: Any = None) -> Any:
    sizes, axes = _axes(a, s, axes)
    result = a
    for n, ax in zip(sizes[:-1], axes[:-1], strict=True):
        result = _transform(result, n, ax, norm, +1)
    return _store(irfft(result, sizes[-1], axes[-1], norm), out)


def fft2(a: Any, s: Any = None, axes: Any = (-2, -1), norm: str | None = None, out: Any = None) -> Any:
    return fftn(a, s, axes, norm, out)


def ifft2(a: Any, s: Any = None, axes: Any = (-2, -1), norm: str | None = None, out: Any = None) -> Any:
    return ifftn(a, s, axes, norm, out)


def rfft2(a: Any, s: Any = None, axes: Any = (-2, -1), norm: str | None = None, out: Any = None) -> Any:
    return rfftn(a, s, axes, norm, out)


def irfft2(a: Any, s: Any = None, axes: Any = (-2, -1), norm: str | None = None, out: Any = None) -> Any:
    return irfftn(a, s, axes, norm, out)


def _store(result: Any, out: Any) -> Any:
    if out is None:
        return result
    out[...] = result
    return out


TWINS: dict[str, Twin] = {
    "numpy.fft.fft": function_twin(fft),
    "numpy.fft.fft2": function_twin(fft2),
    "numpy.fft.fftn": function_twin(fftn),
    "numpy.fft.hfft": function_twin(hfft),
    "numpy.fft.ifft": function_twin(ifft),
    "numpy.fft.ifft2": function_twin(ifft2),
    "numpy.fft.ifftn": function_twin(ifftn),
    "numpy.fft.ihfft": function_twin(ihfft),
    "numpy.fft.irfft": function_twin(irfft),
    "numpy.fft.irfft2": function_twin(irfft2),
    "numpy.fft.irfftn": function_twin(irfftn),
    "numpy.fft.rfft": function_twin(rfft),
    "numpy.fft.rfft2": function_twin(rfft2),
    "numpy.fft.rfftn": function_twin(rfftn),
}

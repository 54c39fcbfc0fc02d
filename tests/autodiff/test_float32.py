"""float32 in, float32 out: every primitive's gradient keeps the input's dtype, at every step of the tape."""

import numpy as np
import pytest
from primitive_cases import CASES, arguments

import autodiff_ref

SINGLE = (np.float32, np.complex64)  # complex intermediates (np.fft.fft of a float32 array) are complex64
FLOAT32_RTOL = 1e-4  # ~1000 float32 unit round-offs (1.2e-7): a few ops' rounding, far below a wrong rule's O(1)


def _vjp(f, args, seed):
    value, vjp_fn = autodiff_ref.vjp(f, *args)
    cotangent = np.random.default_rng(seed).standard_normal(value.shape).astype(value.dtype)
    return value, vjp_fn(cotangent)


@pytest.mark.parametrize("name", sorted(CASES))
def test_float32_gradients_are_float32_and_accurate(name):
    f = CASES[name].f
    args64 = tuple(a.astype(np.float32).astype(np.float64) for a in arguments(name))  # same points in both
    args32 = tuple(a.astype(np.float32) for a in args64)
    value32, grads32 = _vjp(f, args32, seed=1)
    _, grads64 = _vjp(f, args64, seed=1)
    assert value32.dtype == np.float32
    for argnum, (g32, g64) in enumerate(zip(grads32, grads64, strict=True)):
        assert type(g32) is np.ndarray and g32.dtype == np.float32, f"argument {argnum}: {g32.dtype}"
        np.testing.assert_allclose(g32, g64, rtol=FLOAT32_RTOL, atol=FLOAT32_RTOL, err_msg=f"argument {argnum}")


@pytest.mark.parametrize("name", sorted(CASES))
def test_every_recorded_step_stays_float32(name):
    """Replays each VJP rule on the tape with a float32 (complex64) cotangent: no rule may promote to double."""
    args32 = tuple(a.astype(np.float32) for a in arguments(name))
    recording = autodiff_ref.record(CASES[name].f, args32, argnums=tuple(range(len(args32))))
    for node in recording.nodes[len(args32):]:
        assert node.value.dtype in SINGLE, f"forward of {node.name} at {node.location}"
        g = np.ones(node.value.shape, dtype=node.value.dtype)
        for argnum, _ in node.parents:
            rule = node.primitive.vjp_maker(argnum, node.location)(node.value, *node.args, **node.kwargs)
            assert np.asarray(rule(g)).dtype in SINGLE, f"VJP of {node.name} for argument {argnum}"

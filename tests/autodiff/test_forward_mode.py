"""Forward mode (`autodiff_ref.jvp`): every op's tangent at 40 digits against mpmath central differences of the op,
and against the engine's own VJP (jvp and vjp must be transposes: <u, J t> = <J^T u, t>); which forward rule
each op uses; custom primitives with and without `defjvp`.
"""

import numpy as np
import pytest
from primitive_cases import CASES, HP, arguments

import autodiff_ref
from autodiff_ref import forward
from pytest_gradcheck.hp.precision import to_hp

ctx = HP
STEP, AGREE = ctx.mpf(10) ** -12, ctx.mpf(10) ** -20  # as in test_second_order_high_precision.py
TRANSPOSE_AGREE = ctx.mpf(10) ** -35
FALLBACK = {"clip"}  # the engine ops whose tangent is the transpose of their VJP rule (no forward rule)


def _hp(array):
    return to_hp(np.asarray(array, dtype=np.float64), ctx)


def _max_abs(array):
    return max((abs(e) for e in np.ravel(array)), default=ctx.mpf(0))


def _setup(name, seed):
    args = tuple(_hp(a) for a in arguments(name, seed=seed))
    rng = np.random.default_rng(seed + 50)
    tangents = tuple(_hp(rng.standard_normal(np.shape(a))) for a in args)
    return CASES[name].f, args, tangents


def _moved(args, tangents, step):
    moved = []
    for a, t in zip(args, tangents, strict=True):
        out = a.copy()
        out[...] = a + step * t
        moved.append(out)
    return moved


@pytest.mark.parametrize("name", sorted(CASES))
def test_every_op_jvp_at_40_digits_matches_central_differences_and_the_vjp(name):
    f, args, tangents = _setup(name, seed=21)
    value, tangent = autodiff_ref.jvp(f, args, tangents)
    assert np.shape(tangent) == np.shape(value) and tangent.dtype == object
    assert all(type(e) is ctx.mpf for e in np.ravel(tangent)), f"{name}: not all {ctx.dps}-digit mpf"
    ahead = autodiff_ref.vjp(f, *_moved(args, tangents, STEP))[0]
    behind = autodiff_ref.vjp(f, *_moved(args, tangents, -STEP))[0]
    expected = (ahead - behind) / (2 * STEP)
    error = _max_abs(np.asarray(tangent) - expected)
    assert error <= AGREE * max(_max_abs(expected), 1), f"{name}: JVP vs central differences, {ctx.nstr(error, 3)}"
    u = _hp(np.random.default_rng(22).standard_normal(np.shape(value)))
    pulled = autodiff_ref.vjp(f, *args)[1](u)
    left = ctx.fsum(np.ravel(u * tangent))
    right = ctx.fsum(e for g, t in zip(pulled, tangents, strict=True) for e in np.ravel(g * t))
    assert abs(left - right) <= TRANSPOSE_AGREE * max(abs(left), 1), f"{name}: <u, J t> {left} vs <J^T u, t> {right}"


@pytest.mark.parametrize("name", sorted(CASES))
def test_every_op_but_the_documented_ones_has_a_forward_rule(name):
    """True forward mode: each recorded op has JVP makers for its traced arguments or is linear."""
    args = arguments(name)
    recording = autodiff_ref.record(CASES[name].f, args, argnums=tuple(range(len(args))))
    for node in recording.nodes[len(args):]:
        op = node.primitive
        forward_rule = op.linear or all(i in op.jvp_makers for i, _ in node.parents)
        assert forward_rule != (op.name in FALLBACK), f"{name}: op {op.name} (forward rule: {forward_rule})"


def test_jvp_does_not_run_a_reverse_pass_for_ops_with_forward_rules(monkeypatch):
    def refuse(*args):
        raise AssertionError("the transposed VJP was used")

    monkeypatch.setattr(forward, "transposed_tangent", refuse)
    x = np.array([[0.5, -1.0], [2.0, 0.25]])
    _, tangent = autodiff_ref.jvp(lambda x: np.sum(np.tanh(x @ x.T) * np.max(x, axis=0)), (x,), (np.ones((2, 2)),))
    assert tangent.shape == ()
    with pytest.raises(AssertionError, match="the transposed VJP was used"):
        autodiff_ref.jvp(lambda x: np.clip(x, 0.0, 1.0), (x,), (np.ones((2, 2)),))


def test_float32_tangents_stay_float32():
    x = np.array([0.5, -1.0], dtype=np.float32)
    _, tangent = autodiff_ref.jvp(lambda x: np.exp(x) * np.sum(x**2), (x,), (np.ones(2, np.float32),))
    assert tangent.dtype == np.float32
    np.testing.assert_allclose(tangent, np.exp(x) * (np.sum(x**2) + 2 * np.sum(x)), rtol=1e-6)


def test_a_custom_primitive_uses_its_defjvp_rule():
    @autodiff_ref.primitive
    def cube(x):
        return x**3

    cube.defvjp(lambda ans, x: lambda g: 3 * g * x**2)
    x, t = np.array([1.0, 2.0]), np.array([1.0, -1.0])
    _, fallback = autodiff_ref.jvp(cube, (x,), (t,))  # no defjvp yet: the transpose of its VJP rule
    np.testing.assert_allclose(fallback, 3 * x**2 * t)
    cube.defjvp(lambda ans, x: lambda t: 3 * t * x * x + 1.0)  # a planted slip: + 1
    _, tangent = autodiff_ref.jvp(cube, (x,), (t,))
    np.testing.assert_allclose(tangent, 3 * x**2 * t + 1.0)


def test_defjvp_refuses_a_maker_that_is_not_callable():
    with pytest.raises(TypeError, match="defjvp for 'f': maker 0 must be callable, got 3"):
        autodiff_ref.Primitive(lambda x: x, "f").defjvp(3)


def test_jvp_refuses_a_complex_tangent_for_a_real_argument():
    with pytest.raises(ValueError, match=r"tangents\[0\] is complex but argument 0 is real"):
        autodiff_ref.jvp(np.sin, (np.ones(2),), (np.ones(2) * 1j,))

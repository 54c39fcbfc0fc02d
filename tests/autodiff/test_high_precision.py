"""The engine is precision-generic: on object arrays of 40-digit mpmath numbers its gradients have 40 digits."""

import numpy as np
import pytest
from primitive_cases import CASES, ELEMENTWISE, HP, arguments

import autodiff_ref
from pytest_gradcheck.hp.precision import to_hp

ctx = HP  # 40 digits, the context the cases' exact partials use
AGREE = ctx.mpf(10) ** -35  # the required agreement: 35 of the 40 digits
ELEMENTWISE_AGREE = ctx.mpf(10) ** -37  # one op: only a few units of round-off in the last digits


def _max_abs(array):
    return max((abs(e) for e in np.ravel(array)), default=ctx.mpf(0))


def _assert_agree(actual, expected, tolerance, what):
    assert np.shape(actual) == np.shape(expected), what
    error, scale = _max_abs(np.asarray(actual) - np.asarray(expected)), _max_abs(expected)
    assert error <= tolerance * scale, f"{what}: error {ctx.nstr(error, 3)} vs scale {ctx.nstr(scale, 3)}"


def _assert_all_mpf(array, what):
    bad = [type(e).__name__ for e in np.ravel(array) if type(e) is not ctx.mpf]
    assert not bad, f"{what}: elements of types {sorted(set(bad))}, expected {ctx.dps}-digit mpf only"


# ----- a two-layer network, against backprop written by hand in mpmath ---------------------------------------


def _activation(name):
    if name == "tanh":
        return np.tanh, ctx.tanh, lambda h: 1 - h * h
    return autodiff_ref.sigmoid, lambda z: 1 / (1 + ctx.exp(-z)), lambda h: h * (1 - h)


def _hand_backprop(act, act_prime, w1, b1, w2, b2, x, t):
    """Loss 1/2 sum((act(x w1 + b1) w2 + b2 - t)**2) and its gradients, with explicit loops in mpmath."""
    n, d, m, k = x.shape[0], x.shape[1], w1.shape[1], w2.shape[1]
    h = [[act(ctx.fsum(x[a, i] * w1[i, j] for i in range(d)) + b1[j]) for j in range(m)] for a in range(n)]
    r = [[ctx.fsum(h[a][j] * w2[j, c] for j in range(m)) + b2[c] - t[a, c] for c in range(k)] for a in range(n)]
    dz = [[act_prime(h[a][j]) * ctx.fsum(r[a][c] * w2[j, c] for c in range(k)) for j in range(m)] for a in range(n)]
    grads = (
        [[ctx.fsum(x[a, i] * dz[a][j] for a in range(n)) for j in range(m)] for i in range(d)],
        [ctx.fsum(dz[a][j] for a in range(n)) for j in range(m)],
        [[ctx.fsum(h[a][j] * r[a][c] for a in range(n)) for c in range(k)] for j in range(m)],
        [ctx.fsum(r[a][c] for a in range(n)) for c in range(k)],
        [[ctx.fsum(dz[a][j] * w1[i, j] for j in range(m)) for i in range(d)] for a in range(n)],
    )
    loss = ctx.fsum(e * e for row in r for e in row) / 2
    return loss, tuple(np.array(g, dtype=object) for g in grads)


@pytest.mark.parametrize("activation", ["tanh", "sigmoid"])
def test_mlp_gradient_at_40_digits_matches_hand_written_backprop(activation):
    act, act_hp, act_prime = _activation(activation)
    rng = np.random.default_rng(3)
    shapes = [(3, 5), (5,), (5, 2), (2,), (4, 3), (4, 2)]
    w1, b1, w2, b2, x, t = (to_hp(rng.uniform(-1.0, 1.0, size=s), ctx) for s in shapes)

    def loss(w1, b1, w2, b2, x):
        return np.sum((act(x @ w1 + b1) @ w2 + b2 - t) ** 2) / 2

    value, vjp_fn = autodiff_ref.vjp(loss, w1, b1, w2, b2, x)
    grads = vjp_fn(np.array(ctx.mpf(1), dtype=object))
    expected_loss, expected_grads = _hand_backprop(act_hp, act_prime, w1, b1, w2, b2, x, t)
    _assert_agree(value, expected_loss, AGREE, "loss")
    for name, g, expected in zip(["w1", "b1", "w2", "b2", "x"], grads, expected_grads, strict=True):
        _assert_all_mpf(g, name)
        _assert_agree(g, expected, AGREE, f"gradient of {name}")


# ----- every elementwise primitive, against the exact partials declared with its case ------------------------


def _reference_vjp(name, args, cotangent):
    """sum over output elements of cotangent * partial, scattered back through broadcasting."""
    out_shape = np.broadcast_shapes(*(np.shape(a) for a in args))
    grads = [np.full(np.shape(a), ctx.mpf(0), dtype=object) for a in args]
    for index in np.ndindex(out_shape):
        points = [a[index[len(index) - a.ndim:]] for a in args]
        for g, a, partial in zip(grads, args, CASES[name].partials, strict=True):
            g[index[len(index) - a.ndim:]] += cotangent[index] * partial(*points)
    return grads


@pytest.mark.parametrize("name", ELEMENTWISE)
def test_elementwise_vjp_at_40_digits(name):
    f = CASES[name].f
    args = tuple(to_hp(a, ctx) for a in arguments(name, seed=5))
    value, vjp_fn = autodiff_ref.vjp(f, *args)
    cotangent = to_hp(np.random.default_rng(6).standard_normal(value.shape), ctx)
    grads = vjp_fn(cotangent)
    for argnum, (g, expected) in enumerate(zip(grads, _reference_vjp(name, args, cotangent), strict=True)):
        _assert_all_mpf(g, f"{name}, argument {argnum}")
        _assert_agree(g, expected, ELEMENTWISE_AGREE, f"{name}, argument {argnum}")


EXACT_TYPES = (ctx.mpf, ctx.mpc)


def _exact_zero(element):
    return isinstance(element, int | float) and element == 0  # masks fill with 0, which needs no precision


@pytest.mark.parametrize("name", sorted(CASES))
def test_every_vjp_rule_computes_in_mpf(name):
    """Replays each rule on the tape: its output holds mpf or mpc (or exact zeros), never a rounded float."""
    args = tuple(to_hp(a, ctx) for a in arguments(name, seed=7))
    recording = autodiff_ref.record(CASES[name].f, args, argnums=tuple(range(len(args))))
    for node in recording.nodes[len(args):]:
        g = np.full(node.value.shape, ctx.mpf(1), dtype=object)
        for argnum, _ in node.parents:
            out = node.primitive.vjp_maker(argnum, node.location)(node.value, *node.args, **node.kwargs)(g)
            kinds = {type(e).__name__ for e in np.ravel(out) if type(e) not in EXACT_TYPES and not _exact_zero(e)}
            assert np.asarray(out).dtype == object and not kinds, f"VJP of {node.name}, argument {argnum}: {kinds}"

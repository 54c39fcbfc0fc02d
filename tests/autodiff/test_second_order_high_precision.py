"""Every primitive to second order at 40 digits: the engine's HVP of the scalarised op <w, op(x)> against mpmath
differences of the first-order gradient (itself checked against exact partials in test_high_precision.py) and
against a mixed second difference of the function alone; the 3-layer sigmoid network's Hessian; and the
second-order conventions at the kinks.

Steps: at 40 digits a central difference with step h = 1e-12 has truncation ~h^2 |f'''| ~ 1e-24 and round-off
~1e-40 / h = 1e-28, so a correct HVP agrees to 1e-20 relative; the mixed second difference (h = 1e-10, error
~h^2 + 1e-40 / h^2 ~ 1e-20) is judged at 1e-16. A wrong second-order rule is off by O(1).
"""

import numpy as np
import pytest
from primitive_cases import CASES, HP, arguments

import autodiff_ref
from pytest_gradcheck.hp.precision import to_hp

ctx = HP
GRADIENT_STEP, MIXED_STEP = ctx.mpf(10) ** -12, ctx.mpf(10) ** -10
GRADIENT_AGREE, MIXED_AGREE = ctx.mpf(10) ** -20, ctx.mpf(10) ** -16


def _hp(array):
    return to_hp(np.asarray(array, dtype=np.float64), ctx)


def _max_abs(arrays):
    return max((abs(e) for a in arrays for e in np.ravel(a)), default=ctx.mpf(0))


def _scalarised(name, seed):
    """(s, args, v, u): s(*args) = <w, op(*args)> at 40 digits, with random directions v and u."""
    case = CASES[name]
    args = tuple(_hp(a) for a in arguments(name, seed=seed))
    rng = np.random.default_rng(seed + 100)
    w = _hp(rng.standard_normal(np.shape(case.f(*arguments(name, seed=seed)))))

    def s(*xs):
        return np.sum(w * case.f(*xs))

    v = tuple(_hp(rng.standard_normal(np.shape(a))) for a in args)
    u = tuple(_hp(rng.standard_normal(np.shape(a))) for a in args)
    return s, args, v, u


def _moved(args, direction, step):
    """args + step * direction, each keeping its array class (a 0-d sum would be a bare mpf)."""
    moved = []
    for a, d in zip(args, direction, strict=True):
        out = a.copy()
        out[...] = a + step * d
        moved.append(out)
    return tuple(moved)


def _gradient_difference(s, args, v):
    """(grad s(args + h v) - grad s(args - h v)) / 2h: H v to O(h^2)."""
    every = tuple(range(len(args)))
    ahead = autodiff_ref.grad(s, every)(*_moved(args, v, GRADIENT_STEP))
    behind = autodiff_ref.grad(s, every)(*_moved(args, v, -GRADIENT_STEP))
    return tuple((a - b) / (2 * GRADIENT_STEP) for a, b in zip(ahead, behind, strict=True))


def _mixed_difference(s, args, u, v):
    """u^T H v from four values of s alone."""
    h = MIXED_STEP
    corners = [s(*_moved(_moved(args, u, a * h), v, b * h)) for a, b in ((1, 1), (1, -1), (-1, 1), (-1, -1))]
    return (corners[0] - corners[1] - corners[2] + corners[3]) / (4 * h * h)


@pytest.mark.parametrize("name", sorted(CASES))
def test_every_op_hvp_at_40_digits(name):
    s, args, v, u = _scalarised(name, seed=11)
    hv = autodiff_ref.hvp(s)(v, *args)
    assert len(hv) == len(args)
    for argnum, (h, a) in enumerate(zip(hv, args, strict=True)):
        assert h.shape == a.shape and h.dtype == object, f"argument {argnum}"
        assert all(type(e) is ctx.mpf for e in h.flat), f"argument {argnum}: not all {ctx.dps}-digit mpf"
    expected = _gradient_difference(s, args, v)
    scale = max(_max_abs(expected), ctx.mpf(1))
    error = _max_abs([h - e for h, e in zip(hv, expected, strict=True)])
    assert error <= GRADIENT_AGREE * scale, f"{name}: HVP vs gradient differences, error {ctx.nstr(error, 3)}"
    uhv = ctx.fsum(e for x, y in zip(u, hv, strict=True) for e in np.ravel(x * y))
    mixed = _mixed_difference(s, args, u, v)
    assert abs(uhv - mixed) <= MIXED_AGREE * max(abs(mixed), 1), f"{name}: u^T H v {uhv} vs mixed difference {mixed}"


@pytest.mark.parametrize("name", ["exp", "tanh", "divide", "power", "sigmoid", "logsumexp", "matmul"])
def test_hessian_of_an_op_is_symmetric_and_matches_its_hvp(name):
    s, args, v, _ = _scalarised(name, seed=12)
    every = tuple(range(len(args)))
    blocks = autodiff_ref.hessian(s, argnums=every)(*args)
    hv = autodiff_ref.hvp(s)(v, *args)
    for i, a in enumerate(args):
        row = sum(np.tensordot(blocks[i][j], v[j], axes=np.ndim(v[j])) for j in every)
        assert _max_abs([row - hv[i]]) <= ctx.mpf(10) ** -35 * max(_max_abs([hv[i]]), 1)
        for j, b in enumerate(args):
            transposed = np.transpose(blocks[j][i], (*range(b.ndim, b.ndim + a.ndim), *range(b.ndim)))
            assert _max_abs([blocks[i][j] - transposed]) <= ctx.mpf(10) ** -35 * max(_max_abs([blocks[i][j]]), 1)


# ----- the 3-layer sigmoid network with an L2 loss -----------------------------------------------------------


def _net_loss(w1, w2, x, t):
    """examples/three_layer_net.py: hidden s(X W1^T), output s(H W2^T), loss 0.5 * sum((Y - T)^2)."""
    h = autodiff_ref.sigmoid(x @ w1.T)
    y = 1 / (1 + np.exp(-(h @ w2.T)))
    return 0.5 * np.sum((y - t) ** 2)


def test_three_layer_network_hessian_at_40_digits():
    rng = np.random.default_rng(4)
    w1, w2, x, t = (_hp(rng.normal(scale=0.8, size=s)) for s in [(3, 2), (2, 3), (2, 2), (2, 2)])
    h = autodiff_ref.hessian(_net_loss, argnums=(0, 1))(w1, w2, x, t)
    weights = (w1, w2)
    for j, w in enumerate(weights):  # column by column: differences of the gradient along each weight
        for index in np.ndindex(w.shape):
            e = [np.full(a.shape, ctx.mpf(0), dtype=object) for a in weights]
            e[j][index] = ctx.mpf(1)
            column = _gradient_difference(lambda a, b: _net_loss(a, b, x, t), weights, tuple(e))
            for i in range(2):
                got = h[i][j][(..., *index)]
                assert _max_abs([got - column[i]]) <= GRADIENT_AGREE * max(_max_abs([column[i]]), 1), (i, j, index)
    flat = np.block([[h[i][j].reshape(weights[i].size, weights[j].size) for j in range(2)] for i in range(2)])
    assert _max_abs([flat - flat.T]) <= ctx.mpf(10) ** -35 * _max_abs([flat])


def test_three_layer_network_output_layer_block_is_the_gauss_newton_term_plus_the_residual_term():
    """d^2 L / d W2^2 by hand: for one output unit y = s(z), z = h . w: (y'^2 + (y - t) y'') h h^T, y' = y(1-y),
    y'' = y'(1 - 2y); summed over the batch, and no coupling between different output units."""
    rng = np.random.default_rng(5)
    w1, w2, x, t = (_hp(rng.normal(scale=0.8, size=s)) for s in [(3, 2), (2, 3), (2, 2), (2, 2)])
    block = autodiff_ref.hessian(_net_loss, argnums=1)(w1, w2, x, t)
    hidden = [[1 / (1 + ctx.exp(-ctx.fsum(x[n, i] * w1[k, i] for i in range(2)))) for k in range(3)] for n in range(2)]
    for c, k, d, m in np.ndindex(2, 3, 2, 3):
        expected = ctx.mpf(0)
        for n in range(2):
            y = 1 / (1 + ctx.exp(-ctx.fsum(hidden[n][j] * w2[c, j] for j in range(3))))
            slope = y * (1 - y)
            expected += (slope**2 + (y - t[n, c]) * slope * (1 - 2 * y)) * hidden[n][k] * hidden[n][m] * (c == d)
        assert abs(block[c, k, d, m] - expected) <= ctx.mpf(10) ** -36, (c, k, d, m)


# ----- second order at the kinks: the first-order conventions, differentiated --------------------------------


def _hessian64(f, x):
    return autodiff_ref.hessian(f)(np.asarray(x, dtype=np.float64))


def test_piecewise_linear_ops_have_zero_second_derivative_even_at_their_kinks():
    x = np.array([-1.0, 0.0, 2.0])
    for f in (lambda x: np.sum(np.abs(x)), lambda x: np.sum(autodiff_ref.relu(x)),
              lambda x: np.sum(np.maximum(x, 0.0)), lambda x: np.max(x * 0 + 1.0) * 0 + np.max(x),
              lambda x: np.sum(np.clip(x, 0.0, 1.0))):
        np.testing.assert_array_equal(_hessian64(f, x), np.zeros((3, 3)))


def test_second_order_through_a_kink_keeps_the_first_order_convention():
    """f = |x|^3 has f'' = 6|x|; at 0 the rule g * sign(x) gives sign(0) = 0, and f'' = 0 there, as it should.
    maximum(x, y)^2 at a tie: the gradient g = 2 m (1/2 each); its derivative again splits the tie: 1/2 * 1/2 * 2."""
    np.testing.assert_array_equal(np.diag(_hessian64(lambda x: np.sum(np.abs(x) ** 3), [-2.0, 0.0, 1.0])),
                                  [12.0, 0.0, 6.0])
    h = autodiff_ref.hessian(lambda x, y: np.sum(np.maximum(x, y) ** 2), argnums=(0, 1))(np.array(1.0), np.array(1.0))
    assert [[float(b) for b in row] for row in h] == [[0.5, 0.5], [0.5, 0.5]]
    h = _hessian64(lambda x: np.sum(autodiff_ref.relu(x) ** 2), [-1.0, 0.0, 3.0])
    np.testing.assert_array_equal(np.diag(h), [0.0, 0.0, 2.0])
    h = _hessian64(lambda x: np.max(x) ** 2, [2.0, 2.0, 1.0])  # two maximal elements: each gets 1/2 of 1/2 * 2
    np.testing.assert_array_equal(h, [[0.5, 0.5, 0.0], [0.5, 0.5, 0.0], [0.0, 0.0, 0.0]])

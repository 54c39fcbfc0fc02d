"""Second-order, forward-mode and complex cases, each with hand-written derivatives, for the benchmark of
check_hvp, check_hessian, check_jvp and check_grad on complex arguments.

Three families, each built from a seeded generator (`make_second_order(name, seed)`, `make_forward(name, seed)`,
`make_complex(name, seed)`):

- SECOND_ORDER: a scalar f(*args) with its gradient `grad(*args)`, its Hessian-vector product `hvp(v, *args)`
  (v: one array per argument; returns one array per argument) and its Hessian `hessian(*args)` (shaped
  x.shape + x.shape for one argument; nested `H[i][j]`, shaped args[i].shape + args[j].shape, for several).
- FORWARD: an array-valued f(*args) with its `jvp(tangents, *args)` (tangents: one array per argument; returns
  the output tangent, shaped like f's output) and its `vjp(cotangent, *args)` (one array per argument).
- COMPLEX: f of complex arrays, real-valued (gradients in torch's convention, df/dx + i df/dy, so that
  grad |z|^2 = 2z, and in JAX's, its conjugate) or holomorphic (f'(z)), `grads[convention](*args)`.
  `wrong[convention]` is the gradient a user would get from the other framework: the convention's mistake the
  checker should name.

Every function and derivative is precision-generic numpy, as in corpus.py: no np.linalg, no casts, no float64
buffers written into, no np.real/np.imag (object arrays of mpmath numbers do not take them); data that is not
differentiated is held in closures. Diagonal and block structure is built from float64 selector arrays
(np.eye) times the values, never by assignment. tests/checker/test_second_order_corpus.py verifies every
derivative here against mpmath central differences at 50 digits, independently of the checker.

`torch_f(torch)` (where given) is the same f written with torch operations, for torch.autograd.gradgradcheck
and torch.autograd.gradcheck (bench_second_order.py); the tests compare its value with f's.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "examples"))

from three_layer_net import loss, make_problem

CONVENTIONS = ("torch", "jax", "holomorphic")


@dataclass(frozen=True)
class SecondOrderProblem:
    name: str
    f: Callable[..., Any]
    grad: Callable[..., tuple[Any, ...]]
    hvp: Callable[..., tuple[Any, ...]]
    hessian: Callable[..., Any]
    args: tuple[np.ndarray, ...]
    torch_f: Callable[[Any], Callable[..., Any]] | None = None


@dataclass(frozen=True)
class ForwardProblem:
    name: str
    f: Callable[..., Any]
    jvp: Callable[..., Any]
    vjp: Callable[..., tuple[Any, ...]]
    args: tuple[np.ndarray, ...]
    torch_f: Callable[[Any], Callable[..., Any]] | None = None


@dataclass(frozen=True)
class ComplexProblem:
    name: str
    f: Callable[..., Any]
    holomorphic: bool  # f is complex-valued and holomorphic; otherwise real-valued
    grads: dict[str, Callable[..., tuple[Any, ...]]]  # convention -> the correct gradient in it
    wrong: dict[str, tuple[str, Callable[..., tuple[Any, ...]]]]  # convention -> (what it is, a mistaken gradient)
    args: tuple[np.ndarray, ...]
    torch_f: Callable[[Any], Callable[..., Any]] | None = None


# ---- shared pieces ----------------------------------------------------------------------------------------------

def _sigmoid(z: Any) -> Any:
    """exp(min(z, 0)) / (1 + exp(-|z|)): never overflows, and stays generic."""
    return np.exp((z - np.abs(z)) / 2) / (1 + np.exp(-np.abs(z)))


def _softplus(z: Any) -> Any:
    """max(z, 0) + log1p(exp(-|z|)): the stable log(1 + exp(z))."""
    return (z + np.abs(z)) / 2 + np.log1p(np.exp(-np.abs(z)))


def _diagonal(values: Any) -> Any:
    """The Hessian of an elementwise f: shape values.shape * 2, values on the diagonal (a float64 selector times
    the values, so high-precision values stay high precision)."""
    n = values.size
    selector = np.eye(n).reshape(values.shape + values.shape)
    return selector * values.reshape((1,) * values.ndim + values.shape)


def _columns_to_hessian(hvp: Callable[..., tuple[Any, ...]], x: Any) -> Any:
    """A symmetric Hessian from its HVP on the unit vectors: row k is hvp(e_k) (= column k)."""
    rows = [hvp((np.eye(x.size)[k].reshape(x.shape),), x)[0] for k in range(x.size)]
    return np.stack(rows).reshape(x.shape + x.shape)


# ---- scalar functions: gradient, HVP, Hessian -------------------------------------------------------------------

def _quadratic(rng):
    m = rng.normal(size=(4, 4))
    a = (m + m.T) / 2 + 4 * np.eye(4)  # exactly symmetric in float64
    b = rng.normal(size=4)
    return dict(
        f=lambda x: 0.5 * np.sum(x * (a @ x)) + np.sum(b * x),
        grad=lambda x: (a @ x + b,),
        hvp=lambda v, x: (a @ v[0],),
        hessian=lambda x: a + 0 * x[:, None] * x[None, :],
        args=(rng.normal(size=4),),
        torch_f=lambda torch: (lambda x: 0.5 * torch.sum(x * (torch.as_tensor(a) @ x)) + torch.sum(
            torch.as_tensor(b) * x)),
    )


def _logistic(rng, lam=0.1):
    x, y = rng.normal(size=(6, 4)), rng.choice([-1.0, 1.0], size=6)

    def f(w):
        return np.sum(_softplus(-y * (x @ w))) + lam * np.sum(w * w) / 2  # not 0.5 * lam: that rounds in float64

    def curvature(w):
        s = _sigmoid(-y * (x @ w))
        return s * (1 - s)

    def torch_f(torch):
        tx, ty = torch.as_tensor(x), torch.as_tensor(y)
        return lambda w: torch.sum(torch.nn.functional.softplus(-ty * (tx @ w))) + 0.5 * lam * torch.sum(w * w)

    return dict(
        f=f,
        grad=lambda w: (x.T @ (-y * _sigmoid(-y * (x @ w))) + lam * w,),
        hvp=lambda v, w: (x.T @ (curvature(w) * (x @ v[0])) + lam * v[0],),
        hessian=lambda w: x.T @ (curvature(w)[:, None] * x) + lam * np.eye(4),
        args=(rng.normal(size=4),),
        torch_f=torch_f,
    )


def _softplus_sum(rng):
    c = rng.normal(size=(2, 3))

    def torch_f(torch):
        tc = torch.as_tensor(c)
        return lambda x: torch.sum(tc * torch.nn.functional.softplus(x))

    return dict(
        f=lambda x: np.sum(c * _softplus(x)),
        grad=lambda x: (c * _sigmoid(x),),
        hvp=lambda v, x: (c * _sigmoid(x) * (1 - _sigmoid(x)) * v[0],),
        hessian=lambda x: _diagonal(c * _sigmoid(x) * (1 - _sigmoid(x))),
        args=(rng.normal(scale=4.0, size=(2, 3)),),
        torch_f=torch_f,
    )


def _softmax(x):
    e = np.exp(x - np.max(x))
    return e / np.sum(e)


def _logsumexp(rng):
    def f(x):
        m = np.max(x)
        return m + np.log(np.sum(np.exp(x - m)))

    def hvp(v, x):
        p = _softmax(x)
        return (p * v[0] - p * np.sum(p * v[0]),)

    def hessian(x):
        p = _softmax(x)
        return np.eye(x.size) * p[None, :] - p[:, None] * p[None, :]

    return dict(f=f, grad=lambda x: (_softmax(x),), hvp=hvp, hessian=hessian, args=(rng.normal(scale=3.0, size=5),),
                torch_f=lambda torch: (lambda x: torch.logsumexp(x, 0)))


def _rosenbrock_parts(x):
    """The Hessian's diagonal and first off-diagonal (off[i] = H[i, i+1], the last entry unused)."""
    last = 0 * x[-1:]
    diagonal = (np.concatenate([1200 * x[:-1] ** 2 - 400 * x[1:] + 2, last])
                + np.concatenate([last, 200 + 0 * x[1:]]))
    return diagonal, -400 * x


def _rosenbrock(rng):
    def f(x):
        return np.sum(100 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2)

    def grad(x):
        inner = x[1:] - x[:-1] ** 2
        return (np.concatenate([-400 * x[:-1] * inner - 2 * (1 - x[:-1]), 0 * x[-1:]])
                + np.concatenate([0 * x[:1], 200 * inner]),)

    def hvp(v, x):
        diagonal, off = _rosenbrock_parts(x)
        v = v[0]
        zero = 0 * x[:1]
        above = np.concatenate([off[:-1] * v[1:], zero])  # H[i, i+1] v[i+1]
        below = np.concatenate([zero, off[:-1] * v[:-1]])  # H[i, i-1] v[i-1] = off[i-1] v[i-1]
        return (diagonal * v + above + below,)

    def hessian(x):
        diagonal, off = _rosenbrock_parts(x)
        n = x.size
        upper = np.eye(n, k=1) * off[:, None]
        return np.eye(n) * diagonal[None, :] + upper + upper.T

    def torch_f(torch):
        return lambda x: torch.sum(100 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2)

    return dict(f=f, grad=grad, hvp=hvp, hessian=hessian, args=(rng.uniform(-1.5, 1.5, size=5),), torch_f=torch_f)


def _net_parts(w1, w2, x, t):
    h = 1 / (1 + np.exp(-(x @ w1.T)))
    y = 1 / (1 + np.exp(-(h @ w2.T)))
    return h, y


def _three_layer_net(rng):
    """examples/three_layer_net.py's loss as a function of its first weight W1 (W2, inputs, targets fixed).
    Its HVP is Pearlmutter's R-operator applied to the hand-derived backprop; its Hessian is the HVP on the
    unit vectors (the Hessian is symmetric)."""
    w1, w2, x, t = make_problem(int(rng.integers(2**31)), batch=3, n_in=3, n_hidden=3, n_out=2)

    def grad(w):
        h, y = _net_parts(w, w2, x, t)
        delta2 = (y - t) * y * (1 - y)
        return (((delta2 @ w2) * h * (1 - h)).T @ x,)

    def hvp(v, w):
        h, y = _net_parts(w, w2, x, t)
        delta2 = (y - t) * y * (1 - y)
        r_h = h * (1 - h) * (x @ v[0].T)  # R(H) = s'(Z1) R(Z1), R(Z1) = X V^T
        r_y = y * (1 - y) * (r_h @ w2.T)
        r_delta2 = r_y * (y * (1 - y) + (y - t) * (1 - 2 * y))
        r_delta1 = (r_delta2 @ w2) * h * (1 - h) + (delta2 @ w2) * (1 - 2 * h) * r_h
        return (r_delta1.T @ x,)

    def torch_f(torch):
        tw2, tx, tt = (torch.as_tensor(a) for a in (w2, x, t))

        def f(w):
            h = torch.sigmoid(tx @ w.T)
            return 0.5 * torch.sum((torch.sigmoid(h @ tw2.T) - tt) ** 2)

        return f

    return dict(f=lambda w: loss(w, w2, x, t), grad=grad, hvp=hvp, hessian=lambda w: _columns_to_hessian(hvp, w),
                args=(w1,), torch_f=torch_f)


def _gaussian_nll(rng):
    """-log N(x | mu, exp(log_sigma)^2) summed over 4 samples of 3 independent coordinates, in (mu, log_sigma):
    two arguments, so the Hessian is nested."""
    data = rng.normal(size=(4, 3))
    n = data.shape[0]

    def parts(mu, s):
        r = data - mu
        return np.exp(-2 * s), np.sum(r, axis=0), np.sum(r * r, axis=0)

    def f(mu, s):
        r = data - mu
        return np.sum(s + 0.5 * r * r * np.exp(-2 * s))

    def grad(mu, s):
        e, s1, s2 = parts(mu, s)
        return -s1 * e, n - s2 * e

    def hvp(v, mu, s):
        e, s1, s2 = parts(mu, s)
        return n * e * v[0] + 2 * s1 * e * v[1], 2 * s1 * e * v[0] + 2 * s2 * e * v[1]

    def hessian(mu, s):
        e, s1, s2 = parts(mu, s)
        return [[_diagonal(n * e), _diagonal(2 * s1 * e)], [_diagonal(2 * s1 * e), _diagonal(2 * s2 * e)]]

    def torch_f(torch):
        td = torch.as_tensor(data)
        return lambda mu, s: torch.sum(s + 0.5 * (td - mu) ** 2 * torch.exp(-2 * s))

    return dict(f=f, grad=grad, hvp=hvp, hessian=hessian,
                args=(rng.normal(scale=0.5, size=3), rng.normal(scale=0.3, size=3)), torch_f=torch_f)


PAIRS = ((0, 1), (0, 2), (1, 2))


def _springs(rng, k=2.0, a=0.05):
    """A physics-style energy of 3 points in 3-d: springs of rest lengths `rest` plus a soft repulsion a / d^6
    (a Lennard-Jones-lite pair potential phi(d) = k/2 (d - L)^2 + a / d^6)."""
    rest = rng.uniform(0.8, 1.2, size=3)
    select = np.eye(3)

    def pair(x, p):
        i, j = PAIRS[p]
        r = x[i] - x[j]
        d = np.sqrt(np.sum(r * r))
        dphi = k * (d - rest[p]) - 6 * (a / d**7)  # 6 * a would round in float64
        ddphi = k + 42 * (a / d**8)
        return select[i] - select[j], r / d, d, dphi, ddphi

    def block(u, d, dphi, ddphi):
        """d^2 phi / dr dr^T = phi'' u u^T + phi' / d (I - u u^T)."""
        uu = u[:, None] * u[None, :]
        return ddphi * uu + dphi / d * (np.eye(3) - uu)

    def f(x):
        total = 0
        for p, (i, j) in enumerate(PAIRS):
            r = x[i] - x[j]
            d = np.sqrt(np.sum(r * r))
            total = total + k / 2 * (d - rest[p]) ** 2 + a / d**6
        return total

    def grad(x):
        return (sum(s[:, None] * (dphi * u)[None, :] for s, u, _, dphi, _ in (pair(x, p) for p in range(3))),)

    def hvp(v, x):
        out = 0
        for p in range(3):
            s, u, d, dphi, ddphi = pair(x, p)
            out = out + s[:, None] * (block(u, d, dphi, ddphi) @ (s @ v[0]))[None, :]
        return (out,)

    def hessian(x):
        out = 0
        for p in range(3):
            s, u, d, dphi, ddphi = pair(x, p)
            out = out + s[:, None, None, None] * s[None, None, :, None] * block(u, d, dphi, ddphi)[None, :, None, :]
        return out

    def torch_f(torch):
        def energy(x):
            total = 0
            for p, (i, j) in enumerate(PAIRS):
                d = torch.sqrt(torch.sum((x[i] - x[j]) ** 2))
                total = total + k / 2 * (d - rest[p]) ** 2 + a / d**6
            return total

        return energy

    points = np.eye(3) + rng.normal(scale=0.1, size=(3, 3))  # near an equilateral triangle of side sqrt(2)
    return dict(f=f, grad=grad, hvp=hvp, hessian=hessian, args=(points,), torch_f=torch_f)


SECOND_ORDER_BUILDERS = {
    "quadratic": _quadratic, "logistic_regression": _logistic, "softplus_sum": _softplus_sum,
    "logsumexp": _logsumexp, "rosenbrock": _rosenbrock, "three_layer_net_w1": _three_layer_net,
    "gaussian_nll": _gaussian_nll, "springs": _springs,
}  # fmt: skip
SECOND_ORDER = tuple(SECOND_ORDER_BUILDERS)


# ---- array-valued functions: JVP and VJP ------------------------------------------------------------------------

def _tanh(rng):
    return dict(f=np.tanh, jvp=lambda t, x: (1 - np.tanh(x) ** 2) * t[0],
                vjp=lambda u, x: ((1 - np.tanh(x) ** 2) * u,), args=(rng.normal(scale=1.5, size=(3, 4)),),
                torch_f=lambda torch: torch.tanh)


def _matmul_layer(rng):
    b = rng.normal(size=(3, 1))
    return dict(f=lambda w, x: w @ x + b, jvp=lambda t, w, x: t[0] @ x + w @ t[1],
                vjp=lambda u, w, x: (u @ x.T, w.T @ u), args=(rng.normal(size=(3, 4)), rng.normal(size=(4, 2))),
                torch_f=lambda torch: (lambda w, x: w @ x + torch.as_tensor(b)))


def _row_softmax(z):
    e = np.exp(z - np.max(z, axis=-1, keepdims=True))
    return e / np.sum(e, axis=-1, keepdims=True)


def _softmax_rows(rng):
    def jvp(t, z):
        y = _row_softmax(z)
        return y * (t[0] - np.sum(y * t[0], axis=-1, keepdims=True))

    return dict(f=_row_softmax, jvp=jvp, vjp=lambda u, z: (jvp((u,), z),),  # its Jacobian is symmetric
                args=(rng.normal(scale=2.0, size=(2, 4)),), torch_f=lambda torch: (lambda z: torch.softmax(z, -1)))


def _stable_softplus(rng):
    """log(1 + exp(x)) computed as max(x, 0) + log1p(exp(-|x|)), with its own tangent rule t * sigmoid(x): a
    custom_jvp-style rule (the derivative of the stable form written by hand, not differentiated through it)."""
    return dict(f=_softplus, jvp=lambda t, x: _sigmoid(x) * t[0], vjp=lambda u, x: (_sigmoid(x) * u,),
                args=(rng.normal(scale=10.0, size=(2, 3)),), torch_f=lambda torch: torch.nn.functional.softplus)


def _layer_norm(rng, eps=1e-3):
    def parts(x):
        centred = x - np.mean(x, axis=-1, keepdims=True)
        sigma = np.sqrt(np.mean(centred**2, axis=-1, keepdims=True) + eps)
        return centred / sigma, sigma

    def jvp(t, x):
        y, sigma = parts(x)
        g = t[0]
        return (g - np.mean(g, axis=-1, keepdims=True) - y * np.mean(g * y, axis=-1, keepdims=True)) / sigma

    def torch_f(torch):
        return lambda x: torch.nn.functional.layer_norm(x, (x.shape[-1],), eps=eps)

    return dict(f=lambda x: parts(x)[0], jvp=jvp, vjp=lambda u, x: (jvp((u,), x),),  # symmetric Jacobian
                args=(rng.normal(scale=2.0, size=(2, 5)),), torch_f=torch_f)


def _cumsum(rng):
    w = rng.normal(size=(2, 5))
    return dict(f=lambda x: np.cumsum(w * x**2, axis=-1), jvp=lambda t, x: np.cumsum(2 * w * x * t[0], axis=-1),
                vjp=lambda u, x: (2 * w * x * np.cumsum(u[:, ::-1], axis=-1)[:, ::-1],),
                args=(rng.normal(size=(2, 5)),),
                torch_f=lambda torch: (lambda x: torch.cumsum(torch.as_tensor(w) * x**2, -1)))


FORWARD_BUILDERS = {
    "tanh": _tanh, "matmul_layer": _matmul_layer, "softmax": _softmax_rows, "stable_softplus": _stable_softplus,
    "layer_norm": _layer_norm, "weighted_cumsum": _cumsum,
}  # fmt: skip
FORWARD = tuple(FORWARD_BUILDERS)


# ---- complex arguments ------------------------------------------------------------------------------------------

def _conventions(torch_grad: Callable[..., Any]) -> dict[str, Any]:
    """A real-valued f: torch's gradient (df/dx + i df/dy), JAX's (its conjugate), and each one's mistake (the
    other framework's gradient)."""
    def jax_grad(*z):
        return tuple(np.conj(g) for g in torch_grad(*z))

    return dict(grads={"torch": torch_grad, "jax": jax_grad},
                wrong={"torch": ("jax", jax_grad), "jax": ("torch", torch_grad)})


def _holomorphic(derivative: Callable[..., Any]) -> dict[str, Any]:
    """A holomorphic f: f'(z); the mistake is its conjugate (what a conjugate-Wirtinger backward pass returns)."""
    return dict(grads={"holomorphic": derivative},
                wrong={"holomorphic": ("torch", lambda *z: tuple(np.conj(g) for g in derivative(*z)))})


def _complex_point(rng, shape, low=0.5, high=2.0):
    """Moduli in [low, high], phases uniform: away from 0, where |z| has no derivative."""
    return rng.uniform(low, high, shape) * np.exp(1j * rng.uniform(-np.pi, np.pi, shape))


def _abs_squared(rng):
    return dict(f=lambda z: np.sum(np.abs(z) ** 2), holomorphic=False, **_conventions(lambda z: (2 * z,)),
                args=(_complex_point(rng, 4),), torch_f=lambda torch: (lambda z: torch.sum(torch.abs(z) ** 2)))


def _least_squares(rng):
    a, b = _complex_point(rng, (5, 3)), _complex_point(rng, 5)
    ah = np.conj(a).T

    def torch_f(torch):
        ta, tb = torch.as_tensor(a), torch.as_tensor(b)
        return lambda z: torch.sum(torch.abs(ta @ z - tb) ** 2)

    return dict(f=lambda z: np.sum(np.abs(a @ z - b) ** 2), holomorphic=False,
                **_conventions(lambda z: (2 * (ah @ (a @ z - b)),)), args=(_complex_point(rng, 3),), torch_f=torch_f)


def _fft_loss(rng):
    """sum |fft(z) * w|^2 = z^H (N ifft |w|^2 fft) z: torch's gradient is 2 N ifft(|w|^2 fft(z))."""
    w = _complex_point(rng, 8, 0.2, 1.5)

    def torch_f(torch):
        tw = torch.as_tensor(w)
        return lambda z: torch.sum(torch.abs(torch.fft.fft(z) * tw) ** 2)

    return dict(f=lambda z: np.sum(np.abs(np.fft.fft(z) * w) ** 2), holomorphic=False,
                **_conventions(lambda z: (2 * z.size * np.fft.ifft(np.abs(w + 0 * z) ** 2 * np.fft.fft(z)),)),
                args=(_complex_point(rng, 8),), torch_f=torch_f)


def _phase_loss(rng):
    """sum w |z / |z| - u|^2: only the phase of z matters (u: unit targets). With q = conj(u) z / |z|, torch's
    gradient is w (q - conj(q)) z / |z|^2 (2i Im(q) times i z / |z|^2, the gradient of the phase)."""
    u = np.exp(1j * rng.uniform(-np.pi, np.pi, 4))
    w = rng.uniform(0.5, 2.0, 4)

    def torch_grad(z):
        r = np.abs(z)
        q = np.conj(u) * z / r
        return (w * (q - np.conj(q)) * z / r**2,)

    def torch_f(torch):
        tu, tw = torch.as_tensor(u), torch.as_tensor(w)
        return lambda z: torch.sum(tw * torch.abs(z / torch.abs(z) - tu) ** 2)

    return dict(f=lambda z: np.sum(w * np.abs(z / np.abs(z) - u) ** 2), holomorphic=False, **_conventions(torch_grad),
                args=(_complex_point(rng, 4),), torch_f=torch_f)


def _polynomial_exp(rng):
    c = _complex_point(rng, 3)

    def torch_f(torch):
        tc = torch.as_tensor(c)
        return lambda z: torch.sum(tc * z**3 - z + torch.exp(z / 2))

    return dict(f=lambda z: np.sum(c * z**3 - z + np.exp(z / 2)), holomorphic=True,
                **_holomorphic(lambda z: (3 * (c * z**2) - 1 + np.exp(z / 2) / 2,)), args=(_complex_point(rng, 3),),
                torch_f=torch_f)


def _mobius(rng):
    """sum (a z + b) / (z + d): a Moebius map, holomorphic away from z = -d (d has modulus 3 or more; |z| <= 2)."""
    a, b, d = _complex_point(rng, 3), _complex_point(rng, 3), _complex_point(rng, 3, 3.0, 4.0)

    def torch_f(torch):
        ta, tb, td = (torch.as_tensor(v) for v in (a, b, d))
        return lambda z: torch.sum((ta * z + tb) / (z + td))

    return dict(f=lambda z: np.sum((a * z + b) / (z + d)), holomorphic=True,
                **_holomorphic(lambda z: ((a * (d + 0 * z) - b) / (z + d) ** 2,)), args=(_complex_point(rng, 3),),
                torch_f=torch_f)


COMPLEX_BUILDERS = {
    "abs_squared": _abs_squared, "least_squares": _least_squares, "fft_loss": _fft_loss, "phase_loss": _phase_loss,
    "polynomial_exp": _polynomial_exp, "mobius": _mobius,
}  # fmt: skip
COMPLEX = tuple(COMPLEX_BUILDERS)


def make_second_order(name: str, seed: int) -> SecondOrderProblem:
    made = SECOND_ORDER_BUILDERS[name](np.random.default_rng(seed))
    made["args"] = tuple(np.asarray(a, dtype=np.float64) for a in made["args"])
    return SecondOrderProblem(name, **made)


def make_forward(name: str, seed: int) -> ForwardProblem:
    made = FORWARD_BUILDERS[name](np.random.default_rng(seed))
    made["args"] = tuple(np.asarray(a, dtype=np.float64) for a in made["args"])
    return ForwardProblem(name, **made)


def make_complex(name: str, seed: int) -> ComplexProblem:
    made = COMPLEX_BUILDERS[name](np.random.default_rng(seed))
    made["args"] = tuple(np.asarray(a, dtype=np.complex128) for a in made["args"])
    return ComplexProblem(name, **made)

"""Custom autograd rules of the kinds people write for torch and JAX, each with a numpy reference forward.

Each rule is written once, as a forward `forward(xp, data, *args)` and a hand-written backward
`backward(xp, data, g, *args) -> one gradient per argument`, against a small array namespace `xp`
(`NumpyOps`, `TorchOps`, `JaxOps`: numpy's names, plus the hooks the planted bugs of framework_mutations.py go
through). From it, `make(name, framework, seed)` builds:

- for torch, a `torch.autograd.Function` subclass (`<Name>Function`) whose backward is the hand-written one;
- for JAX, a `jax.custom_vjp` function (`<name>`) whose bwd rule is the hand-written one;
- the scalar function under test, `f(*args) = sum(c * op(*args))` with fixed weights c (torch's and JAX's own
  `mul` and `sum` are trusted; the custom rule is what gets checked), its arguments as float64 tensors/arrays,
  and the numpy reference of the same f, `sum(c * forward(NumpyOps, data, *arrays))`, precision-generic
  (numpy ufuncs and scipy.special.erf only), for `check_grad(..., reference=)`.

Data that is not differentiated (labels, targets) is drawn with the point and held in closures. Points are
seeded and small (at most 40 elements), away from the kinks of the rules that have one (huber's |r| = delta).
tests/project/test_framework_corpus.py verifies every backward against 60-digit mpmath differences of the
forward, without the checker.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import special

FRAMEWORKS = ("torch", "jax")


# ---- the array namespaces --------------------------------------------------------------------------------------

class NumpyOps:
    """numpy's names for what the rules use, and two hooks: `term` (one term of a backward; a planted sign bug
    negates it) and `reduce` (the sum over the axis a broadcast argument was expanded along; a planted bug takes
    the first slice instead)."""

    def __init__(self, sign: float = 1.0, reduction: str = "sum") -> None:
        self.sign, self.reduction = sign, reduction
        self.m: Any = np

    def variant(self, **changes: Any) -> NumpyOps:
        return type(self)(**({"sign": self.sign, "reduction": self.reduction} | changes))

    def term(self, x: Any) -> Any:
        return x if self.sign == 1.0 else -x

    def reduce(self, x: Any, axis: int) -> Any:
        return self.sum(x, axis) if self.reduction == "sum" else self.first(x, axis)

    def exp(self, x: Any) -> Any:
        return self.m.exp(x)

    def log(self, x: Any) -> Any:
        return self.m.log(x)

    def log1p(self, x: Any) -> Any:
        return self.m.log1p(x)

    def tanh(self, x: Any) -> Any:
        return self.m.tanh(x)

    def sqrt(self, x: Any) -> Any:
        return self.m.sqrt(x)

    def abs(self, x: Any) -> Any:
        return self.m.abs(x)

    def where(self, condition: Any, a: Any, b: Any) -> Any:
        return self.m.where(condition, a, b)

    def erf(self, x: Any) -> Any:
        return special.erf(x)

    def sum(self, x: Any, axis: int | None = None, keepdims: bool = False) -> Any:
        return self.m.sum(x, axis=axis, keepdims=keepdims)

    def mean(self, x: Any, axis: int | None = None, keepdims: bool = False) -> Any:
        return self.m.mean(x, axis=axis, keepdims=keepdims)

    def amax(self, x: Any, axis: int, keepdims: bool = False) -> Any:
        return self.m.max(x, axis=axis, keepdims=keepdims)

    def first(self, x: Any, axis: int) -> Any:
        return self.m.take(x, 0, axis=axis)

    def asarray(self, x: Any) -> Any:
        return np.asarray(x, dtype=np.float64)

    def f32(self, x: Any) -> Any:
        return x.astype(np.float32)

    def f64(self, x: Any) -> Any:
        return x.astype(np.float64)

    def scale_element(self, x: Any, index: int, factor: float) -> Any:
        out = np.array(x, copy=True)
        out.flat[index] = out.flat[index] * factor
        return out


class TorchOps(NumpyOps):
    def __init__(self, sign: float = 1.0, reduction: str = "sum") -> None:
        import torch

        super().__init__(sign, reduction)
        self.m = torch

    def erf(self, x: Any) -> Any:
        return self.m.erf(x)

    def sum(self, x: Any, axis: int | None = None, keepdims: bool = False) -> Any:
        return self.m.sum(x) if axis is None else self.m.sum(x, dim=axis, keepdim=keepdims)

    def mean(self, x: Any, axis: int | None = None, keepdims: bool = False) -> Any:
        return self.m.mean(x) if axis is None else self.m.mean(x, dim=axis, keepdim=keepdims)

    def amax(self, x: Any, axis: int, keepdims: bool = False) -> Any:
        return self.m.amax(x, dim=axis, keepdim=keepdims)

    def first(self, x: Any, axis: int) -> Any:
        return x.select(axis, 0)

    def asarray(self, x: Any) -> Any:
        return self.m.as_tensor(np.asarray(x, dtype=np.float64))

    def f32(self, x: Any) -> Any:
        return x.to(self.m.float32)

    def f64(self, x: Any) -> Any:
        return x.to(self.m.float64)

    def scale_element(self, x: Any, index: int, factor: float) -> Any:
        out = x.clone().reshape(-1)
        out[index] = out[index] * factor
        return out.reshape(x.shape)


class JaxOps(NumpyOps):
    def __init__(self, sign: float = 1.0, reduction: str = "sum") -> None:
        import jax.numpy as jnp

        super().__init__(sign, reduction)
        self.m = jnp

    def erf(self, x: Any) -> Any:
        import jax.scipy.special

        return jax.scipy.special.erf(x)

    def asarray(self, x: Any) -> Any:
        return self.m.asarray(np.asarray(x, dtype=np.float64))

    def f32(self, x: Any) -> Any:
        return x.astype(self.m.float32)

    def f64(self, x: Any) -> Any:
        return x.astype(self.m.float64)

    def scale_element(self, x: Any, index: int, factor: float) -> Any:
        return x.reshape(-1).at[index].multiply(factor).reshape(x.shape)


NUMPY = NumpyOps()


def ops_for(framework: str, **changes: Any) -> NumpyOps:
    return {"numpy": NumpyOps, "torch": TorchOps, "jax": JaxOps}[framework](**changes)


# ---- shared pieces ------------------------------------------------------------------------------------------------

def _sigmoid(xp, x):
    """exp(min(x, 0)) / (1 + exp(-|x|)): never overflows."""
    return xp.exp((x - xp.abs(x)) / 2) / (1 + xp.exp(-xp.abs(x)))


def _softplus(xp, x):
    """max(x, 0) + log1p(exp(-|x|)): the stable form."""
    return (x + xp.abs(x)) / 2 + xp.log1p(xp.exp(-xp.abs(x)))


def _logsumexp(xp, x, axis):
    m = xp.amax(x, axis, keepdims=True)
    return xp.sum(m, axis) + xp.log(xp.sum(xp.exp(x - m), axis))


def _softmax(xp, x, axis):
    e = xp.exp(x - xp.amax(x, axis, keepdims=True))
    return e / xp.sum(e, axis, keepdims=True)


def _normalised(xp, x, axis, eps):
    centred = x - xp.mean(x, axis, keepdims=True)
    sigma = xp.sqrt(xp.mean(centred * centred, axis, keepdims=True) + eps)
    return centred / sigma, sigma


# ---- the rules ----------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Rule:
    """One custom rule: forward and hand-written backward in `xp`, a point generator `point(rng) -> (args, data)`,
    whether its backward reduces a broadcast argument (`xp.reduce`), and the term a sign bug negates."""

    name: str
    forward: Callable[..., Any]
    backward: Callable[..., tuple[Any, ...]]
    point: Callable[[np.random.Generator], tuple[tuple[np.ndarray, ...], tuple[np.ndarray, ...]]]
    term: str
    broadcast: str | None = None  # which argument is broadcast, for the missing-reduction bug
    frameworks: tuple[str, ...] = FRAMEWORKS


def _normal(shape, scale=1.0):
    return lambda rng: ((rng.normal(scale=scale, size=shape),), ())


def _backward(forward):
    def attach(backward):
        forward.backward = backward
        return backward

    return attach


# elementwise activations -------------------------------------------------------------------------------------------

def softplus(xp, data, x):
    return _softplus(xp, x)


@_backward(softplus)
def _softplus_backward(xp, data, g, x):
    return (xp.term(g * _sigmoid(xp, x)),)


def log_sigmoid(xp, data, x):
    return -_softplus(xp, -x)


@_backward(log_sigmoid)
def _log_sigmoid_backward(xp, data, g, x):
    return (xp.term(g * _sigmoid(xp, -x)),)


def silu(xp, data, x):
    return x * _sigmoid(xp, x)


@_backward(silu)
def _silu_backward(xp, data, g, x):
    s = _sigmoid(xp, x)
    return (g * (s + xp.term(x * s * _sigmoid(xp, -x))),)


GELU_C = 0.044715
SQRT_2_OVER_PI = math.sqrt(2 / math.pi)


def gelu_tanh(xp, data, x):
    return 0.5 * x * (1 + xp.tanh(SQRT_2_OVER_PI * (x + GELU_C * x * x * x)))


@_backward(gelu_tanh)
def _gelu_tanh_backward(xp, data, g, x):
    t = xp.tanh(SQRT_2_OVER_PI * (x + GELU_C * x * x * x))
    return (g * (0.5 * (1 + t) + xp.term(0.5 * x * (1 - t * t) * SQRT_2_OVER_PI * (1 + 3 * GELU_C * x * x))),)


def gelu_erf(xp, data, x):
    return 0.5 * x * (1 + xp.erf(x / math.sqrt(2)))


@_backward(gelu_erf)
def _gelu_erf_backward(xp, data, g, x):
    return (g * (0.5 * (1 + xp.erf(x / math.sqrt(2))) + xp.term(x * xp.exp(-x * x / 2) / math.sqrt(2 * math.pi))),)


def mish(xp, data, x):
    return x * xp.tanh(_softplus(xp, x))


@_backward(mish)
def _mish_backward(xp, data, g, x):
    t = xp.tanh(_softplus(xp, x))
    return (g * (t + xp.term(x * (1 - t * t) * _sigmoid(xp, x))),)


# row-wise reductions -----------------------------------------------------------------------------------------------

def logsumexp(xp, data, x):
    return _logsumexp(xp, x, 1)


@_backward(logsumexp)
def _logsumexp_backward(xp, data, g, x):
    return (xp.term(g[:, None] * _softmax(xp, x, 1)),)


def log_softmax(xp, data, x):
    return x - _logsumexp(xp, x, 1)[:, None]


@_backward(log_softmax)
def _log_softmax_backward(xp, data, g, x):
    return (g - xp.term(_softmax(xp, x, 1) * xp.sum(g, 1, keepdims=True)),)


def softmax_cross_entropy(xp, data, z):
    (onehot,) = data
    return _logsumexp(xp, z, 1) - xp.sum(onehot * z, 1)


@_backward(softmax_cross_entropy)
def _softmax_cross_entropy_backward(xp, data, g, z):
    (onehot,) = data
    return (g[:, None] * (_softmax(xp, z, 1) - xp.term(onehot)),)


def _labels(rng):
    z = rng.normal(scale=2.0, size=(5, 4))
    return (z,), (np.eye(4)[rng.integers(0, 4, size=5)],)


def normalize(xp, data, x):
    return x / xp.sqrt(xp.sum(x * x, 1, keepdims=True))


@_backward(normalize)
def _normalize_backward(xp, data, g, x):
    n = xp.sqrt(xp.sum(x * x, 1, keepdims=True))
    y = x / n
    return ((g - xp.term(y * xp.sum(g * y, 1, keepdims=True))) / n,)


def cosine_similarity(xp, data, a, b):
    return xp.sum(a * b, 1) / (xp.sqrt(xp.sum(a * a, 1)) * xp.sqrt(xp.sum(b * b, 1)))


@_backward(cosine_similarity)
def _cosine_similarity_backward(xp, data, g, a, b):
    na, nb = xp.sqrt(xp.sum(a * a, 1, keepdims=True)), xp.sqrt(xp.sum(b * b, 1, keepdims=True))
    cos = xp.sum(a * b, 1, keepdims=True) / (na * nb)
    return (g[:, None] * (b / (na * nb) - xp.term(cos * a / (na * na))),
            g[:, None] * (a / (na * nb) - cos * b / (nb * nb)))


# normalisation layers (broadcast scale and shift) -----------------------------------------------------------------

NORM_EPS = 1e-5


def layer_norm(xp, data, x, gamma, beta):
    return _normalised(xp, x, 1, NORM_EPS)[0] * gamma + beta


@_backward(layer_norm)
def _layer_norm_backward(xp, data, g, x, gamma, beta):
    xhat, sigma = _normalised(xp, x, 1, NORM_EPS)
    gg = g * gamma
    dx = (gg - xp.mean(gg, 1, keepdims=True) - xp.term(xhat * xp.mean(gg * xhat, 1, keepdims=True))) / sigma
    return dx, xp.reduce(g * xhat, 0), xp.reduce(g, 0)


def _norm_point(rows, columns):
    def point(rng):
        return (rng.normal(scale=2.0, size=(rows, columns)), rng.uniform(0.5, 1.5, size=columns),
                rng.normal(size=columns)), ()

    return point


def batch_norm(xp, data, x, gamma, beta):
    return _normalised(xp, x, 0, NORM_EPS)[0] * gamma + beta


@_backward(batch_norm)
def _batch_norm_backward(xp, data, g, x, gamma, beta):
    xhat, sigma = _normalised(xp, x, 0, NORM_EPS)
    gg = g * gamma
    dx = (gg - xp.mean(gg, 0, keepdims=True) - xp.term(xhat * xp.mean(gg * xhat, 0, keepdims=True))) / sigma
    return dx, xp.reduce(g * xhat, 0), xp.reduce(g, 0)


def rms_norm(xp, data, x, gamma):
    return x / xp.sqrt(xp.mean(x * x, 1, keepdims=True) + NORM_EPS) * gamma


@_backward(rms_norm)
def _rms_norm_backward(xp, data, g, x, gamma):
    r = xp.sqrt(xp.mean(x * x, 1, keepdims=True) + NORM_EPS)
    xhat, gg = x / r, g * gamma
    return (gg - xp.term(xhat * xp.mean(gg * xhat, 1, keepdims=True))) / r, xp.reduce(g * xhat, 0)


# layers and kernels --------------------------------------------------------------------------------------------------

def linear(xp, data, x, w, b):
    return x @ w + b


@_backward(linear)
def _linear_backward(xp, data, g, x, w, b):
    return g @ w.T, xp.term(x.T @ g), xp.reduce(g, 0)


def attention_scores(xp, data, q, k):
    return _softmax(xp, q @ k.T / math.sqrt(q.shape[1]), 1)


@_backward(attention_scores)
def _attention_scores_backward(xp, data, g, q, k):
    scale = math.sqrt(q.shape[1])
    p = _softmax(xp, q @ k.T / scale, 1)
    ds = p * (g - xp.term(xp.sum(g * p, 1, keepdims=True)))
    return ds @ k / scale, ds.T @ q / scale


RBF_LENGTH = 1.3


def rbf_kernel(xp, data, x, y):
    d = x[:, None, :] - y[None, :, :]
    return xp.exp(-xp.sum(d * d, 2) / (2 * RBF_LENGTH**2))


@_backward(rbf_kernel)
def _rbf_kernel_backward(xp, data, g, x, y):
    d = x[:, None, :] - y[None, :, :]
    a = -g * xp.exp(-xp.sum(d * d, 2) / (2 * RBF_LENGTH**2)) / RBF_LENGTH**2
    return xp.sum(a, 1)[:, None] * x - xp.term(a @ y), xp.sum(a, 0)[:, None] * y - a.T @ x


# losses ------------------------------------------------------------------------------------------------------------

def huber(xp, data, pred, target):
    r = pred - target
    return xp.where(xp.abs(r) <= 1.0, 0.5 * r * r, xp.abs(r) - 0.5)  # delta = 1


@_backward(huber)
def _huber_backward(xp, data, g, pred, target):
    r = pred - target
    dr = g * xp.where(xp.abs(r) <= 1.0, r, r / xp.abs(r))
    return dr, xp.term(-dr)


def _huber_point(rng):
    pred, target = rng.normal(scale=1.5, size=(3, 4)), rng.normal(size=(3, 4))
    r = pred - target
    near = np.abs(np.abs(r) - 1.0) < 0.15  # away from the kink of the second derivative at |r| = delta
    pred = np.where(near, target + np.sign(r) * np.where(np.abs(r) < 1, 0.5, 1.5), pred)
    return (pred, target), ()


def log_cosh(xp, data, pred, target):
    r = xp.abs(pred - target)
    return r + xp.log1p(xp.exp(-2 * r)) - math.log(2)


@_backward(log_cosh)
def _log_cosh_backward(xp, data, g, pred, target):
    dr = g * xp.tanh(pred - target)
    return dr, xp.term(-dr)


def weighted_mse(xp, data, pred, w):
    (target,) = data
    r = pred - target
    return xp.sum(w * r * r) / pred.shape[0]


@_backward(weighted_mse)
def _weighted_mse_backward(xp, data, g, pred, w):
    (target,) = data
    r = pred - target
    return xp.term(2 * g * w * r / pred.shape[0]), xp.reduce(g * r * r / pred.shape[0], 0)


def _weighted_point(rng):
    return (rng.normal(size=(4, 3)), rng.uniform(0.5, 2.0, size=3)), (rng.normal(size=(4, 3)),)


def gaussian_nll(xp, data, mu, log_sigma):
    (target,) = data
    z = (target - mu) / xp.exp(log_sigma)
    return 0.5 * z * z + log_sigma + 0.5 * math.log(2 * math.pi)


@_backward(gaussian_nll)
def _gaussian_nll_backward(xp, data, g, mu, log_sigma):
    (target,) = data
    sigma = xp.exp(log_sigma)
    z = (target - mu) / sigma
    return -g * z / sigma, xp.reduce(g - xp.term(g * z * z), 0)


def _gaussian_point(rng):
    return (rng.normal(size=(4, 3)), rng.normal(scale=0.5, size=3)), (rng.normal(size=(4, 3)),)


FOCAL_ALPHA, FOCAL_GAMMA = 0.25, 2


def focal_loss(xp, data, x):
    (sign,) = data  # +1 for a positive label, -1 for a negative one
    q = _sigmoid(xp, -sign * x)  # 1 - p_t
    return FOCAL_ALPHA * q * q * _softplus(xp, -sign * x)  # -alpha (1 - p_t)^2 log p_t


@_backward(focal_loss)
def _focal_loss_backward(xp, data, g, x):
    (sign,) = data
    z = sign * x
    q = _sigmoid(xp, -z)
    dz = FOCAL_ALPHA * q * q * (-xp.term(FOCAL_GAMMA * _sigmoid(xp, z) * _softplus(xp, -z)) - q)
    return (g * sign * dz,)


def _focal_point(rng):
    return (rng.normal(scale=3.0, size=(3, 4)),), (rng.choice([-1.0, 1.0], size=(3, 4)),)


# ---- registry -------------------------------------------------------------------------------------------------------

def _rms_point(rng):
    return (rng.normal(scale=2.0, size=(4, 6)), rng.uniform(0.5, 1.5, size=6)), ()


def _pair(shape_a, shape_b, scale=1.0):
    return lambda rng: ((rng.normal(scale=scale, size=shape_a), rng.normal(scale=scale, size=shape_b)), ())


def _linear_point(rng):
    return (rng.normal(size=(4, 3)), rng.normal(scale=0.5, size=(3, 5)), rng.normal(size=5)), ()


RULES: dict[str, Rule] = {rule.name: rule for rule in (
    Rule("softplus", softplus, softplus.backward, _normal((3, 4), 10.0), "the whole gradient"),
    Rule("log_sigmoid", log_sigmoid, log_sigmoid.backward, _normal((3, 4), 5.0), "the whole gradient"),
    Rule("silu", silu, silu.backward, _normal((3, 4), 3.0), "x s (1 - s)"),
    Rule("gelu_tanh", gelu_tanh, gelu_tanh.backward, _normal((3, 4), 2.0), "the tanh' term"),
    Rule("gelu_erf", gelu_erf, gelu_erf.backward, _normal((3, 4), 2.0), "x phi(x)"),
    Rule("mish", mish, mish.backward, _normal((3, 4), 3.0), "x tanh'(softplus) sigmoid"),
    Rule("logsumexp", logsumexp, logsumexp.backward, _normal((3, 5), 5.0), "the whole gradient"),
    Rule("log_softmax", log_softmax, log_softmax.backward, _normal((3, 4), 3.0), "softmax sum(g)"),
    Rule("softmax_cross_entropy", softmax_cross_entropy, softmax_cross_entropy.backward, _labels, "the one-hot term"),
    Rule("normalize", normalize, normalize.backward, _normal((3, 4)), "the projection y (g . y)"),
    Rule("cosine_similarity", cosine_similarity, cosine_similarity.backward, _pair((4, 5), (4, 5)),
         "cos a / |a|^2 in da"),
    Rule("layer_norm", layer_norm, layer_norm.backward, _norm_point(4, 6), "xhat mean(g xhat)", "gamma and beta"),
    Rule("batch_norm", batch_norm, batch_norm.backward, _norm_point(6, 3), "xhat mean(g xhat)", "gamma and beta"),
    Rule("rms_norm", rms_norm, rms_norm.backward, _rms_point, "xhat mean(g xhat)", "gamma"),
    Rule("linear", linear, linear.backward, _linear_point, "the weight gradient", "the bias"),
    Rule("attention_scores", attention_scores, attention_scores.backward, _pair((3, 4), (5, 4)),
         "sum(g p) in the softmax backward"),
    Rule("rbf_kernel", rbf_kernel, rbf_kernel.backward, _pair((4, 3), (5, 3)), "a @ y in dx"),
    Rule("huber", huber, huber.backward, _huber_point, "the target's gradient"),
    Rule("log_cosh", log_cosh, log_cosh.backward, _pair((3, 4), (3, 4), 2.0), "the target's gradient"),
    Rule("weighted_mse", weighted_mse, weighted_mse.backward, _weighted_point, "the prediction's gradient",
         "the weights"),
    Rule("gaussian_nll", gaussian_nll, gaussian_nll.backward, _gaussian_point, "z^2 in the log-sigma gradient",
         "log sigma"),
    Rule("focal_loss", focal_loss, focal_loss.backward, _focal_point, "the gamma term"),
)}
NAMES = tuple(RULES)


def camel(name: str) -> str:
    return "".join(part.capitalize() for part in name.split("_"))


# ---- building the framework ops and problems ------------------------------------------------------------------------

Backward = Callable[..., tuple[Any, ...]]


def torch_function(rule: Rule, data: tuple[Any, ...], ops: NumpyOps, backward: Backward) -> Any:
    """A torch.autograd.Function subclass `<Name>Function`: forward and the (possibly planted) backward."""
    import torch

    forward_ops = TorchOps()

    def forward(ctx, *xs):
        ctx.save_for_backward(*xs)
        return rule.forward(forward_ops, data, *xs)

    def backward_(ctx, g):
        return tuple(backward(ops, data, g, *ctx.saved_tensors))

    return type(f"{camel(rule.name)}Function", (torch.autograd.Function,),
                {"forward": staticmethod(forward), "backward": staticmethod(backward_), "__module__": __name__})


def jax_function(rule: Rule, data: tuple[Any, ...], ops: NumpyOps, backward: Backward) -> Any:
    """A jax.custom_vjp function named after the rule, with the (possibly planted) backward as its bwd rule."""
    import jax

    forward_ops = JaxOps()

    def primal(*xs):
        return rule.forward(forward_ops, data, *xs)

    primal.__name__ = primal.__qualname__ = rule.name
    op = jax.custom_vjp(primal)

    def fwd(*xs):
        return rule.forward(forward_ops, data, *xs), xs

    def bwd(saved, g):
        return tuple(backward(ops, data, g, *saved))

    op.defvjp(fwd, bwd)
    return op


@dataclass(frozen=True)
class Problem:
    """A rule built for one framework at one seeded point: `f(*inputs())` is the scalar under test."""

    rule: Rule
    framework: str
    seed: int
    arrays: tuple[np.ndarray, ...]  # the point, float64 numpy
    data: tuple[np.ndarray, ...]
    weights: np.ndarray  # c in sum(c * op(*args)): also the cotangent the op's backward receives
    op: Any  # the torch.autograd.Function subclass or the custom_vjp function
    f: Callable[..., Any]
    reference: Callable[..., Any]  # numpy f, precision-generic

    @property
    def name(self) -> str:
        return self.rule.name

    @property
    def op_name(self) -> str:
        return f"{camel(self.rule.name)}Function" if self.framework == "torch" else self.rule.name

    def inputs(self) -> tuple[Any, ...]:
        """Fresh float64 framework arguments (torch: leaf tensors with requires_grad)."""
        if self.framework == "torch":
            import torch

            return tuple(torch.tensor(a, dtype=torch.float64, requires_grad=True) for a in self.arrays)
        import jax.numpy as jnp

        return tuple(jnp.asarray(a, dtype=jnp.float64) for a in self.arrays)


def point(name: str, seed: int) -> tuple[tuple[np.ndarray, ...], tuple[np.ndarray, ...], np.ndarray]:
    """The arguments, the data and the weights c of the rule `name` at `seed` (numpy, float64)."""
    rule = RULES[name]
    rng = np.random.default_rng(seed)
    args, data = rule.point(rng)
    args = tuple(np.asarray(a, dtype=np.float64) for a in args)
    data = tuple(np.asarray(d, dtype=np.float64) for d in data)
    weights = np.asarray(rng.normal(size=np.shape(rule.forward(NUMPY, data, *args))), dtype=np.float64)
    return args, data, weights


def reference_function(rule: Rule, data: tuple[np.ndarray, ...], weights: np.ndarray) -> Callable[..., Any]:
    def reference(*arrays):
        return np.sum(weights * rule.forward(NUMPY, data, *arrays))

    reference.__name__ = f"{rule.name}_reference"
    return reference


def make(name: str, framework: str, seed: int, backward: Backward | None = None,
         ops: NumpyOps | None = None) -> Problem:
    """The rule `name` as a `framework` op at the point of `seed`; `backward`/`ops` replace the correct backward
    or its namespace (framework_mutations.py plants bugs through them)."""
    rule = RULES[name]
    args, data, weights = point(name, seed)
    ops = ops or ops_for(framework)
    backward = backward or rule.backward
    framework_data = tuple(ops.asarray(d) for d in data)
    c = ops.asarray(weights)
    if framework == "torch":
        import torch

        op = torch_function(rule, framework_data, ops, backward)

        def f(*xs):
            return torch.sum(c * op.apply(*xs))
    else:
        import jax.numpy as jnp

        op = jax_function(rule, framework_data, ops, backward)

        def f(*xs):
            return jnp.sum(c * op(*xs))

    f.__name__ = f"{name}_loss"
    return Problem(rule, framework, seed, args, data, weights, op, f, reference_function(rule, data, weights))

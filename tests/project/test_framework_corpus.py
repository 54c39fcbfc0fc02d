"""The torch / JAX benchmark corpus is right, checked without the checker.

Every hand-written backward of benchmarks/framework_corpus.py is evaluated on object arrays of numbers of a
private 50-digit mpmath context (numpy's object loops call their exp, log1p, tanh, ... methods; erf is mpmath's)
and compared with mpmath central differences of its numpy reference forward, f(x) = sum(c * forward(x)):
(f(x + h e) - f(x - h e)) / 2h with h = 1e-18 (error ~1e-36 truncation, ~1e-32 round-off). Agreement is asked
to 1e-15 relative to the largest element (the backwards' float constants, such as 3 * 0.044715 or sqrt(2 pi),
are rounded at ~1e-17 where the forward's are not: far below any planted bug, which is 1e-12 or more), and the
float64 evaluation of each backward to agree with the 50-digit
one to 1e-11 (a correct rule is not a float64 accuracy problem either).

With torch / JAX installed (each test skips cleanly without it): the built `torch.autograd.Function` and
`jax.custom_vjp` ops give, through the framework's own autograd, exactly the numpy backward (correct and
planted), and their forwards are the ops they are named after (torch.nn.functional's, where it has one).
The planted bugs of benchmarks/framework_mutations.py change exactly what they say.
"""

import benchmark_modules
import mpmath
import numpy as np
import pytest

mutations = benchmark_modules.load("framework_mutations")
corpus = mutations.corpus

SEEDS = (0, 1, 2)
CTX = mpmath.MPContext()
CTX.dps = 50
H = CTX.mpf("1e-18")
AGREE = 1e-15
FLOAT64 = 1e-11


def _method(fn):
    return lambda self: fn(self)


for _name in ("exp", "log", "log1p", "tanh", "sqrt"):  # numpy's object loops call these methods
    setattr(CTX.mpf, _name, _method(getattr(CTX, _name)))


class MpOps(corpus.NumpyOps):
    """numpy on object arrays of CTX numbers; erf element by element (scipy.special.erf has no object loop)."""

    def erf(self, x):
        return np.frompyfunc(CTX.erf, 1, 1)(x)

    def asarray(self, x):
        return _mp(x)


def _mp(a):
    a = np.asarray(a, dtype=np.float64)
    out = np.empty(a.size, dtype=object)
    out[:] = [CTX.mpf(float(v)) for v in a.ravel()]
    return out.reshape(a.shape)


def _scalar(rule, data, weights):
    return lambda *xs: np.sum(weights * rule.forward(MpOps(), data, *xs))


def test_the_corpus_has_at_least_twenty_rules_for_each_framework_and_broadcast_arguments():
    assert len(corpus.NAMES) >= 20
    for framework in corpus.FRAMEWORKS:
        assert sum(framework in corpus.RULES[n].frameworks for n in corpus.NAMES) >= 10
    assert len([n for n in corpus.NAMES if corpus.RULES[n].broadcast]) >= 5
    for name in ("softplus", "logsumexp", "layer_norm", "softmax_cross_entropy", "gelu_tanh", "gelu_erf",
                 "focal_loss", "attention_scores", "rbf_kernel", "linear", "silu", "log_sigmoid", "huber",
                 "normalize", "weighted_mse", "batch_norm", "cosine_similarity"):
        assert name in corpus.RULES


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("name", corpus.NAMES)
def test_every_backward_agrees_with_50_digit_differences_of_its_reference(name, seed):
    rule = corpus.RULES[name]
    args, data, weights = corpus.point(name, seed)
    assert sum(a.size for a in args) <= 40
    mp_args, mp_data, mp_weights = [_mp(a) for a in args], tuple(_mp(d) for d in data), _mp(weights)
    f = _scalar(rule, mp_data, mp_weights)
    exact = rule.backward(MpOps(), mp_data, mp_weights, *mp_args)
    float64 = rule.backward(corpus.NUMPY, data, weights, *args)
    assert len(exact) == len(args)
    for a, arg in enumerate(mp_args):
        differences = []
        for i in range(arg.size):
            up, down = arg.copy(), arg.copy()
            up.flat[i] += H
            down.flat[i] -= H
            at_up = f(*(up if b == a else mp_args[b] for b in range(len(mp_args))))
            at_down = f(*(down if b == a else mp_args[b] for b in range(len(mp_args))))
            differences.append((at_up - at_down) / (2 * H))
        scale = max(abs(v) for v in differences)
        assert scale > 0
        error = max(abs(v - w) for v, w in zip(differences, np.ravel(exact[a]), strict=True))
        assert error <= AGREE * scale, (name, a, float(error / scale))
        as_float = np.array([float(v) for v in np.ravel(exact[a])])
        assert np.shape(float64[a]) == arg.shape
        assert np.max(np.abs(np.ravel(float64[a]) - as_float)) <= FLOAT64 * float(scale), (name, a)


def test_huber_points_stay_away_from_the_kink():
    for seed in range(20):
        (pred, target), _, _ = corpus.point("huber", seed)
        assert np.min(np.abs(np.abs(pred - target) - 1.0)) >= 0.15 - 1e-12


# ---- planted bugs, on numpy ---------------------------------------------------------------------------------------

def _planted(name, seed, planted):
    rule = corpus.RULES[name]
    args, data, weights = corpus.point(name, seed)
    ops = corpus.ops_for("numpy", **planted.ops_changes)
    right = rule.backward(corpus.NUMPY, data, weights, *args)
    wrong = mutations.planted_backward(rule, planted)(ops, data, weights, *args)
    return [np.asarray(r) for r in right], [np.asarray(w) for w in wrong]


@pytest.mark.parametrize("name", corpus.NAMES)
def test_planted_bugs_change_exactly_what_they_say(name):
    rule = corpus.RULES[name]
    kinds = {p.kind for p in mutations.plants(name, 1, (1e-3,))}
    assert kinds == set(mutations.KINDS) - (set() if rule.broadcast else {"missing_reduction"})
    for d in (1e-1, 1e-6, 1e-12):
        one = mutations.plant(name, "scale_one", d, 1)
        right, wrong = _planted(name, 1, one)
        changed = [(a, i) for a in range(len(right)) for i in np.flatnonzero(right[a] != wrong[a])]
        assert changed == [one.element]
        a, i = one.element
        assert wrong[a].flat[i] == right[a].flat[i] * (1 + d)
        right, wrong = _planted(name, 1, mutations.plant(name, "scale_all", d, 1))
        assert all(np.array_equal(w, r * (1 + d)) for r, w in zip(right, wrong, strict=True))
    right, wrong = _planted(name, 1, mutations.plant(name, "sign_flip", None, 1))
    assert any(np.max(np.abs(w - r)) > 1e-3 * np.max(np.abs(r)) for r, w in zip(right, wrong, strict=True))
    right, wrong = _planted(name, 1, mutations.plant(name, "float32", None, 1))
    change = max(np.max(np.abs(w - r)) / np.max(np.abs(r)) for r, w in zip(right, wrong, strict=True))
    assert 1e-10 < change < 1e-5 and all(w.dtype == np.float64 for w in wrong)
    if rule.broadcast:
        right, wrong = _planted(name, 1, mutations.plant(name, "missing_reduction", None, 1))
        changed = [a for a in range(len(right)) if not np.array_equal(right[a], wrong[a])]
        assert changed and all(right[a].ndim == 1 for a in changed)  # only the broadcast arguments' gradients
        assert all(right[a].shape == wrong[a].shape for a in range(len(right)))


def test_the_planted_element_is_the_same_for_every_size_and_framework():
    elements = {mutations.plant("layer_norm", "scale_one", d, 3).element for d in mutations.SIZES}
    assert len(elements) == 1


# ---- the framework ops -----------------------------------------------------------------------------------------------

def _torch():
    return pytest.importorskip("torch")


def _jax():
    jax = pytest.importorskip("jax")
    jax.config.update("jax_enable_x64", True)
    return jax


def _framework_gradient(problem):
    if problem.framework == "torch":
        import torch

        xs = problem.inputs()
        return [g.numpy() for g in torch.autograd.grad(problem.f(*xs), xs)], float(problem.f(*xs).detach())
    import jax

    xs = problem.inputs()
    value, grads = jax.value_and_grad(problem.f, argnums=tuple(range(len(xs))))(*xs)
    return [np.asarray(g) for g in grads], float(value)


def _assert_same(name, got, want, rtol):
    for g, w in zip(got, want, strict=True):
        assert g.shape == w.shape and np.max(np.abs(g - w)) <= rtol * np.max(np.abs(w)), name


@pytest.mark.parametrize("framework", corpus.FRAMEWORKS)
def test_framework_ops_give_the_numpy_backward_through_their_own_autograd(framework):
    (_torch if framework == "torch" else _jax)()
    for name in corpus.NAMES:
        problem = corpus.make(name, framework, 0)
        if framework == "torch":
            import torch

            assert issubclass(problem.op, torch.autograd.Function) and problem.op.__name__ == problem.op_name
        else:
            import jax

            assert isinstance(problem.op, jax.custom_vjp) and problem.op_name == name
        rule = corpus.RULES[name]
        args, data, weights = corpus.point(name, 0)
        grads, value = _framework_gradient(problem)
        _assert_same(name, grads, rule.backward(corpus.NUMPY, data, weights, *args), 1e-13)
        assert abs(value - problem.reference(*args)) <= 1e-13 * max(1.0, abs(value)), name
        for kind, d in (("scale_one", 1e-3), ("scale_all", 1e-3), ("sign_flip", None), ("missing_reduction", None)):
            planted = mutations.plant(name, kind, d, 0)
            if planted is None:
                continue
            wrong, _ = _framework_gradient(mutations.mutate(name, framework, 0, planted))
            _, want = _planted(name, 0, planted)
            _assert_same(f"{name} {kind}", wrong, want, 1e-13)
        wrong, _ = _framework_gradient(mutations.mutate(name, framework, 0, mutations.plant(name, "float32", None, 0)))
        right = rule.backward(corpus.NUMPY, data, weights, *args)
        change = max(np.max(np.abs(w - r)) / np.max(np.abs(r)) for r, w in zip(right, wrong, strict=True))
        assert 1e-10 < change < 1e-5, (name, change)


def _torch_builtin(torch, name, xs, data):
    """torch.nn.functional's op of the same name at the same arguments, where it has one."""
    functional = torch.nn.functional
    builtins = {
        "softplus": lambda x: functional.softplus(x), "log_sigmoid": lambda x: functional.logsigmoid(x),
        "silu": lambda x: functional.silu(x), "gelu_tanh": lambda x: functional.gelu(x, approximate="tanh"),
        "gelu_erf": lambda x: functional.gelu(x), "mish": lambda x: functional.mish(x),
        "logsumexp": lambda x: torch.logsumexp(x, 1), "log_softmax": lambda x: functional.log_softmax(x, 1),
        "softmax_cross_entropy": lambda z: functional.cross_entropy(z, data[0].argmax(1), reduction="none"),
        "normalize": lambda x: functional.normalize(x, dim=1, eps=0.0),
        "cosine_similarity": lambda a, b: functional.cosine_similarity(a, b, dim=1, eps=0.0),
        "layer_norm": lambda x, g, b: functional.layer_norm(x, (x.shape[1],), g, b, eps=corpus.NORM_EPS),
        "batch_norm": lambda x, g, b: functional.batch_norm(x, None, None, g, b, training=True, eps=corpus.NORM_EPS),
        "rms_norm": lambda x, g: functional.rms_norm(x, (x.shape[1],), g, eps=corpus.NORM_EPS),
        "linear": lambda x, w, b: functional.linear(x, w.T, b),
        "attention_scores": lambda q, k: torch.softmax(q @ k.T / q.shape[1] ** 0.5, 1),
        "huber": lambda p, t: functional.huber_loss(p, t, reduction="none", delta=1.0),
        "focal_loss": lambda x: 0.25 * torch.sigmoid(-data[0] * x) ** 2 * -functional.logsigmoid(data[0] * x),
    }
    return builtins[name](*xs) if name in builtins else None


def test_torch_forwards_are_the_ops_they_are_named_after():
    torch = _torch()
    compared = 0
    for name in corpus.NAMES:
        args, data, _ = corpus.point(name, 0)
        xs = tuple(torch.tensor(a) for a in args)
        want = _torch_builtin(torch, name, xs, tuple(torch.tensor(d) for d in data))
        if want is None:
            continue
        got = corpus.RULES[name].forward(corpus.TorchOps(), tuple(torch.tensor(d) for d in data), *xs)
        assert torch.allclose(got, want, rtol=1e-12, atol=1e-14), name
        compared += 1
    assert compared >= 15

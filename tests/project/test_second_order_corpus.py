"""The second-order and complex benchmark corpus is right, checked without the checker.

Every hand-written derivative of benchmarks/second_order_corpus.py is evaluated on object arrays of numbers of
a private 60-digit mpmath context (numpy's object loops call their exp, log1p, tanh, ... methods; np.fft gets an
exact DFT) and compared with mpmath central differences of f itself:

- gradients and Jacobian columns: (f(x + h e) - f(x - h e)) / 2h, h = 1e-18 (error ~1e-36 truncation,
  ~1e-42 round-off);
- Hessians: columns against central differences of the (verified) gradient, and u^T H v against the mixed
  second difference of f, h = 1e-15 (error ~1e-30 either way), which does not use the gradient;
- HVPs against the verified Hessian, and u^T hvp(v) against the same second differences of f;
- complex gradients: df/dx and df/dy by differences along 1 and i, combined per convention; a holomorphic
  derivative also against the difference along i divided by i (Cauchy-Riemann).

Agreement is asked to 1e-24 relative to the largest element: a formula slip of any size above that fails.
The float64 evaluation of each derivative is also asked to agree with its 60-digit evaluation (so a correct
derivative is not a float64 accuracy problem), and each `wrong` complex gradient to differ from the right one.
"""

import math

import benchmark_modules
import mpmath
import numpy as np
import pytest

corpus = benchmark_modules.load("second_order_corpus")

SEEDS = (0, 1)
CTX = mpmath.MPContext()
CTX.dps = 60
H1 = CTX.mpf("1e-18")  # first differences
H2 = CTX.mpf("1e-15")  # second differences
AGREE = 1e-24  # relative to the largest element of the derivative
FLOAT64 = 1e-10  # float64 evaluation against the 60-digit one, relative to the largest element

for _name in ("exp", "log", "log1p", "tanh", "sqrt", "sin", "cos"):  # numpy's object loops call these methods
    _fn = getattr(CTX, _name)
    for _cls in (CTX.mpf, CTX.mpc):
        setattr(_cls, _name, lambda self, fn=_fn: fn(self))


def _mp(a):
    a = np.asarray(a)
    if np.iscomplexobj(a):
        values = [CTX.mpc(complex(v).real, complex(v).imag) for v in a.ravel()]
    else:
        values = [CTX.mpf(float(v)) for v in a.ravel()]
    out = np.empty(len(values), dtype=object)
    out[:] = values
    return out.reshape(a.shape)


def _dft(z, sign):
    n = z.shape[-1]
    twiddle = np.array([[CTX.expjpi(sign * 2 * CTX.mpf(k * m % n) / n) for m in range(n)] for k in range(n)],
                       dtype=object)
    return twiddle @ z


@pytest.fixture(autouse=True)
def exact_fft(monkeypatch):
    """np.fft.fft / ifft on object arrays: the exact DFT at 60 digits (numpy's own would cast to complex128)."""
    fft, ifft = np.fft.fft, np.fft.ifft
    monkeypatch.setattr(np.fft, "fft", lambda z: _dft(z, -1) if np.asarray(z).dtype == object else fft(z))
    monkeypatch.setattr(np.fft, "ifft",
                        lambda z: _dft(z, 1) / z.shape[-1] if np.asarray(z).dtype == object else ifft(z))


def _obj(a):
    return np.asarray(a, dtype=object)


def _close(actual, expected, what, tol=AGREE):
    actual, expected = _obj(actual), _obj(expected)
    assert actual.shape == expected.shape, f"{what}: shape {actual.shape}, expected {expected.shape}"
    scale = max([abs(v) for v in expected.ravel()] + [CTX.mpf(1e-30)])
    worst = max([abs(a - e) for a, e in zip(actual.ravel(), expected.ravel(), strict=True)] + [0])
    assert worst <= tol * scale, f"{what}: off by {mpmath.nstr(worst / scale, 3)} of the largest element"


def _unit(shape, k, dtype=float):
    e = np.zeros(shape, dtype=dtype)
    e.flat[k] = 1
    return e


def _replace(args, a, new):
    return tuple(new if i == a else x for i, x in enumerate(args))


def _diff(f, args, a, direction, h=H1):
    """Central difference of f along `direction` in argument a (the other arguments fixed)."""
    plus = f(*_replace(args, a, args[a] + h * direction))
    minus = f(*_replace(args, a, args[a] - h * direction))
    return (_obj(plus) - _obj(minus)) / (2 * h)


def _second(f, args, u, v):
    """u^T H v by the mixed second difference of f (u, v: one direction per argument)."""
    def at(su, sv):
        return f(*(x + su * H2 * du + sv * H2 * dv for x, du, dv in zip(args, u, v, strict=True)))

    return (at(1, 1) - at(1, -1) - at(-1, 1) + at(-1, -1)) / (4 * H2 * H2)


def _dot(us, vs):
    return sum(np.sum(_obj(u) * _obj(v)) for u, v in zip(us, vs, strict=True))


def _directions(args, seed, count=2):
    rng = np.random.default_rng(seed + 100)
    return [tuple(rng.normal(size=x.shape) for x in args) for _ in range(count)]


def _float64_agrees(float64_value, hp_value, what):
    _close(_obj(np.asarray(float64_value)), hp_value, f"{what} (float64 evaluation)", tol=FLOAT64)


# ---- second order ------------------------------------------------------------------------------------------------

def _hessian_block(problem, hessian, i, j):
    return hessian[i][j] if len(problem.args) > 1 else hessian


def test_the_promised_cases_are_there():
    assert len(corpus.SECOND_ORDER) >= 8 and len(corpus.FORWARD) >= 6 and len(corpus.COMPLEX) >= 5
    assert {"quadratic", "logistic_regression", "softplus_sum", "logsumexp", "rosenbrock", "three_layer_net_w1",
            "gaussian_nll", "springs"} <= set(corpus.SECOND_ORDER)
    assert {"fft_loss", "abs_squared", "least_squares", "phase_loss"} <= set(corpus.COMPLEX)
    assert any(corpus.make_complex(n, 0).holomorphic for n in corpus.COMPLEX)


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("name", corpus.SECOND_ORDER)
def test_gradient_matches_differences_of_f(name, seed):
    problem = corpus.make_second_order(name, seed)
    args = tuple(_mp(x) for x in problem.args)
    grads = problem.grad(*args)
    assert len(grads) == len(args)
    for a, (x, g) in enumerate(zip(args, grads, strict=True)):
        reference = np.array([_diff(problem.f, args, a, _unit(x.shape, k)) for k in range(x.size)], dtype=object)
        _close(_obj(g).ravel(), reference, f"{name}: gradient of argument {a}")
        _float64_agrees(np.asarray(problem.grad(*problem.args)[a]), g, f"{name}: gradient {a}")


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("name", corpus.SECOND_ORDER)
def test_hessian_matches_differences_of_the_gradient_and_second_differences_of_f(name, seed):
    problem = corpus.make_second_order(name, seed)
    args = tuple(_mp(x) for x in problem.args)
    hessian = problem.hessian(*args)
    for i, xi in enumerate(args):
        for j, xj in enumerate(args):
            block = _obj(_hessian_block(problem, hessian, i, j))
            assert block.shape == xi.shape + xj.shape, f"{name}: H[{i}][{j}] shape {block.shape}"
            columns = [_diff(lambda *xs, i=i: problem.grad(*xs)[i], args, j, _unit(xj.shape, k))
                       for k in range(xj.size)]
            _close(block.reshape(xi.size, xj.size).T, np.array([c.ravel() for c in columns]),
                   f"{name}: Hessian block [{i}][{j}]")
            transposed = _obj(_hessian_block(problem, hessian, j, i)).reshape(xj.size, xi.size).T
            _close(block.reshape(xi.size, xj.size), transposed, f"{name}: Hessian symmetry [{i}][{j}]")
            float64_block = _hessian_block(problem, problem.hessian(*problem.args), i, j)
            _float64_agrees(np.asarray(float64_block), block, f"{name}: Hessian [{i}][{j}]")
    for u, v in zip(_directions(args, seed), _directions(args, seed + 7), strict=True):
        flat = sum(_dot(u[i:i + 1], [np.tensordot(_obj(_hessian_block(problem, hessian, i, j)), _obj(v[j]),
                                                  axes=v[j].ndim)])
                   for i in range(len(args)) for j in range(len(args)))
        _close(flat, _second(problem.f, args, u, v), f"{name}: u^T H v against f", tol=1e-20)


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("name", corpus.SECOND_ORDER)
def test_hvp_matches_the_hessian_and_second_differences_of_f(name, seed):
    problem = corpus.make_second_order(name, seed)
    args = tuple(_mp(x) for x in problem.args)
    hessian = problem.hessian(*args)
    for u, v in zip(_directions(args, seed), _directions(args, seed + 3), strict=True):
        products = problem.hvp(tuple(_mp(d) for d in v), *args)
        assert len(products) == len(args)
        for i, product in enumerate(products):
            expected = sum(np.tensordot(_obj(_hessian_block(problem, hessian, i, j)), _obj(v[j]), axes=v[j].ndim)
                           for j in range(len(args)))
            _close(product, expected, f"{name}: HVP component {i} against the Hessian")
            float64_product = problem.hvp(v, *problem.args)[i]
            _float64_agrees(np.asarray(float64_product), product, f"{name}: HVP {i}")
        _close(_dot(u, products), _second(problem.f, args, u, v), f"{name}: u^T hvp(v) against f", tol=1e-20)


# ---- forward mode ------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("name", corpus.FORWARD)
def test_jvp_and_vjp_match_the_jacobian_of_differences(name, seed):
    problem = corpus.make_forward(name, seed)
    args = tuple(_mp(x) for x in problem.args)
    out = _obj(problem.f(*args))
    assert out.shape == np.shape(problem.f(*problem.args))
    columns = [[_diff(problem.f, args, a, _unit(x.shape, k)) for k in range(x.size)] for a, x in enumerate(args)]
    for t in _directions(args, seed, 3):
        expected = sum(sum(col * float(t[a].flat[k]) for k, col in enumerate(columns[a])) for a in range(len(args)))
        tangent = problem.jvp(tuple(_mp(d) for d in t), *args)
        _close(tangent, expected, f"{name}: JVP")
        _float64_agrees(np.asarray(problem.jvp(t, *problem.args)), tangent, f"{name}: JVP")
    rng = np.random.default_rng(seed + 50)
    for _ in range(2):
        u = rng.normal(size=out.shape)
        cotangents = problem.vjp(_mp(u), *args)
        assert len(cotangents) == len(args)
        for a, x in enumerate(args):
            expected = np.array([np.sum(col * _obj(u)) for col in columns[a]], dtype=object).reshape(x.shape)
            _close(cotangents[a], expected, f"{name}: VJP of argument {a}")
            _float64_agrees(np.asarray(problem.vjp(u, *problem.args)[a]), cotangents[a], f"{name}: VJP {a}")


# ---- complex -----------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("name", corpus.COMPLEX)
def test_complex_gradients_match_differences_along_1_and_i(name, seed):
    problem = corpus.make_complex(name, seed)
    args = tuple(_mp(x) for x in problem.args)
    value = problem.f(*args)
    assert isinstance(value, CTX.mpc if problem.holomorphic else CTX.mpf), f"{name}: f's value {value!r}"
    for a, x in enumerate(args):
        along_1 = np.array([_diff(problem.f, args, a, _unit(x.shape, k, complex)) for k in range(x.size)], object)
        along_i = np.array([_diff(problem.f, args, a, 1j * _unit(x.shape, k, complex)) for k in range(x.size)],
                           object)
        if problem.holomorphic:
            expected = {"holomorphic": along_1}
            _close(along_i / 1j, along_1, f"{name}: Cauchy-Riemann (is f holomorphic?)", tol=1e-20)
        else:
            assert all(abs(CTX.im(v)) < 1e-40 for v in list(along_1) + list(along_i)), f"{name}: f is not real"
            expected = {"torch": along_1 + 1j * along_i, "jax": along_1 - 1j * along_i}
        assert set(problem.grads) == set(expected)
        for convention, grad in problem.grads.items():
            hp = grad(*args)[a]
            _close(_obj(hp).ravel(), expected[convention], f"{name}: {convention} gradient")
            _float64_agrees(np.asarray(grad(*problem.args)[a]), hp, f"{name}: {convention} gradient")
            mistaken, wrong = problem.wrong[convention]
            assert mistaken in corpus.CONVENTIONS and mistaken != convention
            off = np.abs(np.asarray(wrong(*problem.args)[a]) - np.asarray(grad(*problem.args)[a]))
            assert off.max() > 1e-3 * np.abs(np.asarray(grad(*problem.args)[a])).max(), f"{name}: {mistaken}"


# ---- the torch twins ---------------------------------------------------------------------------------------------

def _all_problems():
    return ([corpus.make_second_order(n, 0) for n in corpus.SECOND_ORDER]
            + [corpus.make_forward(n, 0) for n in corpus.FORWARD] + [corpus.make_complex(n, 0) for n in corpus.COMPLEX])


def test_every_case_has_a_torch_twin_and_it_computes_f():
    problems = _all_problems()
    assert all(p.torch_f is not None for p in problems)
    torch = pytest.importorskip("torch", reason="torch is optional: the benchmark venv has it")
    for p in problems:
        value = p.torch_f(torch)(*(torch.as_tensor(a) for a in p.args))
        np.testing.assert_allclose(value.detach().numpy(), p.f(*p.args), rtol=1e-12, atol=1e-14, err_msg=p.name)


def test_the_tolerances_would_see_a_planted_error():
    """The comparison is sharp: a gradient off by 1e-20 relative in one element fails it."""
    problem = corpus.make_second_order("logistic_regression", 0)
    args = tuple(_mp(x) for x in problem.args)
    g = _obj(problem.grad(*args)[0]).copy()
    reference = np.array([_diff(problem.f, args, 0, _unit(g.shape, k)) for k in range(g.size)], dtype=object)
    _close(g, reference, "correct")
    g[1] = g[1] * (1 + CTX.mpf("1e-20"))
    with pytest.raises(AssertionError, match="off by"):
        _close(g, reference, "planted")
    assert math.isclose(float(abs(reference[1])), abs(problem.grad(*problem.args)[0][1]), rel_tol=1e-12)

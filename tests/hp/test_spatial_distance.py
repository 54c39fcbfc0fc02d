"""scipy.spatial.distance's pdist, cdist and squareform at high precision: against mpmath computed
independently, against scipy in float64, and in checks."""

import re

import mpmath
import numpy as np
import pytest

from pytest_gradcheck import check_grad
from pytest_gradcheck.hp import install as hp_twins
from pytest_gradcheck.hp import precision
from pytest_gradcheck.hp.array import HPArray

distance = pytest.importorskip("scipy.spatial.distance")

REF = mpmath.MPContext()
REF.dps = 60

X = np.array([[0.3, -1.2, 0.5], [1.1, 0.4, -0.7], [-0.6, 0.9, 1.3], [0.2, 0.1, -0.4]])
Y = np.array([[0.5, 0.5, 0.5], [-1.0, 0.25, 2.0]])


@pytest.fixture
def ctx():
    return precision.context(40)


def reference(metric, u, v, p=2):
    """The distance of two float rows, written from the definitions at 60 digits."""
    u, v = [REF.mpf(a) for a in u], [REF.mpf(b) for b in v]
    d = [abs(a - b) for a, b in zip(u, v, strict=True)]
    if metric == "euclidean":
        return REF.sqrt(REF.fsum(e ** 2 for e in d))
    if metric == "sqeuclidean":
        return REF.fsum(e ** 2 for e in d)
    if metric == "cityblock":
        return REF.fsum(d)
    if metric == "chebyshev" or p == np.inf:
        return max(d)
    if metric == "minkowski":
        return REF.fsum(e ** p for e in d) ** (REF.mpf(1) / p)
    dot = REF.fsum(a * b for a, b in zip(u, v, strict=True))
    return 1 - dot / REF.sqrt(REF.fsum(a ** 2 for a in u) * REF.fsum(b ** 2 for b in v))


def assert_matches(out, expected, digits=36):
    for got, want in zip(np.ravel(out).tolist(), np.ravel(expected).tolist(), strict=True):
        assert abs(REF.mpf(got) - want) <= max(abs(want), 1) * REF.mpf(10) ** -digits, (got, want)


METRICS = [("euclidean", {}), ("sqeuclidean", {}), ("cityblock", {}), ("chebyshev", {}), ("cosine", {}),
           ("minkowski", {"p": 3}), ("minkowski", {"p": 1.5}), ("minkowski", {"p": np.inf})]


@pytest.mark.parametrize(("metric", "kwargs"), METRICS)
def test_pdist_matches_mpmath_and_scipy(ctx, metric, kwargs):
    with hp_twins.patched():
        out = distance.pdist(precision.to_hp(X, ctx), metric, **kwargs)
    assert isinstance(out, HPArray) and all(type(e) is ctx.mpf for e in out.tolist())
    pairs = [(i, j) for i in range(len(X)) for j in range(i + 1, len(X))]
    assert_matches(out, [reference(metric, X[i], X[j], kwargs.get("p", 2)) for i, j in pairs])
    assert np.allclose([float(e) for e in out], distance.pdist(X, metric, **kwargs), rtol=1e-14, atol=0)


@pytest.mark.parametrize(("metric", "kwargs"), METRICS)
def test_cdist_matches_mpmath_and_scipy_with_a_float_operand_taken_exactly(ctx, metric, kwargs):
    with hp_twins.patched():
        out = distance.cdist(precision.to_hp(X, ctx), Y, metric, **kwargs)
    assert out.shape == (4, 2)
    assert_matches(out, [[reference(metric, u, v, kwargs.get("p", 2)) for v in Y] for u in X])
    assert np.allclose([[float(e) for e in row] for row in out], distance.cdist(X, Y, metric, **kwargs),
                       rtol=1e-14, atol=0)


def test_squareform_both_ways_matches_scipy_and_keeps_the_numbers(ctx):
    v = precision.to_hp(np.array([1.0, 2.0, 3.0]), ctx) / 3  # not float64 numbers
    with hp_twins.patched():
        m = distance.squareform(v)
        back = distance.squareform(m)
        assert distance.squareform(precision.to_hp(np.zeros(0), ctx)).shape == (1, 1)
    expected = distance.squareform(np.array([1.0, 2.0, 3.0]))
    assert np.array_equal(np.array([[float(e * 3) for e in row] for row in m]), expected)
    assert back.tolist() == v.tolist() and isinstance(m, HPArray)


@pytest.mark.parametrize(("call", "message"), [
    (lambda x: distance.squareform(x[0, :2]), "Incompatible vector size"),
    (lambda x: distance.squareform(x[:3]), "must be symmetric"),
    (lambda x: distance.squareform(x[:3] + x[:3].T), "diagonal must be zero"),
    (lambda x: distance.squareform(x), "must be square"),
    (lambda x: distance.pdist(x[0]), "2-dimensional"),
    (lambda x: distance.cdist(x, x[:, :2]), "same number of columns"),
    (lambda x: distance.squareform(x[0], force="tovector"), "not a distance matrix"),
])  # fmt: skip
def test_invalid_input_raises_scipys_error_at_both_precisions(ctx, call, message):
    with pytest.raises(ValueError, match=message):
        call(X)
    with hp_twins.patched(), pytest.raises(ValueError, match=message):
        call(precision.to_hp(X, ctx))


def test_other_metrics_weights_and_bad_p_name_the_function_and_fall_back(ctx):
    hx = precision.to_hp(X, ctx)
    with hp_twins.patched():
        for kwargs, what in [({"metric": "correlation"}, "metric 'correlation'"),
                             ({"metric": "minkowski", "w": np.ones(3)}, "with ['w']"),
                             ({"metric": "minkowski", "p": 0}, "minkowski with p=0")]:
            with pytest.raises(NotImplementedError, match=re.escape(what)) as info:
                distance.pdist(hx, **kwargs)
            assert info.value.hp_function == "scipy.spatial.distance.pdist"
    result = check_grad(lambda x: np.sum(distance.pdist(x, "correlation")), X,
                        grad=lambda x: np.ones_like(x), raise_on_mismatch=False)
    assert not result.high_precision
    assert result.precision_note.startswith("reference limited to float64 by scipy.spatial.distance.pdist, "
                                            "which raised NotImplementedError: metric 'correlation'")


def test_a_callable_metric_runs_on_high_precision_rows(ctx):
    seen = []

    def metric(u, v):
        seen.append(type(u))
        return np.sqrt(np.sum((u - v) ** 2))

    with hp_twins.patched():
        out = distance.cdist(precision.to_hp(X, ctx), Y, metric)
    assert set(seen) == {HPArray}
    assert_matches(out, [[reference("euclidean", u, v) for v in Y] for u in X])


def _rbf_gradient(x):
    diff = x[:, None, :] - x[None, :, :]
    return -4 * np.sum(np.exp(-np.sum(diff ** 2, -1))[:, :, None] * diff, axis=1)


def test_an_rbf_kernel_through_pdist_and_squareform_is_checked_at_high_precision():
    def f(x):
        return np.sum(np.exp(-distance.squareform(distance.pdist(x, "sqeuclidean"))))

    result = check_grad(f, X, grad=_rbf_gradient)
    assert result.status == "pass" and result.high_precision

    def wrong(x):
        g = _rbf_gradient(x)
        g[2, 1] *= -1
        return g

    bad = check_grad(f, X, grad=wrong, raise_on_mismatch=False)
    assert bad.status == "formula_error" and bad.high_precision
    assert [m.index for m in bad.mismatches] == [(2, 1)]


SQUAREFORM_BY_NAME = """
import gc, sys
import numpy as np
from scipy.spatial.distance import squareform  # imported by name: the patched twin cannot replace it here
from pytest_gradcheck import check_grad

i, j = np.triu_indices(12, 1)

def f(x):  # both kernels: vector -> matrix -> vector; 3 sum(s^2) for the pairs' squared distances s
    X = x.reshape(12, 2)
    d = X[i] - X[j]
    M = squareform(np.sum(d * d, axis=1))
    return np.sum(M * M) + np.sum(squareform(M) ** 2)

def grad(x):
    X = x.reshape(12, 2)
    d = X[i] - X[j]
    g = (6 * np.sum(d * d, axis=1))[:, None] * 2 * d
    out = np.zeros_like(X)
    np.add.at(out, i, g)
    np.add.at(out, j, -g)
    return (out.ravel(),)

x = np.random.default_rng(0).normal(size=24)
result = check_grad(f, (x,), grad=grad, per_op="off", raise_on_mismatch=False)
gc.collect()
print(result.status, result.high_precision)
"""


def test_squareform_imported_by_name_runs_at_high_precision_without_corrupting_memory():
    """scipy's compiled squareform kernels copy object pointers without reference counts: on the checker's
    arrays they crashed the interpreter at the next garbage collection. Run in a child process, which such a
    crash kills (the code without the kernels' twins exits with SIGSEGV here)."""
    import subprocess
    import sys

    done = subprocess.run([sys.executable, "-c", SQUAREFORM_BY_NAME], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split()[-2:] == ["pass", "True"], done.stdout


def test_pdist_imported_by_name_runs_at_high_precision():
    """Library code imports pdist by name (`from scipy.spatial.distance import pdist`): the patched module
    attribute is not what it calls, but scipy's pdist hands its input to a kernel it looks up on the module."""
    if not hasattr(distance, "_np_pdist"):
        pytest.skip("this scipy's pdist has no module-level kernel to reach")
    pdist_by_name = distance.pdist
    i, j = np.triu_indices(len(X), 1)

    def f(x):
        return np.sum(np.exp(-pdist_by_name(x.reshape(X.shape), "sqeuclidean")))

    def grad(x):
        d = x.reshape(X.shape)[i] - x.reshape(X.shape)[j]
        e = -np.exp(-np.sum(d * d, axis=1))[:, None] * 2 * d
        out = np.zeros(X.shape)
        np.add.at(out, i, e)
        np.add.at(out, j, -e)
        return (out.ravel(),)

    result = check_grad(f, (X.ravel(),), grad=grad, per_op="off")
    assert result.high_precision and result.status == "pass", result.precision_note

    def wrong(x):
        (g,) = grad(x)
        return (g * np.where(np.arange(g.size) == 4, -1.0, 1.0),)

    failed = check_grad(f, (X.ravel(),), grad=wrong, per_op="off", raise_on_mismatch=False)
    assert failed.high_precision and failed.status == "formula_error"
    assert [m.index for m in failed.mismatches] == [(4,)]

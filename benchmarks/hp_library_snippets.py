"""Library-style functions (validation casts, finfo, dtype checks, scipy.spatial.distance) with correct
gradients, and one planted bug each (element 1 sign-flipped): the share of checks at high precision and the
verdicts. Run: .venv/bin/python benchmarks/hp_library_snippets.py (figures in docs/high-precision.md)."""
import numpy as np
import scipy.special
from scipy.spatial import distance

from pytest_gradcheck import check_grad

rng = np.random.default_rng(0)
A = rng.standard_normal((6, 3))
yb = (rng.random(6) > 0.5).astype(float)
yc = rng.poisson(2.0, 6).astype(float)
W0 = rng.standard_normal(3) * 0.5
P = rng.integers(1, 8, (5, 5)).astype(float)  # integer weights: their sums are exact in float64
P = P + P.T
np.fill_diagonal(P, 0)
Y0 = rng.standard_normal((5, 2))

def check_array(x):  # sklearn-style validation
    x = np.asarray(x, dtype=np.float64, order="C")
    if not np.issubdtype(x.dtype, np.floating) or not np.isfinite(x).all():
        raise ValueError("bad input")
    return x

def logistic(w):
    w = check_array(w)
    z = A @ w
    return np.sum(np.logaddexp(0, z) - yb * z)
def logistic_g(w):
    return A.T @ (scipy.special.expit(A @ w) - yb)

def logloss(w):
    eps = np.finfo(w.dtype).eps
    p = np.clip(scipy.special.expit(A @ w.astype(float)), eps, 1 - eps)
    return -np.sum(yb * np.log(p) + (1 - yb) * np.log(1 - p))
def logloss_g(w):
    return A.T @ (scipy.special.expit(A @ w) - yb)

def huber(w, delta=1.0):
    r = np.array(A @ w, dtype=float) - yc
    a = np.abs(r)
    return np.sum(np.where(a <= delta, 0.5 * r * r, delta * (a - 0.5 * delta)))
def huber_g(w, delta=1.0):
    r = A @ w - yc
    return A.T @ np.clip(r, -delta, delta)

def poisson(w):
    w = np.require(w, dtype=float, requirements="C")
    mu = np.exp(A @ w)
    tiny = np.finfo(mu.dtype).tiny
    return np.sum(mu - yc * np.log(mu + tiny))
def poisson_g(w):
    mu = np.exp(A @ w)
    return A.T @ (mu - yc * mu / (mu + np.finfo(float).tiny))

def ridge(w):
    w = np.atleast_1d(np.ascontiguousarray(w, dtype=np.float64))
    return 0.5 * np.sum((A @ w - yc) ** 2) + 0.1 * np.sum(w * w)
def ridge_g(w):
    return A.T @ (A @ w - yc) + 0.2 * w

def rbf(x):
    x = np.asarray_chkfinite(x, dtype=float)
    return np.sum(np.exp(-0.5 * distance.squareform(distance.pdist(x, "sqeuclidean"))))
def rbf_g(x):
    diff = x[:, None, :] - x[None, :, :]
    return -2 * np.sum(np.exp(-0.5 * np.sum(diff ** 2, -1))[:, :, None] * diff, axis=1)

def matern(x):
    d = distance.cdist(x, A[:2], "euclidean")
    s = np.sqrt(3) * d
    return np.sum((1 + s) * np.exp(-s))
def matern_g(x):
    diff = x[:, None, :] - A[None, :2, :]
    d = np.sqrt(np.sum(diff ** 2, -1))
    return np.sum((-3 * np.exp(-np.sqrt(3) * d))[:, :, None] * diff, axis=1)

def tsne(y):
    d = distance.squareform(distance.pdist(y, "sqeuclidean"))
    num = 1 / (1 + d)
    np.fill_diagonal(num, 0)
    q = num / np.sum(num)
    mask = P > 0
    return np.sum(P[mask] * np.log(P[mask] / q[mask]))
def tsne_g(y):
    diff = y[:, None, :] - y[None, :, :]
    num = 1 / (1 + np.sum(diff ** 2, -1))
    np.fill_diagonal(num, 0)
    q = num / np.sum(num)
    return 4 * np.sum(((P - np.sum(P) * q) * num)[:, :, None] * diff, axis=1)

def cosine(x):
    return np.sum(distance.cdist(x, A[:2], "cosine"))
def cosine_g(x):
    b = A[:2]
    nx = np.linalg.norm(x, axis=1)[:, None]
    nb = np.linalg.norm(b, axis=1)[None, :]
    dots = x @ b.T
    g = -(b[None, :, :] / (nx * nb)[:, :, None]) + (dots / (nx ** 3 * nb))[:, :, None] * x[:, None, :]
    return np.sum(g, axis=1)

def minkowski(x):
    return np.sum(distance.pdist(x, "minkowski", p=3))
def minkowski_g(x):
    diff = x[:, None, :] - x[None, :, :]
    d = np.sum(np.abs(diff) ** 3, -1) ** (1 / 3)
    np.fill_diagonal(d, 1.0)
    return np.sum(np.abs(diff) ** 2 * np.sign(diff) / d[:, :, None] ** 2, axis=1)

def softplus_branch(x):
    low, high = (-37.0, 33.3) if x.dtype == np.float64 else (-17.0, 9.0)
    return np.sum(np.where(x < low, np.exp(x), np.where(x > high, x, np.log1p(np.exp(np.minimum(x, high))))))
def softplus_g(x):
    return scipy.special.expit(x)

def ellip(m):  # a compiled call without a twin
    return np.sum(scipy.special.ellipk(m))
def ellip_g(m):
    return (scipy.special.ellipe(m) - (1 - m) * scipy.special.ellipk(m)) / (2 * m * (1 - m))

X3 = rng.standard_normal((4, 3))
CASES = [("logistic (check_array)", logistic, logistic_g, W0), ("logloss (finfo, astype)", logloss, logloss_g, W0),
         ("huber (np.array dtype=float)", huber, huber_g, W0),
         ("poisson (require, finfo.tiny)", poisson, poisson_g, W0),
         ("ridge (ascontiguousarray)", ridge, ridge_g, W0), ("rbf (pdist, squareform)", rbf, rbf_g, X3),
         ("matern (cdist)", matern, matern_g, X3), ("t-SNE KL (pdist)", tsne, tsne_g, Y0),
         ("cosine (cdist)", cosine, cosine_g, X3), ("minkowski p=3 (pdist)", minkowski, minkowski_g, X3),
         ("softplus dtype branch", softplus_branch, softplus_g, np.array([-20.0, -1.0, 0.5, 10.0, 20.0])),
         ("ellipk (compiled)", ellip, ellip_g, np.array([0.2, 0.6]))]

def planted(g):
    def bad(x):
        out = np.array(g(x), dtype=float)
        out.flat[1] *= -1
        return out
    return bad


def main() -> None:
    hp = fp = caught = 0
    for name, f, g, x in CASES:
        r = check_grad(f, x, grad=g, raise_on_mismatch=False, per_op="off")
        b = check_grad(f, x, grad=planted(g), raise_on_mismatch=False, per_op="off")
        hp += r.high_precision
        fp += r.status not in ("pass", "float64_accuracy")
        caught += b.status == "formula_error"
        where = "HP " if r.high_precision else "f64"
        print(f"{name:32s} {where} {r.status:15s} bug: {b.status:14s} {r.precision_note[:70]}")
    n = len(CASES)
    print(f"high precision: {hp}/{n} ({100 * hp / n:.0f}%); false positives {fp}; bugs caught {caught}/{n}")


if __name__ == "__main__":
    main()

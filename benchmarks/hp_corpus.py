"""An external corpus of numpy/scipy calls with known gradients, for measuring high-precision coverage.

Where the list comes from: every function that autograd (github.com/HIPS/autograd) gives a gradient, read
from its gradient definitions (``defvjp``/``defvjp_argnum``, and ``defvjp(f, None)`` for a zero gradient):

- ``autograd/numpy/numpy_vjps.py``: ufuncs, shape functions, reductions, products, ``astype``, indexing;
  plus the list-input functions ``autograd/numpy/numpy_wrapper.py`` rebuilds from its differentiable
  ``concatenate_args``/``array_from_args`` primitives (``stack``, ``hstack``, ``vstack``, ``column_stack``,
  ``append``, ``array``, ``select``, ``r_``, ``c_``);
- ``autograd/numpy/linalg.py`` (det, slogdet, inv, pinv, solve, norm, eigh, eig, cholesky, svd);
- ``autograd/numpy/fft.py`` (the 12 transforms, fftshift, ifftshift);
- ``autograd/scipy/special.py``, ``autograd/scipy/stats/{norm,t,multivariate_normal,dirichlet,beta,gamma,
  chi2,poisson}.py``, ``autograd/scipy/linalg.py`` (sqrtm, solve_triangular, solve_banded,
  solve_sylvester), ``autograd/scipy/signal.py`` (convolve), ``autograd/scipy/integrate.py`` (odeint).

Left out: the functions autograd registers as *not traced* (``floor``, ``sign``, ``argmax``, comparisons:
no gradient defined); ``msort`` and ``row_stack`` (gone from numpy 2); ``scipy.misc.logsumexp`` (gone from
scipy: the same function is ``scipy.special.logsumexp``, which is in); ``make_diagonal`` (autograd's own);
``dirichlet.rvs`` (random sampling). autograd's ``signal.convolve`` has its own signature; the corpus calls
``scipy.signal.convolve``, its public counterpart.

Each `Call` is plain user code, written as a lambda (its source is kept, for the reports): float64 arrays
of small shapes in, a real scalar or real array out. Complex-valued functions (``np.fft.fft``, ``np.conj``,
``np.linalg.eig``) are wrapped the way a loss would (``np.abs(...) ** 2``, ``np.real``); results that are
defined only up to sign or order (eigenvectors, singular vectors) are made unique (squared, sorted).
Arguments are drawn in the function's domain (`Arg`), from a generator seeded by the call's id.
Non-differentiated parameters (a Bessel order, a t distribution's df) are constants inside the lambda.

The corpus: 209 functions, 255 calls (`FUNCTIONS`, `CALLS`).
"""

from __future__ import annotations

import linecache
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import scipy.integrate
import scipy.linalg
import scipy.signal
import scipy.special
import scipy.stats

__all__ = ["CALLS", "DOMAINS", "FUNCTIONS", "MODULES", "Arg", "Call", "module_of"]

# Public modules, most specific first: a function's module is the first that prefixes its name.
MODULES = ("numpy.linalg", "numpy.fft", "scipy.special", "scipy.stats", "scipy.linalg", "scipy.signal",
           "scipy.integrate", "numpy")


def module_of(function: str) -> str:
    """The public module a dotted function name belongs to ("scipy.stats.norm.pdf" -> "scipy.stats")."""
    for module in MODULES:
        if function.startswith(module + "."):
            return module
    raise ValueError(f"function: expected a name under one of {MODULES}, got {function!r}")


def _square(rng: np.random.Generator, n: int) -> np.ndarray:
    return 2.0 * np.eye(n) + rng.uniform(-0.5, 0.5, (n, n))  # diagonally dominant: well conditioned


def _spd(rng: np.random.Generator, n: int) -> np.ndarray:
    b = rng.uniform(-1.0, 1.0, (n, n))
    return b @ b.T + n * np.eye(n)


def _orthogonal(rng: np.random.Generator, n: int) -> np.ndarray:
    q, _ = np.linalg.qr(rng.uniform(-1.0, 1.0, (n, n)))
    return q


def _symmetric(rng: np.random.Generator, n: int) -> np.ndarray:
    """Eigenvalues near -1, 0.5, 2, ...: well separated, so eigenvectors are well defined."""
    q = _orthogonal(rng, n)
    s = q @ np.diag(np.linspace(-1.0, 2.0 + 1.5 * (n - 3), n)) @ q.T
    return (s + s.T) / 2


def _real_eigenvalues(rng: np.random.Generator, n: int) -> np.ndarray:
    """A nonsymmetric matrix with real, well-separated eigenvalues (near 1, 2, 3.5, ...)."""
    s = np.eye(n) + 0.3 * rng.uniform(-1.0, 1.0, (n, n))
    return s @ np.diag(1.0 + 1.25 * np.arange(n)) @ np.linalg.inv(s)


def _matrix(build: Callable[[np.random.Generator, int], np.ndarray]) -> Callable[..., np.ndarray]:
    def draw(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
        if len(shape) != 2 or shape[0] != shape[1]:
            raise ValueError(f"shape: a square matrix domain needs (n, n), got {shape}")
        return build(rng, shape[0])

    return draw


def _banded(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    """scipy's banded storage of a tridiagonal, diagonally dominant matrix: rows (upper, diagonal, lower)."""
    ab = rng.uniform(-1.0, 1.0, shape)
    ab[1] = rng.uniform(3.0, 4.0, shape[1])
    return ab


def _simplex(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    p = rng.uniform(0.5, 1.5, shape)
    return p / p.sum()


DOMAINS: dict[str, Callable[[np.random.Generator, tuple[int, ...]], np.ndarray]] = {
    "real": lambda rng, shape: rng.uniform(-0.9, 0.9, shape),  # inside arcsin's, arctanh's, erfinv's domain
    "positive": lambda rng, shape: rng.uniform(0.5, 2.0, shape),
    "unit": lambda rng, shape: rng.uniform(0.1, 0.9, shape),  # probabilities, logit, betainc's x
    "above1": lambda rng, shape: rng.uniform(1.2, 3.0, shape),  # arccosh, multigammaln
    "square": _matrix(_square),
    "spd": _matrix(_spd),
    "symmetric": _matrix(_symmetric),
    "real-eigenvalues": _matrix(_real_eigenvalues),
    "lower": _matrix(lambda rng, n: np.tril(_square(rng, n))),
    "banded": _banded,
    "simplex": _simplex,
}


@dataclass(frozen=True)
class Arg:
    """One float64 argument: its shape and the domain it is drawn from (a key of `DOMAINS`)."""

    shape: tuple[int, ...]
    domain: str = "real"

    def __post_init__(self) -> None:
        if self.domain not in DOMAINS:
            raise ValueError(f"domain: expected one of {sorted(DOMAINS)}, got {self.domain!r}")

    def describe(self) -> str:
        return f"{self.shape} {self.domain}"


_NAMESPACE = {"np": np, "scipy": scipy}


@dataclass(frozen=True)
class Call:
    """One call of the corpus: `source` is a lambda taking the float64 `args`, returning a real result.

    `constant`: the result legitimately does not change when the inputs change below float64's resolution
    (``scipy.special.gammasgn`` gives signs); every other call must respond to such a change.
    """

    id: str
    function: str
    source: str
    args: tuple[Arg, ...]
    constant: bool = False
    f: Callable[..., Any] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        module_of(self.function)  # a known public module, or a clear error
        filename = f"<hp_corpus {self.id}>"
        linecache.cache[filename] = (len(self.source), None, [self.source + "\n"], filename)  # tracebacks quote it
        f = eval(compile(self.source, filename, "eval"), dict(_NAMESPACE))  # the corpus's own lambda text
        if not callable(f):
            raise TypeError(f"source: expected a lambda, got {self.source!r}")
        object.__setattr__(self, "f", f)

    @property
    def module(self) -> str:
        return module_of(self.function)

    def inputs(self) -> tuple[np.ndarray, ...]:
        """The float64 arguments, drawn from a generator seeded by the call's id (stable across runs)."""
        rng = np.random.default_rng(zlib.crc32(self.id.encode()))
        return tuple(np.asarray(DOMAINS[a.domain](rng, a.shape), dtype=np.float64) for a in self.args)


def _a(*shape: int, domain: str = "real") -> Arg:
    return Arg(tuple(shape), domain)


V = _a(4)  # a real vector
P = _a(4, domain="positive")
U = _a(4, domain="unit")
S = _a()  # a real 0-d array (a scalar argument)
M = _a(3, 3)  # a real matrix
SQ = _a(3, 3, domain="square")
SPD = _a(3, 3, domain="spd")
SYM = _a(3, 3, domain="symmetric")

_CALLS: list[Call] = []


def _call(id: str, function: str, source: str, *args: Arg, constant: bool = False) -> None:
    _CALLS.append(Call(id, function, source, args, constant))


# ----- numpy: binary ufuncs -----
_call("add", "numpy.add", "lambda x, y: np.add(x, y)", V, V)
_call("add-operator-broadcast", "numpy.add", "lambda a, y: a + y", _a(3, 1), _a(3))
_call("multiply", "numpy.multiply", "lambda x, y: np.multiply(x, y)", V, V)
_call("multiply-operator-scalar", "numpy.multiply", "lambda x: 2.5 * x", V)
_call("subtract", "numpy.subtract", "lambda x, y: np.subtract(x, y)", V, V)
_call("subtract-operator", "numpy.subtract", "lambda x, y: x - y", V, V)
_call("divide", "numpy.divide", "lambda x, y: np.divide(x, y)", V, P)
_call("divide-operator", "numpy.divide", "lambda x, y: x / y", V, P)
_call("true_divide", "numpy.true_divide", "lambda x, y: np.true_divide(x, y)", V, P)
_call("maximum", "numpy.maximum", "lambda x, y: np.maximum(x, y)", V, V)
_call("maximum-relu", "numpy.maximum", "lambda x: np.maximum(x, 0.0)", V)
_call("minimum", "numpy.minimum", "lambda x, y: np.minimum(x, y)", V, V)
_call("fmax", "numpy.fmax", "lambda x, y: np.fmax(x, y)", V, V)
_call("fmin", "numpy.fmin", "lambda x, y: np.fmin(x, y)", V, V)
_call("logaddexp", "numpy.logaddexp", "lambda x, y: np.logaddexp(x, y)", V, V)
_call("logaddexp-softplus", "numpy.logaddexp", "lambda x: np.sum(np.logaddexp(0.0, x))", V)
_call("logaddexp2", "numpy.logaddexp2", "lambda x, y: np.logaddexp2(x, y)", V, V)
_call("mod", "numpy.mod", "lambda x, y: np.mod(x, y)", P, _a(4, domain="unit"))
_call("remainder", "numpy.remainder", "lambda x, y: np.remainder(x, y)", P, _a(4, domain="unit"))
_call("power", "numpy.power", "lambda x, y: np.power(x, y)", P, V)
_call("power-operator-int", "numpy.power", "lambda x: x ** 3", V)
_call("power-operator-half", "numpy.power", "lambda x: x ** 0.5", P)
_call("arctan2", "numpy.arctan2", "lambda y, x: np.arctan2(y, x)", V, V)
_call("hypot", "numpy.hypot", "lambda x, y: np.hypot(x, y)", V, V)

# ----- numpy: unary ufuncs -----
_UNARY = {
    "negative": V, "abs": V, "fabs": V, "reciprocal": P, "exp": V, "exp2": V, "expm1": V, "log": P,
    "log2": P, "log10": P, "log1p": V, "sin": V, "cos": V, "tan": V, "arcsin": V, "arccos": V, "arctan": V,
    "sinh": V, "cosh": V, "tanh": V, "arcsinh": V, "arccosh": _a(4, domain="above1"), "arctanh": V,
    "rad2deg": V, "degrees": V, "deg2rad": V, "radians": V, "square": V, "sqrt": P, "sinc": V,
}  # fmt: skip
for _name, _arg in _UNARY.items():
    _call(_name, f"numpy.{_name}", f"lambda x: np.{_name}(x)", _arg)
_call("abs-builtin", "numpy.abs", "lambda x: abs(x)", V)
_call("negative-operator", "numpy.negative", "lambda x: -x", V)
_call("exp-matrix", "numpy.exp", "lambda a: np.exp(a)", M)
_call("sqrt-of-sum", "numpy.sqrt", "lambda x: np.sqrt(np.sum(x ** 2))", V)
_call("absolute-complex", "numpy.absolute", "lambda x, y: np.absolute(x + 1j * y)", V, V)
_call("nan_to_num", "numpy.nan_to_num", "lambda x: np.nan_to_num(x)", V)

# ----- numpy: complex parts -----
_call("real", "numpy.real", "lambda x, y: np.real((x + 1j * y) * (x - 2j * y))", V, V)
_call("real-of-real", "numpy.real", "lambda x: np.real(x)", V)
_call("imag", "numpy.imag", "lambda x, y: np.imag((x + 1j * y) ** 2)", V, V)
_call("conj", "numpy.conj", "lambda x, y: np.real(np.conj(x + 1j * y) * (x + 1j * y))", V, V)
_call("conjugate", "numpy.conjugate", "lambda x, y: np.real(np.conjugate(x + 1j * y) * (y + 1j * x))", V, V)
_call("angle", "numpy.angle", "lambda x, y: np.angle(x + 1j * y)", P, V)
_call("real_if_close", "numpy.real_if_close", "lambda x: np.real_if_close(np.exp(x) + 0j)", V)

# ----- numpy: shapes and copies -----
_call("reshape", "numpy.reshape", "lambda a: np.reshape(a, (3, 2))", _a(2, 3))
_call("reshape-method", "numpy.reshape", "lambda x: x.reshape(2, 2) * 2.0", V)
_call("roll", "numpy.roll", "lambda x: np.roll(x, 1)", V)
_call("array_split", "numpy.array_split", "lambda x: np.array_split(x, 2)[1]", _a(5))
_call("split", "numpy.split", "lambda x: np.split(x, 2)[0] * np.split(x, 2)[1]", V)
_call("vsplit", "numpy.vsplit", "lambda a: np.vsplit(a, 2)[1]", _a(4, 3))
_call("hsplit", "numpy.hsplit", "lambda a: np.hsplit(a, 2)[0]", _a(3, 4))
_call("dsplit", "numpy.dsplit", "lambda a: np.dsplit(a, 2)[1]", _a(2, 2, 4))
_call("ravel", "numpy.ravel", "lambda a: np.ravel(a)", M)
_call("expand_dims", "numpy.expand_dims", "lambda x: np.expand_dims(x, 0)", V)
_call("squeeze", "numpy.squeeze", "lambda a: np.squeeze(a)", _a(3, 1))
_call("diag-build", "numpy.diag", "lambda x: np.diag(x)", _a(3))
_call("diag-extract", "numpy.diag", "lambda a: np.diag(a, 1)", M)
_call("flipud", "numpy.flipud", "lambda a: np.flipud(a)", M)
_call("fliplr", "numpy.fliplr", "lambda a: np.fliplr(a)", M)
_call("rot90", "numpy.rot90", "lambda a: np.rot90(a)", _a(2, 3))
_call("trace", "numpy.trace", "lambda a: np.trace(a)", M)
_call("full", "numpy.full", "lambda s: np.full((2, 2), s)", S)
_call("triu", "numpy.triu", "lambda a: np.triu(a)", M)
_call("tril", "numpy.tril", "lambda a: np.tril(a, -1)", M)
_call("clip", "numpy.clip", "lambda x: np.clip(x, -0.5, 0.5)", V)
_call("swapaxes", "numpy.swapaxes", "lambda t: np.swapaxes(t, 0, 2)", _a(2, 3, 2))
_call("moveaxis", "numpy.moveaxis", "lambda t: np.moveaxis(t, 0, -1)", _a(2, 3, 2))
_call("rollaxis", "numpy.rollaxis", "lambda t: np.rollaxis(t, 2)", _a(2, 3, 2))
_call("where", "numpy.where", "lambda x: np.where(x > 0, x ** 2, -x)", V)
_call("cross", "numpy.cross", "lambda a, b: np.cross(a, b)", _a(3), _a(3))
_call("linspace", "numpy.linspace", "lambda a, b: np.linspace(a, b, 4)", S, S)
_call("astype", "numpy.ndarray.astype", "lambda x: x.astype(float) ** 2", V)
_call("diff", "numpy.diff", "lambda x: np.diff(x)", V)
_call("diff-second", "numpy.diff", "lambda x: np.diff(x, n=2)", _a(5))
_call("gradient", "numpy.gradient", "lambda x: np.gradient(x)", _a(5))
_call("repeat", "numpy.repeat", "lambda x: np.repeat(x, 2)", _a(3))
_call("tile", "numpy.tile", "lambda x: np.tile(x, (2, 1))", _a(3))
_call("kron", "numpy.kron", "lambda a, b: np.kron(a, b)", _a(2, 2), _a(2, 2))
_call("transpose", "numpy.transpose", "lambda t: np.transpose(t, (1, 0, 2))", _a(2, 3, 2))
_call("transpose-attribute", "numpy.transpose", "lambda a: a.T @ a", _a(3, 2))
_call("broadcast_to", "numpy.broadcast_to", "lambda x: np.broadcast_to(x, (2, 3))", _a(3))
_call("sort", "numpy.sort", "lambda x: np.sort(x)", V)
_call("partition", "numpy.partition", "lambda x: np.partition(x, 2)[2]", _a(5))
_call("atleast_1d", "numpy.atleast_1d", "lambda s: np.atleast_1d(s)", S)
_call("atleast_2d", "numpy.atleast_2d", "lambda x: np.atleast_2d(x)", V)
_call("atleast_3d", "numpy.atleast_3d", "lambda a: np.atleast_3d(a)", _a(2, 2))
_call("diagonal", "numpy.diagonal", "lambda a: np.diagonal(a)", M)
_call("pad", "numpy.pad", "lambda x: np.pad(x, 1)", V)
_call("getitem-slice", "numpy.ndarray.__getitem__", "lambda x: x[1:3]", V)
_call("getitem-fancy", "numpy.ndarray.__getitem__", "lambda a: a[[0, 2], 1]", M)

# ----- numpy: reductions -----
_call("sum", "numpy.sum", "lambda x: np.sum(x)", V)
_call("sum-axis", "numpy.sum", "lambda a: np.sum(a, axis=0)", M)
_call("sum-method-keepdims", "numpy.sum", "lambda a: a.sum(axis=1, keepdims=True)", M)
_call("mean", "numpy.mean", "lambda x: np.mean(x)", V)
_call("mean-axis", "numpy.mean", "lambda a: np.mean(a, axis=1)", M)
_call("prod", "numpy.prod", "lambda x: np.prod(x)", V)
_call("var", "numpy.var", "lambda x: np.var(x)", V)
_call("var-ddof", "numpy.var", "lambda a: np.var(a, axis=0, ddof=1)", M)
_call("std", "numpy.std", "lambda x: np.std(x)", V)
_call("max", "numpy.max", "lambda x: np.max(x)", V)
_call("max-axis", "numpy.max", "lambda a: np.max(a, axis=0)", M)
_call("min", "numpy.min", "lambda x: np.min(x)", V)
_call("amax", "numpy.amax", "lambda x: np.amax(x)", V)
_call("amin", "numpy.amin", "lambda x: np.amin(x)", V)
_call("cumsum", "numpy.cumsum", "lambda x: np.cumsum(x)", V)
_call("cumsum-axis", "numpy.cumsum", "lambda a: np.cumsum(a, axis=1)", M)

# ----- numpy: products -----
_call("inner", "numpy.inner", "lambda x, y: np.inner(x, y)", V, V)
_call("matmul", "numpy.matmul", "lambda a, b: np.matmul(a, b)", _a(2, 3), _a(3, 2))
_call("matmul-operator", "numpy.matmul", "lambda a, x: a @ x", M, _a(3))
_call("dot", "numpy.dot", "lambda a, x: np.dot(a, x)", M, _a(3))
_call("dot-vectors", "numpy.dot", "lambda x, y: x.dot(y)", V, V)
_call("tensordot", "numpy.tensordot", "lambda a, b: np.tensordot(a, b, axes=1)", _a(2, 3), _a(3, 2))
_call("tensordot-axes2", "numpy.tensordot", "lambda a, b: np.tensordot(a, b)", _a(2, 3), _a(2, 3))
_call("outer", "numpy.outer", "lambda x, y: np.outer(x, y)", _a(3), _a(2))
_call("einsum", "numpy.einsum", "lambda a, b: np.einsum('ij,jk->ik', a, b)", _a(2, 3), _a(3, 2))
_call("einsum-trace", "numpy.einsum", "lambda a: np.einsum('ii', a)", M)
_call("einsum-bilinear", "numpy.einsum", "lambda x, a, y: np.einsum('i,ij,j->', x, a, y)", _a(3), M, _a(3))

# ----- numpy: building arrays from several -----
_call("concatenate", "numpy.concatenate", "lambda x, y: np.concatenate([x, y])", _a(3), _a(2))
_call("stack", "numpy.stack", "lambda x, y: np.stack([x, y], axis=1)", _a(3), _a(3))
_call("hstack", "numpy.hstack", "lambda x, y: np.hstack([x, y])", _a(3), _a(2))
_call("vstack", "numpy.vstack", "lambda x, y: np.vstack([x, y])", _a(3), _a(3))
_call("column_stack", "numpy.column_stack", "lambda x, y: np.column_stack([x, y])", _a(3), _a(3))
_call("append", "numpy.append", "lambda x, y: np.append(x, y)", _a(3), _a(2))
_call("array", "numpy.array", "lambda x: np.array([x[0] * x[1], x[2], x[3] ** 2])", V)
_call("array-of-arrays", "numpy.array", "lambda x, y: np.array([x, y])", _a(3), _a(3))
_call("select", "numpy.select", "lambda x: np.select([x > 0, x <= 0], [x ** 2, -x])", V)
_call("r_", "numpy.r_", "lambda x, y: np.r_[x, y]", _a(3), _a(2))
_call("c_", "numpy.c_", "lambda x, y: np.c_[x, y]", _a(3), _a(3))

# ----- numpy.linalg -----
_call("det", "numpy.linalg.det", "lambda a: np.linalg.det(a)", SQ)
_call("det-batched", "numpy.linalg.det", "lambda a: np.linalg.det(a)", _a(2, 3, 3, domain="real"))
_call("slogdet", "numpy.linalg.slogdet", "lambda a: np.linalg.slogdet(a)[1]", SQ)
_call("inv", "numpy.linalg.inv", "lambda a: np.linalg.inv(a)", SQ)
_call("pinv", "numpy.linalg.pinv", "lambda a: np.linalg.pinv(a)", SQ)
_call("pinv-rectangular", "numpy.linalg.pinv", "lambda a: np.linalg.pinv(a)", _a(3, 2))
_call("solve", "numpy.linalg.solve", "lambda a, b: np.linalg.solve(a, b)", SQ, _a(3))
_call("solve-matrix", "numpy.linalg.solve", "lambda a, b: np.linalg.solve(a, b)", SQ, _a(3, 2))
_call("norm", "numpy.linalg.norm", "lambda x: np.linalg.norm(x)", V)
_call("norm-ord3", "numpy.linalg.norm", "lambda x: np.linalg.norm(x, ord=3)", V)
_call("norm-fro", "numpy.linalg.norm", "lambda a: np.linalg.norm(a, 'fro')", M)
_call("norm-nuc", "numpy.linalg.norm", "lambda a: np.linalg.norm(a, 'nuc')", M)
_call("norm-axis", "numpy.linalg.norm", "lambda a: np.linalg.norm(a, axis=1)", M)
_call("eigh-values", "numpy.linalg.eigh", "lambda s: np.linalg.eigh(s)[0]", SYM)
_call("eigh-vectors", "numpy.linalg.eigh", "lambda s: np.linalg.eigh(s)[1] ** 2", SYM)
_call("eig-values", "numpy.linalg.eig", "lambda a: np.sort(np.real(np.linalg.eig(a)[0]))",
      _a(3, 3, domain="real-eigenvalues"))
_call("cholesky", "numpy.linalg.cholesky", "lambda a: np.linalg.cholesky(a)", SPD)
_call("svd-values", "numpy.linalg.svd", "lambda a: np.linalg.svd(a, compute_uv=False)", _a(3, 2))
_call("svd-vectors", "numpy.linalg.svd", "lambda a: np.linalg.svd(a, full_matrices=False)[0] ** 2", _a(3, 2))

# ----- numpy.fft -----
_call("fft", "numpy.fft.fft", "lambda x: np.abs(np.fft.fft(x)) ** 2", V)
_call("fft-real-imag", "numpy.fft.fft", "lambda x: np.real(np.fft.fft(x)) + 0.5 * np.imag(np.fft.fft(x))", V)
_call("ifft", "numpy.fft.ifft", "lambda x: np.real(np.fft.ifft(x * np.exp(1j * x)))", V)
_call("fft2", "numpy.fft.fft2", "lambda a: np.abs(np.fft.fft2(a)) ** 2", _a(2, 4))
_call("ifft2", "numpy.fft.ifft2", "lambda a: np.imag(np.fft.ifft2(a))", _a(2, 4))
_call("fftn", "numpy.fft.fftn", "lambda t: np.abs(np.fft.fftn(t)) ** 2", _a(2, 2, 2))
_call("ifftn", "numpy.fft.ifftn", "lambda t: np.real(np.fft.ifftn(t))", _a(2, 2, 2))
_call("rfft", "numpy.fft.rfft", "lambda x: np.abs(np.fft.rfft(x)) ** 2", V)
_call("irfft", "numpy.fft.irfft", "lambda x: np.fft.irfft(x)", _a(3))
_call("rfft2", "numpy.fft.rfft2", "lambda a: np.real(np.fft.rfft2(a))", _a(2, 4))
_call("irfft2", "numpy.fft.irfft2", "lambda a: np.fft.irfft2(a)", _a(2, 3))
_call("rfftn", "numpy.fft.rfftn", "lambda t: np.abs(np.fft.rfftn(t)) ** 2", _a(2, 2, 4))
_call("irfftn", "numpy.fft.irfftn", "lambda t: np.fft.irfftn(t)", _a(2, 2, 3))
_call("fftshift", "numpy.fft.fftshift", "lambda x: np.fft.fftshift(x)", _a(5))
_call("ifftshift", "numpy.fft.ifftshift", "lambda x: np.fft.ifftshift(x)", _a(5))

# ----- scipy.special -----
_call("beta", "scipy.special.beta", "lambda a, b: scipy.special.beta(a, b)", P, P)
_call("betainc", "scipy.special.betainc", "lambda x: scipy.special.betainc(2.0, 3.5, x)", U)
_call("betaln", "scipy.special.betaln", "lambda a, b: scipy.special.betaln(a, b)", P, P)
_call("polygamma", "scipy.special.polygamma", "lambda x: scipy.special.polygamma(1, x)", P)
_call("psi", "scipy.special.psi", "lambda x: scipy.special.psi(x)", P)
_call("digamma", "scipy.special.digamma", "lambda x: scipy.special.digamma(x)", P)
_call("gamma", "scipy.special.gamma", "lambda x: scipy.special.gamma(x)", P)
_call("gammaln", "scipy.special.gammaln", "lambda x: scipy.special.gammaln(x)", P)
_call("gammainc", "scipy.special.gammainc", "lambda x: scipy.special.gammainc(1.5, x)", P)
_call("gammaincc", "scipy.special.gammaincc", "lambda x: scipy.special.gammaincc(1.5, x)", P)
_call("gammasgn", "scipy.special.gammasgn", "lambda x: scipy.special.gammasgn(x - 1.5)", V, constant=True)
_call("rgamma", "scipy.special.rgamma", "lambda x: scipy.special.rgamma(x)", P)
_call("multigammaln", "scipy.special.multigammaln", "lambda a: scipy.special.multigammaln(a, 2)", _a(domain="above1"))
_call("j0", "scipy.special.j0", "lambda x: scipy.special.j0(x)", P)
_call("y0", "scipy.special.y0", "lambda x: scipy.special.y0(x)", P)
_call("j1", "scipy.special.j1", "lambda x: scipy.special.j1(x)", P)
_call("y1", "scipy.special.y1", "lambda x: scipy.special.y1(x)", P)
_call("jn", "scipy.special.jn", "lambda x: scipy.special.jn(2, x)", P)
_call("yn", "scipy.special.yn", "lambda x: scipy.special.yn(2, x)", P)
_call("i0", "scipy.special.i0", "lambda x: scipy.special.i0(x)", V)
_call("i1", "scipy.special.i1", "lambda x: scipy.special.i1(x)", V)
_call("iv", "scipy.special.iv", "lambda x: scipy.special.iv(1.5, x)", P)
_call("ive", "scipy.special.ive", "lambda x: scipy.special.ive(1.5, x)", P)
_call("erf", "scipy.special.erf", "lambda x: scipy.special.erf(x)", V)
_call("erfc", "scipy.special.erfc", "lambda x: scipy.special.erfc(x)", V)
_call("erfinv", "scipy.special.erfinv", "lambda x: scipy.special.erfinv(x)", V)
_call("erfcinv", "scipy.special.erfcinv", "lambda x: scipy.special.erfcinv(x)", U)
_call("logit", "scipy.special.logit", "lambda x: scipy.special.logit(x)", U)
_call("expit", "scipy.special.expit", "lambda x: scipy.special.expit(x)", V)
_call("expit-loss", "scipy.special.expit", "lambda x: np.sum(np.log(scipy.special.expit(3.0 * x)))", V)
_call("logsumexp", "scipy.special.logsumexp", "lambda x: scipy.special.logsumexp(x)", V)
_call("logsumexp-axis-b", "scipy.special.logsumexp", "lambda a: scipy.special.logsumexp(a, axis=1, b=0.5)", M)

# ----- scipy.stats -----
_NORM = {"pdf": V, "cdf": V, "sf": V, "logpdf": V, "logcdf": V, "logsf": V, "ppf": U, "isf": U}
for _name, _arg in _NORM.items():
    _call(f"norm.{_name}", f"scipy.stats.norm.{_name}", f"lambda x: scipy.stats.norm.{_name}(x)", _arg)
_call("norm.logpdf-loc-scale", "scipy.stats.norm.logpdf",
      "lambda x, loc, scale: scipy.stats.norm.logpdf(x, loc, scale)", V, S, _a(domain="positive"))
_call("norm.cdf-loc-scale", "scipy.stats.norm.cdf",
      "lambda x, loc, scale: scipy.stats.norm.cdf(x, loc, scale)", V, S, _a(domain="positive"))
for _name in ("pdf", "cdf", "logpdf", "logcdf"):
    _call(f"t.{_name}", f"scipy.stats.t.{_name}", f"lambda x: scipy.stats.t.{_name}(x, 3.5)", V)
_call("t.logpdf-df", "scipy.stats.t.logpdf", "lambda x, df: scipy.stats.t.logpdf(x, df)", V, _a(domain="above1"))
_call("multivariate_normal.logpdf", "scipy.stats.multivariate_normal.logpdf",
      "lambda x, mean, cov: scipy.stats.multivariate_normal.logpdf(x, mean, cov)", _a(3), _a(3), SPD)
_call("multivariate_normal.pdf", "scipy.stats.multivariate_normal.pdf",
      "lambda x, mean, cov: scipy.stats.multivariate_normal.pdf(x, mean, cov)", _a(3), _a(3), SPD)
_call("multivariate_normal.entropy", "scipy.stats.multivariate_normal.entropy",
      "lambda cov: scipy.stats.multivariate_normal.entropy(np.zeros(3), cov)", SPD)
_call("dirichlet.logpdf", "scipy.stats.dirichlet.logpdf",
      "lambda x, alpha: scipy.stats.dirichlet.logpdf(x, alpha)", _a(3, domain="simplex"), _a(3, domain="positive"))
_call("dirichlet.pdf", "scipy.stats.dirichlet.pdf",
      "lambda x, alpha: scipy.stats.dirichlet.pdf(x, alpha)", _a(3, domain="simplex"), _a(3, domain="positive"))
_call("beta.cdf", "scipy.stats.beta.cdf", "lambda x: scipy.stats.beta.cdf(x, 2.0, 3.5)", U)
_call("beta.logpdf", "scipy.stats.beta.logpdf", "lambda x, a, b: scipy.stats.beta.logpdf(x, a, b)", U, P, P)
_call("beta.pdf", "scipy.stats.beta.pdf", "lambda x: scipy.stats.beta.pdf(x, 2.0, 3.5)", U)
_call("gamma.logpdf", "scipy.stats.gamma.logpdf", "lambda x, a: scipy.stats.gamma.logpdf(x, a)", P, P)
_call("gamma.pdf", "scipy.stats.gamma.pdf", "lambda x: scipy.stats.gamma.pdf(x, 2.5)", P)
_call("chi2.cdf", "scipy.stats.chi2.cdf", "lambda x: scipy.stats.chi2.cdf(x, 3)", P)
_call("chi2.logpdf", "scipy.stats.chi2.logpdf", "lambda x: scipy.stats.chi2.logpdf(x, 3)", P)
_call("chi2.pdf", "scipy.stats.chi2.pdf", "lambda x: scipy.stats.chi2.pdf(x, 3)", P)
_call("poisson.cdf", "scipy.stats.poisson.cdf", "lambda mu: scipy.stats.poisson.cdf(np.array([0, 1, 2, 4]), mu)", P)
_call("poisson.logpmf", "scipy.stats.poisson.logpmf",
      "lambda mu: scipy.stats.poisson.logpmf(np.array([0, 1, 2, 4]), mu)", P)
_call("poisson.pmf", "scipy.stats.poisson.pmf", "lambda mu: scipy.stats.poisson.pmf(np.array([0, 1, 2, 4]), mu)", P)

# ----- scipy.linalg, scipy.signal, scipy.integrate -----
_call("sqrtm", "scipy.linalg.sqrtm", "lambda a: scipy.linalg.sqrtm(a)", SPD)
_call("solve_triangular", "scipy.linalg.solve_triangular",
      "lambda l, b: scipy.linalg.solve_triangular(l, b, lower=True)", _a(3, 3, domain="lower"), _a(3))
_call("solve_banded", "scipy.linalg.solve_banded",
      "lambda ab, b: scipy.linalg.solve_banded((1, 1), ab, b)", _a(3, 4, domain="banded"), V)
_call("solve_sylvester", "scipy.linalg.solve_sylvester",
      "lambda a, b, q: scipy.linalg.solve_sylvester(a, b, q)", SPD, SPD, M)
_call("convolve", "scipy.signal.convolve", "lambda x, k: scipy.signal.convolve(x, k)", V, _a(3))
_call("convolve-valid", "scipy.signal.convolve", "lambda x, k: scipy.signal.convolve(x, k, mode='valid')", V, _a(3))
_call("odeint", "scipy.integrate.odeint",
      "lambda y0: scipy.integrate.odeint(lambda y, t: -0.5 * y + 0.1 * y ** 2, y0, np.array([0.0, 0.5, 1.0]),"
      " rtol=1e-13, atol=1e-13)", _a(2))

CALLS: tuple[Call, ...] = tuple(_CALLS)
FUNCTIONS: tuple[str, ...] = tuple(dict.fromkeys(c.function for c in CALLS))  # in corpus order

"""scipy.special's ufuncs on high-precision arrays: routed to their twins, against mpmath's own functions at
60 digits and against scipy's float64 values, with scipy's values outside the domain and at the poles."""

import itertools
import warnings

import numpy as np
import pytest
from special_support import (
    REF,
    assert_agrees,
    assert_all_mpf,
    assert_float64_close,
    ensure_registered,
    hp,
    off_grid,
)
from special_support import same_as_float64 as same

from pytest_gradcheck.hp import precision
from pytest_gradcheck.hp import registry as hp_registry
from pytest_gradcheck.hp.array import HPArray
from pytest_gradcheck.hp.twins.special.kernels import KERNELS

sc = pytest.importorskip("scipy.special")

R = REF.mpf
SQRT2 = REF.sqrt(2)

# name -> (reference on 60-digit mpf, well-conditioned points)
ONE_ARGUMENT = {
    "expit": (lambda x: 1 / (1 + REF.exp(-x)), [-3.5, -0.25, 0.7, 12.0]),
    "logit": (lambda p: REF.log(p / (1 - p)), [0.01, 0.3, 0.75, 0.999]),
    "log_expit": (lambda x: -REF.log(1 + REF.exp(-x)), [-30.0, -1.5, 0.2, 8.0]),
    "erf": (REF.erf, [-1.3, 0.01, 0.6, 3.0]),
    "erfc": (REF.erfc, [-1.0, 0.3, 2.0, 9.0]),
    "erfcx": (lambda x: REF.exp(x * x) * REF.erfc(x), [-1.2, 0.4, 5.0, 30.0]),
    "erfinv": (REF.erfinv, [-0.9, 0.05, 0.5, 0.999]),
    "erfcinv": (lambda y: REF.erfinv(1 - y), [0.001, 0.4, 1.3, 1.99]),
    "erfi": (REF.erfi, [-1.1, 0.2, 2.5]),
    "dawsn": (lambda x: x * REF.hyp1f1(1, R(3) / 2, -x * x), [-1.1, 0.2, 2.5]),  # D(x) = x 1F1(1; 3/2; -x^2)
    "ndtr": (REF.ncdf, [-5.0, -0.3, 0.8, 4.0]),
    "ndtri": (lambda p: SQRT2 * REF.erfinv(2 * p - 1), [0.001, 0.2, 0.6, 0.995]),
    "log_ndtr": (lambda x: REF.log(REF.ncdf(x)), [-20.0, -1.0, 0.5, 6.0]),
    "ndtri_exp": (lambda y: SQRT2 * REF.erfinv(2 * REF.exp(y) - 1), [-10.0, -1.0, -0.1]),
    "gamma": (REF.gamma, [-2.5, 0.3, 4.5, 30.0]),
    "gammaln": (lambda x: REF.log(abs(REF.gamma(x))), [-3.7, 0.2, 2.5, 100.0]),
    "loggamma": (REF.loggamma, [0.1, 1.5, 20.0]),
    "rgamma": (REF.rgamma, [-1.5, 0.4, 6.0]),
    "gammasgn": (lambda x: REF.sign(REF.gamma(x)), [-2.5, -0.5, 0.7, 3.0]),
    "digamma": (REF.digamma, [-2.5, 0.1, 1.0, 7.0]),
    "psi": (REF.digamma, [-0.5, 3.0]),
    "entr": (lambda x: -x * REF.log(x), [0.1, 0.5, 3.0]),
    "i0": (lambda x: REF.besseli(0, x), [-2.0, 0.5, 3.0, 20.0]),
    "i0e": (lambda x: REF.besseli(0, x) * REF.exp(-abs(x)), [-2.0, 0.5, 20.0]),
    "i1": (lambda x: REF.besseli(1, x), [-2.0, 0.5, 3.0]),
    "i1e": (lambda x: REF.besseli(1, x) * REF.exp(-abs(x)), [-2.0, 0.5, 20.0]),
    "j0": (lambda x: REF.besselj(0, x), [-3.0, 0.5, 4.0]),
    "j1": (lambda x: REF.besselj(1, x), [-3.0, 0.5, 4.0]),
    "y0": (lambda x: REF.bessely(0, x), [0.3, 2.0, 10.0]),
    "y1": (lambda x: REF.bessely(1, x), [0.3, 2.0, 10.0]),
    "k0": (lambda x: REF.besselk(0, x), [0.1, 1.0, 5.0]),
    "k0e": (lambda x: REF.besselk(0, x) * REF.exp(x), [0.1, 1.0, 5.0]),
    "k1": (lambda x: REF.besselk(1, x), [0.1, 1.0, 5.0]),
    "k1e": (lambda x: REF.besselk(1, x) * REF.exp(x), [0.1, 1.0, 5.0]),
    "spence": (lambda z: REF.polylog(2, 1 - z), [0.2, 1.5, 3.0]),
    "zetac": (lambda x: REF.zeta(x) - 1, [-1.5, 0.5, 2.0, 10.0]),
    "expm1": (REF.expm1, [-2.0, 1e-5, 0.7]),
    "log1p": (REF.log1p, [-0.5, 1e-7, 3.0]),
    "cosm1": (lambda x: REF.cos(x) - 1, [-2.0, 1e-3, 0.7]),
    "exp2": (lambda x: REF.power(2, x), [-2.5, 0.3, 10.0]),
    "exp10": (lambda x: REF.power(10, x), [-2.5, 0.3, 10.0]),
    "cbrt": (lambda x: REF.sign(x) * REF.cbrt(abs(x)), [-8.5, 0.3, 27.0]),
    "exprel": (lambda x: REF.expm1(x) / x, [-2.0, 1e-6, 3.0]),
    "sindg": (lambda x: REF.sin(REF.radians(x)), [-200.0, 1.5, 30.0]),
    "cosdg": (lambda x: REF.cos(REF.radians(x)), [-200.0, 1.5, 30.0]),
}

# name -> (reference, points as tuples of arguments[, positions kept on the float64 grid: integer orders])
SEVERAL_ARGUMENTS = {
    "beta": (REF.beta, [(0.5, 2.0), (3.0, 4.5), (-1.5, 2.25)]),
    "betaln": (lambda a, b: REF.log(abs(REF.beta(a, b))), [(0.5, 2.0), (30.0, 40.5), (-1.5, 2.25)]),
    "gammainc": (lambda a, x: REF.gammainc(a, 0, x, regularized=True), [(0.5, 0.3), (3.0, 2.0), (10.0, 15.0)]),
    "gammaincc": (lambda a, x: REF.gammainc(a, x, REF.inf, regularized=True), [(0.5, 0.3), (3.0, 2.0), (2.0, 30.0)]),
    "betainc": (lambda a, b, x: REF.betainc(a, b, 0, x, regularized=True), [(2.0, 3.5, 0.3), (0.5, 0.5, 0.9)]),
    "xlogy": (lambda x, y: x * REF.log(y), [(2.5, 0.3), (-1.5, 4.0)]),
    "xlog1py": (lambda x, y: x * REF.log1p(y), [(2.5, -0.3), (-1.5, 1e-8)]),
    "rel_entr": (lambda x, y: x * REF.log(x / y), [(0.2, 0.7), (1.5, 0.25)]),
    "kl_div": (lambda x, y: x * REF.log(x / y) - x + y, [(0.2, 0.7), (1.5, 0.25)]),
    "huber": (lambda d, r: r * r / 2 if abs(r) <= d else d * (abs(r) - d / 2), [(1.0, 0.3), (0.5, -2.5)]),
    "pseudo_huber": (lambda d, r: d * d * (REF.sqrt(1 + (r / d) ** 2) - 1), [(1.0, 0.3), (0.5, -2.5)]),
    "iv": (REF.besseli, [(0.5, 2.0), (-2.0, -1.5), (2.5, 30.0)], {0}),
    "ive": (lambda v, x: REF.besseli(v, x) * REF.exp(-abs(x)), [(0.5, 2.0), (3.0, -4.0)], {0}),
    "jv": (REF.besselj, [(0.5, 2.0), (-2.0, -1.5), (2.5, 7.0)], {0}),
    "yv": (REF.bessely, [(0.5, 2.0), (-1.5, 1.5), (2.5, 7.0)]),
    "yn": (REF.bessely, [(2.0, 0.5), (-3.0, 2.0), (0.0, 7.0)], {0}),
    "kv": (REF.besselk, [(0.5, 2.0), (-1.5, 1.5), (2.5, 7.0)]),
    "kve": (lambda v, x: REF.besselk(v, x) * REF.exp(x), [(0.5, 2.0), (2.5, 7.0)]),
    "boxcox": (lambda x, lm: (x**lm - 1) / lm, [(2.5, 0.5), (0.3, -1.5)]),
    "boxcox1p": (lambda x, lm: ((1 + x) ** lm - 1) / lm, [(2.5, 0.5), (-0.3, -1.5)]),
    "inv_boxcox": (lambda y, lm: (1 + lm * y) ** (1 / lm), [(2.5, 0.5), (0.3, -1.5)]),
    "inv_boxcox1p": (lambda y, lm: (1 + lm * y) ** (1 / lm) - 1, [(2.5, 0.5), (0.3, -1.5)]),
    "powm1": (lambda x, y: x**y - 1, [(2.5, 0.5), (0.3, -1.5), (-2.0, 3.0)], {1}),
    "zeta": (REF.zeta, [(2.5, 0.3), (4.0, 2.0)]),  # Hurwitz; scipy.special.zeta calls the private ufunc _zeta
}


@pytest.fixture(autouse=True)
def _registered():
    ensure_registered()


@pytest.fixture
def ctx():
    return precision.context(40)


@pytest.mark.parametrize("name", sorted(ONE_ARGUMENT))
def test_one_argument_ufunc_matches_mpmath_and_scipy(name, ctx):
    reference, points = ONE_ARGUMENT[name]
    x = np.array(points)
    arg = off_grid(x, ctx)
    out = getattr(sc, name)(arg)  # the unmodified call on a high-precision array
    assert isinstance(out, HPArray) and out.shape == x.shape
    assert_all_mpf(out, ctx, name)
    assert_agrees(out, [reference(R(a)) for a in arg], what=name)
    assert_float64_close(out, getattr(sc, name)(x), what=name)


@pytest.mark.parametrize("name", sorted(SEVERAL_ARGUMENTS))
def test_several_argument_ufunc_matches_mpmath_and_scipy(name, ctx):
    reference, points, *keep = SEVERAL_ARGUMENTS[name]
    columns = [np.array(c) for c in zip(*points, strict=True)]
    args = [hp(c, ctx) if keep and i in keep[0] else off_grid(c, ctx) for i, c in enumerate(columns)]
    out = getattr(sc, name)(*args)
    assert isinstance(out, HPArray) and out.shape == (len(points),)
    assert_all_mpf(out, ctx, name)
    assert_agrees(out, [reference(*(R(a) for a in p)) for p in zip(*args, strict=True)], what=name)
    assert_float64_close(out, getattr(sc, name)(*columns), what=name)


def test_a_float_operand_broadcasts_against_a_high_precision_one(ctx):
    out = sc.xlogy(2.0, hp([[0.5], [3.0]], ctx))
    assert out.shape == (2, 1)
    assert_agrees(out, [2 * REF.log(R(0.5)), 2 * REF.log(R(3))])
    scalar = sc.erf(np.sum(hp([0.25, 0.5], ctx)))  # an mpf scalar routes through the ufunc too
    assert type(scalar) is ctx.mpf
    assert_agrees([scalar], [REF.erf(R(0.75))])


SPECIAL_VALUE_POINTS = [-np.inf, -2.0, -1.0, -0.5, 0.0, 0.5, 1.0, 2.0, np.inf, np.nan]


def _twin(name):
    twin = hp_registry.lookup_ufunc(getattr(sc, name))
    assert twin is not None, f"scipy.special.{name} has no registered twin"
    return twin


@pytest.mark.parametrize("name", sorted(ONE_ARGUMENT))
def test_one_argument_ufunc_gives_scipys_values_at_poles_domain_ends_and_infinities(name, ctx):
    twin = _twin(name)
    with np.errstate(all="ignore"):
        expected = getattr(sc, name)(np.array(SPECIAL_VALUE_POINTS))
    got = [twin(ctx.mpf(p)) for p in SPECIAL_VALUE_POINTS]
    assert_all_mpf(got, ctx, name)
    wrong = [(p, float(g), e) for p, g, e in zip(SPECIAL_VALUE_POINTS, got, expected, strict=True) if not same(g, e)]
    assert not wrong, f"{name}: (point, twin, scipy): {wrong}"


GRID = [-2.0, -1.5, -1.0, 0.0, 0.5, 1.0, 2.5, np.nan]
# Bessel Y of a negative half-integer order at 0: scipy gives inf, but Y_{-3/2}(x) = -J_{3/2}(x) -> 0.
KNOWN_DIFFERENCES = {("yv", (-1.5, 0.0))}


@pytest.mark.parametrize("name", sorted(SEVERAL_ARGUMENTS))
def test_several_argument_ufunc_gives_scipys_values_on_a_grid_with_poles_and_nan(name, ctx):
    ufunc = sc._ufuncs._zeta if name == "zeta" else getattr(sc, name)
    twin = hp_registry.lookup_ufunc(ufunc)
    grid = [p for p in itertools.product(GRID, repeat=ufunc.nin) if (name, p) not in KNOWN_DIFFERENCES]
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # yn: "floating point number truncated to an integer"
        expected = ufunc(*(np.array(column) for column in zip(*grid, strict=True)))
    got = [twin(*(ctx.mpf(a) for a in p)) for p in grid]
    assert_all_mpf(got, ctx, name)
    wrong = [(p, float(g), e) for p, g, e in zip(grid, got, expected, strict=True) if not same(g, e)]
    assert not wrong, f"{name}: (arguments, twin, scipy): {wrong[:8]}"


def test_bessel_y_of_negative_half_integer_order_at_zero_is_the_limit(ctx):
    assert _twin("yv")(ctx.mpf(-1.5), ctx.mpf(0)) == 0  # Y_{-3/2} = -J_{3/2}, which vanishes at 0
    assert abs(_twin("yv")(ctx.mpf(-1.5), ctx.mpf(1e-20))) < 1e-29


def test_infinite_arguments_of_several_argument_functions_follow_the_limits(ctx):
    inf = ctx.inf
    assert _twin("huber")(inf, ctx.mpf(0.3)) == ctx.mpf(0.3) ** 2 / 2  # |r| <= delta: exact, not float64's
    assert _twin("gammainc")(ctx.mpf(2.5), inf) == 1 and _twin("gammaincc")(ctx.mpf(2.5), inf) == 0
    assert _twin("kv")(ctx.mpf(0.5), inf) == 0
    assert ctx.isnan(_twin("xlogy")(ctx.mpf(0), ctx.nan))  # nan: scipy's own conventions
    assert _twin("pseudo_huber")(ctx.mpf(0), ctx.nan) == 0


def test_every_registered_scipy_special_kernel_is_in_the_tables_above():
    registered = {name.rpartition(".")[2] for name in KERNELS}
    untested = registered - set(ONE_ARGUMENT) - set(SEVERAL_ARGUMENTS) - {"_zeta"}  # zeta: _zeta, tested above
    assert untested == {"_riemann_zeta"}  # tested through scipy.special.zeta in test_special_functions.py

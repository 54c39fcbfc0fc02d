"""Tests for pytest_gradcheck.hp.precision: the private context, its ufunc methods, conversions, classification."""

import re
import threading
from fractions import Fraction

import mpmath
import numpy as np
import pytest
from mpmath.libmp import ComplexResult, dps_to_prec, to_rational

from pytest_gradcheck.hp.precision import (
    DEFAULT_DIGITS,
    UFUNC_METHODS,
    context,
    evaluate_hp,
    exact_fraction,
    is_hp,
    precision_of,
    to_float64,
    to_hp,
)

HP_TOL = 1e-35  # 40-digit results sit within ~1e-39 of the truth; float64 rounding anywhere shows as ~1e-16
XS = [-0.9, -0.3, 0.2, 0.7]  # inside every domain below that is not listed separately
POSITIVE = [0.1, 0.5, 2.0, 7.3]
ABOVE_ONE = [1.1, 2.0, 7.3]
HALVES = [-2.5, -1.5, -0.5, 0.5, 1.5, 2.7]  # ties to even, and a non-tie, for rint
GLOBAL_MPF_ATTRIBUTES = frozenset(dir(mpmath.mpf))  # after importing precision: it must not patch mpmath.mpf


def _exact(x) -> Fraction:
    """An mpf's exact value by mpmath's own raw conversion (in 1.3 and 1.4; mpf.as_integer_ratio is 1.4 only)."""
    numerator, denominator = to_rational(x._mpf_)
    return Fraction(int(numerator), int(denominator))


@pytest.fixture
def ctx() -> mpmath.MPContext:
    return context(DEFAULT_DIGITS)


@pytest.fixture
def ref() -> mpmath.MPContext:
    """An independent 60-digit reference context, not built by the code under test."""
    reference = mpmath.MPContext()
    reference.dps = 60
    return reference


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(20240601)


@pytest.fixture(autouse=True)
def _global_mpmath_untouched():
    before = (mpmath.mp.dps, mpmath.mp.prec, mpmath.mp.trap_complex)
    yield
    assert (mpmath.mp.dps, mpmath.mp.prec, mpmath.mp.trap_complex) == before
    assert frozenset(dir(mpmath.mpf)) == GLOBAL_MPF_ATTRIBUTES
    assert "tanh" not in GLOBAL_MPF_ATTRIBUTES and isinstance(mpmath.mpf.exp, property)  # exp: binary exponent


def assert_hp_close(out, expected, ctx, ref, tol=HP_TOL):
    """Every element of ``out`` is a ``ctx.mpf`` within ``tol`` (relative, absolute below 1) of ``expected``."""
    flat = np.asarray(out, dtype=object).ravel().tolist()
    assert len(flat) == len(expected)
    for got, want in zip(flat, expected, strict=True):
        assert type(got) is ctx.mpf
        assert abs(ref.mpf(got) - want) <= tol * max(1, abs(want)), (got, want)


def c_fmod(ref, x, y):  # C fmod: the remainder takes the dividend's sign
    r = ref.fmod(abs(x), abs(y))
    return r if x >= 0 else -r


UNARY = [
    (np.exp, lambda r, v: r.exp(v), XS),
    (np.exp2, lambda r, v: r.power(2, v), XS),
    (np.expm1, lambda r, v: r.expm1(v), XS),
    (np.log, lambda r, v: r.ln(v), POSITIVE),
    (np.log2, lambda r, v: r.ln(v) / r.ln(2), POSITIVE),
    (np.log10, lambda r, v: r.ln(v) / r.ln(10), POSITIVE),
    (np.log1p, lambda r, v: r.ln(1 + v), XS),
    (np.sqrt, lambda r, v: r.sqrt(v), POSITIVE),
    (np.cbrt, lambda r, v: r.sign(v) * r.root(abs(v), 3), XS),
    (np.sin, lambda r, v: r.sin(v), XS),
    (np.cos, lambda r, v: r.cos(v), XS),
    (np.tan, lambda r, v: r.tan(v), XS),
    (np.arcsin, lambda r, v: r.asin(v), XS),
    (np.arccos, lambda r, v: r.acos(v), XS),
    (np.arctan, lambda r, v: r.atan(v), XS),
    (np.sinh, lambda r, v: r.sinh(v), XS),
    (np.cosh, lambda r, v: r.cosh(v), XS),
    (np.tanh, lambda r, v: r.tanh(v), XS),
    (np.arcsinh, lambda r, v: r.asinh(v), XS),
    (np.arccosh, lambda r, v: r.acosh(v), ABOVE_ONE),
    (np.arctanh, lambda r, v: r.atanh(v), XS),
    (np.deg2rad, lambda r, v: v * r.pi / 180, XS),
    (np.radians, lambda r, v: v * r.pi / 180, XS),
    (np.rad2deg, lambda r, v: v * 180 / r.pi, XS),
    (np.degrees, lambda r, v: v * 180 / r.pi, XS),
    (np.fabs, lambda r, v: abs(v), HALVES),
    (np.floor, lambda r, v: r.floor(v), HALVES),
    (np.ceil, lambda r, v: r.ceil(v), HALVES),
    (np.trunc, lambda r, v: r.mpf(int(v)), HALVES),
    (np.rint, lambda r, v: r.mpf(round(v)), HALVES),  # Python's round ties to even
]


@pytest.mark.parametrize(("ufunc", "reference", "points"), UNARY, ids=[u.__name__ for u, _, _ in UNARY])
def test_unary_ufunc_is_high_precision_and_matches_numpy(ufunc, reference, points, ctx, ref):
    x = np.array(points)
    out = ufunc(to_hp(x, ctx))
    assert_hp_close(out, [reference(ref, ref.mpf(v)) for v in points], ctx, ref)
    np.testing.assert_allclose(to_float64(out), ufunc(x), rtol=4e-16, atol=0)  # a few ulp: numpy's libm


BINARY = [
    (np.hypot, lambda r, a, b: r.sqrt(a * a + b * b)),
    (np.arctan2, lambda r, a, b: r.atan2(a, b)),
    (np.fmod, c_fmod),
]
LEFT = [-5.5, 5.5, -0.3, 0.7]
RIGHT = [3.0, -3.0, -2.1, 0.2]  # every sign combination, for arctan2's quadrants and fmod's sign


@pytest.mark.parametrize(("ufunc", "reference"), BINARY, ids=[u.__name__ for u, _ in BINARY])
def test_binary_ufunc_is_high_precision_and_matches_numpy(ufunc, reference, ctx, ref):
    a, b = np.array(LEFT), np.array(RIGHT)
    out = ufunc(to_hp(a, ctx), to_hp(b, ctx))
    assert_hp_close(out, [reference(ref, ref.mpf(u), ref.mpf(v)) for u, v in zip(LEFT, RIGHT, strict=True)], ctx, ref)
    np.testing.assert_allclose(to_float64(out), ufunc(a, b), rtol=4e-16, atol=0)


@pytest.mark.parametrize(
    ("ufunc", "point"),
    [(np.log, -1.0), (np.log2, -1.0), (np.log10, -1.0), (np.log1p, -2.0), (np.sqrt, -1.0),
     (np.arcsin, 2.0), (np.arccos, -2.0), (np.arccosh, 0.5), (np.arctanh, 2.0), (np.log, -np.inf)],
)  # fmt: skip
def test_outside_the_real_domain_gives_nan_like_numpy(ufunc, point, ctx):
    out = ufunc(np.array([ctx.mpf(point)], dtype=object))  # to_hp refuses -inf
    assert type(out[0]) is ctx.mpf
    assert ctx.isnan(out[0])
    with np.errstate(invalid="ignore"):
        assert np.isnan(ufunc(np.array([point])))[0]


@pytest.mark.parametrize(("ufunc", "point", "expected"), [(np.log, 0.0, -np.inf), (np.arctanh, 1.0, np.inf)])
def test_domain_poles_give_infinities_like_numpy(ufunc, point, expected, ctx):
    assert to_float64(ufunc(to_hp(np.array([point]), ctx)))[0] == expected
    with np.errstate(divide="ignore"):
        assert ufunc(np.array([point]))[0] == expected


def test_log1p_is_correctly_rounded_from_tiny_to_huge_arguments(ctx):
    """log1p at 40 digits (the exact sum 1 + x, then one rounding of the logarithm; mpmath's own series below
    2^-prec and above 2^prec): within an ulp of a 400-bit reference everywhere, and -inf at -1."""
    ref = mpmath.MPContext()
    ref.prec = 400
    rng = np.random.default_rng(3)
    xs = np.concatenate([rng.uniform(-0.999, 10.0, 300), 10.0 ** rng.uniform(-60, -1, 300),
                         -(10.0 ** rng.uniform(-60, -1, 100)), [1e-200, -1e-200, 1e300, 5e-324, 0.0]])
    out = np.log1p(to_hp(xs, ctx))
    for got, v in zip(out, xs.tolist(), strict=True):
        want = ref.log1p(ref.mpf(v))
        assert type(got) is ctx.mpf
        assert abs(ref.mpf(got) - want) <= abs(want) * ref.mpf(2) ** -ctx.prec, v  # between 1/2 and 1 ulp
    assert np.log1p(np.array([ctx.mpf(-1)], dtype=object))[0] == ctx.ninf


def test_fmod_by_zero_is_nan(ctx):
    assert ctx.isnan(np.fmod(to_hp(np.array([1.5]), ctx), to_hp(np.array([0.0]), ctx))[0])


def test_fractional_power_of_a_negative_number_raises_instead_of_going_complex(ctx):
    with pytest.raises(ComplexResult, match="fractional power"):
        to_hp(np.array([-2.0]), ctx) ** 0.5


def test_division_by_zero_raises_where_float64_gives_inf(ctx):
    with pytest.raises(ZeroDivisionError):
        to_hp(np.array([1.0]), ctx) / to_hp(np.array([0.0]), ctx)


def test_context_is_private_at_requested_digits(ctx):
    assert ctx is not mpmath.mp
    assert ctx.dps == DEFAULT_DIGITS
    assert ctx.mpf is not mpmath.mpf
    assert all(callable(getattr(ctx.mpf, name)) for name in UFUNC_METHODS)


def test_context_is_cached_per_thread_and_digits():
    assert context(30) is context(30)
    assert context(30) is not context(31)
    other = []
    thread = threading.Thread(target=lambda: other.append(context(30)))
    thread.start()
    thread.join()
    assert other[0] is not context(30)
    assert other[0].dps == 30


@pytest.mark.parametrize(("digits", "error"), [(16, ValueError), (40.0, TypeError), (True, TypeError)])
def test_context_rejects_bad_digits(digits, error):
    with pytest.raises(error, match="digits"):
        context(digits)


def _precision_worker(digits, barrier, rounds, outcomes):
    """Each round, in step with the other thread: 1/3 and expm1(0.5) at this thread's digits."""
    try:
        for _ in range(rounds):
            ctx = context(digits)
            barrier.wait()  # both threads hold their context before either computes
            third = ctx.one / 3
            expm1 = np.expm1(to_hp(np.array([0.5]), ctx))[0]  # mpmath's expm1 raises and restores ctx.prec
            outcomes.append((digits, abs(_exact(third) - Fraction(1, 3)), expm1, ctx.prec))
            barrier.wait()  # neither asks for its context again until both have computed
    except Exception as exc:
        barrier.abort()
        outcomes.append(exc)


def test_threads_at_different_digits_keep_their_own_precision(ref):
    barrier, outcomes, rounds = threading.Barrier(2, timeout=30), [], 40
    threads = [threading.Thread(target=_precision_worker, args=(d, barrier, rounds, outcomes)) for d in (30, 60)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(outcomes) == 2 * rounds
    exact_expm1 = ref.expm1(ref.mpf(0.5))
    for digits, third_error, expm1, prec in outcomes:
        assert prec == dps_to_prec(digits)
        assert 10 ** -(digits + 3) < third_error < 10 ** -(digits - 1)  # rounded at these digits, not others
        assert abs(ref.mpf(expm1) - exact_expm1) < 10 ** -(digits - 1)
    assert context(DEFAULT_DIGITS).prec == dps_to_prec(DEFAULT_DIGITS)


def test_to_hp_is_exact_and_round_trips_bit_for_bit(ctx, rng):
    x = np.concatenate([rng.normal(size=20) * 10.0 ** rng.integers(-300, 300, size=20), [5e-324, -1.7e308, 0.1]])
    hp = to_hp(x.reshape(1, -1), ctx)
    assert hp.dtype == object and hp.shape == (1, x.size)
    assert all(_exact(e) == Fraction(v) for e, v in zip(hp.ravel(), x, strict=True))
    assert to_float64(hp).ravel().view(np.uint64).tolist() == x.view(np.uint64).tolist()


def test_to_hp_takes_float32_and_scalars_exactly(ctx):
    x32 = np.array([0.1, -3.7], dtype=np.float32)
    assert to_float64(to_hp(x32, ctx)).tolist() == x32.astype(np.float64).tolist()
    for scalar in (0.1, np.float64(0.1)):
        hp = to_hp(scalar, ctx)
        assert hp.shape == () and hp.dtype == object and hp[()] == ctx.mpf(0.1)


def test_negative_zero_becomes_zero_because_mpmath_has_no_signed_zero(ctx):
    back = to_float64(to_hp(np.array([-0.0]), ctx))
    assert back[0] == 0.0 and not np.signbit(back[0])


@pytest.mark.parametrize(
    ("value", "named"),
    [(np.arange(3), "int64"), (np.array([True]), "bool"), (np.array([1j]), "complex128"),
     (np.zeros(2, np.float16), "float16"), (3, "int"), (True, "bool"), (1j, "complex"), ([0.5], "list"),
     (np.array([0.5], dtype=object), "object")],
)  # fmt: skip
def test_to_hp_rejects_non_float_inputs_naming_the_type(value, named, ctx):
    with pytest.raises(TypeError, match=f"float64 or float32 array or scalar, got .*{named}"):
        to_hp(value, ctx)


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_to_hp_rejects_non_finite_values_naming_the_index(bad, ctx):
    with pytest.raises(ValueError, match=r"finite values, got .* at index \(1, 0\)"):
        to_hp(np.array([[1.0], [bad]]), ctx)


def test_to_hp_rejects_a_context_too_coarse_for_float64():
    coarse = mpmath.MPContext()
    coarse.prec = 52
    with pytest.raises(ValueError, match="at least 53 bits to be exact, got 52"):
        to_hp(np.array([0.1]), coarse)


def test_to_float64_rounds_to_nearest_ties_to_even(ctx):
    one, ulp = ctx.mpf(1), ctx.mpf(2) ** -52
    values = np.array([one + ulp / 2, one + 3 * ulp / 2, one + ulp / 2 + ctx.mpf(2) ** -100], dtype=object)
    assert to_float64(values).tolist() == [1.0, 1.0 + 2 * 2.0**-52, 1.0 + 2.0**-52]


def test_to_float64_rounds_subnormals_once(ctx):
    tiny = ctx.mpf(2) ** -1074  # the smallest subnormal
    assert to_float64(np.array([(ctx.mpf(2.5) + ctx.mpf(2) ** -60) * tiny], dtype=object))[0] == 3 * 5e-324


def test_to_float64_rounds_zero_and_subnormals_of_either_sign(ctx):
    tiny = ctx.mpf(2) ** -1074  # the smallest subnormal
    values = np.array([ctx.zero, -tiny, tiny * 0.75, -(ctx.mpf(2) ** -1030) * 3], dtype=object)
    assert to_float64(values).tolist() == [0.0, -5e-324, 5e-324, -3 * 2.0**-1030]


@pytest.mark.parametrize("value", ["0", "-2.5", "1e-320", "3e300", "-7e-400", "1/3"])
def test_exact_fraction_is_the_exact_value(ctx, value):
    x = ctx.mpf(1) / 3 if value == "1/3" else ctx.mpf(value)
    assert exact_fraction(x) == _exact(x)
    assert float(exact_fraction(x)) == float(_exact(x))


@pytest.mark.parametrize("value", ["inf", "-inf", "nan"])
def test_exact_fraction_refuses_infinities_and_nan(ctx, value):
    with pytest.raises(ValueError, match="finite mpf"):
        exact_fraction(ctx.mpf(value))


def test_to_float64_overflows_to_infinity(ctx):
    assert to_float64(np.array([ctx.mpf(2) ** 2000, -(ctx.mpf(2) ** 2000)], dtype=object)).tolist() == [np.inf, -np.inf]


def test_to_float64_takes_any_context_constants_and_scalars():
    mixed = np.array([mpmath.mpf(1) / 4, 0.5, 3, context(60).mpf(2)], dtype=object)
    assert to_float64(mixed).tolist() == [0.25, 0.5, 3.0, 2.0]
    assert to_float64(context(30).mpf(0.5)).shape == ()
    assert to_float64(np.array([1.5], np.float32)).dtype == np.float64


@pytest.mark.parametrize(
    ("value", "match"),
    [(np.array([1.0, mpmath.mpc(1, 2)], dtype=object), r"mpc.* at \(1,\)"),
     (np.array([1j]), "complex128"), (np.array([True]), "bool")],
)  # fmt: skip
def test_to_float64_rejects_non_real_values(value, match):
    with pytest.raises(TypeError, match=match):
        to_float64(value)


def test_precision_of_classifies_each_kind(ctx):
    x = to_hp(np.array([0.5, -2.0]), ctx)
    assert precision_of(x, ctx) == "high" and precision_of(x[0], ctx) == "high"
    plain = x.view(np.ndarray)  # a plain object array, without the HPArray routing
    assert precision_of(np.maximum(plain, 0.0), ctx) == "mixed"  # inserts the Python float 0.0
    assert precision_of(np.sign(plain), ctx) == "mixed"  # numpy's object sign returns Python ints
    # The high-precision array makes such numbers exact numbers of its context: a later np.exp works on them.
    assert precision_of(np.maximum(x, 0.0), ctx) == "high" and precision_of(np.sign(x), ctx) == "high"
    assert precision_of(np.exp(np.maximum(x, 0.0)), ctx) == "high"
    for f64 in (np.zeros(2), 0.5, np.float64(0.5)):
        assert precision_of(f64, ctx) == "float64"
    others = [np.arange(2), np.zeros(2, np.float32), x > 0, 1, (x, x), np.array([ctx.mpc(1, 1)], dtype=object),
              np.array([mpmath.mpf(1)], dtype=object), context(41).mpf(1),
              np.array([x[0], True], dtype=object)]  # fmt: skip
    assert [precision_of(value, ctx) for value in others] == ["other"] * len(others)


def test_is_hp_accepts_high_and_mixed_only(ctx):
    x = to_hp(np.array([0.5, -2.0]), ctx)
    assert is_hp(x, ctx) and is_hp(np.clip(x, -1.0, 1.0), ctx)
    assert not is_hp(to_float64(x), ctx) and not is_hp(to_hp(np.ones(1), context(50)), ctx)


def _softmax(x):
    e = np.exp(x - x.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def _flat(m):
    return [u for row in m for u in row]


def _ref_softmax(r, a, b):
    return [r.exp(v - max(row)) / r.fsum(r.exp(u - max(row)) for u in row) for row in a for v in row]


def _ref_matmul(r, a, b):
    return [r.fsum(a[i][k] * b[k][j] for k in range(len(b))) for i in range(len(a)) for j in range(len(b[0]))]


def _ref_var(r, a, b):
    v = _flat(a)
    mean = r.fsum(v) / len(v)
    return [r.fsum((u - mean) ** 2 for u in v) / len(v)]


NUMPY_FUNCTIONS = [  # name, f(a, b) on hp arrays, reference(ref, a, b) on nested lists; a is 2x3, b is 3x2
    ("softmax", lambda a, b: _softmax(a), _ref_softmax),
    ("maximum", lambda a, b: np.maximum(a, b.T), lambda r, a, b: list(map(max, _flat(a), _flat(zip(*b, strict=True))))),
    ("where", lambda a, b: np.where(a > 0, np.tanh(a), a * a),
     lambda r, a, b: [r.tanh(u) if u > 0 else u * u for u in _flat(a)]),
    ("einsum", lambda a, b: np.einsum("ij,jk->ik", a, b), _ref_matmul),
    ("tensordot", lambda a, b: np.tensordot(a, b, axes=1), _ref_matmul),
    ("norm", lambda a, b: np.linalg.norm(a), lambda r, a, b: [r.sqrt(r.fsum(u * u for u in _flat(a)))]),
    ("var", lambda a, b: a.var(), _ref_var),
    ("cumsum", lambda a, b: np.cumsum(a), lambda r, a, b: [r.fsum(_flat(a)[: k + 1]) for k in range(6)]),
    ("prod", lambda a, b: np.prod(a), lambda r, a, b: [r.fprod(_flat(a))]),
    ("sort", lambda a, b: np.sort(a, axis=None), lambda r, a, b: sorted(_flat(a))),
]  # fmt: skip


@pytest.mark.parametrize(("f", "reference"), [c[1:] for c in NUMPY_FUNCTIONS], ids=[c[0] for c in NUMPY_FUNCTIONS])
def test_numpy_functions_stay_high_precision(f, reference, ctx, ref, rng):
    a, b = rng.normal(size=(2, 3)), rng.normal(size=(3, 2))
    out = f(to_hp(a, ctx), to_hp(b, ctx))
    assert precision_of(out, ctx) == "high"
    expected = reference(ref, [[ref.mpf(v) for v in row] for row in a], [[ref.mpf(v) for v in row] for row in b])
    assert_hp_close(out, expected, ctx, ref)


def test_clip_bounds_become_exact_numbers_of_the_context(ctx):
    out = np.clip(to_hp(np.array([-3.0, 0.1, 3.0]), ctx) / 3, -0.5, 0.5)
    assert precision_of(out, ctx) == "high"
    assert [type(e) for e in out] == [ctx.mpf] * 3
    assert out[0] == -0.5 and out[2] == 0.5 and out[1] == ctx.mpf(0.1) / 3


def test_exp_after_an_inserted_float_constant_stays_high_precision(ctx):
    x = to_hp(np.array([0.5, -2.0]), ctx)
    value, reason = evaluate_hp(lambda v: np.exp(np.maximum(v, 0.0)), [x], ctx)
    assert reason is None and precision_of(value, ctx) == "high"
    assert value[0] == ctx.exp(ctx.mpf(0.5)) and value[1] == 1


def test_a_ufunc_without_a_high_precision_loop_is_named_with_the_users_line(ctx):
    x = to_hp(np.array([0.5, -2.0]), ctx)
    value, reason = evaluate_hp(lambda v: np.nextafter(v, v), [x], ctx)
    assert value is None
    assert reason.startswith("reference limited to float64 by numpy.nextafter, which raised TypeError")
    assert "test_precision.py:" in reason and "np.nextafter(v, v)" in reason


def test_evaluate_hp_names_the_numpy_function_that_raised(ctx):
    m = to_hp(np.array([[0.0, -1.0], [1.0, 0.0]]), ctx)  # complex eigenvalues: no real twin
    value, reason = evaluate_hp(lambda a: np.sum(np.linalg.eigvals(a)), [m], ctx)
    assert value is None
    assert reason.startswith("reference limited to float64 by numpy.linalg.eigvals, which raised ")


def test_evaluate_hp_returns_high_and_mixed_values(ctx):
    x = to_hp(np.array([0.5, -2.0]), ctx)
    value, reason = evaluate_hp(lambda v: np.maximum(np.tanh(v), 0.0), [x], ctx)
    assert reason is None
    assert value[0] == ctx.tanh(ctx.mpf(0.5)) and value[1] == 0.0


@pytest.mark.parametrize(
    ("f", "match"),
    [(lambda v: np.array(v.tolist(), dtype=float), r"returned float64 output \(dtype float64\)"),
     (lambda v: v * 1j, r"returned other output \(mpc element .* at \(0,\)\)"),
     (lambda v: v > 0, r"returned other output \(dtype bool\)")],
)  # fmt: skip
def test_evaluate_hp_reports_non_hp_outputs(f, match, ctx):
    value, reason = evaluate_hp(f, [to_hp(np.array([0.5, -2.0]), ctx)], ctx)
    assert value is None
    assert re.search(match, reason)


def test_hypot_and_arctan2_take_a_float_operand_on_either_side(ctx):
    """numpy's object loop calls the method on the first argument; a Python float operand is converted to the
    context's number first (exactly), so it has the method whichever side it is on."""
    x = to_hp(np.array([0.5]), ctx)
    assert type(np.hypot(x, 1.0)[0]) is ctx.mpf
    y = np.arctan2(1.0, x)[0]
    assert type(y) is ctx.mpf and y == ctx.atan2(1, ctx.mpf(0.5))


def test_float64_buffer_is_classified_high_but_lost_precision(ctx, ref, rng):
    """``b[:] = x`` rounds x to float64; ``b * x`` is again mpf, so types cannot show the loss.

    precision_of says "high"; the checker detects this case from how its differences behave.
    """

    def f(x):
        b = np.zeros(x.shape)
        b[:] = x
        return np.sum(b * x)

    x = to_hp(rng.normal(size=4), ctx) / 3  # thirds are not float64 numbers, so the rounding loses something
    out = f(x)
    assert precision_of(out, ctx) == "high"
    exact = ref.fsum(ref.mpf(v) ** 2 for v in x)
    assert abs(ref.mpf(out) - exact) > HP_TOL * exact  # lost beyond the high-precision tolerance...
    assert abs(ref.mpf(out) - exact) < 1e-15 * exact  # ...down to float64 accuracy

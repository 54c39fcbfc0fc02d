"""Validation casts of the checker's arrays keep high precision; everything else is left to numpy."""

import threading

import mpmath
import numpy as np
import pytest

from pytest_gradcheck import check_grad
from pytest_gradcheck.hp import install as hp_twins
from pytest_gradcheck.hp import precision
from pytest_gradcheck.hp.array import HPArray

X = np.array([0.3, -1.1, 0.7])


@pytest.fixture
def ctx():
    return precision.context(40)


def third(ctx):
    return precision.to_hp(X, ctx) / 3  # numbers float64 cannot hold: a float64 cast would change them


CASTS = {
    "astype(float)": lambda x: x.astype(float),
    "astype(np.float64)": lambda x: x.astype(np.float64),
    "asarray(dtype=np.float64)": lambda x: np.asarray(x, dtype=np.float64),
    "asarray(dtype=float)": lambda x: np.asarray(x, dtype=float),
    "asarray(dtype=float, order=C)": lambda x: np.asarray(x, dtype=float, order="C"),
    "array(dtype=float)": lambda x: np.array(x, dtype=float),
    "array()": lambda x: np.array(x),
    "asarray()": lambda x: np.asarray(x),
    "asanyarray(dtype=float)": lambda x: np.asanyarray(x, dtype=float),
    "ascontiguousarray(dtype=float)": lambda x: np.ascontiguousarray(x, dtype=float),
    "asfortranarray(dtype=float)": lambda x: np.asfortranarray(x, dtype=float),
    "require(dtype=float)": lambda x: np.require(x, dtype=float, requirements=["C", "W"]),
    "asarray_chkfinite(dtype=float)": lambda x: np.asarray_chkfinite(x, dtype=float),
    "atleast_2d(asarray)": lambda x: np.atleast_2d(np.asarray(x, dtype=float))[0],
}


@pytest.mark.parametrize("name", sorted(CASTS))
def test_each_float64_cast_keeps_the_checkers_numbers(ctx, name):
    x = third(ctx)
    with hp_twins.patched():
        out = CASTS[name](x)
    assert isinstance(out, HPArray) and out.hp_context is ctx
    assert out.tolist() == x.tolist()  # the same numbers, not their float64 roundings


@pytest.mark.parametrize("name", sorted(CASTS))
def test_a_function_that_validates_with_a_cast_is_checked_at_high_precision(name):
    cast = CASTS[name]

    def f(x):
        return np.sum(np.tanh(cast(x)) ** 2)

    def grad(x):
        return 2 * np.tanh(x) * (1 - np.tanh(x) ** 2)

    result = check_grad(f, X, grad=grad)
    assert result.status == "pass" and result.high_precision and result.precision_note == ""

    def wrong(x):
        g = grad(x)
        g[1] *= 1 + 1e-9
        return g

    bad = check_grad(f, X, grad=wrong, raise_on_mismatch=False)
    assert bad.status == "formula_error" and [m.index for m in bad.mismatches] == [(1,)]


def test_copy_semantics_are_kept(ctx):
    x = third(ctx)
    with hp_twins.patched():
        copied, viewed = np.array(x, dtype=float), np.asarray(x, dtype=float)
        not_copied = np.array(x, dtype=float, copy=False)
    copied[0] = 0
    assert x[0] != 0
    viewed[0] = 0
    assert x[0] == 0 and not_copied[0] == 0  # asarray and copy=False share x's elements


@pytest.mark.parametrize("cast", [lambda x: x.astype(np.float32), lambda x: np.asarray(x, dtype=np.float32),
                                  lambda x: np.array(x, dtype=int), lambda x: np.asarray(x, dtype=complex)])
def test_other_dtypes_still_convert(ctx, cast):
    with hp_twins.patched():
        out = cast(third(ctx))
    assert type(out) is np.ndarray and out.dtype != object


def test_arrays_that_are_not_the_checkers_go_to_numpy_unchanged(ctx):
    foreign = np.array([mpmath.mpf(1) / 3, mpmath.mpf(2)], dtype=object)  # the global context's numbers
    mixed = np.array([ctx.mpf(1) / 3, 0.5], dtype=object)  # not only the checker's numbers
    with hp_twins.patched():
        assert np.asarray(foreign, dtype=float).dtype == np.float64
        assert np.asarray(mixed, dtype=float).dtype == np.float64
        assert np.asarray([0.5, 1], dtype=float).dtype == np.float64
        assert np.array(X, dtype=float) is not X and np.asarray(X, dtype=float) is X


def test_numpys_own_code_and_the_checkers_get_numpys_behaviour(ctx):
    x = third(ctx)
    space = {"__name__": "numpy._internal_example", "np": np, "x": x}
    with hp_twins.patched():
        exec("out = np.asarray(x, dtype=float); sub = np.issubdtype(x.dtype, np.floating)", space)
    assert space["out"].dtype == np.float64 and space["sub"] is False
    plain = {"__name__": "user_module", "np": np, "x": x}
    with hp_twins.patched():
        exec("out = np.asarray(x, dtype=float); sub = np.issubdtype(x.dtype, np.floating)", plain)
    assert isinstance(plain["out"], HPArray) and plain["sub"] is True


def test_asarray_chkfinite_still_refuses_nan(ctx):
    x = precision.to_hp(X, ctx)
    x[1] = ctx.nan
    with hp_twins.patched(), pytest.raises(ValueError, match="must not contain infs or NaNs"):
        np.asarray_chkfinite(x, dtype=float)


def _refusal(call, value):
    with pytest.raises(ValueError) as info:
        call(value)
    return str(info.value)


def test_finfo_and_iinfo_answer_as_for_float64(ctx):
    x = third(ctx)
    unpatched = _refusal(np.finfo, x.dtype)  # numpy refuses the object dtype
    with hp_twins.patched():
        assert np.finfo(x.dtype).eps == np.finfo(x[0]).eps == 2.0 ** -52
        assert _refusal(np.finfo, x) == _refusal(np.finfo, np.zeros(3))  # numpy refuses an array, float64 too
        assert np.finfo(np.float32).eps == np.finfo(np.float32(1)).eps  # other dtypes as numpy answers
        assert _refusal(np.iinfo, x[0]) == _refusal(np.iinfo, np.float64(0.5))  # as for a float64 number
        assert np.iinfo(np.int32).max == 2 ** 31 - 1
    assert _refusal(np.finfo, x.dtype) == unpatched  # restored


def test_issubdtype_of_the_object_dtype_answers_for_float64_except_about_object(ctx):
    dtype = third(ctx).dtype
    with hp_twins.patched():
        assert np.issubdtype(dtype, np.floating) and np.issubdtype(dtype, np.number)
        assert not np.issubdtype(dtype, np.integer) and not np.issubdtype(dtype, np.complexfloating)
        assert np.issubdtype(dtype, np.object_) and np.issubdtype(dtype, np.generic)
        assert not np.issubdtype(np.int64, np.floating)


def test_a_function_using_finfo_and_a_dtype_check_is_checked_at_high_precision():
    def f(x):
        if not np.issubdtype(x.dtype, np.floating):
            raise TypeError("x must be floating")
        eps = np.finfo(x.dtype).eps
        return np.sum(np.log(np.abs(x) + eps))

    def grad(x):
        return np.sign(x) / (np.abs(x) + np.finfo(float).eps)

    result = check_grad(f, X, grad=grad)
    assert result.status == "pass" and result.high_precision


def test_patches_are_restored_after_checks_and_threads(ctx):
    originals = (np.asarray, np.array, np.finfo, np.issubdtype)
    entered, release = threading.Barrier(3), threading.Event()

    def hold():
        with hp_twins.patched():
            entered.wait()
            release.wait()

    threads = [threading.Thread(target=hold) for _ in range(2)]
    for thread in threads:
        thread.start()
    entered.wait()
    assert np.asarray is not originals[0]  # installed while any thread checks
    x = third(ctx)  # ... but acting only in those threads: this one converts as numpy does
    assert np.asarray(x, dtype=float).dtype == np.float64 and np.issubdtype(x.dtype, np.floating) is False
    with pytest.raises(ValueError):
        np.finfo(x.dtype)
    release.set()
    for thread in threads:
        thread.join()
    assert (np.asarray, np.array, np.finfo, np.issubdtype) == originals
    check_grad(lambda x: np.sum(np.asarray(x, dtype=float) ** 2), X, grad=lambda x: 2 * x)
    assert (np.asarray, np.array, np.finfo, np.issubdtype) == originals

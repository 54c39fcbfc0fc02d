"""The high-precision array routes numpy calls, keeps results exact, and names what leaves high precision."""

import threading

import mpmath
import numpy as np
import pytest

from pytest_gradcheck import check_grad
from pytest_gradcheck.hp import dtype_questions, precision
from pytest_gradcheck.hp import install as hp_twins
from pytest_gradcheck.hp import registry as hp_registry
from pytest_gradcheck.hp.array import HPArray, hp_twin, recording_leaks


@pytest.fixture
def ctx():
    return precision.context(40)


def hp(values, ctx):
    return precision.to_hp(np.asarray(values, dtype=float), ctx)


def test_to_hp_gives_an_hp_array_and_results_stay_hp_arrays_of_the_same_context(ctx):
    x = hp([0.5, -1.5, 2.0], ctx)
    assert isinstance(x, HPArray) and x.hp_context is ctx
    for out in (np.tanh(x), x * 2.0, 2.0 * x, x + np.ones(3), np.outer(x, x), np.concatenate([x, x]), x[1:],
                np.where(x > 0, x, 0.0), np.maximum(x, 0.0), np.zeros_like(x)):
        assert isinstance(out, HPArray) and out.hp_context is ctx
        assert all(type(e) is ctx.mpf for e in out.ravel().tolist())


def test_numbers_numpy_inserts_become_exact_context_numbers(ctx):
    x = hp([0.5, -1.5], ctx)
    out = np.exp(np.where(x > 0, x, 0.1))  # the float 0.1 inserted by np.where, then np.exp of it
    assert out[1] == ctx.exp(ctx.mpf(0.1))  # exactly the float64 0.1, exponentiated at 40 digits


def test_a_scalar_from_a_reduction_is_routed_too(ctx):
    x = hp([0.5, -1.5, 2.0], ctx)
    total = np.sum(x)
    assert type(total) is ctx.mpf
    assert np.exp(total) == ctx.exp(ctx.mpf(1.0))
    product = total * np.array([1.0, 2.0])
    assert isinstance(product, HPArray) and product[1] == 2


def test_numpy_scalars_with_a_high_precision_scalar_give_the_exact_context_result(ctx):
    """np.float64(c) - s, 2 ** s, ...: one Python operator on exactly converted numbers, as numpy's object loop
    would compute it, and still high precision (no float64 rounding of the result)."""
    s = np.sum(hp([0.1, 0.2], ctx))
    third = ctx.mpf(1) / 3
    cases = [(np.float64(1.5) - s, ctx.mpf(1.5) - s), (np.int64(3) * s, 3 * s), (np.float64(2.0) ** s, 2 ** s),
             (np.float64(0.7) / s, ctx.mpf(0.7) / s), (-s, ctx.mpf(0) - s), (np.add(s, third), s + third)]
    for got, expected in cases:
        assert type(got) is ctx.mpf and got == expected
    assert type(np.float64(1.5) > s) in (bool, np.bool_)  # comparisons keep numpy's own path


def test_a_registered_ufunc_twin_runs_elementwise_with_broadcasting(ctx):
    calls = []

    def twin(a, b):
        calls.append((a, b))
        return a.context.hypot(a, b)

    hp_registry.register_ufunc("numpy.nextafter", twin)  # any ufunc without an object loop will do
    try:
        out = np.nextafter(hp([[3.0], [5.0]], ctx), np.array([4.0, 12.0]))
    finally:
        hp_registry.unregister("numpy.nextafter")
    assert out.shape == (2, 2) and isinstance(out, HPArray)
    assert [float(v) for v in out.ravel()] == [5.0, float(mpmath.hypot(3, 12)), float(mpmath.hypot(5, 4)), 13.0]
    assert len(calls) == 4 and all(type(a) is ctx.mpf and type(b) is ctx.mpf for a, b in calls)


def test_a_registered_function_twin_receives_the_calls_own_arguments(ctx):
    seen = {}

    def twin(a, axis=None):
        seen["args"] = (type(a), axis)
        return np.asarray([a.flat[0]], dtype=object)

    hp_registry.register_function("numpy.median", twin)
    try:
        out = np.median(hp([1.0, 2.0], ctx), axis=0)
    finally:
        hp_registry.unregister("numpy.median")
    assert seen["args"] == (HPArray, 0) and isinstance(out, HPArray) and out[0] == 1


def test_astype_to_float32_is_recorded_as_the_leak(ctx):
    x = hp([0.5, 2.0], ctx)
    with recording_leaks() as leaks:
        out = x.astype(np.float32)
    assert out.dtype == np.float32 and leaks == ["ndarray.astype(float32)"]
    value, reason = precision.evaluate_hp(lambda v: np.sum(v.astype(np.float32) ** 2), [x], ctx)
    assert value is None and reason.startswith("reference limited to float64 by ndarray.astype(float32)")


@pytest.mark.parametrize("dtype", [float, np.float64, "f8", "float64", np.double])
def test_astype_to_float64_keeps_high_precision_with_astype_copy_semantics(ctx, dtype):
    x = hp([0.1, 2.0], ctx) / 3  # not float64 numbers: a float64 cast would change them
    with recording_leaks() as leaks:
        out = x.astype(dtype)
        same = x.astype(dtype, copy=False)
    assert isinstance(out, HPArray) and out.hp_context is ctx and leaks == []
    assert out.tolist() == x.tolist() and out is not x and same is x
    out[0] = 0  # a copy: x is unchanged
    assert x[0] == ctx.mpf(0.1) / 3


def test_a_silent_float64_return_names_the_library_function(ctx):
    scipy_linalg = pytest.importorskip("scipy.linalg")
    unrouted = hp_registry.unregister("scipy.linalg.sqrtm")  # the generic path, not the twin
    try:
        m = hp([[4.0, 1.0], [1.0, 3.0]], ctx)
        value, reason = precision.evaluate_hp(lambda a: np.sum(scipy_linalg.sqrtm(a)), [m], ctx)
    finally:
        if unrouted is not None:
            hp_registry.register_patched("scipy.linalg.sqrtm", unrouted)
    assert value is None
    assert reason.startswith("reference limited to float64 by scipy.linalg.sqrtm")


def test_float64_pi_inside_is_detected_and_limits_the_achieved_digits():
    x = np.array([0.3, 0.7])
    result = check_grad(lambda x: np.sum(np.sin(np.pi * x)), x, grad=lambda x: np.pi * np.cos(np.pi * x),
                        per_op="off")
    assert result.status == "pass" and result.float64_constants == ["pi"]
    assert 15 < result.achieved_digits < 17 and any("float64 constant(s) pi" in n for n in result.notes)
    exact = check_grad(lambda x: np.sum(np.sin(x * 3.0)), x, grad=lambda x: 3.0 * np.cos(3.0 * x), per_op="off")
    assert exact.float64_constants == [] and exact.achieved_digits == exact.digits  # the tier's own digits


def test_a_float64_constant_inside_an_array_operand_is_detected_in_every_check():
    """Constant float64 arrays are converted once per value and remembered: the second check, which finds
    the conversion done, still notes the float64 pi inside the array."""
    weights = np.array([np.pi, 1.0])
    x = np.array([0.3, 0.7])
    results = [check_grad(lambda x: np.sum(weights * x**2), x, grad=lambda x: 2 * weights * x, per_op="off")
               for _ in range(2)]
    assert [r.float64_constants for r in results] == [["pi"], ["pi"]]
    assert all(r.status == "pass" and 15 < r.achieved_digits < 17 for r in results)


def test_check_grad_with_clip_and_maximum_stays_high_precision():
    x = np.array([-0.7, 0.2, 0.9])

    def f(x):
        return np.sum(np.exp(np.clip(x, -0.5, 0.5)) + np.tanh(np.maximum(x, 0.0)))

    def grad(x):
        inside = (x > -0.5) & (x < 0.5)
        return np.where(inside, np.exp(x), 0.0) + np.where(x > 0, 1 - np.tanh(x) ** 2, 0.0)

    result = check_grad(f, x, grad=grad, per_op="off")
    assert result.status == "pass" and result.high_precision


def test_patched_twins_are_installed_only_while_checks_run_and_restored():
    scipy_special = pytest.importorskip("scipy.special")
    marker = object()
    previous = hp_registry.unregister("scipy.special.multigammaln")
    hp_registry.register_patched("scipy.special.multigammaln", lambda *a, **k: marker)
    original = scipy_special.multigammaln
    try:
        with hp_twins.patched():
            inner = scipy_special.multigammaln
            assert inner is not original and inner.__wrapped__ is original
            assert inner(3.0, 2) == original(3.0, 2)  # float arguments: the original
            ctx = precision.context(40)
            assert inner(ctx.mpf(3), 2) is marker  # high precision: the twin
        assert scipy_special.multigammaln is original
    finally:
        hp_registry.unregister("scipy.special.multigammaln")
        if previous is not None:
            hp_registry.register_patched("scipy.special.multigammaln", previous)


def test_patching_is_shared_by_threads_and_restored_by_the_last_one():
    scipy_special = pytest.importorskip("scipy.special")
    previous = hp_registry.unregister("scipy.special.multigammaln")
    hp_registry.register_patched("scipy.special.multigammaln", lambda *a, **k: None)
    original = scipy_special.multigammaln
    inside, release = threading.Barrier(3), threading.Event()

    def worker():
        with hp_twins.patched():
            inside.wait()
            release.wait()

    try:
        threads = [threading.Thread(target=worker) for _ in range(2)]
        for t in threads:
            t.start()
        inside.wait()
        assert scipy_special.multigammaln is not original
        release.set()
        for t in threads:
            t.join()
        assert scipy_special.multigammaln is original
    finally:
        hp_registry.unregister("scipy.special.multigammaln")
        if previous is not None:
            hp_registry.register_patched("scipy.special.multigammaln", previous)


def test_hp_twin_decorator_routes_a_users_own_function(ctx):
    @hp_twin(lambda a: a * 2)
    def doubled_via_float64(a):
        return np.asarray(a, dtype=float) * 2

    assert doubled_via_float64(np.array([1.5])).dtype == np.float64
    out = doubled_via_float64(hp([1.5], ctx))
    assert precision.precision_of(out, ctx) == "high" and out[0] == 3
    result = check_grad(lambda x: np.sum(doubled_via_float64(x) ** 2), np.array([0.5, 1.0]),
                        grad=lambda x: 8 * x, per_op="off")
    assert result.high_precision and result.status == "pass"


@pytest.mark.parametrize("bad", ["numpy.exp", 3])
def test_register_hp_refuses_what_is_not_a_function(bad):
    with pytest.raises(TypeError, match="register_hp: function"):
        hp_registry.register_hp(bad, lambda x: x)


def test_register_hp_refuses_a_twin_that_is_not_callable():
    with pytest.raises(TypeError, match="twin: expected a callable"):
        hp_registry.register_hp(np.nextafter, "twin")


def test_the_first_check_in_a_fresh_process_already_reaches_patched_twins():
    import subprocess
    import sys

    code = ("import numpy as np, scipy.stats\nfrom pytest_gradcheck import check_grad\n"
            "r = check_grad(lambda x: np.sum(scipy.stats.norm.logpdf(x)), np.array([0.3, -1.2]), grad=lambda x: -x)\n"
            "print(r.status, r.high_precision)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["pass", "True"]


def test_in_place_ufuncs_and_linspace_with_high_precision_scalars(ctx):
    a = np.array([ctx.mpf(1), ctx.mpf(2)], dtype=object)
    np.multiply(a, ctx.mpf(2), out=a)  # once recursed through the scalar protocol
    assert list(a) == [2, 4]
    x = hp([1.0, 2.0], ctx)
    line = np.linspace(x[0], x[1], 3)
    assert [type(v) for v in line] == [ctx.mpf] * 3 and line[1] == ctx.mpf(1.5)


def test_complex_intermediates_angle_and_real_if_close(ctx):
    z = np.fft.fft(hp([1.0, -2.0, 0.5], ctx))
    assert np.allclose([complex(v) for v in np.exp(z)], np.exp(np.fft.fft([1.0, -2.0, 0.5])), rtol=1e-14)
    assert np.allclose([float(v) for v in np.angle(z)], np.angle(np.fft.fft([1.0, -2.0, 0.5])), rtol=1e-14)
    real = np.real_if_close(z * 0 + 1)
    assert [type(v) for v in real] == [ctx.mpf] * 3


def test_fallback_reasons_use_the_public_name(ctx):
    value, reason = precision.evaluate_hp(lambda v: np.sum(np.frexp(v)[0]), [hp([0.5, 3.0], ctx)], ctx)
    assert value is None and "by numpy.frexp" in reason


def test_numpy_fft_first_imported_inside_a_pytester_run_keeps_working_after_it(tmp_path):
    # pytester's in-process runs restore sys.modules; numpy.fft's C extension cannot be imported twice, so the
    # twins must reach numpy submodules through numpy's attributes, not through a second import.
    import subprocess
    import sys

    check = ("import numpy as np\nfrom pytest_gradcheck import check_grad\n"
             "def loss(x):\n    return np.sum(np.abs(np.fft.rfft(x)) ** 2)\n"
             "def grad(x):\n    h = np.fft.rfft(x)\n"
             "    return 2 * x.size * np.real(np.fft.ifft(np.concatenate([h, np.zeros(x.size - h.size)])))\n")
    (tmp_path / "conftest.py").write_text("import numpy\npytest_plugins = ['pytester']\n")
    inner = check + "def test_x():\n    check_grad(loss, np.arange(4.0), grad=grad)\n"
    (tmp_path / "test_a_inner.py").write_text(
        "def test_inner(pytester):\n"
        f"    pytester.makepyfile({inner!r})\n"
        "    pytester.runpytest_inprocess('-p', 'no:cacheprovider').assert_outcomes(passed=1)\n")
    (tmp_path / "test_b_outer.py").write_text(
        check + "def test_outer():\n    r = check_grad(loss, np.arange(4.0), grad=grad)\n"
        "    assert r.high_precision and r.status == 'pass'\n")
    done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:randomly",
                           str(tmp_path)], capture_output=True, text=True, cwd=tmp_path, timeout=300)
    assert "2 passed" in done.stdout, done.stdout[-3000:]


def test_dtype_questions_of_user_code_are_recorded_and_numpys_own_are_not(ctx):
    x = hp([0.5, 2.0], ctx)
    with dtype_questions.recording() as asked:
        np.sum(np.exp(np.where(x > 1, x, 0.0)))  # numpy reads the dtype inside: not f's question
        assert asked == []
        kind = x.dtype.kind  # f's own question, at this line
    assert kind == "O" and len(asked) == 1 and asked[0].endswith(f"test_hparray.py:{asked[0].split(':')[-1]}")
    assert x.dtype == object  # outside recording: nothing noted, the same answer
    assert len(asked) == 1

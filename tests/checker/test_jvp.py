"""check_jvp: forward-mode derivatives against the high-precision directional derivative, both diagnoses, the
jvp/vjp transpose check, kinks and bad input."""

import numpy as np
import pytest

from pytest_gradcheck import GradcheckError, GradcheckUsageError, check_jvp
from pytest_gradcheck.hp import quad


def sigmoid(z):
    return 1 / (1 + np.exp(-z))


def tanh2(x):
    return 2 * np.tanh(x)


def tanh2_jvp(tangents, x):
    return 2 * (1 - np.tanh(x) ** 2) * tangents[0]


def layer(w, x):
    return np.tanh(w @ x)


def layer_jvp(tangents, w, x):
    dw, dx = tangents
    return (1 - np.tanh(w @ x) ** 2) * (dw @ x + w @ dx)


def layer_vjp(u, w, x):
    g = (1 - np.tanh(w @ x) ** 2) * u
    return np.outer(g, x), w.T @ g


def softmax(z):
    e = np.exp(z - np.max(z))
    return e / np.sum(e)


def softmax_jvp(tangents, z):
    p = softmax(z)
    return p * (tangents[0] - np.sum(p * tangents[0]))


def net(w1, w2, w3, x):
    return sigmoid(w3 @ sigmoid(w2 @ sigmoid(w1 @ x)))


def net_jvp(tangents, w1, w2, w3, x):
    d1, d2, d3, dx = tangents
    h1 = sigmoid(w1 @ x)
    t1 = h1 * (1 - h1) * (d1 @ x + w1 @ dx)
    h2 = sigmoid(w2 @ h1)
    t2 = h2 * (1 - h2) * (d2 @ h1 + w2 @ t1)
    h3 = sigmoid(w3 @ h2)
    return h3 * (1 - h3) * (d3 @ h2 + w3 @ t2)


RNG = np.random.default_rng(7)
W, X = RNG.standard_normal((3, 2)) * 0.5, RNG.standard_normal(2)
NET_ARGS = (RNG.standard_normal((4, 3)) * 0.5, RNG.standard_normal((4, 4)) * 0.5, RNG.standard_normal((2, 4)) * 0.5,
            RNG.standard_normal(3))

CORRECT = {
    "elementwise": (tanh2, (np.array([0.1, -0.3, 0.7]),), tanh2_jvp),
    "matmul layer, two arguments": (layer, (W, X), layer_jvp),
    "softmax": (softmax, (np.array([0.2, -1.0, 0.5, 0.1]),), softmax_jvp),
    "3-layer sigmoid net": (net, NET_ARGS, net_jvp),
    "scalar output": (lambda x, y: np.sum(x * np.sin(y)), (np.array([0.5, 2.0]), np.array([0.3, -0.4])),
                      lambda t, x, y: np.sum(t[0] * np.sin(y) + x * np.cos(y) * t[1])),
}


@pytest.mark.parametrize("mode", ["auto", "full", "fast"])
@pytest.mark.parametrize("case", sorted(CORRECT))
def test_correct_jvps_pass(case, mode):
    f, args, jvp = CORRECT[case]
    result = check_jvp(f, args, jvp=jvp, mode=mode)
    assert result.ok and result.status == "pass" and result.kind == "jvp", result.report()
    assert result.gradient_source == "jvp" and result.worst["formula"] < 1e-18
    if result.mode == "full":  # the Jacobian, out.shape + x.shape per argument
        out = np.shape(f(*args))
        assert [r.shape for r in result.reference] == [out + a.shape for a in args]


def test_full_mode_gives_the_jacobian():
    result = check_jvp(tanh2, (np.array([0.1, -0.3]),), jvp=tanh2_jvp, mode="full")
    expected = np.diag(2 * (1 - np.tanh([0.1, -0.3]) ** 2))
    assert np.allclose(np.asarray(result.reference[0], dtype=float), expected, rtol=1e-15, atol=0)
    assert np.allclose(result.gradient[0], expected, rtol=1e-15, atol=0)


def planted(jvp, output_index, relative=1e-9):
    """jvp with a relative error planted in one output element of every tangent it returns."""

    def wrong(tangents, *args):
        out = np.array(jvp(tangents, *args), copy=True)
        out[output_index] = out[output_index] * (1 + relative)
        return out

    return wrong


@pytest.mark.parametrize("mode", ["auto", "full"])
def test_a_planted_1e9_error_in_one_component_is_caught_and_named(mode):
    result = check_jvp(layer, (W, X), jvp=planted(layer_jvp, 1), mode=mode, raise_on_mismatch=False)
    assert result.status == "formula_error" and result.mode == "full", result.report()
    assert {m.where.split(" along ")[0] for m in result.mismatches} == {"output element (1,)"}
    assert all(m.kind == "formula" and 0.5e-9 < m.rel_error < 2e-9 for m in result.mismatches)
    named = {(m.argument, m.where) for m in result.mismatches}
    assert (0, "output element (1,) along element (1, 0)") in named and (1, "output element (1,) along element (0,)") \
        in named  # the tangent: argument w's element (1, 0), argument x's element (0,)
    with pytest.raises(GradcheckError, match=r"the jvp formula disagrees.*\n(.*\n)*.*output element \(1,\)"):
        check_jvp(layer, (W, X), jvp=planted(layer_jvp, 1), mode=mode)


def test_fast_mode_catches_the_planted_error_in_every_output_element_of_a_random_tangent():
    x = np.linspace(-1, 1, 80)  # more than 64 elements: auto checks random tangents
    result = check_jvp(tanh2, (x,), jvp=planted(tanh2_jvp, 17), raise_on_mismatch=False)
    assert result.status == "formula_error" and result.mode == "fast" and result.projections == 4
    assert {m.where for m in result.mismatches} == {"output element (17,)"}
    assert {m.name for m in result.mismatches} == {f"random tangent {k}" for k in range(4)}
    assert 0 < result.miss_probability < 0.25
    assert check_jvp(tanh2, (x,), jvp=tanh2_jvp).status == "pass"


def test_float64_accuracy_is_a_separate_diagnosis():
    def f(z):
        return np.exp(z[0]) / np.sum(np.exp(z))

    def jvp(tangents, z):  # right, but in float64 the sum of exponentials overflows and p is 0
        p = np.exp(z) / np.sum(np.exp(z))
        return p[0] * (tangents[0][0] - np.sum(p * tangents[0]))

    z = np.array([709.5, 709.0, 700.0])
    with np.errstate(over="ignore", invalid="ignore"):
        result = check_jvp(f, (z,), jvp=jvp, raise_on_mismatch=False)
        warned = check_jvp(f, (z,), jvp=jvp, float64_accuracy="warn")
    assert result.status == "float64_accuracy", result.report()
    assert result.mismatches and all(m.kind == "float64_accuracy" for m in result.mismatches)
    assert result.worst["formula"] < 1e-18
    assert warned.ok and warned.status == "float64_accuracy"


def test_a_jvp_and_vjp_that_are_transposes_pass_the_transpose_check():
    result = check_jvp(layer, (W, X), jvp=layer_jvp, vjp=layer_vjp)
    assert result.status == "pass" and result.worst["transpose"] < 1e-25, result.report()


def test_a_jvp_and_vjp_that_are_not_transposes_are_caught():
    def vjp(u, w, x):
        gw, gx = layer_vjp(u, w, x)
        gx = gx.copy()
        gx[0] *= 1 + 1e-9
        return gw, gx

    result = check_jvp(layer, (W, X), jvp=layer_jvp, vjp=vjp, raise_on_mismatch=False)
    assert result.status == "formula_error", result.report()
    assert [m.kind for m in result.mismatches] == ["transpose"]  # the jvp itself is right
    assert any(n.startswith("jvp and vjp are not transposes of each other: <u, jvp(v)> = ") for n in result.notes)
    assert "transpose" in result.report()


def test_a_kink_is_nondifferentiable_with_the_one_sided_derivatives():
    x = np.array([0.0, 0.5])
    result = check_jvp(np.abs, (x,), jvp=lambda t, x: np.sign(x) * t[0], raise_on_mismatch=False)
    assert result.status == "nondifferentiable" and result.ok, result.report()
    (kink,) = result.kinks
    assert kink.argument == 0 and "element (0,)" in kink.where and "output element (0,)" in kink.where
    assert sorted([kink.left, kink.right]) == pytest.approx([-1.0, 1.0]) and kink.valid_choice
    wrong = check_jvp(np.abs, (x,), jvp=lambda t, x: np.where(x == 0, 5.0, np.sign(x)) * t[0],
                      raise_on_mismatch=False)
    assert wrong.status == "nondifferentiable" and not wrong.ok and not wrong.kinks[0].valid_choice


@pytest.mark.parametrize(("jvp", "message"), [
    (lambda t, x: (t[0],), r"jvp returned tuple .* expected the output tangent, one array shaped like f's output"),
    (lambda t, x: t[0][:2], r"jvp returned shape \(2,\) for the tangents along a random tangent, expected f's "
                            r"output shape \(3,\)"),
    (lambda t, x: t[0] * 1j, "jvp returned dtype complex128"),
    (lambda t, x: "tangent", "jvp returned str"),
    (3, "jvp: expected a callable, got int"),
])
def test_a_bad_jvp_is_a_usage_error_naming_it(jvp, message):
    with pytest.raises(GradcheckUsageError, match=message):
        check_jvp(tanh2, (np.array([0.1, 0.2, 0.3]),), jvp=jvp)


@pytest.mark.parametrize(("call", "message"), [
    (lambda: check_jvp(tanh2, (np.array([0.1]),), jvp=tanh2_jvp, mode="taylor"), "mode: expected one of"),
    (lambda: check_jvp(np.array([0.1]), tanh2), "f: expected a callable"),
    (lambda: check_jvp(tanh2, (np.array([0.1]),), jvp=tanh2_jvp, vjp="no"), "vjp: expected a callable"),
    (lambda: check_jvp(tanh2, (np.array([0.1]),), jvp=tanh2_jvp, rtol=-1.0), "rtol: expected"),
    (lambda: check_jvp(layer, (W, "x"), jvp=layer_jvp), r"args\[1\] \('x'\)"),
    (lambda: check_jvp(layer, (W, X), jvp=layer_jvp, vjp=lambda u, w, x: (w,)), "vjp returned 1 arrays"),
])
def test_bad_input_names_the_argument(call, message):
    with pytest.raises(GradcheckUsageError, match=message):
        call()


def test_a_nondeterministic_jvp_is_named():
    calls = []

    def jvp(tangents, x):
        calls.append(1)
        return tanh2_jvp(tangents, x) * (1 + 1e-12 * len(calls))

    result = check_jvp(tanh2, (np.array([0.1, 0.2]),), jvp=jvp, raise_on_mismatch=False)
    assert result.status == "nondeterministic" and "the jvp (jvp)" in result.notes[0]


def test_a_jvp_that_runs_only_in_float64_is_judged_in_float64():
    def floats(values):  # float() of every element: high-precision numbers become float64
        return np.array([float(v) for v in np.ravel(values)]).reshape(np.shape(values))

    def jvp(tangents, x):
        return tanh2_jvp(tuple(floats(t) for t in tangents), floats(x))

    result = check_jvp(tanh2, (np.array([0.1, 0.2]),), jvp=jvp)
    assert result.status == "pass" and result.tolerance["rtol_formula"] == 1e-10
    assert any("judged in float64" in n for n in result.notes)


@pytest.mark.parametrize("backend", ["auto", "mpmath"])
def test_the_engines_jvp_and_vjp_are_checked_and_transposes(backend):
    # auto: quad when installed; the engine's traces defer to nothing but themselves inside quad's dispatch
    result = check_jvp(layer, (W, X), backend=backend)
    assert result.status == "pass" and result.gradient_source == "autodiff_ref", result.report()
    assert result.worst["transpose"] < 1e-25 and result.tolerance["rtol_formula"] == 4.4e-16
    assert not any("float64" in n for n in result.notes), result.notes

    def wrong_vjp(u, w, x):
        gw, gx = layer_vjp(u, w, x)
        return gw * (1 + 1e-9), gx

    caught = check_jvp(layer, (W, X), vjp=wrong_vjp, backend=backend, raise_on_mismatch=False)
    assert caught.status == "formula_error" and [m.kind for m in caught.mismatches] == ["transpose"]


def test_a_function_that_runs_only_in_float64_gets_a_float64_reference():
    import math

    def f(x):  # math.fsum takes floats only
        return np.array([math.fsum(np.sin(x).tolist()), float(x[0] * x[1])])

    def jvp(tangents, x):
        (t,) = tangents
        return np.array([np.sum(np.cos(x) * t), t[0] * x[1] + x[0] * t[1]])

    result = check_jvp(f, (np.array([0.3, 0.7]),), jvp=jvp)
    assert result.status == "pass" and not result.high_precision and result.backend == "float64"
    assert result.tolerance["rtol_formula"] == 1e-10
    wrong = check_jvp(f, (np.array([0.3, 0.7]),), jvp=planted(jvp, 0, 1e-6), raise_on_mismatch=False)
    assert wrong.status == "formula_error" and wrong.mismatches[0].where.startswith("output element (0,)")


def test_a_check_stopped_by_its_budget_lists_the_tangents_it_compared():
    x = np.array([0.3, 0.7, 0.1])
    result = check_jvp(lambda x: np.tanh(x), (x,), jvp=lambda t, x: (1 - np.tanh(x) ** 2) * t[0], mode="full",
                       max_evaluations=24, raise_on_mismatch=False)
    assert result.status == "budget_exceeded" and not result.ok
    assert 0 < len(result.checked) < 3 and result.checked[0] == "argument 0 ('x'), element (0,)"


SMALL_ROWS = np.array([1.0, 0.03, 1.0, 0.02])  # output elements 30-50 times smaller than the others
X_SMALL = np.array([0.3, -1.2, 0.8, 2.0])


def scaled_tanh(x):
    return SMALL_ROWS * np.tanh(x)


def scaled_tanh_jvp(tangents, x, planted=0.0):
    return SMALL_ROWS * (1 - np.tanh(x) ** 2) * tangents[0] * (1 + np.array([0.0, planted, 0.0, 0.0]))


@pytest.mark.skipif(not quad.available(), reason="numpy-quaddtype is not installed")
def test_on_quad_a_correct_jvp_with_small_output_elements_passes_the_screen_in_9_evaluations():
    """The 3-evaluation derivative's round-off (1000 ulps of |f| over a step 8e-11) exceeds the screen's window of
    the small elements on quad: the screen takes the 6-evaluation Richardson derivative instead of escalating
    (2 float64 evaluations, f at the point, 6: 9; mpmath's screen takes 6, the full check 35)."""
    result = check_jvp(scaled_tanh, X_SMALL, jvp=scaled_tanh_jvp)
    assert result.backend == "quad" and result.status == "pass" and result.mode == "fast", result.report()
    assert result.evaluations <= 9 and any(n.startswith("screen:") for n in result.notes)
    assert check_jvp(scaled_tanh, X_SMALL, jvp=scaled_tanh_jvp, backend="mpmath").evaluations == 6


@pytest.mark.skipif(not quad.available(), reason="numpy-quaddtype is not installed")
def test_on_quad_an_error_just_above_the_tolerance_in_a_small_output_element_still_fails():
    """6.7e-16 relative (1 + 6e-16 rounded in float64) in the element 0.03 against 1, the tolerance 4.4e-16 of it:
    the screen does not pass it, the full check names it."""
    result = check_jvp(scaled_tanh, X_SMALL, jvp=lambda t, x: scaled_tanh_jvp(t, x, planted=6e-16),
                       raise_on_mismatch=False)
    assert result.backend == "quad" and result.status == "formula_error" and result.mode == "full", result.report()
    assert [(m.argument, m.where) for m in result.mismatches if m.kind == "formula"] == [
        (0, "output element (1,) along element (1,)")]


def test_a_ufunc_checked_directly_is_named_after_itself():
    result = check_jvp(np.tanh, (np.array([0.3, 0.7]),), jvp=lambda t, x: (1 - np.tanh(x) ** 2) * t[0])
    assert result.status == "pass" and "tanh" in result.function and "user_call" not in result.function

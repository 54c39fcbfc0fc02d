"""check_hvp: correct Hessian-vector products pass, a planted 1e-9 error is caught and named, the two diagnoses
stay apart, kinks are reported as such, and bad input names the argument."""

from __future__ import annotations

import numpy as np
import pytest
from second_order_cases import CASES, logistic, logistic_hvp, net, planted_hvp, quadratic, quadratic_hvp

import autodiff_ref
from pytest_gradcheck import GradcheckError, GradcheckUsageError, check_grad, check_hessian, check_hvp
from pytest_gradcheck.hp import quad


@pytest.mark.parametrize("name", sorted(CASES))
def test_the_engines_hvp_passes_in_every_mode(name):
    f, args = CASES[name]
    for mode in ("auto", "full", "fast"):
        result = check_hvp(f, args, mode=mode)
        assert result.status == "pass", (mode, result.report())
        assert result.kind == "hvp" and result.gradient_source == "autodiff_ref"


def test_hand_written_hvps_pass_and_full_mode_keeps_the_reference_hessian():
    x = CASES["quadratic"][1]
    result = check_hvp(quadratic, x, hvp=quadratic_hvp, mode="full")
    assert result.status == "pass" and result.gradient_source == "hvp"
    np.testing.assert_allclose(result.reference[0], [[2.0, 0.5, 0.0], [0.5, 1.0, -0.3], [0.0, -0.3, 3.0]],
                               atol=1e-20)
    assert np.max(result.reference_error[0]) < 1e-18
    assert check_hvp(logistic, CASES["logistic"][1], hvp=logistic_hvp).status == "pass"


@pytest.mark.parametrize("mode", ["full", "auto", "fast"])
def test_a_1e_minus_9_error_in_one_component_is_caught_and_named(mode):
    f, args = CASES["net"]
    result = check_hvp(f, args, hvp=planted_hvp(f, 1, (1, 0)), mode=mode, raise_on_mismatch=False)
    assert result.status == "formula_error", result.report()
    if mode == "fast":  # the failing projections, and the first one narrowed to the element of its H v
        assert any(m.where.startswith("projection") for m in result.mismatches)
        assert [(m.name, m.where) for m in result.mismatches if m.argument is not None] == [
            ("w2", "element (1, 0) of H v, v of projection 0")]
        assert result.miss_probability is not None and result.miss_probability < 0.5
        return
    assert result.mode == "full"  # auto: the screen fails and escalates
    named = {(m.name, m.where) for m in result.mismatches}
    assert ("w2", "element (1, 0) of H v, column w1 (0, 0)") in named
    assert {m.name for m in result.mismatches} == {"w2"}
    assert all("(1, 0) of H v" in m.where for m in result.mismatches)
    worst = result.mismatches[0]
    assert 0.5e-9 < worst.rel_error < 2e-9 and worst.abs_error > worst.tolerance


def test_the_failure_raises_with_a_report_naming_the_column():
    f, args = CASES["quadratic"]
    with pytest.raises(GradcheckError) as caught:
        check_hvp(f, args, hvp=planted_hvp(f, 0, (2,)), mode="full")
    text = str(caught.value)
    assert text.startswith("the Hessian-vector product formula disagrees with the high-precision second derivative")
    assert "(2,) of H v, column x (2,)" in text


def test_float64_accuracy_is_diagnosed_apart_from_the_formula():
    def cancelling(v, x):  # the right formula; in float64 the cancellation loses 8 digits
        return ((_A_QUADRATIC @ v[0] + 1e8 * x) - 1e8 * x,)

    result = check_hvp(quadratic, CASES["quadratic"][1], hvp=cancelling, mode="full", raise_on_mismatch=False)
    assert result.status == "float64_accuracy", result.report()
    assert {m.kind for m in result.mismatches} == {"float64_accuracy"}
    assert result.worst["formula"] < 1e-18
    assert not result.ok
    assert check_hvp(quadratic, CASES["quadratic"][1], hvp=cancelling, mode="full", float64_accuracy="warn").ok


_A_QUADRATIC = np.array([[2.0, 0.5, 0.0], [0.5, 1.0, -0.3], [0.0, -0.3, 3.0]])


def test_an_hvp_that_only_runs_in_float64_is_judged_in_float64():
    def float64_only(v, x):
        if np.asarray(x).dtype == object:
            raise TypeError("float64 only")
        return quadratic_hvp(v, x)

    result = check_hvp(quadratic, CASES["quadratic"][1], hvp=float64_only, mode="full")
    assert result.status == "pass"
    assert result.tolerance["rtol_formula"] == 1e-10
    assert any("cannot run at high precision" in note for note in result.notes)


@pytest.mark.parametrize("f, hvp", [
    (lambda x: np.sum(np.abs(x)), lambda v, x: (0 * v[0],)),  # the first derivative jumps
    (lambda x: np.sum(x * np.abs(x)), lambda v, x: (2 * np.sign(x) * v[0],)),  # the second derivative jumps
])
def test_a_kink_is_nondifferentiable_never_a_pass(f, hvp):
    for mode in ("auto", "full", "fast"):
        result = check_hvp(f, (np.array([0.0, 1.0]),), hvp=hvp, mode=mode, raise_on_mismatch=False)
        assert result.status == "nondifferentiable", (mode, result.report())
        assert result.kinks and not result.mismatches


def test_a_second_derivative_jump_reports_the_one_sided_values():
    result = check_hvp(lambda x: np.sum(x * np.abs(x)), (np.array([0.0, 1.0]),),
                       hvp=lambda v, x: (2 * np.sign(x) * v[0],), mode="full", raise_on_mismatch=False)
    kink = next(k for k in result.kinks if k.where == "element (0,) of H v, column x (0,)")
    assert (kink.left, kink.right) == pytest.approx((-2.0, 2.0))
    assert kink.valid_choice


def test_report_text_reads_for_a_hessian_vector_product():
    f, args = CASES["logistic"]
    result = check_hvp(f, args, mode="fast", projections=2)
    assert result.summary().startswith("Hessian-vector product check passed")
    assert "Hessian-vector product from autodiff_ref" in result.summary()
    assert "2 random projections" in result.report()


def test_miss_probability_of_products_of_two_normals():
    from pytest_gradcheck.checker.second_modes import miss_probability

    assert miss_probability(1, 1e12) < 1e-10
    assert 0.6 < miss_probability(1) < 0.9  # P(|u v| < 1) for independent standard normals
    assert miss_probability(4) == pytest.approx(miss_probability(1) ** 4)


@pytest.mark.parametrize("multiple", [0.1, 1.0, 10.0, 1e3])
def test_miss_probability_agrees_with_the_integral_and_with_sampling(multiple):
    import mpmath

    from pytest_gradcheck.checker.second_modes import miss_probability

    c = 1 / multiple  # P(|u v| <= c) = 2 int_0^inf phi(y) P(|u| <= c / y) dy, by quadrature
    integral = 2 * mpmath.quad(lambda y: mpmath.npdf(y) * mpmath.erf(c / (y * mpmath.sqrt(2))), [0, c, 1, mpmath.inf])
    assert miss_probability(1, multiple) == pytest.approx(float(integral), rel=1e-12)
    u, v = np.random.default_rng(7).standard_normal((2, 400_000))
    sampled = np.mean(np.abs(u * v) <= c)
    assert abs(sampled - miss_probability(1, multiple)) < 5 * np.sqrt(sampled * (1 - sampled) / u.size) + 1e-6


def test_bad_input_names_the_argument():
    x = CASES["quadratic"][1]
    with pytest.raises(GradcheckUsageError, match=r"argument 0 \('x'\), expected \(3,\)"):
        check_hvp(quadratic, x, hvp=lambda v, x: (np.zeros(2),))
    with pytest.raises(GradcheckUsageError, match="hvp: expected a callable"):
        check_hvp(quadratic, x, hvp=3)
    with pytest.raises(GradcheckUsageError, match="scalar-valued f"):
        check_hvp(lambda x: x * 2, x, hvp=quadratic_hvp)
    with pytest.raises(GradcheckUsageError, match="mode: expected one of"):
        check_hvp(quadratic, x, hvp=quadratic_hvp, mode="taylor")
    with pytest.raises(GradcheckUsageError, match=r"expected 3 \(one array per argument: 'w1', 'w2', 'w3'\)"):
        check_hvp(net, CASES["net"][1], hvp=lambda v, *args: (v[0],))


def test_a_nondeterministic_hvp_is_named():
    calls = []

    def drifting(v, x):
        calls.append(1)
        return (_A_QUADRATIC @ v[0] * (1 + 1e-12 * len(calls)),)

    result = check_hvp(quadratic, CASES["quadratic"][1], hvp=drifting, raise_on_mismatch=False)
    assert result.status == "nondeterministic" and "hvp" in result.notes[0]


@autodiff_ref.primitive
def _slope(x):  # 3 x^2: the derivative of _cube, with a VJP 1e-6 off (so _cube's rule is wrong at second order)
    return 3 * x**2


_slope.defvjp(lambda ans, x: lambda g: g * 6 * x * (1 + 1e-6))


@autodiff_ref.primitive
def _cube(x):
    return x**3


_cube.defvjp(lambda ans, x: lambda g: g * _slope(x))


def test_per_op_names_the_op_whose_backward_rule_is_not_differentiated_correctly():
    def f(x):
        return np.sum(np.sin(_cube(x)))

    x = (np.array([0.3, -0.8, 1.2]),)
    assert check_grad(f, x).status == "pass"  # first order is right
    result = check_hvp(f, x, raise_on_mismatch=False)
    assert result.status == "formula_error"
    assert [(row.name, row.status) for row in result.ops] == [
        ("_cube", "formula_error"), ("sin", "pass"), ("sum", "pass")]
    assert result.ops[0].first_failing and result.ops[0].custom
    assert any("op 1 (_cube) fails its own second-order check" in note for note in result.notes)
    assert "per-op check: 1 of 3 ops fail" in result.report()
    assert check_hvp(f, x, hvp=autodiff_ref.hvp(f), raise_on_mismatch=False).ops == []  # not the engine's: no rows


def test_an_f_that_only_runs_in_float64_gets_a_float64_reference_with_a_stated_limit():
    import math

    def f(x):
        return sum(0.5 * float(t) ** 2 + math.sin(float(t)) for t in x)

    def hvp(v, x):
        return (v[0] - np.sin(x) * v[0],)

    x = (np.array([0.3, -0.7, 1.1]),)
    result = check_hvp(f, x, hvp=hvp, mode="full")
    assert result.status == "pass" and result.backend == "float64" and not result.high_precision
    assert any("float64 reference: second differences" in note for note in result.notes)
    assert np.max(result.reference_error[0]) < 1e-5  # about 7 digits of H
    wrong = check_hvp(f, x, hvp=lambda v, x: (hvp(v, x)[0] * (1 + 1e-3),), mode="full", raise_on_mismatch=False)
    assert wrong.status == "formula_error"
    assert "float64 reference" in wrong.summary()


X_LIFTED = np.array([0.3, -1.2, 0.8, 2.0])


def lifted(x):
    """|f| ~ 20 against second derivatives <= 0.1: the screen's round-off, 1000 ulps of |f| over s^2, is what
    stands in its way on quad with three steps."""
    return 20 + 0.1 * np.sum(np.log(np.cosh(x)))


def lifted_hvp(v, x, planted=0.0):
    return (0.1 * (1 - np.tanh(x) ** 2) * v[0] * (1 + np.array([planted, 0.0, 0.0, 0.0])),)


def lifted_hessian(x):
    return np.eye(4) * (0.1 * (1 - np.tanh(x) ** 2))


@pytest.mark.skipif(not quad.available(), reason="numpy-quaddtype is not installed")
def test_on_quad_the_screen_passes_a_correct_hvp_where_f_is_much_larger_than_h_in_19_evaluations():
    """Four steps of second differences on quad (8 evaluations per direction, 2 directions, 2 float64
    evaluations, f at the point: 19; three steps made the screen escalate to the full check, 88)."""
    for check, kwargs in ((check_hvp, {"hvp": lifted_hvp}), (check_hessian, {"hessian": lifted_hessian})):
        result = check(lifted, X_LIFTED, **kwargs)
        assert result.backend == "quad" and result.status == "pass" and result.mode == "fast", result.report()
        assert result.evaluations <= 19 and any(n.startswith("screen:") for n in result.notes)
    assert check_hvp(lifted, X_LIFTED, hvp=lifted_hvp, backend="mpmath").evaluations == 15


@pytest.mark.skipif(not quad.available(), reason="numpy-quaddtype is not installed")
def test_on_quad_an_hvp_error_just_above_the_tolerance_still_fails():
    """6.7e-16 relative (1 + 6e-16 rounded in float64) in the largest entry of H, the tolerance 4.4e-16 of it."""
    result = check_hvp(lifted, X_LIFTED, hvp=lambda v, x: lifted_hvp(v, x, planted=6e-16), raise_on_mismatch=False)
    assert result.backend == "quad" and result.status == "formula_error" and result.mode == "full", result.report()
    assert {m.where for m in result.mismatches} == {"element (0,) of H v, column x (0,)"}

"""verdict on hand-made references, tolerances and planted errors: tolerances, comparisons, ranking, statuses."""

import math

import mpmath
import numpy as np
import pytest

from pytest_gradcheck.checker import verdict
from pytest_gradcheck.checker.result import Kink, Mismatch

F64 = np.dtype(np.float64)
F32 = np.dtype(np.float32)


def tolerances(rtol=1e-3, atol=0.0, **kwargs):
    """A Tolerances whose rtol is large enough that the planted errors below are easy to place either side."""
    return verdict.Tolerances(rtol_formula=rtol, rtol_float64=rtol, atol=atol, **kwargs)


def compare(reference, value, *, ref_error=0.0, rtol=1e-3, scale=None, tol=None, **kwargs):
    reference, value = np.asarray(reference, dtype=float), np.asarray(value, dtype=float)
    tol = tolerances(rtol) if tol is None else tol
    scale = verdict.scale_of(reference) if scale is None else scale
    return verdict.compare("formula", reference, ref_error, value, rtol=rtol, tol=tol, scale=scale, argument=0,
                           name="x", **kwargs)


# resolve_tolerances


def test_a_high_precision_formula_is_judged_far_tighter_than_a_float64_one():
    hp = verdict.resolve_tolerances(F64, rtol=None, atol=None, hp_formula=True)
    fallback = verdict.resolve_tolerances(F64, rtol=None, atol=None, hp_formula=False)
    assert hp.rtol_formula < 1e-15 < fallback.rtol_formula  # below float64's own rounding, or above it
    assert hp.rtol_float64 == fallback.rtol_float64 == fallback.rtol_formula  # accuracy is judged in float64
    assert hp.atol == fallback.atol == 0.0


def test_float32_arguments_get_a_looser_float_tolerance_than_float64():
    f32 = verdict.resolve_tolerances(F32, rtol=None, atol=None, hp_formula=False)
    f64 = verdict.resolve_tolerances(F64, rtol=None, atol=None, hp_formula=False)
    assert f32.rtol_float64 > 1e3 * f64.rtol_float64  # float32's eps is 5e8 times float64's


def test_the_users_rtol_and_atol_replace_every_default():
    tol = verdict.resolve_tolerances(F64, rtol=0.25, atol=1e-7, hp_formula=True)
    assert (tol.rtol_formula, tol.rtol_float64, tol.atol) == (0.25, 0.25, 1e-7)
    assert verdict.resolve_tolerances(F64, rtol=0, atol=0, hp_formula=True).rtol_formula == 0.0


@pytest.mark.parametrize("name", ["rtol", "atol"])
@pytest.mark.parametrize("value", [-1e-9, math.nan, math.inf, "1e-3", [1e-3]])
def test_a_bad_rtol_or_atol_is_an_error_naming_it(name, value):
    with pytest.raises(ValueError, match=rf"^{name}: expected a finite number >= 0, got "):
        verdict.resolve_tolerances(F64, **{"rtol": None, "atol": None, name: value}, hp_formula=True)


def test_an_unsupported_dtype_has_no_default_tolerance():
    with pytest.raises(KeyError):
        verdict.resolve_tolerances(np.dtype(np.int64), rtol=None, atol=None, hp_formula=True)


def test_measured_noise_replaces_the_formula_rtol_unless_the_user_set_one():
    tol = verdict.resolve_tolerances(F64, rtol=None, atol=None, hp_formula=False)
    noisy = verdict.with_measured_noise(tol, user_rtol=None, floor_rtol=1e-13, largest=3e-15, safety=8.0)
    assert (noisy.rtol_formula, noisy.gradient_noise, noisy.noise_safety) == (1e-13, 3e-15, 8.0)
    assert noisy.rtol_float64 == tol.rtol_float64
    assert noisy.to_dict()["gradient_noise"] == 3e-15
    assert "gradient_noise" not in tol.to_dict() and "noise_safety" not in tol.to_dict()  # not measured: not said
    assert verdict.with_measured_noise(tol, user_rtol=1e-6, floor_rtol=1e-13, largest=3e-15, safety=8.0) is tol


def test_to_dict_states_every_tolerance_used():
    assert tolerances(rtol=0.5, atol=0.25).to_dict() == {
        "rtol_formula": 0.5, "rtol_float64": 0.5, "atol": 0.25, "relative_floor": verdict.RELATIVE_FLOOR,
        "safety": verdict.SAFETY}


# scale_of, allowed, unresolved


def test_scale_of_is_the_largest_finite_magnitude():
    assert verdict.scale_of(np.array([1.0, -4.0, 2.0])) == 4.0
    assert verdict.scale_of(np.array([1.0, math.nan, -math.inf, -3.0])) == 3.0  # non-finite: judged on its own
    assert verdict.scale_of(np.array([])) == 0.0
    ctx = mpmath.MPContext()
    assert verdict.scale_of(np.array([ctx.mpf(2), ctx.mpf(-5)], dtype=object)) == 5.0


def test_allowed_is_atol_plus_rtol_times_the_floored_size_plus_the_reference_error():
    tol = tolerances(atol=1e-9)
    # |r| = 2 is above the floor 1e-3 * 10; the reference error 1e-6 counts SAFETY (2) times
    assert verdict.allowed(np.array([2.0]), np.array([1e-6]), 10.0, 1e-3, tol)[0] == pytest.approx(
        1e-9 + 1e-3 * 2.0 + 2.0 * 1e-6)
    # |r| = 1e-5 is below the floor: judged against 1e-3 * 10
    assert verdict.allowed(np.array([1e-5]), np.array([0.0]), 10.0, 1e-3, tol)[0] == pytest.approx(1e-9 + 1e-5)


def test_a_reference_known_to_less_than_a_digit_is_unresolved():
    tol = tolerances()
    reference, resolution = np.array([1.0, 1.0, 0.0]), 1e-10
    # the size of a derivative of 0 is the floor 1e-3 * scale: an error of 1e-5 is a hundredth of it
    sure = verdict.unresolved(reference, np.array([1e-3, 1e-3, 1e-5]), 1.0, tol, resolution)
    unsure = verdict.unresolved(reference, np.array([0.5, 1e-3, 2e-4]), 1.0, tol, resolution)
    assert not sure.any()
    assert unsure.tolist() == [True, False, True]
    # an error at the round-off level of a derivative that is about 0 is no reason to give up
    assert not verdict.unresolved(np.array([0.0]), np.array([1e-11]), 0.0, tol, resolution).any()
    assert verdict.unresolved(np.array([0.0]), np.array([1e-9]), 1e-9, tol, resolution).all()


# compare


def test_a_right_value_gives_no_mismatch_and_a_planted_error_names_its_element():
    reference = np.array([[1.0, 2.0], [3.0, 4.0]])
    assert compare(reference, reference.copy()) == []
    value = reference.copy()
    value[1, 0] += 0.01  # 3.3e-3 relative, outside rtol 1e-3
    (found,) = compare(reference, value, ref_error=1e-5)
    assert (found.kind, found.argument, found.name, found.where, found.index) == (
        "formula", 0, "x", "element (1, 0)", (1, 0))
    assert (found.reference, found.value, found.reference_error) == (3.0, value[1, 0], 1e-5)
    assert found.abs_error == pytest.approx(0.01)
    assert found.rel_error == pytest.approx(0.01 / 3.0)
    assert found.tolerance == pytest.approx(1e-3 * 3.0 + verdict.SAFETY * 1e-5)


def test_the_tolerance_boundary_lies_where_the_formula_puts_it():
    reference = np.array([2.0])  # allowed: 1e-3 * 2 + SAFETY * 1e-4 = 2.2e-3
    assert compare(reference, reference + 2.1e-3, ref_error=1e-4) == []
    assert len(compare(reference, reference + 2.3e-3, ref_error=1e-4)) == 1
    assert len(compare(reference, reference + 2.1e-3, ref_error=0.0)) == 1  # without the reference's error
    tol = tolerances(atol=1e-3)
    assert compare(reference, reference + 2.9e-3, tol=tol) == []  # atol adds 1e-3
    assert compare(reference, reference + 2.9e-3, noise=1e-3) == []  # a measured round-off adds its allowance
    assert len(compare(reference, reference + 2.9e-3, noise=np.array([0.0]))) == 1


def test_a_small_element_is_judged_against_its_arguments_scale():
    reference = np.array([1.0, 1e-6])
    value = np.array([1.0, 1.1e-6])  # 10% off itself, 1e-7 off at the scale of its neighbour 1.0
    assert compare(reference, value) == []  # allowed: 1e-3 * max(1e-6, 1e-3 * 1.0) = 1e-6
    (found,) = compare(reference, value, scale=0.0)  # judged against itself: 1e-9 allowed
    assert found.index == (1,)
    assert len(compare(reference, value, tol=tolerances(relative_floor=0.0))) == 1


def test_nan_and_inf_in_the_value_are_mismatches_with_an_infinite_error():
    reference = np.array([1.0, 2.0, 3.0])
    found = compare(reference, np.array([1.0, math.nan, -math.inf]))
    assert [m.index for m in found] == [(1,), (2,)]
    assert all(m.abs_error == math.inf and m.ratio == math.inf for m in found)


def test_labels_name_projections_instead_of_elements():
    (found,) = compare([1.0], [1.5], labels=["projection 3"])
    assert (found.where, found.index) == ("projection 3", None)


def test_a_zero_dimensional_comparison_works():
    (found,) = compare(np.float64(1.0), np.float64(2.0))
    assert found.where == "element ()" and found.index == ()


def test_worst_keeps_the_largest_relative_error_pass_or_fail():
    worst = {}
    assert compare([1.0, 4.0], [1.0001, 4.0], worst=worst) == []
    assert worst["formula"] == pytest.approx(1e-4)
    compare([1.0], [1.00001], worst=worst)  # smaller: the largest stays
    assert worst["formula"] == pytest.approx(1e-4)
    compare([1.0], [1.5], worst=worst)
    assert worst["formula"] == pytest.approx(0.5)
    compare([1.0], [math.nan], worst=worst)
    assert worst["formula"] == math.inf


def test_high_precision_values_are_compared_at_their_own_precision():
    ctx = mpmath.MPContext()
    ctx.dps = 40  # a difference of 1e-25 is invisible in float64 and plain at 40 digits
    reference = np.array([ctx.mpf(1) / 3, ctx.mpf(2) / 3], dtype=object)
    kwargs = dict(rtol=1e-30, tol=tolerances(1e-30), scale=1.0, argument=0, name="x")
    assert verdict.compare("formula", reference, 0.0, reference.copy(), **kwargs) == []
    planted = reference.copy()
    planted[0] += ctx.mpf("1e-25")
    assert float(planted[0]) == float(reference[0])  # the same float64: only the high-precision difference shows
    (found,) = verdict.compare("formula", reference, 0.0, planted, **kwargs)
    assert found.index == (0,) and found.abs_error == pytest.approx(1e-25)


# rank, decide


def test_rank_puts_the_largest_error_to_tolerance_ratio_first():
    reference = np.array([1.0, 1.0, 1.0, 100.0])
    value = reference + np.array([0.002, 0.0, 0.02, 0.5])  # ratios 2, -, 20, 5 (tolerance 1e-3 * |r|)
    found = verdict.rank(compare(reference, value, scale=0.0))
    assert [m.index for m in found] == [(2,), (3,), (0,)]
    with_nan = verdict.rank(compare(reference, np.array([1.002, math.nan, 1.02, 100.5]), scale=0.0))
    assert with_nan[0].index == (1,)  # a nan has no finite error: ranked first


def mismatch(kind="formula"):
    return Mismatch(kind, 0, "x", "element (0,)", (0,), 1.0, 0.0, 2.0, 1.0, 1.0, 1e-3)


KINK = Kink(0, "element (0,)", -1.0, 1.0, 0.0, True)


@pytest.mark.parametrize(("inputs", "status"), [
    (dict(formula=[], accuracy=[], kinks=[], converged=True), "pass"),
    (dict(formula=[], accuracy=[mismatch("float64_accuracy")], kinks=[], converged=True), "float64_accuracy"),
    (dict(formula=[], accuracy=[mismatch("float64_accuracy")], kinks=[], converged=False), "inconclusive"),
    (dict(formula=[], accuracy=[], kinks=[KINK], converged=False), "nondifferentiable"),
    (dict(formula=[], accuracy=[], kinks=[KINK], converged=True, stopped=True), "budget_exceeded"),
    (dict(formula=[mismatch()], accuracy=[], kinks=[KINK], converged=False, stopped=True), "formula_error"),
    (dict(formula=[mismatch()], accuracy=[], kinks=[], converged=True, checker_error=True), "error"),
    (dict(formula=[], accuracy=[], kinks=[], converged=True, checker_error=True), "error"),
])
def test_decide_ranks_the_findings(inputs, status):
    assert verdict.decide(**inputs) == status


def test_a_compared_planted_error_turns_pass_into_formula_error():
    reference = np.array([0.5, -1.5])
    clean = compare(reference, reference.copy())
    planted = compare(reference, reference * np.array([1.0, 1.01]))
    assert verdict.decide(clean, [], [], True) == "pass"
    assert verdict.decide(planted, [], [], True) == "formula_error"

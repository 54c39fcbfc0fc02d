"""check_hessian: correct Hessians pass, a planted 1e-9 error in one element is caught and named, symmetry
violations are reported apart from wrong values, and bad shapes name the arguments."""

from __future__ import annotations

import numpy as np
import pytest
from second_order_cases import CASES, logistic, logistic_hvp, net, planted_hessian, quadratic

from pytest_gradcheck import GradcheckUsageError, check_hessian, check_hvp

A = np.array([[2.0, 0.5, 0.0], [0.5, 1.0, -0.3], [0.0, -0.3, 3.0]])


@pytest.mark.parametrize("name", sorted(CASES))
def test_the_engines_hessian_passes(name):
    f, args = CASES[name]
    for mode in ("auto", "full"):
        result = check_hessian(f, args, mode=mode)
        assert result.status == "pass", (mode, result.report())
        assert result.kind == "hessian" and result.gradient_source == "autodiff_ref"


def test_hand_written_hessians_pass():
    x = CASES["quadratic"][1]
    result = check_hessian(quadratic, x, hessian=lambda x: A, mode="full")
    assert result.status == "pass" and result.gradient_source == "hessian"
    np.testing.assert_array_equal(result.gradient[0], A)

    def logistic_hessian(w):
        return np.stack([logistic_hvp((e,), w)[0] for e in np.eye(3)], axis=1)

    assert check_hessian(logistic, CASES["logistic"][1], hessian=logistic_hessian, mode="full").status == "pass"
    assert check_hessian(logistic, CASES["logistic"][1], hessian=logistic_hessian, mode="fast").status == "pass"


def test_a_1e_minus_9_error_in_one_element_is_caught_and_named_with_its_asymmetry():
    f, args = CASES["net"]
    result = check_hessian(f, args, hessian=planted_hessian(f, 3, (0, 1), (0, 1, 1, 0)), mode="full",
                           raise_on_mismatch=False)
    assert result.status == "formula_error", result.report()
    formula = [m for m in result.mismatches if m.kind == "formula"]
    assert [(m.name, m.where) for m in formula] == [("w1", "element (0, 1, 1, 0) of block [w1][w2]")]
    assert 0.5e-9 < formula[0].rel_error < 2e-9
    symmetry = [m for m in result.mismatches if m.kind == "symmetry"]
    assert [m.where for m in symmetry] == [
        "element (0, 1, 1, 0) of block [w1][w2] against element (1, 0, 0, 1) of block [w2][w1]"]
    assert "symmetry" in result.report() and "transposed element" in symmetry[0].describe()


def test_a_symmetric_but_wrong_hessian_has_no_symmetry_mismatch():
    f, args = CASES["rosenbrock"]
    result = check_hessian(f, args, hessian=planted_hessian(f, 1, (0, 0), (1, 2), mirrored=True), mode="full",
                           raise_on_mismatch=False)
    assert result.status == "formula_error"
    assert {m.kind for m in result.mismatches} == {"formula"}
    assert sorted(m.where for m in result.mismatches) == ["element (1, 2) of block [x][x]",
                                                           "element (2, 1) of block [x][x]"]


def test_an_asymmetric_hessian_is_a_symmetry_violation():
    skewed = A.copy()
    skewed[0, 1] += 1e-3
    skewed[1, 0] -= 1e-3  # the symmetric part is right: only symmetry, and the values, tell
    result = check_hessian(quadratic, CASES["quadratic"][1], hessian=lambda x: skewed, mode="full",
                           raise_on_mismatch=False)
    assert result.status == "formula_error"
    symmetry = [m for m in result.mismatches if m.kind == "symmetry"]
    assert len(symmetry) == 1 and symmetry[0].where.startswith("element (0, 1) of block [x][x]")
    assert symmetry[0].abs_error == pytest.approx(2e-3)


def test_a_planted_error_is_caught_in_auto_and_fast_mode():
    f, args = CASES["logistic"]
    hessian = planted_hessian(f, 1, (0, 0), (2, 2))
    auto = check_hessian(f, args, hessian=hessian, raise_on_mismatch=False)
    assert auto.status == "formula_error" and auto.mode == "full"
    assert [m.where for m in auto.mismatches] == ["element (2, 2) of block [w][w]"]
    fast = check_hessian(f, args, hessian=hessian, mode="fast", raise_on_mismatch=False)
    assert fast.status == "formula_error" and any(m.where.startswith("projection") for m in fast.mismatches)
    assert [m.where for m in fast.mismatches if m.argument is not None] == ["element (2,) of H v, v of projection 0"]


def test_float64_accuracy_of_a_hessian_is_its_own_diagnosis():
    def cancelling(x):  # the right values; in float64 the cancellation loses 8 digits
        return (A + 1e8 * x[0]) - 1e8 * x[0]

    result = check_hessian(quadratic, CASES["quadratic"][1], hessian=cancelling, mode="full",
                           raise_on_mismatch=False)
    assert result.status == "float64_accuracy", result.report()
    assert {m.kind for m in result.mismatches} == {"float64_accuracy"}


def test_a_kink_is_not_a_pass():
    result = check_hessian(lambda x: np.sum(np.abs(x)), (np.array([0.0, 1.0]),), hessian=lambda x: np.zeros((2, 2)),
                           mode="full", raise_on_mismatch=False)
    assert result.status == "nondifferentiable" and result.kinks


def test_bad_shapes_name_the_arguments():
    f, args = CASES["net"]
    with pytest.raises(GradcheckUsageError, match=r"block \[0\]\[1\] \(arguments 'w1' and 'w2'\), expected "
                                                  r"\(2, 2, 2, 2\)"):
        check_hessian(f, args, hessian=lambda *a: tuple(tuple(np.zeros((*x.shape, 3) if (i, j) == (0, 1) else
                                                                       x.shape + y.shape) for j, y in enumerate(a))
                                                        for i, x in enumerate(a)))
    with pytest.raises(GradcheckUsageError, match=r"nested tuple H\[i\]\[j\] of 3 by 3 arrays"):
        check_hessian(f, args, hessian=lambda *a: np.zeros((10, 10)))
    with pytest.raises(GradcheckUsageError, match=r"shape \(3,\) for block \[0\]\[0\] \(arguments 'x' and 'x'\)"):
        check_hessian(quadratic, CASES["quadratic"][1], hessian=lambda x: np.zeros(3))
    with pytest.raises(GradcheckUsageError, match="hessian: expected a callable"):
        check_hessian(quadratic, CASES["quadratic"][1], hessian="H")


def test_report_text_reads_for_a_hessian():
    result = check_hessian(net, CASES["net"][1], mode="fast", projections=1)
    assert result.summary().startswith("Hessian check passed")
    assert "Hessian from autodiff_ref" in result.summary()


def _scalar_and_vector(a, x):
    return np.sin(a) * np.sum(x**2) + a**3


def _scalar_and_vector_hessian(a, x):
    h_ax = 2 * np.cos(a) * x
    return ((-np.sin(a) * np.sum(x**2) + 6 * a, h_ax), (h_ax, 2 * np.sin(a) * np.eye(2)))


def test_a_scalar_argument_has_zero_dimensional_blocks():
    args = (np.array(0.7), np.array([0.2, -0.4]))
    assert check_hessian(_scalar_and_vector, args, hessian=_scalar_and_vector_hessian, mode="full").status == "pass"

    def wrong(a, x):
        (h_aa, h_ax), (h_xa, h_xx) = _scalar_and_vector_hessian(a, x)
        return ((h_aa, h_ax * (1 + 1e-9)), (h_xa, h_xx))

    result = check_hessian(_scalar_and_vector, args, hessian=wrong, mode="full", raise_on_mismatch=False)
    assert result.status == "formula_error" and result.tolerance["rtol_formula"] < 1e-15
    assert sorted((m.kind, m.where) for m in result.mismatches) == [
        ("formula", "element (0,) of block [a][x]"), ("formula", "element (1,) of block [a][x]"),
        ("symmetry", "element (0,) of block [a][x] against element (0,) of block [x][a]"),
        ("symmetry", "element (1,) of block [a][x] against element (1,) of block [x][a]")]
    assert check_hvp(_scalar_and_vector, args, mode="full").status == "pass"
    assert check_hessian(_scalar_and_vector, args, mode="full").status == "pass"  # the engine's 0-d blocks

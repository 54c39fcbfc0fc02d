"""Messages name the problem: what a bad input got and how to pass it; where a nan or inf appears and who made it."""

import re

import numpy as np
import pytest

from pytest_gradcheck import GradcheckUsageError, check_grad, is_high_precision


def loss(w):
    return np.sum(w**2)


def two(w, b):
    return np.sum(w**2) + np.sum(b)


def usage_error(f, args, **kwargs):
    with pytest.raises(GradcheckUsageError) as info:
        check_grad(f, args, **kwargs)
    return str(info.value)


# --- bad input -------------------------------------------------------------------------------------------------


def test_a_list_of_floats_as_args_is_refused_as_a_list_with_both_fixes():
    message = usage_error(loss, [1.0, 2.0], grad=lambda w: 2 * w)
    assert message.startswith("args: got list [1.0, 2.0] (a list of 2 floats)")
    assert "check_grad(f, np.array(w))" in message and "check_grad(f, (np.array(w),))" in message
    assert "check_grad(f, tuple(args))" in message


def test_a_list_of_arrays_as_args_is_refused_too_and_its_tuple_works():
    args = [np.ones(2), np.ones(3)]
    message = usage_error(two, args)
    assert "args: got list" in message and "(a list of 2 arrays)" in message
    assert "check_grad(f, tuple(args))" in message
    assert check_grad(two, tuple(args), per_op="off").status == "pass"  # the fix the message shows


def test_a_mixed_list_names_its_element_types():
    assert "(a list of 2 items (array, float))" in usage_error(two, [np.ones(2), 1.0])


@pytest.mark.parametrize(
    ("value", "got", "fix"),
    [
        ([0.1, 0.2], "got list [0.1, 0.2] (a list of 2 floats)", "check_grad(f, (np.array(w),))"),
        ((0.1, 0.2), "got tuple (0.1, 0.2) (a tuple of 2 floats)", "check_grad(f, (np.array(w),))"),
        (1.5, "got float 1.5", "pass np.array(1.5) (a 0-d array): check_grad(f, (np.array(1.5),))"),
        (3, "got int 3", "pass np.array(3.0) (a 0-d array)"),
        (None, "got None", "check_grad(f, (np.array(w),))"),
        ("0.5", "got str '0.5'", "check_grad(f, (np.array(w),))"),
    ],
)
def test_a_tuple_element_that_is_not_an_array_names_what_it_is_and_the_fix(value, got, fix):
    message = usage_error(loss, (value,))
    assert message.startswith(f"args[0] ('w'): expected a float64 or float32 numpy array, {got}; ")
    assert fix in message


def test_the_fix_uses_the_real_argument_names_and_keeps_the_others():
    message = usage_error(two, (np.ones(2), [1.0]))
    assert message.startswith("args[1] ('b'): expected a float64 or float32 numpy array, got list [1.0]")
    assert "check_grad(f, (w, np.array(b)))" in message


@pytest.mark.parametrize(
    ("args", "got"),
    [(None, "got None"), (3.0, "got float 3.0"), ({"w": 1.0}, "got dict {'w': 1.0}")],
)
def test_args_itself_of_the_wrong_kind_is_named_args(args, got):
    message = usage_error(loss, args)
    assert message.startswith(f"args: expected a numpy float array or a tuple of them, {got}")
    assert "check_grad(f, (" in message


@pytest.mark.parametrize("dtype", ["int64", "bool", "float16", "uint8"])
def test_a_wrong_dtype_is_named_with_the_conversion(dtype):
    message = usage_error(loss, (np.ones(3, dtype=dtype),))
    assert f"args[0] ('w'): expected dtype float64 or float32, got {dtype}" in message
    assert "np.asarray(w, dtype=np.float64)" in message


def test_a_complex_argument_with_a_gradient_names_the_missing_convention():
    message = usage_error(loss, (np.ones(2, dtype=complex),), grad=lambda w: w)
    assert "args[0] ('w') is complex: complex_convention=" in message
    assert all(repr(c) in message for c in ("torch", "jax", "holomorphic"))


def test_a_non_finite_argument_names_the_element_and_the_count():
    w = np.ones((2, 3))
    w[1, 2] = np.inf
    message = usage_error(loss, (w,))
    assert "args[0] ('w'): non-finite input inf at element (1, 2) (1 of 6 elements non-finite)" in message


@pytest.mark.parametrize(("option", "value", "got"),
                         [("grad", 3, "got int 3"), ("vjp", np.ones(2), "got float64 array")])
def test_a_gradient_option_that_is_not_callable_names_what_it_got(option, value, got):
    message = usage_error(loss, np.ones(2), **{option: value})
    assert message.startswith(f"{option}: expected a callable, {got}") and f"{option}=my_{option}" in message


def test_f_not_callable_names_what_it_got_and_the_order():
    message = usage_error(np.ones(2), np.ones(2))
    assert message.startswith("f: expected a callable, got float64 array of shape (2,)")
    assert "check_grad(f, args)" in message


def test_a_gradient_returned_as_a_list_of_floats_is_named_as_such():
    message = usage_error(loss, np.ones(2), grad=lambda w: [1.0, 2.0])
    assert message.startswith("grad returned list [1.0, 2.0] (a list of 2 floats), expected 1")
    assert "np.array([...])" in message


def test_a_gradient_element_of_the_wrong_kind_is_named_with_its_argument():
    message = usage_error(two, (np.ones(2), np.ones(2)), grad=lambda w, b: (2 * w, None))
    assert message.startswith("grad returned None for argument 1 ('b'); expected a numpy array")


def test_f_returning_a_list_names_the_list():
    message = usage_error(lambda w: [1.0, 2.0], np.ones(2))
    assert "f must return a float64/float32 scalar or numpy array, got list [1.0, 2.0] (a list of 2 floats)" in message


# --- nan and inf --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("planted", "index"), [(np.nan, (3,)), (np.inf, (0,)), (-np.inf, (4,))])
def test_f_non_finite_at_the_point_names_the_output_element(planted, index):
    def f(w):
        out = np.sin(w)
        out[index] = planted
        return out

    message = usage_error(f, np.linspace(0.1, 0.5, 5), vjp=lambda v, w: v * np.cos(w))
    assert f"f(*args): returned {planted!r} at output element {index} (1 of 5 elements non-finite)" in message


def test_a_scalar_f_that_is_nan_says_its_value_is_non_finite():
    message = usage_error(lambda w: np.sum(w) * np.nan, np.linspace(0.1, 0.5, 5))
    assert "f(*args): returned nan (its scalar value is non-finite)" in message


def planted_gradient(value, index, only=None):
    """2 w with `value` at `index` (in both evaluations, or only the float64 or only the high-precision one)."""

    def grad(w):
        out = 2 * w
        high = is_high_precision(out)
        if only is None or (only == "high-precision") == high:
            out[index] = value
        return out

    return grad


def note_of(result, needle):
    found = [n for n in result.notes if needle in n]
    assert found, result.notes
    return found[0]


@pytest.mark.parametrize("mode", ["full", "fast", "auto", "taylor", "diagonal"])
@pytest.mark.parametrize(("planted", "index"), [(np.nan, (1, 0)), (np.inf, (0, 2))])
def test_a_non_finite_gradient_element_fails_and_is_named(mode, planted, index):
    w = np.linspace(0.5, 3.0, 6).reshape(2, 3)
    result = check_grad(loss, w, grad=planted_gradient(planted, index), mode=mode, per_op="off",
                        raise_on_mismatch=False)
    assert result.status == "formula_error"
    named = [m for m in result.mismatches if m.index == index]
    assert named and named[0].kind == "formula" and repr(named[0].value) == repr(planted)
    note = note_of(result, "float64 evaluation")
    assert note.startswith(f"grad returned {planted!r} for argument 0 ('w') at element {index} in its float64 "
                           "evaluation (1 of 6 elements non-finite)")
    # the other elements are judged at their own finite tolerance, not a nan one
    assert all(np.isfinite(m.tolerance) for m in result.mismatches)
    assert not [m for m in result.mismatches if m.argument is not None and m.index != index]


def test_a_gradient_nan_only_at_high_precision_is_judged_there_and_named():
    result = check_grad(loss, np.array([1.0, 2.0, 3.0]), grad=planted_gradient(np.nan, 2, only="high-precision"),
                        per_op="off", raise_on_mismatch=False)
    assert result.status == "formula_error" and result.gradient_hp is not None  # not switched to float64
    assert [m.index for m in result.mismatches] == [(2,)]
    assert "grad returned nan for argument 0 ('w') at element (2,) in its high-precision evaluation" in \
        " ".join(result.notes)
    assert not any("returns float64" in n for n in result.notes)
    assert result.tolerance["rtol_formula"] < 1e-15  # the high-precision tolerance was kept


def test_a_gradient_nan_only_in_float64_is_a_float64_accuracy_finding_at_that_element():
    result = check_grad(loss, np.array([1.0, 2.0, 3.0]), grad=planted_gradient(np.nan, 0, only="float64"),
                        per_op="off", raise_on_mismatch=False)
    assert result.status == "float64_accuracy"
    assert [(m.kind, m.index) for m in result.mismatches] == [("float64_accuracy", (0,))]
    assert np.isfinite(result.mismatches[0].tolerance)
    note_of(result, "grad returned nan for argument 0 ('w') at element (0,) in its float64 evaluation")


def test_the_vjp_source_is_named():
    def vjp(v, w):
        out = v * np.cos(w)
        out[2] = np.nan
        return out

    result = check_grad(lambda x: np.sin(x), np.linspace(0.1, 0.5, 4), vjp=vjp, per_op="off", raise_on_mismatch=False)
    assert result.status == "formula_error"
    note_of(result, "vjp returned nan for argument 0 ('x') at element (2,) in its float64 evaluation")
    assert [m.index for m in result.mismatches if m.argument is not None] == [(2,)]


@pytest.mark.parametrize("mode", ["full", "fast"])
def test_f_non_finite_at_a_step_leaves_the_element_inconclusive_and_says_why(mode):
    # sqrt at 0: every step makes the element negative, so f is nan at x - h; the gradient there is not judged
    x = np.array([1.0, 0.0, 2.0])
    result = check_grad(lambda x: np.sum(np.sqrt(x)), x,
                        grad=lambda x: np.where(x > 0, 0.5 / np.sqrt(x + (x == 0)), 0.0),
                        mode=mode, per_op="off", raise_on_mismatch=False)
    assert result.status == "inconclusive"
    note = note_of(result, "non-finite value")
    assert re.search(r"f returned a non-finite value at x \+- h for h = [0-9.e+-]+ \(the difference quotient there "
                     r"is nan\)", note)
    if mode == "full":
        assert note.startswith("argument 0 ('x') element (1,): central differences did not converge")
        assert not any("nan" in n for n in result.notes if "element (0,)" in n or "element (2,)" in n)


def test_f_non_finite_at_a_step_of_one_element_does_not_hide_an_error_in_another():
    # the round-off probe's step makes x[1] = 0 negative: a nan there must not become every element's error bound
    x = np.array([1.0, 0.0])
    result = check_grad(lambda x: np.sum(np.sqrt(x)), x, grad=lambda x: np.array([0.4, 0.0]), mode="full",
                        per_op="off", raise_on_mismatch=False)
    assert result.status == "formula_error"
    assert [m.index for m in result.mismatches] == [(0,)]
    assert np.isfinite(result.reference_error[0][0])
    note_of(result, "argument 0 ('x') element (1,): central differences did not converge; f returned a non-finite")


def test_fast_mode_narrows_to_a_non_finite_element_among_many():
    # 100 elements: the bisection's groups without element 37 must pass (inf * 0 in <g, u> would fail them all)
    w = np.linspace(0.1, 1.0, 100)
    result = check_grad(loss, w, grad=planted_gradient(np.inf, 37), mode="fast", per_op="off",
                        raise_on_mismatch=False)
    assert [m.index for m in result.mismatches if m.argument is not None] == [(37,)]
    assert not any("narrowing stopped" in n for n in result.notes)


def test_diagonal_mode_names_the_element_whose_steps_make_f_non_finite():
    x = np.array([1.0, 0.0, 2.0])
    result = check_grad(lambda x: np.sqrt(x), x, vjp=lambda v, x: v * 0.5 / np.sqrt(x + (x == 0)), mode="diagonal",
                        per_op="off", raise_on_mismatch=False)
    assert result.status == "inconclusive"
    note_of(result, "argument 0 ('x'), diagonal element (1,): central differences did not converge; f returned a "
                    "non-finite value at x +- h")


def test_a_dict_holding_an_array_is_named_on_one_line():
    message = usage_error(lambda w: np.sum(w), {"w": np.ones((2, 1))})
    assert "\n" not in message and message.startswith("args: ") and "dict" in message, message

"""Per-op checks: a backward bug planted in one op of a traced model is named with its line and elements."""

import json
import re
from pathlib import Path

import numpy as np
import pytest

import autodiff_ref
from pytest_gradcheck import GradcheckError, GradcheckUsageError, check_grad

HERE = Path(__file__).resolve()
BUG_AT = (1, 2)  # the one element where some planted bugs live
SUBTLE = 1 + 1e-9  # a relative error far below float64's gradcheck tolerances, far above the 40-digit reference's


def _line(tag):
    """The line of this file that ends with the comment `# op: tag`, where the op under test is called."""
    hits = [i + 1 for i, text in enumerate(HERE.read_text().splitlines()) if text.rstrip().endswith(f"# op: {tag}")]
    assert len(hits) == 1, f"marker {tag!r} found on lines {hits}"
    return hits[0]


def _place(row):
    """(resolved file, line) of an op row's location."""
    path, _, line = row.location.rpartition(":")
    return Path(path).resolve(), int(line)


def _one_element(shape):
    mask = np.zeros(shape, dtype=bool)
    mask[BUG_AT] = True
    return mask


def _the_failing_op(result, name, tag):
    """The single failing row: it is `name`, marked first, called on the tagged line; every other row passes."""
    failing = [row for row in result.ops if not row.ok]
    assert [row.name for row in failing] == [name], result.message()
    (row,) = failing
    assert row.status == "formula_error" and row.first_failing and row.custom
    assert [r.index for r in result.ops if r.first_failing] == [row.index]
    assert all(r.status == "pass" for r in result.ops if r is not row), result.message()
    assert _place(row) == (HERE, _line(tag))
    return row


def _located(row):
    """{(argument, element index)} of a row's element-level mismatches."""
    return {(m.argument, m.index) for m in row.mismatches if m.index is not None}


def _point(seed, *shapes):
    rng = np.random.default_rng(seed)
    return tuple(rng.uniform(-1.2, 1.2, size=s) for s in shapes)


# ----- custom ops, each with a planted backward bug -----------------------------------------------------------


@autodiff_ref.primitive(elementwise=True)
def tanh_slip(x):
    return np.tanh(x)


tanh_slip.defvjp(lambda ans, x: lambda g: g * (1 - ans))  # right: g * (1 - ans**2)


@autodiff_ref.primitive(elementwise=True)
def tanh_one_element(x):
    return np.tanh(x)


tanh_one_element.defvjp(
    lambda ans, x: lambda g: np.where(_one_element(ans.shape), g * (1 - ans * ans) * SUBTLE, g * (1 - ans * ans))
)


@autodiff_ref.primitive(elementwise=True)
def mul_slip(x, y):
    return x * y


mul_slip.defvjp(lambda ans, x, y: lambda g: g * y, lambda ans, x, y: lambda g: g * y)  # right for y: g * x


@autodiff_ref.primitive
def matmul_slip(a, b):
    return a @ b


matmul_slip.defvjp(lambda ans, a, b: lambda g: g @ b.T, lambda ans, a, b: lambda g: g.T @ a)  # right: a.T @ g


@autodiff_ref.primitive
def sum_axis_slip(x, axis=0):
    return np.sum(x, axis=axis)


sum_axis_slip.defvjp(  # broadcasts g along the summed axis instead of across it (right: g[None, :] for axis 0)
    lambda ans, x, axis=0: lambda g: np.broadcast_to(np.expand_dims(g, 1 - axis), x.shape)
)


@autodiff_ref.primitive
def mean_axis_slip(x, axis=0):
    return np.mean(x, axis=axis)


mean_axis_slip.defvjp(  # divides by the other axis's length (right: x.shape[axis])
    lambda ans, x, axis=0: lambda g: np.broadcast_to(np.expand_dims(g, axis), x.shape) / x.shape[1 - axis]
)


def _softmax(z):
    e = np.exp(z - np.max(z, axis=-1, keepdims=True))
    return e / np.sum(e, axis=-1, keepdims=True)


def _softmax_vjp(ans, g):
    return ans * (g - np.sum(g * ans, axis=-1, keepdims=True))


softmax_no_subtraction = autodiff_ref.Primitive(_softmax, "softmax_no_subtraction").defvjp(
    lambda ans, z: lambda g: ans * g  # forgets - ans * sum(g * ans)
)
softmax_one_element = autodiff_ref.Primitive(_softmax, "softmax_one_element").defvjp(
    lambda ans, z: lambda g: np.where(_one_element(ans.shape), _softmax_vjp(ans, g) * SUBTLE, _softmax_vjp(ans, g))
)
softmax_right = autodiff_ref.Primitive(_softmax, "softmax_right").defvjp(lambda ans, z: lambda g: _softmax_vjp(ans, g))


# ----- 1. a planted bug is named: op, line, elements ----------------------------------------------------------


def tanh_model(w, x):
    z = x @ w + 0.1
    h = tanh_slip(z)  # op: tanh_slip
    return np.mean(h * h) + 0.1 * np.sum(w**2)


def test_elementwise_unary_bug_fails_that_op_at_every_element():
    w, x = _point(1, (3, 4), (5, 3))
    result = check_grad(tanh_model, (w, x), raise_on_mismatch=False)
    assert result.status == "formula_error"
    row = _the_failing_op(result, "tanh_slip", "tanh_slip")
    assert row.input_shapes == ((5, 4),)
    assert _located(row) == {(0, tuple(int(k) for k in i)) for i in np.ndindex(5, 4)}  # g (ans**2 - ans) != 0


def one_element_model(w, x):
    h = tanh_one_element(x @ w)  # op: tanh_one_element
    return np.sum(np.sin(h) * x[:, :4])


def test_elementwise_bug_in_one_element_names_that_element():
    w, x = _point(2, (5, 4), (3, 5))
    result = check_grad(one_element_model, (w, x), raise_on_mismatch=False)
    row = _the_failing_op(result, "tanh_one_element", "tanh_one_element")
    assert _located(row) == {(0, BUG_AT)}
    (mismatch,) = row.mismatches
    assert mismatch.rel_error == pytest.approx(1e-9, rel=1e-3)
    assert row.formula_error == pytest.approx(1e-9, rel=1e-3)


def mul_model(a, b):
    u = np.exp(a * 0.5)
    v = mul_slip(u, np.cos(b))  # op: mul_slip
    return np.sum(v) - np.mean(u)


def test_elementwise_binary_bug_in_the_second_argument_only():
    a, b = _point(3, (2, 3), (2, 3))
    result = check_grad(mul_model, (a, b), raise_on_mismatch=False)
    row = _the_failing_op(result, "mul_slip", "mul_slip")
    assert _located(row) == {(1, tuple(int(k) for k in i)) for i in np.ndindex(2, 3)}
    assert all(m.argument == 1 and m.name == "input1" for m in row.mismatches)


def matmul_model(x, w):
    h = np.tanh(x)
    z = matmul_slip(h, w)  # op: matmul_slip
    return np.sum(autodiff_ref.sigmoid(z) * np.arange(1.0, 4.0))


def test_non_elementwise_bug_is_located_in_the_right_argument():
    x, w = _point(4, (4, 3), (3, 3))
    result = check_grad(matmul_model, (x, w), raise_on_mismatch=False)
    row = _the_failing_op(result, "matmul_slip", "matmul_slip")
    assert row.input_shapes == ((4, 3), (3, 3))
    assert _located(row) and {a for a, _ in _located(row)} == {1}
    assert {index[0] != index[1] for _, index in _located(row)} == {True}  # the diagonal of a^T g is right


def sum_axis_model(x):
    s = sum_axis_slip(x * x, axis=0)  # op: sum_axis_slip
    return np.sum(np.log1p(s) * np.array([1.0, -2.0, 0.5]))


def mean_axis_model(x):
    m = mean_axis_slip(np.exp(x), axis=0)  # op: mean_axis_slip
    return np.sum(m**2)


@pytest.mark.parametrize(
    ("model", "name", "shape"),
    [(sum_axis_model, "sum_axis_slip", (3, 3)), (mean_axis_model, "mean_axis_slip", (2, 5))],
)
def test_reduction_bug_is_named(model, name, shape):
    (x,) = _point(5, shape)
    result = check_grad(model, (x,), raise_on_mismatch=False)
    row = _the_failing_op(result, name, name)
    assert row.input_shapes == (shape,)
    assert _located(row) and {a for a, _ in _located(row)} == {0}


def softmax_model(w, x):
    p = softmax_no_subtraction(x @ w)  # op: softmax_no_subtraction
    return -np.mean(np.log(p[:, 0]))


def test_softmax_missing_its_subtraction_term_is_named():
    w, x = _point(6, (3, 4), (2, 3))
    result = check_grad(softmax_model, (w, x), raise_on_mismatch=False)
    row = _the_failing_op(result, "softmax_no_subtraction", "softmax_no_subtraction")
    assert _located(row)


def softmax_subtle_model(w, x):
    z = np.tanh(x @ w)
    p = softmax_one_element(z * 3.0)  # op: softmax_one_element
    return np.sum(p * np.array([0.5, -1.0, 2.0, 0.25]))


def test_softmax_off_by_1e_minus_9_in_one_element_is_named():
    w, x = _point(7, (3, 4), (3, 3))
    result = check_grad(softmax_subtle_model, (w, x), raise_on_mismatch=False)
    row = _the_failing_op(result, "softmax_one_element", "softmax_one_element")
    assert _located(row) == {(0, BUG_AT)}
    assert row.formula_error < 1e-8


def two_bugs_model(w, x):
    h = tanh_slip(x @ w)  # op: first_of_two
    z = np.sin(h) * 2.0
    return np.sum(matmul_slip(z.T, z))  # op: second_of_two


def test_two_bugs_are_both_named_and_the_earlier_is_first():
    w, x = _point(17, (3, 3), (3, 3))
    with pytest.raises(GradcheckError) as info:
        check_grad(two_bugs_model, (w, x))
    failing = [row for row in info.value.result.ops if not row.ok]
    assert [row.name for row in failing] == ["tanh_slip", "matmul_slip"]
    assert [row.first_failing for row in failing] == [True, False]
    assert [_place(row)[1] for row in failing] == [_line("first_of_two"), _line("second_of_two")]
    assert "per-op check: 2 of" in str(info.value)
    assert all(f"{row.index:>4}  {row.name}*" in str(info.value) for row in failing)


def hidden_bug_model(x):
    return np.sum(tanh_slip(x) * np.zeros(3)) + np.sum(x**2)  # op: hidden_bug


def test_engine_bug_that_the_whole_function_cannot_see_still_fails():
    (x,) = _point(18, (3,))
    with pytest.raises(GradcheckError) as info:
        check_grad(hidden_bug_model, x)
    result = info.value.result
    assert not result.mismatches  # the whole gradient is right: the bug's contribution is multiplied by 0
    assert result.status == "formula_error"
    _the_failing_op(result, "tanh_slip", "hidden_bug")
    assert any("did not expose" in note for note in result.notes)


def test_user_gradient_is_judged_on_its_own_while_a_failing_op_is_still_reported():
    w, x = _point(19, (3, 4), (5, 3))
    engine = autodiff_ref.grad(tanh_model, argnums=(0, 1))(w, x)  # uses the buggy op's rule

    def hand_written(w, x):
        z = x @ w + 0.1
        dz = 2 * np.tanh(z) * (1 - np.tanh(z) ** 2) / z.size
        return x.T @ dz + 0.2 * w, dz @ w.T

    result = check_grad(tanh_model, (w, x), grad=hand_written, per_op="always")  # a pass: "auto" checks no op
    assert result.status == "pass" and result.ok
    _the_failing_op(result, "tanh_slip", "tanh_slip")
    assert any("1 op(s) of the traced graph fail their own check" in note for note in result.notes)
    assert not np.allclose(engine[0], hand_written(w, x)[0])


# ----- 2. a correct model passes every op ---------------------------------------------------------------------

LABELS = np.array([0, 2, 1, 2])


def mlp_loss(w1, w2, w3, x):
    h1 = np.tanh(x @ w1)
    h2 = autodiff_ref.sigmoid(h1 @ w2)
    both = np.concatenate([h1, h2], axis=1)
    logits = np.reshape(both, (4, 6)) @ w3
    shifted = logits - np.max(logits, axis=1, keepdims=True)
    log_p = shifted - np.log(np.sum(np.exp(shifted), axis=1, keepdims=True))
    picked = log_p[np.arange(4), LABELS]
    decay = np.mean(np.reshape(w1, (-1,)) ** 2) + np.mean(w2 * w2)
    return -np.mean(picked) + 0.01 * decay + 0.1 * np.sum(softmax_right(logits)[:, 0])


def test_correct_model_of_many_ops_passes_every_op():
    args = _point(8, (3, 3), (3, 3), (6, 3), (4, 3))
    result = check_grad(mlp_loss, args, per_op="always")  # a pass: "auto" would check the custom op only
    assert result.status == "pass", result.message()
    assert len(result.ops) >= 20
    assert [row.status for row in result.ops] == ["pass"] * len(result.ops), result.message()
    assert all(row.high_precision for row in result.ops)
    assert not any(row.first_failing for row in result.ops)
    names = {row.name for row in result.ops}
    assert {"tanh", "sigmoid", "concatenate", "reshape", "getitem", "max", "mean", "softmax_right"} <= names
    assert [row.custom for row in result.ops if row.name == "softmax_right"] == [True]
    assert not any(row.custom for row in result.ops if row.name != "softmax_right")


# ----- 3. kinks are localized to the op and element -----------------------------------------------------------


def relu_model(w, x):
    z = x * w
    r = np.maximum(z, 0.0)  # op: maximum_at_zero
    return np.sum(r * (z + 1.0) + 0.5 * r**2)  # arithmetic only: numpy's 0.0 in r is a float, with no .tanh()


def test_maximum_at_zero_inside_a_model_is_a_kink_of_that_op():
    w, x = _point(9, (3, 4), (3, 4))
    w[BUG_AT] = 0.0  # z = x * w is exactly 0 there
    result = check_grad(relu_model, (w, x), raise_on_mismatch=False)
    assert result.status == "nondifferentiable" and result.ok and result.high_precision, result.message()
    kinked = [row for row in result.ops if row.status != "pass"]
    assert [row.name for row in kinked] == ["maximum"], result.message()
    (row,) = kinked
    assert row.ok and not row.first_failing and _place(row) == (HERE, _line("maximum_at_zero"))
    (kink,) = row.kinks
    assert kink.argument == 0 and kink.where == f"element {BUG_AT}" and kink.valid_choice
    # one-sided derivatives of max(z, 0) are 0 and 1, times the op check's cotangent at that element
    assert min(abs(kink.left), abs(kink.right)) < 1e-12 < max(abs(kink.left), abs(kink.right))
    assert any("sit at a non-differentiable point" in note for note in result.notes)


def test_abs_at_zero_makes_the_function_and_its_abs_op_nondifferentiable():
    x = np.array([[0.5, 0.0, -1.5], [2.0, -0.25, 1.0]])
    result = check_grad(lambda x: np.sum(np.abs(x)), x, raise_on_mismatch=False)
    assert result.status == "nondifferentiable" and result.ok
    assert [(row.name, row.status) for row in result.ops] == [("absolute", "nondifferentiable"), ("sum", "pass")]
    (kink,) = result.ops[0].kinks
    assert kink.where == "element (0, 1)" and kink.valid_choice


def test_correct_fourth_power_after_relu_passes():
    result = check_grad(lambda x: np.sum(np.maximum(x, 0.0) ** 4), np.array([-1.0, 0.5]), raise_on_mismatch=False)
    assert result.status == "pass", result.message()


# ----- 4. a wrong user gradient with a correct graph ----------------------------------------------------------


def smooth_model(x, y):
    return np.sum(np.sin(x) * y) + np.mean(np.exp(y) * x)


def smooth_model_grad(x, y):
    return np.cos(x) * y + np.exp(y) / x.size, np.sin(x) + np.exp(y) * x / x.size


def test_wrong_user_gradient_with_every_op_correct_says_so():
    x, y = _point(10, (2, 3), (2, 3))

    def wrong(x, y):
        gx, gy = smooth_model_grad(x, y)
        return gx, np.where(_one_element(gy.shape), gy * 1.01, gy)

    assert check_grad(smooth_model, (x, y), grad=smooth_model_grad).status == "pass"
    with pytest.raises(GradcheckError) as info:
        check_grad(smooth_model, (x, y), grad=wrong)
    result = info.value.result
    assert result.status == "formula_error" and result.gradient_source == "grad"
    assert len(result.ops) >= 6 and all(row.status == "pass" for row in result.ops)
    assert "your gradient disagrees with the reference; every op in the traced graph is correct" in str(info.value)
    assert {(m.argument, m.index) for m in result.mismatches} == {(1, BUG_AT)}
    assert re.search(rf"^ +formula +y +{re.escape(str(BUG_AT))} ", str(info.value), re.MULTILINE), str(info.value)


# ----- 5. options ---------------------------------------------------------------------------------------------


def custom_model(x):
    return np.sum(softmax_right(np.tanh(x)) * np.array([1.0, 2.0, 3.0]))


@pytest.mark.parametrize("off", ["off", False])
def test_per_op_off_gives_no_rows(off):
    (x,) = _point(11, (2, 3))
    result = check_grad(custom_model, x, per_op=off)
    assert result.status == "pass" and result.ops == []
    assert result.to_dict()["ops"] == []


@pytest.mark.parametrize("always", ["always", "all", True])
def test_per_op_custom_gives_only_custom_rows_and_always_all_and_true_give_every_op(always):
    (x,) = _point(12, (2, 3))
    everything = check_grad(custom_model, x, per_op=always)
    assert everything.status == "pass" and everything.ops_note == ""
    assert [row.name for row in everything.ops] == ["tanh", "softmax_right", "multiply", "sum"]
    assert all(row.status == "pass" for row in everything.ops)
    custom = check_grad(custom_model, x, per_op="custom")
    assert [(row.name, row.custom, row.status) for row in custom.ops] == [("softmax_right", True, "pass")]
    assert custom.ops[0].index == everything.ops[1].index


@pytest.mark.parametrize("bad", ["some", "ALL", "Always", "", None, 1, ["auto"]])
def test_bad_per_op_value_is_a_usage_error_naming_the_option(bad):
    (x,) = _point(13, (1, 3))
    with pytest.raises(GradcheckUsageError, match=r"^per_op: expected True, False or one of") as info:
        check_grad(custom_model, x, per_op=bad)
    assert repr(bad) in str(info.value)
    assert all(repr(choice) in str(info.value) for choice in ("auto", "always", "all", "custom", "off"))


# ----- 5b. per_op="auto" (the default): the per-op pass where it helps ----------------------------------------

SKIPPED = 'the whole-function check passed, so its ops were not checked one by one; per_op="always" checks each op'


def test_default_passing_check_of_a_hand_written_gradient_has_no_rows_and_says_why():
    w, x = _point(20, (3, 4), (5, 3))

    def tanh_model_grad(w, x):
        z = x @ w + 0.1
        dz = 2 * np.tanh(z) * (1 - np.tanh(z) ** 2) / z.size
        return x.T @ dz + 0.2 * w, dz @ w.T

    result = check_grad(tanh_model, (w, x), grad=tanh_model_grad)  # f holds tanh_slip, whose rule is wrong
    assert result.status == "pass" and result.ops == [] and result.ops_note == SKIPPED
    assert f"  no per-op rows: {SKIPPED}" in result.report().splitlines()
    assert result.to_dict()["ops_note"] == SKIPPED
    assert not any("per-op" in note for note in result.notes)  # f was not traced: no note of the per-op pass


def test_default_passing_check_of_the_engines_gradient_without_custom_ops_has_no_rows():
    (x,) = _point(21, (2, 3))
    result = check_grad(lambda x: np.sum(np.tanh(x) * np.exp(0.5 * x)), x)
    assert result.status == "pass" and result.gradient_source == "autodiff_ref"
    assert result.ops == [] and result.ops_note == SKIPPED


def test_default_passing_check_of_the_engines_gradient_checks_its_custom_op_only():
    (x,) = _point(22, (2, 3))
    result = check_grad(custom_model, x)  # tanh, softmax_right (custom), multiply, sum
    assert result.status == "pass" and result.gradient_source == "autodiff_ref"
    assert [(row.index, row.name, row.custom, row.status) for row in result.ops] == [(2, "softmax_right", True,
                                                                                       "pass")]
    assert result.ops_note == ("the whole-function check passed, so only f's custom primitives (1 of its 4 ops) "
                               'were checked one by one; per_op="always" checks each op')
    report = result.report().splitlines()
    assert "  per-op check: the one op passes its own check" in report
    assert f"  per-op check: {result.ops_note}" in report


def test_default_check_of_the_engines_gradient_fails_a_wrong_custom_rule_the_whole_check_passed():
    # tanh_slip's wrong rule is multiplied by 0 downstream: the whole check passes, the custom op's own fails
    (x,) = _point(18, (3,))
    result = check_grad(hidden_bug_model, x, raise_on_mismatch=False)
    assert not result.mismatches and result.status == "formula_error"
    assert [(row.name, row.status, row.first_failing) for row in result.ops] == [("tanh_slip", "formula_error", True)]
    assert _place(result.ops[0]) == (HERE, _line("hidden_bug"))
    assert "only f's custom primitives (1 of its 6 ops)" in result.ops_note


def test_default_failing_check_of_a_hand_written_gradient_checks_every_op_and_names_op_and_element():
    # The "hand-written" gradient is the engine's, taken outside check_grad: it uses tanh_one_element's rule,
    # wrong by 1e-9 in one element. The whole check fails, so "auto" checks every op and blames that one.
    w, x = _point(2, (5, 4), (3, 5))
    engine = autodiff_ref.grad(one_element_model, argnums=(0, 1))
    result = check_grad(one_element_model, (w, x), grad=lambda w, x: engine(w, x), raise_on_mismatch=False)
    assert result.gradient_source == "grad" and result.status == "formula_error"
    assert result.ops_note == ""
    assert [row.name for row in result.ops] == ["matmul", "tanh_one_element", "sin", "getitem", "multiply", "sum"]
    row = _the_failing_op(result, "tanh_one_element", "tanh_one_element")
    assert _located(row) == {(0, BUG_AT)}
    assert row.formula_error == pytest.approx(1e-9, rel=1e-3)
    assert any("1 op(s) of the traced graph fail their own check" in note for note in result.notes)


def test_default_failing_check_with_every_op_right_blames_the_hand_written_gradient():
    (x,) = _point(23, (2, 3))
    right = lambda x: (1 - np.tanh(x) ** 2) * np.exp(0.5 * x) + 0.5 * np.tanh(x) * np.exp(0.5 * x)  # noqa: E731

    def one_wrong_element(x):
        g = right(x)
        g[1, 2] *= 1 + 1e-6
        return g

    result = check_grad(lambda x: np.sum(np.tanh(x) * np.exp(0.5 * x)), x, grad=one_wrong_element,
                        raise_on_mismatch=False)
    assert result.status == "formula_error"
    assert [m.index for m in result.mismatches] == [(1, 2)]
    assert result.ops and all(row.ok for row in result.ops)  # the per-op pass ran: no op is to blame
    assert any("every op in the traced graph is correct" in note for note in result.notes)


# ----- 6. the failure message shows the failing op and its neighbours only -----------------------------------

ROW = re.compile(r"^   [ >] +(\d+)  ", re.MULTILINE)  # a row of the per-op table: its op index


def chain_model(x):
    y = x
    for _ in range(4):
        y = np.sin(y) + 0.5 * y
    y = tanh_slip(y)  # op: chain_bug
    for _ in range(4):
        y = np.cos(y) * y
    return np.sum(y * y)


def test_message_shows_the_failing_op_and_one_neighbour_each_side():
    (x,) = _point(14, (3,))
    with pytest.raises(GradcheckError) as info:
        check_grad(chain_model, x)
    ops, message = info.value.result.ops, str(info.value)
    assert len(ops) >= 15
    bug = next(k for k, row in enumerate(ops) if not row.ok)
    assert 3 <= bug <= len(ops) - 4 and _place(ops[bug]) == (HERE, _line("chain_bug"))
    shown = [int(i) for i in ROW.findall(message)]
    assert shown == [ops[bug - 1].index, ops[bug].index, ops[bug + 1].index], message
    assert f"   > {ops[bug].index:>4}  tanh_slip*  {ops[bug].location}" in message
    assert "per-op check: 1 of" in message
    for far in (ops[0], ops[bug - 2], ops[bug + 2], ops[-1]):
        assert not re.search(rf"^   [ >] +{far.index}  ", message, re.MULTILINE)


# ----- 7. untraceable functions -------------------------------------------------------------------------------


def test_untraceable_function_is_still_checked_whole_with_a_note():
    a = np.array([[2.0, 0.5, 0.1], [0.3, 1.5, -0.2], [0.0, 0.4, 1.2]])
    right = check_grad(np.linalg.det, a, grad=lambda a: np.linalg.det(a) * np.linalg.inv(a).T, per_op="always")
    assert right.status == "pass" and right.ops == []
    notes = [n for n in right.notes if "per-op checks unavailable" in n]
    assert len(notes) == 1 and "could not be traced by autodiff_ref" in notes[0] and "det" in notes[0]
    wrong = check_grad(np.linalg.det, a, grad=lambda a: np.linalg.inv(a).T, raise_on_mismatch=False)
    assert wrong.status == "formula_error" and wrong.ops == []
    assert "per-op checks unavailable" in wrong.message()


# ----- 8. serialisation ---------------------------------------------------------------------------------------


def _serialised(result):
    """The op rows through JSON and back, checked against the rows themselves."""
    rows = json.loads(json.dumps(result.to_dict()["ops"]))
    assert [(r["index"], r["name"], r["status"], r["ok"], r["first_failing"]) for r in rows] == [
        (row.index, row.name, row.status, row.ok, row.first_failing) for row in result.ops
    ]
    return rows


def test_failing_op_rows_serialise_to_json():
    w, x = _point(15, (3, 3), (2, 3))
    result = check_grad(softmax_model, (w, x), raise_on_mismatch=False)
    (bad,) = [r for r in _serialised(result) if not r["ok"]]
    assert (
        bad["status"] == "formula_error"
        and bad["custom"]
        and bad["location"].endswith(f":{_line('softmax_no_subtraction')}")
    )
    assert bad["mismatches"] and bad["input_shapes"] == [[2, 3]]
    json.dumps(result.to_dict())


def test_kinked_op_rows_serialise_to_json():
    w, x = _point(16, (3, 4), (3, 4))
    w[BUG_AT] = 0.0
    result = check_grad(relu_model, (w, x), raise_on_mismatch=False)
    (kinked,) = [r for r in _serialised(result) if r["status"] != "pass"]
    assert kinked["name"] == "maximum" and kinked["kinks"][0]["where"] == f"element {BUG_AT}"
    json.dumps(result.to_dict())


# ----- backward rules that break instead of computing a wrong number -----------------------------------------


@autodiff_ref.primitive(elementwise=True)
def square_summed_backward(x):
    return x * x


square_summed_backward.defvjp(lambda ans, x: lambda g: np.sum(2 * g * x))  # a scalar, not an array of x's shape


def test_backward_rule_of_the_wrong_shape_fails_its_op_even_with_a_correct_user_gradient():
    result = check_grad(lambda x: np.sum(square_summed_backward(x)), np.array([0.3, 0.7]), grad=lambda x: 2 * x,
                        per_op="always")
    assert result.status == "pass"  # the user's own gradient is right
    (row,) = [r for r in result.ops if r.name == "square_summed_backward"]
    assert row.status == "formula_error" and not row.ok and row.first_failing
    assert "returned shape ()" in row.note and "expected (2,)" in row.note
    assert any("fail their own check" in note for note in result.notes)


def test_an_op_that_is_only_inconclusive_is_not_blamed_for_a_wrong_rule():
    # sin(1e30 x) at 40 digits oscillates far faster than any step: its own check cannot conclude. Multiplied
    # by 0 downstream, it leaves the whole function (x) easy to check.
    @autodiff_ref.primitive(elementwise=True)
    def wild(x):
        return np.sin(x * 1e30) * 1e-30

    wild.defvjp(lambda ans, x: lambda g: g * np.cos(x * 1e30))
    f = lambda x: np.sum(wild(x) * 0.0 + x)  # noqa: E731
    assert check_grad(f, np.array([0.3]), per_op="off").status == "pass"
    result = check_grad(f, np.array([0.3]), raise_on_mismatch=False)
    assert [(r.name, r.status) for r in result.ops if not r.ok] == [("wild", "inconclusive")]
    assert result.status == "inconclusive"
    assert not any("wrong backward rule" in note for note in result.notes)
    assert any("op 1 (wild) could not be verified on its own" in note for note in result.notes)

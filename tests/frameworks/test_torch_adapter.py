"""check_grad on torch tensors: torch.autograd.grad under test, custom Functions checked one by one and named,
reference= judged at high precision after a same-function check, the user's torch state left as it was."""

import inspect
import json
import pathlib

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from pytest_gradcheck import GradcheckUsageError, check_grad  # noqa: E402
from pytest_gradcheck.report import records  # noqa: E402


class Softplus(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return torch.nn.functional.softplus(x)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g * torch.sigmoid(x)


class LinearBias(torch.autograd.Function):
    """x @ w + b, b broadcast over the rows of x."""

    @staticmethod
    def forward(ctx, x, w, b):
        ctx.save_for_backward(x, w)
        return x @ w + b

    @staticmethod
    def backward(ctx, g):
        x, w = ctx.saved_tensors
        return g @ w.T, x.T @ g, g.sum(0)


class LogSumExp(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        m = x.max()
        out = m + torch.log(torch.exp(x - m).sum())
        ctx.save_for_backward(x, out)
        return out

    @staticmethod
    def backward(ctx, g):
        x, out = ctx.saved_tensors
        return g * torch.exp(x - out)


class WrongSoftplus(Softplus):
    factor = 1 + 1e-9  # a relative error in every element

    @staticmethod
    def backward(ctx, g):
        return Softplus.backward(ctx, g) * WrongSoftplus.factor


class WrongLogSumExp(LogSumExp):
    @staticmethod
    def backward(ctx, g):
        return LogSumExp.backward(ctx, g) * (1 + 1e-6)


class WrongLinearBias(LinearBias):
    @staticmethod
    def backward(ctx, g):
        gx, gw, gb = LinearBias.backward(ctx, g)
        gw = gw.clone()
        gw[0, 1] *= 1 + 1e-6  # one element
        return gx, gw, gb


def line_of(cls):
    return inspect.getsourcelines(cls)[1]


def point(*shape, seed=0, dtype=torch.float64):
    return torch.tensor(np.random.default_rng(seed).standard_normal(shape), dtype=dtype)


def softplus_loss(x):
    return Softplus.apply(x).sum()


def linear_loss(x, w, b):
    return torch.tanh(LinearBias.apply(x, w, b)).sum()


def lse(x):
    return LogSumExp.apply(x)


def np_softplus_loss(x):
    return np.sum(np.logaddexp(0.0, x))


def np_linear_loss(x, w, b):
    return np.sum(np.tanh(x @ w + b))


def np_lse(x):
    m = np.max(x)
    return m + np.log(np.sum(np.exp(x - m)))


CORRECT = [
    (softplus_loss, np_softplus_loss, lambda: (point(4),), ["Softplus"]),
    (linear_loss, np_linear_loss, lambda: (point(3, 2, seed=1), point(2, 2, seed=2), point(2, seed=3)),
     ["LinearBias"]),
    (lse, np_lse, lambda: (point(5, seed=4),), ["LogSumExp"]),
]


@pytest.mark.parametrize(("f", "reference", "args", "rules"), CORRECT, ids=["softplus", "linear_bias", "logsumexp"])
def test_correct_functions_pass_with_their_rules_checked_one_by_one(f, reference, args, rules):
    result = check_grad(f, args(), per_op="custom")
    assert result.ok and result.gradient_source == "torch.autograd" and result.backend == "float64"
    assert [op.name for op in result.ops] == rules and all(op.ok and op.custom for op in result.ops)
    assert any("reference limited to float64" in n for n in result.notes)
    with_reference = check_grad(f, args(), reference=reference, per_op="custom")
    assert with_reference.ok and with_reference.high_precision and with_reference.backend in ("quad", "mpmath")
    assert [op.name for op in with_reference.ops] == rules


def test_a_wrong_backward_of_1e_9_is_caught_with_reference_and_named_with_file_and_line():
    wrong = WrongSoftplus

    def f(x):
        return wrong.apply(x).sum()

    x = point(4)
    result = check_grad(f, x, reference=np_softplus_loss, raise_on_mismatch=False)
    assert result.status == "formula_error" and result.high_precision
    assert result.worst["formula"] == pytest.approx(1e-9, rel=1e-3)
    row = result.ops[0]
    assert row.name == "WrongSoftplus" and row.location.endswith(f"test_torch_adapter.py:{line_of(wrong)}")
    with pytest.raises(AssertionError, match=f"WrongSoftplus.*test_torch_adapter.py:{line_of(wrong)}"):
        check_grad(f, x, reference=np_softplus_loss)


def test_a_wrong_backward_of_1e_6_is_caught_without_reference():
    wrong = WrongLogSumExp
    result = check_grad(lambda x: wrong.apply(x), point(5, seed=4), raise_on_mismatch=False)
    assert result.status == "formula_error" and result.backend == "float64"
    assert [(op.name, op.status) for op in result.ops] == [("WrongLogSumExp", "formula_error")]
    assert "WrongLogSumExp" in str(result)


def test_without_reference_a_well_scaled_pass_is_decided_by_the_quick_screen():
    x = torch.linspace(-1.0, 1.0, 8, dtype=torch.float64)
    result = check_grad(softplus_loss, x)
    assert result.ok and result.mode == "fast" and result.projections == 2 and result.evaluations == 13
    assert any(n.startswith("quick screen: 2 random projections of the gradient (elements below 0.01 of the largest "
                            "weighted 10x) agreed") for n in result.notes)
    assert result.tolerance["rtol_formula"] == 1e-10 and result.worst["formula"] <= 1e-10
    assert result.gradient_source == "torch.autograd" and result.backend == "float64"
    full = check_grad(softplus_loss, x, mode="full")
    assert full.ok and full.mode == "full" and result.evaluations < full.evaluations / 10


def test_with_a_users_rtol_the_thorough_screen_decides():
    x = torch.linspace(-1.0, 1.0, 8, dtype=torch.float64)
    result = check_grad(softplus_loss, x, rtol=1e-8)
    assert result.ok and result.mode == "fast" and result.tolerance["rtol_formula"] == 1e-8
    assert any(n.startswith("screen: 2 random projections agreed to 1e-10") for n in result.notes)


def test_a_wrong_backward_that_the_quick_screen_does_not_pass_goes_to_the_thorough_check():
    x = torch.linspace(-1.0, 1.0, 8, dtype=torch.float64)
    result = check_grad(lambda x: WrongSoftplus.apply(x).sum(), x, raise_on_mismatch=False)
    assert result.status == "formula_error" and result.mode == "full"
    assert any(n.startswith("the quick screen did not agree clearly (projection 0: the gradient and the table")
               for n in result.notes)


class TailError(Softplus):
    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        out = (g * torch.sigmoid(x)).clone()
        out[0] = out[0] * (1 + 1e-6)  # the element whose gradient is 1e-4 of the largest
        return out


def test_an_error_in_a_tiny_element_is_judged_by_the_full_check_not_the_screen():
    x = torch.tensor([-9.0, 0.5, 1.0, 1.5, 2.0, -0.5, 0.2, 0.8], dtype=torch.float64)
    result = check_grad(lambda x: TailError.apply(x).sum(), x, raise_on_mismatch=False)
    assert result.status == "formula_error" and result.mode == "full"
    assert [m.index for m in result.mismatches] == [(0,)] and result.ops[0].name == "TailError"
    assert any("quick screen did not agree clearly (projection" in n for n in result.notes)
    passing = check_grad(softplus_loss, x)  # the tiny element weighted 10x in the quick screen's projections
    assert passing.ok and passing.mode == "fast" and passing.evaluations == 13


def test_the_wrong_one_of_several_functions_is_named_and_the_call_site_given():
    wrong = WrongLinearBias

    def f(x, w, b):
        h = Softplus.apply(wrong.apply(x, w, b))  # the call site in the row's note
        return LogSumExp.apply(h.reshape(-1))

    args = (point(3, 2, seed=1), point(2, 2, seed=2), point(2, seed=3))
    result = check_grad(f, args, raise_on_mismatch=False)
    assert result.status == "formula_error"
    assert [(op.name, op.ok) for op in result.ops] == [("WrongLinearBias", False), ("Softplus", True),
                                                       ("LogSumExp", True)]
    failing = result.ops[0]
    assert failing.first_failing and failing.location.endswith(f":{line_of(wrong)}")
    call_line = inspect.getsourcelines(f)[1] + 1
    assert f"called at {__file__.rpartition('/')[2]}:{call_line}" in failing.note or \
        f"test_torch_adapter.py:{call_line}" in failing.note
    assert failing.mismatches and failing.mismatches[0].name in ("x", "w", "b")  # forward's parameter names
    record = json.loads(json.dumps(records.to_record(result, "test_x")))  # the JSON report's record
    assert (record["ops"][0]["name"], record["ops"][0]["status"]) == ("WrongLinearBias", "formula_error")


def test_a_reference_that_computes_another_function_is_its_own_failure():
    result = check_grad(softplus_loss, point(4), reference=lambda x: np.sum(np.logaddexp(0.0, x)) * (1 + 1e-5),
                        raise_on_mismatch=False)
    assert result.status == "formula_error" and not result.mismatches
    assert "reference and f disagree at the point by 1.0e-05 relative" in result.notes[0]
    with pytest.raises(AssertionError, match="reference and f disagree at the point"):
        check_grad(softplus_loss, point(4), reference=lambda x: np.sum(x))


def test_the_users_tensors_and_torch_state_are_left_as_they_were():
    x = point(4, dtype=torch.float32).requires_grad_(True)
    before = x.detach().clone()
    default, grad_mode = torch.get_default_dtype(), torch.is_grad_enabled()
    try:
        torch.set_default_dtype(torch.float32)
        torch.set_grad_enabled(False)

        def f(x):
            torch.set_default_dtype(torch.float64)  # f changes a global: restored after the check
            return Softplus.apply(x).sum()

        assert check_grad(f, x).ok
        assert torch.get_default_dtype() == torch.float32 and not torch.is_grad_enabled()
    finally:
        torch.set_default_dtype(default)
        torch.set_grad_enabled(grad_mode)
    assert x.dtype == torch.float32 and x.requires_grad and x.grad is None and torch.equal(x.detach(), before)


def test_a_users_grad_of_tensors_is_the_gradient_under_test():
    x = point(4)
    assert check_grad(softplus_loss, x, grad=lambda x: torch.sigmoid(x)).gradient_source == "grad"
    result = check_grad(softplus_loss, x, grad=lambda x: torch.sigmoid(x) * (1 + 1e-6), raise_on_mismatch=False)
    assert result.status == "formula_error"


def test_a_backward_that_raises_raises_from_the_check_with_its_own_traceback():
    class Raises(Softplus):
        @staticmethod
        def backward(ctx, g):
            raise RuntimeError("no backward here")

    with pytest.raises(RuntimeError, match="no backward here"):
        check_grad(lambda x: Raises.apply(x).sum(), point(3))


@pytest.mark.parametrize(("args", "message"), [
    ((point(2), torch.tensor([1, 2])), r"args\[1\] \('n'\): expected a floating torch tensor, got dtype torch.int64"),
    ((point(2), "two"), r"args\[1\] \('n'\): expected a floating torch tensor \(or a numpy float array\), got"),
    ((point(2), torch.ones(2, dtype=torch.complex128)), r"args\[1\] \('n'\): complex torch tensors"),
    ([point(2)], "args: got list .* a list is neither unpacked"),
])
def test_arguments_of_the_wrong_kind_are_usage_errors_naming_them(args, message):
    def f(x, n=None):
        return x.sum()

    with pytest.raises(GradcheckUsageError, match=message):
        check_grad(f, args)


def test_f_must_return_a_tensor_and_reference_must_be_callable():
    with pytest.raises(GradcheckUsageError, match="f must return a torch tensor"):
        check_grad(lambda x: 1.0, point(2))
    with pytest.raises(GradcheckUsageError, match="reference: expected a numpy function"):
        check_grad(softplus_loss, point(2), reference=3)


def test_a_numpy_argument_among_tensors_is_given_to_f_as_a_tensor():
    result = check_grad(linear_loss, (point(3, 2, seed=1), np.eye(2), point(2, seed=3)), per_op="custom")
    assert result.ok and [op.name for op in result.ops] == ["LinearBias"]


def test_a_function_applied_to_constants_only_has_no_row():
    c = point(3, seed=7)

    def f(x):
        return (Softplus.apply(x) * LogSumExp.apply(c)).sum()

    assert [op.name for op in check_grad(f, point(3), per_op="custom").ops] == ["Softplus"]


def test_a_passing_check_under_auto_checks_no_rule_one_by_one_and_says_which():
    result = check_grad(linear_loss, (point(3, 2, seed=1), point(2, 2, seed=2), point(2, seed=3)))
    assert result.ok and result.ops == []
    assert result.ops_note == ("the whole-function check passed, so f's custom rules (LinearBias) were not checked "
                               'one by one; per_op="custom" checks each')


def test_per_op_off_checks_no_rule():
    result = check_grad(softplus_loss, point(3), per_op="off")
    assert result.ok and result.ops == [] and result.ops_note == 'per_op="off"'


@pytest.mark.gradcheck(per_op="off")
def test_the_fixture_and_marker_take_tensors_and_reference(gradcheck):
    result = gradcheck(softplus_loss, point(3), reference=np_softplus_loss)
    assert result.ok and result.high_precision and result.ops == []


def test_a_failing_check_draws_its_pictures(tmp_path):
    pytest.importorskip("matplotlib")
    result = check_grad(lambda x: WrongLogSumExp.apply(x), point(4), plots=tmp_path, raise_on_mismatch=False)
    assert result.status == "formula_error" and result.plots
    assert all((tmp_path / name).exists() or pathlib.Path(name).exists() for name in result.plots)


class ScaledSplit(torch.autograd.Function):
    """forward(x, w, scale) without ctx (setup_context style), two outputs, a float argument."""

    @staticmethod
    def forward(x, w, scale):
        return torch.sin(x) * w * scale, torch.cos(x) * scale

    @staticmethod
    def setup_context(ctx, inputs, output):
        x, w, scale = inputs
        ctx.save_for_backward(x, w)
        ctx.scale = scale

    @staticmethod
    def backward(ctx, ga, gb):
        x, w = ctx.saved_tensors
        gx = (ga * torch.cos(x) * w - gb * torch.sin(x)) * ctx.scale
        return gx, ga * torch.sin(x) * ctx.scale * ScaledSplit.w_factor, None

    w_factor = 1.0


def test_setup_context_functions_with_two_outputs_and_a_float_argument():
    def f(x, w):
        a, b = ScaledSplit.apply(x, w, 1.5)
        return (a * b).sum()

    args = (point(3, seed=5), point(3, seed=6))
    result = check_grad(f, args, per_op="custom")
    assert result.ok and [(op.name, op.input_shapes) for op in result.ops] == [("ScaledSplit", ((3,), (3,)))]
    try:
        ScaledSplit.w_factor = 1 + 1e-6
        wrong = check_grad(f, args, raise_on_mismatch=False)
    finally:
        ScaledSplit.w_factor = 1.0
    assert wrong.status == "formula_error" and not wrong.ops[0].ok
    assert {m.name for m in wrong.ops[0].mismatches} == {"w"}  # named after forward's parameter, no ctx


def test_a_function_applied_in_another_thread_during_recording_is_not_recorded():
    import threading

    from pytest_gradcheck.frameworks import torch_adapter

    rules, applied = [], []
    other = threading.Thread(target=lambda: applied.append(LogSumExp.apply(point(4, seed=3).requires_grad_()).item()))
    with torch_adapter.recording(rules):
        other.start()
        other.join()  # LogSumExp applied meanwhile, in another thread
        Softplus.apply(point(3, seed=4).requires_grad_())
    assert [rule.name for rule in rules] == ["Softplus"] and len(applied) == 1
    assert torch.autograd.Function.__dict__["apply"] is torch_adapter.RECORDING._original


class TinyError(Softplus):
    @staticmethod
    def backward(ctx, g):
        return Softplus.backward(ctx, g) * (1 + 3e-11)  # below what a float64 reference of the rule resolves


def test_an_error_only_the_reference_resolves_fails_and_says_why_no_rule_is_named():
    x = point(6, seed=5)
    result = check_grad(lambda x: TinyError.apply(x).sum(), x, reference=np_softplus_loss, raise_on_mismatch=False)
    assert result.status == "formula_error" and result.worst["formula"] == pytest.approx(3e-11, rel=1e-2)
    assert [(op.name, op.ok) for op in result.ops] == [("TinyError", True)]
    assert any(n.startswith("no rule is named: f's gradient is off by 3.0e-11 relative") for n in result.notes)
    plain = check_grad(lambda x: Softplus.apply(x).sum(), x, reference=np_softplus_loss)
    assert plain.ok and not any(n.startswith("no rule is named") for n in plain.notes)


def test_with_reference_a_pass_is_decided_by_the_quick_quad_screen():
    from pytest_gradcheck.hp import quad

    if not quad.available():
        pytest.skip("the quick quad screen needs numpy-quaddtype")
    x = torch.linspace(-1.0, 1.0, 8, dtype=torch.float64)
    result = check_grad(softplus_loss, x, reference=np_softplus_loss)
    assert result.ok and result.mode == "fast" and result.backend == "quad" and result.high_precision
    assert result.tolerance["rtol_formula"] == 1e-13 and result.evaluations <= 12
    assert any(n.startswith("quick screen: 2 random projections") and "quad tier" in n for n in result.notes)
    assert any(n.startswith("reference function: ") for n in result.notes)
    on_mpmath = check_grad(softplus_loss, x, reference=np_softplus_loss, backend="mpmath")
    assert on_mpmath.ok and on_mpmath.backend == "mpmath"
    assert not any("quick screen" in n for n in on_mpmath.notes)


def test_a_budget_below_the_quick_screens_worst_case_goes_to_the_thorough_check():
    x = torch.linspace(-1.0, 1.0, 8, dtype=torch.float64)
    result = check_grad(softplus_loss, x, max_evaluations=12, raise_on_mismatch=False)
    assert not any(n.startswith("quick screen") for n in result.notes)


def test_the_first_gradient_at_the_point_differentiates_the_recorded_forward_once():
    """prepare's recording forward is differentiated by the first vjp at its very arrays (f runs one time fewer);
    every later call, and any call elsewhere, runs f afresh, with the same gradient as torch's own."""
    from pytest_gradcheck.frameworks.torch_adapter import ADAPTER

    calls = []

    def f(x):
        calls.append(1)
        return Softplus.apply(x).sum()

    x = point(5, seed=6)
    t = x.clone().requires_grad_()
    (expected,) = torch.autograd.grad(softplus_loss(t), t)
    with ADAPTER.state():
        prepared = ADAPTER.prepare(f, x, None)
        assert len(calls) == 1 and np.array_equal(prepared.value, softplus_loss(x).numpy())
        first = prepared.vjp(np.ones(()), *prepared.args)
        assert len(calls) == 1  # the recorded graph, not a new forward
        second = prepared.vjp(np.ones(()), *prepared.args)
        elsewhere = prepared.vjp(np.ones(()), prepared.args[0] + 1.0)
    assert len(calls) == 3
    assert np.array_equal(first[0], expected.numpy()) and np.array_equal(second[0], expected.numpy())
    t = (x + 1.0).requires_grad_()
    assert np.array_equal(elsewhere[0], torch.autograd.grad(softplus_loss(t), t)[0].numpy())

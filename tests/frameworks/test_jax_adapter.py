"""check_grad on JAX arrays: jax.vjp (and so the custom_vjp rules inside f) as the gradient under test, a numpy
reference= at high precision or JAX's own float64 forward, each custom rule checked and named on its own, the
user's x64 flag restored. Skipped without jax."""

from __future__ import annotations

import contextlib
import functools
import inspect

import numpy as np
import pytest
import scipy.special

from pytest_gradcheck import GradcheckError, GradcheckUsageError, check_grad

jax = pytest.importorskip("jax")
jnp = pytest.importorskip("jax.numpy")
from jax.scipy.special import erf  # noqa: E402

from pytest_gradcheck.frameworks import jax_adapter  # noqa: E402

X = np.array([-1.3, 0.2, 0.7, 2.1])
Y = np.array([[0.3, -0.8, 1.1], [2.0, 0.5, -0.4]])


def make_rules(softplus_error: float = 0.0, logsumexp_error: float = 0.0, gelu_error: float = 0.0) -> tuple:
    """Stable softplus, logsumexp over the last axis and an exact GELU as jax.custom_vjp functions, each bwd
    off by a relative `..._error` (0: correct)."""

    @jax.custom_vjp
    def softplus(x):
        return jnp.logaddexp(x, 0.0)

    def softplus_bwd(x, g):
        return (g * jax.nn.sigmoid(x) * (1 + softplus_error),)

    softplus.defvjp(lambda x: (softplus(x), x), softplus_bwd)

    @jax.custom_vjp
    def logsumexp(y):
        top = jnp.max(y, axis=-1, keepdims=True)
        return jnp.log(jnp.sum(jnp.exp(y - top), axis=-1)) + top[..., 0]

    def logsumexp_bwd(y, g):
        return (g[..., None] * jax.nn.softmax(y, axis=-1) * (1 + logsumexp_error),)

    logsumexp.defvjp(lambda y: (logsumexp(y), y), logsumexp_bwd)

    @jax.custom_vjp
    def gelu(x):
        return 0.5 * x * (1 + erf(x / jnp.sqrt(2.0)))

    def gelu_bwd(x, g):
        cdf = 0.5 * (1 + erf(x / jnp.sqrt(2.0)))
        return (g * (cdf + x * jnp.exp(-0.5 * x * x) / jnp.sqrt(2 * jnp.pi)) * (1 + gelu_error),)

    gelu.defvjp(lambda x: (gelu(x), x), gelu_bwd)
    return softplus, logsumexp, gelu


def loss_of(rules: tuple):
    softplus, logsumexp, gelu = rules

    def loss(x, y):
        return jnp.sum(softplus(x) ** 2) + jnp.sum(logsumexp(y) * gelu(x[:2]))

    return loss


def reference(x, y):
    """The same loss in numpy (high precision runs it)."""
    top = np.max(y, axis=-1, keepdims=True)
    lse = np.log(np.sum(np.exp(y - top), axis=-1)) + top[..., 0]
    gelu = 0.5 * x[:2] * (1 + scipy.special.erf(x[:2] / np.sqrt(2.0)))
    return np.sum(np.logaddexp(x, 0.0) ** 2) + np.sum(lse * gelu)


def bwd_line(rules: tuple, which: int) -> str:
    """'test_jax_adapter.py:<line>' of one rule's bwd definition."""
    code = rules[which].bwd.__code__
    return f"test_jax_adapter.py:{code.co_firstlineno}"


def args() -> tuple:
    return jnp.asarray(X), jnp.asarray(Y)


@pytest.mark.parametrize("with_reference", [False, True])
def test_correct_custom_rules_pass_and_each_is_checked_on_its_own(with_reference: bool) -> None:
    result = check_grad(loss_of(make_rules()), args(), reference=reference if with_reference else None,
                        per_op="custom")
    assert result.status == "pass", result.notes
    assert result.high_precision is with_reference  # the reference tier: numpy's at high precision, or float64
    assert [row.name.rpartition(".")[2] for row in result.ops] == ["softplus", "logsumexp", "gelu"]
    assert all(row.ok and row.custom for row in result.ops)


def test_a_passing_check_under_auto_records_no_rule_and_says_none_was_checked_on_its_own(monkeypatch) -> None:
    """JAX's recording forward (jit disabled: ~6x an eager forward) runs only when rules are checked one by one:
    a passing check under per_op="auto" spends nothing on it and says so; per_op="custom" records and checks."""
    recordings = []
    original = jax_adapter.record_custom_calls
    monkeypatch.setattr(jax_adapter, "record_custom_calls", lambda *a: recordings.append(1) or original(*a))
    result = check_grad(loss_of(make_rules()), args())
    assert result.status == "pass" and result.ops == [] and recordings == []
    assert "whole-function check passed" in result.ops_note and "no custom rule" in result.ops_note
    assert 'per_op="custom"' in result.ops_note
    checked = check_grad(loss_of(make_rules()), args(), per_op="custom")
    assert recordings == [1] and [row.name.rpartition(".")[2] for row in checked.ops] == ["softplus", "logsumexp",
                                                                                        "gelu"]


@pytest.mark.parametrize(("with_reference", "size"), [(False, 1e-6), (True, 1e-9)])
def test_a_wrong_bwd_is_caught_and_named_with_its_file_and_line(with_reference: bool, size: float) -> None:
    rules = make_rules(logsumexp_error=size)
    result = check_grad(loss_of(rules), args(), reference=reference if with_reference else None,
                        raise_on_mismatch=False)
    assert result.status == "formula_error"
    failing = [row for row in result.ops if not row.ok]
    assert [row.name.rpartition(".")[2] for row in failing] == ["logsumexp"]
    assert failing[0].location.endswith(bwd_line(rules, 1))
    assert failing[0].first_failing
    with pytest.raises(GradcheckError, match="logsumexp"):
        check_grad(loss_of(rules), args(), reference=reference if with_reference else None)


@pytest.mark.parametrize("initially", [False, True])
def test_the_users_x64_flag_is_restored_after_a_pass_a_failure_and_an_error(initially: bool) -> None:
    previous = bool(jax.config.jax_enable_x64)
    jax.config.update("jax_enable_x64", initially)
    try:
        x = jnp.asarray(X, dtype=jnp.float32)
        check_grad(lambda x: jnp.sum(jnp.sin(x)), x)
        assert bool(jax.config.jax_enable_x64) is initially
        softplus = make_rules(softplus_error=1e-3)[0]
        check_grad(lambda x: jnp.sum(softplus(x)), x, raise_on_mismatch=False)
        assert bool(jax.config.jax_enable_x64) is initially

        def broken(x):
            raise RuntimeError("f fails")

        with pytest.raises(RuntimeError, match="f fails"):
            check_grad(broken, x)
        assert bool(jax.config.jax_enable_x64) is initially
    finally:
        jax.config.update("jax_enable_x64", previous)


def test_x64_is_enabled_inside_the_check_and_float32_inputs_are_widened() -> None:
    seen = []

    def f(x):
        seen.append(x.dtype)
        return jnp.sum(jnp.tanh(x) * x)

    thread_x64 = getattr(jax, "enable_x64", None)  # newer jax: the thread's own flag, which wins over the global
    with thread_x64(False) if callable(thread_x64) else contextlib.nullcontext():
        result = check_grad(f, jnp.asarray(X, dtype=jnp.float32))
        assert jnp.zeros(()).dtype == jnp.float32  # the thread's flag is back too
    assert result.status == "pass"
    assert set(seen) == {jnp.dtype("float64")}
    assert any("widened to float64" in note for note in result.notes)
    assert jax.config.jax_default_device is None  # the default device, scoped inside the check only


@pytest.mark.parametrize(("bad", "message"), [
    (jnp.arange(3), r"args\[0\] \('x'\): expected a float32 or float64 array, got dtype int"),
    (jnp.asarray([1.0, jnp.nan]), r"args\[0\] \('x'\): non-finite input nan at element \(1,\)"),
])
def test_bad_jax_input_names_the_argument(bad, message: str) -> None:
    with pytest.raises(GradcheckUsageError, match=message):
        check_grad(lambda x, y: jnp.sum(x * y), (bad, jnp.asarray(X[:len(bad)])))


def test_other_arguments_among_jax_arrays_are_named_and_a_list_is_refused() -> None:
    x = jnp.asarray(X)
    with pytest.raises(GradcheckUsageError, match=r"args\[1\] \('y'\): expected a JAX array .* got float"):
        check_grad(lambda x, y: jnp.sum(x * y), (x, 2.0))
    with pytest.raises(GradcheckUsageError, match=r"args: got list .*a list is not unpacked.*tuple\(args\)"):
        check_grad(lambda x, y: jnp.sum(x * y), [x, x])


def test_calls_are_recorded_with_their_inputs_nested_and_inside_scan() -> None:
    softplus, logsumexp, _ = make_rules()

    @jax.custom_vjp
    def outer(y):
        return logsumexp(y) * 2.0

    outer.defvjp(lambda y: (outer(y), y), lambda y, g: (2.0 * g[..., None] * jax.nn.softmax(y, axis=-1),))
    line = inspect.currentframe().f_lineno - 1  # the bwd's line

    @jax.jit
    def f(x, y):
        total, _ = jax.lax.scan(lambda c, a: (c + softplus(a), None), 0.0, x)
        return total + jnp.sum(outer(y))

    with jax_adapter.float64_on_cpu():
        calls, notes = jax_adapter.record_custom_calls(f, (X, Y))
        rules, counted = jax_adapter.custom_rules(calls)
    names = [jax_adapter.rule_name(call.rule).rpartition(".")[2] for call in calls]
    assert names == ["softplus"] * len(X) + ["outer", "logsumexp"]
    assert [r.name.rpartition(".")[2] for r in rules] == ["softplus", "softplus", "outer", "logsumexp"]
    assert np.array_equal(rules[1].inputs[0], X[1])  # the second step's input, as received
    assert any("called 4 times" in note for note in counted) and not notes
    assert rules[2].input_names == ("y",) and rules[2].location.endswith(f"test_jax_adapter.py:{line}")


def test_a_rule_with_a_nondiff_argument_and_two_outputs_is_checked_on_its_differentiable_input() -> None:
    """nondiff_argnums held fixed, a tuple output flattened: a 1e-5 error in the second output's bwd is named
    (float64-only outputs that the direction leaves unmoved, 0.3 * 3 and friends, are no float32 stairs)."""

    @functools.partial(jax.custom_vjp, nondiff_argnums=(1,))
    def scaled_and_sine(x, k):
        return x * k, jnp.sin(x)

    def bwd(k, x, g):
        return (g[0] * k + g[1] * jnp.cos(x) * (1 + 1e-5),)

    scaled_and_sine.defvjp(lambda x, k: (scaled_and_sine(x, k), x), bwd)

    def f(x, w):
        a, b = scaled_and_sine(x, 3.0)
        return jnp.sum(a * w + b)

    result = check_grad(f, (jnp.asarray(X[:3]), jnp.asarray([1.0, 2.0, 0.5])), raise_on_mismatch=False)
    assert result.status == "formula_error"
    (row,) = result.ops
    assert row.name.endswith("scaled_and_sine") and row.status == "formula_error" and row.input_shapes == ((3,),)
    assert row.location.endswith(f"test_jax_adapter.py:{bwd.__code__.co_firstlineno}")


def test_a_vjp_written_in_jax_is_the_gradient_under_test() -> None:
    x = jnp.asarray(X)
    good = check_grad(lambda x: jnp.sin(x) * 2, x, vjp=lambda c, x: (c * 2 * jnp.cos(x),))
    assert good.status == "pass" and good.gradient_source == "vjp"
    bad = check_grad(lambda x: jnp.sum(jnp.sin(x)), x, grad=lambda x: (jnp.cos(x) * (1 + 1e-7),),
                     raise_on_mismatch=False)
    assert bad.status == "formula_error" and bad.worst["formula"] == pytest.approx(1e-7, rel=1e-3)


def test_a_reference_of_another_function_is_its_own_failure() -> None:
    result = check_grad(lambda x: jnp.sum(jnp.sin(x)), jnp.asarray(X), reference=lambda x: np.sum(np.cos(x)),
                        raise_on_mismatch=False)
    assert result.status == "formula_error" and not result.mismatches
    assert result.notes[0].startswith("reference and f disagree at the point by")

"""The same function at both precisions: a high-precision value that is not the float64 value up to round-off
means f took another path (a dtype branch), and the check falls back to the float64 reference.

A dtype branch takes another path on the mpmath tier, whose arrays have the object dtype; the quad tier's arrays
say float64 (`QuadArray.dtype`), so there the branch takes the float64 path and the function is the same. The
tests of the mechanism that catches another path therefore run on the mpmath tier (`backend="mpmath"`)."""

import importlib.util
import sys
from pathlib import Path

import numpy as np
import pytest

from pytest_gradcheck import check_grad
from pytest_gradcheck.checker import evaluation
from pytest_gradcheck.hp import quad

ROOT = Path(__file__).resolve().parents[2]


def _load(name, path):
    """A corpus module under a private name: tests/checker and benchmarks each have a `corpus` module."""
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


benchmark_corpus = _load("benchmarks_corpus_same_function", ROOT / "benchmarks" / "corpus.py")
CORPUS = _load("checker_corpus_same_function", ROOT / "tests" / "checker" / "corpus.py").CORPUS

X = np.array([-20.0, -1.0, 0.5, 10.0, 20.0])
needs_quad = pytest.mark.skipif(not quad.available(), reason="the quad tier needs numpy-quaddtype")


def softplus(x):
    """log(1 + e^x) with float64 cutoffs for float64 input and float32-like ones otherwise."""
    low, high = (-37.0, 33.3) if x.dtype == np.float64 else (-17.0, 9.0)
    return np.where(x < low, np.exp(x), np.where(x > high, x, np.log1p(np.exp(np.minimum(x, high)))))


def sigmoid(x):
    return 1 / (1 + np.exp(-x))


def test_a_dtype_branch_falls_back_to_float64_names_the_cause_and_passes_the_right_gradient():
    # the mpmath tier's own mechanics: its object dtype takes the other branch
    result = check_grad(lambda x: np.sum(softplus(x)), X, grad=sigmoid, backend="mpmath")
    assert result.status == "pass" and not result.high_precision
    assert result.precision_note.startswith("f computes a different function on high-precision input (value "
                                            "differs by 1.5e-06 relative at output element 0")


def test_a_cutoff_from_finfo_is_the_same_function_at_high_precision():
    def f(x):  # a floor at float64's tiny for float64, at a float32-like one otherwise
        tiny = 1e-300 if np.finfo(x.dtype).eps < 1e-10 else 1e-7
        return np.sum(np.log(x * x + tiny))

    x = np.array([1e-4, 0.5, -2.0])
    result = check_grad(f, x, grad=lambda x: 2 * x / (x * x + 1e-300))
    assert result.status == "pass" and result.high_precision  # finfo answers for float64: no other path


def test_a_kind_check_branch_is_caught():
    def f(x):  # float64 keeps x, anything else rounds it to float32-like precision first
        y = x if x.dtype.kind == "f" else np.round(x * 2 ** 20) / 2 ** 20
        return np.sum(np.sin(y))

    x = np.array([0.1, 0.7, -1.3])
    result = check_grad(f, x, grad=np.cos, backend="mpmath")  # the mpmath tier's own mechanics: kind "O"
    assert result.status == "pass" and not result.high_precision
    assert result.precision_note.startswith("f computes a different function on high-precision input")
    assert "it reads the dtype of a high-precision array at " + __file__ in result.precision_note


def reading_dtype(f):
    """f behind a validation that reads its first argument's dtype, as library code does: the values are
    then compared."""
    def validated(x, *rest):
        if x.dtype.kind not in "fO":
            raise TypeError("x must be floating point")
        return f(x, *rest)
    return validated


def test_an_ill_conditioned_solve_that_reads_no_dtype_keeps_the_high_precision_reference():
    hilbert = 1 / (np.arange(8)[:, None] + np.arange(8)[None, :] + 1.0)  # condition number 1e10

    def f(b):  # float64 errs by 3e-8 relative here, smoothly in b: by value alone, another function
        return 1e-12 * np.sum(np.linalg.solve(hilbert, b) ** 2)

    def grad(b):
        return 2e-12 * np.linalg.solve(hilbert.T, np.linalg.solve(hilbert, b))

    b = np.linspace(0.5, 1.5, 8)
    result = check_grad(f, b, grad=grad, raise_on_mismatch=False, per_op="off")
    assert result.high_precision and result.status in ("pass", "float64_accuracy")
    validated = check_grad(reading_dtype(f), b, grad=grad, raise_on_mismatch=False, per_op="off")
    assert not validated.high_precision and "different function" in validated.precision_note  # the limit


BRANCHES = ["x.dtype == np.float64", "x.dtype.kind == 'f'", "np.finfo(x.dtype).eps < 1e-10"]


def branching(branch):
    """sin summed, on x itself where `branch` holds (float64) and on x rounded to 20 bits elsewhere."""
    def f(x):
        y = x if eval(branch) else np.round(x * 2 ** 20) / 2 ** 20
        return np.sum(np.sin(y))
    return f


@needs_quad
@pytest.mark.parametrize("branch", BRANCHES)
def test_on_the_quad_tier_a_dtype_branch_takes_the_float64_path_and_is_checked_at_high_precision(branch):
    x = np.array([0.1, 0.7, -1.3])
    result = check_grad(branching(branch), x, grad=np.cos, backend="quad")
    assert result.status == "pass" and result.high_precision and result.backend == "quad", result.precision_note


@needs_quad
def test_on_the_quad_tier_the_softplus_cutoffs_are_float64s_and_checked_at_high_precision():
    result = check_grad(lambda x: np.sum(softplus(x)), X, grad=sigmoid, backend="quad")
    assert result.status == "pass" and result.high_precision and result.backend == "quad", result.precision_note


@needs_quad
@pytest.mark.parametrize("branch", [
    pytest.param(b, marks=pytest.mark.xfail(strict=True, reason=(
        "known limit: the round-off of a quad evaluation is measured against f on mpmath numbers, where this "
        "branch takes the object-dtype path; the check leaves the quad tier, and on mpmath the branch is another "
        "function, so the reference is float64 (as without the quad tier)"))) if b.startswith("x.dtype")
    else b for b in BRANCHES])
def test_on_the_quad_tier_a_wrong_gradient_of_a_dtype_branching_function_is_caught_at_high_precision(branch):
    x = np.array([0.1, 0.7, -1.3])
    wrong = check_grad(branching(branch), x, grad=lambda x: np.cos(x) * (1 + 1e-12), backend="quad",
                       raise_on_mismatch=False, per_op="off")
    assert wrong.status == "formula_error" and wrong.backend == "quad", wrong.notes


def test_a_wrong_gradient_of_the_branching_function_still_fails_at_its_element():
    def wrong(x):
        g = sigmoid(x)
        g[2] *= -1
        return g

    result = check_grad(lambda x: np.sum(softplus(x)), X, grad=wrong, raise_on_mismatch=False)
    assert result.status == "formula_error" and [m.index for m in result.mismatches] == [(2,)]


def test_a_vector_output_names_the_element_that_differs():
    # the mpmath tier's own mechanics: its object dtype takes the other branch
    result = check_grad(softplus, X, vjp=lambda c, x: c * sigmoid(x), backend="mpmath")
    assert result.status == "pass" and "at output element 3" in result.precision_note  # x = 10: x vs softplus


def test_without_the_check_the_branch_gives_a_false_formula_error(monkeypatch):
    monkeypatch.setattr(evaluation.Evaluator, "_different_function", lambda self, asked: None)
    result = check_grad(lambda x: np.sum(softplus(x)), X, grad=sigmoid, raise_on_mismatch=False,
                        backend="mpmath")  # the mpmath tier's own mechanics: its object dtype takes the other branch
    assert result.status == "formula_error" and result.high_precision


@pytest.mark.parametrize("name", benchmark_corpus.NAMES)
def test_it_never_fires_on_the_benchmark_corpus(name):
    for seed in range(2):
        problem = benchmark_corpus.make(name, seed)
        grad = problem.grad if len(problem.args) > 1 else (lambda g: lambda x: g(x)[0])(problem.grad)
        result = check_grad(reading_dtype(problem.f), problem.args if len(problem.args) > 1 else problem.args[0],
                            grad=grad, per_op="off")
        assert result.high_precision, result.precision_note


@pytest.mark.parametrize("name", sorted(CORPUS))
def test_it_never_fires_on_the_checker_corpus(name):
    f, grad, shapes = CORPUS[name]
    rng = np.random.default_rng(3)
    args = tuple(rng.standard_normal(shape) for shape in shapes)
    result = check_grad(reading_dtype(f), args, grad=grad, per_op="off")
    assert result.high_precision, result.precision_note


RNG = np.random.default_rng(1)
LONG = RNG.standard_normal(1000)
CANCELLING = {  # correct functions whose float64 value errs far beyond a few ulps of the output
    "sum of 1000 squares": (lambda x: np.sum(x * x), lambda x: 2 * x, LONG),
    "sum(x + 1e8) - 1e8 n": (lambda x: np.sum(x + 1e8) - 1e8 * x.size, np.ones_like, LONG[:20]),
    "sum(x + 1e12) - 1e12 n": (lambda x: np.sum(x + 1e12) - 1e12 * x.size, np.ones_like, LONG[:20]),
    "var(x + 1e6)": (lambda x: np.var(x + 1e6), lambda x: 2 * (x - np.mean(x)) / x.size, LONG[:30]),
    "exp of a sum near 600": (lambda x: np.exp(np.sum(x)), lambda x: np.exp(np.sum(x)) * np.ones_like(x),
                              np.full(40, 15.0) + LONG[:40] * 0.1),
    "sum(x) - sum(x[::-1]) + sum(x^2)": (lambda x: np.sum(x) - np.sum(x[::-1]) + np.sum(x ** 2),
                                         lambda x: 2 * x, LONG[:50]),
}


@pytest.mark.parametrize("name", sorted(CANCELLING))
def test_it_never_fires_on_cancellation_and_long_sums(name):
    f, grad, x = CANCELLING[name]
    result = check_grad(reading_dtype(f), x, grad=grad, per_op="off")
    assert result.status == "pass" and result.high_precision, result.precision_note


def test_the_emulated_round_off_is_what_accepts_a_cancelling_sum(monkeypatch):
    f, grad, x = CANCELLING["sum(x + 1e12) - 1e12 n"]
    assert check_grad(reading_dtype(f), x, grad=grad, per_op="off").high_precision
    monkeypatch.setattr(evaluation, "SAME_FUNCTION_SIGMAS", 0)  # the float64 noise alone no longer accepts it
    assert check_grad(reading_dtype(f), x, grad=grad, per_op="off").high_precision
    monkeypatch.setattr(evaluation, "EMULATION_SLACK", 0)
    without = check_grad(reading_dtype(f), x, grad=grad, per_op="off", raise_on_mismatch=False)
    assert not without.high_precision and "different function" in without.precision_note


def test_comparing_costs_evaluations_only_where_needed():
    spent = []
    original = evaluation.Evaluator._float64_noise

    def counting(self):
        spent.append(1)
        return original(self)

    try:
        evaluation.Evaluator._float64_noise = counting
        tanh = reading_dtype(lambda x: np.sum(np.tanh(x)))
        check_grad(tanh, np.array([0.3, -0.2]), grad=lambda x: 1 - np.tanh(x) ** 2)
        assert spent == []  # within 64 ulps: accepted at once
        check_grad(lambda x: np.sum(np.tanh(x)), np.array([0.3, -0.3]), grad=lambda x: 1 - np.tanh(x) ** 2)
        assert spent == []  # a sum that cancels to 0, but no dtype question: not compared
        check_grad(lambda x: np.sum(softplus(x)), X, grad=sigmoid, backend="mpmath")  # a branch: the mpmath tier's
        assert spent == [1]
    finally:
        evaluation.Evaluator._float64_noise = original

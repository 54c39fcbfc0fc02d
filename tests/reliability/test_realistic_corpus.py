"""The realistic corpus (benchmarks/realistic_corpus.py): its gradients are right, its bugs are real, and check_grad
meets the targets on it: 0 false positives, every planted bug caught (a sign flip inside float32 code too), and
at least 60% of the checks of code without a compiled call run at high precision.

The corpus is checked against float64 Richardson-extrapolated differences of its float64 functions, independent
of the checker. The targets run check_grad with its defaults, as benchmarks/bench_realistic.py does.
"""

import functools
import inspect

import benchmark_modules
import numpy as np
import pytest

from pytest_gradcheck import check_grad

corpus = benchmark_modules.load("realistic_corpus")
SEED = 0  # the benchmark's default seed: the targets are asserted on the checks it reports
TARGET_HIGH_PRECISION_SHARE = 0.6  # the target, over checks whose code has no compiled call
BUGGY = [(name, bug) for name in corpus.NAMES for bug in corpus.bug_kinds(name)]
FIRST_STEP = 1e-2  # Richardson's largest step: the functions vary on a scale of 0.1 to 1
LEVELS = 5  # steps FIRST_STEP / 2**k; four extrapolations remove truncation errors up to h**8
DIFFERENCE_RTOL = 1e-8  # float64 differences of these functions agree with the exact derivative to ~1e-10
FLOOR = 1e-3  # elements below a thousandth of the largest are compared at that size: differences' noise is absolute
CHAIN_CHANGE = 1e-2  # a missing chain factor moves some element by at least this share of the largest


def _derivative(f, args, which, index):
    """d f / d args[which][index] by central differences, Richardson-extrapolated over halving steps."""
    def central(h):
        up, down = [np.array(a, dtype=float) for a in args], [np.array(a, dtype=float) for a in args]
        up[which][index] += h
        down[which][index] -= h
        return (f(*up) - f(*down)) / (2 * h)

    table = [central(FIRST_STEP / 2**k) for k in range(LEVELS)]
    for m in range(1, LEVELS):
        table = [(4**m * table[j + 1] - table[j]) / (4**m - 1) for j in range(len(table) - 1)]
    return table[0]


@functools.cache
def _checked(name, bug):
    case = corpus.make(name, bug, SEED)
    return check_grad(case.f, case.args, grad=case.grad, rtol=case.rtol, raise_on_mismatch=False)


def test_corpus_has_the_promised_kinds():
    assert 25 <= len(corpus.NAMES) <= 35
    assert len(corpus.COMPILED) >= 3 and len(corpus.FLOAT32) >= 3
    assert set(corpus.NAMES) >= corpus.COMPILED | corpus.FLOAT32
    for family in ("gp_", "tsne_", "mlp_", "huber", "poisson", "logistic", "ridge"):
        assert any(name.startswith(family) for name in corpus.NAMES), family
    source = "".join(inspect.getsource(module) for module in
                     (corpus.realistic_gp, corpus.realistic_nn, corpus.realistic_glm, corpus.realistic_misc))
    for pattern in ("np.asarray(theta, dtype=np.float64)", ".astype(float)", "np.array(array, dtype=float",
                    "check_array(", "dtype == np.float64", "np.finfo(", ".astype(dtype)", "np.float32)",
                    "math.fsum", "np.frompyfunc", "np.vectorize", "< tol", "expit",
                    "logsumexp", "xlogy", "pdist", "cdist", "squareform", "cho_solve"):
        assert pattern in source, pattern


@pytest.mark.parametrize("name", corpus.NAMES)
def test_correct_gradient_is_the_derivative_of_the_float64_function(name):
    case, f = corpus.make(name, None, SEED), corpus.smooth_function(name, SEED)
    grads = [np.asarray(g, dtype=float) for g in case.grad(*case.args)]
    scale = max(np.max(np.abs(g)) for g in grads)
    for which, g in enumerate(grads):
        for index in np.ndindex(g.shape):
            reference = _derivative(f, case.args, which, index)
            assert abs(g[index] - reference) <= DIFFERENCE_RTOL * max(abs(reference), FLOOR * scale), (which, index)


@pytest.mark.parametrize(("name", "bug"), BUGGY)
def test_planted_bug_changes_the_gradient_as_described(name, bug):
    right, wrong = corpus.make(name, None, SEED), corpus.make(name, bug, SEED)
    good = [np.asarray(g, dtype=float) for g in right.grad(*right.args)]
    bad = [np.asarray(g, dtype=float) for g in wrong.grad(*wrong.args)]
    if bug == "sign_flip":
        which, index = corpus.largest_element(tuple(good))
        assert bad[which][index] == -good[which][index] != 0
        assert sum(int(np.sum(b != g)) for b, g in zip(bad, good, strict=True)) == 1
    elif bug == "missing_chain":
        scale = max(np.max(np.abs(g)) for g in good)
        assert max(np.max(np.abs(b - g)) for b, g in zip(bad, good, strict=True)) > CHAIN_CHANGE * scale
    else:
        for b, g in zip(bad, good, strict=True):
            # rtol 1e-3: the float64 round-off of a 1e-9 change, relative to it
            np.testing.assert_allclose(b[g != 0] / g[g != 0] - 1, corpus.RELATIVE_ERROR, rtol=1e-3)


def test_float32_and_solver_cases_carry_no_bug_below_their_noise():
    assert corpus.bug_kinds("float32_sin") == ("sign_flip", "missing_chain")
    assert corpus.bug_kinds("fixed_point_tolerance") == ("sign_flip", "missing_chain")
    assert corpus.bug_kinds("gp_log_marginal_likelihood") == corpus.BUG_KINDS
    with pytest.raises(ValueError, match="bug: 'relative_1e-9' is not planted in 'float32_sin'"):
        corpus.make("float32_sin", "relative_1e-9")
    with pytest.raises(ValueError, match="name: unknown case 'nope'"):
        corpus.make("nope")


@pytest.mark.parametrize("name", sorted(corpus.COMPILED))
def test_compiled_cases_cannot_run_at_high_precision(name):
    """The `compiled` marking is true: these checks' references are float64, and the result says why."""
    result = _checked(name, None)
    assert not result.high_precision and result.precision_note


# The targets. Several fail on the code before the fixes (see docs/benchmarks.md, "Realistic corpus").


@pytest.mark.parametrize("name", corpus.NAMES)
def test_target_correct_gradient_passes(name):
    result = _checked(name, None)
    assert result.ok and result.status == "pass", result.message()


@pytest.mark.parametrize(("name", "bug"), BUGGY)
def test_target_planted_bug_is_caught(name, bug):
    result = _checked(name, bug)
    assert not result.ok, result.message()


@pytest.mark.parametrize("name", sorted(corpus.FLOAT32))
def test_target_sign_flip_inside_float32_code_is_caught_and_named(name):
    case = corpus.make(name, None, SEED)
    which, index = corpus.largest_element(tuple(case.grad(*case.args)))
    result = _checked(name, "sign_flip")
    assert result.status == "formula_error", result.message()
    assert any(m.argument == which and m.index == index for m in result.mismatches), result.message()


def test_target_high_precision_share_over_checks_without_compiled_code():
    checks = [(name, bug) for name in corpus.NAMES if name not in corpus.COMPILED
              for bug in (None, *corpus.bug_kinds(name))]
    low = [f"{name}[{bug}]: {_checked(name, bug).precision_note}" for name, bug in checks
           if not _checked(name, bug).high_precision]
    share = 1 - len(low) / len(checks)
    assert share >= TARGET_HIGH_PRECISION_SHARE, f"{share:.0%} at high precision; float64:\n" + "\n".join(low)


def test_benchmark_counts_a_checker_exception_as_an_error_never_a_catch():
    bench = benchmark_modules.load("bench_realistic")
    case = corpus.make("ridge_check_array", "sign_flip", SEED)

    def broken(w):
        raise ZeroDivisionError("inside f")

    record = bench.run_case(corpus.Case(case.name, case.bug, broken, case.grad, case.args, False, False))
    assert record["status"] == "error" and "ZeroDivisionError: inside f" in record["precision_note"]
    correct = {**bench.run_case(corpus.make("ridge_check_array", None, SEED)), "status": "error", "ok": False}
    summary = bench.summarize([record, correct, bench.run_case(case)])
    assert summary["caught"]["sign_flip"] == "1/2" and summary["false_positive_count"] == 1
    assert summary["missed"] == ["ridge_check_array[sign_flip]: error"] and len(summary["errors"]) == 2


def test_a_solve_stopped_at_its_tolerance_is_not_the_function_its_implicit_gradient_differentiates():
    """Without the solver's rtol the verdict is honest: the implicit gradient is off by about the tolerance."""
    case = corpus.make("fixed_point_tolerance", None, SEED)
    result = check_grad(case.f, case.args, grad=case.grad, raise_on_mismatch=False)
    assert result.status == "formula_error" and result.high_precision, result.message()
    worst = max(m.rel_error for m in result.mismatches)
    assert 1e-11 < worst < 1e-7, result.message()

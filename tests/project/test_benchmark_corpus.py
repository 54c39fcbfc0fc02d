"""The detection benchmark's corpus is right: correct gradients pass, and every mutation changes the gradient."""


import benchmark_modules
import numpy as np
import pytest

from pytest_gradcheck import check_grad

corpus = benchmark_modules.load("corpus")
mutations = benchmark_modules.load("mutations")
SEED = 3  # a point the benchmark's quick run does not use


def _flat(grads):
    grads = grads if isinstance(grads, tuple | list) else (grads,)
    return np.concatenate([np.ravel(np.asarray(g, dtype=float)) for g in grads])


def test_corpus_has_the_promised_kinds():
    assert 12 <= len(corpus.NAMES) <= 16
    assert {"three_layer_net", "rnn_3_steps", "badly_scaled", "ill_conditioned", "rosenbrock"} <= set(corpus.NAMES)


@pytest.mark.parametrize("name", corpus.NAMES)
def test_correct_gradient_passes_full_check(name):
    problem = corpus.make(name, SEED)
    result = check_grad(problem.f, problem.args, grad=problem.grad, mode="full", per_op="off")
    assert result.status == "pass" and result.high_precision, result.message()


@pytest.mark.parametrize("name", corpus.NAMES)
@pytest.mark.parametrize("kind", mutations.KINDS)
def test_mutation_changes_the_gradient(name, kind):
    problem = corpus.make(name, SEED)
    d = 1e-3 if kind in mutations.SCALED_KINDS else None
    mutation = mutations.mutate(kind, d, problem.grad, problem.args, SEED)
    if mutation is None:
        assert kind == "transpose" and not any(a.ndim == 2 and a.shape[0] == a.shape[1] for a in problem.args)
        return
    correct, mutated = _flat(problem.grad(*problem.args)), _flat(mutation.grad(*problem.args))
    assert mutated.shape == correct.shape
    assert not np.array_equal(mutated, correct), mutation.detail


@pytest.mark.parametrize("kind", [k for k in mutations.KINDS if k != "float32"])
def test_formula_mutations_also_change_the_high_precision_gradient(kind):
    problem = corpus.make("rnn_3_steps", SEED)
    d = 1e-3 if kind in mutations.SCALED_KINDS else None
    mutation = mutations.mutate(kind, d, problem.grad, problem.args, SEED)
    result = check_grad(problem.f, problem.args, grad=mutation.grad, mode="full", per_op="off",
                        raise_on_mismatch=False)
    assert result.status == "formula_error", result.message()


def test_float32_rounding_is_a_float64_accuracy_issue_not_a_formula_error():
    problem = corpus.make("three_layer_net", SEED)
    mutation = mutations.mutate("float32", None, problem.grad, problem.args, SEED)
    result = check_grad(problem.f, problem.args, grad=mutation.grad, mode="full", per_op="off",
                        raise_on_mismatch=False)
    assert result.status == "float64_accuracy", result.message()


def test_every_size_touches_the_same_element():
    problem = corpus.make("three_layer_net", SEED)
    details = {mutations.mutate("scale_one", d, problem.grad, problem.args, SEED).detail.split(" scaled")[0]
               for d in mutations.SIZES}
    assert len(details) == 1

"""Random expression graphs: the engine's gradient always passes, and one planted VJP bug always fails at that op.

Graphs, inputs and bugs come from `random_graphs` (smooth primitives on safe domains, broadcasting, fan-out,
reductions, matmul, shape ops; see its docstring). Each example costs two checks of ~30 ms.
`GRADCHECK_FUZZ_EXAMPLES=2000 pytest tests/reliability/test_fuzz_graphs.py` explores further than CI does.
"""

import os

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from random_graphs import DELTA, OPS, Graph, Plant, Step, arguments, function_of, graphs, plants, run

import autodiff_ref
from pytest_gradcheck import GradcheckError, check_grad

EXAMPLES = int(os.environ.get("GRADCHECK_FUZZ_EXAMPLES", "20"))


@st.composite
def graph_points(draw):
    graph = draw(graphs())
    return graph, draw(arguments(graph))


@settings(max_examples=EXAMPLES, deadline=None)
@given(graph_points())
def test_engine_gradient_of_a_random_graph_passes_and_so_does_every_op(point):
    """The formula is always right, and so is every op's rule, in float64 too. The one float64 loss allowed is
    the reverse pass summing contributions that cancel where a value fans out (sum(x - x) + sum(x**3) at
    x = 1e-6: 1 + 3e-12 - 1 keeps 5 digits), which the check rightly reports as float64_accuracy."""
    graph, args = point
    result = check_grad(function_of(graph), args, per_op="always", raise_on_mismatch=False)
    context = f"{graph!r}\n{result.message()}"
    assert result.high_precision and not [m for m in result.mismatches if m.kind == "formula"], context
    assert result.status == "pass" or (result.status == "float64_accuracy" and graph.fans_out), context
    assert result.ops and [row.status for row in result.ops] == ["pass"] * len(result.ops), context
    # every step is one op on the tape (plus the sums and adds that make the output): none went missing
    assert len(result.ops) == len(graph.steps) + graph.output_ops, result.message()


@settings(max_examples=EXAMPLES, deadline=None)
@given(st.data())
def test_one_planted_vjp_bug_fails_the_check_and_is_located_at_its_op_and_element(data):
    graph, args = data.draw(graph_points())
    plant = data.draw(plants(graph))
    f = function_of(graph, plant)
    assert run(graph, args, plant) == run(graph, args)  # the forward is untouched: only the VJP is wrong
    result = check_grad(f, args, raise_on_mismatch=False)
    context = f"{graph!r}\n{plant}\n{result.message()}"
    assert result.status == "formula_error" and not result.ok, context
    failing = [row for row in result.ops if not row.ok]
    assert [(row.name, row.status, row.custom, row.first_failing) for row in failing] == [
        (plant.name, "formula_error", True, True)], context
    (row,) = failing
    located = {(m.argument, m.name, m.index) for m in row.mismatches if m.index is not None}
    assert located == {(plant.operand, f"input{plant.operand}", plant.element)}, context
    assert [r.status for r in result.ops if r is not row] == ["pass"] * (len(result.ops) - 1), context


@pytest.mark.parametrize(("name", "f", "x"), [
    ("tanh at 9", np.tanh, [9.0]), ("tanh at -12", np.tanh, [-12.0]),
    ("tanh at 5 in float32", np.tanh, np.array([5.0], dtype=np.float32)),
    ("sigmoid at -20", autodiff_ref.sigmoid, [-20.0]), ("sigmoid at 20", autodiff_ref.sigmoid, [20.0]),
    ("softplus at -30", autodiff_ref.softplus, [-30.0]),
])
def test_the_engines_saturating_rules_keep_float64_accuracy(name, f, x):
    """Found by the fuzzing: 1 - ans**2 and ans * (1 - ans) keep only the rounding of ans once it nears 1, so the
    engine's own tanh, sigmoid and softplus gradients failed the float64 accuracy check (3e-9 at tanh(9))."""
    result = check_grad(lambda x: np.sum(f(x)), np.asarray(x, dtype=getattr(x, "dtype", np.float64)), per_op="always")
    assert result.status == "pass" and [row.status for row in result.ops] == ["pass", "pass"], result.message()


def test_cancelling_contributions_of_a_fanned_out_value_are_a_float64_accuracy_verdict():
    """The float64 loss the fuzz test allows, seen directly: the formula is right, float64 sums 1 + 3e-12 - 1."""
    result = check_grad(lambda x: np.sum(x - x) + np.sum(x**3.0), np.array([1e-6]), raise_on_mismatch=False)
    assert result.status == "float64_accuracy" and not [m for m in result.mismatches if m.kind == "formula"]
    # not a pass: the default per_op="auto" checks every op, and each one is right
    assert result.ops and [row.status for row in result.ops] == ["pass"] * len(result.ops), result.message()


def test_the_planted_bug_is_exactly_one_jacobian_entry_off_by_delta():
    """The bug the fuzz tests plant, measured directly: J^T g differs in one element, by DELTA * g[j]."""
    graph = _graph_of_one_step("multiply", shapes=((2, 3), (3,)))
    x, y = np.linspace(-1, 1, 6).reshape(2, 3), np.array([0.5, -0.25, 1.0])
    plant = Plant(step=0, operand=1, element=(2,))
    right = autodiff_ref.grad(function_of(graph), argnums=(0, 1))(x, y)
    wrong = autodiff_ref.grad(function_of(graph, plant), argnums=(0, 1))(x, y)
    np.testing.assert_array_equal(wrong[0], right[0])
    difference = wrong[1] - right[1]
    # output sum: g = 1 everywhere; y[2] broadcasts to output element (0, 2): the entry J[(0, 2), 2] is off
    np.testing.assert_allclose(difference, [0.0, 0.0, DELTA], rtol=1e-9, atol=0)


def test_a_planted_bug_is_caught_even_where_the_true_jacobian_entry_is_zero():
    """cos at 0 has derivative 0: a relative bug would vanish there, the additive one is still found."""
    graph = _graph_of_one_step("cos", shapes=((3,),))
    x = np.array([0.4, 0.0, -0.7])
    with pytest.raises(GradcheckError) as info:
        check_grad(function_of(graph, Plant(0, 0, (1,))), x)
    (row,) = [r for r in info.value.result.ops if not r.ok]
    assert {m.index for m in row.mismatches} == {(1,)}


def _graph_of_one_step(name, shapes):
    op = next(o for o in OPS if o.name == name and o.arity == len(shapes))
    found = op.rule(list(shapes), [(-1.0, 1.0)] * len(shapes), None)
    step = Step(op, tuple(range(len(shapes))), None, *found)
    return Graph(tuple(shapes), (False,) * len(shapes), (step,))


# ----- what the fuzzing found ----------------------------------------------------------------------------------
# Fixed since (regression tests): np.sum of a high-precision scalar recursed without end in hparray (the scalar's
# __array_ufunc__ handed 'reduce' back to itself), crashing or silently downgrading every check below.


def test_the_sum_of_a_0d_argument_is_checked():
    result = check_grad(lambda x: np.sum(x), np.array(0.3))
    assert result.status == "pass" and result.high_precision


@pytest.mark.parametrize("mode", ["fast", "taylor"])
def test_a_0d_argument_is_checked_in_projection_modes(mode):
    result = check_grad(lambda x, s: np.sum(x * s), (np.array([0.1, 0.2, 0.3]), np.array(0.5)), mode=mode)
    assert result.status == "pass"


def test_a_sum_of_a_sum_keeps_its_high_precision_reference():
    result = check_grad(lambda x: np.sum(np.sum(x) ** 2), np.array([0.3, -0.2]))
    assert result.status == "pass" and result.high_precision, result.precision_note


def test_a_broadcast_op_with_a_0d_input_is_checked_on_its_own():
    result = check_grad(lambda x, s: np.sum(x + s), (np.array([0.1, 0.2]), np.array(0.3)), per_op="always")
    assert [(row.name, row.status) for row in result.ops] == [("add", "pass"), ("sum", "pass")], result.message()


# Still open: strict xfails, reproducers for whoever fixes them. random_graphs.TINY keeps the fuzz tests clear of
# them until then.


@pytest.mark.xfail(strict=True, reason="x**3 at x = 1e-100 (which the package's own well_scaled_arrays draws) is "
                   "inconclusive at 40 digits: the derivative 3e-200 is far below what steps of ~1e-13 resolve, "
                   "and the check gives no verdict where sum(x * x) there passes with a 'below what the reference "
                   "resolves' note")
def test_a_cube_at_a_tiny_point_is_not_inconclusive():
    result = check_grad(lambda x: np.sum(x**3.0), np.array([1e-100]), raise_on_mismatch=False)
    assert result.ok, result.message()


def test_an_exact_zero_gradient_of_a_centred_sum_passes_at_zero():
    result = check_grad(lambda x: np.sum(x - np.mean(x)), np.zeros(3), raise_on_mismatch=False)
    assert result.status == "pass", result.message()

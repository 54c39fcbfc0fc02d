"""One place per op: each engine op declares its numpy functions where it is defined, numpy dispatch is derived
from those declarations, and every op has its gradient test case in primitive_cases.py."""

import re
from pathlib import Path

import numpy as np
import pytest
from primitive_cases import CASES, builtin_ops

import autodiff_ref
from autodiff_ref import numpy_bridge, primitives
from autodiff_ref.registration import Composite, NumpyOp, defelementwise

DOCS = Path(__file__).parents[2] / "docs" / "autodiff_ref.md"


def untested_ops(ops, cases):
    """The names of `ops` no case tests, and the cases whose op is not one of `ops`."""
    tested = {case.op for case in cases.values()}
    return sorted(set(ops) - tested), sorted(name for name, case in cases.items() if case.op not in ops)


def test_every_op_has_a_gradient_case_and_every_case_names_an_op():
    missing, unknown = untested_ops(builtin_ops(), CASES)
    assert not missing and not unknown, (f"ops without a gradient case in primitive_cases.py: {missing}; "
                                         f"cases naming no op of autodiff_ref: {unknown}")


def test_the_coverage_check_sees_a_missing_case_and_a_misnamed_one():
    without_exp = {name: case for name, case in CASES.items() if case.op != "exp"}
    assert untested_ops(builtin_ops(), without_exp) == (["exp"], [])
    renamed = {**CASES, "typo": CASES["exp"].__class__("expp", np.exp, ((2,),), -1.0, 1.0)}
    assert untested_ops(builtin_ops(), renamed) == ([], ["typo"])


def test_the_ops_are_enumerated_from_the_engine_modules():
    ops = builtin_ops()
    assert ops["exp"] is primitives.exp and ops["sigmoid"] is autodiff_ref.sigmoid and ops["var"] is primitives.var
    assert {"getitem", "concatenate", "logsumexp", "std"} <= set(ops)


PRIMITIVE_CASES = sorted(n for n, c in CASES.items() if isinstance(builtin_ops().get(c.op), autodiff_ref.Primitive))


@pytest.mark.parametrize("name", PRIMITIVE_CASES)
def test_each_case_records_the_op_it_names(name):
    case = CASES[name]
    args = tuple(np.ones(shape) / 2 for shape in case.shapes)
    recording = autodiff_ref.record(case.f, args, argnums=tuple(range(len(args))))
    assert case.op in [node.name for node in recording.nodes], [node.name for node in recording.nodes]


def test_every_elementwise_op_has_exact_partials_for_each_argument():
    elementwise = {name for name, op in builtin_ops().items() if getattr(op, "elementwise", False)}
    with_partials = {case.op for case in CASES.values() if case.partials is not None}
    assert elementwise == with_partials
    for name, case in CASES.items():
        assert case.partials is None or len(case.partials) == len(case.shapes), name


def test_dispatch_tables_are_derived_from_the_declarations():
    for op in numpy_bridge.numpy_ops():
        for func in op.numpy:
            table = numpy_bridge.UFUNCS if isinstance(func, np.ufunc) else numpy_bridge.FUNCTIONS
            handler = table[func]
            assert handler is op or getattr(handler, "args", (None,))[0] is op, func
    assert numpy_bridge.UFUNCS[np.exp] is primitives.exp and numpy_bridge.FUNCTIONS[np.var] is primitives.var
    assert numpy_bridge.FUNCTIONS[np.amax].args == (primitives.max_, "np.amax")  # errors name the call made


def test_a_new_elementwise_op_is_one_line_and_dispatches():
    module = type(primitives)("scratch_ops")
    module.hypot = defelementwise(np.hypot, lambda ans, x, y: lambda g: g * x / ans,
                                  lambda ans, x, y: lambda g: g * y / ans)
    ufuncs, functions = numpy_bridge.dispatch_tables(numpy_bridge.numpy_ops(module))
    assert ufuncs == {np.hypot: module.hypot} and np.hypot not in numpy_bridge.UFUNCS
    assert np.shape in functions  # the structural functions are always there


def test_a_numpy_function_claimed_twice_is_an_error():
    again = NumpyOp(np.exp, "exp_again", numpy=(np.exp,))
    with pytest.raises(ValueError, match=r"np\.exp is implemented twice"):
        numpy_bridge.dispatch_tables([primitives.exp, again])


@pytest.mark.parametrize(("build", "message"), [
    (lambda: NumpyOp(np.exp, "e", numpy=()), "numpy= must name at least one"),
    (lambda: NumpyOp(np.exp, "e", numpy=("exp",)), "numpy= entries must be numpy functions"),
    (lambda: NumpyOp(np.exp, "e", numpy=(np.exp,), call=lambda op, name, x: op(x)), "ufuncs are dispatched"),
    (lambda: Composite(np.var, numpy=[]), "composite 'var': numpy= must name"),
])  # fmt: skip
def test_malformed_declarations_are_refused(build, message):
    with pytest.raises((ValueError, TypeError), match=message):
        build()


def test_the_docs_list_every_supported_numpy_function():
    text = DOCS.read_text()
    section = text[text.index("## Supported numpy"):text.index("## Conventions")]
    listed = set(re.findall(r"`(?:np\.)?([a-z0-9_]+)`", section))
    declared = {f.__name__ for op in numpy_bridge.numpy_ops() for f in op.numpy}
    assert declared <= listed, f"registered but not in docs/autodiff_ref.md: {sorted(declared - listed)}"

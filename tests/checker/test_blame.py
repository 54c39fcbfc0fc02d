"""blame.checker_fault on small pieces of code compiled as if they were the checker's own module."""

import re

import numpy as np
import pytest

from pytest_gradcheck.hp import blame

CHECKER_CODE = '''
import numpy as np
from pytest_gradcheck.hp.blame import HPUnsupported, forwarding

def mirrors_numpy(x):
    raise ValueError("Invalid norm order for matrices.")

def buggy(x):
    return x.no_such_attribute

def relabels_a_bug(x):
    try:
        return buggy(x)
    except AttributeError as exc:
        raise TypeError(f"expected a real number: {exc}") from None

def relabels_a_library_error(x):
    try:
        return np.linalg.inv(np.zeros((2, 2)))
    except np.linalg.LinAlgError as exc:
        raise ValueError("the matrix is singular at high precision") from exc

def unsupported(x):
    raise HPUnsupported("no object loop")

@forwarding
def forwards(call, *args):
    return call(*args)

def calls(call, *args):
    return call(*args)
'''


@pytest.fixture(scope="module")
def checker():
    namespace = {"__name__": "pytest_gradcheck._blame_fixture"}
    exec(compile(CHECKER_CODE, "pytest_gradcheck/_blame_fixture.py", "exec"), namespace)
    return namespace


def fault(call, *args):
    try:
        call(*args)
    except Exception as exc:
        return blame.checker_fault(exc)
    raise AssertionError("did not raise")


def test_a_bug_in_the_checker_is_a_fault_naming_type_message_file_line_and_function(checker):
    where = fault(checker["buggy"], 1.0)
    assert re.fullmatch(r"AttributeError: 'float' object has no attribute 'no_such_attribute' at "
                        r"pytest_gradcheck/_blame_fixture\.py:9 in buggy", where), where


def test_a_deliberate_raise_mirroring_numpy_is_not_a_fault(checker):
    assert fault(checker["mirrors_numpy"], 1.0) is None
    assert fault(checker["unsupported"], 1.0) is None
    assert fault(checker["relabels_a_library_error"], 1.0) is None


def test_a_raise_that_relabels_a_bug_of_the_checker_is_still_the_bug(checker):
    where = fault(checker["relabels_a_bug"], 1.0)
    assert where is not None and "AttributeError" in where and " in buggy" in where, where


def test_the_users_code_and_libraries_it_calls_are_not_faults(checker):
    def users_code(x):
        return np.linalg.inv(x)  # numpy raises LinAlgError inside its own frames

    def users_bug(x):
        return x.missing

    assert fault(users_code, np.zeros((2, 2))) is None
    assert fault(users_bug, 1.0) is None
    assert fault(checker["calls"], users_bug, 1.0) is None  # the user's frame raised, beneath the checker's


def test_a_library_error_beneath_a_forwarding_frame_belongs_to_the_call_it_forwards(checker):
    def users_code(x):
        return checker["forwards"](np.split, x, 2)  # numpy raises in its own frames, beneath `forwards`

    assert fault(users_code, np.ones(3)) is None
    where = fault(checker["calls"], np.split, np.ones(3), 2)  # the checker itself called numpy wrongly
    assert where is not None and " in calls" in where, where
    where = fault(checker["forwards"], np.empty, -1)  # raised at the forwarding frame's own line: its bug
    assert where is not None and " in forwards" in where, where


def test_the_start_of_the_users_call_ends_the_walk(checker):
    f = blame.user_code(np.empty)  # a builtin raising in C: no frame of the user's own
    assert fault(checker["calls"], f, -1) is None
    assert blame.user_code(f) is f  # wrapped once

"""Whole pytest runs are reproducible: the same seed gives the same report, byte for byte once its two timing
fields are set aside, in this process or another one, serially or spread over 2 or 4 xdist workers.

The only fields that depend on the clock (docs/report-schema.md): `created` (top level) and `seconds` (per
check). The writer puts every field on its own line, so the comparison drops exactly those lines and compares
the rest of the file's bytes.
"""

import re

SUITE = '''
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import autodiff_ref
from pytest_gradcheck import check_grad


@autodiff_ref.primitive(elementwise=True)
def leaky_tanh(z):
    return np.tanh(z)


leaky_tanh.defvjp(lambda ans, z: lambda g: g * (1 - ans * ans) * 1.000001)  # wrong by 1e-6

X = np.linspace(-1.0, 1.0, 6).reshape(2, 3)


@pytest.mark.gradcheck
def test_engine(gradcheck):
    gradcheck(lambda w: np.sum(np.tanh(X.T @ w) ** 2), np.linspace(0.2, 0.8, 4).reshape(2, 2))


@pytest.mark.gradcheck
def test_buggy_op(gradcheck):
    gradcheck(lambda w: np.sum(leaky_tanh(X * w)), np.full((2, 3), 0.5))


@pytest.mark.gradcheck(mode="fast", projections=3)  # random projections: the seed decides them
def test_fast(gradcheck):
    gradcheck(lambda x: np.sum(np.sin(x) * np.exp(0.1 * x)), np.linspace(-2, 2, 90))


@pytest.mark.parametrize("shift", [0.0, 0.5, 1.5])
def test_parametrized(gradcheck, shift):
    gradcheck(lambda x: np.sum(np.log1p(x * x)), np.array([0.3, -0.6]) + shift)


def test_kink():
    check_grad(lambda x: np.sum(np.abs(x)), np.array([0.0, 0.7]))


def test_float64_reference():
    check_grad(lambda x: np.sum(np.sin(np.array(x.tolist(), dtype=float))), np.array([0.2, 0.4]), grad=np.cos)


def test_two_functions(gradcheck):
    gradcheck(lambda x: np.sum(x ** 3), np.array([0.5, -0.25]))
    check_grad(np.linalg.det, np.array([[2.0, 0.5], [0.25, 1.0]]),
               grad=lambda a: np.linalg.det(a) * np.linalg.inv(a).T)


@settings(max_examples=5, derandomize=True, database=None, deadline=None)
@given(st.floats(0.1, 2.0))
def test_hypothesis(gradcheck, scale):
    gradcheck(lambda x: np.sum(np.exp(-x * x)), np.array([0.1, 0.9]) * scale, raise_on_mismatch=False)
'''

TIMING_LINE = re.compile(rb'^ *"(created|seconds)": .*\n', re.MULTILINE)
COMMON = ("-p", "no:cacheprovider", "-p", "no:randomly", "-q")


def _stripped(path):
    return TIMING_LINE.sub(b"", path.read_bytes())


def _run(pytester, name, *args, subprocess=True):
    run = pytester.runpytest_subprocess if subprocess else pytester.runpytest
    result = run(f"--gradcheck-report={name}.json", f"--gradcheck-markdown={name}.md", *COMMON, *args)
    result.assert_outcomes(passed=9, failed=1)  # test_buggy_op fails, the rest pass
    return pytester.path / f"{name}.json"


def test_same_seed_same_report_in_process_in_another_process_and_across_xdist_workers(pytester):
    pytester.makepyfile(test_suite=SUITE)
    reports = {
        "in process": _run(pytester, "inline", "--gradcheck-seed=5", subprocess=False),
        "subprocess": _run(pytester, "again", "--gradcheck-seed=5"),
        "-n 2": _run(pytester, "two", "--gradcheck-seed=5", "-n", "2"),
        "-n 4": _run(pytester, "four", "--gradcheck-seed=5", "-n", "4"),
    }
    first = _stripped(reports["in process"])
    assert len(TIMING_LINE.findall(reports["in process"].read_bytes())) == 1 + 11  # created, seconds per check
    for how, path in reports.items():
        assert _stripped(path) == first, f"the report of the run {how} differs from the in-process run's"
    footer = re.compile(rb"; created [^<]*</sub>")  # the Markdown's only timestamp
    markdowns = {footer.sub(b"", path.with_suffix(".md").read_bytes()) for path in reports.values()}
    assert len(markdowns) == 1


def test_another_seed_gives_another_report(pytester):
    """The comparison above is sensitive: a different seed changes the random projections' figures."""
    pytester.makepyfile(test_suite=SUITE)
    one = _stripped(_run(pytester, "one", "--gradcheck-seed=5", subprocess=False))
    other = _stripped(_run(pytester, "other", "--gradcheck-seed=6", subprocess=False))
    assert one != other
    changed = {line for line in set(one.splitlines()) ^ set(other.splitlines()) if b'"id"' in line}
    assert changed == set()  # the same checks; only their figures moved

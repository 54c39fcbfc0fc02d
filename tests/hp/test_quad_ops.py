"""No crash, ever: every operation pytest_gradcheck.hp.quad_ops lets numpy-quaddtype run is run on quad arrays, in
the shapes and operand mixes user code produces, in a subprocess (tests/hp/quad_sweep.py): a crash fails a test
naming the operation, never the test run. The same sweep checks results against float64 and the math ufuncs
against mpmath."""

import json
import os
import subprocess
import sys
import tomllib
from pathlib import Path

import numpy as np
import pytest
from packaging.requirements import Requirement
from packaging.version import Version

nq = pytest.importorskip("numpy_quaddtype")

from pytest_gradcheck.hp import quad_ops  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
SWEEP = Path(__file__).with_name("quad_sweep.py")

# Zero signs where numpy-quaddtype follows IEEE 754-2019 and numpy's float64 loops do not: minimum(0.0, -0.0) is
# -0.0 on quad, 0.0 on float64; logaddexp(-0.0, -inf) is -0.0 on quad. Harmless for gradients; anything else is not.
ZERO_SIGN_CONVENTIONS = {"ufunc:minimum", "ufunc:fmin", "ufunc:logaddexp", "ufunc:logaddexp2"}
MAX_CRASHES = 5  # then the sweep stops: later crashes are likely the same cause


def run_sweep(*args):
    """The sweep's records and {op: what crashed}: one subprocess for the whole sweep; after a crash, the operation
    that crashed (the last one started) alone, to tell a crash of its own from one that earlier operations set up,
    then the sweep again without it, until a run completes."""
    crashed = {}
    while True:
        proc = sweep_process(*args, "--skip", *crashed)
        records = [json.loads(line) for line in proc.stdout.splitlines()]
        if proc.returncode == 0 and records and "done" in records[-1]:
            return records, crashed
        started = [r for r in records if "start" in r]
        if proc.returncode >= 0 or not started or started[-1]["start"] in crashed:
            raise AssertionError(f"the sweep failed (return code {proc.returncode}):\n{proc.stderr[-3000:]}")
        op, case = started[-1]["start"], started[-1]["case"]
        alone = "also when run alone" if sweep_process("--only", op, *args).returncode < 0 else (
            "only after the operations before it ran (run alone it passes)")
        crashed[op] = f"{case}: killed by signal {-proc.returncode}, {alone}\n{proc.stderr[-1200:]}"
        if len(crashed) == MAX_CRASHES:
            return [], {**crashed, "...": f"the sweep stopped after {MAX_CRASHES} crashes"}


def sweep_process(*args):
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    return subprocess.run([sys.executable, str(SWEEP), *args], capture_output=True, text=True, env=env, timeout=600)


@pytest.fixture(scope="module")
def sweep():
    return run_sweep()


@pytest.fixture
def records(sweep):
    """The records of a completed sweep (test_no_allowed_operation_crashes says why one did not complete)."""
    if not sweep[0]:
        pytest.fail("the sweep did not complete: numpy-quaddtype crashed too often (see the crash test)")
    return sweep[0]


def results(records):
    return [r for r in records if "op" in r and not r["op"].startswith("accuracy:")]


def listed_ops():
    return ({f"ufunc:{n}" for n in quad_ops.UFUNCS} | {f"reduce:{n}" for n in quad_ops.REDUCTIONS}
            | {f"accumulate:{n}" for n in quad_ops.REDUCTIONS} | {f"function:{n}" for n in quad_ops.FUNCTIONS})


def float_valued(name):
    uf = getattr(np, name)
    with np.errstate(all="ignore"):
        return uf(*[np.float64(0.5)] * uf.nin).dtype.kind == "f"


def test_no_allowed_operation_crashes(sweep):
    _, crashed = sweep
    assert not crashed, "numpy-quaddtype crashed the interpreter in:\n" + "\n".join(
        f"  {op} -- {what}" for op, what in crashed.items())


def test_every_allowed_name_is_run(records):
    """Adding a name to quad_ops without cases in quad_sweep.py fails here."""
    uncovered = sorted(r["uncovered"] for r in records if "uncovered" in r)
    assert not uncovered, f"quad_sweep.py has no case for {uncovered}"
    assert {r["op"] for r in results(records)} == listed_ops()
    accuracy = {r["op"].removeprefix("accuracy:") for r in records if r.get("op", "").startswith("accuracy:")}
    assert accuracy == {n for n in quad_ops.UFUNCS if float_valued(n)}, "every float-valued ufunc has mpmath points"


def test_no_error_where_float64_works(records):
    errors = [f"{r['op']}: {r['case']} -- {r['quad_error']}" for r in results(records)
              if r["quad_error"] and not r["ref_error"]]
    assert not errors, "raises on quad, works on float64:\n" + "\n".join(errors)
    accepted = [f"{r['op']}: {r['case']} -- float64: {r['ref_error']}" for r in results(records)
                if r["ref_error"] and not r["quad_error"]]
    assert not accepted, "works on quad, raises on float64:\n" + "\n".join(accepted)


def test_results_agree_with_float64_and_stay_quad(records):
    """Values as float64's (to 1e-12), quad dtype for float results, a mixed call equal to the all-quad call, no
    reference to QuadPrecDType's class dropped."""
    problems = [f"{r['op']}: {r['case']} -- {p}" for r in results(records) for p in r["problems"]
                if not (p.startswith("the sign of a zero") and r["op"] in ZERO_SIGN_CONVENTIONS)]
    assert not problems, "\n".join(problems)


def test_math_ufuncs_within_four_units_of_2_to_the_minus_113(records):
    """Against mpmath at 256 bits: relative error <= 4 * 2**-113, or near a zero, relative to the result's scale."""
    accuracy = [r for r in records if r.get("op", "").startswith("accuracy:")]
    bad = [f"{r['case']}: relative error {r['relative_error']} (got {r.get('got')}, exact {r.get('exact')}) "
           f"{r.get('error', '')}" for r in accuracy if not r["ok"]]
    assert not bad, "\n".join(bad)
    assert all(sum(r["op"] == op for r in accuracy) >= 2 for op in {r["op"] for r in accuracy})


def test_the_rules_of_quad_ops_match_numpy_quaddtype(records):
    """MIXED_OPERANDS_SAFE and REDUCTION_IDENTITIES say what numpy-quaddtype does (probes in a fresh process); the
    sweep checks that the identities give float64's results (np.sum of an empty array is +0.0)."""
    probe = next(r for r in records if "mixed_operand_refs_dropped" in r)
    if probe["mixed_operand_refs_dropped"]:
        assert quad_ops.MIXED_OPERANDS_SAFE is False
    assert set(probe["no_identity"]) <= set(quad_ops.REDUCTION_IDENTITIES) <= quad_ops.REDUCTIONS


def test_a_crash_is_caught_and_named():
    records, crashed = run_sweep("--only", "ufunc:add", "probe:crash", "--crash-probe")
    assert list(crashed) == ["probe:crash"]
    assert crashed["probe:crash"].startswith("SIGSEGV: killed by signal 11, also when run alone")
    assert {r["op"] for r in results(records)} == {"ufunc:add"}  # the retry ran the rest


@pytest.mark.parametrize("name", ["einsum", "dot", "vdot", "inner", "tensordot", "clip", "linalg", "fft",
                                  "matmul", "cbrt", "outer"])
def test_known_sharp_edges_are_not_allowed(name):
    assert name not in quad_ops.UFUNCS | quad_ops.REDUCTIONS | quad_ops.FUNCTIONS


def test_excluded_names_are_not_allowed_and_allowed_names_exist():
    allowed = quad_ops.UFUNCS | quad_ops.REDUCTIONS | quad_ops.FUNCTIONS
    assert not set(quad_ops.EXCLUDED) & allowed
    assert all(isinstance(getattr(np, n), np.ufunc) for n in quad_ops.UFUNCS | quad_ops.REDUCTIONS)
    assert all(callable(getattr(np, n)) and not isinstance(getattr(np, n), np.ufunc) for n in quad_ops.FUNCTIONS)


def test_supported_versions_match_the_pin():
    extras = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]
    pins = [Requirement(r) for reqs in extras.values() for r in reqs if Requirement(r).name == "numpy-quaddtype"]
    assert pins and all(p.specifier == pins[0].specifier for p in pins), pins
    (lo_major, lo_minor), (hi_major, hi_minor) = quad_ops.SUPPORTED_VERSIONS
    assert {str(s) for s in pins[0].specifier} == {f">={lo_major}.{lo_minor}", f"<{hi_major}.{hi_minor}"}
    assert Version(nq.__version__) in pins[0].specifier, f"numpy-quaddtype {nq.__version__} is outside the pin"

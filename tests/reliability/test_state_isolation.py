"""Checks leave no trace in global state, and checks in parallel threads give exactly the serial results.

Global state: mpmath's global context, numpy's error state and print options, the warning filters, numpy's
legacy and Python's random state, the recursion limit, mpmath's own number class (private contexts get extra
methods; the global one must not), and the functions patched while high-precision evaluations run. Checked
around one check of every status, of a function that raises, and of a bad call; and around a thread pool of
checks at 30, 40 and 60 digits.
"""

import math
import random
import subprocess
import sys
import warnings
from concurrent.futures import ThreadPoolExecutor

import mpmath
import numpy as np
import pytest
import scipy.linalg
import scipy.special
import scipy.stats  # a check would import it (and its warning filter) on first use: see the xfail below

import autodiff_ref
from pytest_gradcheck import GradcheckUsageError, check_grad


def snapshot():
    """Everything a check could leave changed, as plain comparable values."""
    return {
        "mpmath.mp": (mpmath.mp.prec, mpmath.mp.dps, mpmath.mp.pretty, mpmath.mp.trap_complex),
        "np.geterr": np.geterr(), "np.geterrcall": np.geterrcall(), "np.printoptions": np.get_printoptions(),
        "warnings.filters": list(warnings.filters), "np.random": _legacy_random_state(),
        "random": random.getstate(), "recursion limit": sys.getrecursionlimit(),
        "mpmath.mpf attributes": sorted(vars(mpmath.mpf)), "mpmath.mpf bases": mpmath.mpf.__mro__,
        "scipy.linalg.expm": scipy.linalg.expm, "scipy.linalg.solve": scipy.linalg.solve,
        "scipy.special.erf": scipy.special.erf,
    }


def _legacy_random_state():
    kind, keys, position, has_gauss, cached = np.random.get_state()
    return kind, keys.tobytes(), position, has_gauss, cached


def _differences(before, after):
    """{what: (only before, only after)} for lists (warning filters), {what: (before, after)} otherwise."""
    out = {}
    for key in before:
        if before[key] != after[key]:
            was, now = before[key], after[key]
            out[key] = ([e for e in was if e not in now], [e for e in now if e not in was], len(was), len(now)) if \
                isinstance(was, list) else (was, now)
    return out


# ----- one check of every outcome -----------------------------------------------------------------------------


class Planted(Exception):
    pass


@autodiff_ref.primitive(elementwise=True)
def wrong_square(x):
    return x * x


wrong_square.defvjp(lambda ans, x: lambda g: 3 * g * x)


def _raises(x):
    raise Planted("from f")


def _counter():
    calls = [0]

    def drifting(x):
        calls[0] += 1
        return np.sum(x * x) + calls[0] * 1e-3

    return drifting


X = np.array([0.3, -0.7, 1.1])
OUTCOMES = {  # name: (call, expected status or exception type)
    "pass": (lambda: check_grad(lambda x: np.sum(np.tanh(x) * x), X), "pass"),
    "formula_error (engine op)": (lambda: check_grad(lambda x: np.sum(wrong_square(x)), X,
                                                     raise_on_mismatch=False), "formula_error"),
    "formula_error (grad)": (lambda: check_grad(lambda x: np.sum(np.sin(x)), X, grad=np.sin,
                                                raise_on_mismatch=False), "formula_error"),
    "nondifferentiable": (lambda: check_grad(lambda x: np.sum(np.abs(x)), np.array([0.0, 0.5])),
                          "nondifferentiable"),
    "float64 reference": (lambda: check_grad(lambda x: np.sum(np.sin(np.array(x.tolist(), dtype=float))), X,
                                             grad=np.cos, per_op="off"), "pass"),
    "float64_accuracy": (lambda: check_grad(lambda x: np.sum(x - np.sin(x)), np.array([1e-5, 2e-5]),
                                            grad=lambda x: 1 - np.cos(x), raise_on_mismatch=False),
                         "float64_accuracy"),
    "inconclusive": (lambda: check_grad(lambda x: np.sum(np.sin(x * 1e30)), np.array([0.3]),
                                        grad=lambda x: 1e30 * np.cos(x * 1e30), raise_on_mismatch=False),
                     "inconclusive"),
    "nondeterministic": (lambda: check_grad(_counter(), X, raise_on_mismatch=False), "nondeterministic"),
    "budget_exceeded": (lambda: check_grad(lambda x: np.sum(np.sin(x)), X, mode="full", max_evaluations=6,
                                           raise_on_mismatch=False), "budget_exceeded"),
    "fast mode": (lambda: check_grad(lambda x: np.sum(np.exp(x) * x), np.linspace(-1, 1, 80)), "pass"),
    "scipy at high precision": (lambda: check_grad(lambda x: np.sum(scipy.special.erf(x)), X,
                                                   grad=lambda x: 2 / np.sqrt(np.pi) * np.exp(-x * x),
                                                   per_op="off"), "pass"),
    "f raises": (lambda: check_grad(_raises, X), Planted),
    "usage error": (lambda: check_grad(lambda x: np.sum(x), np.arange(3)), GradcheckUsageError),
}


@pytest.mark.parametrize("name", sorted(OUTCOMES))
def test_a_check_of_any_outcome_leaves_global_state_as_it_was(name):
    call, expected = OUTCOMES[name]
    np.random.seed(7)  # a legacy global state a check must neither read nor advance
    random.seed(7)
    before = snapshot()
    if isinstance(expected, type):
        with pytest.raises(expected):
            call()
    else:
        result = call()
        assert result.status == expected, result.message()
    assert _differences(before, snapshot()) == {}


def test_the_snapshot_sees_each_kind_of_change():
    """The comparison above can fail: every kind of change to global state shows in the snapshot."""
    changes = [
        lambda: setattr(mpmath.mp, "dps", 30), lambda: np.seterr(over="raise"), lambda: np.random.random(),
        lambda: random.random(), lambda: warnings.simplefilter("ignore"),
        lambda: np.set_printoptions(precision=3), lambda: setattr(mpmath.mpf, "tanh", lambda self: self),
    ]
    for change in changes:
        before = snapshot()
        with warnings.catch_warnings():  # restores the filters; the rest is restored by hand below
            saved = (mpmath.mp.dps, np.geterr(), np.get_printoptions())
            change()
            assert _differences(before, snapshot()), change
            mpmath.mp.dps = saved[0]
            np.seterr(**saved[1])
            np.set_printoptions(**saved[2])
            if "tanh" in vars(mpmath.mpf):
                del mpmath.mpf.tanh


# ----- threads ------------------------------------------------------------------------------------------------


def _tanh_layer(w, x):
    return np.sum(np.tanh(x @ w) ** 2)


def _softmax_xent(z):
    shifted = z - np.max(z, keepdims=True)  # keepdims: no 0-d operand (see test_fuzz_graphs.py's 0-d xfails)
    return np.log(np.sum(np.exp(shifted))) - np.sum(shifted[:1])


JOBS = [  # (function, arguments, keywords): engine gradients (with per-op checks), grad=, fast mode, fallback
    (_tanh_layer, (np.linspace(-1, 1, 6).reshape(3, 2), np.linspace(0.2, 1.0, 6).reshape(2, 3)), {}),
    (_softmax_xent, (np.array([0.3, -1.2, 2.0, 0.1]),), {}),
    (lambda x: np.sum(np.sin(x) * x), (np.linspace(-1, 1, 5),), {"grad": lambda x: np.cos(x) * x + np.sin(x),
                                                                  "mode": "full"}),  # every element's reference
    (lambda x: np.sum(np.exp(x) * x), (np.linspace(-1, 1, 70),), {"mode": "fast", "seed": 3}),
    (lambda x: np.sum(np.abs(x) + x * x), (np.array([0.0, 0.4, -0.6]),), {}),
    (lambda x: np.sum(np.sin(x)), (X,), {"grad": np.sin}),
    (lambda x: np.sum(scipy.special.erf(x) * x), (X,), {"per_op": "off", "grad": lambda x: scipy.special.erf(x)
                                                          + 2 / np.sqrt(np.pi) * np.exp(-x * x) * x}),
]
DIGITS = (30, 40, 60)


def _run(job, digits):
    f, args, kwargs = job
    result = check_grad(f, args, digits=digits, raise_on_mismatch=False, **kwargs)
    summary = result.to_dict()
    summary.pop("seconds")
    summary["reference"] = None if result.reference is None else [
        [mpmath.nstr(e, digits) for e in np.asarray(r).flat] for r in result.reference]  # every digit computed
    return summary


def test_checks_in_parallel_threads_at_different_precisions_equal_serial_checks():
    tasks = [(job, digits) for job in JOBS for digits in DIGITS]
    serial = [_run(job, digits) for job, digits in tasks]
    before = snapshot()
    with ThreadPoolExecutor(max_workers=len(DIGITS) * 2) as pool:
        parallel = list(pool.map(lambda task: _run(*task), tasks[::-1]))[::-1]  # reversed: other neighbours
    assert _differences(before, snapshot()) == {}
    assert [(s["status"], s["digits"]) for s in serial] == [(p["status"], p["digits"]) for p in parallel]
    assert [s["digits"] for s in serial] == [digits for _, digits in tasks]  # each ran at its own precision
    for task, s, p in zip(tasks, serial, parallel, strict=True):
        assert s == p, f"{task[0][0].__name__} at {task[1]} digits differs between serial and parallel runs"
    statuses = {s["status"] for s in serial}
    assert {"pass", "formula_error", "nondifferentiable"} <= statuses


def test_references_at_different_precisions_differ_beyond_their_common_digits():
    """The thread test above compares every computed digit: at 30, 40 and 60 digits the references differ in
    their last digits, so a check running at another thread's precision could not go unnoticed."""
    job = JOBS[2]
    references = [_run(job, digits)["reference"][0][0] for digits in DIGITS]
    assert len(set(references)) == len(DIGITS)
    assert math.isclose(float(references[0]), float(references[-1]), rel_tol=1e-25)


FRESH_PROCESS_CHECK = """
import sys, warnings
import numpy as np
import scipy
from pytest_gradcheck import check_grad
before = (sorted(sys.modules), list(warnings.filters))
check_grad(lambda x: np.sum(np.sin(x)), np.array([0.3, 0.5]))
new = sorted(m for m in set(sys.modules) - set(before[0]) if m.startswith("scipy"))
print("new scipy modules:", new[:5], "filters changed:", list(warnings.filters) != before[1])
"""


def test_a_check_imports_no_module_and_adds_no_warning_filter():
    done = subprocess.run([sys.executable, "-c", FRESH_PROCESS_CHECK], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "new scipy modules: [] filters changed: False"

"""benchmarks/bench_second_order.py keeps working: its planted errors change exactly what they say (also at high
precision), its summary counts right, and its quick path (without torch), run as its docstring gives it, finds 0
false positives, catches every planted 1e-9 error and names every wrong complex convention."""

import json
import subprocess
import sys
from pathlib import Path

import benchmark_modules
import mpmath
import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[2]
bench = benchmark_modules.load("bench_second_order")
corpus = benchmark_modules.load("second_order_corpus")
mutations = benchmark_modules.load("second_order_mutations")
D = 1e-9
CTX = mpmath.MPContext()  # 40 digits; numpy's object loops call the exp method the corpus needs
CTX.dps = 40
CTX.mpc.exp = lambda self: CTX.exp(self)


def _flat(values):
    values = values if isinstance(values, tuple | list) else (values,)
    return np.concatenate([np.ravel(np.asarray(v, dtype=complex)) for v in values])


def _flat_hessian(h):
    return _flat([block for row in h for block in row] if isinstance(h, list) else h)


def _changed(before, after):
    """Indices where `after` differs, and its relative change there."""
    where = np.flatnonzero(after != before)
    return where, np.abs(after[where] / before[where] - 1)


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("name", corpus.SECOND_ORDER)
def test_a_planted_hessian_error_is_one_element_or_a_symmetric_pair(name, seed):
    problem = corpus.make_second_order(name, seed)
    right = _flat_hessian(problem.hessian(*problem.args))
    one = mutations.plant_hessian(problem.hessian, problem.args, D, seed)
    where, change = _changed(right, _flat_hessian(one.derivative(*problem.args)))
    assert len(where) == 1 and np.allclose(change, D, rtol=1e-6), one.detail
    pair = mutations.plant_hessian(problem.hessian, problem.args, D, seed, symmetric=True)
    planted = pair.derivative(*problem.args)
    where, change = _changed(right, _flat_hessian(planted))
    assert 1 <= len(where) <= 2 and np.allclose(change, D, rtol=1e-6), pair.detail
    assert ("mirror" in pair.detail) == (len(where) == 2)
    if not isinstance(planted, list):  # one argument: the change is symmetric, so H stays as symmetric as it was
        n = problem.args[0].size
        delta = (np.asarray(planted) - np.asarray(problem.hessian(*problem.args))).reshape(n, n)
        assert np.allclose(delta, delta.T, rtol=1e-6, atol=0) and np.count_nonzero(delta) == len(where)


@pytest.mark.parametrize("name", corpus.SECOND_ORDER)
def test_a_planted_hvp_error_is_one_component_whatever_the_vector(name):
    problem = corpus.make_second_order(name, 1)
    planted = mutations.plant_hvp(problem.hvp, problem.args, D, 1)
    v = tuple(np.random.default_rng(9).normal(size=a.shape) for a in problem.args)
    where, change = _changed(_flat(problem.hvp(v, *problem.args)), _flat(planted.derivative(v, *problem.args)))
    assert len(where) == 1 and np.allclose(change, D, rtol=1e-6), planted.detail


@pytest.mark.parametrize("name", corpus.FORWARD)
def test_planted_jvp_and_vjp_errors_are_one_component(name):
    problem = corpus.make_forward(name, 2)
    rng = np.random.default_rng(9)
    t = tuple(rng.normal(size=a.shape) for a in problem.args)
    u = rng.normal(size=np.shape(problem.f(*problem.args)))
    jvp = mutations.plant_jvp(problem.jvp, problem.args, D, 2)
    vjp = mutations.plant_vjp(problem.vjp, problem.f, problem.args, D, 2)
    for right, wrong, detail in ((problem.jvp(t, *problem.args), jvp.derivative(t, *problem.args), jvp.detail),
                                 (problem.vjp(u, *problem.args), vjp.derivative(u, *problem.args), vjp.detail)):
        where, change = _changed(_flat(right), _flat(wrong))
        assert len(where) == 1 and np.allclose(change, D, rtol=1e-6), detail


@pytest.mark.parametrize("name", corpus.COMPLEX)
def test_a_planted_complex_error_changes_one_part_of_one_component_also_at_high_precision(name):
    problem = corpus.make_complex(name, 0)
    for convention, grad in problem.grads.items():
        for part in mutations.COMPLEX_PARTS:
            planted = mutations.plant_complex(grad, problem.args, D, 0, part)
            right, wrong = _flat(grad(*problem.args)), _flat(planted.derivative(*problem.args))
            [k] = np.flatnonzero(right != wrong)
            same, scaled = (right.imag, right.real) if part == "real" else (right.real, right.imag)
            new_same, new_scaled = (wrong.imag, wrong.real) if part == "real" else (wrong.real, wrong.imag)
            assert new_same[k] == same[k] and np.isclose(new_scaled[k] / scaled[k] - 1, D, rtol=1e-6), convention
            # the same change on mpmath numbers: the planted derivative is precision-generic
            if name == "fft_loss":
                continue  # numpy's fft casts object arrays; the corpus test covers it with an exact DFT
            z = np.array([CTX.mpc(complex(v)) for v in problem.args[0].ravel()], dtype=object)
            hp_right, hp_wrong = grad(z)[0], planted.derivative(z)[0]
            delta = hp_wrong[k] - hp_right[k]
            expected = (hp_right[k].real if part == "real" else 1j * hp_right[k].imag) * D
            assert abs(delta - expected) < 1e-20 * abs(expected), (convention, part)


def _check(seconds, status="pass", evaluations=6, flagged=False):
    return {"seconds": seconds, "evaluations": evaluations, "status": status, "statuses": [status],
            "flagged": flagged}


def _record(kind, case, ours, theirs, planted):
    warm = {"ours": _check(ours), "torch": _check(theirs, evaluations=20), "ratio": ours / theirs}
    return {"kind": kind, "name": case, "convention": None, "case": case, "inputs": 4, "correct": {"0": warm},
            "cold": None, "planted": {"0": planted}}


def test_summary_counts_false_positives_catches_and_named_conventions():
    caught = {"plant": "real_part", "detail": "x", "flagged": True, "status": "formula_error"}
    missed = {"plant": "real_part", "detail": "y", "flagged": False, "status": "pass"}
    wrong = {"plant": "wrong_convention", "detail": "z", "flagged": True, "status": "formula_error", "named": False}
    records = [_record("complex", "a", 3.0, 1.0, [caught, wrong]), _record("complex", "b", 1.0, 2.0, [missed]),
               _record("hvp", "c", 2.0, 1.0, [])]
    records[1]["correct"]["0"]["ours"] |= {"flagged": True, "statuses": ["formula_error"]}
    summary = bench.summarize(records)
    s = summary["complex"]
    assert s["false_positives"] == 1 and s["false_positive_cases"] == ["b"] and s["correct_checks"] == 2
    assert s["detection"]["real_part"] == {"caught": 1, "n": 2}
    assert s["detection"]["wrong_convention"] == {"caught": 1, "n": 1, "named": 0}
    assert s["warm_median_ratio"] == 1.75 and s["warm_max_ratio"] == 3.0  # of 3 and 0.5
    assert summary["hvp"]["detection"] == {} and summary["hvp"]["warm_median_ratio"] == 2.0
    lines = bench.misses(records)
    assert any(line.startswith("- false positive: complex b") for line in lines)
    assert any(line.startswith("- missed: complex b seed 0: y") for line in lines)
    assert any(line.startswith("- not named: complex a seed 0: z") for line in lines)
    table = "\n".join(bench.detection_table(summary))
    assert "| complex | check_grad | 2 | **1** / 2 |" in table and "| wrong_convention | **1** / 1 | 0 / 1 |" in table
    assert s["errors"] == 0


def test_a_check_that_raised_catches_nothing_and_is_counted_apart():
    crashed = {"plant": "hvp_component", "detail": "x", "flagged": True, "status": "error: TypeError: boom"}
    records = [_record("hvp", "c", 2.0, 1.0, [crashed])]
    records[0]["correct"]["0"]["ours"] |= {"flagged": True, "statuses": ["error: TypeError: boom"]}
    s = bench.summarize(records)["hvp"]
    assert s["detection"]["hvp_component"] == {"caught": 0, "n": 1} and s["false_positives"] == 1
    assert s["errors"] == 2 and s["error_messages"] == ["error: TypeError: boom"]
    assert any(line.startswith("- missed: hvp c seed 0: x (error: TypeError: boom)") for line in bench.misses(records))


def test_every_kind_is_measured_in_this_tree():
    assert bench.missing_api() == []
    assert bench.available_kinds() == tuple(bench.KINDS)


@pytest.mark.parametrize("kind", bench.KINDS)
def test_quick_run_finds_no_false_positive_catches_every_planted_error_and_names_conventions(kind, tmp_path):
    out = tmp_path / "second_order.json"
    done = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "bench_second_order.py"), "--quick",
                           "--no-torch", "--kinds", kind, "--json", str(out)],
                          capture_output=True, text=True, timeout=600, check=False, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    payload = json.loads(out.read_text())
    assert payload["torch"] is False and payload["quick"] is True
    summary = payload["summary"][kind]
    assert summary["cases"] >= 2 and summary["false_positives"] == 0, summary["false_positive_cases"]
    assert summary["errors"] == 0, summary["error_messages"]
    assert set(summary["statuses"].split(", ")) == {f"pass {summary['correct_checks']}"}
    expected_plants = {"hvp": {"hvp_component"}, "hessian": set(mutations.HESSIAN_PLANTS),
                       "jvp": {"jvp_component", "vjp_component"},
                       "complex": {"real_part", "imaginary_part", "wrong_convention"}}[kind]
    assert set(summary["detection"]) == expected_plants
    for plant, found in summary["detection"].items():
        assert found["n"] >= 2 and found["caught"] == found["n"], (plant, bench.misses(payload["cases"]))
        if plant != "hessian_element":  # one element alone also breaks the symmetry, which has a report of its own
            assert summary["planted_statuses"][plant] == f"formula_error {found['n']}", plant
        if plant == "wrong_convention":
            assert found["named"] == found["n"]
    assert summary["median_evaluations"] > 0 and summary["median_s"] > 0
    assert "ratio" not in json.dumps(payload["summary"])  # no torch columns
    assert "none" in done.stdout.split("### Misses")[1]

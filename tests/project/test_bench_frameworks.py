"""benchmarks/bench_frameworks.py keeps working: its summary counts right (no framework needed), and its quick path,
run as its docstring gives it on one rule, finds 0 false positives, catches every formula plant at the targets'
sizes in both frameworks, and runs torch's and JAX's own checkers beside ours (skipped without torch, jax or the
framework adapters)."""

import json
import subprocess
import sys
from pathlib import Path

import benchmark_modules
import pytest

ROOT = Path(__file__).resolve().parents[2]
bench = benchmark_modules.load("bench_frameworks")


def _record(checker, rule, seed, seconds, kind=None, d=None, flagged=False, status="pass", named=False,
            framework="torch"):
    return {"framework": framework, "rule": rule, "seed": seed, "checker": checker, "kind": kind, "d": d,
            "detail": "x", "flagged": flagged, "status": status, "seconds": seconds, "evaluations": 10,
            "named": named}


def test_summary_counts_false_positives_detection_named_ops_and_per_case_time_ratios():
    records = [
        _record("torch_gradcheck", "a", 0, 1.0), _record("torch_gradcheck", "b", 0, 4.0),
        _record("ours_reference", "a", 0, 3.0), _record("ours_reference", "b", 0, 2.0),
        _record("ours_reference", "c", 0, 9.0, flagged=True, status="formula_error"),  # a false positive
        _record("ours_reference", "a", 0, 1.0, "scale_one", 1e-9, True, "formula_error", named=True),
        _record("ours_reference", "b", 0, 1.0, "scale_one", 1e-9, True, "error: TypeError: boom"),  # raised
        _record("ours_reference", "a", 0, 1.0, "scale_all", 1e-9, True, "formula_error"),
        _record("ours_reference", "a", 0, 1.0, "float32", None, True, "float64_accuracy"),
        _record("torch_gradcheck", "a", 0, 1.0, "scale_one", 1e-9),
    ]
    summary = bench.summarize(records)["torch"]
    ours = summary["ours_reference"]
    assert ours["false_positives"] == 1 and ours["correct_checks"] == 3
    assert ours["false_positive_cases"][0].startswith("c")
    assert ours["detection"]["scale_one"]["1e-09"] == {"caught": 1, "n": 2, "rate": 0.5}
    assert ours["detection"]["both"]["1e-09"] == {"caught": 2, "n": 3, "rate": 2 / 3}
    assert ours["fixed"]["float32"]["caught"] == 1 and ours["fixed"]["sign_flip"] is None
    assert ours["named"] == {"caught": 1, "n": 2, "rate": 0.5}  # caught formula plants: one names its op
    assert ours["errors"] == ["error: TypeError: boom"]
    assert ours["cost"]["passing"] == 2 and ours["cost"]["median_seconds"] == 2.5
    assert ours["cost"]["time_ratio"] == pytest.approx(1.75)  # median of 3/1 and 2/4, not of the medians
    assert summary["torch_gradcheck"]["detection"]["both"]["1e-09"]["caught"] == 0
    met = {t["target"]: t["met"] for t in bench.targets(bench.summarize(records))}
    assert met == {"check_grad, reference=: 0 false positives": False,
                   "check_grad, reference=: >= 99% caught at d = 1e-09": False,
                   "check_grad, reference=: median time <= torch gradcheck's": False}
    lines = bench.misses(records)
    assert any("b seed 0" in line and "boom" in line for line in lines)


def test_a_run_without_a_framework_stops_with_what_is_missing(monkeypatch):
    monkeypatch.setattr(bench, "available_frameworks", lambda: ())
    monkeypatch.setattr(bench, "missing", lambda: ["torch", "jax"])
    with pytest.raises(SystemExit, match="missing: torch, jax"):
        bench.config_from(bench._parser().parse_args(["--quick"]))
    with pytest.raises(SystemExit, match="unknown rule"):
        bench.config_from(bench._parser().parse_args(["--rules", "nope"]))


def test_quick_run_on_one_rule_catches_every_plant_at_the_targets_with_both_frameworks(tmp_path):
    pytest.importorskip("torch")
    pytest.importorskip("jax")
    if bench.missing():
        pytest.skip(f"missing: {', '.join(bench.missing())}")
    out = tmp_path / "frameworks.json"
    done = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "bench_frameworks.py"), "--quick", "--rules",
                           "linear", "--json", str(out), "--markdown", str(tmp_path / "frameworks.md")],
                          capture_output=True, text=True, timeout=600, check=False, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    payload = json.loads(out.read_text())
    assert payload["quick"] is True and payload["config"]["frameworks"] == ["torch", "jax"]
    for framework, theirs in (("torch", {"torch_gradcheck", "torch_gradcheck_fast"}), ("jax", {"jax_check_grads"})):
        summary = payload["summary"][framework]
        assert set(summary) == {"ours_reference", "ours_float64"} | theirs
        for name, smallest in (("ours_reference", 1e-9), ("ours_float64", 1e-6)):
            s = summary[name]
            assert s["false_positives"] == 0 and s["correct_checks"] == 1, s["false_positive_cases"]
            assert s["errors"] == []
            for d, found in s["detection"]["both"].items():
                if float(d) >= smallest:
                    assert found["caught"] == found["n"] == 2, (framework, name, d)
            for kind in ("sign_flip", "missing_reduction", "float32"):
                assert s["fixed"][kind]["caught"] == s["fixed"][kind]["n"] == 1, (framework, name, kind)
            assert s["cost"]["median_seconds"] > 0 and s["cost"]["median_evaluations"] > 0
            assert s["cost"]["time_ratio"] is not None
        assert summary[bench.BASELINE[framework]]["false_positives"] == 0
    assert payload["summary"]["torch"]["torch_gradcheck"]["detection"]["both"]["1e-06"]["caught"] == 0
    assert "### Targets" in done.stdout and (tmp_path / "frameworks.md").read_text().strip() == done.stdout.strip()

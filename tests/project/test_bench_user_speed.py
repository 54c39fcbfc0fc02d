"""benchmarks/bench_user_speed.py keeps working: its quick path, run as README gives it, on one case without
torch (the suite never needs torch); and its summary's ratios on records with torch's columns."""

import json
import subprocess
import sys
from pathlib import Path

import benchmark_modules

ROOT = Path(__file__).resolve().parents[2]
bench = benchmark_modules.load("bench_user_speed")


def test_quick_run_without_torch_measures_cold_and_warm_passing_and_failing_checks(tmp_path):
    out = tmp_path / "user_speed.json"
    done = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "bench_user_speed.py"), "--quick", "--no-torch",
         "--cases", "sum_of_squares", "--sizes", "10,100", "--json", str(out)],
        capture_output=True, text=True, timeout=300, check=False, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    payload = json.loads(out.read_text())
    assert payload["torch"] is False and payload["machine"]["cores"] >= 1
    [case] = payload["cases"]
    assert case["case"] == "sum_of_squares/0" and case["inputs"] == 4 and "scaled by 1 + 1e-06" in case["planted"]
    for path, status in (("passing", "pass"), ("failing", "formula_error")):
        for temperature in ("cold", "warm"):
            checks = case[path][temperature]
            assert set(checks) == {"check_grad"}, checks  # no torch columns, no ratio
            assert checks["check_grad"]["status"] == status and checks["check_grad"]["seconds"] > 0
            assert checks["check_grad"]["high_precision"] is True
        assert len(case[path]["warm"]["check_grad"]["all_seconds"]) == bench.QUICK.repeats
        assert case[path]["cold"]["check_grad"]["import_pytest_gradcheck_s"] > 0
    assert case["failing"]["warm"]["check_grad"]["evaluations"] > case["passing"]["warm"]["check_grad"]["evaluations"]
    assert set(payload["imports"]) == {"import_numpy_s", "import_pytest_gradcheck_s"}
    assert payload["summary"]["failing_cold"]["statuses"] == "formula_error 1"
    assert "median_ratio" not in payload["summary"]["passing_warm"]
    assert [(r["size"], r["checker"], r["state"], r["high_precision"]) for r in payload["scaling"]] == [
        (10, "check_grad_default", "done", True), (100, "check_grad_default", "done", True)]
    assert "torch" not in done.stdout.split("### Summary")[1].split("### Imports")[0]  # no torch columns


def _check(seconds, status="pass", evaluations=6):
    return {"seconds": seconds, "evaluations": evaluations, "status": status, "high_precision": True, "backend": None}


def _record(case, inputs, ours, theirs, cold=True):
    pair = {"check_grad": _check(ours), "torch": _check(theirs, evaluations=20), "ratio": ours / theirs}
    both = {"cold": pair if cold else None, "warm": pair}
    return {"case": case, "name": case.split("/")[0], "inputs": inputs, "passing": both, "failing": both}


def test_summary_gives_the_median_of_per_case_ratios_and_the_worst_case_with_many_inputs():
    records = [_record("small/0", 4, 9.0, 1.0), _record("big/0", 72, 3.0, 2.0), _record("big/1", 72, 1.0, 2.0),
               _record("big/2", 72, 100.0, 1.0, cold=False)]
    summary = bench.summarize(records[:3])["passing_warm"]
    assert summary["median_ratio"] == 1.5  # of 9, 1.5 and 0.5: not the ratio of the medians (3 / 2)
    assert (summary["max_ratio_many_inputs"], summary["max_ratio_many_inputs_case"]) == (1.5, "big/0")
    assert summary["median_s"] == 3.0 and summary["torch_median_s"] == 2.0 and summary["cases_many_inputs"] == 2
    both = bench.summarize(records)
    assert both["passing_cold"] == summary | {"cases": 3}  # a case checked warm only is no cold case
    assert both["failing_warm"]["max_ratio_many_inputs"] == 100.0 and both["failing_warm"]["cases"] == 4
    assert "| big/2 | 72 | — | — | — | 100" in "\n".join(bench.case_table(records, "passing", with_torch=True))
    per_function = "\n".join(bench.function_table(records))  # warm: the median over big's seeds (1.5, 0.5, 100)
    assert "| big | 72 | 1.00x | 1.50x | 1.00x | 1.50x | 6 / 6 |" in per_function

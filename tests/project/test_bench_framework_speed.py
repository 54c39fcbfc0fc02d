"""benchmarks/bench_framework_speed.py keeps working: its quick path (one torch case, warm only) measures
check_grad with and without reference= next to torch.autograd.gradcheck, in the same run. Skips without torch."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("torch")

ROOT = Path(__file__).resolve().parents[2]


def test_quick_run_times_passing_checks_against_torch_gradcheck(tmp_path):
    out = tmp_path / "framework_speed.json"
    done = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "bench_framework_speed.py"), "--quick",
                           "--json", str(out)], capture_output=True, text=True, timeout=300, check=False,
                          cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    payload = json.loads(out.read_text())
    [row] = payload["rows"]
    assert (row["framework"], row["case"]) == ("torch", "softplus") and "cold" not in row
    checks = row["warm"]
    assert set(checks) == {"check_grad", "check_grad_reference", "torch_gradcheck"}
    assert all(check["status"] == "pass" and check["seconds"] > 0 for check in checks.values())
    assert checks["check_grad"]["backend"] == "float64" and checks["check_grad_reference"]["backend"] != "float64"
    assert set(payload["summary"]["warm"]) == {"check_grad", "check_grad_reference"}
    assert "median ratio (warm)" in done.stdout

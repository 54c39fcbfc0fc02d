"""A check with complex arguments records its convention, and what it found about it, in reports."""

import json

import numpy as np
import pytest

from pytest_gradcheck import check_grad
from pytest_gradcheck.checker import complex_args
from pytest_gradcheck.report import records, report

TEST = "tests/test_c.py::test_power"
Z = np.array([0.3 + 0.4j, -1.1 + 0.2j])


def power(z):
    return np.sum(np.abs(z) ** 2)


def _recorded(grad, convention):
    with records.recording() as results:
        check_grad(power, (Z,), grad=grad, complex_convention=convention, raise_on_mismatch=False)
    return records.to_record(results[0], TEST)


def test_the_record_carries_the_convention():
    rec = _recorded(lambda z: 2 * z, "torch")
    assert rec["status"] == "pass" and rec["complex_convention"] == "torch"
    assert "convention_note" not in rec


def test_a_gradient_in_the_other_convention_is_named_in_the_record():
    rec = _recorded(lambda z: 2 * np.conj(z), "torch")  # JAX's gradient, checked as torch's
    assert rec["status"] == "formula_error" and rec["complex_convention"] == "torch"
    assert "JAX" in rec["convention_note"]


def test_a_real_check_has_no_convention_fields():
    with records.recording() as results:
        check_grad(lambda x: np.sum(x * x), (np.array([0.5, 1.5]),), grad=lambda x: 2 * x)
    rec = records.to_record(results[0], TEST)
    assert "complex_convention" not in rec and "convention_note" not in rec


def test_the_report_keeps_the_convention_and_refuses_an_unknown_one(tmp_path):
    data = json.loads(json.dumps(report.build_report([_recorded(lambda z: 2 * np.conj(z), "torch")], {})))
    path = tmp_path / "r.json"
    path.write_text(json.dumps(data))
    loaded = report.load_report(path)["checks"][0]
    assert loaded["complex_convention"] == "torch" and "JAX" in loaded["convention_note"]
    data["checks"][0]["complex_convention"] = "numpy"
    path.write_text(json.dumps(data))
    with pytest.raises(report.ReportError, match=r"checks\[0\]\.complex_convention: expected one of torch, jax"):
        report.load_report(path)


def test_reports_know_the_checkers_conventions():
    assert records.COMPLEX_CONVENTIONS == complex_args.CONVENTIONS

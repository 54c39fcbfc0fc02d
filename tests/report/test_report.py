"""The JSON report: build, atomic write, load, and clear errors for every kind of bad file."""

import json
import math
import os
from importlib import metadata

import numpy as np
import pytest

from pytest_gradcheck import check_grad
from pytest_gradcheck.report import records, report

TEST = "tests/test_x.py::test_y"


def good(x):
    return np.sum(np.exp(x))


def kinked(x):
    return np.sum(np.abs(x))


def bad_exp(x):
    return np.sum(np.exp(x))


@pytest.fixture(scope="module")
def checks():
    with records.recording() as results:
        check_grad(good, np.array([0.1, 0.2]))
        check_grad(good, np.array([0.3, 0.4]))  # same test and function: folds into the first record
        check_grad(kinked, np.array([0.0, 0.2]), raise_on_mismatch=False)
        check_grad(bad_exp, np.array([0.1, 0.2]), grad=lambda x: np.exp(x) * 1.001, raise_on_mismatch=False)
    return records.fold([records.to_record(r, TEST) for r in results])


@pytest.fixture
def built(checks):
    return report.build_report(checks, {"digits": 40, "mode": "auto"})


def test_build_report_has_the_documented_top_level(built):
    assert built["schema"] == report.SCHEMA == "pytest-gradcheck-report" and built["version"] == report.VERSION == 2
    assert built["created"].endswith("+00:00")
    assert set(built["environment"]) == {"python", "numpy", "mpmath", "mpmath_backend", "numpy_quaddtype"}
    try:
        quaddtype = metadata.version("numpy-quaddtype")
    except metadata.PackageNotFoundError:
        quaddtype = "absent"
    assert built["environment"]["numpy_quaddtype"] == quaddtype
    assert built["environment"]["mpmath_backend"] in ("gmpy", "python")
    assert built["environment"]["numpy"] == np.__version__
    assert built["settings"] == {"digits": 40, "mode": "auto"}


def test_build_report_summarises_and_sorts_the_checks(checks):
    built = report.build_report(checks[::-1], {})
    assert [c["id"] for c in built["checks"]] == [f"{TEST}::bad_exp", f"{TEST}::good", f"{TEST}::kinked"]
    assert built["summary"] == {"checks": 3, "by_status": {"formula_error": 1, "pass": 1, "nondifferentiable": 1},
                                "ok": False}
    assert built["checks"][1]["calls"] == 2


def test_build_report_of_no_checks_is_ok():
    assert report.build_report([], {})["summary"] == {"checks": 0, "by_status": {}, "ok": True}


def test_write_then_load_round_trips(tmp_path, built):
    path = tmp_path / "deep" / "er" / "report.json"
    report.write_report(path, built)
    assert report.load_report(path) == built
    text = path.read_text()
    assert text.endswith("}\n") and json.loads(text) == built
    assert text.index('"checks"') < text.index('"created"') < text.index('"version"')  # sorted keys
    assert "\n  " in text  # indented


def test_written_report_is_readable_by_others(tmp_path, built):
    report.write_report(tmp_path / "r.json", built)
    assert os.stat(tmp_path / "r.json").st_mode & 0o044 == 0o044


def test_non_finite_numbers_are_strings_in_the_file_and_floats_after_loading(tmp_path, built):
    built["checks"][0]["formula_error"] = math.inf
    built["checks"][0]["ops"][0]["float64_error"] = math.nan
    built["checks"][0]["float64_error"] = np.float64(2.5e-17)  # numpy scalars become plain numbers
    report.write_report(tmp_path / "r.json", built)
    raw = json.loads((tmp_path / "r.json").read_text())
    assert raw["checks"][0]["formula_error"] == "inf" and raw["checks"][0]["ops"][0]["float64_error"] == "nan"
    loaded = report.load_report(tmp_path / "r.json")
    assert loaded["checks"][0]["formula_error"] == math.inf
    assert math.isnan(loaded["checks"][0]["ops"][0]["float64_error"])
    assert loaded["checks"][0]["float64_error"] == 2.5e-17


def _no_temporaries(folder):
    return [p.name for p in folder.iterdir() if p.name != "r.json"] == []


@pytest.mark.parametrize("broken", ["replace", "fsync"])
def test_failed_write_keeps_the_old_report_and_leaves_no_temporary(tmp_path, built, monkeypatch, broken):
    path = tmp_path / "r.json"
    path.write_text("old report")

    def fail(*args):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, broken, fail)
    with pytest.raises(OSError, match="No space"):
        report.write_report(path, built)
    assert path.read_text() == "old report" and _no_temporaries(tmp_path)


def test_unserialisable_report_leaves_the_old_file(tmp_path, built):
    path = tmp_path / "r.json"
    path.write_text("old report")
    built["settings"]["callback"] = object()
    with pytest.raises(TypeError, match="JSON data"):
        report.write_report(path, built)
    assert path.read_text() == "old report" and _no_temporaries(tmp_path)


def _load_error(tmp_path, content):
    path = tmp_path / "bad.json"
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    with pytest.raises(report.ReportError) as caught:
        report.load_report(path)
    assert str(path) in str(caught.value)
    return str(caught.value)


def test_missing_file_names_the_path_and_the_remedy(tmp_path):
    with pytest.raises(report.ReportError, match=r"no such report file.*--gradcheck-report="):
        report.load_report(tmp_path / "nothing.json")


def test_a_folder_is_unreadable(tmp_path):
    with pytest.raises(report.ReportError, match="cannot read"):
        report.load_report(tmp_path)


@pytest.mark.parametrize(("content", "expected"), [
    ("", "empty"),
    ("{not json", "not a JSON report"),
    (b"\xff\xfe{}", "not UTF-8"),
    ('{"schema": "pytest-gradcheck-report", "version": 1, "checks": [{"id": ', "truncated"),
    ("[1, 2]", "not an object"),
    ('{"schema": "pytest-gradcheck-report", "version": 1, "x": NaN}', "NaN is not JSON"),
])
def test_unparsable_files(tmp_path, content, expected):
    assert expected in _load_error(tmp_path, content)


def test_truncated_real_report(tmp_path, built):
    report.write_report(tmp_path / "r.json", built)
    text = (tmp_path / "r.json").read_text()
    assert "truncated" in _load_error(tmp_path, text[: len(text) // 2])


def test_a_real_report_cut_anywhere_is_truncated(tmp_path, built):
    # a cut inside a number ("0." or "1e-") or a literal ("tr") once read as "not a JSON report"
    report.write_report(tmp_path / "r.json", built)
    text = (tmp_path / "r.json").read_text().rstrip()
    misread = {}
    for end in range(1, len(text)):
        message = _load_error(tmp_path, text[:end])
        if "the report is truncated" not in message:
            misread[repr(text[max(0, end - 10):end])] = message
    assert not misread, misread


@pytest.mark.parametrize("cut", ['{"a": tr', '{"a": f', '{"a": nul', '{"a": -', '{"a": 1.', '{"a": 1.5e', '{"a": 2e-'])
def test_a_cut_inside_a_number_or_a_literal_is_truncated(tmp_path, cut):
    assert "the report is truncated" in _load_error(tmp_path, cut)


def test_wrong_schema_name(tmp_path, built):
    message = _load_error(tmp_path, json.dumps({**built, "schema": "pytest-benchmark"}))
    assert "schema is 'pytest-benchmark'" in message and "pytest-gradcheck-report" in message


@pytest.mark.parametrize("version", [3, 0, "1", True, 1.0, None])
def test_unsupported_version_says_which_are_supported(tmp_path, built, version):
    message = _load_error(tmp_path, json.dumps({**built, "version": version}))
    assert f"version {version!r} is not supported" in message and "reads version 1, 2" in message


def _corrupted(built, change):
    data = json.loads(json.dumps(built))
    change(data)
    return json.dumps(data)


@pytest.mark.parametrize(("change", "expected"), [
    (lambda d: d.pop("checks"), "checks: missing"),
    (lambda d: d.update(checks={}), "checks: expected an array, got an object"),
    (lambda d: d["checks"][0].pop("ok"), "checks[0].ok: missing"),
    (lambda d: d["checks"][1].update(ok="yes"), "checks[1].ok: expected true or false, got 'yes'"),
    (lambda d: d["checks"][0].update(status="fine"), "checks[0].status: expected one of"),
    (lambda d: d["checks"][0].update(formula_error="big"), "checks[0].formula_error: expected a number"),
    (lambda d: d["checks"][0].update(formula_error=-1.0), "checks[0].formula_error: expected a number >= 0"),
    (lambda d: d["checks"][0].update(calls=True), "checks[0].calls: expected an integer, got True"),
    (lambda d: d["checks"][2]["tolerance"].pop("rtol_float64"), "checks[2].tolerance.rtol_float64: missing"),
    (lambda d: d["checks"][0]["ops"][0].update(name=None), "checks[0].ops[0].name: expected a string, got None"),
    (lambda d: d["checks"][0].update(id=d["checks"][1]["id"]), "checks[1].id: expected an id used once"),
    (lambda d: d["summary"].update(checks=7), "summary.checks: expected the number of checks (3), got 7"),
    (lambda d: d["environment"].pop("numpy"), "environment.numpy: missing"),
    (lambda d: d.update(settings=[]), "settings: expected an object"),
])
def test_structurally_invalid_reports_name_the_field(tmp_path, built, change, expected):
    message = _load_error(tmp_path, _corrupted(built, change))
    assert "invalid report" in message and expected in message


@pytest.mark.parametrize(("content", "expected"), [
    ("[" * 100_000 + "]" * 100_000, "nested too deeply"),
    ('{"schema": "pytest-gradcheck-report", "version": ' + "9" * 5000 + "}", "not a JSON report"),
])
def test_hostile_files_give_report_errors(tmp_path, content, expected):
    assert expected in _load_error(tmp_path, content)


def test_oversized_file_is_refused_before_reading(tmp_path, monkeypatch):
    monkeypatch.setattr(report, "MAX_REPORT_BYTES", 10)
    assert "too large for a report (limit 10)" in _load_error(tmp_path, '{"schema": "pytest-gradcheck-report"}')


def test_huge_numbers_in_fields_are_reported_not_crashed_on(tmp_path, built):
    text = _corrupted(built, lambda d: d["checks"][0].update(formula_error=10**400))
    assert "checks[0].formula_error: expected a number, got 1000" in _load_error(tmp_path, text)


def test_error_messages_quote_huge_values_briefly(tmp_path, built):
    message = _load_error(tmp_path, _corrupted(built, lambda d: d["checks"][0].update(ok="x" * 10**6)))
    assert len(message) < 300


def test_unknown_extra_fields_are_kept(tmp_path, built):
    report.write_report(tmp_path / "r.json", {**built, "ci": {"job": 7}})
    assert report.load_report(tmp_path / "r.json")["ci"] == {"job": 7}

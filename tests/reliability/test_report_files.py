"""Report files: atomic writes (a reader or a crash mid-write never sees a partial file), hostile or damaged
baselines (a clear error naming the file from every entry point, and no code ever runs), and a fuzzed loader.

tests/report/test_report.py covers the loader's field-by-field validation and simple write failures; this file
adds crashes in the middle of a write, readers during a write, unwritable outputs of a pytest run, payloads that
other formats would execute, and random damage to a real report.
"""

import functools
import json
import os
import pickle
import re
import tempfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pytest_gradcheck import check_grad, cli
from pytest_gradcheck.report import baseline, records, render, report

SENTINEL = "pwned"  # hostile payloads would create this file in the working directory if they ever ran


@functools.cache
def real_report_text():
    """A real report: passing, failing and kinked checks with op rows, as the writer writes it."""
    with records.recording() as results:
        check_grad(lambda x: np.sum(np.tanh(x) * x), np.array([0.3, -0.6]))
        check_grad(lambda x: np.sum(np.abs(x)), np.array([0.0, 0.2]), raise_on_mismatch=False)
        check_grad(lambda x: np.sum(np.exp(x)), np.array([0.1]), grad=lambda x: np.exp(x) * 1.01,
                   raise_on_mismatch=False)
    recs = [records.to_record(r, f"tests/test_m.py::test_{i}") for i, r in enumerate(results)]
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "r.json"
        report.write_report(path, report.build_report(records.fold(recs), {"digits": 40}))
        return path.read_text(encoding="utf-8")


def _temporaries(folder):
    return sorted(p.name for p in Path(folder).iterdir() if p.name.endswith(".tmp"))


# ----- atomic writes ------------------------------------------------------------------------------------------


class PausingStream:
    """Wraps the writer's file: writes the first half, calls `pause` (which may raise), then the rest."""

    def __init__(self, stream, pause):
        self.stream, self.pause = stream, pause

    def write(self, data):
        half = len(data) // 2
        self.stream.write(data[:half])
        self.stream.flush()
        self.pause()
        return self.stream.write(data[half:])

    def flush(self):
        self.stream.flush()

    def fileno(self):
        return self.stream.fileno()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stream.close()


def _pause_writes(monkeypatch, pause):
    real_fdopen = os.fdopen
    monkeypatch.setattr(os, "fdopen", lambda *a, **k: PausingStream(real_fdopen(*a, **k), pause))


def test_a_reader_during_a_write_sees_the_old_report_and_afterwards_the_new_one(tmp_path, monkeypatch):
    path = tmp_path / "r.json"
    old = report.build_report([], {"digits": 40})
    new = json.loads(real_report_text())
    report.write_report(path, old)
    seen = []
    _pause_writes(monkeypatch, lambda: seen.append(report.load_report(path)))
    report.write_report(path, new)
    assert seen == [old]  # half of the new report was on disk, in the temporary file only
    monkeypatch.undo()
    assert report.load_report(path)["checks"] == new["checks"] and _temporaries(tmp_path) == []


def test_the_reader_check_above_would_see_a_non_atomic_write(tmp_path, monkeypatch):
    """Control: writing in place, a reader in the middle of the write gets a truncated report."""
    path = tmp_path / "r.json"
    seen = []

    def read():
        with pytest.raises(report.ReportError) as info:
            report.load_report(path)
        seen.append(str(info.value))

    _pause_writes(monkeypatch, read)
    with os.fdopen(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC), "wb") as stream:
        stream.write(real_report_text().encode())
    assert len(seen) == 1 and "truncated" in seen[0]


@pytest.mark.parametrize("crash", [KeyboardInterrupt, SystemExit, MemoryError,
                                   lambda: OSError(28, "No space left on device")])
def test_a_crash_in_the_middle_of_a_write_leaves_the_old_report_and_no_temporary(tmp_path, monkeypatch, crash):
    path = tmp_path / "r.json"
    report.write_report(path, report.build_report([], {"digits": 40}))
    before = path.read_bytes()

    def die():
        raise crash()

    _pause_writes(monkeypatch, die)
    with pytest.raises(BaseException) as info:
        report.write_report(path, json.loads(real_report_text()))
    assert isinstance(info.value, KeyboardInterrupt | SystemExit | MemoryError | OSError)
    assert path.read_bytes() == before and _temporaries(tmp_path) == []


def test_a_failure_before_anything_is_written_leaves_the_old_report(tmp_path, monkeypatch):
    path = tmp_path / "r.md"
    path.write_text("old summary")
    monkeypatch.setattr(os, "chmod", lambda *a: (_ for _ in ()).throw(PermissionError(1, "Operation not permitted")))
    with pytest.raises(PermissionError):
        report.write_text(path, "new summary")
    assert path.read_text() == "old summary" and _temporaries(tmp_path) == []


RUN = """
import numpy as np
from pytest_gradcheck import check_grad

def test_one():
    check_grad(lambda x: np.sum(np.sin(x)), np.array([0.2, 0.4]))
"""


@pytest.mark.parametrize("blocked", ["report", "markdown"])
def test_a_pytest_run_whose_output_cannot_be_written_fails_with_one_clear_line(pytester, blocked):
    pytester.makepyfile(test_run=RUN)
    (pytester.path / "taken").mkdir()
    (pytester.path / "taken" / "keep.txt").write_text("not to be touched")
    paths = {"report": "r.json", "markdown": "s.md", blocked: "taken"}
    result = pytester.runpytest(f"--gradcheck-report={paths['report']}", f"--gradcheck-markdown={paths['markdown']}")
    assert result.ret == pytest.ExitCode.TESTS_FAILED  # the test passed; the run did not deliver its output
    result.assert_outcomes(passed=1)
    text = result.stdout.str() + result.stderr.str()
    assert "gradcheck: could not write taken: Is a directory" in text and "Traceback" not in text
    written = "s.md" if blocked == "report" else "r.json"
    assert f"gradcheck: wrote {written}" in text and (pytester.path / written).exists()
    assert (pytester.path / "taken" / "keep.txt").read_text() == "not to be touched"
    assert _temporaries(pytester.path) == []


# ----- hostile and damaged baselines --------------------------------------------------------------------------


class Pwn:
    """Unpickling this would create the sentinel file."""

    def __reduce__(self):
        return (Path(SENTINEL).write_text, ("ran",))


def _valid():
    return json.loads(real_report_text())


def _with(change):
    data = _valid()
    change(data)
    return json.dumps(data)


HOSTILE = {  # name: (file content, what the error says)
    "empty": (b"", "the report file is empty"),
    "blank": (b" \n\t\n", "the report file is empty"),
    "truncated": (lambda: real_report_text()[: len(real_report_text()) * 2 // 3], "the report is truncated"),
    "wrong version": (lambda: _with(lambda d: d.update(version=3)), "report version 3 is not supported"),
    "a version from the future as text": (lambda: _with(lambda d: d.update(version="1.0")),
                                          "report version '1.0' is not supported"),
    "a list": (b'[{"schema": "pytest-gradcheck-report", "version": 1}]', "not an object but an array"),
    "pickle, text protocol": (lambda: pickle.dumps(Pwn(), protocol=0), "not a JSON report"),
    "pickle, binary protocol": (lambda: pickle.dumps(Pwn(), protocol=5), "not a JSON report"),
    "python code": (b"__import__('os').system('touch pwned')", "not a JSON report"),
    "python literal": (b"{'schema': 'pytest-gradcheck-report', 'version': 1}", "not a JSON report"),
    "yaml object tag": (b'!!python/object/apply:os.system ["touch pwned"]\n', "not a JSON report"),
    "jsonpickle-style object": (b'{"py/object": "os.system", "py/reduce": [{"py/function": "os.system"}, '
                                b'{"py/tuple": ["touch pwned"]}]}', "schema is None"),
    "NaN string in a number field": (lambda: _with(lambda d: d["checks"][0].update(formula_error="NaN")),
                                     "checks[0].formula_error: expected a number, got 'NaN'"),
    "Infinity literal": (lambda: real_report_text().replace('"formula_error": ', '"formula_error": Infinity, "x": ', 1),
                         "Infinity is not JSON"),
    "a 5000-digit number": (lambda: real_report_text().replace('"calls": 1', '"calls": ' + "7" * 5000, 1),
                            "not a JSON report"),
    "nested 50000 deep in a field": (lambda: real_report_text().replace('"settings": {', '"settings": {"x": '
                                                                        + "[" * 50000 + "]" * 50000 + ", ", 1),
                                     "nested too deeply"),
    "latin-1 text": (lambda: real_report_text().replace("tests/test_m.py", "tests/t\xe9st.py").encode("latin-1"),
                     "not UTF-8"),
    "UTF-16": (lambda: real_report_text().encode("utf-16"), "not UTF-8"),
    "UTF-8 byte order mark": (lambda: b"\xef\xbb\xbf" + real_report_text().encode(), "Unexpected UTF-8 BOM"),
    "NUL bytes": (lambda: real_report_text().encode().replace(b"{", b"\x00{", 1), "not a JSON report"),
    "lone surrogate escape": (lambda: real_report_text().replace("tests/test_m.py::test_0", "tests/\\ud800", 1),
                              "is not Unicode text"),
}


def _content(name):
    content = HOSTILE[name][0]
    content = content() if callable(content) else content
    return content.encode() if isinstance(content, str) else content


@pytest.fixture
def in_tmp(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # where a payload that ran would leave the sentinel
    return tmp_path


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_a_hostile_or_damaged_baseline_is_a_clear_error_from_the_loader_and_the_command(in_tmp, capsys, name):
    path = in_tmp / "baseline.json"
    path.write_bytes(_content(name))
    with pytest.raises(report.ReportError) as info:
        report.load_report(path)
    assert str(info.value).startswith(f"{path}: ") and HOSTILE[name][1] in str(info.value), str(info.value)
    assert len(str(info.value)) < 400 and "\n" not in str(info.value)
    good = in_tmp / "good.json"
    good.write_text(real_report_text())
    for argv in (["compare", str(path), str(good)], ["compare", str(good), str(path)], ["show", str(path)],
                 ["markdown", str(good), "--baseline", str(path), "-o", "out.md"]):
        assert cli.main(argv) == cli.EXIT_BAD_INPUT, argv
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and str(path) in err and "Traceback" not in err, err
    assert not (in_tmp / "out.md").exists() and not (in_tmp / SENTINEL).exists()


@pytest.mark.parametrize("name", ["pickle, binary protocol", "yaml object tag", "lone surrogate escape",
                                  "nested 50000 deep in a field"])
def test_a_hostile_baseline_stops_a_pytest_run_at_start_up(pytester, name):
    (pytester.path / "baseline.json").write_bytes(_content(name))
    pytester.makepyfile(test_run=RUN)
    result = pytester.runpytest("--gradcheck-baseline=baseline.json")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    err = result.stderr.str()
    assert "--gradcheck-baseline: baseline.json: " in err and HOSTILE[name][1] in err and "Traceback" not in err
    assert not (pytester.path / SENTINEL).exists()


def test_code_inside_a_valid_report_is_only_ever_text(in_tmp, capsys):
    """Strings that are code in other languages travel as data: loaded, compared, rendered, never run."""
    payloads = ["__import__('os').system('touch pwned')", "$(touch pwned)", "`touch pwned`", "{{7*7}}",
                "<script>alert(1)</script>", "!!python/object/apply:os.system ['touch pwned']"]

    def plant(data):
        for rec, payload in zip(data["checks"], payloads, strict=False):
            rec["summary"], rec["worst_op"] = payload, payload
        data["settings"]["py/object"] = "os.system"

    path = in_tmp / "r.json"
    path.write_text(_with(plant))
    loaded = report.load_report(path)
    assert loaded["checks"][0]["summary"] == payloads[0] and loaded["settings"]["py/object"] == "os.system"
    assert cli.main(["compare", str(path), str(path)]) == cli.EXIT_OK
    assert cli.main(["markdown", str(path), "--baseline", str(path)]) == cli.EXIT_OK
    assert cli.main(["show", "-v", str(path)]) == cli.EXIT_OK
    out = capsys.readouterr().out
    assert "`__import__('os').system('touch pwned')`" in out  # shown as code, in a Markdown code span
    assert not (in_tmp / SENTINEL).exists()


def test_a_number_too_large_for_a_float_is_an_infinite_error(tmp_path):
    """1e999 is valid JSON that no double holds: read as inf (as "inf" would be), compared as an infinite error."""
    path = tmp_path / "r.json"
    path.write_text(real_report_text().replace('"formula_error": ', '"formula_error": 1e999, "was": ', 1))
    loaded = report.load_report(path)
    assert loaded["checks"][0]["formula_error"] == float("inf")
    assert baseline.compare(report.load_report(path), loaded).unchanged == len(loaded["checks"])


@pytest.mark.skipif(not os.path.exists("/dev/zero"), reason="needs /dev/zero")
def test_a_device_as_baseline_is_refused_not_read_forever():
    with pytest.raises(report.ReportError, match=r"^/dev/zero: not a report file but a device"):
        report.load_report("/dev/zero")


# ----- the loader, fuzzed ----------------------------------------------------------------------------------------

JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.floats(allow_nan=False, allow_infinity=False)
    | st.sampled_from(["inf", "-inf", "nan", "NaN", "pass", "formula_error", "", "\u202e", "x" * 300]) | st.text(),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=6,
)


def _paths(value, prefix=()):
    """Every (path, value) in a JSON document."""
    yield prefix, value
    items = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
    for key, item in items:
        yield from _paths(item, (*prefix, key))


@st.composite
def damaged_reports(draw):
    text = real_report_text()
    raw = text.encode()
    kind = draw(st.sampled_from(["truncate", "flip a byte", "insert bytes", "delete a span", "replace a value",
                                 "drop a field", "add pictures"]))
    at = draw(st.integers(0, len(raw) - 1))
    if kind == "truncate":
        return kind, raw[:at]
    if kind == "flip a byte":
        return kind, raw[:at] + bytes([draw(st.integers(0, 255))]) + raw[at + 1:]
    if kind == "insert bytes":
        return kind, raw[:at] + draw(st.binary(min_size=1, max_size=8)) + raw[at:]
    if kind == "delete a span":
        return kind, raw[:at] + raw[at + draw(st.integers(1, 40)):]
    data = json.loads(text)
    if kind == "add pictures":  # the optional `plots` field of a check record
        data["checks"][draw(st.integers(0, len(data["checks"]) - 1))]["plots"] = draw(JSON_VALUES)
        return kind, json.dumps(data).encode()
    path, _ = draw(st.sampled_from([(p, v) for p, v in _paths(data) if p]))
    parent = data
    for key in path[:-1]:
        parent = parent[key]
    if kind == "drop a field" and isinstance(parent, dict):
        del parent[path[-1]]
    else:
        parent[path[-1]] = draw(JSON_VALUES)
    return f"{kind} at {path}", json.dumps(data, ensure_ascii=draw(st.booleans())).encode()


@settings(max_examples=int(os.environ.get("GRADCHECK_FUZZ_EXAMPLES", "60")), deadline=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(damaged_reports())
def test_a_damaged_report_loads_and_renders_or_is_a_clear_report_error(damage):
    kind, content = damage
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "damaged.json"
        path.write_bytes(content)
        try:
            loaded = report.load_report(path)
        except report.ReportError as error:
            message = str(error)
            assert message.startswith(f"{path}: ") and "\n" not in message and len(message) < 500, (kind, message)
            return
        lines = []  # whatever loads is usable: compared with itself and the original, and rendered
        for other in (loaded, json.loads(real_report_text())):
            comparison = baseline.compare(other, loaded)
            render.render_comparison(comparison, lines.append, baseline_path=str(path))
            render.render_markdown(loaded, comparison, baseline_path=str(path)).encode("utf-8")
        render.render_summary(loaded["checks"], lines.append, verbose=True)
        "\n".join(lines).encode("utf-8")
        assert re.search(r"\d+ checks?", lines[-1]), (kind, lines[-1])

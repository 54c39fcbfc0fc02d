"""The session report: build it from check records, write it atomically as JSON, load and validate it.

The format is versioned (`SCHEMA`, `VERSION`; docs/report-schema.md). JSON has no infinity or NaN, so
non-finite numbers are written as the strings "inf", "-inf" and "nan" and read back as floats. Loading uses
plain `json` (never code) and checks every field a comparison or a renderer reads: a damaged or hostile file
raises `ReportError`, never anything else.
"""

from __future__ import annotations

import contextlib
import copy
import json
import math
import numbers
import os
import re
import stat
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pytest_gradcheck.report.records import COMPLEX_CONVENTIONS, KINDS, SEVERITY

SCHEMA = "pytest-gradcheck-report"
# Version 2 added each check's `kind` ("grad", "jvp", "hvp", "hessian"); a version 1 report, which has none, is
# read with kind "grad" (all its checks were first-order gradient checks).
VERSION = 2
SUPPORTED_VERSIONS = (1, 2)  # loaders reject every other version (a breaking change gets a new number)
NONFINITE = {"inf": math.inf, "-inf": -math.inf, "nan": math.nan}  # how JSON carries what it cannot spell
MAX_REPORT_BYTES = 1 << 30  # 10,000 checks of 200 ops is ~300 MB; a larger file is not a report (fail fast)
NEW_FILE_MODE = 0o644  # a report is a shared CI artifact: readable like any file (mkstemp would make it 0600)
SHOWN_VALUE_CHARS = 40  # error messages quote a bad value up to this length (a hostile value may be huge)
# What a report cut inside a number or a literal ends with, where the JSON error points: "." or "e-" after the
# digits of a number, "-", or the start of true, false or null.
_CUT_TOKEN = re.compile(r"-?\d*(?:\.\d*)?(?:[eE][-+]?\d*)?|t(?:ru?)?|f(?:a(?:ls?)?)?|n(?:ul?)?")


class ReportError(Exception):
    """A report file that cannot be used: the message names the file and the problem."""


def _environment() -> dict[str, str]:
    import platform
    from importlib import metadata

    import mpmath
    import mpmath.libmp
    import numpy

    try:
        quad = metadata.version("numpy-quaddtype")
    except metadata.PackageNotFoundError:
        quad = "absent"
    return {"python": platform.python_version(), "numpy": numpy.__version__, "mpmath": mpmath.__version__,
            "mpmath_backend": "gmpy" if mpmath.libmp.BACKEND == "gmpy" else "python", "numpy_quaddtype": quad}


def _own_version() -> str:
    from importlib import metadata

    try:
        return metadata.version("pytest-gradcheck")
    except metadata.PackageNotFoundError:
        return "unknown"


def build_report(records: list[dict[str, Any]], settings: dict[str, Any]) -> dict[str, Any]:
    """The report of a run: environment, settings, a summary and the (folded) records sorted by id."""
    checks = sorted(copy.deepcopy(records), key=lambda rec: rec["id"])
    by_status: dict[str, int] = {}
    for rec in checks:
        by_status[rec["status"]] = by_status.get(rec["status"], 0) + 1
    return {
        "schema": SCHEMA, "version": VERSION, "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "pytest_gradcheck_version": _own_version(), "environment": _environment(),
        "settings": copy.deepcopy(settings),
        "summary": {"checks": len(checks), "by_status": by_status, "ok": all(rec["ok"] for rec in checks)},
        "checks": checks,
    }


def _json_ready(value: Any) -> Any:
    """Plain JSON types, with non-finite floats as strings (numpy scalars become Python numbers)."""
    if isinstance(value, dict):
        return {str(key): _json_ready(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_json_ready(item) for item in value]
    if isinstance(value, bool | str) or value is None:
        return value
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real):
        number = float(value)
        return number if math.isfinite(number) else ("nan" if math.isnan(number) else "inf" if number > 0 else "-inf")
    raise TypeError(f"a report holds only JSON data; got {type(value).__name__}: {value!r}")


def write_text(path: str | os.PathLike[str], text: str) -> None:
    """Write `text` as UTF-8 atomically (see `write_bytes`)."""
    write_bytes(path, text.encode("utf-8"))


def write_bytes(path: str | os.PathLike[str], data: bytes) -> None:
    """Write `data` atomically: a temporary file in the same folder, fsync, then a rename over `path`.

    Readers see the old file or the new one, never a part; on any failure the temporary file is removed.
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    mode = stat.S_IMODE(target.stat().st_mode) if target.exists() else NEW_FILE_MODE
    handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
            stream.flush()
            os.fsync(stream.fileno())
        os.chmod(temporary, mode)
        os.replace(temporary, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        raise


def write_report(path: str | os.PathLike[str], report: dict[str, Any]) -> None:
    """Write the report as JSON (sorted keys, indented), atomically; parent folders are created."""
    text = json.dumps(_json_ready(report), sort_keys=True, indent=2, allow_nan=False, ensure_ascii=False)
    write_text(path, text + "\n")


def _reject_constant(name: str) -> None:
    raise ValueError(f"{name} is not JSON (non-finite numbers are written as strings)")


def _read(path: str | os.PathLike[str]) -> bytes:
    """The file's bytes, at most MAX_REPORT_BYTES of them: a device (/dev/zero) is refused, not read forever."""
    info = os.stat(path)
    if stat.S_ISCHR(info.st_mode) or stat.S_ISBLK(info.st_mode) or stat.S_ISSOCK(info.st_mode):
        raise ReportError(f"{path}: not a report file but a device or socket")
    if info.st_size > MAX_REPORT_BYTES:
        raise ReportError(f"{path}: {info.st_size} bytes is too large for a report (limit {MAX_REPORT_BYTES})")
    with open(path, "rb") as stream:  # a pipe's size is unknown: read one byte past the limit at most
        data = stream.read(MAX_REPORT_BYTES + 1)
    if len(data) > MAX_REPORT_BYTES:
        raise ReportError(f"{path}: more than {MAX_REPORT_BYTES} bytes is too large for a report")
    return data


def _unencodable(data: Any) -> str | None:
    """Where `data` holds a string that is not Unicode text (a lone surrogate from a JSON \\ud800 escape, which
    no terminal or file can take), or None. Iterative: the nesting depth is bounded only by json's own limit."""
    stack: list[tuple[str, Any]] = [("", data)]
    while stack:
        where, value = stack.pop()
        items = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
        for key, item in items:
            if isinstance(key, int):
                inner = f"{where}[{key}]"
            else:  # a key that is not a plain name (or is itself the bad string) is shown escaped
                inner = f"{where}.{key}" if key.isidentifier() and where else key if key.isidentifier() else \
                    f"{where}[{key!r}]"
            for text in (key, item):
                if isinstance(text, str):
                    try:
                        text.encode("utf-8")
                    except UnicodeEncodeError:
                        return inner or "the top level"
            stack.append((inner, item))
    return None


def _parse(path: str | os.PathLike[str]) -> Any:
    try:
        text = _read(path).decode("utf-8")
    except FileNotFoundError:
        raise ReportError(f"{path}: no such report file; write one with pytest --gradcheck-report={path}") from None
    except OSError as error:
        raise ReportError(f"{path}: cannot read the report: {error.strerror or error}") from None
    except UnicodeDecodeError as error:
        raise ReportError(f"{path}: not a JSON report: not UTF-8 text ({error.reason} at byte {error.start})") from None
    if not text.strip():
        raise ReportError(f"{path}: the report file is empty")
    try:
        data = json.loads(text, parse_constant=_reject_constant)
    except json.JSONDecodeError as error:
        rest = text.rstrip()[error.pos:]  # cut inside a string, a number or a literal
        if not rest or error.msg.startswith("Unterminated string") or _CUT_TOKEN.fullmatch(rest):
            raise ReportError(f"{path}: the report is truncated (the JSON ends early, at line {error.lineno}); "
                              "it was probably cut off while being written") from None
        raise ReportError(f"{path}: not a JSON report: {error}") from None
    except RecursionError:
        raise ReportError(f"{path}: not a usable report: its JSON is nested too deeply") from None
    except ValueError as error:  # a number with too many digits, NaN/Infinity literals
        raise ReportError(f"{path}: not a JSON report: {error}") from None
    where = _unencodable(data)
    if where is not None:
        raise ReportError(f"{path}: not a usable report: a string at {where} is not Unicode text (an unpaired "
                          "surrogate escape such as \\ud800)")
    return data


class _Invalid(Exception):
    """A field that does not fit the schema; the message starts with the field's path."""


def _missing(where: str) -> Any:
    raise _Invalid(f"{where}: missing")


def _shown(value: Any) -> str:
    if isinstance(value, dict | list):
        return "an object" if isinstance(value, dict) else "an array"
    text = repr(value[:SHOWN_VALUE_CHARS + 1] if isinstance(value, str) else value)
    return text if len(text) <= SHOWN_VALUE_CHARS else text[:SHOWN_VALUE_CHARS] + "..."


def _check(valid: bool, where: str, expected: str, value: Any) -> None:
    if not valid:
        raise _Invalid(f"{where}: expected {expected}, got {_shown(value)}")


def _string(value: Any, where: str) -> str:
    _check(isinstance(value, str), where, "a string", value)
    return value


def _optional_string(value: Any, where: str) -> str | None:
    return None if value is None else _string(value, where)


def _integer(value: Any, where: str) -> int:
    _check(type(value) is int, where, "an integer", value)
    return value


def _boolean(value: Any, where: str) -> bool:
    _check(type(value) is bool, where, "true or false", value)
    return value


def _nonnegative(value: Any, where: str) -> float:
    """A number >= 0 (or "inf"/"nan"), as a float."""
    if isinstance(value, str) and value in NONFINITE:
        value = NONFINITE[value]
    in_float_range = type(value) is float or (type(value) is int and abs(value) < 2**1024)  # larger ints overflow
    _check(in_float_range, where, "a number", value)
    _check(not value < 0, where, "a number >= 0", value)
    return float(value)


def _error(value: Any, where: str) -> float | None:
    return None if value is None else _nonnegative(value, where)


def _status(value: Any, where: str) -> str:
    _check(value in SEVERITY, where, "one of " + ", ".join(SEVERITY), value)
    return value


def _kind(value: Any, where: str) -> str:
    _check(value in KINDS, where, "one of " + ", ".join(KINDS), value)
    return value


def _object(value: Any, where: str) -> dict[str, Any]:
    _check(isinstance(value, dict), where, "an object", value)
    return value


def _array(value: Any, where: str) -> list[Any]:
    _check(isinstance(value, list), where, "an array", value)
    return value


def _fields(value: Any, table: dict[str, Any], where: str) -> dict[str, Any]:
    """`value` as an object whose listed fields pass their checks (unknown extra fields are kept)."""
    out = dict(_object(value, where))
    for key, parse in table.items():
        field = f"{where}.{key}" if where else key
        if key not in out:
            raise _Invalid(f"{field}: missing")
        out[key] = parse(out[key], field)
    return out


_STRINGS = {key: _string for key in ("python", "numpy", "mpmath", "mpmath_backend")}
_TOLERANCE = {key: _nonnegative for key in ("rtol_formula", "rtol_float64", "atol", "relative_floor", "safety")}
_OP = {"index": _integer, "name": _string, "location": _string, "custom": _boolean, "status": _string,
       "formula_error": _error, "float64_error": _error}
_CHECK = {"id": _string, "test": _string, "check": _string, "status": _status, "ok": _boolean, "calls": _integer,
          "formula_error": _error, "float64_error": _error, "tolerance": _object, "worst_op": _optional_string,
          "evaluations": _integer, "seconds": _nonnegative, "mode": _string, "high_precision": _boolean,
          "digits": _integer, "gradient_source": _string, "summary": _string, "ops": _array}
_TOP = {"created": _string, "pytest_gradcheck_version": _string, "environment": _object, "settings": _object,
        "summary": _object, "checks": _array}


def _check_record(value: Any, where: str, version: int = VERSION) -> dict[str, Any]:
    rec = _fields(value, _CHECK, where)
    if version == 1:  # before kinds: every check was a first-order gradient check
        rec.setdefault("kind", "grad")
    rec["kind"] = _kind(rec["kind"], f"{where}.kind") if "kind" in rec else _missing(f"{where}.kind")
    rec["tolerance"] = _fields(rec["tolerance"], _TOLERANCE, f"{where}.tolerance")
    rec["ops"] = [_fields(op, _OP, f"{where}.ops[{i}]") for i, op in enumerate(rec["ops"])]
    for i, op in enumerate(rec["ops"]):
        if "note" in op:  # optional: why an op's check is an error or was skipped
            _string(op["note"], f"{where}.ops[{i}].note")
    if "error" in rec:  # optional: status "error": what the checker raised and where
        _string(rec["error"], f"{where}.error")
    if "backend" in rec:  # optional (reports before the quad tier have none): the reference's tier
        _string(rec["backend"], f"{where}.backend")
    if "complex_convention" in rec:  # optional: a check with complex arguments
        convention = rec["complex_convention"]
        _check(convention in COMPLEX_CONVENTIONS, f"{where}.complex_convention",
               "one of " + ", ".join(COMPLEX_CONVENTIONS), convention)
    if "convention_note" in rec:  # optional: a gradient in another complex convention, or f not holomorphic
        _string(rec["convention_note"], f"{where}.convention_note")
    if "ops_note" in rec:  # optional: why the check has no per-op rows, or only some
        _string(rec["ops_note"], f"{where}.ops_note")
    if "expected" in rec:  # optional: a failing check whose test passed (it asserted the failure)
        _boolean(rec["expected"], f"{where}.expected")
    if "plots" in rec:  # optional: paths of the pictures drawn for the check
        paths = _array(rec["plots"], f"{where}.plots")
        rec["plots"] = [_string(path, f"{where}.plots[{i}]") for i, path in enumerate(paths)]
    return rec


def _validate(data: dict[str, Any]) -> dict[str, Any]:
    report = _fields(data, _TOP, "")
    report["environment"] = _fields(report["environment"], _STRINGS, "environment")
    summary = report["summary"] = _fields(report["summary"], {"checks": _integer, "by_status": _object,
                                                              "ok": _boolean}, "summary")
    for status, count in summary["by_status"].items():
        _integer(count, f"summary.by_status.{status}")
    checks = report["checks"] = [_check_record(rec, f"checks[{i}]", data["version"])
                                 for i, rec in enumerate(report["checks"])]
    _check(summary["checks"] == len(checks), "summary.checks", f"the number of checks ({len(checks)})",
           summary["checks"])
    seen: set[str] = set()
    for i, rec in enumerate(checks):
        _check(rec["id"] not in seen, f"checks[{i}].id", "an id used once", rec["id"])
        seen.add(rec["id"])
    return report


def load_report(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Read and validate a report; non-finite numbers come back as floats. Raises ReportError."""
    data = _parse(path)
    if not isinstance(data, dict):
        raise ReportError(f"{path}: not a pytest-gradcheck report: the JSON is not an object but {_shown(data)}")
    if data.get("schema") != SCHEMA:
        raise ReportError(f"{path}: not a pytest-gradcheck report: schema is {_shown(data.get('schema'))}, "
                          f"expected {SCHEMA!r}")
    version = data.get("version")
    if type(version) is not int or version not in SUPPORTED_VERSIONS:
        supported = ", ".join(map(str, SUPPORTED_VERSIONS))
        raise ReportError(f"{path}: report version {_shown(version)} is not supported (this pytest-gradcheck reads "
                          f"version {supported}); regenerate the report with this version of pytest-gradcheck")
    try:
        return _validate(data)
    except _Invalid as error:
        raise ReportError(f"{path}: invalid report: {error}") from None

"""The HTML fragment for pytest-html's extras: tables of hand-made records, escaping of hostile names."""

import xml.etree.ElementTree as ET

from pytest_gradcheck.report.render_html import render_html

HOSTILE_TEST = 'tests/test_x.py::test_a[<script>alert("x")</script>&]'


def record(status="pass", ok=None, ops=(), **extra):
    rec = {"id": f"{HOSTILE_TEST}::<lambda>", "test": HOSTILE_TEST, "check": "<lambda>", "status": status,
           "ok": status == "pass" if ok is None else ok, "formula_error": 0.5, "float64_error": 3e-12,
           "tolerance": {"rtol_formula": 4.4e-16, "rtol_float64": 1e-10}, "worst_op": "a<b@m.py:3",
           "evaluations": 31, "seconds": 0.125, "ops": list(ops), "gradient_source": "autodiff_ref"}
    rec.update(extra)
    return rec


def op(index, name, status="pass", formula_error=1e-30, **extra):
    return {"index": index, "name": name, "location": "m.py:3", "custom": False, "status": status,
            "formula_error": formula_error, "float64_error": 2e-17, **extra}


def cells(table):
    """The text of each row of a table element, header first."""
    return [["".join(cell.itertext()) for cell in row] for row in table.iter("tr")]


def parse(text):
    """The fragment as XML: it only parses if every name was escaped (a raw '<' or '&' breaks it)."""
    return ET.fromstring(text)


def test_hostile_names_are_escaped_and_shown_as_text():
    text = render_html([record("formula_error", ops=[op(1, "<img src=x onerror=alert(1)>", "formula_error", 0.5)])])
    assert "<script>" not in text and "<img" not in text
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&amp;" in text
    root = parse(text)
    assert "".join(root.find("p").itertext()) == f"Gradient checks of {HOSTILE_TEST}: 1 check: 1 formula_error"
    check, ops = root.findall("table")
    assert cells(check)[1][0] == "<lambda>" and cells(check)[1][4] == "a<b@m.py:3"
    assert cells(ops)[1][1] == "<img src=x onerror=alert(1)>"


def test_check_row_has_every_column_with_the_formula_error_against_its_tolerance():
    root = parse(render_html([record("formula_error")]))
    (check,) = root.findall("table")
    assert cells(check) == [["check", "status", "error", "tolerance", "worst op", "evaluations", "seconds"],
                            ["<lambda>", "formula_error", "5.00e-01", "4.4e-16", "a<b@m.py:3", "31", "0.12"]]
    assert check.find(".//strong").text == "formula_error"  # a failing status stands out


def test_a_float64_accuracy_verdict_shows_the_float64_error_and_tolerance():
    root = parse(render_html([record("float64_accuracy", formula_error=1e-20, float64_error=3e-6)]))
    assert cells(root.find("table"))[1][1:4] == ["float64_accuracy", "3.00e-06", "1.0e-10"]


def test_op_rows_follow_their_check_with_notes_only_when_an_op_has_one():
    plain = parse(render_html([record(ops=[op(1, "tanh"), op(2, "sum", formula_error=None)])]))
    assert cells(plain.findall("table")[1]) == [
        ["#", "op", "location", "status", "formula error", "float64 error"],
        ["1", "tanh", "m.py:3", "pass", "1.00e-30", "2.00e-17"],
        ["2", "sum", "m.py:3", "pass", "-", "2.00e-17"]]
    noted = parse(render_html([record(ops=[op(1, "tanh"), op(2, "sort", "skipped", None, note="not traced")])]))
    rows = cells(noted.findall("table")[1])
    assert rows[0][-1] == "note" and rows[1][-1] == "" and rows[2][-1] == "not traced"


def test_no_ops_no_op_table_and_a_checker_error_is_shown():
    root = parse(render_html([record("error", ok=False, error="ZeroDivisionError in <f> at m.py:3")]))
    assert len(root.findall("table")) == 1
    assert "".join(root.findall("p")[1].itertext()) == "checker error: ZeroDivisionError in <f> at m.py:3"


def test_several_checks_of_one_test_each_get_a_table_and_none_means_nothing():
    root = parse(render_html([record(check="f"), record("formula_error", check="g")]))
    assert [cells(t)[1][0] for t in root.findall("table")] == ["f", "g"]
    assert "2 checks: 1 pass, 1 formula_error" in "".join(root.find("p").itertext())
    assert render_html([]) == ""


def test_control_characters_are_shown_escaped():
    text = render_html([record(check="f\x1b[31m")])
    assert "\x1b" not in text and cells(parse(text).find("table"))[1][0] == "f\\x1b[31m"


def test_a_hand_written_gradient_names_no_worst_op_and_an_expected_failure_is_marked():
    root = parse(render_html([record("formula_error", gradient_source="grad", expected=True)]))
    row = cells(root.find("table"))[1]
    assert row[1] == "formula_error (expected)" and row[4] == "-"
    assert root.find(".//strong") is None  # the test asserted this failure: it does not stand out

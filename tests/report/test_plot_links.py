"""Pictures in records, the JSON report and the Markdown summary: the optional `plots` field and its links."""

import json
import os

import numpy as np
import pytest

from pytest_gradcheck import check_grad, cli
from pytest_gradcheck.report import records, render, report

TEST = "tests/test_x.py::test_y"


def wrong(x):
    return np.sum(np.exp(x))


def good(x):
    return np.sum(np.tanh(x))


@pytest.fixture(scope="module")
def drawn(tmp_path_factory):
    root = tmp_path_factory.mktemp("links")
    with records.recording() as results:
        check_grad(wrong, np.array([0.1, 0.2]), grad=lambda x: np.exp(x) * 1.001, raise_on_mismatch=False,
                   plots=root / "pics", per_op="off")
        check_grad(wrong, np.array([0.3, 0.4]), raise_on_mismatch=False, plots=root / "pics")  # passes: no pictures
        check_grad(good, np.array([0.1, 0.2]), plots=root / "pics")
    return root, results


def test_records_carry_pictures_only_when_drawn_and_folding_keeps_them(drawn):
    _, results = drawn
    recs = [records.to_record(r, TEST) for r in results]
    assert recs[0]["plots"] == results[0].plots and len(results[0].plots) == 2
    assert "plots" not in recs[1] and "plots" not in recs[2]
    folded = {rec["check"]: rec for rec in records.fold(recs)}
    assert folded["wrong"]["plots"] == results[0].plots and folded["wrong"]["calls"] == 2
    assert folded["wrong"]["status"] == "formula_error" and "plots" not in folded["good"]
    # the same pictures from two failing calls (hypothesis examples) are listed once
    assert records.fold([recs[0], dict(recs[0])])[0]["plots"] == results[0].plots


def test_report_round_trip_keeps_the_pictures_and_checks_their_type(drawn, tmp_path):
    _, results = drawn
    built = report.build_report(records.fold([records.to_record(r, TEST) for r in results]), {})
    report.write_report(tmp_path / "r.json", built)
    loaded = {rec["check"]: rec for rec in report.load_report(tmp_path / "r.json")["checks"]}
    assert loaded["wrong"]["plots"] == results[0].plots and "plots" not in loaded["good"]
    raw = json.loads((tmp_path / "r.json").read_text())
    raw["checks"][1]["plots"] = ["a.png", 3]
    (tmp_path / "bad.json").write_text(json.dumps(raw))
    with pytest.raises(report.ReportError, match=r"checks\[1\]\.plots\[1\]: expected a string, got 3"):
        report.load_report(tmp_path / "bad.json")
    raw["checks"][1]["plots"] = "a.png"
    (tmp_path / "bad.json").write_text(json.dumps(raw))
    with pytest.raises(report.ReportError, match=r"checks\[1\]\.plots: expected an array"):
        report.load_report(tmp_path / "bad.json")


def test_markdown_links_the_pictures_relative_to_the_summary(drawn, monkeypatch):
    root, results = drawn
    monkeypatch.chdir(root)
    (root / "out" / "ci").mkdir(parents=True, exist_ok=True)
    rec = records.to_record(results[0], TEST)
    rec["plots"] = [os.path.relpath(p, root) for p in rec["plots"]]  # as recorded by a run in `root`
    built = report.build_report([rec, records.to_record(results[2], TEST)], {})
    text = render.render_markdown(built, markdown_path="out/ci/summary.md")
    name = os.path.basename(results[0].plots[0])
    assert "### Pictures (1 check)" in text
    link = f"[error against step](../../pics/{name})"
    assert link in text and "[per-op errors](../../pics/" in text
    assert os.path.exists(os.path.join("out/ci", "../../pics", name))  # the link resolves from the summary
    line = next(line for line in text.splitlines() if link in line)
    assert line.startswith("- `tests/test_x.py::test_y::wrong` (formula_error):")
    assert f"(pics/{name})" in render.render_markdown(built)  # no summary path: the recorded path


def test_link_targets_are_url_quoted():
    assert render.picture_link("my pics/a (1).png", None) == "my%20pics/a%20%281%29.png"


def test_gradcheck_markdown_command_links_relative_to_its_output(drawn, tmp_path, monkeypatch):
    _, results = drawn
    monkeypatch.chdir(tmp_path)
    report.write_report("r.json", report.build_report([records.to_record(results[0], TEST)], {}))
    assert cli.main(["markdown", "r.json", "-o", "summary/s.md"]) == 0
    text = (tmp_path / "summary" / "s.md").read_text()
    expected = os.path.relpath(results[0].plots[0], tmp_path / "summary")
    assert f"[error against step]({expected})" in text and expected.startswith("../")


def test_no_pictures_no_section(drawn):
    _, results = drawn
    built = report.build_report([records.to_record(results[2], TEST)], {})
    assert "Pictures" not in render.render_markdown(built)

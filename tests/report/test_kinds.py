"""The kind of a check ("grad", "jvp", "hvp", "hessian") in records, reports, baselines and renderers."""

import copy
import json

import numpy as np
import pytest

from pytest_gradcheck import check_grad
from pytest_gradcheck.report import baseline, records, render, render_html, report

TEST = "tests/test_k.py::test_loss"


def loss(x):
    return np.sum(np.tanh(x))


@pytest.fixture(scope="module")
def grad_result():
    with records.recording() as results:
        check_grad(loss, np.array([0.1, 0.2]))
    return results[0]


def _as(result, kind, status=None):
    out = copy.copy(result)
    out.kind = kind
    if status is not None:
        out.status = status
    return out


def test_a_result_is_a_grad_check_unless_its_checker_says_otherwise(grad_result):
    assert grad_result.kind == "grad" and grad_result.to_dict()["kind"] == "grad"
    assert "gradient check passed" in grad_result.summary() and "gradient from autodiff_ref" in grad_result.summary()


def test_a_non_grad_result_names_its_kind_in_the_headline(grad_result):
    summary = _as(grad_result, "jvp").summary()
    assert summary.startswith("jvp check passed") and "jvp from autodiff_ref" in summary


def test_records_carry_the_kind_and_keep_the_ids_of_grad_checks(grad_result):
    grad = records.to_record(grad_result, TEST)
    jvp = records.to_record(_as(grad_result, "jvp"), TEST)
    assert grad["kind"] == "grad" and grad["id"] == f"{TEST}::loss"
    assert jvp["kind"] == "jvp" and jvp["id"] == f"{TEST}::loss[jvp]"
    assert len(records.fold([grad, jvp, dict(grad)])) == 2  # a function's grad and jvp checks stay apart


def _write(tmp_path, data, name="r.json"):
    path = tmp_path / name
    path.write_text(json.dumps(data))
    return path


def test_a_version_1_report_reads_as_grad_checks(tmp_path, grad_result):
    built = report.build_report([records.to_record(grad_result, TEST)], {})
    old = json.loads(json.dumps(built))
    old["version"] = 1
    del old["checks"][0]["kind"]  # what version 1 wrote
    loaded = report.load_report(_write(tmp_path, old))
    assert loaded["checks"][0]["kind"] == "grad"
    assert not baseline.compare(loaded, built).new  # the same check: a version 1 baseline still matches


@pytest.mark.parametrize(("change", "expected"), [
    (lambda rec: rec.pop("kind"), "checks[0].kind: missing"),
    (lambda rec: rec.update(kind="gradient"), "checks[0].kind: expected one of grad, jvp, hvp, hessian"),
])
def test_a_version_2_record_needs_a_known_kind(tmp_path, grad_result, change, expected):
    data = json.loads(json.dumps(report.build_report([records.to_record(grad_result, TEST)], {})))
    assert data["version"] == report.VERSION == 2
    change(data["checks"][0])
    with pytest.raises(report.ReportError) as caught:
        report.load_report(_write(tmp_path, data))
    assert expected in str(caught.value)


def test_a_baseline_compares_a_check_only_with_the_same_kind(grad_result):
    grad = records.to_record(grad_result, TEST)
    jvp = records.to_record(_as(grad_result, "jvp", "formula_error"), TEST)
    jvp["ok"] = False
    result = baseline.compare({"checks": [grad]}, {"checks": [grad, jvp]})
    assert result.new == [f"{TEST}::loss[jvp]"] and not result.regressed and result.unchanged == 1
    # a record that carries its kind but not in its id is still matched by both
    bare = {**jvp, "id": f"{TEST}::loss"}
    assert baseline.match_key(bare) == f"{TEST}::loss[jvp]" != baseline.match_key(grad)


def test_renderers_show_the_kind_of_non_grad_checks(grad_result):
    recs = [records.to_record(grad_result, TEST), records.to_record(_as(grad_result, "hvp"), TEST)]
    lines = []
    render.render_summary(recs, lines.append)
    assert any("loss (hvp)" in line for line in lines) and any(" loss " in line + " " for line in lines)
    built = report.build_report(recs, {})
    markdown = render.render_markdown(built)
    assert "`loss (hvp)`" in markdown and "`loss`" in markdown
    assert "loss (hvp)" in render_html.render_html(recs)

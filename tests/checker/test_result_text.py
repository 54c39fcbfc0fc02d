"""What a result looks like: a one-line repr, and a report that is the failure's text, also for a pass."""

import re

import numpy as np
import pytest

from pytest_gradcheck import GradcheckError, check_grad
from pytest_gradcheck.checker.result_text import SHOWN_ELEMENTS
from pytest_gradcheck.hp import quad

W = np.linspace(-1.0, 1.2, 10)


def layer(w):
    return np.sum(np.tanh(w) ** 2 + 0.5 * w)


def layer_grad(w):
    t = np.tanh(w)
    return 2 * t * (1 - t**2) + 0.5


def every_element_wrong(w):
    return layer_grad(w) * (1 + 1e-3 * np.arange(1, 11))  # element k off by (k+1)e-3, the last worst


@pytest.fixture(scope="module")
def failing():
    with pytest.raises(GradcheckError) as info:
        check_grad(layer, W, grad=every_element_wrong, mode="full")
    return info.value


def test_repr_is_one_short_line_with_status_function_mode_worst_error_cost(failing):
    result = failing.result
    text = repr(result)
    assert "\n" not in text and len(text) <= 200, text
    assert text.startswith("<GradcheckResult formula_error: layer, mode full, worst error ")
    worst = float(re.search(r"worst error (\S+) > tolerance (\S+),", text)[1])
    assert worst == pytest.approx(1e-2, rel=0.1)  # element 9 is off by 1e-2
    assert f"{result.evaluations} evaluations" in text and text.endswith(" s>")
    assert "array" not in text and "mpf" not in text  # arrays stay in the fields


def test_a_long_lambda_name_keeps_the_repr_short():
    name_holder = {}
    exec("def " + "f" * 300 + "(w):\n    return np.sum(w ** 2)\nname_holder['f'] = " + "f" * 300,
         {"np": np, "name_holder": name_holder})
    result = check_grad(name_holder["f"], W, grad=lambda w: 2 * w)
    assert len(repr(result)) <= 200 and result.status == "pass"


def test_str_report_and_the_failure_message_are_one_text(failing):
    result = failing.result
    assert str(result) == result.report() == result.message() == str(failing)
    lines = str(result).splitlines()
    assert len(lines) <= 40, str(result)  # the target for a 10-element gradient
    assert lines[0] == result.summary() and "[formula_error; layer, mode full" in lines[0]


def test_the_report_lists_the_worst_elements_worst_first_with_reference_and_value(failing):
    result = failing.result
    text = str(result)
    assert f"10 compared quantities outside tolerance (the worst {SHOWN_ELEMENTS}):" in text
    rows = re.findall(r"^ +formula +w +\((\d+),\) +(\S+) \+- \S+ +(\S+) +(\S+) +(\S+)x$", text, re.MULTILINE)
    assert [int(r[0]) for r in rows] == [9, 8, 7, 6, 5]
    exact = layer_grad(W)
    for index, reference, value, rel_error, _ in rows:
        k = int(index)
        assert float(reference) == pytest.approx(exact[k], rel=1e-14)
        assert float(value) == pytest.approx(every_element_wrong(W)[k], rel=1e-15)  # evaluated at high precision
        assert float(rel_error) == pytest.approx(1e-3 * (k + 1), rel=0.05)
    assert text.splitlines()[-1].startswith("  to accept a looser gradient, pass rtol=/atol=")


def test_a_passing_result_reports_the_same_way_without_a_remedy():
    result = check_grad(layer, W, grad=layer_grad, mode="full")
    lines = str(result).splitlines()
    tier = "33-digit quad" if quad.available() else "40-digit mpmath"  # the default tier
    assert lines[0].startswith(f"gradient check passed [pass; layer, mode full, {tier} reference")
    assert re.search(r"worst relative error: formula \S+ \(tolerance 4\.4e-16\)", lines[2])
    assert "outside tolerance" not in str(result) and "rtol=/atol=" not in str(result)
    assert repr(result).startswith("<GradcheckResult pass: layer, mode full, worst error ")
    assert " <= tolerance 4.4e-16," in repr(result)


@pytest.mark.parametrize(("keywords", "tier"), [
    ({"backend": "mpmath"}, "40-digit mpmath reference"),
    ({"digits": 25}, "25-digit mpmath reference"),  # digits= asks for mpmath at exactly that precision
    pytest.param({"backend": "quad"}, "33-digit quad reference",
                 marks=pytest.mark.skipif(not quad.available(), reason="the quad tier needs numpy-quaddtype")),
])
def test_the_headline_names_the_tier_and_its_digits(keywords, tier):
    result = check_grad(layer, W[:3], grad=layer_grad, mode="full", per_op="off", **keywords)
    assert f"mode full, {tier}, gradient from grad]" in str(result).splitlines()[0], str(result)


def test_a_planted_op_bug_shows_the_op_table_in_the_report():
    import autodiff_ref

    @autodiff_ref.primitive(elementwise=True)
    def soft(z):
        return np.log1p(np.exp(z))

    soft.defvjp(lambda ans, z: lambda g: g / (1 + np.exp(z)))  # wrong: sigmoid(z) = 1 / (1 + exp(-z))
    result = check_grad(lambda w: np.sum(soft(w * 2.0) ** 2), W[:4], raise_on_mismatch=False)
    text = str(result)
    assert result.status == "formula_error" and "per-op check: 1 of 4 ops fail" in text, text
    assert re.search(r"^   > +2  soft\* ", text, re.MULTILINE), text  # numbered from 1: multiply is op 1


def test_a_nan_in_the_gradient_is_a_row_of_its_own_with_no_ratio_and_a_note_naming_it():
    def with_nan(w):
        g = layer_grad(w)
        g[3] = np.nan
        return g

    result = check_grad(layer, W, grad=with_nan, mode="full", raise_on_mismatch=False)
    text = str(result)
    assert result.status == "formula_error"
    assert re.search(r"^ +formula +w +\(3,\) +\S+ \+- \S+ +nan +non-finite +-$", text, re.MULTILINE), text
    assert "nanx" not in text and "infx" not in text and "tolerance nan" not in text
    assert "grad returned nan for argument 0 ('w') at element (3,)" in text
    assert len([m for m in result.mismatches if m.kind == "formula"]) == 1  # the other elements keep their scale


@pytest.mark.parametrize("mode", ["full", "diagonal"])
def test_a_kink_carries_the_index_of_its_element(mode):
    result = check_grad(lambda w: np.abs(w), np.array([0.3, 0.0, -0.2]), vjp=lambda v, w: v * np.sign(w),
                        mode=mode, raise_on_mismatch=False, per_op="off")
    assert [k.index for k in result.kinks] == [(1,)] and result.kinks[0].to_dict()["index"] == [1]

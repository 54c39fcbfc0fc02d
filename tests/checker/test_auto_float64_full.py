"""auto with a float64 reference checks every element (full) up to AUTO_FULL_LIMIT_FLOAT64 when it is cheap."""

import numpy as np

from pytest_gradcheck import check_grad
from pytest_gradcheck.checker import planning


def through_python_floats(x):
    """A compiled-like path: the value leaves high precision, so the reference is float64."""
    y = np.array(x.tolist(), dtype=np.float64)
    return np.sum(np.sin(y) * y)


def grad(x):
    return (np.cos(x) * x + np.sin(x),)


X = np.linspace(-2.0, 2.0, 100)


def test_a_float64_reference_checks_every_element_up_to_the_limit():
    result = check_grad(through_python_floats, (X,), grad=grad, per_op="off")
    assert not result.high_precision and result.mode == "full" and result.status == "pass"


def test_an_error_in_one_element_is_named_where_one_projection_would_dilute_it():
    def wrong(x):
        (g,) = grad(x)
        g = g.copy()
        g[37] *= 1 + 1e-6
        return (g,)

    result = check_grad(through_python_floats, (X,), grad=wrong, per_op="off", raise_on_mismatch=False)
    assert result.status == "formula_error" and result.mode == "full"
    assert [m.index for m in result.mismatches] == [(37,)]


def test_beyond_the_limit_or_the_budget_it_projects(monkeypatch):
    monkeypatch.setattr(planning, "AUTO_FULL_LIMIT_FLOAT64", 99)
    assert check_grad(through_python_floats, (X,), grad=grad, per_op="off").mode == "fast"
    monkeypatch.setattr(planning, "AUTO_FULL_LIMIT_FLOAT64", 256)
    assert check_grad(through_python_floats, (X,), grad=grad, per_op="off", max_evaluations=500).mode == "fast"


def test_a_formula_error_against_a_float64_reference_says_so_in_its_headline():
    def wrong(x):
        return (-grad(x)[0],)

    result = check_grad(through_python_floats, (X[:5],), grad=wrong, per_op="off", raise_on_mismatch=False)
    assert result.summary().startswith("the gradient formula disagrees with the float64 reference derivative")
    assert "high-precision" not in result.summary().split("[")[0]

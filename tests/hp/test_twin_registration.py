"""One way to register a twin: each twin module exports one mapping, TWINS, and install.load installs them all.

The registry after loading is compared in a fresh interpreter (other tests register and unregister twins of
their own in this one) with the union of the mappings: a module that registered by any other route (a call
at import, a loop over its names) would show as an entry the mappings do not hold.
"""

import ast
import importlib
import json
import pathlib
import subprocess
import sys

import mpmath
import numpy as np
import pytest

from pytest_gradcheck.hp import exact, install, precision, registry

TWINS_ROOT = pathlib.Path(install.__file__).parent / "twins"
HP_ROOT = TWINS_ROOT.parent


def _module_mappings(module_name):
    """Names of the module-level dicts of the module whose values are all registry.Twin entries."""
    module = importlib.import_module(module_name)
    return sorted(name for name, value in vars(module).items()
                  if isinstance(value, dict) and value and all(isinstance(v, registry.Twin) for v in value.values()))


@pytest.mark.parametrize("module_name", install.TWIN_MODULES)
def test_every_twin_module_exports_exactly_one_mapping_named_twins(module_name):
    assert _module_mappings(module_name) == ["TWINS"]
    assert "TWINS" in importlib.import_module(module_name).__all__


def test_every_module_holding_twins_is_loaded():
    """A module under hp/twins with a TWINS mapping that is not in TWIN_MODULES would never be installed."""
    holding = set()
    for path in TWINS_ROOT.rglob("*.py"):
        name = ".".join(path.relative_to(HP_ROOT.parent.parent).with_suffix("").parts)
        if _module_mappings(name):
            holding.add(name)
    assert holding == set(install.TWIN_MODULES)


def test_no_hp_module_but_the_loader_calls_the_registry_to_register():
    """Registering is the loader's job: no call of register/register_* anywhere else in hp/ (the registry's
    own register_* and register_hp, for users' twins, are built on register)."""
    callers = []
    for path in HP_ROOT.rglob("*.py"):
        if path.name == "registry.py":
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call):
                called = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
                if called == "register" or called.startswith("register_"):
                    callers.append(f"{path.relative_to(HP_ROOT)}:{node.lineno}")
    assert callers == ["install.py:" + str(_line_of(HP_ROOT / "install.py", "hp_registry.register(dotted, entry)"))]


def _line_of(path, text):
    return next(i for i, line in enumerate(path.read_text().splitlines(), 1) if text in line)


_COMPARE = """
import json, sys
import numpy as np
from pytest_gradcheck.hp import install, precision, registry
if sys.argv[1] == "extra":  # a twin registered by another route than a TWINS mapping
    registry.register_ufunc("numpy.nextafter", lambda x, y: x)
precision.context(40)  # loads the twins, as the first check does
union = install.all_twins()
wrong = {kind: sorted(name for name, twin in table.items()
                      if name not in union or union[name].kind != kind or union[name].twin is not twin)
         for kind, table in registry.TABLES.items()}
missing = sorted(name for name, entry in union.items() if registry.TABLES[entry.kind].get(name) is not entry.twin)
print(json.dumps({"wrong": wrong, "missing": missing, "sizes": {k: len(t) for k, t in registry.TABLES.items()}}))
"""


def _compare(mode):
    out = subprocess.run([sys.executable, "-c", _COMPARE, mode], capture_output=True, text=True, check=True)
    return json.loads(out.stdout)


def test_the_registry_after_load_is_exactly_the_union_of_the_mappings():
    found = _compare("plain")
    assert found["missing"] == [] and found["wrong"] == {kind: [] for kind in registry.TABLES}
    assert all(size > 0 for size in found["sizes"].values())  # every kind is used by some module


def test_a_twin_registered_by_another_route_is_seen():
    found = _compare("extra")
    assert found["wrong"]["ufunc"] == ["numpy.nextafter"] and found["missing"] == []


def test_the_loader_refuses_a_name_in_two_mappings(monkeypatch):
    module = "pytest_gradcheck.hp.twins.fft"
    monkeypatch.setattr(install, "TWIN_MODULES", (module, module))
    with pytest.raises(ValueError, match=r"numpy\.fft\.fft: a twin in both .*fft and .*fft"):
        install.all_twins()


def test_a_module_without_a_twins_mapping_is_refused_by_name():
    with pytest.raises(TypeError, match=r"pytest_gradcheck\.hp\.exact: TWINS: expected a dict"):
        install.twins_of("pytest_gradcheck.hp.exact")


def test_register_refuses_an_entry_that_is_not_a_twin_naming_it():
    with pytest.raises(TypeError, match="entry: expected a Twin"):
        registry.register("numpy.nextafter", lambda x, y: x)
    with pytest.raises(ValueError, match="kind must be one of"):
        registry.register("numpy.nextafter", registry.Twin("elementwise", lambda x, y: x))
    assert "numpy.nextafter" not in registry.UFUNCS


def test_method_twins_are_attached_to_a_new_context_under_numpys_method_names():
    ctx = precision.context(40)
    assert registry.method_name("numpy.tanh") == "tanh" and registry.method_name("numpy.floor") == "__floor__"
    assert set(precision.UFUNC_METHODS) == {registry.method_name(n) for n in registry.METHODS}
    x = precision.to_hp(np.array([0.5, -2.25]), ctx)
    assert np.tanh(x)[0] == ctx.tanh(ctx.mpf(0.5)) and np.floor(x)[1] == -3 and type(np.floor(x)[1]) is ctx.mpf


def test_the_registry_imports_nothing_from_the_package():
    tree = ast.parse((HP_ROOT / "registry.py").read_text())
    imported = [n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)]
    imported += [a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names]
    assert [m for m in imported if m and m.startswith("pytest_gradcheck")] == []


def test_no_private_name_is_imported_across_hp_modules():
    found = []
    for path in HP_ROOT.rglob("*.py"):
        tree = ast.parse(path.read_text())
        aliases = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("pytest_gradcheck"):
                found += [f"{path.name}: {node.module}.{a.name}" for a in node.names if a.name.startswith("_")]
                aliases |= {a.asname or a.name for a in node.names}
        for node in ast.walk(tree):
            if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id in aliases \
                    and node.attr.startswith("_") and not node.attr.startswith("__"):
                found.append(f"{path.name}: {node.value.id}.{node.attr}")
    assert found == []


def _code_lines(function):
    """Lines of a function without its docstring."""
    lines = function.end_lineno - function.lineno + 1
    body = function.body
    if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant) \
            and isinstance(body[0].value.value, str):
        lines -= body[0].end_lineno - body[0].lineno + 1
    return lines


def test_no_function_in_hp_is_longer_than_50_lines():
    long = [f"{path.relative_to(HP_ROOT)}:{node.lineno} {node.name} ({_code_lines(node)})"
            for path in HP_ROOT.rglob("*.py") for node in ast.walk(ast.parse(path.read_text()))
            if isinstance(node, ast.FunctionDef) and _code_lines(node) > 50]  # the limit
    assert long == []


# the one float-to-mpf conversion


def test_to_mpf_is_exact_for_floats_ints_and_another_contexts_numbers():
    ctx, fine = precision.context(40), precision.context(60)
    third = fine.mpf(1) / 3  # 60 digits: more bits than ctx holds
    assert exact.to_mpf(ctx, third)._mpf_ == third._mpf_  # kept, not rounded to ctx's precision
    assert exact.to_mpf(ctx, 0.1) == mpmath.mpf(0.1) and type(exact.to_mpf(ctx, 0.1)) is ctx.mpf
    assert exact.to_mpf(ctx, np.float32(0.1)) == mpmath.mpf(float(np.float32(0.1)))
    assert exact.to_mpf(ctx, 2**60 + 1) == 2**60 + 1 and exact.to_mpf(ctx, np.True_) == 1
    assert ctx.isnan(exact.to_mpf(ctx, float("nan"))) and exact.to_mpf(ctx, float("-inf")) == -ctx.inf


@pytest.mark.parametrize("bad", [1j, "1.0", None])
def test_to_mpf_refuses_what_is_not_a_real_number_naming_it(bad):
    with pytest.raises(TypeError, match=f"expected a real number .*got {type(bad).__name__}"):
        exact.to_mpf(precision.context(40), bad)


@pytest.mark.parametrize("values", [np.array([[0.1, -2.5], [np.inf, 1e-310]]), np.arange(6).reshape(2, 3),
                                    np.array([0.1, 3], dtype=object), np.array([0.5], dtype=np.float32)])
def test_exact_objects_is_to_mpf_of_every_element_keeping_the_shape(values):
    ctx = precision.context(40)
    converted = exact.exact_objects(values, ctx)
    assert converted.shape == values.shape and converted.dtype == object
    expected = [exact.to_mpf(ctx, v) for v in values.ravel().tolist()]
    assert all(type(c) is ctx.mpf and c == e for c, e in zip(converted.ravel().tolist(), expected, strict=True))


def test_no_other_module_converts_floats_to_mpf_itself():
    """from_float and make_mpf are exact.py's: other modules call it (plots and checker call precision.to_hp)."""
    package = HP_ROOT.parent
    users = sorted(str(p.relative_to(package)) for p in package.rglob("*.py")
                   if p.name != "exact.py" and ("from_float" in p.read_text() or "make_mpf" in p.read_text()))
    assert users == []

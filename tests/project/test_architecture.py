"""The package's shape, computed from its source: no import cycles (function-level imports count), plugin-level
modules only at the top, no `hp_` module names, no function longer than 50 lines of code."""

import ast
import pathlib

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "pytest_gradcheck"
TOP_LEVEL = {"__init__", "api", "api_jvp", "api_second", "plugin", "session", "settings", "cli", "strategies"}
MAX_FUNCTION_LINES = 50  # lines of code, docstring excluded


def _modules(package: pathlib.Path) -> dict[str, pathlib.Path]:
    out = {}
    for path in package.rglob("*.py"):
        parts = path.relative_to(package.parent).with_suffix("").parts
        out[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return out


def import_graph(package: pathlib.Path) -> dict[str, set[str]]:
    """module -> the package's modules it imports anywhere in its source (module level or inside functions)."""
    modules = _modules(package)
    graph: dict[str, set[str]] = {name: set() for name in modules}
    for name, path in modules.items():
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith(package.name):
                targets = [f"{node.module}.{a.name}" for a in node.names] + [node.module]
            elif isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            else:
                continue
            for target in targets:
                while target not in modules and "." in target:
                    target = target.rsplit(".", 1)[0]
                if target in modules and target not in (name, package.name):
                    graph[name].add(target)
                    break
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def test_no_import_cycles_within_pytest_gradcheck():
    assert cycles(import_graph(PACKAGE)) == []


def test_the_cycle_finder_finds_a_cycle_through_a_function_level_import(tmp_path):
    package = tmp_path / "pkg"
    (package / "sub").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "sub" / "__init__.py").write_text("")
    (package / "sub" / "a.py").write_text("from pkg.sub import b\n")
    (package / "sub" / "b.py").write_text("def f():\n    from pkg.sub.a import x\n")
    (package / "c.py").write_text("import pkg.sub.a\n")
    assert cycles(import_graph(package)) == [["pkg.sub.a", "pkg.sub.b"]]


def test_only_plugin_level_modules_at_the_top_and_no_hp_prefixed_names():
    top = {p.stem for p in PACKAGE.glob("*.py")}
    assert top == TOP_LEVEL
    assert not [p for p in PACKAGE.rglob("hp_*.py")]


def _code_lines(node: ast.AST) -> int:
    lines = node.end_lineno - node.lineno + 1
    body = getattr(node, "body", [])
    if body and isinstance(body[0], ast.Expr) and isinstance(getattr(body[0], "value", None), ast.Constant) \
            and isinstance(body[0].value.value, str):
        lines -= body[0].end_lineno - body[0].lineno + 1
    return lines


def long_functions(root: pathlib.Path) -> list[str]:
    out = []
    for path in sorted(root.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and _code_lines(node) > MAX_FUNCTION_LINES:
                out.append(f"{path.name}:{node.lineno} {node.name} ({_code_lines(node)} lines)")
    return out


@pytest.mark.parametrize("package", ["pytest_gradcheck", "autodiff_ref"])
def test_no_function_is_longer_than_50_lines_of_code(package):
    assert long_functions(ROOT / package) == []


def test_the_length_rule_counts_code_not_docstrings(tmp_path):
    body = "\n".join(f"    x{i} = {i}" for i in range(MAX_FUNCTION_LINES - 1))
    doc = '    """' + "\n    words" * 20 + '"""\n'
    (tmp_path / "ok.py").write_text(f"def f():\n{doc}{body}\n")
    (tmp_path / "long.py").write_text(f"def g():\n{body}\n    y = 1\n    z = 2\n")
    assert [line.split()[1] for line in long_functions(tmp_path)] == ["g"]


def private_uses(package: pathlib.Path) -> list[str]:
    """`from pytest_gradcheck.x import _name` and `module._name` on a module of the package, across modules."""
    modules = _modules(package)
    found = []
    for name, path in sorted(modules.items()):
        bound = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith(package.name):
                for alias in node.names:
                    if alias.name.startswith("_") and not alias.name.startswith("__"):
                        found.append(f"{name}: imports {node.module}.{alias.name}")
                    if f"{node.module}.{alias.name}" in modules:
                        bound.add(alias.asname or alias.name)
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id in bound \
                    and node.attr.startswith("_") and not node.attr.startswith("__"):
                found.append(f"{name}: uses {node.value.id}.{node.attr}")
    return found


@pytest.mark.parametrize("package", ["pytest_gradcheck", "autodiff_ref"])
def test_no_private_name_is_used_across_modules(package):
    assert private_uses(ROOT / package) == []


def test_the_private_use_finder_sees_both_forms(tmp_path):
    package = tmp_path / "pkg"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "a.py").write_text("_hidden = 1\n")
    (package / "b.py").write_text("from pkg import a\nfrom pkg.a import _hidden\nx = a._hidden\n")
    assert private_uses(package) == ["pkg.b: imports pkg.a._hidden", "pkg.b: uses a._hidden"]

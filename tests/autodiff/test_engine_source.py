"""The engine's source stays readable and independent: short functions, no private names shared between its
modules, nothing imported from pytest_gradcheck (the engine is usable, and testable, on its own)."""

import ast
import io
import tokenize
from pathlib import Path

import pytest

ENGINE = Path(__file__).parents[2] / "autodiff_ref"
MAX_FUNCTION_LINES = 50  # lines of code, docstrings, comments and blank lines excluded
SOURCES = sorted(ENGINE.glob("*.py"))


def _code_lines(source):
    kinds = {tokenize.COMMENT, tokenize.NL, tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT, tokenize.ENDMARKER}
    lines = set()
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        if token.type not in kinds:
            lines.update(range(token.start[0], token.end[0] + 1))
    return lines


def _docstring_lines(tree):
    lines = set()
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if isinstance(body, list) and body and isinstance(body[0], ast.Expr):
            value = body[0].value
            if isinstance(value, ast.Constant) and isinstance(value.value, str):
                lines.update(range(body[0].lineno, body[0].end_lineno + 1))
    return lines


def function_lengths(source):
    """(name, first line, lines of code) of every function and method in `source`."""
    tree = ast.parse(source)
    code = _code_lines(source) - _docstring_lines(tree)
    return [(node.name, node.lineno, len(code & set(range(node.lineno, node.end_lineno + 1))))
            for node in ast.walk(tree) if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)]


def foreign_imports(source):
    """Imports of pytest_gradcheck, and private names (`_x`) taken from another module (imported or by attribute)."""
    tree, found, modules = ast.parse(source), [], set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import | ast.ImportFrom):
            names = [node.module or ""] if isinstance(node, ast.ImportFrom) else [a.name for a in node.names]
            found += [f"imports {n}" for n in names if n.split(".")[0] == "pytest_gradcheck"]
            if isinstance(node, ast.ImportFrom):
                found += [f"imports private {a.name}" for a in node.names if a.name.startswith("_")]
            modules.update((a.asname or a.name).split(".")[0] for a in node.names)
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id in modules \
                and node.attr.startswith("_") and not node.attr.startswith("__") and node.value.id not in ("np", "sys"):
            found.append(f"uses private {node.value.id}.{node.attr}")
    return found


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: p.name)
def test_no_engine_function_is_longer_than_50_lines(path):
    long = [(name, line, n) for name, line, n in function_lengths(path.read_text()) if n > MAX_FUNCTION_LINES]
    assert not long, f"{path.name}: functions over {MAX_FUNCTION_LINES} lines of code: {long}"


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: p.name)
def test_the_engine_imports_no_checker_and_shares_no_private_names(path):
    assert foreign_imports(path.read_text()) == [], path.name


def test_the_source_checks_see_what_they_look_for():
    body = "\n".join(f"    x{i} = {i}  # a comment" for i in range(MAX_FUNCTION_LINES))
    source = f'def long():\n    """A docstring\n    of two lines."""\n\n{body}\n    return x0\n'
    assert function_lengths(source) == [("long", 1, MAX_FUNCTION_LINES + 2)]  # def line + body + return
    bad = "from pytest_gradcheck.hp import precision\nfrom autodiff_ref.arrays import _helper\n" \
          "from autodiff_ref import primitives\nprimitives._count(3)\nnp._NoValue\n"
    assert foreign_imports(bad) == ["imports pytest_gradcheck.hp", "imports private _helper",
                                    "uses private primitives._count"]

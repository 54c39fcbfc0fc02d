"""README and docs stay true: their Python blocks run, and .ci/run runs README's two commands."""

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


def _blocks(path, language):
    return re.findall(rf"```{language}\n(.*?)```", path.read_text(), flags=re.S)


@pytest.mark.parametrize(
    ("path", "index"),
    [(p, i) for p in DOCS for i in range(len(_blocks(p, "python")))],
    ids=lambda v: v.name if isinstance(v, Path) else str(v),
)
def test_python_blocks_run(path, index):
    exec(compile(_blocks(path, "python")[index], f"{path.name}[{index}]", "exec"), {"__name__": "docs"})


def test_ci_runs_readme_commands_in_order():
    setup, tests = (block.strip() for block in _blocks(ROOT / "README.md", "bash")[:2])
    ci = (ROOT / ".ci" / "run").read_text()
    assert setup in ci and tests in ci
    assert ci.index(setup) < ci.index(tests)
    assert "set -euo pipefail" in ci

"""README and docs stay true: every code block runs, every output shown is real, .ci/run runs README's commands.

Conventions of docs/**/*.md (README.md: its python blocks run, nothing more):
- every ```python block runs on its own (a fresh namespace, in a temporary directory);
- a block that defines tests is also run *by pytest*, as a test file: the HTML comment just above it says so,
  with pytest's arguments and the expected outcomes, `<!-- pytest [ARGS] -> passed=N [failed=N ...] -->`; a
  first line `# test_name.py` names the file;
- a ```text block under `<!-- output -->` shows the output of the python block above it: exactly what it
  prints, or for a pytest block the lines of pytest's output (numbers within 1e-9, timings not compared). A
  line `...` stands for any number of lines;
- every fence starts a line and names its language;
- a block needing an optional package (torch, jax) says so in a leading comment line, `# needs: torch`: it is
  skipped where that package is not installed.
"""

import doctest
import importlib
import itertools
import math
import re
import shlex
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOCS = sorted((ROOT / "docs").rglob("*.md"))
LANGUAGES = {"python", "text", "bash", "yaml", "json"}
FENCE = re.compile(r"^```(?P<language>[^\n`]*)\n(?P<code>.*?)^```[ \t]*$", re.S | re.M)
PYTEST = re.compile(r"pytest(?P<args>.*?)->(?P<outcomes>.*)", re.S)
SKIP = "..."  # a shown output line standing for any number of lines
NUMBER = re.compile(r"[-+]?(?:\d+\.\d*|\.\d+|\d+)(?:[eE][-+]?\d+)?")
TIMING = re.compile(r"\b\d+\.\d+(?=s?[ =]*$)")  # seconds at the end of a line: pytest's and the summary's
NOISE_LEVEL = 1e-12  # pytest output: errors this small are float64 round-off, their digits vary with the CPU


@dataclass(frozen=True)
class Block:
    path: Path
    language: str
    code: str
    directive: str | None  # the HTML comment just above the fence, if any

    @property
    def pytest_run(self) -> tuple[list[str], dict[str, int]] | None:
        """pytest's arguments and the expected outcomes, for a block that runs as a test file."""
        match = PYTEST.fullmatch(self.directive or "")
        if match is None:
            return None
        outcomes = dict(item.split("=") for item in match["outcomes"].split())
        return shlex.split(match["args"]), {key: int(count) for key, count in outcomes.items()}

    @property
    def needs(self) -> list[str]:
        """The optional packages the block needs (`# needs: torch, jax` among its leading comment lines)."""
        leading = itertools.takewhile(lambda line: line.startswith("#"), self.code.splitlines())
        return [name.strip() for line in leading if line.startswith("# needs:")
                for name in line.removeprefix("# needs:").split(",")]

    @property
    def file_name(self) -> str:
        first = self.code.splitlines()[0]
        named = re.fullmatch(r"# (test_\w+\.py)", first)
        return named[1] if named else "test_docs_block.py"


def parse(path: Path) -> list[Block]:
    text = path.read_text()
    blocks = []
    for match in FENCE.finditer(text):
        before = text[: match.start()].rstrip()
        start = before.rfind("<!--")
        directive = before[start + 4 : -3].strip() if before.endswith("-->") and start >= 0 else None
        blocks.append(Block(path, match["language"].strip(), match["code"], directive))
    return blocks


def _blocks(path, language):
    return [block.code for block in parse(path) if block.language == language]


def _cases(paths, keep):
    """(block, the output its page shows or None) pairs for pytest parametrization, with readable ids."""
    out = []
    for path in paths:
        blocks = parse(path)
        for i, block in enumerate(blocks):
            if keep(block):
                out.append(pytest.param(block, _shown_output(blocks, i), id=f"{path.relative_to(ROOT)}[{i}]"))
    return out


def _output_index(blocks, i):
    """The index of the output shown for block i: the `<!-- output -->` block right under it; for a pytest
    block, shell blocks (its command) may come between."""
    for j in range(i + 1, len(blocks)):
        if blocks[j].directive == "output":
            return j
        if not (blocks[i].pytest_run and blocks[j].language == "bash"):
            return None
    return None


def _shown_output(blocks, i):
    j = _output_index(blocks, i)
    return None if j is None else blocks[j].code


def _lines_match(shown, actual, same_line):
    """Every shown line appears in `actual`, in order; a shown `...` skips any number of lines, and without
    one the lines must follow each other."""
    position, free = 0, True  # free: the next shown line may match further down
    for line in shown.splitlines():
        if line.strip() == SKIP:
            free = True
            continue
        while position < len(actual) and not same_line(line, actual[position]):
            if not free:
                return f"expected {line!r}, got {actual[position]!r}"
            position += 1
        if position == len(actual):
            return f"not found in order: {line!r}"
        position, free = position + 1, False
    return None


def _same_pytest_line(shown, actual):
    """Equal words; numbers within 1e-9 (both below NOISE_LEVEL also counts); trailing timings ignored."""
    shown, actual = TIMING.sub("#", shown), TIMING.sub("#", actual)
    if NUMBER.sub("#", shown).split() != NUMBER.sub("#", actual).split():
        return False
    pairs = zip(NUMBER.findall(shown), NUMBER.findall(actual), strict=True)
    return all(math.isclose(float(a), float(b), rel_tol=1e-9) or max(abs(float(a)), abs(float(b))) < NOISE_LEVEL
               for a, b in pairs)


def _exactly(shown, actual):
    return shown.rstrip() == actual.rstrip()


@pytest.mark.parametrize(("block", "shown"), _cases([ROOT / "README.md", *DOCS], lambda b: b.language == "python"))
def test_python_blocks_run(block, shown, tmp_path, monkeypatch, capsys):
    for name in block.needs:
        pytest.importorskip(name)
    monkeypatch.chdir(tmp_path)
    exec(compile(block.code, str(block.path.name), "exec"), {"__name__": "docs"})
    if shown is not None and block.pytest_run is None:
        problem = _lines_match(shown, capsys.readouterr().out.splitlines(), _exactly)
        assert problem is None, f"{block.path.name}: the output shown under the block is not what it prints: {problem}"


@pytest.mark.parametrize(("block", "shown"), _cases(DOCS, lambda b: b.pytest_run is not None))
def test_test_blocks_pass_under_pytest(block, shown, pytester):
    for name in block.needs:
        pytest.importorskip(name)
    args, outcomes = block.pytest_run
    pytester.makepyfile(**{block.file_name[:-3]: block.code})
    # importlib mode: a docs test file may share its name with a module this session has already imported
    result = pytester.runpytest("--import-mode=importlib", *args, block.file_name)
    result.assert_outcomes(**outcomes)
    if shown is not None:
        problem = _lines_match(shown, result.outlines, _same_pytest_line)
        assert problem is None, f"{block.path.name}: the pytest output shown is not what pytest prints: {problem}"


def test_output_matching_catches_changed_numbers_words_and_order():
    actual = ["a  1.50e-01  pass", "b  2.0e-30  pass", "3 passed in 0.51s ===="]
    assert _lines_match("a 1.50e-01 pass\n...\n3 passed in 9.99s ====", actual, _same_pytest_line) is None
    assert _lines_match("b 7.0e-31 pass", actual, _same_pytest_line) is None  # round-off-sized figures vary
    assert _lines_match("a 1.51e-01 pass", actual, _same_pytest_line) is not None
    assert _lines_match("a 1.50e-01 fail", actual, _same_pytest_line) is not None
    assert _lines_match("b 2.0e-30 pass\na 1.50e-01 pass", actual, _same_pytest_line) is not None
    assert _lines_match("a  1.50e-01  pass\n3 passed in 0.51s ====", actual, _exactly) is not None  # adjacent


def test_every_block_is_parsed_and_names_its_language():
    for path in [ROOT / "README.md", *DOCS]:
        text = path.read_text()
        fences = re.findall(r"^[ \t]*```", text, flags=re.M)
        blocks = parse(path)
        assert len(fences) == 2 * len(blocks), f"{path.name}: an indented or unclosed fence"
        for block in blocks:
            assert block.language in LANGUAGES, f"{path.name}: fence language {block.language!r}"


def test_test_blocks_run_under_pytest_and_outputs_follow_python():
    for path in DOCS:
        blocks = parse(path)
        for i, block in enumerate(blocks):
            defines_tests = block.language == "python" and re.search(r"^(?:    )?def test_", block.code, re.M)
            assert bool(defines_tests) == (block.pytest_run is not None), (
                f"{path.name}, block {i}: a block that defines tests needs <!-- pytest ... -> outcomes -->, "
                "and only such a block")
            if block.directive == "output":
                owners = [j for j in range(i) if _output_index(blocks, j) == i]
                assert block.language == "text" and owners, (
                    f"{path.name}, block {i}: <!-- output --> belongs to a text block under a python block "
                    "(or under a pytest block and its command)")


def test_commands_shown_under_test_blocks_are_the_ones_run():
    shown = 0
    for path in DOCS:
        blocks = parse(path)
        for block, nxt in itertools.pairwise(blocks):
            if block.pytest_run and nxt.language == "bash" and block.file_name in nxt.code:
                words = shlex.split(nxt.code)
                assert words[words.index("pytest") + 1 :] == [*block.pytest_run[0], block.file_name], path.name
                shown += 1
    assert shown >= 1  # the quick start's


def _table_column(path, header):
    """The first column of the Markdown table whose header row starts with `header`, as one string."""
    lines = path.read_text().splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(f"| {header} |"))
    cells = []
    for line in lines[start + 2 :]:
        if not line.startswith("|"):
            break
        cells.append(line.split("|")[1])
    return " ".join(cells)


@pytest.mark.parametrize("path", [ROOT / "README.md", ROOT / "docs" / "checker.md"])
def test_every_mode_is_in_the_mode_tables(path):
    from pytest_gradcheck.checker.options import MODES

    assert set(re.findall(r"`(\w+)`", _table_column(path, "mode"))) == set(MODES)


def test_every_check_grad_keyword_is_in_the_settings_table():
    import inspect

    from pytest_gradcheck import check_grad

    documented = set(re.findall(r"`(\w+)`", _table_column(ROOT / "docs" / "checker.md", "keyword")))
    keywords = {name for name, p in inspect.signature(check_grad).parameters.items() if p.kind is p.KEYWORD_ONLY}
    assert documented == keywords


def test_every_plugin_option_is_in_the_options_table(pytestconfig):
    from pytest_gradcheck import plugin, settings

    documented = set(re.findall(r"`(--gradcheck-[\w-]+)", _table_column(ROOT / "docs" / "plugin.md", "command line")))
    options = {s.option for s in settings.SETTINGS.values()}
    options |= {"--gradcheck-" + name.replace("_", "-") for name in plugin.REPORT_OPTIONS}
    assert documented == options
    for option in documented:
        pytestconfig.getoption(option[2:].replace("-", "_"))  # registered under that name


WORKFLOW = ROOT / "docs" / "ci" / "gradcheck.yml"
MODEL = """
import numpy as np
import pytest

def loss(w):
    return np.sum(np.tanh(w) ** 2)

def loss_grad(w):
    g = 2 * np.tanh(w) * (1 - np.tanh(w) ** 2)
    return g + g * DRIFT  # DRIFT 0: exact; 1e-17: below float64's rounding, 1e-17 relative at high precision

@pytest.mark.gradcheck
def test_loss(gradcheck):
    gradcheck(loss, np.linspace(-1.0, 1.0, 4), grad=loss_grad)
"""


def _run_commands(text):
    """The shell commands of a workflow's `run:` keys: one line, or a folded block (`>-`) below the key."""
    commands, lines = [], text.splitlines()
    for i, line in enumerate(lines):
        match = re.match(r"^(?P<indent>.*?)run: (?P<command>.*)$", line)
        if match is None or line.lstrip().startswith("#"):
            continue
        if match["command"].strip() not in (">-", ">"):
            commands.append(match["command"].strip())
            continue
        body = []
        for nxt in lines[i + 1 :]:
            if len(nxt) - len(nxt.lstrip()) <= len(match["indent"]):
                break
            body.append(nxt.strip())
        commands.append(" ".join(body))
    return commands


def _workflow_command(program):
    words = [shlex.split(c) for c in _run_commands(WORKFLOW.read_text())]
    return next(w for w in words if w[: len(program)] == program)


def test_ci_page_shows_the_workflow_file():
    shown = [b.code for b in parse(ROOT / "docs" / "ci.md") if b.language == "yaml"]
    assert shown == [WORKFLOW.read_text()]


def test_workflow_passes_only_registered_options(pytestconfig):
    args = _workflow_command(["python", "-m", "pytest"])[3:]
    options = [a.split("=")[0] for a in args if a.startswith("--")]
    assert "--gradcheck-baseline" in options and "--gradcheck-markdown" in options
    for option in options:
        pytestconfig.getoption(option[2:].replace("-", "_"))  # raises ValueError for an unknown option
    assert args[args.index("-n") + 1] == "auto"
    pytestconfig.getoption("numprocesses")  # -n: pytest-xdist is installed (the dev extra)
    assert args[args.index("-m") + 1] == "gradcheck"
    assert any(line.startswith("gradcheck(") for line in pytestconfig.getini("markers"))


def test_workflow_accepts_a_good_change_and_fails_a_regression(pytester):
    """The workflow's pytest command and `gradcheck compare` step, run for real on a small project (without
    -n auto: xdist's reports equal a serial run's, tested in tests/plugin/test_runs.py)."""
    from pytest_gradcheck import cli

    args = [a for a in _workflow_command(["python", "-m", "pytest"])[3:] if a not in ("-n", "auto")]
    compare = _workflow_command(["gradcheck", "compare"])[1:]  # run from pytester's folder, as the job would
    pytester.makepyfile(test_model="DRIFT = 0.0" + MODEL)
    pytester.runpytest("-m", "gradcheck", "--gradcheck-report=ci/gradcheck-baseline.json").assert_outcomes(passed=1)

    same = pytester.runpytest(*args)
    assert same.ret == 0 and "0 regressions" in (pytester.path / "reports" / "gradcheck.md").read_text()
    assert cli.main(compare) == 0

    pytester.makepyfile(test_model="DRIFT = 1e-17" + MODEL)  # within tolerance, but 23x the noise floor 4.4e-19
    drifted = pytester.runpytest(*args)
    drifted.assert_outcomes(passed=1)
    assert drifted.ret == pytest.ExitCode.TESTS_FAILED
    assert "#### Regressions (1)" in (pytester.path / "reports" / "gradcheck.md").read_text()
    assert cli.main(compare) == 1


def _api_objects():
    """Every object the API page renders (its `::: dotted.name` lines)."""
    for name in re.findall(r"^::: ([\w.]+)", (ROOT / "docs" / "api.md").read_text(), flags=re.M):
        module_name, _, attribute = name.rpartition(".")
        try:
            yield name, importlib.import_module(name)
        except ModuleNotFoundError:  # not a module: an attribute of one
            yield name, getattr(importlib.import_module(module_name), attribute)


def test_docstring_examples_on_the_api_page_run():
    finder, runner, tried = doctest.DocTestFinder(), doctest.DocTestRunner(optionflags=doctest.ELLIPSIS), 0
    for name, obj in _api_objects():
        for test in finder.find(obj, name):
            runner.run(test)
            tried += len(test.examples)
    assert tried > 0 and runner.failures == 0, f"{runner.failures} docstring example(s) failed (output above)"


def test_site_builds_strictly_with_every_link_and_anchor_resolved(tmp_path, monkeypatch):
    """mkdocs build --strict, in-process: a broken link, anchor or API entry fails (needs the docs extra)."""
    pytest.importorskip("mkdocstrings")
    from mkdocs.commands.build import build
    from mkdocs.config import load_config

    monkeypatch.chdir(ROOT)
    build(load_config(str(ROOT / "mkdocs.yml"), strict=True, site_dir=str(tmp_path)))
    api = (tmp_path / "api" / "index.html").read_text()
    assert 'id="pytest_gradcheck.api.check_grad"' in api and 'id="autodiff_ref.grad"' in api


def test_ci_runs_readme_commands_in_order():
    setup, tests = (block.strip() for block in _blocks(ROOT / "README.md", "bash")[:2])
    ci = (ROOT / ".ci" / "run").read_text()
    assert setup in ci and tests in ci
    assert ci.index(setup) < ci.index(tests)
    assert "set -euo pipefail" in ci

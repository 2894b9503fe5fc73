"""Tests of README.md against the project: its nox commands name sessions noxfile.py defines
and the reverse, its exit statuses are the CLI's, and its tables are what results/ gives."""

from __future__ import annotations

import ast
import importlib.util
import re
import shlex
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
NOXFILE = ROOT / "noxfile.py"


def _is_session_decorator(node: ast.expr) -> bool:
    """Whether a decorator is ``@nox.session`` or ``@nox.session(...)``."""
    target = node.func if isinstance(node, ast.Call) else node
    return (
        isinstance(target, ast.Attribute)
        and target.attr == "session"
        and isinstance(target.value, ast.Name)
        and target.value.id == "nox"
    )


def noxfile_sessions(source: str) -> set[str]:
    """The session names a noxfile defines: the function's name, or the decorator's name=.

    Read from the source rather than from `nox -l`, so the test runs where nox is not installed.
    """
    names = set()
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            continue
        for decorator in node.decorator_list:
            if not _is_session_decorator(decorator):
                continue
            name = node.name
            if isinstance(decorator, ast.Call):
                for keyword in decorator.keywords:
                    if keyword.arg == "name" and isinstance(keyword.value, ast.Constant):
                        name = str(keyword.value.value)
            names.add(name)
    return names


def readme_sessions(text: str) -> list[str]:
    """Every session name given to ``nox -s`` (or ``--session``) in a Markdown text, in
    fenced blocks and inline code alike; ``tests-3.12`` counts as ``tests``."""
    names = []
    for match in re.finditer(r"\bnox\s+(?:-s|--sessions?)\s+([^`\n#]*)", text):
        for token in shlex.split(match.group(1)):
            if token.startswith("-") or not re.fullmatch(r"[\w.-]+", token):
                break  # `--` hands the rest to the session; anything else ends the list
            names.append(re.sub(r"-\d+\.\d+t?$", "", token))
    return names


def _section(text: str, heading: str) -> str:
    """The body of a ``## heading`` section, up to the next heading of that level."""
    match = re.search(rf"^## {re.escape(heading)}\n(.*?)(?=^## |\Z)", text, re.M | re.S)
    assert match, f"README.md has no '## {heading}' section"
    return match.group(1)


def test_parsers_find_sessions() -> None:
    """The parsers read a decorated session, a renamed one, and a list given to -s."""
    source = (
        "import nox\n@nox.session\ndef lint(s): ...\n"
        "@nox.session(python=['3.12'], name='docs')\ndef build_docs(s): ...\ndef other(): ...\n"
    )
    assert noxfile_sessions(source) == {"lint", "docs"}
    text = "`nox -s bench -- --python 3.12` and\n```\nnox -s tests-3.12 lint  # both\n```"
    assert readme_sessions(text) == ["bench", "tests", "lint"]


def test_two_commands_name_existing_sessions() -> None:
    """The README's "Two commands" block runs sessions that exist, bench and tests among them."""
    shown = readme_sessions(_section(README.read_text(encoding="utf-8"), "Two commands"))
    assert {"bench", "tests"} <= set(shown)
    missing = set(shown) - noxfile_sessions(NOXFILE.read_text(encoding="utf-8"))
    assert not missing, f"README's Two commands names sessions noxfile.py lacks: {missing}"


def test_every_readme_session_exists() -> None:
    """Every `nox -s NAME` anywhere in the README names a session noxfile.py defines."""
    shown = set(readme_sessions(README.read_text(encoding="utf-8")))
    missing = shown - noxfile_sessions(NOXFILE.read_text(encoding="utf-8"))
    assert not missing, f"README.md shows nox sessions noxfile.py lacks: {sorted(missing)}"


def test_every_session_is_in_readme() -> None:
    """Every session noxfile.py defines is shown in the README as a `nox -s` command."""
    defined = noxfile_sessions(NOXFILE.read_text(encoding="utf-8"))
    assert {"tests", "lint", "bench", "bench_quick", "publish", "preview"} <= defined
    missing = defined - set(readme_sessions(README.read_text(encoding="utf-8")))
    assert not missing, f"sessions README.md never shows: {sorted(missing)}"


def test_reliability_lists_the_exit_statuses_of_help() -> None:
    """The README's Reliability table and `gilcompare --help`'s epilog give the same statuses,
    and every test the section names exists."""
    from gilcompare.cli import EXIT_STATUSES

    text = README.read_text(encoding="utf-8")
    match = re.search(r"^### Reliability\n(.*?)(?=^##)", text, re.M | re.S)
    assert match, "README.md has no '### Reliability' section"
    section = match.group(1)
    in_readme = re.findall(r"^\| (\d+) \|", section, re.M)
    in_help = re.findall(r"^  (\d+) ", EXIT_STATUSES, re.M)
    assert in_readme == in_help == ["0", "1", "2", "129", "130", "141", "143"]
    tests = "".join(path.read_text() for path in (ROOT / "tests").glob("test_*.py"))
    named = re.findall(r"`(test_\w+)`", section)
    assert named and all(f"def {name}(" in tests for name in named)


RESULTS = ROOT / "results"


def _load_tool():
    spec = importlib.util.spec_from_file_location("readme_tool", ROOT / "tools" / "readme.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["readme_tool"] = module
    spec.loader.exec_module(module)
    return module


readme = _load_tool()


def _block(section: str, language: str, first_line: str) -> str:
    """The fenced ``language`` block of a section whose text starts with ``first_line``."""
    for block in re.findall(rf"```{language}\n(.*?)```", section, flags=re.S):
        if block.startswith(first_line):
            return block
    raise AssertionError(f"README.md has no {language} block starting {first_line!r}")


@pytest.mark.once
def test_own_code_example_runs_as_written(tmp_path: Path) -> None:
    """The "Your own code" example as the README writes it: mine.py, the commands beside it
    and measure.py run in a folder of their own, exit 0, and end with the answer line."""
    import subprocess

    section = _section(README.read_text(encoding="utf-8"), "Your own code")
    (tmp_path / "mine.py").write_text(_block(section, "python", "# mine.py"))
    (tmp_path / "measure.py").write_text(_block(section, "python", "# measure.py"))
    commands = _block(section, "sh", "gilcompare run --workload mine.py:crunch")
    lines = [line.split("  #")[0].strip() for line in commands.splitlines() if line.strip()]
    assert len(lines) == 2 and "--dry-run" in lines[0]
    outputs = []
    for line in lines:
        argv = shlex.split(line)
        assert argv[0] == "gilcompare"
        proc = subprocess.run(
            [sys.executable, "-m", "gilcompare", *argv[1:]],
            cwd=tmp_path, capture_output=True, text=True, timeout=600,
        )  # fmt: skip
        assert proc.returncode == 0, f"{line}\n{proc.stderr}"
        outputs.append(proc.stdout)
    assert "in all" in outputs[0] and "from one task timed here" in outputs[0]
    assert "answer for mine.py:crunch: best at 1 worker: serial" in outputs[1]
    proc = subprocess.run(
        [sys.executable, "measure.py"], cwd=tmp_path, capture_output=True, text=True, timeout=600
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("answer for mine:crunch: best at 1 worker: serial")


def test_readme_tables_are_current() -> None:
    """Every generated block of the README is what results/ gives today: stale tables fail."""
    text = README.read_text(encoding="utf-8")
    assert len(readme.BLOCK.findall(text)) >= 4
    new, changed = readme.regenerate(text, RESULTS)
    assert changed == [], f"run `python tools/readme.py` to regenerate: {changed}"
    assert new == text


@pytest.mark.once
def test_an_edited_number_is_found(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A number changed by hand inside a generated block makes --check fail, and a rewrite
    puts the measured one back."""
    text = README.read_text(encoding="utf-8")
    match = next(m for m in readme.BLOCK.finditer(text) if m["spec"].startswith("builds"))
    body = match["body"]
    numbers = [line for line in body.splitlines() if line.startswith("| `count`")]
    edited = numbers[0].replace("|", "| 9.99 |", 2).replace("| 9.99 |", "|", 1)
    assert edited != numbers[0]
    copy = tmp_path / "README.md"
    copy.write_text(text.replace(numbers[0], edited), encoding="utf-8")
    assert readme.main([str(copy), "--results", str(RESULTS), "--check"]) == 1
    assert "stale generated block: builds" in capsys.readouterr().err
    assert readme.main([str(copy), "--results", str(RESULTS)]) == 0
    assert copy.read_text(encoding="utf-8") == text


def test_a_block_naming_no_run_is_one_line(tmp_path: Path, capsys) -> None:
    """A block whose commit has no results is a one-line error and exit 2, the README kept."""
    copy = tmp_path / "README.md"
    text = "<!-- generated: results --commit 0000beef -->\nold\n<!-- end generated -->\n"
    copy.write_text(text, encoding="utf-8")
    assert readme.main([str(copy), "--results", str(RESULTS)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: ") and "\n" not in err
    assert copy.read_text(encoding="utf-8") == text


def test_quoted_numbers_are_what_the_results_give() -> None:
    """Every number the prose ties to a cell (``<!-- = BUILDS WORKLOADS MODELS -->``) is that
    cell's speedup in the run the README names; the free-threading section quotes a dozen."""
    text = README.read_text(encoding="utf-8")
    assert len(readme.QUOTE.findall(text)) >= 20
    assert readme.check_quotes(text, RESULTS) == []


@pytest.mark.parametrize(
    "quote,says",
    [
        ("1.50×<!-- = 3.15t count threads -->", "says 1.50, the results 1.98"),
        ("0.90–1.00×<!-- = 3.14,3.15 count threads -->", "says 0.90–1.00, the results 0.98–1.00"),
        ("1.98 ±9%<!-- = 3.15t count threads -->", "says 1.98 ±9%, the results 1.98 ±3%"),
        ("1.98<!-- = 3.15t count nosuchmodel -->", "no speedup for 3.15t count nosuchmodel"),
        ("1.98<!-- = 3.15t count -->", "expected BUILDS WORKLOADS MODELS"),
    ],
)
def test_a_wrong_quoted_number_fails_the_check(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], quote: str, says: str
) -> None:
    """A quoted number the results contradict makes --check (and a rewrite) exit 1 and names
    it; the prose is never rewritten."""
    copy = tmp_path / "README.md"
    text = f"<!-- numbers: f0586bc3 -->\nthreads scale ({quote} on 3.15t)\n"
    copy.write_text(text, encoding="utf-8")
    assert readme.main([str(copy), "--results", str(RESULTS), "--check"]) == 1
    assert says in capsys.readouterr().err
    assert readme.main([str(copy), "--results", str(RESULTS)]) == 1
    assert copy.read_text(encoding="utf-8") == text


def test_quoted_numbers_need_their_run_named(tmp_path: Path, capsys) -> None:
    copy = tmp_path / "README.md"
    copy.write_text("count 1.98×<!-- = 3.15t count threads -->\n", encoding="utf-8")
    assert readme.main([str(copy), "--results", str(RESULTS), "--check"]) == 1
    assert "no `<!-- numbers: COMMIT -->`" in capsys.readouterr().err

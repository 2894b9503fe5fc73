"""Tests for tools/readme.py: the README's tables are what the committed results give."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
RESULTS = ROOT / "results"


def _load_tool():
    spec = importlib.util.spec_from_file_location("readme_tool", ROOT / "tools" / "readme.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["readme_tool"] = module
    spec.loader.exec_module(module)
    return module


readme = _load_tool()


def test_readme_tables_are_current() -> None:
    """Every generated block of the README is what results/ gives today: stale tables fail."""
    text = README.read_text(encoding="utf-8")
    assert len(readme.BLOCK.findall(text)) >= 4
    new, changed = readme.regenerate(text, RESULTS)
    assert changed == [], f"run `python tools/readme.py` to regenerate: {changed}"
    assert new == text


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

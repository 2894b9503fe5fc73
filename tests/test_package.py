"""Tests for the package's layout: sizes of modules, what workers import, what the wheel holds."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "gilcompare"
MAX_LINES = 400


def test_no_module_is_over_the_limit() -> None:
    """Every module stays short enough to read in one sitting."""
    long = {
        str(path.relative_to(ROOT)): n
        for path in PACKAGE.rglob("*.py")
        if (n := len(path.read_text(encoding="utf-8").splitlines())) > MAX_LINES
    }
    assert not long, long


def test_every_folder_is_a_subpackage_the_wheel_includes() -> None:
    """Every folder of modules has an __init__.py, and pyproject.toml finds them all."""
    for folder in {path.parent for path in PACKAGE.rglob("*.py")}:
        assert (folder / "__init__.py").exists(), folder
    pyproject = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    assert re.search(r'include = \["gilcompare", "gilcompare\.\*"\]', pyproject)
    assert not (PACKAGE / "pages.py").exists() and (ROOT / "tools" / "pages.py").exists()


def test_what_workers_import_is_the_standard_library() -> None:
    """Subinterpreters import the workloads, the workers' report and the probes' workers by
    name, with their packages, and a measuring child under another Python needs only the
    standard library: none may pull in an extension such as psutil or numpy."""
    code = (
        "import sys\n"
        "import gilcompare.workloads, gilcompare.models.workers, gilcompare.probes.workers\n"
        "import gilcompare.measure.isolate, gilcompare.measure.cells, gilcompare.settings\n"
        "print(sorted({'psutil', 'numpy', 'threadpoolctl'} & set(sys.modules)))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    assert out.stdout.strip() == "[]"

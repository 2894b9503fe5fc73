"""Tests for the package's layout: sizes of modules, what workers import, what the wheel holds."""

from __future__ import annotations

import ast
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


def test_nothing_outside_models_branches_on_a_model_name_or_kind() -> None:
    """Outside gilcompare/models, no comparison or startswith tests a model's name (or a
    family of names such as "processes-") and nothing reads a model's ``kind`` but the listing:
    what a model does is asked of the model object."""
    from gilcompare.models import MODELS

    names = set(MODELS) | {n.split("-")[0] + "-" for n in MODELS if "-" in n}
    allowed = {("gilcompare/probes/stop_libraries.py", "loky")}  # joblib's backend, not a model
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        where = str(path.relative_to(ROOT))
        if "models" in path.relative_to(PACKAGE).parts:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            tested: list[ast.expr] = []
            if isinstance(node, ast.Compare):
                tested = [node.left, *node.comparators]
            elif isinstance(node, ast.Call) and getattr(node.func, "attr", "") == "startswith":
                tested = list(node.args)
            for value in tested:
                for const in [value, *getattr(value, "elts", [])]:
                    text = getattr(const, "value", None)
                    if text in names and (where, text) not in allowed:
                        found.append(f"{where}:{node.lineno}: {text!r}")
            if isinstance(node, ast.Attribute) and node.attr == "kind":
                owner = ast.unparse(node.value)
                if "model" in owner.lower() or (owner == "m" and path.name != "listing.py"):
                    found.append(f"{where}:{node.lineno}: {owner}.kind")
    assert not found, found


# The writes that are not a command's output, each with why it needs no checked writer.
PLUMBING_WRITES = {
    ("gilcompare/measure/isolate.py", "open"),  # the child's call and result, in its own folder
    ("gilcompare/probes/workers.py", "open"),  # empty marker files in a probe's private folder
    ("gilcompare/probes/stop_libraries.py", "open"),  # the stop flag, in the same folder
    ("gilcompare/cli/__init__.py", "open"),  # os.devnull, for a stream that went away
    ("gilcompare/workloads/io_bound.py", "open"),  # the file workload's own scratch files
    ("noxfile.py", "write_text"),  # nox runs before (and without) gilcompare being installed
}


def _writes(path: Path) -> set[str]:
    """The ways ``path`` opens files for writing: write_text/write_bytes calls, and open()
    with a mode that writes."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if not isinstance(node, ast.Call):
            continue
        name = getattr(node.func, "attr", getattr(node.func, "id", ""))
        if name in ("write_text", "write_bytes"):
            found.add("write_text")
        modes = [*node.args[1:2], *(k.value for k in node.keywords if k.arg == "mode")]
        if name in ("open", "fdopen") and any(
            isinstance(m, ast.Constant) and set(str(m.value)) & set("wax+") for m in modes
        ):
            found.add("open")
    return found


def test_every_file_a_command_writes_goes_through_the_checked_writer() -> None:
    """Outputs, results, rounds, pages and merged sites are written by validate.write_file
    (checked, atomic, umask permissions); only the plumbing listed above writes otherwise."""
    files = [*PACKAGE.rglob("*.py"), *(ROOT / "tools").glob("*.py"), ROOT / "noxfile.py"]
    offenders = []
    for path in files:
        relative = path.relative_to(ROOT).as_posix()
        if relative == "gilcompare/report/validate.py":
            continue
        for way in _writes(path):
            if (relative, way) not in PLUMBING_WRITES:
                offenders.append(f"{relative}: {way}")
    assert offenders == []

"""Tests for gilcompare.asv.own: a user's own asv suite gets the model × workers grid for a
function of theirs, shown by building a tiny asv project and running asv on it."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

WORK = '''
def crunch(units):
    """Squares summed in pure Python (holds the GIL)."""
    return sum(i * i for i in range(units * 2000))
'''

SUITE = """
from gilcompare.asv import own

FUNCTIONS = ["mypkg.work:crunch"]


class Scaling(own.FunctionScaling):
    functions = FUNCTIONS
    models = ["serial", "threads", "processes-spawn"]
    workers = [2]


class Time(own.FunctionTime):
    functions = FUNCTIONS
    models = ["serial", "threads"]
    workers = [2]
"""

CONF = """{"version": 1, "project": "mypkg", "repo": ".", "branches": ["main"],
"benchmark_dir": "benchmarks", "results_dir": "results", "html_dir": "html",
"environment_type": "virtualenv"}"""


def test_params_come_from_the_subclass() -> None:
    """A subclass's functions, models and workers become asv's params, and it gets a
    setup_cache of its own module (asv keys caches by module and line)."""
    from gilcompare.api import own_workers
    from gilcompare.asv.own import FunctionScaling, FunctionTime

    class Scaling(FunctionScaling):
        functions = ["mypkg.work:crunch"]

    class Time(FunctionTime):
        functions = ["mypkg.work:crunch"]
        workers = [3]

    assert Scaling.params == [
        ["mypkg.work:crunch"],
        ["serial", "threads", "processes-fork", "subinterpreters", "asyncio"],
        own_workers(),
    ]
    assert Time.params[1][0] == "serial" and Time.params[2] == [3]
    assert Scaling.setup_cache.__module__ == __name__
    assert Scaling.param_names == ["function", "model", "workers"]


@pytest.mark.skipif(
    importlib.util.find_spec("asv") is None,
    reason="asv is not installed here (pip install asv; nox -s tests installs it on the newest "
    "Python with a GIL)",
)
def test_a_users_asv_suite_runs_the_grid(tmp_path: Path) -> None:
    """A project with one function and a benchmarks/ module of two subclasses: `asv run
    --python=same --quick` reports a speedup, an efficiency and a time for every cell."""
    import asv

    project = tmp_path / "proj"
    (project / "mypkg").mkdir(parents=True)
    (project / "benchmarks").mkdir()
    (project / "mypkg" / "__init__.py").write_text("")
    (project / "mypkg" / "work.py").write_text(WORK)
    (project / "benchmarks" / "__init__.py").write_text("")
    (project / "benchmarks" / "own.py").write_text(SUITE)
    (project / "asv.conf.json").write_text(CONF)
    git = ["git", "-c", "user.email=t@example.org", "-c", "user.name=t"]
    subprocess.run(["git", "init", "-q", "-b", "main"], cwd=project, check=True)
    subprocess.run(["git", "add", "-A"], cwd=project, check=True)
    subprocess.run([*git, "commit", "-qm", "init"], cwd=project, check=True)
    # asv drops PYTHONPATH from what it runs and reads ASV_PYTHONPATH instead: the project
    # (mypkg), this gilcompare and wherever asv itself was found
    paths = [str(project), str(ROOT), str(Path(asv.__file__).resolve().parent.parent)]
    env = dict(os.environ, ASV_PYTHONPATH=os.pathsep.join(paths), GILCOMPARE_ROUNDS="1")
    asv_cmd = [sys.executable, "-m", "asv"]
    subprocess.run(
        [*asv_cmd, "machine", "--yes", "--machine", "box"], cwd=project, env=env, check=True,
        capture_output=True,
    )  # fmt: skip
    proc = subprocess.run(
        [*asv_cmd, "run", "--python=same", "--quick", "--show-stderr", "--machine", "box"],
        cwd=project, env=env, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out
    assert "failed" not in out, out
    sections = _sections(out)
    models = {"serial", "threads", "processes-spawn"}
    for track in ("track_speedup", "track_efficiency"):
        rows = sections[f"own.Scaling.{track}"]
        assert {row[1] for row in rows} == models and len(rows) == 3, out
        assert all(float(row[2]) > 0 for row in rows), out
    for track in ("track_model_time", "track_serial_time"):
        rows = sections[f"own.Scaling.{track}"]
        assert {row[1] for row in rows} == models and len(rows) == 3, out
        assert all(row[2].endswith("s") and float(row[2].rstrip("mus")) > 0 for row in rows), out
    (row,) = sections["own.Time.time_tasks"]  # models and workers are its columns
    assert len(row) == 3 and all(cell.endswith("s") for cell in row[1:]), out


def _sections(out: str) -> dict[str, list[list[str]]]:
    """asv run's output split by benchmark: the table rows of the function under test that
    follow each benchmark's name."""
    sections: dict[str, list[list[str]]] = {}
    rows: list[list[str]] = []
    for line in out.splitlines():
        if "··· own." in line:
            rows = sections.setdefault(line.split("··· ")[1].split()[0], [])
        elif "mypkg.work:crunch" in line:
            rows.append(line.split())
    return sections

"""A platform without fork (Windows) or where it is unsafe (macOS): every fork model is
skipped with its reason, never a crash, in `gilcompare run` and in the asv suite alike."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from gilcompare.models import get_model
from gilcompare.workloads import get_workload

ROOT = Path(__file__).resolve().parent.parent
FORK_MODELS = ("processes-fork", "mp-pool-fork", "process-per-task")

# imported by every Python started with this folder first on PYTHONPATH (the measuring
# children too): multiprocessing then offers every start method but fork, as on Windows
HIDE_FORK = """\
import multiprocessing

_methods = multiprocessing.get_all_start_methods
multiprocessing.get_all_start_methods = lambda: [m for m in _methods() if m != "fork"]
"""


def _without_fork(tmp_path: Path, *argv: str) -> subprocess.CompletedProcess[str]:
    (tmp_path / "sitecustomize.py").write_text(HIDE_FORK, encoding="utf-8")
    path = os.pathsep.join([str(tmp_path), str(ROOT), os.environ.get("PYTHONPATH", "")])
    return subprocess.run(
        [sys.executable, *argv],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": path},
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_gilcompare_run_skips_fork_models_with_the_reason(tmp_path: Path) -> None:
    """Without fork the fork models are skipped saying so; threads still measure."""
    done = _without_fork(
        tmp_path, "-m", "gilcompare", "run", "--workload", "count", "--workers", "2",
        "--model", ",".join(("threads", "processes-spawn", *FORK_MODELS)),
        "--profile", "tiny", "--repeat", "1", "--json", "--quiet",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    records = {r["model"]: r for r in json.loads(done.stdout)}
    for name in FORK_MODELS:
        assert records[name]["status"] == "skipped"
        assert records[name]["reason"].startswith("start method 'fork' is not available on")
    assert records["threads"]["status"] == records["processes-spawn"]["status"] == "ok"


def test_the_asv_grids_and_capacity_skip_fork_with_the_reason(tmp_path: Path) -> None:
    """Without fork a grid's fork cells are skipped (asv's NotImplementedError), the noise
    gauge says why it has no reading, and the capacity track is skipped, not crashed."""
    code = """
import json
from gilcompare.asv import grids, machine
grid = grids.scaling_grid(["count"], ["threads", "processes-fork"], [2], rounds=1)
try:
    grid.cell("count", "processes-fork", 2)
    skipped = ""
except NotImplementedError as exc:
    skipped = str(exc)
try:
    machine.parallel_capacity(units=2, pairs=1)
    capacity = ""
except NotImplementedError as exc:
    capacity = str(exc)
print(json.dumps({"skipped": skipped, "threads": grid.cell("count", "threads", 2).status,
                  "gauge": grid.gauge_reason, "capacity": capacity}))
"""
    done = _without_fork(tmp_path, "-c", code)
    assert done.returncode == 0, done.stderr
    found = json.loads(done.stdout.strip().splitlines()[-1])
    reason = "start method 'fork' is not available on"
    assert found["threads"] == "ok"
    assert found["skipped"].startswith(reason) and found["gauge"].startswith(reason)
    assert found["capacity"].startswith(reason)


def test_fork_is_unsafe_on_macos(monkeypatch: pytest.MonkeyPatch) -> None:
    """On macOS fork is listed but unsafe: the fork models say so; spawn still runs."""
    monkeypatch.setattr(sys, "platform", "darwin")
    count = get_workload("count")
    for name in FORK_MODELS:
        reason = get_model(name).cannot_run(count)
        assert reason is not None and "unsafe on macOS" in reason and "spawn" in reason
    assert get_model("processes-spawn").cannot_run(count) is None


def test_spawn_stands_for_the_processes_where_fork_cannot_run(tmp_path: Path) -> None:
    """Without fork the asv grids measure processes with spawn, and fork stays at the spot
    (skipped there with its reason); with fork the grids are the committed ones."""
    code = (
        "import json, benchmarks.cpu as c\n"
        "print(json.dumps([list(c.Scaling.params[1]), list(c.WarmSpot.params[1])]))\n"
    )
    done = _without_fork(tmp_path, "-c", code)
    assert done.returncode == 0, done.stderr
    grid, spot = json.loads(done.stdout)
    assert grid == ["serial", "threads", "processes-spawn", "subinterpreters", "asyncio"]
    assert "processes-fork" in spot and "processes-spawn" in spot
    from gilcompare.asv import suite
    from gilcompare.models.base import start_method_unavailable

    if start_method_unavailable("fork") is None:  # here, as on the machine of the results
        assert suite.GRID_MODELS == ("threads", "processes-fork", "subinterpreters", "asyncio")

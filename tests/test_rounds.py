"""Tests for the rounds the asv grids keep beside results/: every cell's paired timings and
the noise gauge read in the same rounds (gilcompare.asv.grids, gilcompare.asv.machine)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from gilcompare.asv import grids, machine
from gilcompare.measure.conditions import python_tag


@pytest.fixture
def tiny(monkeypatch: pytest.MonkeyPatch) -> None:
    """The grid runs the tiny profile and the rounds it is asked for."""
    monkeypatch.setattr(grids, "ASV_PROFILE", "tiny")
    monkeypatch.delenv("GILCOMPARE_ROUNDS", raising=False)


def test_the_gauge_reads_once_per_round(tiny: None) -> None:
    """One gauge reading per round of the grid, each a two-process capacity (about 2 on two
    idle cores, never above the two processes it ran)."""
    grid = grids.scaling_grid(["sleep"], ["threads"], [1, 2], rounds=3)
    assert len(grid.gauge) == 3 and not grid.gauge_reason
    assert all(0 < reading <= 2.5 for reading in grid.gauge)


def test_the_gauge_says_why_it_cannot_read(tiny: None, monkeypatch: pytest.MonkeyPatch) -> None:
    """Without fork (macOS spawn-only, Windows) the gauge reads nothing and says why; the
    cells are measured all the same."""
    real = machine.get_model

    class NoFork:
        def __init__(self, model):
            self.model = model

        def cannot_run(self, workload):
            return "fork is not available on this platform"

    monkeypatch.setattr(machine, "get_model", lambda name: NoFork(real(name)))
    grid = grids.scaling_grid(["sleep"], ["threads"], [2], rounds=2)
    assert grid.gauge == [] and grid.gauge_reason == "fork is not available on this platform"
    assert grid.cell("sleep", "threads", 2).speedup is not None


def test_rounds_are_kept_for_a_bench_run(tiny: None, tmp_path: Path) -> None:
    """Under `nox -s bench` (a rounds folder and asv's commit) every cell's paired timings and
    the gauge are written per commit, build and class; outside it nothing is written."""
    grid = grids.scaling_grid(["sleep"], ["threads", "serial"], [2], rounds=2)
    assert grids.keep_rounds(grid, "io_bound.Scaling", {}) is None
    environ = {grids.ROUNDS_DIR: str(tmp_path), "ASV_COMMIT": "c" * 40, "PYTHON_GIL": "1"}
    path = grids.keep_rounds(grid, "io_bound.Scaling", environ)
    assert path == tmp_path / ("c" * 40) / f"{python_tag()}+gil" / "io_bound.Scaling.jsonl"
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    assert lines[0] == {"kind": "gauge", "processes": 2, "readings": grid.gauge}
    cells = {(c["model"], c["workers"]): c for c in lines[1:]}
    assert set(cells) == {("threads", 2), ("serial", 2)}
    threads = grid.cell("sleep", "threads", 2)
    assert cells["threads", 2]["times"] == threads.times
    assert cells["threads", 2]["serial_times"] == threads.serial_times
    assert cells["threads", 2]["speedup"] == threads.speedup
    assert [p.name for p in path.parent.iterdir()] == [path.name]  # no staging file left

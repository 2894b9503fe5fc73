"""Tests for the rounds the asv grids keep beside results/: every cell's paired timings and
the noise gauge read in the same rounds (gilcompare.asv.grids, gilcompare.asv.machine)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from gilcompare.asv import grids
from gilcompare.measure import gauge as gauge_module
from gilcompare.measure.conditions import python_tag
from gilcompare.measure.sizing import capacity_processes, usable_cpus


@pytest.fixture
def tiny(monkeypatch: pytest.MonkeyPatch) -> None:
    """The grid runs the tiny profile and the rounds it is asked for."""
    monkeypatch.setattr(grids, "ASV_PROFILE", "tiny")
    monkeypatch.delenv("GILCOMPARE_ROUNDS", raising=False)


def test_the_gauge_reads_once_per_round(tiny: None) -> None:
    """One gauge reading per round of the grid, each a two-process capacity: a positive ratio
    (about 2 on two idle cores; a loaded test host moves it either way)."""
    grid = grids.scaling_grid(["sleep"], ["threads"], [1, 2], rounds=3)
    assert len(grid.gauge) == 3 and not grid.gauge_reason
    assert all(0 < reading < 10 for reading in grid.gauge)


def test_the_gauge_says_why_it_cannot_read(tiny: None, monkeypatch: pytest.MonkeyPatch) -> None:
    """Without fork (macOS spawn-only, Windows) the gauge reads nothing and says why; the
    cells are measured all the same."""
    real = gauge_module.get_model

    class NoFork:
        def __init__(self, model):
            self.model = model

        def cannot_run(self, workload):
            return "fork is not available on this platform"

    monkeypatch.setattr(gauge_module, "get_model", lambda name: NoFork(real(name)))
    grid = grids.scaling_grid(["sleep"], ["threads"], [2], rounds=2)
    assert grid.gauge == [] and grid.gauge_reason == "fork is not available on this platform"
    assert grid.cell("sleep", "threads", 2).speedup is not None


def test_rounds_are_kept_for_a_bench_run(tiny: None, tmp_path: Path) -> None:
    """Under `nox -s bench` (a rounds folder named after the commit) every cell's paired
    timings and the gauge are written per build and class; outside it nothing is written."""
    grid = grids.scaling_grid(["sleep"], ["threads", "serial"], [2], rounds=2)
    assert grids.keep_rounds(grid, "io_bound.Scaling", {}) is None
    environ = {grids.ROUNDS_DIR: str(tmp_path / ("c" * 40)), "PYTHON_GIL": "1"}
    path = grids.keep_rounds(grid, "io_bound.Scaling", environ)
    assert path == tmp_path / ("c" * 40) / f"{python_tag()}+gil" / "io_bound.Scaling.jsonl"
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    # the gauge sets as many busy processes as the usable CPUs (at least two) against one
    processes = capacity_processes()
    gauge = {"kind": "gauge", "processes": processes, "readings": grid.gauge}
    assert lines[0] == {**gauge, "cpu_usable": usable_cpus()}
    cells = {(c["model"], c["workers"]): c for c in lines[1:]}
    assert set(cells) == {("threads", 2), ("serial", 2)}
    threads = grid.cell("sleep", "threads", 2)
    assert cells["threads", 2]["times"] == threads.times
    assert cells["threads", 2]["serial_times"] == threads.serial_times
    assert cells["threads", 2]["speedup"] == threads.speedup
    assert [p.name for p in path.parent.iterdir()] == [path.name]  # no staging file left


def _kept(
    results: Path, commit: str, build: str, cells: dict, gauge: list[float], **extra: object
) -> None:
    """The rounds `nox -s bench` keeps for one build's cpu.Scaling grid."""
    path = results / "box" / "rounds" / commit / build / "cpu.Scaling.jsonl"
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = [{"kind": "gauge", "processes": 2, "readings": gauge, **extra}]
    for (model, workers), (serial, times) in cells.items():
        lines.append(
            {
                "kind": "cell",
                "workload": "count",
                "model": model,
                "workers": workers,
                "status": "ok",
                "serial_times": serial,
                "times": times,
            }
        )
    path.write_text("".join(json.dumps(line) + "\n" for line in lines))


@pytest.fixture
def results(tmp_path: Path) -> Path:
    """Two runs of 3.12 on machine 'box' (the asv files of tests/test_asv_results.py)."""
    box = tmp_path / "box"
    box.mkdir()
    (box / "machine.json").write_text(json.dumps({"machine": "box"}))
    params = [["'count'"], ["'threads'", "'processes-fork'"], ["1", "2"]]
    for commit, date, fork in (("a" * 40, 1_000, 1.9), ("b" * 40, 2_000, 1.5)):
        data = {
            "commit_hash": commit,
            "env_name": "virtualenv-py3.12",
            "date": date,
            "python": "3.12",
            "env_vars": {},
            "result_columns": ["result", "params", "version", "started_at", "duration"],
            "results": {
                "cpu.Scaling.track_speedup": [[1.0, 0.98, 1.0, fork], params, "v", 0, 1.0],
                "cpu.Machine.track_parallel_capacity": [[1.9], [], "v", 0, 1.0],
            },
        }
        (box / f"{commit[:8]}-virtualenv-py3.12.json").write_text(json.dumps(data))
    return tmp_path


QUIET = [1.9, 2.0, 1.95, 1.98, 1.97]


def test_results_print_each_interval_and_the_gauge(
    results: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Each speedup with its rounds gets ±, the larger side of its 95 % interval; the gauge
    row gives the median reading, and a quiet gauge flags nothing."""
    from gilcompare.cli import main
    from gilcompare.measure import engine

    fork = ([0.3] * 4, [0.2, 0.21, 0.2, 0.19])  # median ratio 1.5, as asv recorded
    _kept(results, "b" * 40, "3.12", {("processes-fork", 2): fork}, QUIET)
    assert main(["results", str(results)]) == 0
    out = capsys.readouterr().out
    ratio = engine.ratio(*fork)
    assert ratio.value == pytest.approx(1.5)
    spread = max(ratio.value / ratio.low, ratio.high / ratio.value) - 1
    row = next(line for line in out.splitlines() if "processes-fork" in line)
    assert row.split()[-1] == f"{ratio.value:.3f}±{spread * 100:.0f}%"
    gauge = next(line for line in out.splitlines() if "gauge in the rounds" in line)
    assert gauge.split()[-1] == "1.970"
    assert "noisy host" not in out.replace("! = noisy host", "")


def test_a_gauge_below_80_percent_flags_a_noisy_host(
    results: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A host that lent about one core of two (the gauge reading 1.3) is named."""
    from gilcompare.cli import main

    _kept(results, "b" * 40, "3.12", {}, [1.3, 1.25, 1.6, 1.35, 1.2])
    assert main(["results", str(results)]) == 0
    out = capsys.readouterr().out
    assert "1.300!" in out
    assert "noisy host on 3.12: the gauge read below 80% of its CPUs in cpu.Scaling 1.30" in out


def test_a_one_cpu_run_whose_gauge_reads_one_is_not_noisy(
    results: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Under taskset -c 0 the gauge's two processes share one CPU: about 1 is all a quiet
    host can lend them, and the run is not flagged; a cpu_usable that is no count is refused."""
    from gilcompare.cli import main

    _kept(results, "b" * 40, "3.12", {}, [0.99, 1.0, 0.98], cpu_usable=1)
    assert main(["results", str(results)]) == 0
    out = capsys.readouterr().out
    assert "0.990" in out and "0.990!" not in out and "noisy host on" not in out
    _kept(results, "b" * 40, "3.12", {}, [0.99, 1.0, 0.98], cpu_usable="one")
    assert main(["results", str(results)]) == 2
    assert "cpu_usable is not a positive count" in capsys.readouterr().err


def test_against_names_the_cells_whose_intervals_do_not_overlap(
    results: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Between two runs, a cell whose intervals part is named; one whose intervals overlap,
    though its median moved, is not."""
    from gilcompare.cli import main

    steady = ([0.2] * 5, [0.1, 0.104, 0.098, 0.101, 0.103])
    wobbly = ([0.2] * 5, [0.1, 0.2, 0.12, 0.15, 0.11])
    _kept(results, "a" * 40, "3.12", {("processes-fork", 2): steady, ("threads", 2): wobbly}, QUIET)
    slower = ([0.2] * 5, [0.133, 0.136, 0.131, 0.134, 0.13])
    wobbly2 = ([0.2] * 5, [0.12, 0.19, 0.1, 0.16, 0.14])
    _kept(
        results, "b" * 40, "3.12", {("processes-fork", 2): slower, ("threads", 2): wobbly2}, QUIET
    )
    assert main(["results", str(results), "--against", "aaaa"]) == 0
    out = capsys.readouterr().out
    assert "changed cells: 1 of 2 speedups (50.0%) whose two 95 % intervals do not overlap" in out
    changed = [line for line in out.splitlines() if "cpu.Scaling" in line]
    assert len(changed) == 1 and "processes-fork" in changed[0]
    assert main(["results", str(results), "--against", "aaaa", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["compared"] == 2 and [c["model"] for c in data["changed"]] == ["processes-fork"]


def test_a_corrupt_rounds_file_is_one_line(
    results: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Rounds that are not what the session writes: exit 2, one line naming the file."""
    from gilcompare.cli import main

    _kept(results, "b" * 40, "3.12", {("threads", 2): ([0.2], [0.1])}, QUIET)
    path = results / "box" / "rounds" / ("b" * 40) / "3.12" / "cpu.Scaling.jsonl"
    path.write_text(path.read_text().replace("[0.1]", '["x"]'))
    assert main(["results", str(results)]) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and str(path) in err

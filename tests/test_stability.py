"""Tests for gilcompare.asv.stability and `gilcompare results --against`: two runs of the suite
compared value by value, and what each cost."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from gilcompare.asv import bench, stability
from gilcompare.asv import results as asvresults
from gilcompare.cli import main

COLUMNS = ["result", "params", "version", "started_at", "duration"]
SCALING = [["'count'"], ["'threads'", "'processes-fork'"], ["1", "2"]]
TIMED = [["'count'"], ["'threads'", "'processes-fork'"]]


def _write(folder: Path, commit: str, date: int, speedups: list[Any], times: list[Any]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "machine.json").write_text(json.dumps({"machine": folder.name}))
    data = {
        "commit_hash": commit,
        "env_name": "virtualenv-py3.12",
        "date": date,
        "python": "3.12",
        "env_vars": {},
        "result_columns": COLUMNS,
        "results": {
            "cpu.Scaling.track_speedup": [speedups, SCALING, "v", 0, 30.0],
            "cpu.Warm.time_tasks": [times, TIMED, "v", 0, 30.0],
            "cpu.Machine.track_parallel_capacity": [[1.9], [], "v", 0, None],
        },
        "durations": {"<build>": 60.0},
    }
    (folder / f"{commit[:8]}-virtualenv-py3.12.json").write_text(json.dumps(data))


@pytest.fixture
def results(tmp_path: Path) -> Path:
    """Two runs on 3.12: one speedup moved by 10%, one time by 50%, one cell skipped once."""
    _write(tmp_path / "box", "a" * 40, 1_000, [1.0, 0.5, 1.0, 1.5], [0.1, 0.2])
    _write(tmp_path / "box", "b" * 40, 2_000, [1.0, 0.55, 1.0, None], [0.1, 0.3])
    return tmp_path


def test_changes_pair_the_same_cells(results: Path) -> None:
    first = asvresults.pick_run(results, commit="a")
    second = asvresults.pick_run(results, commit="b")
    env, everything = stability.compare_runs(first, second)
    assert env["environment"] == "3.12" and everything["environment"] == stability.ALL
    # three speedups both runs measured: 0%, 10%, 0% (the skipped cell is left out)
    assert env["speedup"]["n"] == 3
    assert env["speedup"]["median"] == 0.0
    assert env["speedup"]["p90"] == pytest.approx(0.08)
    assert env["time"]["n"] == 2 and env["time"]["median"] == pytest.approx(0.25)
    # the signed changes: 0 and +50%, a second run slower by a quarter at the median
    assert env["time"]["drift"] == pytest.approx(0.25)
    assert env["speedup"]["drift"] == pytest.approx(0.0)
    # build 60 s + two benchmarks of 30 s (the capacity recorded no duration)
    assert env["minutes"] == [pytest.approx(2.0), pytest.approx(2.0)]
    assert everything["speedup"] == env["speedup"] and everything["minutes"][0] == 2.0


def test_p90_of_one_value_is_that_value() -> None:
    assert stability.p90([0.3]) == 0.3
    assert stability.p90([0.0, 0.0, 0.0, 0.1]) == pytest.approx(0.07)


def test_only_times_and_speedups_count() -> None:
    assert stability.is_time("probes.ColdStart.timeraw_start")
    assert stability.is_time("cpu.Warm.time_tasks")
    assert not stability.is_time("cpu.Gil.track_gil_enabled")
    assert not stability.is_time(
        "probes.TransferPickle.track_seconds"
    )  # a probe's, not a task list's
    for method in stability.GRID_TIMES:  # every grid gives its workloads' times
        assert stability.is_time(f"shared_objects.Scaling.{method}")
        assert callable(getattr(bench.Scaling, method))
    assert stability.is_speedup("cpu.Scaling.track_speedup")
    assert not stability.is_speedup("cpu.Scaling.track_efficiency")


def test_results_against_prints_both_runs(
    results: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["results", str(results), "--against", "aaa"]) == 0
    out = capsys.readouterr().out
    assert "aaaaaaaa" in out and "bbbbbbbb" in out
    assert "3.12" in out and "all" in out and "8.0%" in out and "45.0%" in out
    assert "+25.0%" in out  # the times' drift
    assert main(["results", str(results), "--against", "aaa", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)["rows"]
    assert rows[-1]["time"]["p90"] == pytest.approx(0.45)


@pytest.mark.parametrize(
    "args,message",
    [
        (["--against", "bbb"], "names the run being shown"),
        (["--against", "ccc"], "no single run for commit 'ccc'"),
    ],
)
def test_bad_against_is_one_line(
    results: Path, capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    assert main(["results", str(results), *args]) == 2
    err = capsys.readouterr().err.strip()
    assert message in err and len(err.splitlines()) == 1


def _speed(results: Path, commit: str, before: Any, after: Any = None) -> None:
    """A provenance file whose run read the host's speed before it (and after)."""
    host = {"host": "box", "cpu_model": "Test CPU", "cpu_usable": 2, "load": [0.1]}
    run = {"kind": "run", "commit": commit, "host_before": host}
    run.update(speed_before=before, speed_after=after)
    path = results / "box" / "provenance" / f"{commit}.jsonl"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(run) + "\n")


def _loop(seconds: float, python: str = "3.11.7") -> dict[str, Any]:
    return {"python": python, "loop_s": seconds, "capacity": 1.95, "cpus": 2}


@pytest.mark.parametrize(
    "second,expected",
    [
        (
            _loop(0.052),
            "host speed: the reference loop took 0.050 s before the first run and "
            "0.052 s before the second (1.04×, within 10%): their times compare",
        ),
        (
            _loop(0.080),
            "warning: the host changed between the runs: the host ran the reference "
            "loop in 0.080 s against 0.050 s (1.60×), so times will not compare",
        ),
        (_loop(0.080, "3.12.1"), "host speed: the runs read it on different Pythons"),
        ({"loop_s": "fast"}, None),
    ],
)
def test_against_says_whether_the_host_ran_as_fast_before_both_runs(
    results: Path, capsys: pytest.CaptureFixture[str], second: Any, expected: str | None
) -> None:
    """A slower host moves every time of the second run: `--against` says so from the speed
    each run read before it started, and says nothing where a run did not read it."""
    _speed(results, "a" * 40, _loop(0.050))
    _speed(results, "b" * 40, second)
    assert main(["results", str(results), "--against", "aaa"]) == 0
    lines = [line for line in capsys.readouterr().out.splitlines() if "host" in line]
    if expected is None:
        assert lines == []
    else:
        assert len(lines) == 1 and lines[0].startswith(expected), lines
    assert main(["results", str(results), "--against", "aaa", "--json"]) == 0
    host = json.loads(capsys.readouterr().out)["host"]
    assert (host is None) if expected is None else host.startswith(expected)

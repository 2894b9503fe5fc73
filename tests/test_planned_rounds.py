"""Rounds planned from a pilot: how many, Stein's interval, and where `run` and the grids use it."""

from __future__ import annotations

import datetime as dt
import json
import math
import random
import statistics
import subprocess
import sys
from pathlib import Path

import pytest

from gilcompare.asv import grids, rounds
from gilcompare.asv.results import Run
from gilcompare.errors import UsageError
from gilcompare.measure import engine
from gilcompare.measure.cells import Cell, measure


def _times(logs: list[float]) -> tuple[list[float], list[float]]:
    """Serial and model timings whose per-round log ratios are ``logs``."""
    return [math.exp(x) for x in logs], [1.0] * len(logs)


def test_a_tight_pilot_plans_no_more_and_a_wide_one_plans_by_the_formula() -> None:
    """n = (t(k-1) · s_k / ln(1 + target))², rounded up, between the pilot and the cap."""
    tight = _times([0.001, -0.001, 0.0, 0.002, -0.002])
    assert engine.rounds_needed(*tight, target=0.04) == 5
    logs = [0.05, -0.05, 0.0, 0.04, -0.04]
    wide = _times(logs)
    expected = math.ceil((2.776 * statistics.stdev(logs) / math.log(1.04)) ** 2)
    assert expected > 5
    assert engine.rounds_needed(*wide, target=0.04) == expected
    assert engine.rounds_needed(*wide, target=0.04, most=7) == 7
    assert engine.rounds_needed(*wide, target=0.0) == 5  # no target: no plan
    assert engine.rounds_needed(*_times([0.3]), target=0.04) == 1  # one round: no spread


def test_steins_interval_takes_the_spread_from_the_pilot_only() -> None:
    """The later rounds move the centre and shrink the interval by √n, never its spread."""
    pilot = [0.05, -0.05, 0.0, 0.04, -0.04]
    later = [0.0] * 11  # rounds that agree perfectly would make a naive interval too narrow
    serial, model = _times(pilot + later)
    stein = engine.ratio(serial, model, pilot=5)
    naive = engine.ratio(serial, model)
    assert stein is not None and naive is not None
    half = 2.776 * statistics.stdev(pilot) / math.sqrt(16)
    assert stein.low == pytest.approx(math.exp(-half)) and stein.high == pytest.approx(
        math.exp(half)
    )
    assert stein.pilot == 5 and stein.rounds == 16 and stein.record()["pilot"] == 5
    assert naive.half_width is not None and stein.half_width is not None
    assert naive.half_width < stein.half_width
    # a pilot as long as the rounds is the plain interval
    assert engine.ratio(*_times(pilot), pilot=5) == engine.ratio(*_times(pilot))


def _coverage(sigma: float, stein: bool, trials: int, rng: random.Random) -> float:
    """How often the interval of a cell planned from a 5-round pilot (target ±4 %, at most
    20 rounds) holds the true ratio, 1, when the rounds' log ratios are normal."""
    held = 0
    for _ in range(trials):
        logs = [rng.gauss(0.0, sigma) for _ in range(5)]
        n = engine.rounds_needed(*_times(logs), target=0.04, most=20)
        logs += [rng.gauss(0.0, sigma) for _ in range(n - 5)]
        est = engine.ratio(*_times(logs), pilot=5 if stein else 0)
        assert est is not None and est.low is not None and est.high is not None
        held += est.low <= 1.0 <= est.high
    return held / trials


@pytest.mark.parametrize("sigma", [0.02, 0.05, 0.08])
def test_planned_rounds_keep_95_percent_coverage(sigma: float) -> None:
    """Stein's interval covers 95 % whatever the pilot planned; recomputing the spread from
    every round after stopping on it covers less where the plan bites (σ about 5 %)."""
    rng = random.Random(20261205)
    trials = 4000
    covered = _coverage(sigma, True, trials, rng)
    assert abs(covered - 0.95) < 3.5 * math.sqrt(0.95 * 0.05 / trials)
    if sigma == 0.05:
        assert _coverage(sigma, False, trials, rng) < 0.94


def test_a_cell_with_a_precision_takes_the_rounds_its_pilot_plans() -> None:
    """An impossible precision runs to the cap and says the interval is Stein's; without one
    the cell takes exactly its repeats."""
    planned = measure(
        Cell("count", "threads", 2, profile="tiny", repeat=2, precision=1e-6, max_repeat=4)
    )
    assert planned.status == "ok" and len(planned.times) == len(planned.serial_times) == 4
    assert planned.rounds == 4 and planned.pilot == 2 and "Stein" in planned.interval
    fixed = measure(Cell("count", "threads", 2, profile="tiny", repeat=2))
    assert len(fixed.times) == 2 and fixed.pilot == 0 and "Stein" not in fixed.interval


def test_cell_rejects_a_bad_precision_or_cap() -> None:
    with pytest.raises(ValueError, match="precision"):
        Cell("count", "threads", 2, precision=1.5).validate()
    with pytest.raises(ValueError, match="max_repeat"):
        Cell("count", "threads", 2, repeat=5, max_repeat=3).validate()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--precision", "x"], "--precision must be a percentage"),
        (["--precision", "100"], "--precision must be a percentage"),
        (["--precision", "nan"], "--precision must be a percentage"),
        (["--max-repeat", "3"], "--max-repeat must be at least --repeat (5)"),
        (["--max-repeat", "0"], "--max-repeat must be an integer of at least 1"),
    ],
)
def test_run_refuses_a_bad_plan_in_one_line(args: list[str], message: str) -> None:
    cmd = [sys.executable, "-m", "gilcompare", "run", "--workload", "count", "--model", "threads"]
    proc = subprocess.run([*cmd, *args], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2 and message in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1 and "Traceback" not in proc.stderr


def test_run_shows_the_rounds_each_speedup_took() -> None:
    cmd = [sys.executable, "-m", "gilcompare", "run", "--workload", "count", "--quiet"]
    cmd += ["--model", "threads", "--workers", "2", "--profile", "tiny", "--repeat", "2"]
    proc = subprocess.run(
        [*cmd, "--precision", "0.0001", "--max-repeat", "3", "--json"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    threads = next(r for r in json.loads(proc.stdout) if r["model"] == "threads")
    assert len(threads["times"]) == threads["rounds"] == 3 and threads["pilot"] == 2
    table = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert table.returncode == 0 and "rounds" in table.stdout.splitlines()[0]


def test_a_grid_plans_rounds_for_its_wide_cells_only() -> None:
    """After the pilot, only a cell whose interval is too wide takes more turns, up to the
    cap; it records its pilot, and the rounds file gives it Stein's interval."""
    grid = grids.scaling_grid(
        ["sleep"], ["threads"], [1, 2], rounds=2, precision=1e-6, most_rounds=3
    )
    for n in (1, 2):
        cell = grid.cell("sleep", "threads", n)
        assert len(cell.times) == len(cell.serial_times) == 3 and cell.pilot == 2


def test_a_grid_gives_more_rounds_to_the_wide_cell_and_none_to_the_tight_one(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Which cells take more turns depends on their pilots alone: timings are set here, so
    that a host's noise cannot make the steady cell wide."""
    ratios = {1: [2.0, 2.0, 2.0], 2: [1.0, 2.0, 1.5, 1.2, 1.8, 1.4]}  # by worker count

    def visit(cell: grids.GridResult, round_: int, paired: bool = True) -> None:
        cell.serial_times.append(ratios[cell.workers][round_])
        cell.times.append(1.0)

    monkeypatch.setattr(grids, "visit", visit)
    grid = grids.scaling_grid(
        ["count"], ["threads"], [1, 2], rounds=2, precision=0.05, most_rounds=6
    )
    steady, wide = grid.cell("count", "threads", 1), grid.cell("count", "threads", 2)
    assert len(steady.times) == 2 and steady.pilot == 0
    assert len(wide.times) == len(wide.serial_times) == 6 and wide.pilot == 2


def test_the_rounds_file_carries_the_pilot(tmp_path: Path) -> None:
    run = Run(machine="vm", commit="abc", date=dt.datetime(2026, 12, 5))
    base = rounds.folder(tmp_path, run) / "3.14"
    base.mkdir(parents=True)
    serial, model = _times([0.05, -0.05, 0.0, 0.0, 0.0, 0.0])
    cell = {"kind": "cell", "workload": "count", "model": "threads", "workers": 2}
    cell.update(status="ok", serial_times=serial, times=model, pilot=2)
    (base / "cpu.Scaling.jsonl").write_text(json.dumps(cell) + "\n")
    found = rounds.load(tmp_path, run)
    ratio = found["3.14"].intervals[("cpu.Scaling", "count", "threads", 2)]
    assert ratio == engine.ratio(serial, model, pilot=2) and ratio.pilot == 2
    (base / "cpu.Scaling.jsonl").write_text(json.dumps({**cell, "pilot": "two"}) + "\n")
    with pytest.raises(UsageError, match="pilot"):
        rounds.load(tmp_path, run)


def test_a_commit_names_its_run_among_several_machines() -> None:
    """The committed results hold two machines (vm, box): a commit only one of them measured
    picks that one's run; no commit, or an unknown one, still asks which machine."""
    from gilcompare.asv import results as asvresults

    here = Path(__file__).resolve().parent.parent / "results"
    assert {"vm", "box"} <= set(asvresults.machines(here))
    assert asvresults.pick_run(here, None, "5130d253").machine == "box"
    assert asvresults.pick_run(here, None, "f722424d").machine == "vm"
    with pytest.raises(UsageError, match="several machines"):
        asvresults.pick_run(here)

"""Tests for gilcompare.measure.engine: the one estimator behind every speedup."""

from __future__ import annotations

import statistics

import pytest

from gilcompare.asv import grids
from gilcompare.measure import engine
from gilcompare.measure.cells import Cell, measure


def test_speedup_is_the_median_of_paired_ratios() -> None:
    """One disturbed round moves a mean of ratios and a ratio of medians; not this."""
    serial = [2.0, 2.0, 2.0, 2.0, 9.0]
    model = [1.0, 1.0, 1.0, 1.0, 1.0]
    assert engine.speedup(serial, model) == 2.0
    # pairing matters: the same timings paired otherwise give another estimate
    assert engine.speedup([2.0, 3.0, 9.0], [1.0, 4.0, 1.0]) == 2.0
    assert engine.speedup([2.0, 3.0, 9.0], [4.0, 1.0, 1.0]) == 3.0
    assert engine.relative_time(model, serial) == 0.5
    assert engine.speedup([], []) is None


def test_rounds_must_pair_up() -> None:
    """Timings that do not pair round by round are a bug, not a number."""
    with pytest.raises(ValueError, match="pair up"):
        engine.speedup([1.0, 2.0], [1.0])


def test_order_alternates() -> None:
    """Neither side always runs first."""
    assert [engine.candidate_first(r) for r in range(4)] == [True, False, True, False]


def test_gil_in_workers_is_any_worker() -> None:
    """One worker with the GIL on is enough to say the GIL was on; no worker says nothing."""
    assert engine.gil_in_workers([{"gil_enabled": False}, {"gil_enabled": True}]) is True
    assert engine.gil_in_workers([{"gil_enabled": False}] * 2) is False
    assert engine.gil_in_workers([]) is None


def test_ideal() -> None:
    """Waiting work is bounded by the workers, CPU work by the cores too."""
    assert engine.ideal_speedup(False, 8, 2) == 2
    assert engine.ideal_speedup(True, 8, 2) == 8


def test_cli_and_asv_grid_give_the_same_speedup_on_the_same_timings() -> None:
    """`gilcompare run` (measure) and the asv grids (gilcompare.asv.grids) estimate with one
    function."""
    result = measure(Cell("count", "threads", 2, profile="tiny", repeat=3))
    assert result.status == "ok" and result.rounds == 3
    assert result.estimator == engine.ESTIMATOR
    # the estimate worked out here, from the timings, as the median of per-round ratios
    ratios = [s / t for s, t in zip(result.serial_times, result.times)]
    expected = statistics.median(ratios)
    assert result.speedup == pytest.approx(expected)
    assert result.efficiency == pytest.approx(expected / result.ideal)
    cell = grids.GridResult("count", "threads", 2, ideal=result.ideal)
    cell.serial_times, cell.times = list(result.serial_times), list(result.times)
    grids._speedup(cell)
    assert cell.speedup == pytest.approx(expected, abs=1e-4)
    assert cell.efficiency == pytest.approx(expected / result.ideal, abs=1e-4)
    # and not the old ratio of medians, which these skewed timings tell apart
    skewed = grids.GridResult("count", "threads", 2, ideal=2)
    skewed.serial_times, skewed.times = [2.0, 3.0, 9.0], [1.0, 4.0, 1.0]
    grids._speedup(skewed)
    assert skewed.speedup == 2.0  # the ratio of medians would say 3.0


def test_control_times_serial_against_serial() -> None:
    """The A/A control is paired like any model, so its ratio is near 1 and it says so."""
    r = measure(Cell("count", "serial", 2, profile="tiny", repeat=3, control=True))
    assert r.status == "ok" and r.control and len(r.serial_times) == 3
    assert r.speedup is not None and 0.5 < r.speedup < 2.0
    with pytest.raises(ValueError, match="serial"):
        Cell("count", "threads", 2, control=True).validate()

"""Tests for gilcompare.measure.paired: the one loop that times a candidate beside its
reference."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from gilcompare.measure import paired
from gilcompare.measure.paired import PairedTimes


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """A clock that only the timed functions move."""
    now = [0.0]
    monkeypatch.setattr(paired, "time", SimpleNamespace(perf_counter=lambda: now[0]))
    return now


def test_in_order_alternates_and_keeps_every_entry() -> None:
    """Even rounds run the entries as given, odd rounds reversed, every one each round."""
    assert paired.in_order(0, "abc") == ["a", "b", "c"]
    assert paired.in_order(1, "abc") == ["c", "b", "a"]
    assert paired.in_order(2, iter("ab")) == ["a", "b"]


def test_a_round_times_both_sides_back_to_back_in_alternating_order(
    clock: list[float],
) -> None:
    """The candidate runs first on even rounds, second on odd ones; each side keeps its own
    seconds and gives back what it returned."""
    ran: list[str] = []

    def side(name: str, seconds: float) -> object:
        def run() -> str:
            ran.append(name)
            clock[0] += seconds
            return name.upper()

        return run

    times = PairedTimes()
    for round_ in range(3):
        outs = times.round(round_, side("model", 1.0), side("serial", 3.0))
        assert outs == ("MODEL", "SERIAL")
    assert ran == ["model", "serial", "serial", "model", "model", "serial"]
    assert times.candidate == [1.0] * 3 and times.reference == [3.0] * 3
    assert times.speedup() == 3.0 and times.speedup(scale=2) == 6.0
    ratio = times.ratio()
    assert ratio is not None and ratio.value == 3.0 and ratio.rounds == 3


def test_a_round_without_reference_times_the_candidate_alone(clock: list[float]) -> None:
    """An unpaired measurement has no reference timings: a paired speedup of it is refused."""

    def run() -> int:
        clock[0] += 0.5
        return 7

    times = PairedTimes()
    assert times.round(1, run, None) == (7, None)
    assert times.candidate == [0.5] and times.reference == []
    with pytest.raises(ValueError, match="pair up"):
        times.speedup()


def test_paired_times_append_to_the_lists_they_are_given(clock: list[float]) -> None:
    """A result's own timing lists fill as the rounds run (run's cells, the asv grids)."""
    model: list[float] = [9.0]
    serial: list[float] = [9.0]
    PairedTimes(model, serial).round(0, lambda: None, lambda: None)
    assert model == [9.0, 0.0] and serial == [9.0, 0.0]


def test_run_the_asv_grids_and_the_capacity_all_time_through_this_loop(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """`run`'s cells, an asv grid's visit and the capacity (the gauge) each go through
    PairedTimes.round: no other loop times a pair."""
    from gilcompare.asv import grids, machine
    from gilcompare.measure.cells import Cell, measure

    rounds: list[int] = []
    real = PairedTimes.round

    def spy(self: PairedTimes, round_: int, candidate: object, reference: object) -> object:
        rounds.append(round_)
        return real(self, round_, candidate, reference)  # type: ignore[arg-type]

    monkeypatch.setattr(PairedTimes, "round", spy)
    result = measure(Cell("count", "threads", 2, profile="tiny", repeat=3))
    assert rounds == [0, 1, 2] and result.rounds == 3
    rounds.clear()
    cell = grids.GridResult("count", "threads", 2, ideal=2)
    grids.visit(cell, 1)
    assert rounds == [1] and len(cell.times) == len(cell.serial_times) == 1
    rounds.clear()
    assert machine.parallel_capacity(units=1, pairs=2) > 0
    assert rounds == [0, 1]

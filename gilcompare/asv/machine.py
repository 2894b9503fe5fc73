"""What the machine gave a run: how many times more work two busy processes finish than one,
once for the whole run (the capacity track) and in every round of a grid (the noise gauge)."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator

from gilcompare.asv.pools import check_runs
from gilcompare.measure import engine
from gilcompare.models import get_model
from gilcompare.settings import CAPACITY_PAIRS, CAPACITY_UNITS
from gilcompare.workloads import get_workload


def parallel_capacity(units: int = CAPACITY_UNITS, pairs: int = CAPACITY_PAIRS) -> float:
    """How many times more pure-Python work two fork workers finish than one, in the same
    time: 2.0 when this machine gives them two idle cores, less when it is shared (a VM's
    host, other jobs). No parallel speedup measured alongside can beat it.

    One busy worker and two busy workers take turns on the same warm pool, so dispatch costs
    the same in both; the estimate is gilcompare.measure.engine's, the reference being twice the
    time of one worker's share.
    """
    w = get_workload("count")
    check_runs(w, "processes-fork")
    one: list[float] = []
    two: list[float] = []
    with get_model("processes-fork").start(2) as pool:
        pool.warm(w)
        for round_ in range(pairs):
            turns = [(two, [units, units]), (one, [units])]
            for times, sizes in turns if engine.candidate_first(round_) else turns[::-1]:
                t0 = time.perf_counter()
                pool.run(w.fn, sizes)
                times.append(time.perf_counter() - t0)
    capacity = engine.speedup([2 * t for t in one], two)
    assert capacity is not None
    return round(capacity, 4)


class Gauge:
    """The noise gauge: one capacity pair (one busy fork worker, then two, or the other way
    round) read in every round of a grid, so each cell's rounds sit beside a reading of how
    many cores the host lent while they ran. 2.0 on two idle cores; a reading is one pair,
    so it is noisy alone, and the median over a grid's rounds is what flags a noisy host.
    """

    processes = 2

    def __init__(self, units: int = CAPACITY_UNITS) -> None:
        self.units = units
        self.readings: list[float] = []
        self.reason = ""
        self._pool: object | None = None

    @contextlib.contextmanager
    def running(self) -> Iterator[Gauge]:
        """Start the gauge's warm fork pool (before any cell starts a thread), close it after;
        where fork is missing the gauge reads nothing and says why."""
        w = get_workload("count")
        reason = get_model("processes-fork").cannot_run(w)
        if reason is not None:
            self.reason = reason
            yield self
            return
        with get_model("processes-fork").start(self.processes) as pool:
            pool.warm(w)
            self._pool = pool
            try:
                yield self
            finally:
                self._pool = None

    def read(self, round_: int) -> None:
        """One pair, order alternating with the round, as every cell's pair does."""
        if self._pool is None:
            return
        fn = get_workload("count").fn
        one: list[float] = []
        two: list[float] = []
        turns = [(two, [self.units] * self.processes), (one, [self.units])]
        for times, sizes in turns if engine.candidate_first(round_) else turns[::-1]:
            t0 = time.perf_counter()
            self._pool.run(fn, sizes)  # type: ignore[attr-defined]
            times.append(time.perf_counter() - t0)
        reading = engine.speedup([self.processes * t for t in one], two)
        if reading is not None:
            self.readings.append(round(reading, 4))

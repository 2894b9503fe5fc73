"""The noise gauge: how many cores the host lent while a measurement's rounds ran.

A serial-against-serial control (A/A) runs one process at a time, so it cannot see a host
that takes the second core away, which is what moves a parallel speedup. The gauge can: in
every round, N busy fork workers and one take turns on the same warm pool (N copies of the
serial work against one), and each reading is how many times more work the N finished
than the one, N when the host lent N idle cores. One reading is one pair and noisy alone;
the median over a measurement's rounds is what flags it: below ``NOISY_SHARE`` of N, the
measurement ran on a noisy host.
"""

from __future__ import annotations

import contextlib
import statistics
from collections.abc import Iterator, Sequence
from typing import Any

from gilcompare.measure.builds import usable_cpus
from gilcompare.measure.paired import PairedTimes
from gilcompare.measure.speed import NOISY_SHARE
from gilcompare.models import get_model
from gilcompare.settings import CAPACITY_UNITS
from gilcompare.workloads import get_workload

__all__ = ["NOISY_SHARE", "Gauge", "noisy"]


def noisy(readings: Sequence[float], processes: int, cpus: int | None = None) -> bool | None:
    """Whether readings say the host lent less than NOISY_SHARE of the cores ``processes``
    busy processes can use: all of them, or the ``cpus`` usable when fewer (two processes on
    one CPU read about 1 on a quiet host). None without a reading."""
    if not readings:
        return None
    cores = processes if cpus is None else min(processes, cpus)
    return statistics.median(readings) < NOISY_SHARE * cores


class Gauge:
    """A warm fork pool of ``processes`` workers that reads the gauge once per round."""

    def __init__(self, processes: int = 2, units: int = CAPACITY_UNITS) -> None:
        self.processes = processes
        self.cpus = usable_cpus()
        self.units = units
        self.readings: list[float] = []
        self.reason = ""
        self.pairs = PairedTimes()  # the processes against one, every round read
        self._pool: Any = None

    @contextlib.contextmanager
    def running(self) -> Iterator[Gauge]:
        """Start the gauge's warm fork pool (before anything starts a thread), close it
        after; where fork is missing the gauge reads nothing and says why."""
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
        """One pair, the order alternating with the round as every cell's pair does."""
        if self._pool is None:
            return
        fn = get_workload("count").fn
        pair = PairedTimes()
        pair.round(
            round_,
            lambda: self._pool.run(fn, [self.units] * self.processes),
            lambda: self._pool.run(fn, [self.units]),
        )
        self.pairs.candidate += pair.candidate
        self.pairs.reference += pair.reference
        reading = pair.speedup(scale=self.processes)
        if reading is not None:
            self.readings.append(round(reading, 4))

    @property
    def capacity(self) -> float | None:
        """How many times more work the busy processes finished than one, the median over
        every round read (None before a reading)."""
        reading = self.pairs.speedup(scale=self.processes)
        return None if reading is None else round(reading, 4)

    @property
    def noisy(self) -> bool | None:
        return noisy(self.readings, self.processes, self.cpus)

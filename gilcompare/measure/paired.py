"""The paired loop: a candidate and its reference timed back to back in every round.

Every ratio gilcompare reports comes out of this loop — `run`'s cells, `compare`'s builds,
the asv grids, the noise gauge and the capacity track: in each round both sides run once,
back to back, the candidate first on even rounds and the reference first on odd ones, so that
neither always runs first (warmer caches, a core the host has just lent). What the rounds
give is estimated by gilcompare.measure.engine.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Callable, TypeVar

from gilcompare.measure import engine

T = TypeVar("T")


def in_order(round_: int, entries: Iterable[T]) -> list[T]:
    """The entries in the order this round runs them: as given on even rounds (the first
    entry, the candidate, first), reversed on odd ones."""
    entries = list(entries)
    return entries if engine.candidate_first(round_) else entries[::-1]


def clock(run: Callable[[], T]) -> tuple[float, T]:
    """Seconds ``run()`` took on the performance counter, and what it returned."""
    t0 = time.perf_counter()
    out = run()
    return time.perf_counter() - t0, out


@dataclass
class PairedTimes:
    """The timings of a candidate and of its reference, one of each per paired round."""

    candidate: list[float] = field(default_factory=list)
    reference: list[float] = field(default_factory=list)

    def round(
        self,
        round_: int,
        candidate: Callable[[], Any],
        reference: Callable[[], Any] | None,
    ) -> tuple[Any, Any]:
        """Time ``candidate()`` and ``reference()`` once each, back to back, in this round's
        order; without a reference the candidate runs alone. Returns what each returned."""
        sides: list[tuple[int, list[float], Callable[[], Any]]] = [(0, self.candidate, candidate)]
        if reference is not None:
            sides.append((1, self.reference, reference))
        outs: list[Any] = [None, None]
        for side, times, run in in_order(round_, sides):
            seconds, outs[side] = clock(run)
            times.append(seconds)
        return outs[0], outs[1]

    def speedup(self, scale: float = 1.0) -> float | None:
        """Reference time (times ``scale``) over candidate time, the median over rounds."""
        return engine.speedup([scale * t for t in self.reference], self.candidate)

    def ratio(self, pilot: int = 0) -> engine.Ratio | None:
        """Reference time over candidate time with its 95 % interval (engine.ratio; Stein's
        when the rounds after the first ``pilot`` were planned from them)."""
        return engine.ratio(self.reference, self.candidate, pilot)

    def rounds_needed(self, target: float, most: int | None) -> int:
        """How many rounds in all the interval needs to reach ``target``, planned from the
        rounds timed so far (engine.rounds_needed); as many as timed without a reference."""
        if len(self.reference) != len(self.candidate):
            return len(self.candidate)
        return engine.rounds_needed(self.reference, self.candidate, target, most)

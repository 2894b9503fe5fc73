"""The one estimator behind every speedup, ratio and "GIL in workers" gilcompare reports.

`gilcompare run`, `gilcompare seed`, `gilcompare compare` and the asv scaling grids all
time a reference and a candidate in **paired rounds**: in each round both run the same task
list back to back, the order alternating from round to round so that neither always runs
first (warmer caches, a core the host has just lent). The estimate is the **median of the
per-round ratios**: a second of lost CPU spoils one round's ratio, not the whole number.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

ESTIMATOR = "median of paired per-round ratios, order alternating"


def candidate_first(round_: int) -> bool:
    """Whether the candidate runs before the reference in this round (even rounds)."""
    return round_ % 2 == 0


def paired_ratios(numerators: Sequence[float], denominators: Sequence[float]) -> list[float]:
    """Each round's numerator / denominator; the sequences pair up round by round."""
    if len(numerators) != len(denominators):
        raise ValueError(
            f"paired rounds must pair up: {len(numerators)} against {len(denominators)} timings"
        )
    return [n / d for n, d in zip(numerators, denominators) if d > 0]


def speedup(reference_times: Sequence[float], times: Sequence[float]) -> float | None:
    """Reference time / candidate time: the median over rounds (None without a round)."""
    ratios = paired_ratios(reference_times, times)
    return statistics.median(ratios) if ratios else None


def relative_time(times: Sequence[float], reference_times: Sequence[float]) -> float | None:
    """Candidate time / reference time, the median over rounds (1 / speedup, round-wise)."""
    ratios = paired_ratios(times, reference_times)
    return statistics.median(ratios) if ratios else None


def efficiency(speedup_: float | None, ideal: int | None) -> float | None:
    """Speedup as a fraction of the ideal one."""
    return speedup_ / ideal if speedup_ is not None and ideal else None


def ideal_speedup(waits: bool, workers: int, cpus: int) -> int:
    """The best speedup physics allows: workers for waiting work, else min(workers, CPUs)."""
    return workers if waits else min(workers, cpus)


def gil_in_workers(infos: Iterable[Mapping[str, Any]]) -> bool | None:
    """True when any worker ran with the GIL enabled; None when no worker reported."""
    seen = [bool(info["gil_enabled"]) for info in infos]
    return any(seen) if seen else None

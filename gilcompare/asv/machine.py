"""What the machine gave a run: how many times more work two busy processes finish than one
(the capacity track; the grids read the same pair in every round, gilcompare.measure.gauge)."""

from __future__ import annotations

import time

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

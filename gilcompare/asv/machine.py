"""What the machine gave a run: how many times more work two busy processes finish than one
(the capacity track; the grids read the same pair in every round, gilcompare.measure.gauge)."""

from __future__ import annotations

from gilcompare.asv.pools import check_runs
from gilcompare.measure.gauge import Gauge
from gilcompare.settings import CAPACITY_PAIRS, CAPACITY_UNITS
from gilcompare.workloads import get_workload


def parallel_capacity(units: int = CAPACITY_UNITS, pairs: int = CAPACITY_PAIRS) -> float:
    """How many times more pure-Python work two fork workers finish than one, in the same
    time: 2.0 when this machine gives them two idle cores, less when it is shared (a VM's
    host, other jobs). No parallel speedup measured alongside can beat it.

    It is the noise gauge read ``pairs`` times: one busy worker and two busy workers take
    turns on the same warm pool (gilcompare.measure.paired), so dispatch costs the same in
    both; the estimate is gilcompare.measure.engine's, the reference being twice the time of
    one worker's share.
    """
    check_runs(get_workload("count"), "processes-fork")
    gauge = Gauge(2, units)
    with gauge.running():
        for round_ in range(pairs):
            gauge.read(round_)
    capacity = gauge.capacity
    assert capacity is not None
    return capacity

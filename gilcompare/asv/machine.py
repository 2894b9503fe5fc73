"""What the machine gave a run: how many times more work N busy processes finish than one,
N the usable CPUs and at least two (the capacity track; the grids read the same pair in every
round, gilcompare.measure.gauge)."""

from __future__ import annotations

from gilcompare.asv.pools import check_runs
from gilcompare.measure.gauge import Gauge
from gilcompare.measure.sizing import capacity_processes
from gilcompare.settings import CAPACITY_PAIRS, CAPACITY_UNITS
from gilcompare.workloads import get_workload


def parallel_capacity(
    units: int = CAPACITY_UNITS, pairs: int = CAPACITY_PAIRS, processes: int | None = None
) -> float:
    """How many times more pure-Python work N fork workers finish than one, in the same
    time, N being the largest worker count the usable CPUs run at once (at least two,
    gilcompare.measure.sizing.capacity_processes): N when this machine gives them N idle
    cores, less when it is shared (a VM's host, other jobs), about 1 on one CPU. No parallel
    speedup measured alongside can beat it.

    It is the noise gauge read ``pairs`` times: one busy worker and N busy workers take
    turns on the same warm pool (gilcompare.measure.paired), so dispatch costs the same in
    both; the estimate is gilcompare.measure.engine's, the reference being N times the time of
    one worker's share.
    """
    n = capacity_processes() if processes is None else processes
    check_runs(get_workload("count"), "processes-fork")
    gauge = Gauge(n, units)
    with gauge.running():
        for round_ in range(pairs):
            gauge.read(round_)
    capacity = gauge.capacity
    assert capacity is not None
    return capacity

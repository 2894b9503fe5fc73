"""Shared state and allocation, both holding the GIL: a lock-protected counter (contention)
and small containers built and dropped (alloc).

Threads contend on one lock; processes and subinterpreters each have a copy of their own.
"""

from __future__ import annotations

from gilcompare.asv import bench, grids, suite
from gilcompare.settings import SETUP_CACHE_TIMEOUT

# GILCOMPARE_WORKERS or the machine's grid (1,2,4,8 on 2 CPUs), and the spot among them
# (a bad value stops the import)
WORKERS, SPOT_WORKERS = suite.worker_parameters()

SPOT_WORKLOADS = ["contention", "alloc"]  # every warm model at one worker count


class Serial(bench.Serial):
    params = [SPOT_WORKLOADS]


class WarmSpot(bench.Warm):
    params = [SPOT_WORKLOADS, suite.SPOT_MODELS, SPOT_WORKERS]


class Gil(bench.Gil):
    params = [SPOT_WORKLOADS, suite.GIL_MODELS, SPOT_WORKERS]

    def setup_cache(self) -> grids.Grid:  # one per class: asv keys caches by where they are
        return self.measure()

    setup_cache.timeout = SETUP_CACHE_TIMEOUT

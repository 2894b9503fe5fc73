"""Shared state and allocation, both holding the GIL: a lock-protected counter (contention)
and small containers built and dropped (alloc).

Threads contend on one lock; processes and subinterpreters each have a copy of their own.
"""

from __future__ import annotations

from gilcompare import bench, suite

SPOT = ["contention", "alloc"]  # every warm model at one worker count


class Serial(bench.Serial):
    params = [SPOT]


class WarmSpot(bench.Warm):
    params = [SPOT, suite.SPOT_MODELS, suite.SPOT_WORKERS]


class Gil(bench.Gil):
    params = [SPOT, suite.GIL_MODELS, suite.SPOT_WORKERS]

    def setup_cache(self) -> suite.Grid:  # one per class: asv keys caches by where they are
        return self.measure()

    setup_cache.timeout = suite.SETUP_CACHE_TIMEOUT

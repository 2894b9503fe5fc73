"""Waiting and I/O: sleep and HTTP (wait), sqlite queries and file I/O (release the GIL).

The ideal speedup of waiting work is the worker count, not the core count. The local HTTP
server, sqlite file and work directory start in setup and stop in teardown.
"""

from __future__ import annotations

from gilcompare import bench, suite

GRID = ["sleep", "http"]  # one model of each kind at every worker count
SPOT = ["sqlite", "file"]  # every warm model at one worker count


class Serial(bench.Serial):
    params = [GRID + SPOT]


class Warm(bench.Warm):
    # absolute times at the spot; how the models scale with workers is the Scaling grid's
    params = [GRID, suite.GRID_MODELS, suite.SPOT_WORKERS]


class WarmSpot(bench.Warm):
    params = [SPOT, suite.SPOT_MODELS, suite.SPOT_WORKERS]


class Scaling(bench.Scaling):
    params = [GRID, suite.GRID_MODELS, suite.WORKERS]
    # waiting leaves the cores idle, so the host's share hardly moves these ratios (within
    # a few percent round to round): three rounds suffice
    grid_rounds = 3

    def setup_cache(self) -> suite.Grid:  # one per class: asv keys caches by where they are
        return self.measure()

    setup_cache.timeout = suite.SETUP_CACHE_TIMEOUT


class Gil(bench.Gil):
    params = [GRID + SPOT, suite.GIL_MODELS, suite.SPOT_WORKERS]

    def setup_cache(self) -> suite.Grid:  # one per class: asv keys caches by where they are
        return self.measure()

    setup_cache.timeout = suite.SETUP_CACHE_TIMEOUT

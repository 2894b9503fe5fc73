"""Waiting and I/O: sleep and HTTP (wait), sqlite queries and file I/O (release the GIL).

The ideal speedup of waiting work is the worker count, not the core count. The local HTTP
server, sqlite file and work directory start in setup and stop in teardown.
"""

from __future__ import annotations

from gilcompare.asv import bench, grids, suite
from gilcompare.settings import SETUP_CACHE_TIMEOUT

# GILCOMPARE_WORKERS or the machine's waiting grid (1,2,4,8 on 2 CPUs), and the spot among
# them (a bad value stops the import)
WORKERS, SPOT_WORKERS = suite.worker_parameters(waits=True)

# the grid's workloads get their absolute times from its rounds (Scaling.track_model_time,
# track_serial_time); the spot's from Serial and WarmSpot
GRID_WORKLOADS = ["sleep", "http"]  # one model of each kind at every worker count
SPOT_WORKLOADS = ["sqlite", "file"]  # every warm model at one worker count


class Serial(bench.Serial):
    params = [SPOT_WORKLOADS]


class WarmSpot(bench.Warm):
    params = [SPOT_WORKLOADS, suite.SPOT_MODELS, SPOT_WORKERS]


class Scaling(bench.Scaling):
    params = [GRID_WORKLOADS, suite.GRID_MODELS, WORKERS]
    # waiting leaves the cores idle, so the host's share hardly moves these ratios (within
    # a few percent round to round): three rounds suffice, and one serial run per workload
    # and round serves all of that round's cells
    grid_rounds = 3
    grid_most_rounds = 6  # a pilot of 3: at most twice it
    grid_shared_reference = True

    def setup_cache(self) -> grids.Grid:  # one per class: asv keys caches by where they are
        return self.measure()

    setup_cache.timeout = SETUP_CACHE_TIMEOUT


class Gil(bench.Gil):
    params = [GRID_WORKLOADS + SPOT_WORKLOADS, suite.GIL_MODELS, SPOT_WORKERS]

    def setup_cache(self) -> grids.Grid:  # one per class: asv keys caches by where they are
        return self.measure()

    setup_cache.timeout = SETUP_CACHE_TIMEOUT

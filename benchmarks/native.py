"""C code that releases the GIL while it works: hashlib sha256, zlib, numpy matmul.

Threads can overlap here even with a GIL; BLAS is capped to one thread in every worker.
"""

from __future__ import annotations

from gilcompare.asv import bench, grids, suite
from gilcompare.settings import SETUP_CACHE_TIMEOUT

# GILCOMPARE_WORKERS or the machine's grid (1,2,4,8 on 2 CPUs), and the spot among them
# (a bad value stops the import)
WORKERS, SPOT_WORKERS = suite.worker_parameters()

# the grid's workloads get their absolute times from its rounds (Scaling.track_model_time,
# track_serial_time); the spot's from Serial and WarmSpot
GRID_WORKLOADS = ["sha256"]  # one model of each kind at every worker count
SPOT_WORKLOADS = ["zlib", "numpy"]  # every warm model at one worker count


class Serial(bench.Serial):
    params = [SPOT_WORKLOADS]


class WarmSpot(bench.Warm):
    params = [SPOT_WORKLOADS, suite.SPOT_MODELS, SPOT_WORKERS]


class Scaling(bench.Scaling):
    params = [GRID_WORKLOADS, suite.GRID_MODELS, WORKERS]
    # C code that releases the GIL moves least with the host's share (two back-to-back runs
    # of five rounds agreed within 1% at the median, 3% at the 90th percentile): three rounds
    grid_rounds = 3
    grid_most_rounds = 6  # a pilot of 3: at most twice it

    def setup_cache(self) -> grids.Grid:  # one per class: asv keys caches by where they are
        return self.measure()

    setup_cache.timeout = SETUP_CACHE_TIMEOUT


class Gil(bench.Gil):
    params = [GRID_WORKLOADS + SPOT_WORKLOADS, suite.GIL_MODELS, SPOT_WORKERS]

    def setup_cache(self) -> grids.Grid:  # one per class: asv keys caches by where they are
        return self.measure()

    setup_cache.timeout = SETUP_CACHE_TIMEOUT

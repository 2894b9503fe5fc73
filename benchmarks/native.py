"""C code that releases the GIL while it works: hashlib sha256, zlib, numpy matmul.

Threads can overlap here even with a GIL; BLAS is capped to one thread in every worker.
"""

from __future__ import annotations

from gilcompare import bench, suite

GRID = ["sha256"]  # one model of each kind at every worker count
SPOT = ["zlib", "numpy"]  # every warm model at one worker count


class Serial(bench.Serial):
    params = [GRID + SPOT]


class Warm(bench.Warm):
    # absolute times at the spot; how the models scale with workers is the Scaling grid's
    params = [GRID, suite.GRID_MODELS, suite.SPOT_WORKERS]


class WarmSpot(bench.Warm):
    params = [SPOT, suite.SPOT_MODELS, suite.SPOT_WORKERS]


class Scaling(bench.Scaling):
    params = [GRID, suite.GRID_MODELS, suite.WORKERS]

    def setup_cache(self) -> suite.Grid:  # one per class: asv keys caches by where they are
        return self.measure()

    setup_cache.timeout = suite.SETUP_CACHE_TIMEOUT


class Gil(bench.Gil):
    params = [GRID + SPOT, suite.GIL_MODELS, suite.SPOT_WORKERS]

    def setup_cache(self) -> suite.Grid:  # one per class: asv keys caches by where they are
        return self.measure()

    setup_cache.timeout = suite.SETUP_CACHE_TIMEOUT

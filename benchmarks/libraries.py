"""The models people deploy — joblib, dask.distributed, multiprocessing.Pool and a new
process per task as the seed blog starts them — on the seed's loop at the two-worker spot.

Each library's own scheduling is part of what is timed: it is what its users pay. A library
that is not installed in the environment is skipped with the command that installs it.
"""

from __future__ import annotations

from gilcompare import bench, suite

WORKLOADS = ["count"]


class Scaling(bench.Scaling):
    params = [WORKLOADS, suite.LIBRARY_MODELS, suite.SPOT_WORKERS]
    grid_rounds = 3

    def setup_cache(self) -> suite.Grid:  # one per class: asv keys caches by where they are
        return self.measure()

    setup_cache.timeout = suite.SETUP_CACHE_TIMEOUT

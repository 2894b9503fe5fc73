"""The models people deploy — joblib, dask.distributed, multiprocessing.Pool and a new
process per task as the seed blog starts them — on the seed's loop at the two-worker spot.

Each library's own scheduling is part of what is timed: it is what its users pay. A library
that is not installed in the environment is skipped with the command that installs it.
"""

from __future__ import annotations

from gilcompare.asv import bench, grids, suite
from gilcompare.settings import SETUP_CACHE_TIMEOUT

# GILCOMPARE_WORKERS or the machine's grid (1,2,4,8 on 2 CPUs), and the spot among them
# (a bad value stops the import)
WORKERS, SPOT_WORKERS = suite.worker_parameters()

WORKLOADS = ["count"]


class Scaling(bench.Scaling):
    params = [WORKLOADS, suite.LIBRARY_MODELS, SPOT_WORKERS]
    grid_rounds = 5  # the pilot: three (t(2) = 4.3) sent most cells to the cap
    grid_most_rounds = 12  # free-threaded 2-worker cells the host moves most reach it

    def setup_cache(self) -> grids.Grid:  # one per class: asv keys caches by where they are
        return self.measure()

    setup_cache.timeout = SETUP_CACHE_TIMEOUT

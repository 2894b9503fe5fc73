"""Objects shared between workers, free-threading's own bottlenecks: method and function calls,
dict and list reads, new objects and closures, attribute writes, a thread-local read.

All hold the GIL. Without it, threads scale only as far as the interpreter avoids contention
on the shared objects' reference counts and locks; processes and subinterpreters each have a
copy of their own.

One grid holds the whole family: its rounds give the speedups and the absolute times
(``track_model_time``, ``track_serial_time``), with no Serial or Warm class timing the same
task lists again (that doubled what the family cost on 3.13t, whose contended threads take
1 s a run).
"""

from __future__ import annotations

from gilcompare.asv import bench, grids, suite
from gilcompare.settings import SETUP_CACHE_TIMEOUT
from gilcompare.workloads import SHARED_WORKLOADS

# GILCOMPARE_WORKERS or the machine's grid (1,2,4,8 on 2 CPUs), and the spot among them
# (a bad value stops the import)
WORKERS, SPOT_WORKERS = suite.worker_parameters()


class Scaling(bench.Scaling):
    params = [SHARED_WORKLOADS, suite.GIL_MODELS, SPOT_WORKERS]  # one of each kind
    grid_rounds = 5  # the pilot: three (t(2) = 4.3) sent most cells to the cap
    grid_most_rounds = 12  # free-threaded 2-worker cells the host moves most reach it
    # one serial run per workload and round serves its three cells, before them on odd rounds
    # and after them on even ones: within seconds of each, at a third of the serial runs
    grid_shared_reference = True

    def setup_cache(self) -> grids.Grid:  # one per class: asv keys caches by where they are
        return self.measure()

    setup_cache.timeout = SETUP_CACHE_TIMEOUT

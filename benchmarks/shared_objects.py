"""Objects shared between workers, free-threading's own bottlenecks: method and function calls,
dict and list reads, new objects and closures, attribute writes, a thread-local read.

All hold the GIL. Without it, threads scale only as far as the interpreter avoids contention
on the shared objects' reference counts and locks; processes and subinterpreters each have a
copy of their own.
"""

from __future__ import annotations

from gilcompare.asv import bench, grids, suite
from gilcompare.settings import LONG_SAMPLES_REPEAT, SETUP_CACHE_TIMEOUT
from gilcompare.workloads import SHARED_WORKLOADS

# GILCOMPARE_WORKERS or the machine's grid (1,2,4,8 on 2 CPUs), and the spot among them
# (a bad value stops the import)
WORKERS, SPOT_WORKERS = suite.worker_parameters()


class Serial(bench.Serial):
    params = [SHARED_WORKLOADS]


class Warm(bench.Warm):
    # absolute times of free-threaded threads, the model these workloads are about; the other
    # kinds' speedups are the Scaling grid's (the family's whole cost stays under two minutes)
    params = [SHARED_WORKLOADS, ["threads"], SPOT_WORKERS]
    repeat = LONG_SAMPLES_REPEAT  # 3.13t's contended threads: two samples of 0.8 s, not three


class Scaling(bench.Scaling):
    params = [SHARED_WORKLOADS, suite.GIL_MODELS, SPOT_WORKERS]  # one of each kind
    grid_rounds = 3  # eight workloads: fewer rounds than the headline grid keep it cheap (~70 s)

    def setup_cache(self) -> grids.Grid:  # one per class: asv keys caches by where they are
        return self.measure()

    setup_cache.timeout = SETUP_CACHE_TIMEOUT

"""Pure-Python CPU work, which holds the GIL: count (the seed blog's loop) and fib.

With a GIL only worker processes and subinterpreters run it in parallel; threads take turns.
"""

from __future__ import annotations

from gilcompare.asv import bench, grids, suite
from gilcompare.settings import SETUP_CACHE_TIMEOUT

# GILCOMPARE_WORKERS or the machine's grid (1,2,4,8 on 2 CPUs), and the spot among them
# (a bad value stops the import)
WORKERS, SPOT_WORKERS = suite.worker_parameters()

# the grid's workloads get their absolute times from its rounds (Scaling.track_model_time,
# track_serial_time); the spot's from Serial and WarmSpot
GRID_WORKLOADS = ["count"]  # one model of each kind at every worker count
SPOT_WORKLOADS = ["fib"]  # every warm model at one worker count


class Serial(bench.Serial):
    params = [SPOT_WORKLOADS]


class WarmSpot(bench.Warm):
    params = [SPOT_WORKLOADS, suite.SPOT_MODELS, SPOT_WORKERS]


class Scaling(bench.Scaling):
    # with the A/A control (serial against serial): this family's ratios are the noisiest
    params = [GRID_WORKLOADS, suite.CONTROLLED_MODELS, WORKERS]
    # two busy Python processes are what a shared host disturbs most (its share of the second
    # core swings for seconds at a time): more rounds, spread over a longer stretch
    grid_rounds = 5

    def setup_cache(self) -> grids.Grid:  # one per class: asv keys caches by where they are
        return self.measure()

    setup_cache.timeout = SETUP_CACHE_TIMEOUT


class Gil(bench.Gil):
    params = [GRID_WORKLOADS + SPOT_WORKLOADS, suite.GIL_MODELS, SPOT_WORKERS]

    def setup_cache(self) -> grids.Grid:  # one per class: asv keys caches by where they are
        return self.measure()

    setup_cache.timeout = SETUP_CACHE_TIMEOUT


class Cold(bench.Cold):
    params = [GRID_WORKLOADS, suite.COLD_RUN_MODELS, SPOT_WORKERS]


class Machine(bench.Machine):
    pass

"""Pure-Python CPU work, which holds the GIL: count (the seed blog's loop) and fib.

With a GIL only worker processes and subinterpreters run it in parallel; threads take turns.
"""

from __future__ import annotations

from gilcompare import bench, suite

GRID = ["count"]  # one model of each kind at every worker count
SPOT = ["fib"]  # every warm model at one worker count


class Serial(bench.Serial):
    params = [GRID + SPOT]


class Warm(bench.Warm):
    # absolute times at the spot; how the models scale with workers is the Scaling grid's
    params = [GRID, suite.GRID_MODELS, suite.SPOT_WORKERS]


class WarmSpot(bench.Warm):
    params = [SPOT, suite.SPOT_MODELS, suite.SPOT_WORKERS]


class Scaling(bench.Scaling):
    # with the A/A control (serial against serial): this family's ratios are the noisiest
    params = [GRID, suite.CONTROLLED_MODELS, suite.WORKERS]
    # two busy Python processes are what a shared host disturbs most (its share of the second
    # core swings for seconds at a time): more rounds, spread over a longer stretch
    grid_rounds = 9

    def setup_cache(self) -> suite.Grid:  # one per class: asv keys caches by where they are
        return self.measure()

    setup_cache.timeout = suite.SETUP_CACHE_TIMEOUT


class Gil(bench.Gil):
    params = [GRID + SPOT, suite.GIL_MODELS, suite.SPOT_WORKERS]

    def setup_cache(self) -> suite.Grid:  # one per class: asv keys caches by where they are
        return self.measure()

    setup_cache.timeout = suite.SETUP_CACHE_TIMEOUT


class Cold(bench.Cold):
    params = [GRID, suite.COLD_MODELS, suite.SPOT_WORKERS]


class Machine(bench.Machine):
    pass

"""C code that releases the GIL while it works: hashlib sha256, zlib, numpy matmul.

Threads can overlap here even with a GIL; BLAS is capped to one thread in every worker.
"""

from __future__ import annotations

from gilcompare import suite

# asv's timing attributes for every benchmark below (gilcompare.suite explains the budget)
repeat, number, rounds, warmup_time, min_run_count, timeout = suite.TIMING

GRID = ["sha256"]  # one model of each kind at every worker count
SPOT = ["zlib", "numpy"]  # every warm model at one worker count


class Serial:
    """The baseline: each workload's task list run serially, so speedups are derivable."""

    params = [GRID + SPOT]
    param_names = ["workload"]

    def setup(self, workload: str) -> None:
        self.pool = suite.WarmPool(workload, "serial", 1)
        self.pool.start()

    def time_tasks(self, workload: str) -> None:
        self.pool.run()

    def teardown(self, workload: str) -> None:
        self.pool.close()


class Warm:
    """The task list on warm workers (started and warmed in setup, untimed)."""

    params = [GRID, suite.GRID_MODELS, suite.WORKERS]
    param_names = ["workload", "model", "workers"]

    def setup(self, workload: str, model: str, workers: int) -> None:
        self.pool = suite.WarmPool(workload, model, workers)
        self.pool.start()

    def time_tasks(self, workload: str, model: str, workers: int) -> None:
        self.pool.run()

    def teardown(self, workload: str, model: str, workers: int) -> None:
        self.pool.close()


class WarmSpot(Warm):
    """The task list on warm workers, every warm model at one worker count."""

    params = [SPOT, suite.SPOT_MODELS, suite.SPOT_WORKERS]


class Scaling:
    """Speedup over serial and efficiency, from serial and model timed alternately."""

    params = [GRID, suite.GRID_MODELS, suite.WORKERS]
    param_names = ["workload", "model", "workers"]

    def setup_cache(self) -> suite.Grid:
        return suite.scaling_grid(*self.params)

    setup_cache.timeout = suite.SETUP_CACHE_TIMEOUT

    def setup(self, grid: suite.Grid, workload: str, model: str, workers: int) -> None:
        self.cell = grid.cell(workload, model, workers)

    def track_speedup(self, grid: suite.Grid, workload: str, model: str, workers: int) -> float:
        return self.cell.speedup

    track_speedup.unit = "speedup"

    def track_efficiency(self, grid: suite.Grid, workload: str, model: str, workers: int) -> float:
        return self.cell.efficiency

    track_efficiency.unit = "efficiency"


class Gil:
    """Whether the GIL is enabled (1) or not (0) in a thread, a process and a subinterpreter."""

    params = [GRID + SPOT, suite.GIL_MODELS, suite.SPOT_WORKERS]
    param_names = ["workload", "model", "workers"]

    def setup_cache(self) -> suite.Grid:
        return suite.gil_grid(*self.params)

    setup_cache.timeout = suite.SETUP_CACHE_TIMEOUT

    def setup(self, grid: suite.Grid, workload: str, model: str, workers: int) -> None:
        self.cell = grid.cell(workload, model, workers)

    def track_gil_enabled(self, grid: suite.Grid, workload: str, model: str, workers: int) -> int:
        return int(self.cell.gil_enabled)

    track_gil_enabled.unit = "gil enabled"

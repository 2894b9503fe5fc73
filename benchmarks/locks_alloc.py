"""Shared state and allocation, both holding the GIL: a lock-protected counter (contention)
and small containers built and dropped (alloc).

Threads contend on one lock; processes and subinterpreters each have a copy of their own.
"""

from __future__ import annotations

from gilcompare import suite

# asv's timing attributes for every benchmark below (gilcompare.suite explains the budget)
repeat, number, rounds, warmup_time, min_run_count, timeout = suite.TIMING

SPOT = ["contention", "alloc"]  # every warm model at one worker count


class Serial:
    """The baseline: each workload's task list run serially, so speedups are derivable."""

    params = [SPOT]
    param_names = ["workload"]

    def setup(self, workload: str) -> None:
        self.pool = suite.WarmPool(workload, "serial", 1)
        self.pool.start()

    def time_tasks(self, workload: str) -> None:
        self.pool.run()

    def teardown(self, workload: str) -> None:
        self.pool.close()


class WarmSpot:
    """The task list on warm workers, every warm model at one worker count."""

    params = [SPOT, suite.SPOT_MODELS, suite.SPOT_WORKERS]
    param_names = ["workload", "model", "workers"]

    def setup(self, workload: str, model: str, workers: int) -> None:
        self.pool = suite.WarmPool(workload, model, workers)
        self.pool.start()

    def time_tasks(self, workload: str, model: str, workers: int) -> None:
        self.pool.run()

    def teardown(self, workload: str, model: str, workers: int) -> None:
        self.pool.close()


class Gil:
    """Whether the GIL is enabled (1) or not (0) in a thread, a process and a subinterpreter."""

    params = [SPOT, suite.GIL_MODELS, suite.SPOT_WORKERS]
    param_names = ["workload", "model", "workers"]

    def setup_cache(self) -> suite.Grid:
        return suite.gil_grid(*self.params)

    setup_cache.timeout = suite.SETUP_CACHE_TIMEOUT

    def setup(self, grid: suite.Grid, workload: str, model: str, workers: int) -> None:
        self.cell = grid.cell(workload, model, workers)

    def track_gil_enabled(self, grid: suite.Grid, workload: str, model: str, workers: int) -> int:
        return int(self.cell.gil_enabled)

    track_gil_enabled.unit = "gil enabled"

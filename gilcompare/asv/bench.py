"""The asv benchmark classes the modules of benchmarks/ subclass (all but probes, whose
classes sit over gilcompare.probes).

A module (cpu, native, io_bound, locks_alloc, shared_objects, libraries) only says which
workloads and models its classes take, through ``params``; what a benchmark does is written
once, here, over gilcompare.asv.

asv finds benchmarks by the names of a class's methods, inherited ones included, and reads
its attributes (``repeat``, ``timeout``, ``version`` ...) through inheritance too. One thing
cannot be inherited: asv keys a ``setup_cache`` by the module and line that define it, so
classes sharing one inherited ``setup_cache`` would share one cache. Each family's Scaling
and Gil therefore define a one-line ``setup_cache`` that calls ``measure``.

``version`` is explicit: results stay comparable across edits of this code and change only
when what is measured does (the workloads' units or the asv profile, gilcompare.asv.VERSION).

``time_tasks`` times one run of a workload's task list; the name is asv's key for the results
in results/ and on the site, so it stays.
"""

from __future__ import annotations

import os
import statistics
from typing import ClassVar

from gilcompare.asv import grids, machine, pools
from gilcompare.asv.suite import ROUNDS_ENV, VERSION
from gilcompare.models import BASELINE
from gilcompare.settings import DEFAULT_ROUNDS, GRID_PRECISION, SPOT_REPEAT, TIME_ROUNDS, TIMING

PARAM_NAMES = ["workload", "model", "workers"]


class Benchmark:
    """asv's timing attributes and version, the same for every benchmark of the suite."""

    repeat, number, rounds, warmup_time, min_run_count, timeout = TIMING
    version = VERSION


class Serial(Benchmark):
    """The baseline: each workload's task list run serially, so speedups are derivable."""

    param_names = ["workload"]
    repeat, rounds = SPOT_REPEAT, TIME_ROUNDS

    def setup(self, workload: str) -> None:
        self.pool = pools.WarmPool(workload, BASELINE, 1)
        self.pool.start()

    def time_tasks(self, workload: str) -> None:
        self.pool.run()

    def teardown(self, workload: str) -> None:
        self.pool.close()


class Warm(Benchmark):
    """The task list on warm workers (started and warmed in setup, untimed)."""

    param_names = PARAM_NAMES
    repeat, rounds = SPOT_REPEAT, TIME_ROUNDS

    def setup(self, workload: str, model: str, workers: int) -> None:
        self.pool = pools.WarmPool(workload, model, workers)
        self.pool.start()

    def time_tasks(self, workload: str, model: str, workers: int) -> None:
        self.pool.run()

    def teardown(self, workload: str, model: str, workers: int) -> None:
        self.pool.close()


class Cold(Benchmark):
    """The task list in a fresh interpreter: start the workers, run, shut down, all timed;
    one sample per pass (TIMING's repeat)."""

    param_names = PARAM_NAMES
    rounds = TIME_ROUNDS

    def setup(self, workload: str, model: str, workers: int) -> None:
        self.cold = pools.ColdRun(workload, model, workers)
        self.cold.start()

    def timeraw_start_run_stop(self, workload: str, model: str, workers: int) -> tuple[str, str]:
        return self.cold.code()

    def teardown(self, workload: str, model: str, workers: int) -> None:
        self.cold.close()


class _FromGrid(Benchmark):
    """Tracks that read one cell of a grid measured once per class in ``setup_cache``."""

    param_names = PARAM_NAMES
    params: ClassVar[list[list[object]]]

    def measure(self) -> grids.Grid:
        """The grid of every parameter set (a subclass's ``setup_cache`` returns it)."""
        raise NotImplementedError

    def setup(self, grid: grids.Grid, workload: str, model: str, workers: int) -> None:
        self.cell = grid.cell(workload, model, workers)


class Scaling(_FromGrid):
    """Speedup over serial and efficiency, from serial and model timed alternately; and the
    absolute times those rounds took, each cell's model run and the serial run it was
    divided by, as medians over rounds (seconds). A grid's workloads need no Warm or Serial
    benchmark of their own: those would time the same task lists on the same warm pools."""

    # a cell's speedup is the median of one ratio per round (GILCOMPARE_ROUNDS overrides)
    grid_rounds: ClassVar[int] = DEFAULT_ROUNDS
    # waiting work: one serial run per workload and round serves all its cells (scaling_grid)
    grid_shared_reference: ClassVar[bool] = False
    # the grid_rounds are a pilot: a cell whose interval they leave wider than ± this gets
    # more rounds, up to grid_most_rounds (scaling_grid; GILCOMPARE_ROUNDS plans none)
    grid_precision: ClassVar[float] = GRID_PRECISION
    grid_most_rounds: ClassVar[int] = 2 * DEFAULT_ROUNDS

    def measure(self) -> grids.Grid:
        fixed = ROUNDS_ENV in os.environ  # bench_quick's one round, or rounds a user chose
        grid = grids.scaling_grid(
            *self.params,
            rounds=self.grid_rounds,
            shared_reference=self.grid_shared_reference,
            precision=0.0 if fixed else self.grid_precision,
            most_rounds=self.grid_most_rounds,
        )
        module = type(self).__module__.rsplit(".", 1)[-1]  # asv's name: cpu, not benchmarks.cpu
        grids.keep_rounds(grid, f"{module}.{type(self).__name__}")
        return grid

    def track_speedup(self, grid: grids.Grid, workload: str, model: str, workers: int) -> float:
        return self.cell.speedup

    track_speedup.unit = "speedup"

    def track_efficiency(self, grid: grids.Grid, workload: str, model: str, workers: int) -> float:
        return self.cell.efficiency

    track_efficiency.unit = "efficiency"

    def track_model_time(self, grid: grids.Grid, workload: str, model: str, workers: int) -> float:
        return statistics.median(self.cell.times)

    track_model_time.unit = "seconds"

    def track_serial_time(self, grid: grids.Grid, workload: str, model: str, workers: int) -> float:
        return statistics.median(self.cell.serial_times)

    track_serial_time.unit = "seconds"


class Gil(_FromGrid):
    """Whether the GIL is enabled (1) or not (0) in a thread, a process and a subinterpreter."""

    def measure(self) -> grids.Grid:
        return grids.gil_grid(*self.params)

    def track_gil_enabled(self, grid: grids.Grid, workload: str, model: str, workers: int) -> int:
        return int(self.cell.gil_enabled)

    track_gil_enabled.unit = "gil enabled"


class Machine(Benchmark):
    """What the machine gave this run: read every parallel speedup against it."""

    def track_parallel_capacity(self) -> float:
        return machine.parallel_capacity()

    track_parallel_capacity.unit = "speedup"

"""Timing: warm vs cold, strong vs weak scaling, checksums, speedup, efficiency, metadata.

* **warm** (steady state): the pool is created and every worker has run a task before the
  clock starts; only dispatch + work is timed. **cold**: create + run + shut down is timed.
* **strong** scaling: a fixed total of tasks, split over the workers (ideal: serial / N).
  **weak** scaling: a fixed number of tasks per worker, as in the seed blog (ideal: the
  serial time of one worker's share).
* speedup = serial time of the same task list / model time, estimated by
  gilcompare.measure.engine (median of paired per-round ratios, order alternating);
  efficiency = speedup / ideal, where ideal = min(workers, usable CPUs) for work that needs a
  CPU and workers for waiting, less when the tasks do not divide evenly over the workers.
* the default strong-scaling task count follows the machine (gilcompare.measure.sizing): a
  multiple of the largest default worker count, and at least 4 tasks per usable CPU.
* a **control** cell times serial against serial the same way: the A/A ratio shows how far
  this machine's noise alone moves a speedup.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import statistics
from dataclasses import asdict, dataclass, field
from typing import Any, Callable

from gilcompare.measure import engine
from gilcompare.measure.conditions import environment, usable_cpus
from gilcompare.measure.gauge import Gauge
from gilcompare.measure.paired import PairedTimes
from gilcompare.measure.services import local_peers
from gilcompare.measure.sizing import strong_tasks
from gilcompare.models import BASELINE, get_model
from gilcompare.settings import (
    CAPACITY_UNITS,
    DEFAULT_PROFILE,
    GAUGE_MIN_UNITS,
    SCALINGS,
    get_profile,
)
from gilcompare.workloads import Workload, get_workload

MODES = ("warm", "cold")


@dataclass(frozen=True)
class Cell:
    """One measurement to make: a workload under a model with some workers."""

    workload: str
    model: str
    workers: int
    scaling: str = "strong"
    mode: str = "warm"
    profile: str = DEFAULT_PROFILE
    size: int | None = None  # units per task; None: the profile's
    tasks: int | None = None  # strong: total tasks; weak: tasks per worker; None: profile's
    repeat: int = 5  # rounds; with a precision, the pilot that plans any more
    paired: bool = True  # time the serial task list beside every repeat, in the same process
    control: bool = False  # serial only: the A/A control, serial timed against serial
    precision: float = 0.0  # plan rounds for this interval half-width (0: exactly repeat)
    max_repeat: int = 0  # at most this many rounds when planning (0: repeat)

    def validate(self) -> None:
        """Raise ValueError naming the rule when a field is out of range."""
        get_workload(self.workload)
        get_model(self.model)
        get_profile(self.profile)
        if self.scaling not in SCALINGS:
            raise ValueError(f"unknown scaling {self.scaling!r}: choose from {', '.join(SCALINGS)}")
        if self.mode not in MODES:
            raise ValueError(f"unknown mode {self.mode!r}: choose from {', '.join(MODES)}")
        if self.control and self.model != BASELINE:
            raise ValueError("a control cell times serial against serial: its model is serial")
        for name in ("workers", "repeat", "size", "tasks"):
            value = getattr(self, name)
            if value is not None and (not isinstance(value, int) or value < 1):
                raise ValueError(f"{name} must be an integer of at least 1, got {value!r}")
        if not 0 <= self.precision < 1:
            raise ValueError(f"precision must be a fraction from 0 to 1, got {self.precision!r}")
        if self.max_repeat and self.max_repeat < self.repeat:
            raise ValueError(
                f"max_repeat must be at least repeat ({self.repeat}), got {self.max_repeat}"
            )

    @property
    def most_rounds(self) -> int:
        """The rounds this cell can take: repeat, or max_repeat when it plans more."""
        return max(self.repeat, self.max_repeat) if self.precision else self.repeat

    def baseline(self) -> Cell:
        """The serial cell that runs exactly the same task list."""
        workers = self.workers if self.scaling == "weak" else 1
        return Cell(
            workload=self.workload,
            model=BASELINE,
            workers=workers,
            scaling=self.scaling,
            mode="warm",
            profile=self.profile,
            size=self.size,
            tasks=self.tasks,
            repeat=self.repeat,
        )


def cell_fields(cell: Cell) -> dict[str, Any]:
    """A cell as plain keyword arguments, for ``Cell(**fields)`` in a measuring child."""
    return {k: getattr(cell, k) for k in cell.__dataclass_fields__}


def plan(
    workload: Workload,
    scaling: str,
    workers: int,
    profile: str = DEFAULT_PROFILE,
    size: int | None = None,
    tasks: int | None = None,
) -> list[int]:
    """The task list (units per task) a measurement runs."""
    p = get_profile(profile)
    units = size or p.task_units
    if scaling == "strong":
        base = p.wait_tasks if workload.waits else p.tasks
        count = tasks or strong_tasks(base, workload.waits)
    else:
        count = workers * (tasks or p.weak_tasks_per_worker)
    return [units] * count


def checksum(results: list[Any]) -> str:
    """A short digest of a task list's results, in order (a value JSON cannot hold, such as
    a user's bytes or set, by its repr)."""
    text = json.dumps(results, sort_keys=True, default=repr)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def ideal_speedup(
    workload: Workload, workers: int, cpus: int | None = None, tasks: int | None = None
) -> float:
    """The best speedup physics allows for this workload's ``tasks`` on ``workers`` workers
    and the usable CPUs (gilcompare.measure.engine)."""
    return engine.ideal_speedup(workload.waits, workers, cpus or usable_cpus(), tasks)


@dataclass
class Result:
    """A measurement with the conditions it was made under."""

    workload: str
    model: str
    workers: int
    scaling: str
    mode: str
    status: str  # ok | skipped | failed | mismatch
    reason: str = ""
    profile: str = DEFAULT_PROFILE
    task_units: int = 0
    tasks: int = 0
    repeat: int = 0
    pilot: int = 0  # rounds that planned the rest (Stein's interval); 0: fixed rounds
    times: list[float] = field(default_factory=list)
    serial_times: list[float] = field(default_factory=list)  # paired: serial beside each repeat
    control: bool = False  # the A/A control: serial timed against serial
    estimator: str = ""  # how speedup was estimated (gilcompare.measure.engine.ESTIMATOR)
    rounds: int = 0  # paired rounds behind the speedup
    seconds: float | None = None  # median
    spread: float | None = None  # (max - min) / median
    checksum: str = ""
    serial_checksum: str = ""
    speedup: float | None = None
    speedup_low: float | None = None  # its 95 % interval (gilcompare.measure.engine.INTERVAL)
    speedup_high: float | None = None
    interval: str = ""  # how the interval was computed
    gauge: list[float] = field(default_factory=list)  # the noise gauge, read every round
    noisy_host: bool | None = None  # the gauge's median below 80 % of its processes
    efficiency: float | None = None
    ideal: float | None = None  # gilcompare.measure.engine.ideal_speedup
    gil: str = ""  # holds | releases | waits: what the workload does to the GIL
    start_method: str | None = None
    gil_enabled: bool | None = None  # as seen inside the workers
    workers_seen: int = 0
    blas_threads: int | None = None  # BLAS thread cap seen inside workers
    python: str = ""
    free_threaded: bool = False
    cpu_count: int = 0
    cpu_usable: int = 0
    meta: dict[str, Any] = field(default_factory=dict)
    traceback: str = ""

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Result:
        names = set(cls.__dataclass_fields__)
        return cls(**{k: v for k, v in data.items() if k in names})

    def compare(self, serial: Result) -> None:
        """Check the checksum against the serial baseline; fill speedup and efficiency.

        A paired result already has its speedup from serial runs interleaved with its own
        repeats (machine drift cancels out); otherwise the baseline's median is used.
        """
        if self.status != "ok" or serial.status != "ok" or not self.seconds or not serial.seconds:
            return
        if self.checksum != serial.checksum:
            self.status = "mismatch"
            self.reason = f"checksum {self.checksum} differs from serial {serial.checksum}"
            return
        self.serial_checksum = serial.checksum
        if self.speedup is None:  # unpaired: two medians from two processes
            est = engine.unpaired_ratio(serial.times, self.times)
            if est is None:
                return
            self.set_speedup(est, engine.UNPAIRED_ESTIMATOR, engine.UNPAIRED_INTERVAL)

    def set_speedup(self, est: engine.Ratio, estimator: str, interval: str) -> None:
        """Take the engine's estimate as this result's speedup, interval and efficiency."""
        self.speedup, self.speedup_low, self.speedup_high = est.value, est.low, est.high
        self.efficiency = engine.efficiency(self.speedup, self.ideal)
        self.estimator, self.interval, self.rounds = estimator, interval, est.rounds
        if est.pilot:
            self.pilot, self.interval = est.pilot, f"{interval}; {engine.PILOT}"


def _base_result(cell: Cell, workload: Workload, status: str, reason: str = "") -> Result:
    env = environment()
    model = get_model(cell.model)
    sizes = plan(workload, cell.scaling, cell.workers, cell.profile, cell.size, cell.tasks)
    # strong: the same tasks for every worker count; weak: each worker's share is whole
    n = len(sizes) if cell.scaling == "strong" else None
    return Result(
        workload=cell.workload,
        model=cell.model,
        workers=cell.workers,
        scaling=cell.scaling,
        mode=cell.mode,
        status=status,
        reason=reason,
        profile=cell.profile,
        task_units=sizes[0],
        tasks=len(sizes),
        repeat=cell.repeat,
        gil=workload.gil,
        start_method=model.start_method,
        control=cell.control,
        ideal=1 if cell.model == BASELINE else ideal_speedup(workload, cell.workers, None, n),
        python=env["python"],
        free_threaded=env["free_threaded"],
        cpu_count=env["cpu_count"],
        cpu_usable=env["cpu_usable"],
        meta=env,
    )


def measure(cell: Cell) -> Result:
    """Make one measurement in this process; a model that cannot run here gives 'skipped'.

    Exceptions from the workers propagate: callers that must survive faulty workers run
    cells in a child process (gilcompare.measure.isolate).
    """
    cell.validate()
    workload = get_workload(cell.workload)
    model = get_model(cell.model)
    reason = model.cannot_run(workload)
    if reason is not None:
        return _base_result(cell, workload, "skipped", reason)
    result = _base_result(cell, workload, "ok")
    sizes = plan(workload, cell.scaling, cell.workers, cell.profile, cell.size, cell.tasks)
    digests: set[str] = set()
    needed = {workload.service} if workload.service else set()
    paired = cell.paired and (cell.model != BASELINE or cell.control)
    # the noise gauge, for a paired cell that needs more than one core: its fork pool starts
    # before the local peers' threads, and it reads once per round beside the cell's pair
    # (not for task lists too short to time: a reading of a few milliseconds says nothing)
    lent = min(cell.workers, usable_cpus())
    gauged = paired and lent > 1 and sum(sizes) >= GAUGE_MIN_UNITS
    gauge = (
        Gauge(lent, max(GAUGE_MIN_UNITS // 2, min(CAPACITY_UNITS, max(sizes)))) if gauged else None
    )
    times = PairedTimes(result.times, result.serial_times)
    serial_digests: set[str] = set()
    with contextlib.ExitStack() as stack:
        if gauge is not None:
            stack.enter_context(gauge.running())
        stack.enter_context(local_peers(needed))
        serial = get_model(BASELINE).start(1)

        def rounds(timed: Callable[[], Any]) -> None:
            """The pilot's rounds, then as many more as it plans (none without a precision)."""
            round_, planned = 0, cell.repeat
            while round_ < planned:
                reference = (lambda: serial.run_workload(workload, sizes)) if paired else None
                out, serial_out = times.round(round_, timed, reference)
                digests.add(checksum(out))
                if paired:
                    serial_digests.add(checksum(serial_out))
                if gauge is not None:
                    gauge.read(round_)
                round_ += 1
                if round_ == cell.repeat and paired and cell.precision:
                    planned = times.rounds_needed(cell.precision, cell.most_rounds)

        if cell.mode == "warm":
            with model.start(cell.workers) as runner:
                infos = runner.warm(workload)
                rounds(lambda: runner.run_workload(workload, sizes))
        else:

            def cold_pass() -> Any:
                with model.start(cell.workers) as runner:
                    return runner.run_workload(workload, sizes)

            rounds(cold_pass)
            with model.start(cell.workers) as runner:  # untimed: what the workers see
                infos = runner.warm(None)
    if gauge is not None:
        result.gauge, result.noisy_host = gauge.readings, gauge.noisy
    result.seconds = statistics.median(result.times)
    result.spread = (max(result.times) - min(result.times)) / result.seconds
    result.checksum = ",".join(sorted(digests))
    if len(digests) > 1:
        result.status = "mismatch"
        result.reason = "repeats of the same task list returned different checksums"
    elif paired:
        result.serial_checksum = ",".join(sorted(serial_digests))
        if result.serial_checksum != result.checksum:
            result.status = "mismatch"
            result.reason = (
                f"checksum {result.checksum} differs from serial {result.serial_checksum}"
            )
        else:
            est = times.ratio(pilot=cell.repeat if cell.precision else 0)
            if est is not None:
                result.set_speedup(est, engine.ESTIMATOR, engine.INTERVAL)
    result.workers_seen = len(infos)
    result.gil_enabled = engine.gil_in_workers(infos)
    blas = [i.get("blas_threads") for i in infos if i.get("blas_threads") is not None]
    result.blas_threads = max(blas) if blas else None
    return result


def measure_record(**cell: Any) -> dict[str, Any]:
    """measure() with plain-data input and output, for running in an isolated child."""
    return measure(Cell(**cell)).as_dict()

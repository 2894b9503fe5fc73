"""The asv suite's shared parts: worker counts, grids, warm pools, cold starts, speedups.

asv imports benchmarks/ through an import hook, so a spawned or forkserver worker can import
``gilcompare`` but never ``benchmarks.*``: everything a benchmark runs lives here or deeper in
the package, and the files in benchmarks/ only declare parameters and call into this module.

The budget: ``nox -s bench`` must finish within 10 minutes per interpreter, creating the
environment included. asv runs every parameter set in a fresh process (about 0.25 s before any
work) and re-runs ``setup`` before every sample, so each sample pays for a new pool. What keeps
the suite inside the budget, and so what its results mean:

* the ``asv`` profile (gilcompare.sizes): 8 tasks of 30 units (about 30 ms each), so
  dispatch stays small beside the work;
* one round of three samples and no warm-up runs (setup has warmed every worker);
* the headline workloads run one model of each kind (threads, fork processes,
  subinterpreters, asyncio) at every worker count; the other workloads run every model at one
  worker count (2, the reference machine's cores), except ``processes-spawn``: warm, its
  workers run tasks as fork's and forkserver's do, and what sets it apart, starting them, is
  what the cold benchmarks time (every model, at that one worker count);
* the speedup and efficiency tracks read one ``setup_cache`` per class that times each cell
  once for both; the GIL tracks one that only starts pools, of the three kinds of worker.
"""

from __future__ import annotations

import contextlib
import gc
import json
import os
import re
import time
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Callable, NamedTuple

from gilcompare import engine
from gilcompare.measure import checksum, ideal_speedup, plan
from gilcompare.models import STANDARD_MODELS, Runner, get_model
from gilcompare.services import local_peers
from gilcompare.sizes import DEFAULT_WORKERS, get_profile
from gilcompare.workloads import UNITS_VERSION, Workload, get_workload

WORKERS_ENV = "GILCOMPARE_WORKERS"  # recorded with every result (gilcompare.meta.RELEVANT_ENV)
PROFILE = "asv"  # every benchmark's task list (gilcompare.sizes); results record it
SCALING = "strong"  # a fixed task list whatever the workers, so serial time / model time
SPOT = 2  # the one worker count of non-headline workloads: the reference machine's cores
ROUNDS_ENV = "GILCOMPARE_ROUNDS"  # rounds of every scaling grid; nox -s bench_quick sets 1
# each cell's speedup is a median of serial/model ratios, one per round, taken in turns with
# the other cells (scaling_grid says why); a family's Scaling may ask for more or fewer
DEFAULT_ROUNDS = 5
CAPACITY_UNITS = 100  # count units per process when measuring the machine's parallel capacity
CAPACITY_PAIRS = 9  # one-worker and two-worker runs alternated: a median of nine ratios


def _version() -> str:
    """asv's benchmark version: what a result measured, not the code that measured it."""
    p = get_profile(PROFILE)
    return f"units{UNITS_VERSION}-{p.name}-{p.task_units}x{p.tasks}-wait{p.wait_tasks}"


VERSION = _version()  # results with another version are not compared with these

# the models each kind of benchmark compares (the module docstring says why these)
GRID_MODELS = ("threads", "processes-fork", "subinterpreters", "asyncio")  # one of each kind
# the A/A control: serial timed against serial in the same rounds as the other cells. Its
# speedup should be 1.0; how far it strays is the noise floor of that run on that host
CONTROL = "serial"
CONTROLLED_MODELS = (CONTROL, *GRID_MODELS)
SPOT_MODELS = tuple(n for n in STANDARD_MODELS if n not in ("serial", "processes-spawn"))
COLD_MODELS = tuple(n for n in STANDARD_MODELS if n != "serial")  # serial starts nothing
GIL_MODELS = ("threads", "processes-fork", "subinterpreters")  # one of each kind of worker
# the deployed libraries' models, on the seed's loop at the spot (dask-cluster needs a cluster)
LIBRARY_MODELS = (
    "joblib-loky",
    "joblib-threads",
    "dask-processes",
    "dask-threads",
    "mp-pool-fork",
    "process-per-task",
)


class Timing(NamedTuple):
    """asv's timing attributes, the same for every benchmark in the suite."""

    repeat: int = 3  # samples per parameter set: a median of three
    number: int = 1  # calls per sample: one task list
    rounds: int = 1  # processes per parameter set (asv's default, 2, doubles the cost)
    warmup_time: float = 0.0  # setup already warmed every worker
    min_run_count: int = 1
    timeout: float = 180.0  # seconds for one parameter set's process


TIMING = Timing()
SETUP_CACHE_TIMEOUT = 900.0  # seconds for one grid (all its cells, one process)


# ------------------------------------------------------------------------- worker counts


def parse_workers(text: str) -> tuple[int, ...]:
    """Worker counts from a comma-separated list such as ``1,2,4,8`` (sorted, unique)."""
    parts = [part.strip() for part in text.split(",")]
    if not all(re.fullmatch(r"[0-9]+", part) and int(part) >= 1 for part in parts):
        raise ValueError(
            f"{WORKERS_ENV} must be a comma-separated list of worker counts of at least 1, "
            f"such as '1,2,4,8'; got {text!r}"
        )
    return tuple(sorted({int(part) for part in parts}))


def worker_counts(environ: Mapping[str, str] | None = None) -> tuple[int, ...]:
    """The suite's worker counts: ``GILCOMPARE_WORKERS`` when set, else 1, 2, 4, 8.

    asv imports the suite to discover it, so a bad value ends that import with a one-line
    message (SystemExit) rather than a traceback.
    """
    text = (os.environ if environ is None else environ).get(WORKERS_ENV, "")
    if not text.strip():
        return tuple(DEFAULT_WORKERS)
    try:
        return parse_workers(text)
    except ValueError as exc:
        raise SystemExit(str(exc)) from None


def scaling_rounds(environ: Mapping[str, str] | None = None, default: int = DEFAULT_ROUNDS) -> int:
    """Rounds of a scaling grid: ``GILCOMPARE_ROUNDS`` when set, else the grid's default (a
    bad value ends asv's import of the suite with a one-line message, as for the workers)."""
    text = (os.environ if environ is None else environ).get(ROUNDS_ENV, "").strip()
    if not text:
        return default
    if not re.fullmatch(r"[0-9]+", text) or int(text) < 1:
        raise SystemExit(
            f"{ROUNDS_ENV} must be a whole number of rounds of at least 1, such as '7'; "
            f"got {text!r}"
        )
    return int(text)


WORKERS = worker_counts()
scaling_rounds()  # a bad GILCOMPARE_ROUNDS stops the import, before any grid runs
SPOT_WORKERS = (SPOT,) if SPOT in WORKERS else WORKERS[:1]


# ------------------------------------------------------------------------------ helpers


def _services(workload: Workload) -> set[str]:
    return {workload.service} if workload.service else set()


def _check_runs(workload: Workload, model: str) -> None:
    """Raise NotImplementedError (asv's skip) when the model cannot run the workload here."""
    reason = get_model(model).cannot_run(workload)
    if reason is not None:
        raise NotImplementedError(reason)


_RESULTS: dict[tuple[str, int], Any] = {}  # (workload, size) -> result: checksums never vary


def serial_results(workload: Workload, sizes: Iterable[int]) -> list[Any]:
    """What running the task list serially returns: every model must return the same.

    Each (workload, size) runs once per process: asv re-runs setup before every sample.
    """
    sizes = list(sizes)
    for size in set(sizes):
        if (workload.name, size) not in _RESULTS:
            _RESULTS[workload.name, size] = workload.fn(size)
    return [_RESULTS[workload.name, size] for size in sizes]


def _verify(out: list[Any], expected: list[Any], workload: Workload, model: str) -> None:
    if out != expected:
        raise RuntimeError(
            f"{model} returned {workload.name} results (checksum {checksum(out)}) that differ "
            f"from serial ({checksum(expected)}): a fast wrong answer is not a result"
        )


@contextlib.contextmanager
def _gc_on() -> Iterator[None]:
    """Collect garbage as a program would: asv's timer switches the collector off, which
    would spare in-process models (serial, threads, asyncio) the work that processes do."""
    was_enabled = gc.isenabled()
    gc.enable()
    try:
        yield
    finally:
        if not was_enabled:
            gc.disable()


# ---------------------------------------------------------------------------- warm pools


class WarmPool:
    """A model's workers, started and warmed on a workload, that run its task list.

    ``start`` in a benchmark's setup (untimed), ``run`` in its time_ method, ``close`` in its
    teardown; ``close`` is safe whether or not ``start`` got anywhere.
    """

    def __init__(self, workload: str, model: str, workers: int) -> None:
        self.workload = get_workload(workload)
        self.model = model
        self.workers = workers
        self.profile = PROFILE
        self.sizes = plan(self.workload, SCALING, workers, self.profile)
        self.runner: Runner | None = None
        self.expected: list[Any] = []
        self.worker_infos: list[dict[str, Any]] = []
        self._stack = contextlib.ExitStack()

    def start(self) -> None:
        """Start the local peers and the workers, and warm every worker (NotImplementedError
        when the model cannot run the workload here)."""
        _check_runs(self.workload, self.model)
        try:
            self._stack.enter_context(local_peers(_services(self.workload)))
            self.runner = self._stack.enter_context(get_model(self.model).start(self.workers))
            self.worker_infos = self.runner.warm(self.workload)
            # after the warm-up, so fork workers never inherit this process's connections
            self.expected = serial_results(self.workload, self.sizes)
        except BaseException:
            self.close()
            raise

    def run(self) -> list[Any]:
        """Run the task list once on the warm workers; fail if results differ from serial."""
        if self.runner is None:
            raise RuntimeError("start the pool before running it")
        with _gc_on():
            out = self.runner.run_workload(self.workload, self.sizes)
        _verify(out, self.expected, self.workload, self.model)
        return out

    @property
    def gil_enabled(self) -> bool:
        """Whether the GIL was enabled in the workers (in any of them, if they disagree)."""
        return _gil(self.worker_infos)

    def close(self) -> None:
        """Shut the workers down and stop the local peers."""
        self.runner = None
        self._stack.close()


# --------------------------------------------------------------------------- cold starts


def cold_run(
    workload: str, model: str, workers: int, profile: str, expected_json: str
) -> Callable[[], list[Any]]:
    """The timed statement of a cold benchmark: create the workers, run, shut them down.

    Runs in the fresh interpreter asv starts for each timeraw_ sample; the expected results
    come from the benchmark process, so nothing here runs a task before the clock starts.
    """
    w = get_workload(workload)
    m = get_model(model)
    sizes = plan(w, SCALING, workers, profile)
    expected = json.loads(expected_json)

    def run() -> list[Any]:
        with _gc_on(), m.start(workers) as runner:
            out = runner.run_workload(w, sizes)
        _verify(json.loads(json.dumps(out)), expected, w, model)
        return out

    return run


class ColdStart:
    """Local peers for a cold benchmark, and the code asv times in a fresh interpreter.

    The timed interpreter inherits this process's environment, and so the peers' addresses.
    """

    def __init__(self, workload: str, model: str, workers: int) -> None:
        self.workload = get_workload(workload)
        self.model = model
        self.workers = workers
        self.profile = PROFILE
        self.expected: list[Any] = []
        self._stack = contextlib.ExitStack()

    def start(self) -> None:
        """Start the local peers and compute the serial results (NotImplementedError when
        the model cannot run the workload here)."""
        _check_runs(self.workload, self.model)
        try:
            self._stack.enter_context(local_peers(_services(self.workload)))
            sizes = plan(self.workload, SCALING, self.workers, self.profile)
            self.expected = serial_results(self.workload, sizes)
        except BaseException:
            self.close()
            raise

    def code(self) -> tuple[str, str]:
        """(statement, setup) for asv's timeraw_: only the statement is timed."""
        args = (self.workload.name, self.model, self.workers, self.profile)
        setup = (
            "from gilcompare.suite import cold_run\n"
            f"run = cold_run({', '.join(map(repr, args))}, {json.dumps(self.expected)!r})"
        )
        return "run()", setup

    def close(self) -> None:
        """Stop the local peers."""
        self._stack.close()


# ------------------------------------------------------------------------------ machine


def parallel_capacity(units: int = CAPACITY_UNITS, pairs: int = CAPACITY_PAIRS) -> float:
    """How many times more pure-Python work two fork workers finish than one, in the same
    time: 2.0 when this machine gives them two idle cores, less when it is shared (a VM's
    host, other jobs). No parallel speedup measured alongside can beat it.

    One busy worker and two busy workers take turns on the same warm pool, so dispatch costs
    the same in both; the estimate is gilcompare.engine's, the reference being twice the
    time of one worker's share.
    """
    w = get_workload("count")
    _check_runs(w, "processes-fork")
    one: list[float] = []
    two: list[float] = []
    with get_model("processes-fork").start(2) as pool:
        pool.warm(w)
        for round_ in range(pairs):
            turns = [(two, [units, units]), (one, [units])]
            for times, sizes in turns if engine.candidate_first(round_) else turns[::-1]:
                t0 = time.perf_counter()
                pool.run(w.fn, sizes)
                times.append(time.perf_counter() - t0)
    capacity = engine.speedup([2 * t for t in one], two)
    assert capacity is not None
    return round(capacity, 4)


# ------------------------------------------------------------------------- grids of cells


@dataclass
class GridCell:
    """One cell of a grid: what a model's workers showed on a workload, against serial."""

    workload: str
    model: str
    workers: int
    status: str = "ok"  # ok | skipped | failed
    reason: str = ""
    gil_enabled: bool | None = None  # as seen inside the workers
    serial_times: list[float] = field(default_factory=list)
    times: list[float] = field(default_factory=list)
    speedup: float | None = None  # median over rounds of serial time / model time
    efficiency: float | None = None  # speedup / ideal
    ideal: int | None = None  # workers for waiting work, else min(workers, usable CPUs)


@dataclass
class Grid:
    """The cells one asv ``setup_cache`` measured, looked up by the benchmarks' setup."""

    cells: dict[str, GridCell] = field(default_factory=dict)

    def add(self, cell: GridCell) -> None:
        self.cells[f"{cell.workload}/{cell.model}/{cell.workers}"] = cell

    def cell(self, workload: str, model: str, workers: int) -> GridCell:
        """The cell: NotImplementedError when skipped (asv's skip), RuntimeError when failed."""
        c = self.cells[f"{workload}/{model}/{workers}"]
        if c.status == "skipped":
            raise NotImplementedError(c.reason)
        if c.status != "ok":
            raise RuntimeError(f"{workload} on {model} with {workers} workers failed: {c.reason}")
        return c


def _gil(infos: list[dict[str, Any]]) -> bool | None:
    return engine.gil_in_workers(infos)


def observe_gil(workload: str, model: str, workers: int) -> GridCell:
    """Start and warm a model on a workload, and record whether its workers run with a GIL."""
    w = get_workload(workload)
    cell = GridCell(workload, model, workers)
    with local_peers(_services(w)), get_model(model).start(workers) as pool:
        cell.gil_enabled = _gil(pool.warm(w))
    return cell


def visit(cell: GridCell, round_: int) -> None:
    """One round of a cell: start and warm its workers, then time the model and serial once
    each on the same task list, back to back (the order alternates with the round).

    The results of both must equal serial ones computed beforehand: a fast wrong answer
    fails the cell instead of being timed.
    """
    w = get_workload(cell.workload)
    sizes = plan(w, SCALING, cell.workers, PROFILE)
    with contextlib.ExitStack() as stack:
        pool = stack.enter_context(get_model(cell.model).start(cell.workers))
        cell.gil_enabled = _gil(pool.warm(w))
        # computed (once per process) and run inline after the model's workers started, so
        # fork workers inherit no open connection; the serial results already warmed serial
        expected = serial_results(w, sizes)
        serial = stack.enter_context(get_model("serial").start(1))
        pairs = [(pool, cell.times, cell.model), (serial, cell.serial_times, "serial")]
        for runner, times, name in pairs if engine.candidate_first(round_) else pairs[::-1]:
            t0 = time.perf_counter()
            out = runner.run_workload(w, sizes)
            times.append(time.perf_counter() - t0)
            _verify(out, expected, w, name)


def _speedup(cell: GridCell) -> None:
    """Speedup: the median over rounds of serial time / model time, each pair timed back to
    back; efficiency: speedup / ideal."""
    if cell.status != "ok":  # a failed round leaves its timings unpaired
        return
    speedup = engine.speedup(cell.serial_times, cell.times)
    if cell.ideal and speedup is not None:
        cell.speedup = round(speedup, 4)
        cell.efficiency = round(speedup / cell.ideal, 4)


def scaling_grid(
    workloads: Iterable[str],
    models: Iterable[str],
    workers: Iterable[int],
    rounds: int = DEFAULT_ROUNDS,
) -> Grid:
    """Speedup and efficiency of every cell (asv setup_cache of the Scaling benchmarks).

    The cells take turns: in each of ``rounds`` rounds every cell gets one ``visit`` (a new
    warm pool, one model run and one serial run). On a shared machine a core can go missing
    for seconds at a time; taking turns spreads each cell's runs over the whole grid, so such
    seconds spoil one round of a few cells rather than every round of one cell, and the
    median over rounds sees past them. One failing cell does not sink the rest.

    A ``serial`` model among ``models`` is the A/A control: serial against serial, ideal 1,
    so its speedup shows how far this run's noise alone moves a ratio.
    """
    workloads, models, workers = list(workloads), list(models), list(workers)
    grid = Grid()
    for workload in workloads:
        w = get_workload(workload)
        for model in models:
            reason = get_model(model).cannot_run(w)
            for n in workers:
                ideal = 1 if model == CONTROL else ideal_speedup(w, n)
                cell = GridCell(workload, model, n, ideal=ideal)
                if reason is not None:
                    cell.status, cell.reason = "skipped", reason
                grid.add(cell)
    services = set().union(*(_services(get_workload(name)) for name in workloads))
    with local_peers(services):
        for round_ in range(scaling_rounds(default=rounds)):
            for cell in grid.cells.values():
                if cell.status != "ok":
                    continue
                try:
                    visit(cell, round_)
                except Exception as exc:
                    cell.status, cell.reason = "failed", f"{type(exc).__name__}: {exc}"
    for cell in grid.cells.values():
        _speedup(cell)
    return grid


def gil_grid(workloads: Iterable[str], models: Iterable[str], workers: Iterable[int]) -> Grid:
    """The GIL status in every cell's workers (asv setup_cache of the Gil benchmarks).
    One failing cell does not sink the rest."""
    grid = Grid()
    for workload in workloads:
        for model in models:
            reason = get_model(model).cannot_run(get_workload(workload))
            for n in workers:
                if reason is not None:
                    grid.add(GridCell(workload, model, n, "skipped", reason))
                    continue
                try:
                    grid.add(observe_gil(workload, model, n))
                except Exception as exc:
                    grid.add(GridCell(workload, model, n, "failed", f"{type(exc).__name__}: {exc}"))
    return grid

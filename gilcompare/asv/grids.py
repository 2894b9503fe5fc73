"""Grids of cells measured once per asv class in ``setup_cache``: speedups and GIL status.

The speedup and efficiency tracks read one grid per class that times each cell once for both;
the GIL tracks one that only starts pools, of the three kinds of worker.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path

from gilcompare.asv.pools import serial_results, services_of, verify
from gilcompare.asv.suite import CONTROL, scaling_rounds
from gilcompare.measure import engine
from gilcompare.measure.cells import ideal_speedup, plan
from gilcompare.measure.gauge import Gauge
from gilcompare.measure.paired import PairedTimes
from gilcompare.measure.services import local_peers
from gilcompare.measure.sizing import capacity_processes, usable_cpus
from gilcompare.models import get_model
from gilcompare.report import validate
from gilcompare.settings import ASV_PROFILE, ASV_SCALING, DEFAULT_ROUNDS
from gilcompare.workloads import get_workload


@dataclass
class GridResult:
    """One cell of a grid: what a model's workers showed on a workload, against serial."""

    workload: str
    model: str
    workers: int
    status: str = "ok"  # ok | skipped | failed
    reason: str = ""
    gil_enabled: bool | None = None  # as seen inside the workers
    serial_times: list[float] = field(default_factory=list)
    times: list[float] = field(default_factory=list)
    pilot: int = 0  # the rounds that planned this cell's later ones (0: it needed none)
    speedup: float | None = None  # median over rounds of serial time / model time
    efficiency: float | None = None  # speedup / ideal
    ideal: float | None = None  # gilcompare.measure.engine.ideal_speedup of the task list


@dataclass
class Grid:
    """The cells one asv ``setup_cache`` measured, looked up by the benchmarks' setup."""

    cells: dict[str, GridResult] = field(default_factory=dict)
    gauge: list[float] = field(default_factory=list)  # the noise gauge, one per round
    gauge_processes: int = 2  # the busy processes each reading set against one (sizing)
    gauge_reason: str = ""  # why there is no gauge reading

    def add(self, cell: GridResult) -> None:
        self.cells[f"{cell.workload}/{cell.model}/{cell.workers}"] = cell

    def cell(self, workload: str, model: str, workers: int) -> GridResult:
        """The cell: NotImplementedError when skipped (asv's skip), RuntimeError when failed."""
        c = self.cells[f"{workload}/{model}/{workers}"]
        if c.status == "skipped":
            raise NotImplementedError(c.reason)
        if c.status != "ok":
            raise RuntimeError(f"{workload} on {model} with {workers} workers failed: {c.reason}")
        return c


def observe_gil(workload: str, model: str, workers: int) -> GridResult:
    """Start and warm a model on a workload, and record whether its workers run with a GIL."""
    w = get_workload(workload)
    cell = GridResult(workload=workload, model=model, workers=workers)
    with local_peers(services_of(w)), get_model(model).start(workers) as pool:
        cell.gil_enabled = engine.gil_in_workers(pool.warm(w))
    return cell


def visit(cell: GridResult, round_: int, paired: bool = True) -> None:
    """One round of a cell: start and warm its workers, then time the model and serial once
    each on the same task list, back to back (the order alternates with the round). Not
    ``paired``, only the model is timed: ``reference_round`` times the serial run that the
    round's cells of this workload share.

    The results of both must equal serial ones computed beforehand: a fast wrong answer
    fails the cell instead of being timed.
    """
    w = get_workload(cell.workload)
    sizes = plan(w, ASV_SCALING, cell.workers, ASV_PROFILE)
    with contextlib.ExitStack() as stack:
        pool = stack.enter_context(get_model(cell.model).start(cell.workers))
        cell.gil_enabled = engine.gil_in_workers(pool.warm(w))
        # computed (once per process) and run inline after the model's workers started, so
        # fork workers inherit no open connection; the serial results already warmed serial
        expected = serial_results(w, sizes)
        serial = stack.enter_context(get_model("serial").start(1)) if paired else None
        out, serial_out = PairedTimes(cell.times, cell.serial_times).round(
            round_,
            lambda: pool.run_workload(w, sizes),
            (lambda: serial.run_workload(w, sizes)) if serial is not None else None,
        )
    verify(out, expected, w, cell.model)
    if paired:
        verify(serial_out, expected, w, "serial")


def reference_round(workload: str, round_: int) -> float:
    """One serial run of a workload's task list, timed, for every cell of the round that
    shares it (``scaling_grid``'s ``shared_reference``); its result is checked too."""
    w = get_workload(workload)
    sizes = plan(w, ASV_SCALING, 1, ASV_PROFILE)  # strong scaling: one list for every count
    timed = PairedTimes()
    with get_model("serial").start(1) as serial:
        out, _ = timed.round(round_, lambda: serial.run_workload(w, sizes), None)
    verify(out, serial_results(w, sizes), w, "serial")
    return timed.candidate[0]


def _speedup(cell: GridResult) -> None:
    """Speedup: the median over rounds of serial time / model time, each pair timed back to
    back; efficiency: speedup / ideal (gilcompare.measure.engine)."""
    if cell.status != "ok":  # a failed round leaves its timings unpaired
        return
    speedup = PairedTimes(cell.times, cell.serial_times).speedup()
    efficiency = engine.efficiency(speedup, cell.ideal)
    if speedup is not None and efficiency is not None:
        cell.speedup, cell.efficiency = round(speedup, 4), round(efficiency, 4)


def scaling_grid(
    workloads: Iterable[str],
    models: Iterable[str],
    workers: Iterable[int],
    rounds: int = DEFAULT_ROUNDS,
    shared_reference: bool = False,
    precision: float = 0.0,
    most_rounds: int = 0,
) -> Grid:
    """Speedup and efficiency of every cell (asv setup_cache of the Scaling benchmarks).

    The cells take turns: in each of ``rounds`` rounds every cell gets one ``visit`` (a new
    warm pool, one model run and one serial run). On a shared machine a core can go missing
    for seconds at a time; taking turns spreads each cell's runs over the whole grid, so such
    seconds spoil one round of a few cells rather than every round of one cell, and the
    median over rounds sees past them. One failing cell does not sink the rest.

    With ``shared_reference`` each workload's serial run is timed once per round, before its
    cells on odd rounds and after them on even ones, and every cell of the round is divided
    by it. Waiting work takes it: a serial run that sleeps or waits on a local peer hardly
    moves with the host's share of a core, so a serial run of its own per cell would cost
    half the grid and buy nothing. So does the shared-object family, whose three cells per
    workload (one model of each kind at one worker count) all run within seconds of it. The
    headline CPU grids keep a serial run per cell, back to back.

    A ``serial`` model among ``models`` is the A/A control: serial against serial, ideal 1,
    so its speedup shows how far this run's noise alone moves a ratio.

    With a ``precision``, the ``rounds`` are a pilot: from them each cell's rounds are planned
    for a 95 % interval within ± that fraction, up to ``most_rounds``
    (gilcompare.measure.engine.rounds_needed), and the cells that need more take turns again
    until each has its number. A cell planned this way records its pilot, so that its
    interval is Stein's.
    """
    workloads, models, workers = list(workloads), list(models), list(workers)
    grid = Grid()
    for workload in workloads:
        w = get_workload(workload)
        for model in models:
            reason = get_model(model).cannot_run(w)
            for n in workers:
                tasks = len(plan(w, ASV_SCALING, n, ASV_PROFILE))
                ideal = 1 if model == CONTROL else ideal_speedup(w, n, None, tasks)
                cell = GridResult(workload=workload, model=model, workers=n, ideal=ideal)
                if reason is not None:
                    cell.status, cell.reason = "skipped", reason
                grid.add(cell)
    services = set().union(*(services_of(get_workload(name)) for name in workloads))
    shared = shared_reference and ASV_SCALING == "strong"  # strong: one task list per workload
    gauge = Gauge(capacity_processes())
    pilot = scaling_rounds(default=rounds)
    with gauge.running(), local_peers(services):
        for round_ in range(pilot):
            cells = list(grid.cells.values())
            halfway = cells[len(cells) // 2] if cells else None  # the gauge reads there
            _take_turns(cells, workloads, round_, shared, (gauge, halfway))
        planned = _plan(grid, pilot, precision, most_rounds)
        for round_ in range(pilot, max(planned.values(), default=pilot)):
            cells = [cell for cell in grid.cells.values() if planned.get(id(cell), 0) > round_]
            _take_turns(cells, workloads, round_, shared)
    grid.gauge, grid.gauge_reason = gauge.readings, gauge.reason
    grid.gauge_processes = gauge.processes
    for cell in grid.cells.values():
        _speedup(cell)
    return grid


def _take_turns(
    cells: list[GridResult],
    workloads: list[str],
    round_: int,
    shared: bool,
    gauge_at: tuple[Gauge, GridResult | None] | None = None,
) -> None:
    """One round of the given cells, a workload's block at a time (its shared serial run
    before the block on odd rounds and after it on even ones); ``gauge_at``: the gauge and
    the cell before which it reads."""
    for workload in workloads:
        block = [cell for cell in cells if cell.workload == workload]
        if shared and not engine.candidate_first(round_):
            _share_reference(block, round_)
        for cell in block:
            if gauge_at is not None and cell is gauge_at[1]:
                gauge_at[0].read(round_)
            if cell.status != "ok":
                continue
            try:
                visit(cell, round_, paired=not shared)
            except Exception as exc:
                _fail(cell, exc)
        if shared and engine.candidate_first(round_):
            _share_reference(block, round_)


def _plan(grid: Grid, pilot: int, precision: float, most_rounds: int) -> dict[int, int]:
    """The rounds each working cell needs in all (by id), planned from its pilot rounds;
    a cell that needs more than the pilot records it. Nothing without a precision."""
    planned: dict[int, int] = {}
    if precision <= 0 or pilot < 2:
        return planned
    for cell in grid.cells.values():
        if cell.status != "ok" or len(cell.times) != pilot:
            continue
        needed = PairedTimes(cell.times, cell.serial_times).rounds_needed(precision, most_rounds)
        if needed > pilot:
            planned[id(cell)], cell.pilot = needed, pilot
    return planned


def _fail(cell: GridResult, exc: BaseException) -> None:
    cell.status, cell.reason = "failed", f"{type(exc).__name__}: {exc}"


def _share_reference(block: list[GridResult], round_: int) -> None:
    """Time the block's workload serially once and pair it with each of its cells' model run
    of this round (a cell's own runs stay in step: every working cell runs once a round)."""
    working = [cell for cell in block if cell.status == "ok"]
    if not working:
        return
    try:
        seconds = reference_round(working[0].workload, round_)
    except Exception as exc:
        for cell in working:
            _fail(cell, exc)
        return
    for cell in working:
        cell.serial_times.append(seconds)


ROUNDS_DIR = "GILCOMPARE_ROUNDS_DIR"  # where `nox -s bench` keeps the rounds of the commit


def keep_rounds(
    grid: Grid, benchmark_class: str, environ: dict[str, str] | None = None
) -> Path | None:
    """Write every cell's per-round timings and the gauge's readings, which asv's one value
    per cell cannot hold, as ``$GILCOMPARE_ROUNDS_DIR/<build>/<class>.jsonl``: the intervals
    and the noisy-host flag are computed from them. ``nox -s bench`` names the folder after
    the commit it measures (asv's own ASV_COMMIT goes stale in the second environment of a
    PYTHON_GIL pair, which shares the first one's install); nothing is written without it."""
    from gilcompare.measure.conditions import python_tag

    environ = dict(os.environ) if environ is None else environ
    folder = environ.get(ROUNDS_DIR)
    if not folder:
        return None
    build = python_tag() + ("+gil" if environ.get("PYTHON_GIL") == "1" else "")
    path = Path(folder) / build / f"{benchmark_class}.jsonl"
    path.parent.mkdir(parents=True, exist_ok=True)
    gauge = {
        "kind": "gauge",
        "processes": grid.gauge_processes,
        "readings": grid.gauge,
        "cpu_usable": usable_cpus(),
    }
    if grid.gauge_reason:
        gauge["reason"] = grid.gauge_reason
    lines = [gauge, *({"kind": "cell", **asdict(cell)} for cell in grid.cells.values())]
    validate.write_file(str(path), "".join(json.dumps(line) + "\n" for line in lines))
    return path


def gil_grid(workloads: Iterable[str], models: Iterable[str], workers: Iterable[int]) -> Grid:
    """The GIL status in every cell's workers (asv setup_cache of the Gil benchmarks).
    One failing cell does not sink the rest."""
    grid = Grid()
    for workload in workloads:
        for model in models:
            reason = get_model(model).cannot_run(get_workload(workload))
            for n in workers:
                if reason is not None:
                    grid.add(
                        GridResult(
                            workload=workload,
                            model=model,
                            workers=n,
                            status="skipped",
                            reason=reason,
                        )
                    )
                    continue
                try:
                    grid.add(observe_gil(workload, model, n))
                except Exception as exc:
                    grid.add(
                        GridResult(
                            workload=workload,
                            model=model,
                            workers=n,
                            status="failed",
                            reason=f"{type(exc).__name__}: {exc}",
                        )
                    )
    return grid

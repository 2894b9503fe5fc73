"""A run's matrix: every cell measured in an isolated child, serial baselines first.

Checksums are compared with the serial baseline of the same task list, results come back in a
fixed order (workload, then model, then workers), and each cell has a rough duration estimate
from its task sizes for the progress line and ``--dry-run``.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Callable, Protocol

from gilcompare.errors import EXIT_SIGINT, Interrupted
from gilcompare.measure import isolate
from gilcompare.measure.cells import Cell, Result, cell_fields, ideal_speedup, plan
from gilcompare.models import BASELINE, MODELS
from gilcompare.settings import CHILD_START_S, MS_PER_UNIT
from gilcompare.workloads import WORKLOADS


class Progress(Protocol):
    """What a run reports while it measures (the command line prints it)."""

    def starting(self, index: int, total: int, cell: Cell, elapsed: float, left: float) -> None:
        """Measurement ``index`` of ``total`` is about to start."""

    def finished(
        self, index: int, total: int, cell: Cell, res: Result, elapsed: float, left: float
    ) -> None:
        """Measurement ``index`` of ``total`` has its result."""


def run_cells(
    cells: Sequence[Cell],
    timeout: float,
    progress: Progress | None = None,
    on_result: Callable[[list[Result]], None] | None = None,
) -> list[Result]:
    """Measure every cell in an isolated child, serial baselines first; compare checksums.

    Results gathered so far stay in the returned list when an interrupt arrives: the
    Interrupted exception carries them as ``partial``.
    """
    baselines: dict[Cell, Result] = {}
    order = measuring_order(cells)
    estimates = [estimate_seconds(cell) for cell in order]
    results: list[Result] = []
    started = time.monotonic()
    try:
        for i, cell in enumerate(order, 1):
            if progress is not None:
                progress.starting(i, len(order), cell, *time_left(started, estimates, i - 1))
            res = measure_isolated(cell, timeout)
            if cell.model == BASELINE and not cell.control:
                baselines[cell] = res
            elif cell.baseline() in baselines:
                res.compare(baselines[cell.baseline()])
            if cell.model == BASELINE and not cell.control and res.status == "ok":
                res.speedup, res.efficiency, res.ideal = 1.0, 1.0, 1
            results.append(res)
            if on_result is not None:
                on_result(ordered(results))
            if progress is not None:
                progress.finished(i, len(order), cell, res, *time_left(started, estimates, i))
    except (KeyboardInterrupt, Interrupted) as exc:
        status = exc.status if isinstance(exc, Interrupted) else EXIT_SIGINT
        raise Interrupted(status, ordered(results)) from None
    return ordered(results)


def measuring_order(cells: Sequence[Cell]) -> list[Cell]:
    """The cells as they are measured: each serial baseline first, then the rest."""
    order: list[Cell] = []
    for cell in cells:
        base = cell.baseline()
        if base not in order:
            order.append(base)
    order += [c for c in cells if (c.model != BASELINE or c.control) and c not in order]
    return order


def estimate_seconds(cell: Cell) -> float:
    """A rough duration for one measurement, from the task sizes; an estimate, not a promise."""
    workload = WORKLOADS[cell.workload]
    units = sum(plan(workload, cell.scaling, cell.workers, cell.profile, cell.size, cell.tasks))
    serial = units * MS_PER_UNIT / 1000
    if cell.model == BASELINE:
        per_repeat = serial * (2 if cell.control and cell.paired else 1)
    else:
        tasks = len(plan(workload, cell.scaling, cell.workers, cell.profile, cell.size, cell.tasks))
        n = tasks if cell.scaling == "strong" else None
        per_repeat = serial / max(1, ideal_speedup(workload, cell.workers, None, n))
        per_repeat += serial if cell.paired else 0.0  # serial timed beside every repeat
    return CHILD_START_S + cell.repeat * per_repeat  # the pilot: most cells need no more


def time_left(started: float, estimates: Sequence[float], done: int) -> tuple[float, float]:
    """Seconds elapsed and left: the estimates still to run, scaled by how the finished ones
    compared with theirs."""
    elapsed = time.monotonic() - started
    left = sum(estimates[done:])
    finished = sum(estimates[:done])
    if done and finished > 0:
        left *= elapsed / finished
    return elapsed, left


def ordered(results: list[Result]) -> list[Result]:
    """Group by workload (in the registry's order, the user's own after the built-ins), serial
    first, then models, then workers."""
    w_rank = {name: i for i, name in enumerate(WORKLOADS)}
    for r in results:
        w_rank.setdefault(r.workload, len(w_rank))
    m_rank = {name: i for i, name in enumerate(MODELS)}
    return sorted(
        results, key=lambda r: (w_rank[r.workload], m_rank[r.model], r.control, r.workers)
    )


def measure_isolated(
    cell: Cell,
    timeout: float,
    python: str | None = None,
    env: dict[str, str] | None = None,
) -> Result:
    """One cell in a fresh child (under the interpreter ``python``, with ``env`` added to its
    environment); a child that fails gives a 'failed' result saying why."""
    try:
        record = isolate.call(
            "gilcompare.measure.cells:measure_record", cell_fields(cell), timeout, python, env
        )
        return Result.from_dict(record)
    except isolate.IsolatedFailure as failure:
        return Result(
            workload=cell.workload,
            model=cell.model,
            workers=cell.workers,
            scaling=cell.scaling,
            mode=cell.mode,
            status="failed",
            reason=failure.reason,
            profile=cell.profile,
            repeat=cell.repeat,
            traceback=failure.traceback,
            start_method=MODELS[cell.model].start_method,
        )

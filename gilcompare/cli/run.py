"""`gilcompare run`, `report` and `calibrate`: measure a matrix of cells, show the results."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from typing import Any

from gilcompare.cli import common, own
from gilcompare.cli.common import PLOT_HELP, PROG, clock, measurement_options
from gilcompare.cli.options import choices, positive_int, positive_ints
from gilcompare.cli.options import workloads as workload_names
from gilcompare.cli.progress import Progress
from gilcompare.errors import EXIT_FAILED, Interrupted, UsageError
from gilcompare.measure import engine
from gilcompare.measure.cells import MODES, Cell, Result, plan
from gilcompare.measure.matrix import estimate_seconds, measuring_order, run_cells
from gilcompare.measure.sizing import default_workers
from gilcompare.models import BASELINE, MODELS, STANDARD_MODELS, gil_reenabled
from gilcompare.report import validate
from gilcompare.report.records import load_results, records, save_results
from gilcompare.report.tables import table, to_json
from gilcompare.settings import (
    CHILD_START_S,
    DEFAULT_PROFILE,
    MS_PER_UNIT,
    PROFILES,
    SCALINGS,
)
from gilcompare.workloads import DEFAULT_WORKLOADS, WORKLOADS

RUN_COLUMNS = [
    ("workload", "workload"),
    ("model", "model"),
    ("workers", "workers"),
    ("scaling", "scaling"),
    ("seconds", "median s"),
    ("spread_pct", "±%"),
    ("rounds_timed", "rounds"),
    ("speedup_shown", "speedup [95 %]"),
    ("efficiency", "efficiency"),
    ("bar", "of ideal"),
    ("ideal", "ideal"),
    ("gil_enabled", "GIL in workers"),
    ("status", "status"),
    ("reason", "note"),
]


def _dry_run(order: Sequence[Cell], as_json: bool, timeout: float | None = None) -> int:
    """The measurements a run would make and an estimated duration; nothing is measured but
    one task of each function of the user's, timed once to know what a unit costs."""
    rows = []
    scale = own.unit_cost(order, timeout)
    for cell in order:
        workload = WORKLOADS[cell.workload]
        sizes = plan(workload, cell.scaling, cell.workers, cell.profile, cell.size, cell.tasks)
        estimate = own.estimate(cell, estimate_seconds(cell), scale)
        rows.append(
            {
                "workload": cell.workload,
                "model": "serial (A/A)" if cell.control else cell.model,
                "workers": cell.workers,
                "scaling": cell.scaling,
                "tasks": len(sizes),
                "units": sizes[0] if sizes else 0,
                "repeat": cell.repeat,
                "estimate_s": estimate,
            }
        )
    total = sum(row["estimate_s"] for row in rows)
    if as_json:
        print(to_json(rows))
        return 0
    columns = [
        ("workload", "workload"),
        ("model", "model"),
        ("workers", "workers"),
        ("scaling", "scaling"),
        ("tasks", "tasks"),
        ("units", "units per task"),
        ("repeat", "repeat"),
        ("estimate_s", "estimate s"),
    ]
    print(table(rows, columns))
    timed, then = own.dry_run_notes(scale)
    print(
        f"{len(rows)} measurements, about {clock(total)} in all: an estimate assuming "
        f"{MS_PER_UNIT:g} ms per unit (see `gilcompare calibrate`){timed}, ideal speedups and "
        f"{CHILD_START_S:g} s to start each measurement's child; nothing else was measured"
    )
    if then:
        print(then)
    return 0


def result_rows(results: Sequence[Result]) -> list[dict[str, Any]]:
    rows = []
    for r in results:
        row = r.as_dict()
        row["spread_pct"] = None if r.spread is None else 100 * r.spread
        row["bar"] = _bar(r.efficiency)
        row["rounds_timed"] = len(r.times)  # beyond --repeat when the pilot planned more
        row["speedup_shown"] = engine.format_ratio(r.speedup, r.speedup_low, r.speedup_high)
        if r.control:
            row["model"] = "serial (A/A)"
        row["reason"] = (r.reason[:70] + "…") if len(r.reason) > 71 else r.reason
        rows.append(row)
    return rows


def _bar(fraction: float | None, width: int = 10) -> str:
    """Efficiency as a bar: full means the ideal speedup was reached."""
    if fraction is None or fraction != fraction:
        return ""
    filled = round(max(0.0, min(1.0, fraction)) * width)
    return "█" * filled + "·" * (width - filled)


def emit_results(results: Sequence[Result], as_json: bool) -> None:
    if as_json:
        print(to_json(records(results)))
    else:
        print(table(result_rows(results), RUN_COLUMNS))


def noisy_host(results: Sequence[Result]) -> str | None:
    """The cells whose noise gauge says the host lent fewer cores than they needed."""
    import statistics

    from gilcompare.measure.gauge import NOISY_SHARE

    noisy = [r for r in results if r.noisy_host]
    if not noisy:
        return None
    named = ", ".join(
        f"{r.workload}/{r.model}/{r.workers} ({statistics.median(r.gauge):.2f})" for r in noisy
    )
    return (
        f"noisy host: the gauge read below {NOISY_SHARE:.0%} of the cores these cells needed "
        f"while they ran, so their speedups understate the model: {named}"
    )


def _exit_status(results: Sequence[Result]) -> int:
    return EXIT_FAILED if any(r.status in ("failed", "mismatch") for r in results) else 0


def run_and_emit(
    cells: Sequence[Cell], args: argparse.Namespace, emit: Any = None, after: Any = None
) -> int:
    """Measure the cells, show them (``emit``), then ``after(results)`` once all are in."""
    emit = emit or emit_results
    output = getattr(args, "output", None)
    plot = getattr(args, "plot", None)
    # before measuring: a run is not lost to a file that cannot be written
    validate.check_targets(("--output", output), ("--plot", plot))
    if plot is not None:
        from gilcompare.report.plot import check_target

        check_target(plot)
    if getattr(args, "dry_run", False):
        try:
            return _dry_run(measuring_order(cells), args.json, args.timeout)
        except own.TaskFailed as exc:
            print(f"{PROG}: {exc}", file=sys.stderr)
            return EXIT_FAILED
    saver = _Saver(output) if output else None
    progress = Progress(not args.quiet, args.debug)
    try:
        results = run_cells(cells, args.timeout, progress, saver)
    except Interrupted as exc:
        progress.close()
        partial = exc.partial
        if partial:
            emit(partial, args.json)
        print(f"{PROG}: interrupted; {len(partial)} measurements kept", file=sys.stderr)
        return exc.status
    progress.close()
    emit(results, args.json)
    if after is not None:
        after(results)
    if note := gil_reenabled(results):
        print(f"{PROG}: note: {note}", file=sys.stderr)
    if note := noisy_host(results):
        print(f"{PROG}: note: {note}", file=sys.stderr)
    status = _exit_status(results)
    if saver is not None and saver.failed:
        status = status or EXIT_FAILED
    try:
        _plot(results, plot)
    except (OSError, ValueError, ArithmeticError) as exc:  # the table is out: a run, not usage
        print(f"{PROG}: no plot: {getattr(exc, 'strerror', None) or exc}", file=sys.stderr)
        status = status or EXIT_FAILED
    return status


class _Saver:
    """Rewrites --output after every measurement; a failed write warns once, measuring goes on
    and the file keeps what was last written."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.failed = False

    def __call__(self, results: Sequence[Result]) -> None:
        try:
            save_results(self.path, results)
        except OSError as exc:
            if not self.failed:
                reason = exc.strerror or str(exc)
                print(
                    f"{PROG}: cannot write --output {self.path}: {reason}; measuring goes on, "
                    "the file keeps what was written before",
                    file=sys.stderr,
                )
            self.failed = True


def _plot(results: Sequence[Result], path: str | None) -> None:
    """Draw speedup against workers when --plot asked for it (gilcompare.report.plot)."""
    if path and results:
        from gilcompare.report.plot import speedup_plot

        print(speedup_plot(results, path), file=sys.stderr)


def cmd_report(args: argparse.Namespace) -> int:
    validate.check_targets(("--plot", args.plot), reads=[args.file])
    results = load_results(args.file)
    emit_results(results, args.json)
    try:
        _plot(results, args.plot)
    except UsageError:
        raise
    except (OSError, ValueError, ArithmeticError) as exc:  # matplotlib on odd but valid data
        print(f"{PROG}: no plot: {getattr(exc, 'strerror', None) or exc}", file=sys.stderr)
        return EXIT_FAILED
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    workloads = workload_names(args.workload, list(WORKLOADS), DEFAULT_WORKLOADS)
    own_models, own_workers = own.defaults(workloads)
    models = choices("model", args.model, list(MODELS), own_models or list(STANDARD_MODELS))
    from gilcompare.models.libraries import DASK_SCHEDULER_ENV, dask_scheduler_address

    given = args.dask_scheduler
    if given is None and any(MODELS[m].on_a_cluster for m in models):  # checked too
        given = os.environ.get(DASK_SCHEDULER_ENV) or None
    if given is not None:  # the children (and their workers) read it
        try:
            address = dask_scheduler_address(given)
        except ValueError as exc:
            raise UsageError(str(exc)) from None
        os.environ[DASK_SCHEDULER_ENV] = address
    chosen = positive_ints("--workers", args.workers, own_workers or [])  # else the machine's
    waits = {w: getattr(WORKLOADS.get(w), "waits", False) for w in workloads}
    grid = {w: chosen or default_workers(waits[w]) for w in workloads}  # (measure.sizing)
    repeat = positive_int("--repeat", args.repeat)
    size = positive_int("--size", args.size) if args.size is not None else None
    tasks = positive_int("--tasks", args.tasks) if args.tasks is not None else None
    shape = {"scaling": args.scaling, "mode": args.mode, "profile": args.profile}
    shape.update(size=size, tasks=tasks, repeat=repeat, **common.planned_rounds(args, repeat))
    cells = [
        Cell(workload=w, model=m, workers=n, paired=not args.unpaired, **shape)
        for w in workloads
        for m in models
        for n in ([1] if m == BASELINE and args.scaling == "strong" else grid[w])
    ]
    if args.control:  # the A/A control at every worker count: serial timed against serial
        control = {"model": BASELINE, "control": True, **shape}
        cells += [Cell(workload=w, workers=n, **control) for w in workloads for n in grid[w]]
    return run_and_emit(cells, args, after=lambda results: own.answer(results, args))


def cmd_calibrate(args: argparse.Namespace) -> int:
    """Milliseconds one unit of each workload costs here, serially (for checking UNITS)."""
    workloads = workload_names(args.workload, DEFAULT_WORKLOADS, DEFAULT_WORKLOADS)
    repeat = positive_int("--repeat", args.repeat)
    quick = {"model": BASELINE, "workers": 1, "profile": "quick", "tasks": 4, "repeat": repeat}
    cells = [Cell(workload=w, **quick) for w in workloads]

    def emit(results: Sequence[Result], as_json: bool) -> None:
        rows = [
            {
                "workload": r.workload,
                "status": r.status,
                "ms_per_unit": (r.seconds or 0) * 1000 / max(1, r.tasks * r.task_units)
                if r.seconds
                else None,
            }
            for r in results
        ]
        print(
            to_json(rows)
            if as_json
            else table(
                rows,
                [("workload", "workload"), ("ms_per_unit", "ms per unit"), ("status", "status")],
            )
        )

    return run_and_emit(cells, args, emit)


def add_run(sub: Any) -> None:
    """The `run` command's options."""
    run = sub.add_parser("run", help="measure workloads × models × workers")
    run.add_argument(
        "--workload",
        action="append",
        metavar="W",
        help="workload(s), comma-separated or repeated (default: all but faults); or your own "
        f"function: {own.HELP}",
    )
    run.add_argument(
        "--model",
        action="append",
        metavar="M",
        help="model(s), comma-separated or repeated (default: all but the deployed "
        "libraries' models, which `gilcompare models` lists)",
    )
    run.add_argument(
        "--workers", action="append", metavar="N", help="worker counts (default: the machine's)"
    )
    run.add_argument(
        "--scaling",
        choices=SCALINGS,
        default="strong",
        help="strong: fixed total work; weak: fixed work per worker",
    )
    run.add_argument(
        "--mode",
        choices=MODES,
        default="warm",
        help="warm: pool ready before timing; cold: create+run+shutdown timed",
    )
    run.add_argument(
        "--profile",
        choices=list(PROFILES),
        default=DEFAULT_PROFILE,
        help="task size and count preset (default: standard)",
    )
    run.add_argument("--size", metavar="UNITS", help="units (~1 ms each) per task")
    run.add_argument(
        "--tasks",
        metavar="T",
        help="strong: total tasks; weak: tasks per worker (default: profile's)",
    )
    run.add_argument(
        "--dask-scheduler",
        metavar="ADDR",
        help="tcp://HOST:PORT of an existing dask scheduler, for the dask-cluster model",
    )
    run.add_argument(
        "--control",
        action="store_true",
        help="add the A/A control at every worker count: serial timed against serial the "
        "same way, so its speedup shows how far noise alone moves one (ideally 1.0)",
    )
    run.add_argument(
        "--output",
        metavar="FILE",
        help="also write the JSON records to FILE after every measurement",
    )
    run.add_argument("--plot", metavar="FILE", help=PLOT_HELP)
    run.add_argument("--no-costs", action="store_true", help=own.NO_COSTS_HELP)
    run.add_argument(
        "--dry-run",
        action="store_true",
        help="list the measurements and an estimated duration, measure nothing",
    )
    measurement_options(run, repeat=5)
    common.planning_options(run)
    run.set_defaults(func=cmd_run)


def add_report(sub: Any) -> None:
    """The `report` command's options."""
    report = sub.add_parser("report", help="show a results file written by run --output")
    report.add_argument("file", help="a JSON file from `gilcompare run --json/--output`")
    report.add_argument("--json", action="store_true")
    report.add_argument("--plot", metavar="FILE", help=PLOT_HELP)
    report.set_defaults(func=cmd_report)


def add_calibrate(sub: Any) -> None:
    """The `calibrate` command's options."""
    calibrate = sub.add_parser("calibrate", help="cost of one unit of each workload here")
    calibrate.add_argument(
        "--workload", action="append", metavar="W", help=f"workload(s), or your own: {own.HELP}"
    )
    measurement_options(calibrate, repeat=3)
    calibrate.set_defaults(func=cmd_calibrate)

"""The command line: parses, calls the library, prints. Bad input is one line and exit 2."""

from __future__ import annotations

import argparse
import codecs
import json
import os
import signal
import sys
import time
from collections.abc import Callable, Sequence
from typing import Any, NoReturn

from gilcompare import isolate, validate
from gilcompare.errors import (
    EXIT_FAILED,
    EXIT_SIGINT,
    EXIT_SIGPIPE,
    EXIT_USAGE,
    Interrupted,
    UsageError,
)
from gilcompare.measure import MODES, Cell, Result, ideal_speedup, plan
from gilcompare.models import MODELS, STANDARD_MODELS, gil_reenabled
from gilcompare.options import choices, positive_float, positive_int, positive_ints, split_list
from gilcompare.report import table, to_json
from gilcompare.sizes import DEFAULT_PROFILE, DEFAULT_WORKERS, PROFILES, SCALINGS
from gilcompare.workloads import COUNT_PER_UNIT, DEFAULT_WORKLOADS, WORKLOADS

PROG = "gilcompare"

RUN_COLUMNS = [
    ("workload", "workload"),
    ("model", "model"),
    ("workers", "workers"),
    ("scaling", "scaling"),
    ("seconds", "median s"),
    ("spread_pct", "±%"),
    ("speedup", "speedup"),
    ("efficiency", "efficiency"),
    ("bar", "of ideal"),
    ("ideal", "ideal"),
    ("gil_enabled", "GIL in workers"),
    ("status", "status"),
    ("reason", "note"),
]

# The seed blog (litaro, 2019): two workers each counting to 10**8.
SEED_ITERATIONS = 10**8
SEED_BLOG = {"threads": 12.77, "processes": 6.52}


class _Parser(argparse.ArgumentParser):
    """argparse that reports bad usage as one line and exit status 2."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(message)


def _progress(enabled: bool, text: str, done: bool = False) -> None:
    if not enabled:
        return
    if sys.stderr.isatty():
        sys.stderr.write(f"\r\033[K{text}" + ("\n" if done else ""))
    else:
        sys.stderr.write(text + "\n")
    sys.stderr.flush()


def _fail_line(res: Result) -> str:
    return f"{PROG}: {res.workload} under {res.model} ({res.workers} workers): {res.reason}"


def run_cells(
    cells: Sequence[Cell],
    timeout: float,
    progress: bool,
    debug: bool,
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
            label = f"[{i}/{len(order)}] {cell.workload} · {cell.model} · {cell.workers}"
            if sys.stderr.isatty():
                _progress(progress, f"{label} … {_time_left(started, estimates, i - 1)}")
            res = _measure_one(cell, timeout)
            if cell.model == "serial" and not cell.control:
                baselines[cell] = res
            elif cell.baseline() in baselines:
                res.compare(baselines[cell.baseline()])
            if cell.model == "serial" and not cell.control and res.status == "ok":
                res.speedup, res.efficiency, res.ideal = 1.0, 1.0, 1
            results.append(res)
            if on_result is not None:
                on_result(_ordered(results))
            shown = f"{res.seconds:.3f} s" if res.seconds is not None else res.status
            _progress(progress, f"{label}: {shown}; {_time_left(started, estimates, i)}", done=True)
            if res.status in ("failed", "mismatch"):
                print(_fail_line(res), file=sys.stderr)
                if debug and res.traceback:
                    print(res.traceback, file=sys.stderr)
    except (KeyboardInterrupt, Interrupted) as exc:
        status = exc.status if isinstance(exc, Interrupted) else EXIT_SIGINT
        raise Interrupted(status, _ordered(results)) from None
    return _ordered(results)


def measuring_order(cells: Sequence[Cell]) -> list[Cell]:
    """The cells as they are measured: each serial baseline first, then the rest."""
    order: list[Cell] = []
    for cell in cells:
        base = cell.baseline()
        if base not in order:
            order.append(base)
    order += [c for c in cells if (c.model != "serial" or c.control) and c not in order]
    return order


# What an estimate assumes: the sizes aim at about 1 ms per unit (`gilcompare calibrate` shows
# the real cost here), every model reaches its ideal speedup, and each measurement's fresh
# child takes about half a second to start and set up its pool.
MS_PER_UNIT = 1.0
CHILD_START_S = 0.5


def estimate_seconds(cell: Cell) -> float:
    """A rough duration for one measurement, from the task sizes; an estimate, not a promise."""
    workload = WORKLOADS[cell.workload]
    units = sum(plan(workload, cell.scaling, cell.workers, cell.profile, cell.size, cell.tasks))
    serial = units * MS_PER_UNIT / 1000
    if cell.model == "serial":
        per_repeat = serial * (2 if cell.control and cell.paired else 1)
    else:
        per_repeat = serial / max(1, ideal_speedup(workload, cell.workers))
        per_repeat += serial if cell.paired else 0.0  # serial timed beside every repeat
    return CHILD_START_S + cell.repeat * per_repeat


def _clock(seconds: float) -> str:
    seconds = round(max(0.0, seconds))
    hours, rest = divmod(seconds, 3600)
    return f"{hours}:{rest // 60:02d}:{rest % 60:02d}" if hours else f"{rest // 60}:{rest % 60:02d}"


def _time_left(started: float, estimates: Sequence[float], done: int) -> str:
    """Elapsed time and what is left: the estimates still to run, scaled by how the finished
    ones compared with theirs."""
    elapsed = time.monotonic() - started
    left = sum(estimates[done:])
    finished = sum(estimates[:done])
    if done and finished > 0:
        left *= elapsed / finished
    return f"elapsed {_clock(elapsed)}, about {_clock(left)} left"


def _dry_run(order: Sequence[Cell], as_json: bool) -> int:
    """The measurements a run would make and an estimated duration; nothing is measured."""
    rows = []
    for cell in order:
        workload = WORKLOADS[cell.workload]
        sizes = plan(workload, cell.scaling, cell.workers, cell.profile, cell.size, cell.tasks)
        rows.append(
            {
                "workload": cell.workload,
                "model": "serial (A/A)" if cell.control else cell.model,
                "workers": cell.workers,
                "scaling": cell.scaling,
                "tasks": len(sizes),
                "units": sizes[0] if sizes else 0,
                "repeat": cell.repeat,
                "estimate_s": estimate_seconds(cell),
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
    print(
        f"{len(rows)} measurements, about {_clock(total)} in all: an estimate assuming "
        f"{MS_PER_UNIT:g} ms per unit (see `gilcompare calibrate`), ideal speedups and "
        f"{CHILD_START_S:g} s to start each measurement's child; nothing was measured"
    )
    return 0


def _ordered(results: list[Result]) -> list[Result]:
    """Group by workload (in the registry's order), serial first, then models, then workers."""
    w_rank = {name: i for i, name in enumerate(WORKLOADS)}
    m_rank = {name: i for i, name in enumerate(MODELS)}
    return sorted(
        results, key=lambda r: (w_rank[r.workload], m_rank[r.model], r.control, r.workers)
    )


def _measure_one(cell: Cell, timeout: float) -> Result:
    try:
        record = isolate.call("gilcompare.measure:measure_record", vars_of(cell), timeout)
        return Result.from_dict(record)
    except isolate.IsolatedFailure as failure:
        res = Result(
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
        return res


def vars_of(cell: Cell) -> dict[str, Any]:
    return {k: getattr(cell, k) for k in cell.__dataclass_fields__}


def _rows(results: Sequence[Result]) -> list[dict[str, Any]]:
    rows = []
    for r in results:
        row = r.as_dict()
        row["spread_pct"] = None if r.spread is None else 100 * r.spread
        row["bar"] = _bar(r.efficiency)
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


def _records(results: Sequence[Result]) -> list[dict[str, Any]]:
    return [{k: v for k, v in r.as_dict().items() if k != "traceback"} for r in results]


def _emit(results: Sequence[Result], as_json: bool) -> None:
    if as_json:
        print(to_json(_records(results)))
    else:
        print(table(_rows(results), RUN_COLUMNS))


def _exit_status(results: Sequence[Result]) -> int:
    return EXIT_FAILED if any(r.status in ("failed", "mismatch") for r in results) else 0


def _run_and_emit(cells: Sequence[Cell], args: argparse.Namespace, emit: Any = None) -> int:
    emit = emit or _emit
    output = getattr(args, "output", None)
    plot = getattr(args, "plot", None)
    # before measuring: a run is not lost to a file that cannot be written
    if output is not None:
        validate.check_target("--output", output)
    if plot is not None:
        from gilcompare.plot import check_target

        validate.check_target("--plot", plot)
        check_target(plot)
    if getattr(args, "dry_run", False):
        return _dry_run(measuring_order(cells), args.json)
    saver = _Saver(output) if output else None
    try:
        results = run_cells(cells, args.timeout, not args.quiet, args.debug, saver)
    except Interrupted as exc:
        partial = exc.partial
        if partial:
            emit(partial, args.json)
        print(f"{PROG}: interrupted; {len(partial)} measurements kept", file=sys.stderr)
        return exc.status
    emit(results, args.json)
    if note := gil_reenabled(results):
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


def save_results(path: str, results: Sequence[Result]) -> None:
    """Write the records so far in one step: an interrupt or crash never loses them."""
    validate.write_file(path, to_json(_records(results)))


def load_results(path: str) -> list[Result]:
    """Read a file written by `run --json`/`--output`, or fail with one line."""
    expected = "expected the JSON list that `gilcompare run --json` writes"
    data = validate.read_json(path, "results file", expected)
    return [Result.from_dict(r) for r in validate.results_records(data, path, expected)]


# ------------------------------------------------------------------------------ commands


def _plot(results: Sequence[Result], path: str | None) -> None:
    """Draw speedup against workers when --plot asked for it (gilcompare.plot)."""
    if path and results:
        from gilcompare.plot import speedup_plot

        print(speedup_plot(results, path), file=sys.stderr)


def cmd_report(args: argparse.Namespace) -> int:
    if args.plot is not None:
        validate.check_target("--plot", args.plot)
    results = load_results(args.file)
    _emit(results, args.json)
    try:
        _plot(results, args.plot)
    except UsageError:
        raise
    except (OSError, ValueError, ArithmeticError) as exc:  # matplotlib on odd but valid data
        print(f"{PROG}: no plot: {getattr(exc, 'strerror', None) or exc}", file=sys.stderr)
        return EXIT_FAILED
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    workloads = choices("workload", args.workload, list(WORKLOADS), DEFAULT_WORKLOADS)
    models = choices("model", args.model, list(MODELS), list(STANDARD_MODELS))
    if args.dask_scheduler is not None:  # the children (and their workers) read it
        from gilcompare.libraries import DASK_SCHEDULER_ENV, dask_scheduler_address

        try:
            address = dask_scheduler_address(args.dask_scheduler)
        except ValueError as exc:
            raise UsageError(str(exc)) from None
        os.environ[DASK_SCHEDULER_ENV] = address
    workers = positive_ints("--workers", args.workers, DEFAULT_WORKERS)
    repeat = positive_int("--repeat", args.repeat)
    size = positive_int("--size", args.size) if args.size is not None else None
    tasks = positive_int("--tasks", args.tasks) if args.tasks is not None else None
    cells = [
        Cell(w, m, n, args.scaling, args.mode, args.profile, size, tasks, repeat, not args.unpaired)
        for w in workloads
        for m in models
        for n in ([1] if m == "serial" and args.scaling == "strong" else workers)
    ]
    if args.control:  # the A/A control at every worker count: serial timed against serial
        shape = {"scaling": args.scaling, "mode": args.mode, "profile": args.profile}
        shape.update(size=size, tasks=tasks, repeat=repeat)
        cells += [Cell(w, "serial", n, control=True, **shape) for w in workloads for n in workers]
    return _run_and_emit(cells, args)


def cmd_seed(args: argparse.Namespace) -> int:
    size = (
        positive_int("--size", args.size)
        if args.size is not None
        else round(SEED_ITERATIONS / COUNT_PER_UNIT)
    )
    repeat = positive_int("--repeat", args.repeat)
    process_models = [m for m in MODELS if m.startswith("processes-")]
    picked = choices("--process-model", [args.process_model], process_models, [])
    if len(picked) != 1:
        raise UsageError(
            f"--process-model takes one model: choose from {', '.join(process_models)}"
        )
    process_model = picked[0]
    cells = [
        Cell("count", "threads", 2, "weak", "warm", DEFAULT_PROFILE, size, 1, repeat),
        Cell("count", process_model, 2, "weak", "warm", DEFAULT_PROFILE, size, 1, repeat),
    ]

    def emit(results: Sequence[Result], as_json: bool) -> None:
        by_model = {r.model: r for r in results}
        threads, procs = by_model.get("threads"), by_model.get(process_model)
        # each speedup is the engine's paired estimate against serial in its own measurement;
        # their ratio is how many times faster the processes ran than the threads
        ratio = (
            procs.speedup / threads.speedup
            if threads and procs and threads.speedup and procs.speedup
            else None
        )
        summary = {
            "experiment": "seed: 2 threads vs 2 processes, each counting (weak scaling)",
            "iterations_per_worker": size * COUNT_PER_UNIT,
            "blog_threads_s": SEED_BLOG["threads"],
            "blog_processes_s": SEED_BLOG["processes"],
            "blog_ratio": SEED_BLOG["threads"] / SEED_BLOG["processes"],
            "threads_s": threads.seconds if threads else None,
            "processes_s": procs.seconds if procs else None,
            "process_model": process_model,
            "ratio": ratio,
            "results": _records(results),
        }
        if as_json:
            print(to_json([summary]))
            return
        rows = [
            {
                "who": "blog (2019)",
                "threads": SEED_BLOG["threads"],
                "processes": SEED_BLOG["processes"],
                "ratio": summary["blog_ratio"],
            },
            {
                "who": f"here (Python {results[0].python})" if results else "here",
                "threads": summary["threads_s"],
                "processes": summary["processes_s"],
                "ratio": ratio,
            },
        ]
        print(
            f"2 workers each counting to {size * COUNT_PER_UNIT:,} "
            f"(weak scaling; processes: {process_model})"
        )
        print(
            table(
                rows,
                [
                    ("who", ""),
                    ("threads", "threads s"),
                    ("processes", "processes s"),
                    ("ratio", "threads/processes"),
                ],
            )
        )
        print()
        print(table(_rows(results), RUN_COLUMNS))

    return _run_and_emit(cells, args, emit)


COMPARE_COLUMNS = [
    ("workload", "workload"),
    ("model", "model"),
    ("workers", "workers"),
    ("python", "python"),
    ("gil_enabled", "GIL in workers"),
    ("seconds", "median s"),
    ("relative", "time vs ref"),
    ("speedup", "speedup"),
    ("rounds", "rounds"),
    ("status", "status"),
    ("reason", "note"),
]


def cmd_compare(args: argparse.Namespace) -> int:
    from gilcompare import compare
    from gilcompare.interpreters import discover

    names = split_list(args.python)
    if not names:
        raise UsageError("--python names the builds to compare, e.g. --python 3.14,3.14t")
    builds = compare.resolve_builds(names, discover())
    workloads = choices("workload", args.workload, list(WORKLOADS), ["count"])
    models = choices("model", args.model, list(MODELS), ["serial", "threads", "processes-fork"])
    workers = positive_ints("--workers", args.workers, [2])
    rounds = positive_int("--rounds", args.rounds)
    timeout = positive_float("--timeout", args.timeout)
    if args.plot:
        from gilcompare.plot import check_target

        check_target(args.plot)
    cells = [
        Cell(w, m, n, args.scaling, "warm", args.profile, repeat=1)
        for w in workloads
        for m in models
        for n in ([1] if m == "serial" and args.scaling == "strong" else workers)
    ]

    def progress(line: str) -> None:
        _progress(not args.quiet, line, done=True)

    rows = compare.compare(builds, cells, rounds, timeout, progress)
    records = [row.record() for row in rows]
    if args.json:
        print(to_json(records))
    else:
        ref = builds[0]
        print(
            f"time relative to {ref.label} ({ref.interpreter.version}, {ref.interpreter.path}); "
            f"{rounds} alternating rounds, one isolated child per measurement"
        )
        print(table(records, COMPARE_COLUMNS))
    for row in rows:
        if row.status in ("failed", "mismatch"):
            print(
                f"{PROG}: {row.workload} under {row.model} on {row.python}: {row.reason}",
                file=sys.stderr,
            )
    if args.plot:
        from gilcompare.plot import compare_plot

        print(compare_plot(records, args.plot), file=sys.stderr)
    return EXIT_FAILED if any(r.status in ("failed", "mismatch") for r in rows) else 0


def cmd_reproduce(args: argparse.Namespace) -> int:
    from gilcompare import reproduce

    claims = reproduce.select(args.claim)
    scale = positive_float("--scale", args.scale)
    ctx = reproduce.Context(
        reproduce.found_interpreters(), args.timeout or reproduce.DEFAULT_TIMEOUT, scale
    )
    progress = None if args.json else (lambda name: _progress(True, f"measuring {name}", True))
    rows = reproduce.reproduce(claims, ctx, progress)
    if args.json:
        print(to_json([row.as_dict() for row in rows]))
    else:
        print(reproduce.text(rows))
    return EXIT_FAILED if any(row.status == "failed" for row in rows) else 0


def cmd_models(args: argparse.Namespace) -> int:
    rows = []
    for m in MODELS.values():
        reason = m.unavailable()
        rows.append(
            {
                "model": m.name,
                "kind": m.kind,
                "start_method": m.start_method,
                "available": reason is None,
                "reason": reason or "",
                "summary": m.summary,
            }
        )
    if args.json:
        print(to_json(rows))
    else:
        print(
            table(
                rows,
                [
                    ("model", "model"),
                    ("kind", "kind"),
                    ("available", "available"),
                    ("summary", "what"),
                    ("reason", "why not"),
                ],
            )
        )
    return 0


def cmd_workloads(args: argparse.Namespace) -> int:
    rows = []
    for w in WORKLOADS.values():
        if w.fault and not args.all:
            continue
        skipped = {
            m.name: reason for m in MODELS.values() if (reason := m.cannot_run(w)) is not None
        }
        rows.append(
            {
                "workload": w.name,
                "kind": w.kind,
                "gil": w.gil,
                "summary": w.summary,
                "service": w.service,
                "async": w.afn is not None,
                "fault": w.fault,
                "cannot_run": skipped,
            }
        )
    if args.json:
        print(to_json(rows))
    else:
        for row in rows:
            row["skipped"] = ", ".join(sorted(row["cannot_run"])) or "-"
        print(
            table(
                rows,
                [
                    ("workload", "workload"),
                    ("kind", "kind"),
                    ("gil", "GIL"),
                    ("summary", "what"),
                    ("skipped", "models that cannot run it"),
                ],
            )
        )
    return 0


def cmd_pythons(args: argparse.Namespace) -> int:
    from gilcompare import interpreters

    if args.path:
        try:
            found = [interpreters.probe_interpreter(p) for p in args.path]
        except ValueError as exc:
            raise UsageError(str(exc)) from None
    else:
        found = interpreters.discover()
    print(interpreters.to_json(found) if args.json else interpreters.format_table(found))
    return 0


def cmd_calibrate(args: argparse.Namespace) -> int:
    """Milliseconds one unit of each workload costs here, serially (for checking UNITS)."""
    workloads = choices("workload", args.workload, DEFAULT_WORKLOADS, DEFAULT_WORKLOADS)
    repeat = positive_int("--repeat", args.repeat)
    cells = [Cell(w, "serial", 1, "strong", "warm", "quick", None, 4, repeat) for w in workloads]

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

    return _run_and_emit(cells, args, emit)


def cmd_results(args: argparse.Namespace) -> int:
    """One run of the asv suite from results/: speedups with a column per Python."""
    from pathlib import Path

    from gilcompare import asvresults

    workers = positive_int("--workers", args.workers)
    if args.plot is not None:
        validate.check_target("--plot", args.plot)
    run = asvresults.pick_run(Path(args.results_dir), args.machine, args.commit)
    pythons, rows = asvresults.speedup_table(run, workers)
    if args.plot:
        from gilcompare.plot import across_pythons_plot

        title = f"machine {run.machine} · commit {run.commit[:8]} of {run.date:%Y-%m-%d}"
        cpus = asvresults.cpus(run)
        print(across_pythons_plot(pythons, rows, workers, title, args.plot, cpus), file=sys.stderr)
    if args.json:
        print(
            json.dumps(
                {
                    "machine": run.machine,
                    "commit": run.commit,
                    "commit_date": run.date.isoformat(),
                    "workers": workers,
                    "pythons": pythons,
                    "rows": rows,
                },
                indent=2,
            )
        )
        return 0
    print(
        f"speedup over serial at {workers} workers: machine {run.machine}, "
        f"commit {run.commit[:8]} of {run.date:%Y-%m-%d %H:%M} UTC"
    )
    columns = [("workload", "workload"), ("model", "model"), *((p, p) for p in pythons)]
    print(table(rows, columns))
    if any(row["model"] == "serial" for row in rows):
        print("serial: serial timed against serial in the same rounds (A/A), the noise floor")
    return 0


# -------------------------------------------------------------------------------- parser


def _measurement_options(p: argparse.ArgumentParser, repeat: int) -> None:
    p.add_argument("--repeat", default=str(repeat), help=f"timed repeats (default {repeat})")
    p.add_argument(
        "--timeout",
        default=str(isolate.DEFAULT_TIMEOUT),
        help="seconds before one measurement is abandoned and its processes killed "
        f"(default {isolate.DEFAULT_TIMEOUT:g})",
    )
    p.add_argument("--json", action="store_true", help="print JSON records instead of a table")
    p.add_argument("--quiet", action="store_true", help="no progress lines on stderr")
    p.add_argument("--debug", action="store_true", help="show workers' tracebacks")


PLOT_HELP = (
    "also draw speedup against workers, a panel per workload, to FILE (.png, .svg, .pdf ...; "
    "needs matplotlib: pip install 'gilcompare[plot]')"
)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog=PROG,
        description=(
            "Measure how work scales under Python's concurrency models on this interpreter."
        ),
    )
    parser.add_argument(
        "--version", action="version", version=f"%(prog)s {__import__('gilcompare').__version__}"
    )
    sub = parser.add_subparsers(dest="command", parser_class=_Parser, metavar="COMMAND")

    run = sub.add_parser("run", help="measure workloads × models × workers")
    run.add_argument(
        "--workload",
        action="append",
        metavar="W",
        help="workload(s), comma-separated or repeated (default: all but faults)",
    )
    run.add_argument(
        "--model",
        action="append",
        metavar="M",
        help="model(s), comma-separated or repeated (default: all but the deployed "
        "libraries' models, which `gilcompare models` lists)",
    )
    run.add_argument(
        "--workers", action="append", metavar="N", help="worker counts (default: 1,2,4,8)"
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
        "--unpaired",
        action="store_true",
        help="skip the serial run before every repeat (faster; speedup then compares with "
        "the separate serial measurement, which machine drift can bias)",
    )
    run.add_argument(
        "--output",
        metavar="FILE",
        help="also write the JSON records to FILE after every measurement",
    )
    run.add_argument("--plot", metavar="FILE", help=PLOT_HELP)
    run.add_argument(
        "--dry-run",
        action="store_true",
        help="list the measurements and an estimated duration, measure nothing",
    )
    _measurement_options(run, repeat=5)
    run.set_defaults(func=cmd_run)

    report = sub.add_parser("report", help="show a results file written by run --output")
    report.add_argument("file", help="a JSON file from `gilcompare run --json/--output`")
    report.add_argument("--json", action="store_true")
    report.add_argument("--plot", metavar="FILE", help=PLOT_HELP)
    report.set_defaults(func=cmd_report)

    comp = sub.add_parser(
        "compare",
        help="time the same cells under several Pythons in alternating rounds (3.14 vs 3.14t)",
    )
    comp.add_argument(
        "--python",
        action="append",
        metavar="B",
        help="builds, the first the reference: tags as `gilcompare pythons` shows them "
        "(3.14, 3.14t) or a free-threaded build's PYTHON_GIL=1 twin (3.14t+gil)",
    )
    comp.add_argument("--workload", action="append", metavar="W", help="default: count")
    comp.add_argument(
        "--model", action="append", metavar="M", help="default: serial,threads,processes-fork"
    )
    comp.add_argument("--workers", action="append", metavar="N", help="default: 2")
    comp.add_argument("--rounds", default="5", help="alternating rounds (default 5)")
    comp.add_argument("--scaling", choices=SCALINGS, default="strong")
    comp.add_argument("--profile", choices=list(PROFILES), default=DEFAULT_PROFILE)
    comp.add_argument(
        "--plot", metavar="FILE", help="also draw each cell's time relative to the reference"
    )
    comp.add_argument(
        "--timeout",
        default=str(isolate.DEFAULT_TIMEOUT),
        help=f"seconds for one measurement (default {isolate.DEFAULT_TIMEOUT:g})",
    )
    comp.add_argument("--json", action="store_true", help="print JSON records instead of a table")
    comp.add_argument("--quiet", action="store_true", help="no progress lines on stderr")
    comp.set_defaults(func=cmd_compare)

    results = sub.add_parser(
        "results", help="the asv suite's speedups from results/, a column per Python"
    )
    results.add_argument("results_dir", nargs="?", default="results", help="default: results")
    results.add_argument("--machine", help="asv machine name (default: the only one)")
    results.add_argument("--commit", help="a commit hash prefix (default: the latest run)")
    results.add_argument("--workers", default="2", help="worker count to show (default 2)")
    results.add_argument("--json", action="store_true")
    results.add_argument(
        "--plot",
        metavar="FILE",
        help="also draw the speedups against Python version, a panel per workload, to FILE "
        "(needs matplotlib: pip install 'gilcompare[plot]')",
    )
    results.set_defaults(func=cmd_results)

    seed = sub.add_parser("seed", help="reproduce the seed blog: 2 threads vs 2 processes")
    seed.add_argument(
        "--size",
        metavar="UNITS",
        help=f"units per worker (default: {SEED_ITERATIONS:,} iterations)",
    )
    seed.add_argument(
        "--process-model",
        default="processes-fork",
        help="the process model to compare (default: processes-fork)",
    )
    _measurement_options(seed, repeat=3)
    seed.set_defaults(func=cmd_seed)

    repro = sub.add_parser("reproduce", help="test published claims about the GIL here")
    repro.add_argument(
        "--claim", action="append", metavar="NAME", help="one claim (repeatable; default: all)"
    )
    repro.add_argument("--json", action="store_true")
    repro.add_argument("--timeout", metavar="S", help="seconds per measurement (default: 300)")
    repro.add_argument(
        "--scale", default="1", help="multiply every work size (smaller: faster, noisier)"
    )
    repro.set_defaults(func=cmd_reproduce)

    models = sub.add_parser("models", help="list models and whether they run here")
    models.add_argument("--json", action="store_true")
    models.set_defaults(func=cmd_models)

    workloads = sub.add_parser("workloads", help="list workloads, kinds and GIL behaviour")
    workloads.add_argument("--json", action="store_true")
    workloads.add_argument("--all", action="store_true", help="include fault injections")
    workloads.set_defaults(func=cmd_workloads)

    pythons = sub.add_parser("pythons", help="list the real Python interpreters here")
    pythons.add_argument("--json", action="store_true")
    pythons.add_argument("path", nargs="*", help="check these interpreters instead")
    pythons.set_defaults(func=cmd_pythons)

    calibrate = sub.add_parser("calibrate", help="cost of one unit of each workload here")
    calibrate.add_argument("--workload", action="append", metavar="W")
    _measurement_options(calibrate, repeat=3)
    calibrate.set_defaults(func=cmd_calibrate)

    try:
        from gilcompare import probes
    except ImportError:  # pragma: no cover - probes are optional while being built
        probes = None  # type: ignore[assignment]
    if probes is not None and hasattr(probes, "register"):
        probes.register(sub)
    return parser


def _on_sigterm(signum: int, frame: object) -> None:
    raise Interrupted(128 + signum)


# What the tables draw with, for a terminal whose encoding lacks it (LC_ALL=C, latin-1 ...).
ASCII_FALLBACK = {"█": "#", "·": ".", "±": "+-", "×": "x", "…": "...", "→": "->", "—": "-"}


def _ascii_fallback(exc: UnicodeError) -> tuple[str, int]:
    if not isinstance(exc, UnicodeEncodeError):
        raise exc
    text = exc.object[exc.start : exc.end]
    return "".join(ASCII_FALLBACK.get(ch, "?") for ch in text), exc.end


codecs.register_error("gilcompare-ascii", _ascii_fallback)


def _prepare_streams() -> None:
    """A closed stream writes nowhere; one whose encoding lacks the tables' signs gets ASCII."""
    for name in ("stdout", "stderr"):
        stream = getattr(sys, name)
        if stream is None:  # the file descriptor was closed when Python started
            # kept open for the rest of the process, as the stream it stands in for would be
            setattr(sys, name, open(os.devnull, "w", encoding="utf-8"))  # noqa: SIM115
            continue
        try:
            "".join(ASCII_FALLBACK).encode(stream.encoding or "ascii")
        except (UnicodeEncodeError, LookupError, AttributeError, TypeError):
            reconfigure = getattr(stream, "reconfigure", None)
            if reconfigure is not None:
                reconfigure(errors="gilcompare-ascii")


def _quiet_stdout() -> None:
    """After a broken pipe: point stdout at /dev/null so the interpreter's last flush is silent."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError, AttributeError):
        pass


def _value_options(parser: argparse.ArgumentParser) -> set[str]:
    """Every option string, in every subcommand, that takes a value."""
    found: set[str] = set()
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub in action.choices.values():
                found |= _value_options(sub)
        elif action.option_strings and action.nargs != 0:
            found.update(action.option_strings)
    return found


def _glue_negative_values(parser: argparse.ArgumentParser, argv: Sequence[str]) -> list[str]:
    """``--timeout -inf`` → ``--timeout=-inf``: argparse would take ``-inf`` for an option and
    say only "expected one argument"; glued, the value reaches our own one-line check."""
    takes_value = _value_options(parser)
    out: list[str] = []
    items = list(argv)
    i = 0
    while i < len(items):
        item = items[i]
        following = items[i + 1] if i + 1 < len(items) else None
        if (
            item in takes_value
            and following is not None
            and following.startswith("-")
            and not following.startswith("--")
            and following not in ("-h",)
        ):
            out.append(f"{item}={following}")
            i += 2
            continue
        out.append(item)
        i += 1
    return out


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `gilcompare` command; returns the exit status.

    Statuses: 0 done, 1 a measurement failed, 2 bad input (one line on stderr), 128 + the
    signal when interrupted (130 Ctrl-C, 129 SIGHUP, 143 SIGTERM) and 141 when stdout's
    reader went away (a broken pipe, as `yes | head` does).
    """
    _prepare_streams()
    previous = {
        sig: signal.signal(sig, _on_sigterm)
        for sig in (signal.SIGTERM, getattr(signal, "SIGHUP", None))
        if sig is not None
    }
    try:
        parser = build_parser()
        argv = _glue_negative_values(parser, sys.argv[1:] if argv is None else argv)
        args = parser.parse_args(argv)
        if not getattr(args, "func", None):
            parser.print_help()
            return EXIT_USAGE
        if hasattr(args, "timeout") and args.timeout is not None:
            args.timeout = positive_float("--timeout", args.timeout)
        status = int(args.func(args))
        sys.stdout.flush()
        return status
    except UsageError as exc:
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted", file=sys.stderr)
        return EXIT_SIGINT
    except Interrupted as exc:
        print(f"{PROG}: terminated", file=sys.stderr)
        return exc.status
    except BrokenPipeError:
        _quiet_stdout()
        return EXIT_SIGPIPE
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)

"""`gilcompare compare`, `results` and `reproduce`: across Pythons, the suite's runs, the
literature."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from gilcompare.cli.common import PROG, show_progress
from gilcompare.cli.options import choices, positive_float, positive_int, positive_ints, split_list
from gilcompare.cli.options import workloads as workload_names
from gilcompare.errors import EXIT_FAILED, UsageError
from gilcompare.measure.cells import Cell
from gilcompare.models import BASELINE, MODELS
from gilcompare.report import validate
from gilcompare.report.tables import table, to_json
from gilcompare.settings import DEFAULT_PROFILE, DEFAULT_TIMEOUT, PROFILES, SCALINGS
from gilcompare.workloads import WORKLOADS, user

COMPARE_COLUMNS = [
    ("workload", "workload"),
    ("model", "model"),
    ("workers", "workers"),
    ("python", "python"),
    ("gil_enabled", "GIL in workers"),
    ("seconds", "median s"),
    ("relative_shown", "time vs ref [95 %]"),
    ("speedup_shown", "speedup [95 %]"),
    ("rounds", "rounds"),
    ("status", "status"),
    ("reason", "note"),
]


def cmd_compare(args: argparse.Namespace) -> int:
    from gilcompare.interpreters import discover
    from gilcompare.measure import compare

    names = split_list(args.python)
    if not names:
        raise UsageError("--python names the builds to compare, e.g. --python 3.14,3.14t")
    builds = compare.resolve_builds(names, discover())
    workloads = workload_names(args.workload, list(WORKLOADS), ["count"])
    models = choices("model", args.model, list(MODELS), [BASELINE, "threads", "processes-fork"])
    workers = positive_ints("--workers", args.workers, [2])
    rounds = positive_int("--rounds", args.rounds)
    timeout = positive_float("--timeout", args.timeout)
    if args.plot is not None:
        from gilcompare.report.plot import check_target

        validate.check_target("--plot", args.plot)
        check_target(args.plot)
    cells = [
        Cell(
            workload=w,
            model=m,
            workers=n,
            scaling=args.scaling,
            mode="warm",
            profile=args.profile,
            repeat=1,
        )
        for w in workloads
        for m in models
        for n in ([1] if m == BASELINE and args.scaling == "strong" else workers)
    ]

    def progress(line: str) -> None:
        show_progress(not args.quiet, line, done=True)

    _check_found(builds, [w for w in workloads if user.is_user_spec(w)], timeout)
    for note in _unmatched(builds):
        print(f"{PROG}: note: {note}", file=sys.stderr)
    rows = compare.compare(builds, cells, rounds, timeout, progress)
    records = [row.record() for row in rows]
    if args.json:
        print(to_json(records))
    else:
        ref = builds[0]
        print(
            f"time relative to {ref.label} ({ref.interpreter.label}, {ref.interpreter.path}); "
            f"{rounds} alternating rounds, one isolated child per measurement"
        )
        print(table([_shown(r) for r in records], COMPARE_COLUMNS))
    for row in rows:
        if row.status in ("failed", "mismatch"):
            print(
                f"{PROG}: {row.workload} under {row.model} on {row.python}: {row.reason}",
                file=sys.stderr,
            )
    if args.plot:
        from gilcompare.report.plot import compare_plot

        print(compare_plot(records, args.plot), file=sys.stderr)
    return EXIT_FAILED if any(r.status in ("failed", "mismatch") for r in rows) else 0


def _check_found(builds: Any, specs: list[str], timeout: float) -> None:
    """Every interpreter finds every function of the user's, or one line and exit 2 naming
    the interpreter and what it lacks (the module, or a module it imports)."""
    from gilcompare.measure import isolate
    from gilcompare.measure.compare import package_path

    if not specs:
        return
    with package_path() as path:
        for build in builds:
            env = {**build.env, "PYTHONPATH": path}
            for spec in specs:
                try:
                    out = isolate.call(
                        "gilcompare.workloads.user:found",
                        {"spec": spec},
                        timeout,
                        build.interpreter.path,
                        env,
                    )
                except isolate.IsolatedFailure as failure:
                    out = {"error": failure.reason}
                if out.get("error"):
                    raise UsageError(f"--workload {spec} on {build.label}: {out['error']}")


def _unmatched(builds: Any) -> list[str]:
    """Why a GIL build against a free-threaded one in this comparison is no free-threading
    cost (gilcompare.measure.builds): another version or other configure flags."""
    from gilcompare.measure import builds as made

    ref, notes = builds[0], []
    for build in builds[1:]:
        gil, free = (ref, build) if build.interpreter.free_threaded else (build, ref)
        if gil.python_gil or free.python_gil:
            continue  # a PYTHON_GIL=1 twin is the same build
        if gil.interpreter.free_threaded or not free.interpreter.free_threaded:
            continue
        try:
            reason = made.mismatch(
                made.probe(gil.interpreter.path), made.probe(free.interpreter.path)
            )
        except ValueError as exc:
            reason = str(exc)
        if reason:
            notes.append(f"{free.label} against {gil.label} is no free-threading cost: {reason}")
    return notes


def _shown(record: dict[str, Any]) -> dict[str, Any]:
    """A compare record with its ratios and their intervals as the table prints them."""
    from gilcompare.measure.engine import format_ratio

    rel = (record["relative"], record["relative_low"], record["relative_high"])
    spd = (record["speedup"], record["speedup_low"], record["speedup_high"])
    return {**record, "relative_shown": format_ratio(*rel), "speedup_shown": format_ratio(*spd)}


def cmd_reproduce(args: argparse.Namespace) -> int:
    from gilcompare import reproduce
    from gilcompare.settings import REPRODUCE_TIMEOUT

    claims = reproduce.select(args.claim)
    scale = positive_float("--scale", args.scale)
    ctx = reproduce.Context(
        reproduce.found_interpreters(), args.timeout or REPRODUCE_TIMEOUT, scale
    )
    progress = None if args.json else (lambda name: show_progress(True, f"measuring {name}", True))
    rows = reproduce.reproduce(claims, ctx, progress)
    if args.json:
        print(to_json([row.as_dict() for row in rows]))
    else:
        print(reproduce.text(rows))
    return EXIT_FAILED if any(row.status == "failed" for row in rows) else 0


def cmd_results(args: argparse.Namespace) -> int:
    """One run of the asv suite from results/: speedups with a column per Python."""
    from pathlib import Path

    from gilcompare.asv import results as asvresults
    from gilcompare.asv import rounds

    workers = positive_int("--workers", args.workers)
    if args.plot is not None:
        validate.check_target("--plot", args.plot)
    run = asvresults.pick_run(Path(args.results_dir), args.machine, args.commit)
    found = asvresults.provenance(Path(args.results_dir), run)
    kept = rounds.load(Path(args.results_dir), run)
    if args.against is not None:
        first = asvresults.pick_run(Path(args.results_dir), run.machine, args.against)
        return _stability(args, first, run, (rounds.load(Path(args.results_dir), first), kept))
    pythons, rows = asvresults.speedup_table(run, workers)
    if args.plot:
        from gilcompare.report.plot import across_pythons_plot

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
                    "intervals": {
                        p: {
                            f"{key[1]}/{key[2]}/{key[3]}": [r.low, r.high]
                            for key, r in kept[p].intervals.items()
                        }
                        for p in kept
                    },
                    "gauge": {
                        p: {name: g.readings for name, g in kept[p].gauges.items()} for p in kept
                    },
                    "provenance": found,
                },
                indent=2,
            )
        )
        return 0
    print(
        f"speedup over serial at {workers} workers: machine {run.machine}, "
        f"commit {run.commit[:8]} of {run.date:%Y-%m-%d %H:%M} UTC"
    )
    for line in asvresults.describe_provenance(found) if found else []:
        print(line)
    shown, notes = rounds.annotate(rows, pythons, kept, workers)
    columns = [("workload", "workload"), ("model", "model"), *((p, p) for p in pythons)]
    print(table(shown, columns, right=pythons))
    if any(row["model"] == BASELINE for row in rows):
        print("serial: serial timed against serial in the same rounds (A/A), the noise floor")
    for note in notes:
        print(note)
    return 0


STABILITY_COLUMNS = [
    ("environment", "environment"),
    ("speedup_n", "speedups"),
    ("speedup_median", "|Δ| median"),
    ("speedup_p90", "|Δ| p90"),
    ("time_n", "times"),
    ("time_median", "|Δ| median"),
    ("time_p90", "|Δ| p90"),
    ("time_drift", "drift"),
    ("minutes_a", "min (first)"),
    ("minutes_b", "min (second)"),
]


CHANGED_COLUMNS = [
    ("build", "build"),
    ("benchmark", "benchmark"),
    ("workload", "workload"),
    ("model", "model"),
    ("workers", "workers"),
    ("first", "first"),
    ("second", "second"),
]


def _stability(args: argparse.Namespace, first: Any, second: Any, kept: tuple) -> int:
    """Two runs of the suite: how far each value moved between them, what each cost, and
    the cells whose change their intervals cannot explain."""
    from pathlib import Path

    from gilcompare.asv import results as asvresults
    from gilcompare.asv import rounds, stability

    if first.commit == second.commit:
        raise UsageError("--against names the run being shown: choose another commit")
    rows = stability.compare_runs(first, second)
    changed, compared = rounds.changed(*kept)
    folder = Path(args.results_dir)
    host = asvresults.host_between(*(asvresults.provenance(folder, r) for r in (first, second)))
    if args.json:
        out = {"first": first.commit, "second": second.commit, "rows": rows, "host": host}
        print(json.dumps({**out, "changed": changed, "compared": compared}, indent=2))
        return 0
    print(
        f"{first.commit[:8]} ({first.date:%Y-%m-%d %H:%M}) then {second.commit[:8]} "
        f"({second.date:%Y-%m-%d %H:%M}), machine {first.machine}: relative change |b - a| / a "
        "of every speedup (Scaling tracks) and time (time_*, timeraw_*, a grid's times) both "
        "runs measured; drift: the median signed change of the times (+: the second run slower)"
    )
    print(table(stability.flat(rows), STABILITY_COLUMNS))
    if host:
        print(host)
    if not compared:
        print("changed cells: neither run kept its rounds, so no speedup has an interval")
        return 0
    share = len(changed) / compared
    print(
        f"changed cells: {len(changed)} of {compared} speedups ({share:.1%}) whose two 95 % "
        "intervals do not overlap"
    )
    if changed:
        print(table(changed, CHANGED_COLUMNS))
    return 0


def add_compare(sub: Any) -> None:
    """The `compare` command's options."""
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
    comp.add_argument(
        "--workload",
        action="append",
        metavar="W",
        help="default: count; or your own function, package.module:function or "
        "path/to/file.py:function, which every interpreter must find (from the current "
        "directory or its own site-packages)",
    )
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
        default=str(DEFAULT_TIMEOUT),
        help=f"seconds for one measurement (default {DEFAULT_TIMEOUT:g})",
    )
    comp.add_argument("--json", action="store_true", help="print JSON records instead of a table")
    comp.add_argument("--quiet", action="store_true", help="no progress lines on stderr")
    comp.set_defaults(func=cmd_compare)


def add_results(sub: Any) -> None:
    """The `results` command's options."""
    results = sub.add_parser(
        "results", help="the asv suite's speedups from results/, a column per Python"
    )
    results.add_argument("results_dir", nargs="?", default="results", help="default: results")
    results.add_argument("--machine", help="asv machine name (default: the only one)")
    results.add_argument("--commit", help="a commit hash prefix (default: the latest run)")
    results.add_argument("--workers", default="2", help="worker count to show (default 2)")
    results.add_argument("--json", action="store_true")
    results.add_argument(
        "--against",
        metavar="COMMIT",
        help="compare the run with another one (a commit hash prefix): how far each speedup "
        "and time moved, per environment, and what each run cost",
    )
    results.add_argument(
        "--plot",
        metavar="FILE",
        help="also draw the speedups against Python version, a panel per workload, to FILE "
        "(needs matplotlib: pip install 'gilcompare[plot]')",
    )
    results.set_defaults(func=cmd_results)


def add_reproduce(sub: Any) -> None:
    """The `reproduce` command's options."""
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

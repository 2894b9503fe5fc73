"""`gilcompare probe`: latency, stop, start, memory and transfer from the command line.

Every measurement is one record from gilcompare.probes; a combination a model cannot do is a
skipped row with the reason, a failed one is said at once on stderr and ends in exit status 1.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Callable

from gilcompare.cli.options import (
    choices,
    count,
    parse_bytes,
    positive_float,
    positive_int,
    split_list,
)
from gilcompare.errors import UsageError
from gilcompare.models import MODELS, ModelNames
from gilcompare.probes import PROBES, latency, memory, start, stop, transfer
from gilcompare.probes.common import ProbeRecord, context, fill
from gilcompare.probes.latency import NO_LOAD, LatencyRecord, probe_latency
from gilcompare.probes.memory import STATES, MemoryRecord, probe_memory
from gilcompare.probes.start import StartRecord, probe_start
from gilcompare.probes.stop import STOP_METHODS, StopRecord, probe_stop
from gilcompare.probes.transfer import (
    PAYLOAD_TYPES,
    TRANSFER_METHODS,
    TransferRecord,
    probe_transfer,
)
from gilcompare.report.tables import table, to_json
from gilcompare.settings import (
    CHECK_MS,
    DEFAULT_TIMEOUT,
    PINGS,
    PROBE_PAYLOADS,
    PROBE_REPEAT,
    PROBE_WORKERS,
)

DEFAULT_MODELS = ModelNames(lambda m: not m.deployed and m.starts_workers)

_COLUMNS: dict[str, list[tuple[str, str]]] = {
    "latency": [
        ("model", "model"),
        ("workers", "workers"),
        ("switch_interval_ms", "switch ms"),
        ("p50_ms", "p50 ms"),
        ("p99_ms", "p99 ms"),
        ("max_ms", "max ms"),
    ],
    "stop": [
        ("model", "model"),
        ("workers", "workers"),
        ("method", "method"),
        ("check_ms", "check ms"),
        ("stop_ms", "stop ms"),
        ("alive_after_join", "alive after join"),
    ],
    "start": [
        ("model", "model"),
        ("workers", "workers"),
        ("ms", "total ms"),
        ("per_worker_ms", "per worker ms"),
    ],
    "memory": [
        ("model", "model"),
        ("workers", "workers"),
        ("state", "state"),
        ("rss_mb", "rss MiB"),
        ("uss_mb", "uss MiB"),
        ("pss_mb", "pss MiB"),
        ("processes", "processes"),
    ],
    "transfer": [
        ("model", "model"),
        ("workers", "workers"),
        ("method", "method"),
        ("payload_type", "payload"),
        ("payload_bytes", "bytes"),
        ("ms", "ms"),
    ],
}
_STATUS_COLUMNS = [("status", "status"), ("reason", "reason")]


def register(subparsers: Any) -> None:
    """Add ``probe`` and its five probes to the gilcompare command line."""
    parser = subparsers.add_parser(
        "probe",
        help="measure what throughput does not show: latency, stop, start, memory, transfer",
        description="Measure what throughput does not show. Each measurement runs in a fresh "
        "child process that is killed with all its descendants when it ends.",
    )
    probes = parser.add_subparsers(dest="probe", metavar="PROBE", title="probes")
    parser.set_defaults(func=_cmd_missing)
    specs: list[tuple[str, str, Callable[[argparse.ArgumentParser], None], Any]] = [
        ("latency", "echo p50/p99 while CPU-bound workers run", _latency_options, _cmd_latency),
        ("stop", "time from a stop request to every worker gone", _stop_options, _cmd_stop),
        ("start", "create + start + join no-op workers, cold", _no_options, _cmd_start),
        ("memory", "RSS/USS/PSS of the whole process tree", _memory_options, _cmd_memory),
        ("transfer", "round trip of a payload to workers", _transfer_options, _cmd_transfer),
    ]
    for name, summary_, options, handler in specs:
        sub = probes.add_parser(
            name, help=summary_, description=summary_[:1].upper() + summary_[1:] + "."
        )
        _common_options(sub, name)
        options(sub)
        sub.set_defaults(func=handler)


def _common_options(p: argparse.ArgumentParser, probe: str) -> None:
    workers = ",".join(map(str, PROBE_WORKERS[probe]))
    p.add_argument(
        "--model",
        action="append",
        metavar="NAME",
        help=f"models, repeatable or comma-separated (default: {', '.join(DEFAULT_MODELS)}; "
        f"choices: {', '.join(MODELS)})",
    )
    p.add_argument(
        "--workers",
        action="append",
        metavar="N",
        help=f"worker counts, repeatable or comma-separated (default: {workers})"
        + ("; 0 measures the unloaded baseline once" if probe == "latency" else ""),
    )
    p.add_argument("--json", action="store_true", help="print JSON records instead of a table")
    p.add_argument(
        "--timeout",
        metavar="SECONDS",
        help=f"limit for each measurement, in seconds (default: {DEFAULT_TIMEOUT:g})",
    )
    p.add_argument(
        "--repeat",
        metavar="N",
        help=f"samples per measurement, median shown (default: {PROBE_REPEAT})",
    )


def _cmd_missing(args: argparse.Namespace) -> int:
    raise UsageError(f"probe needs the name of a probe: choose from {', '.join(PROBES)}")


def _no_options(p: argparse.ArgumentParser) -> None:
    """The start probe has no options of its own."""


def _latency_options(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--switch-interval",
        action="append",
        metavar="MS",
        help="sys.setswitchinterval for the run, in ms, repeatable or comma-separated "
        "(default: the interpreter's, 5)",
    )
    p.add_argument("--pings", metavar="N", help=f"timed pings per round (default: {PINGS})")


def _stop_options(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--method",
        action="append",
        metavar="NAME",
        help="stop methods, repeatable or comma-separated: event (a flag the loop checks: "
        "threading.Event, multiprocessing Event, a pipe for subinterpreters, a file for the "
        "libraries' tasks), terminate (Process.terminate, Pool.terminate, joblib's abort that "
        "kills loky's workers, closing dask's LocalCluster), cancel (Task.cancel); default: "
        "those each model can use",
    )
    p.add_argument(
        "--check-ms",
        metavar="MS",
        help=f"work between two checks of the stop flag, in ~1 ms units (default: {CHECK_MS})",
    )


def _memory_options(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--state",
        action="append",
        metavar="STATE",
        help="idle and/or busy workers, repeatable or comma-separated "
        f"(default: {','.join(STATES)})",
    )


def _transfer_options(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--method",
        action="append",
        metavar="NAME",
        help="transfer methods, repeatable or comma-separated: shared (threads, asyncio: the "
        "object itself), pickle (process pools; subinterpreters: through an OS pipe), "
        "shared_memory (multiprocessing.shared_memory, the copy in included); default: those "
        "each model can use",
    )
    p.add_argument(
        "--payload",
        action="append",
        metavar="BYTES",
        help="payload sizes in bytes (or with KiB, MiB, GiB), repeatable or comma-separated "
        "(default: 1MiB,64MiB); each worker gets the payload and sends it back",
    )
    p.add_argument(
        "--payload-type",
        action="append",
        metavar="TYPE",
        help=f"payload types, repeatable or comma-separated (default: {','.join(PAYLOAD_TYPES)})",
    )


@dataclass
class _Common:
    models: list[str]
    workers: list[int]
    repeat: int
    timeout: float


def _common(args: argparse.Namespace, probe: str) -> _Common:
    """Validate the options every probe shares; raise UsageError naming the rule."""
    models = choices("--model", args.model, list(MODELS), list(DEFAULT_MODELS))
    if probe == "latency":
        workers = [count("--workers", v) for v in split_list(args.workers)] or list(
            PROBE_WORKERS[probe]
        )
    else:
        workers = [positive_int("--workers", v) for v in split_list(args.workers)] or list(
            PROBE_WORKERS[probe]
        )
    repeat = positive_int("--repeat", args.repeat) if args.repeat is not None else PROBE_REPEAT
    timeout = (
        positive_float("--timeout", args.timeout) if args.timeout is not None else DEFAULT_TIMEOUT
    )
    return _Common(models=models, workers=workers, repeat=repeat, timeout=timeout)


def _methods(option: str, given: list[str] | None, valid: Sequence[str]) -> list[str] | None:
    """Methods named on the command line (checked), or None: each model's own."""
    names = choices(option, given, list(valid), [])
    return names or None


def _cmd_latency(args: argparse.Namespace) -> int:
    common = _common(args, "latency")
    switches: list[float | None] = [
        positive_float("--switch-interval", v) for v in split_list(args.switch_interval)
    ] or [None]
    pings = positive_int("--pings", args.pings) if args.pings is not None else PINGS
    options = {"pings": pings, "repeat": common.repeat, "timeout": common.timeout}
    loaded = [n for n in common.workers if n]
    records: list[ProbeRecord] = []
    for switch in switches:
        if 0 in common.workers:
            _collect(records, probe_latency(NO_LOAD, 0, switch, **options))
        for model in common.models:
            if not _model_not_applicable(records, "latency", model, loaded, common.repeat):
                for n in loaded:
                    _collect(records, probe_latency(model, n, switch, **options))
    return _emit(args, "latency", records)


def _cmd_stop(args: argparse.Namespace) -> int:
    common = _common(args, "stop")
    methods = _methods("--method", args.method, STOP_METHODS)
    check_ms = positive_int("--check-ms", args.check_ms) if args.check_ms is not None else CHECK_MS
    options = {"check_ms": check_ms, "repeat": common.repeat, "timeout": common.timeout}
    records: list[ProbeRecord] = []
    for model in common.models:
        if not _model_not_applicable(records, "stop", model, common.workers, common.repeat):
            for method in methods or stop.methods_for(model):
                for n in common.workers:
                    _collect(records, probe_stop(model, n, method, **options))
    return _emit(args, "stop", records)


def _cmd_start(args: argparse.Namespace) -> int:
    common = _common(args, "start")
    records: list[ProbeRecord] = []
    for model in common.models:
        if not _model_not_applicable(records, "start", model, common.workers, common.repeat):
            for n in common.workers:
                rec = probe_start(model, n, repeat=common.repeat, timeout=common.timeout)
                _collect(records, rec)
    return _emit(args, "start", records)


def _cmd_memory(args: argparse.Namespace) -> int:
    common = _common(args, "memory")
    states = choices("--state", args.state, list(STATES), STATES)
    records: list[ProbeRecord] = []
    for model in common.models:
        if not _model_not_applicable(records, "memory", model, common.workers, common.repeat):
            for n in common.workers:
                for rec in probe_memory(
                    model, n, states, repeat=common.repeat, timeout=common.timeout
                ):
                    _collect(records, rec)
    return _emit(args, "memory", records)


def _cmd_transfer(args: argparse.Namespace) -> int:
    common = _common(args, "transfer")
    methods = _methods("--method", args.method, TRANSFER_METHODS)
    payloads = [parse_bytes("--payload", v) for v in split_list(args.payload)] or list(
        PROBE_PAYLOADS
    )
    types = choices("--payload-type", args.payload_type, list(PAYLOAD_TYPES), PAYLOAD_TYPES)
    options = {"repeat": common.repeat, "timeout": common.timeout}
    records: list[ProbeRecord] = []
    for model in common.models:
        if _model_not_applicable(records, "transfer", model, common.workers, common.repeat):
            continue
        for method in methods or transfer.methods_for(model):
            for payload_type in types:
                for nbytes in payloads:
                    for n in common.workers:
                        rec = probe_transfer(model, n, method, nbytes, payload_type, **options)
                        _collect(records, rec)
    return _emit(args, "transfer", records)


_NOT_APPLICABLE: dict[str, Callable[[str], str | None]] = {
    "latency": latency.not_applicable,
    "stop": stop.not_applicable,
    "start": start.not_applicable,
    "memory": memory.not_applicable,
    "transfer": transfer.not_applicable,
}
_RECORDS: dict[str, type[ProbeRecord]] = {
    "latency": LatencyRecord,
    "stop": StopRecord,
    "start": StartRecord,
    "memory": MemoryRecord,
    "transfer": TransferRecord,
}


def _model_not_applicable(
    records: list[ProbeRecord], probe: str, model: str, workers: Sequence[int], repeat: int
) -> bool:
    """When a whole model cannot run this probe, add one skipped record per worker count."""
    reason = _NOT_APPLICABLE[probe](model)
    if reason is None:
        return False
    for n in workers:
        rec = _RECORDS[probe](probe, model, n, repeat=repeat)
        for name in ("method", "state", "payload_type"):
            if hasattr(rec, name):
                setattr(rec, name, "-")
        _collect(records, fill(rec, reason, _nothing))
    return True


def _nothing() -> None:
    """Nothing to run: the record is skipped."""


def _collect(records: list[ProbeRecord], rec: ProbeRecord) -> None:
    """Keep a record; say at once on stderr when its measurement failed."""
    records.append(rec)
    if rec.status == "failed":
        what = f"{rec.model}, {rec.workers} workers"
        method = getattr(rec, "method", "")
        if method:
            what += f", {method}"
        print(f"gilcompare probe {rec.probe}: {what}: {rec.reason}", file=sys.stderr)


def _emit(args: argparse.Namespace, probe: str, records: list[ProbeRecord]) -> int:
    """Print the records as JSON or as a table; exit status 1 when any failed."""
    rows = [r.as_dict() for r in records]
    for row in rows:  # the table shows milliseconds; JSON keeps the seconds
        if row.get("seconds") is not None:
            row["ms"] = row["seconds"] * 1000
    if args.json:
        for row in rows:
            row.pop("ms", None)
        print(to_json(rows))
    else:
        ctx = context()
        gil = "enabled" if ctx["gil_enabled"] else "disabled"
        print(
            f"probe {probe}: python {ctx['python_tag']} ({ctx['implementation']}, GIL {gil}), "
            f"{ctx['cpu_usable']} of {ctx['cpu_count']} cpus, medians of "
            f"{records[0].repeat if records else PROBE_REPEAT}"
        )
        print(table(rows, _COLUMNS[probe] + _STATUS_COLUMNS))
    return 1 if any(r.status == "failed" for r in records) else 0

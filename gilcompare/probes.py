"""What throughput does not show: latency under load, stop, cold start, memory, transfer.

Every probe has two halves. ``measure_<probe>`` (gilcompare.probe_measure) runs in a fresh
child process (through gilcompare.isolate: its own process group, a timeout, the whole tree
killed afterwards) and returns plain data; ``probe_<probe>`` here calls it and returns a record
carrying the conditions it was measured under — or saying why the combination is not
applicable, or how it failed. The ``gilcompare probe`` command (``register``) and the asv
suite (benchmarks/probes.py) are thin layers over ``probe_<probe>``.

* latency: p50/p99 round trip of a loopback echo served by a thread of the measuring process,
  pinged from a separate process, while N CPU-bound workers of a model run (0: unloaded).
* stop: the seed's pattern — a worker loop that checks a flag, a ``join(timeout)`` that returns
  with the workers still running, then a stop request: time until every worker has exited.
* start: create + start + join N no-op workers, each sample in a fresh interpreter (cold).
* memory: RSS, USS and PSS summed over the whole process tree, N workers idle and busy.
* transfer: round trip of a payload to N workers and back: shared, pickle or shared_memory.
"""

from __future__ import annotations

import argparse
import statistics
import sys
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, fields
from typing import Any, Callable

from gilcompare.errors import UsageError
from gilcompare.isolate import DEFAULT_TIMEOUT, IsolatedFailure, call
from gilcompare.models import MODELS, STANDARD_MODELS, get_model
from gilcompare.options import choices, positive_float, positive_int, split_list
from gilcompare.probe_measure import JOIN_TIMEOUT_S, context
from gilcompare.report import table, to_json
from gilcompare.workloads import WORKLOADS

PROBES = ("latency", "stop", "start", "memory", "transfer")
STOP_METHODS = ("event", "terminate", "cancel")
TRANSFER_METHODS = ("shared", "pickle", "shared_memory")
PAYLOAD_TYPES = ("bytes", "numpy")
STATES = ("idle", "busy")
BASELINE = "none"  # the latency probe's model when no workers run: the unloaded baseline

# What the probes measure with; every record carries the values it used. The asv suite runs
# with these: never change them in place, or old results stop being comparable.
REPEAT = 5
PINGS = 200  # timed pings per round
CHECK_MS = 10  # stop: units of count (~1 ms each) between two checks of the stop flag
PAYLOAD_BYTES = 64 * 2**20

# The asv suite's sizes (benchmarks/probes.py): small enough for its 10-minute budget, and
# recorded in every result through the records. Never change them in place either.
SUITE_REPEAT = 3
SUITE_MEMORY_REPEAT = 1  # a fresh tree's memory varies by well under 1% between samples
SUITE_PINGS = 100
SUITE_SWITCH_INTERVALS_MS = (5.0, 0.5)  # CPython's default, and a tenth of it
SUITE_WORKERS = 8  # cold start and memory: enough workers for per-worker costs to show
SUITE_PAYLOAD_BYTES = PAYLOAD_BYTES

DEFAULT_MODELS = tuple(name for name in STANDARD_MODELS if name != "serial")
DEFAULT_WORKERS = {
    "latency": (0, 1),
    "stop": (1,),
    "start": (1, 8),
    "memory": (1, 8),
    "transfer": (1,),
}
DEFAULT_PAYLOADS = (2**20, PAYLOAD_BYTES)


# ------------------------------------------------------------------------------ records


@dataclass
class ProbeRecord:
    """One probe measurement — or why it was not made — with the conditions it was made under."""

    probe: str
    model: str
    workers: int
    status: str = "ok"  # ok | n/a | failed
    reason: str = ""
    repeat: int = 0
    start_method: str | None = None
    python: str = ""
    python_tag: str = ""
    implementation: str = ""
    free_threaded: bool = False
    gil_enabled: bool | None = None  # in the measuring process
    workers_gil_enabled: bool | None = None  # inside the workers, where the probe asks them
    cpu_count: int = 0
    cpu_usable: int = 0
    platform: str = ""

    def as_dict(self) -> dict[str, Any]:
        """The JSON record: probe, model, workers, the probe's own fields, then the context."""
        data = asdict(self)
        head = ["probe", "model", "workers"]
        base = {f.name for f in fields(ProbeRecord)}
        own = [f.name for f in fields(self) if f.name not in base]
        rest = [k for k in data if k not in head and k not in own]
        return {k: data[k] for k in head + own + rest}

    def with_context(self, context: dict[str, Any]) -> None:
        """Fill the conditions from a measuring process's context."""
        for key, value in context.items():
            if hasattr(self, key):
                setattr(self, key, value)

    def not_applicable(self, reason: str) -> None:
        """Mark the record as a combination this probe cannot measure, and say why."""
        self.status, self.reason = "n/a", reason

    def failed(self, reason: str) -> None:
        """Mark the record as a measurement that did not return a value."""
        self.status, self.reason = "failed", reason


@dataclass
class LatencyRecord(ProbeRecord):
    """Echo round trips under CPU load: medians over rounds of each round's p50 and p99."""

    switch_interval_ms: float | None = None
    p50_ms: float | None = None
    p99_ms: float | None = None
    max_ms: float | None = None
    pings: int = 0
    load_tasks: int = 0  # CPU-bound tasks the workers finished while the client pinged
    p50_samples: list[float] = field(default_factory=list)
    p99_samples: list[float] = field(default_factory=list)


@dataclass
class StopRecord(ProbeRecord):
    """Time from a stop request until every worker has exited (median over rounds)."""

    method: str = ""
    stop_ms: float | None = None
    check_ms: float | None = None  # measured time of one loop body between two checks
    join_timeout_ms: float = JOIN_TIMEOUT_S * 1000
    alive_after_join: int | None = None  # workers still running when join(timeout) returned
    samples: list[float] = field(default_factory=list)


@dataclass
class StartRecord(ProbeRecord):
    """Create + start + join N no-op workers in a fresh interpreter (median over samples)."""

    seconds: float | None = None
    per_worker_ms: float | None = None
    samples: list[float] = field(default_factory=list)


@dataclass
class MemoryRecord(ProbeRecord):
    """RSS, USS and PSS (MiB) summed over the process tree (median over samples)."""

    state: str = ""
    rss_mb: float | None = None
    uss_mb: float | None = None
    pss_mb: float | None = None
    processes: int | None = None  # processes in the tree, the measuring one included
    uss_samples: list[float] = field(default_factory=list)


@dataclass
class TransferRecord(ProbeRecord):
    """Round trip of a payload to every worker and back (median over rounds)."""

    method: str = ""
    payload_type: str = ""
    payload_bytes: int | None = None
    seconds: float | None = None
    samples: list[float] = field(default_factory=list)


# ------------------------------------------------------------------------ applicability

_STOP_BY_KIND = {
    "threads": {
        "event": None,
        "terminate": "threads cannot be killed: Python has no way to stop a running thread",
        "cancel": "only asyncio tasks can be cancelled; a thread must check an event",
    },
    "processes": {
        "event": None,
        "terminate": None,
        "cancel": "only asyncio tasks can be cancelled; a process checks an event or is terminated",
    },
    "subinterpreters": {
        "event": None,
        "terminate": "a running subinterpreter cannot be interrupted or destroyed from "
        "outside; it must check a flag",
        "cancel": "only asyncio tasks can be cancelled; an interpreter must check a flag",
    },
    "asyncio": {
        "event": "a coroutine that checks a flag stops at its next await, exactly as cancel() does",
        "terminate": "asyncio tasks run on the caller's thread and cannot be killed",
        "cancel": None,
    },
}

_SHARED_ONLY = {
    "shared": None,
    "pickle": "workers in one interpreter share the payload: nothing is pickled",
    "shared_memory": "workers in one interpreter share the payload: no shared memory is needed",
}
_COPIED = {
    "shared": "{what} share no objects: the payload is pickled or put in shared memory",
    "pickle": None,
    "shared_memory": None,
}
_TRANSFER_BY_KIND = {
    "baseline": _SHARED_ONLY,
    "threads": _SHARED_ONLY,
    "asyncio": _SHARED_ONLY,
    "processes": _COPIED,
    "library": _COPIED,
    "subinterpreters": _COPIED,
}


def applicable_methods(probe: str, model: str) -> list[str]:
    """The methods of ``probe`` (stop, transfer) that ``model`` can use."""
    kind = get_model(model).kind
    by_kind = _STOP_BY_KIND if probe == "stop" else _TRANSFER_BY_KIND
    return [m for m, why in by_kind.get(kind, {}).items() if why is None]


def not_applicable(
    probe: str, model: str, method: str | None = None, payload_type: str | None = None
) -> str | None:
    """Why ``probe`` cannot measure this combination on this interpreter, or None."""
    if model == BASELINE and probe == "latency":
        return None
    m = get_model(model)
    reason = m.unavailable()
    if reason is not None:
        return reason
    if probe in ("stop", "start") and m.kind == "baseline":
        return "serial runs every task inline in the caller: it has no worker to start or stop"
    if probe == "stop":
        if m.kind not in _STOP_BY_KIND:
            return (
                f"{model} keeps its workers for reuse and has no stop of its own; stop measures "
                "raw threads, processes, asyncio tasks and subinterpreters"
            )
        why = _STOP_BY_KIND[m.kind].get(method) if method is not None else None
        if why is not None:
            return f"{why} (use {', '.join(applicable_methods(probe, model))})"
    if probe == "transfer":
        why = _TRANSFER_BY_KIND[m.kind].get(method) if method is not None else None
        if why is not None:
            what = "interpreters" if m.kind == "subinterpreters" else "processes"
            return f"{why.format(what=what)} (use {', '.join(applicable_methods(probe, model))})"
        if payload_type == "numpy" and m.kind == "subinterpreters":
            return WORKLOADS["numpy"].no_subinterpreters
        if method == "shared_memory":
            try:
                import multiprocessing.shared_memory  # noqa: F401
            except ImportError as exc:
                return f"multiprocessing.shared_memory is not available here: {exc}"
    return None


# ------------------------------------------------------------ probing (in the caller)


def _isolated(function: str, kwargs: dict[str, Any], timeout: float) -> Any:
    """Run ``gilcompare.probe_measure:<function>(**kwargs)`` in a fresh child process."""
    return call(f"gilcompare.probe_measure:{function}", kwargs, timeout)


def _check_workers(workers: int, least: int = 1) -> None:
    if not isinstance(workers, int) or workers < least:
        raise UsageError(f"workers must be an integer of at least {least}, got {workers!r}")


def _fill(record: ProbeRecord, reason: str | None, run: Callable[[], None]) -> ProbeRecord:
    """Fill ``record`` by ``run()``; not-applicable and failed runs become its status."""
    record.with_context(context())
    record.start_method = get_model(record.model).start_method if record.model in MODELS else None
    if reason is not None:
        record.not_applicable(reason)
        return record
    try:
        run()
    except IsolatedFailure as exc:
        record.failed(exc.reason)
    return record


def _median(values: Sequence[float]) -> float:
    return float(statistics.median(values))


def probe_latency(
    model: str,
    workers: int,
    switch_interval_ms: float | None = None,
    *,
    pings: int = PINGS,
    repeat: int = REPEAT,
    timeout: float = DEFAULT_TIMEOUT,
) -> LatencyRecord:
    """Echo p50/p99 under ``workers`` CPU-bound workers of ``model`` (0 workers: baseline)."""
    _check_workers(workers, least=0)
    if workers == 0:
        model = BASELINE
    else:
        get_model(model)
    if switch_interval_ms is not None and not switch_interval_ms > 0:
        raise UsageError(f"the switch interval must be greater than 0 ms, got {switch_interval_ms}")
    rec = LatencyRecord(
        "latency",
        model,
        workers,
        repeat=repeat,
        switch_interval_ms=switch_interval_ms,
        pings=pings,
    )

    def run() -> None:
        kwargs = {
            "model": model,
            "workers": workers,
            "switch_interval_ms": switch_interval_ms,
            "repeat": repeat,
            "pings": pings,
        }
        out = _isolated("measure_latency", kwargs, timeout)
        rec.with_context(out["context"])
        rec.switch_interval_ms = out["switch_interval_ms"]
        rec.p50_samples = [r["p50"] for r in out["rounds"]]
        rec.p99_samples = [r["p99"] for r in out["rounds"]]
        rec.p50_ms = _median(rec.p50_samples)
        rec.p99_ms = _median(rec.p99_samples)
        rec.max_ms = max(r["max"] for r in out["rounds"])
        rec.load_tasks = out["load_tasks"]
        rec.workers_gil_enabled = out["workers_gil_enabled"]

    _fill(rec, not_applicable("latency", model), run)
    return rec


def probe_stop(
    model: str,
    workers: int,
    method: str,
    *,
    check_ms: int = CHECK_MS,
    repeat: int = REPEAT,
    timeout: float = DEFAULT_TIMEOUT,
) -> StopRecord:
    """Milliseconds from a stop request until ``workers`` looping workers have all exited."""
    _check_workers(workers)
    get_model(model)
    if method not in STOP_METHODS:
        raise UsageError(f"unknown stop method {method!r}: choose from {', '.join(STOP_METHODS)}")
    rec = StopRecord("stop", model, workers, method=method, repeat=repeat)

    def run() -> None:
        kwargs = {
            "model": model,
            "workers": workers,
            "method": method,
            "check_ms": check_ms,
            "repeat": repeat,
        }
        out = _isolated("measure_stop", kwargs, timeout)
        rec.with_context(out["context"])
        rec.samples = out["samples"]
        rec.stop_ms = _median(rec.samples)
        rec.check_ms = out["check_ms"]
        rec.alive_after_join = out["alive_after_join"]

    _fill(rec, not_applicable("stop", model, method), run)
    return rec


def probe_start(
    model: str, workers: int, *, repeat: int = REPEAT, timeout: float = DEFAULT_TIMEOUT
) -> StartRecord:
    """Seconds to create + start + join ``workers`` no-op workers, each sample cold."""
    _check_workers(workers)
    get_model(model)
    rec = StartRecord("start", model, workers, repeat=repeat)

    def run() -> None:
        for _ in range(repeat):  # a fresh interpreter for every sample
            out = _isolated("measure_start", {"model": model, "workers": workers}, timeout)
            rec.samples.append(out["seconds"])
        rec.with_context(out["context"])
        rec.seconds = _median(rec.samples)
        rec.per_worker_ms = rec.seconds / workers * 1000

    _fill(rec, not_applicable("start", model), run)
    return rec


def probe_memory(
    model: str,
    workers: int,
    states: Sequence[str] = STATES,
    *,
    repeat: int = REPEAT,
    timeout: float = DEFAULT_TIMEOUT,
) -> list[MemoryRecord]:
    """Process-tree RSS/USS/PSS with ``workers`` workers of ``model``, one record per state."""
    _check_workers(workers)
    get_model(model)
    if not states:
        raise UsageError(f"memory needs at least one state: choose from {', '.join(STATES)}")
    for state in states:
        if state not in STATES:
            raise UsageError(f"unknown state {state!r}: choose from {', '.join(STATES)}")
    recs = [MemoryRecord("memory", model, workers, state=s, repeat=repeat) for s in states]
    outs: list[dict[str, Any]] = []

    def run() -> None:
        for _ in range(repeat):  # a fresh interpreter for every sample
            kwargs = {"model": model, "workers": workers, "states": list(states)}
            outs.append(_isolated("measure_memory", kwargs, timeout))

    first = _fill(recs[0], not_applicable("memory", model), run)
    for rec in recs:
        rec.start_method = first.start_method
        rec.status, rec.reason = first.status, first.reason
        if first.status != "ok":
            rec.with_context(context())
            continue
        got = [o["states"][rec.state] for o in outs]
        rec.with_context(outs[-1]["context"])
        rec.workers_gil_enabled = outs[-1]["workers_gil_enabled"]
        rec.uss_samples = [g["uss_mb"] for g in got]
        rec.rss_mb = _median([g["rss_mb"] for g in got])
        rec.uss_mb = _median(rec.uss_samples)
        pss = [g["pss_mb"] for g in got]
        rec.pss_mb = None if None in pss else _median(pss)
        rec.processes = max(g["processes"] for g in got)
    return recs


def probe_transfer(
    model: str,
    workers: int,
    method: str,
    payload_bytes: int = PAYLOAD_BYTES,
    payload_type: str = "bytes",
    *,
    repeat: int = REPEAT,
    timeout: float = DEFAULT_TIMEOUT,
) -> TransferRecord:
    """Seconds to send a payload to ``workers`` workers of ``model`` and get it back."""
    _check_workers(workers)
    get_model(model)
    if not isinstance(payload_bytes, int) or payload_bytes < 1:
        raise UsageError(f"the payload must be at least 1 byte, got {payload_bytes!r}")
    if method not in TRANSFER_METHODS:
        raise UsageError(
            f"unknown transfer method {method!r}: choose from {', '.join(TRANSFER_METHODS)}"
        )
    if payload_type not in PAYLOAD_TYPES:
        raise UsageError(
            f"unknown payload type {payload_type!r}: choose from {', '.join(PAYLOAD_TYPES)}"
        )
    rec = TransferRecord(
        "transfer",
        model,
        workers,
        method=method,
        payload_type=payload_type,
        payload_bytes=payload_bytes,
        repeat=repeat,
    )

    def run() -> None:
        kwargs = {
            "model": model,
            "workers": workers,
            "method": method,
            "payload_bytes": payload_bytes,
            "payload_type": payload_type,
            "repeat": repeat,
        }
        out = _isolated("measure_transfer", kwargs, timeout)
        rec.with_context(out["context"])
        rec.samples = out["samples"]
        rec.seconds = _median(rec.samples)
        rec.workers_gil_enabled = out["workers_gil_enabled"]

    _fill(rec, not_applicable("transfer", model, method, payload_type), run)
    return rec


# ------------------------------------------------------------------------ command line

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
    workers = ",".join(map(str, DEFAULT_WORKERS[probe]))
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
        "--repeat", metavar="N", help=f"samples per measurement, median shown (default: {REPEAT})"
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
        "threading.Event, multiprocessing Event, a pipe for subinterpreters), terminate "
        "(Process.terminate), cancel (Task.cancel); default: those each model can use",
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
    models = choices("--model", args.model, list(MODELS), DEFAULT_MODELS)
    if probe == "latency":
        workers = [_count("--workers", v) for v in split_list(args.workers)] or list(
            DEFAULT_WORKERS[probe]
        )
    else:
        workers = [positive_int("--workers", v) for v in split_list(args.workers)] or list(
            DEFAULT_WORKERS[probe]
        )
    repeat = positive_int("--repeat", args.repeat) if args.repeat is not None else REPEAT
    timeout = (
        positive_float("--timeout", args.timeout) if args.timeout is not None else DEFAULT_TIMEOUT
    )
    return _Common(models, workers, repeat, timeout)


def _count(option: str, value: str) -> int:
    """An integer of at least 0 (the latency probe's 0 workers is the unloaded baseline)."""
    try:
        number = int(value.strip())
    except ValueError:
        number = -1
    if number < 0:
        raise UsageError(
            f"{option} must be an integer of at least 0 (0: no load, the baseline), got {value!r}"
        )
    return number


_UNITS = {
    "": 1,
    "b": 1,
    "k": 2**10,
    "kib": 2**10,
    "m": 2**20,
    "mib": 2**20,
    "g": 2**30,
    "gib": 2**30,
}


def parse_bytes(option: str, value: str) -> int:
    """A byte count greater than 0, plain or with a K/KiB, M/MiB or G/GiB suffix."""
    text = value.strip().lower().replace(" ", "")
    digits = text.rstrip("abcdefghijklmnopqrstuvwxyz")
    unit = text[len(digits) :]
    try:
        number = int(digits) * _UNITS[unit]
    except (ValueError, KeyError):
        number = 0
    if number < 1:
        raise UsageError(
            f"{option} must be a whole number of bytes greater than 0 (like 65536, 64KiB or "
            f"64MiB), got {value!r}"
        )
    return number


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
            _collect(records, probe_latency(BASELINE, 0, switch, **options))
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
            for method in methods or applicable_methods("stop", model):
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
        DEFAULT_PAYLOADS
    )
    types = choices("--payload-type", args.payload_type, list(PAYLOAD_TYPES), PAYLOAD_TYPES)
    options = {"repeat": common.repeat, "timeout": common.timeout}
    records: list[ProbeRecord] = []
    for model in common.models:
        if _model_not_applicable(records, "transfer", model, common.workers, common.repeat):
            continue
        for method in methods or applicable_methods("transfer", model):
            for payload_type in types:
                for nbytes in payloads:
                    for n in common.workers:
                        rec = probe_transfer(model, n, method, nbytes, payload_type, **options)
                        _collect(records, rec)
    return _emit(args, "transfer", records)


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
    """When a whole model cannot run this probe, add one n/a record per worker count."""
    reason = not_applicable(probe, model)
    if reason is None:
        return False
    for n in workers:
        rec = _RECORDS[probe](probe, model, n, repeat=repeat)
        for name in ("method", "state", "payload_type"):
            if hasattr(rec, name):
                setattr(rec, name, "-")
        _collect(records, _fill(rec, reason, _nothing))
    return True


def _nothing() -> None:
    """Nothing to run: the record is not applicable."""


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
            f"{records[0].repeat if records else REPEAT}"
        )
        print(table(rows, _COLUMNS[probe] + _STATUS_COLUMNS))
    return 1 if any(r.status == "failed" for r in records) else 0

"""The literature, reproduced: claims others published about the GIL and its alternatives,
each with the measurement that tests its shape on this machine.

A claim is data (what was said, by whom, their number, the shape that must hold here) plus a
function that measures it with the library (gilcompare.measure, gilcompare.probes) and
returns our number and whether the shape holds. Every measurement runs in a fresh child
process (gilcompare.isolate), under the interpreter the claim is about; a claim needing an
interpreter this machine lacks is listed as not run, with the reason.
"""

from __future__ import annotations

import math
import os
import statistics
import subprocess
import sys
import sysconfig
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from gilcompare import interpreters, isolate, probes
from gilcompare.errors import UsageError
from gilcompare.measure import Cell, Result
from gilcompare.workloads import COUNT_PER_UNIT

DEFAULT_TIMEOUT = 300.0  # seconds per isolated measurement
# Tuning knobs, recorded in every row's conditions: sized so all claims run in a few minutes.
SEED_ITERATIONS = 10**7  # per worker: a tenth of the blog's 10**8, the ratio is what is compared
SEED_REPEAT = 3
SEED_BOUND = 1.6  # processes/threads: the blog's 1.96, less what two shared cores lose
LATENCY_SWITCH_MS = (5.0, 0.5)  # CPython's default switch interval, and a tenth of it
LATENCY_PINGS = 100
LATENCY_REPEAT = 3
COST_WORKLOADS = ("count", "fib")  # pure Python, one thread: what the free-threaded build costs
COST_REPEAT = 5
SCALING_WORKLOADS = ("fib", "alloc")  # calls on shared functions, allocation: ftscalingbench-like
SCALING_WORKERS = 2
SCALING_REPEAT = 5
START_WORKERS = 8
START_REPEAT = 3
START_MODELS = ("threads", "subinterpreters", "processes-spawn")
PROFILE = "standard"
CAPACITY_UNITS = 100  # count units per process in the capacity check (gilcompare.suite's)


@dataclass
class Outcome:
    """What a measurement found: our number in words, whether the shape holds, the raw values."""

    ours: str
    holds: bool | None
    numbers: dict[str, Any] = field(default_factory=dict)
    conditions: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Claim:
    """A published claim and the measurement that tests its shape here."""

    name: str
    claim: str
    source: str
    source_number: str
    shape: str  # what must hold on this machine for the claim to stand
    needs: tuple[str, ...]  # interpreter tags ("3.13t"); empty: the one running gilcompare
    run: Callable[[Context], Outcome]


@dataclass
class Row:
    """One claim's line in the reproduction: the claim beside our measurement of it."""

    name: str
    claim: str
    source: str
    source_number: str
    shape: str
    status: str  # ok | not run | failed
    ours: str = ""
    holds: bool | None = None
    reason: str = ""
    numbers: dict[str, Any] = field(default_factory=dict)
    conditions: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Context:
    """Where claims run: the interpreters found, a timeout, and a size scale (tests shrink it)."""

    found: dict[str, str]  # tag -> path
    timeout: float = DEFAULT_TIMEOUT
    scale: float = 1.0  # multiplies every work size; 1.0 is what the rows report

    def python(self, tag: str) -> str:
        return self.found[tag]


class Failed(RuntimeError):
    """A measurement did not give a usable number (one line, the reason)."""


class NotRun(RuntimeError):
    """The claim cannot be measured on this machine (one line, the reason)."""


def _here() -> str:
    """The running interpreter's tag, as gilcompare.interpreters names it."""
    free = bool(sysconfig.get_config_var("Py_GIL_DISABLED"))
    return f"{sys.version_info[0]}.{sys.version_info[1]}{'t' if free else ''}"


def _child_env() -> dict[str, str]:
    """Let another interpreter import this gilcompare (it needs only the standard library)."""
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    path = os.environ.get("PYTHONPATH")
    return {"PYTHONPATH": root + (os.pathsep + path if path else "")}


def _measure(cell: Cell, ctx: Context, python: str | None = None) -> Result:
    """One cell in a fresh child (under ``python``); Failed unless its status is ok."""
    fields = {k: getattr(cell, k) for k in cell.__dataclass_fields__}
    try:
        record = isolate.call(
            "gilcompare.measure:measure_record",
            fields,
            ctx.timeout,
            python=python,
            env=_child_env() if python else None,
        )
    except isolate.IsolatedFailure as failure:
        raise Failed(f"{cell.workload}/{cell.model}: {failure.reason}") from None
    result = Result.from_dict(record)
    if result.status != "ok":
        raise Failed(f"{cell.workload}/{cell.model} {result.status}: {result.reason}")
    return result


def _units(ctx: Context, units: int) -> int:
    return max(1, round(units * ctx.scale))


def _machine(ctx: Context) -> dict[str, Any]:
    """What the machine gives two busy processes now (2.0: two idle cores), and its load: a
    parallel claim cannot be tested when the capacity is below its bound."""
    try:
        capacity = isolate.call(
            "gilcompare.suite:parallel_capacity",
            {"units": _units(ctx, CAPACITY_UNITS)},
            ctx.timeout,
        )
    except isolate.IsolatedFailure:
        capacity = None
    return {"capacity": capacity, "load_1min": round(os.getloadavg()[0], 2)}


def _judge(holds: bool, bound: float, machine: dict[str, Any]) -> tuple[bool | None, str]:
    """The verdict, or None when the machine could not have met the bound (a busy host)."""
    capacity = machine["capacity"]
    if not holds and capacity is not None and capacity < bound:
        return None, f"; inconclusive: the machine gave 2 processes only {capacity:.2f}×"
    return holds, ""


def _conditions(result: Result, **extra: Any) -> dict[str, Any]:
    return {
        "python": result.python,
        "free_threaded": result.free_threaded,
        "gil_in_workers": result.gil_enabled,
        "cpus_usable": result.cpu_usable,
        **extra,
    }


# --- the measurements ----------------------------------------------------------------------


def seed(ctx: Context) -> Outcome:
    """2 threads vs 2 fork processes, each counting (weak scaling), as `gilcompare seed`."""
    size = _units(ctx, round(SEED_ITERATIONS / COUNT_PER_UNIT))
    results = {
        model: _measure(Cell("count", model, 2, "weak", "warm", PROFILE, size, 1, SEED_REPEAT), ctx)
        for model in ("threads", "processes-fork")
    }
    threads, procs = results["threads"], results["processes-fork"]
    if not threads.speedup or not procs.speedup:
        raise Failed("no speedup against serial was measured")
    ratio = procs.speedup / threads.speedup  # each paired with serial in its own measurement
    machine = _machine(ctx)
    holds, note = _judge(ratio >= SEED_BOUND, SEED_BOUND, machine)
    return Outcome(
        ours=f"{threads.seconds:.2f} s vs {procs.seconds:.2f} s: processes {ratio:.2f}× threads"
        + note,
        holds=holds,
        numbers={"threads_s": threads.seconds, "processes_s": procs.seconds, "ratio": ratio},
        conditions=_conditions(
            procs,
            **machine,
            iterations_per_worker=size * COUNT_PER_UNIT,
            workers=2,
            scaling="weak",
            start_method=procs.start_method,
            repeat=SEED_REPEAT,
        ),
    )


def beazley(ctx: Context) -> Outcome:
    """Echo p99 served by a thread while one CPU-bound thread runs, at two switch intervals."""
    p99: dict[float, float] = {}
    last = None
    for switch in LATENCY_SWITCH_MS:
        rec = probes.probe_latency(
            "threads",
            1,
            switch,
            pings=max(10, round(LATENCY_PINGS * ctx.scale)),
            repeat=LATENCY_REPEAT,
            timeout=ctx.timeout,
        )
        if rec.status != "ok" or rec.p99_ms is None:
            raise Failed(f"latency at {switch} ms: {rec.status} {rec.reason}")
        p99[switch], last = rec.p99_ms, rec
    big, small = LATENCY_SWITCH_MS
    growth = p99[big] / p99[small]
    assert last is not None
    return Outcome(
        ours=f"p99 {p99[big]:.2f} ms at {big:g} ms, {p99[small]:.2f} ms at {small:g} ms "
        f"({growth:.1f}×)",
        holds=growth >= 2,
        numbers={"p99_ms": {str(k): v for k, v in p99.items()}, "growth": growth},
        conditions={
            "python": last.python,
            "free_threaded": last.free_threaded,
            "gil_in_workers": last.workers_gil_enabled,
            "cpus_usable": last.cpu_usable,
            "pings": last.pings,
            "repeat": LATENCY_REPEAT,
            "switch_intervals_ms": list(LATENCY_SWITCH_MS),
        },
    )


def _cost(ctx: Context, gil_tag: str, free_tag: str) -> tuple[float, dict[str, Any]]:
    """Geometric mean over COST_WORKLOADS of free-threaded / GIL serial time, alternating."""
    ratios, seconds = [], {}
    for workload in COST_WORKLOADS:
        cell = Cell(
            workload,
            "serial",
            1,
            "strong",
            "warm",
            PROFILE,
            _units(ctx, 50),
            4,
            COST_REPEAT,
            paired=False,
        )
        gil = _measure(cell, ctx, ctx.python(gil_tag))
        free = _measure(cell, ctx, ctx.python(free_tag))
        if not gil.seconds or not free.seconds:
            raise Failed(f"{workload}: no time measured")
        ratios.append(free.seconds / gil.seconds)
        seconds[workload] = {gil_tag: gil.seconds, free_tag: free.seconds}
    overhead = math.exp(statistics.fmean(math.log(r) for r in ratios)) - 1
    return overhead, {"seconds": seconds, "overhead": overhead}


def _cost_claim(gil_tag: str, free_tag: str, holds: Callable[[float], bool]) -> Callable:
    def run(ctx: Context) -> Outcome:
        overhead, numbers = _cost(ctx, gil_tag, free_tag)
        return Outcome(
            ours=f"{free_tag} {overhead:+.0%} against {gil_tag} in one thread "
            f"({', '.join(COST_WORKLOADS)}, geometric mean)",
            holds=holds(overhead),
            numbers=numbers,
            conditions={
                "pythons": {gil_tag: ctx.python(gil_tag), free_tag: ctx.python(free_tag)},
                "workloads": list(COST_WORKLOADS),
                "task_units": _units(ctx, 50),
                "tasks": 4,
                "repeat": COST_REPEAT,
            },
        )

    return run


def ftscaling(ctx: Context) -> Outcome:
    """Weak scaling of threads on the newest free-threaded build: t1·N/tN at N = 2."""
    tag = _newest_free(ctx)
    speedups, last = {}, None
    for workload in SCALING_WORKLOADS:
        cell = Cell(
            workload,
            "threads",
            SCALING_WORKERS,
            "weak",
            "warm",
            PROFILE,
            _units(ctx, 50),
            2,
            SCALING_REPEAT,
        )
        last = _measure(cell, ctx, ctx.python(tag))
        speedups[workload] = last.speedup
    assert last is not None
    worst = min(v or 0.0 for v in speedups.values())
    bound = 0.8 * SCALING_WORKERS
    machine = _machine(ctx)
    holds, note = _judge(worst >= bound and last.gil_enabled is False, bound, machine)
    return Outcome(
        ours=", ".join(f"{w} {s:.2f}×" for w, s in speedups.items())
        + f" with {SCALING_WORKERS} threads on {tag}"
        + note,
        holds=holds,
        numbers={"speedup": speedups},
        conditions=_conditions(
            last, **machine, workers=SCALING_WORKERS, scaling="weak", repeat=SCALING_REPEAT
        ),
    )


def shaw(ctx: Context) -> Outcome:
    """Cold start of 8 no-op workers: threads, subinterpreters, spawned processes."""
    python = _start_python(ctx)
    seconds: dict[str, float] = {}
    context: dict[str, Any] = {}
    for model in START_MODELS:
        samples = []
        for _ in range(START_REPEAT):  # a fresh interpreter for every sample
            try:
                out = isolate.call(
                    "gilcompare.probe_measure:measure_start",
                    {"model": model, "workers": START_WORKERS},
                    ctx.timeout,
                    python=python,
                    env=_child_env() if python else None,
                )
            except isolate.IsolatedFailure as failure:
                raise Failed(f"start {model}: {failure.reason}") from None
            samples.append(out["seconds"])
            context = out["context"]
        seconds[model] = statistics.median(samples)
    sub_thread = seconds["subinterpreters"] / seconds["threads"]
    proc_sub = seconds["processes-spawn"] / seconds["subinterpreters"]
    return Outcome(
        ours=f"subinterpreter {sub_thread:.0f}× a thread; process {proc_sub:.1f}× a subinterpreter",
        holds=sub_thread >= 30 and proc_sub >= 3,
        numbers={
            "start_s": seconds,
            "subinterpreter_per_thread": sub_thread,
            "process_per_subinterpreter": proc_sub,
        },
        conditions={
            "python": context.get("python"),
            "workers": START_WORKERS,
            "repeat": START_REPEAT,
            "process_model": "processes-spawn",
            "cpus_usable": context.get("cpu_usable"),
        },
    )


def _start_python(ctx: Context) -> str | None:
    """This interpreter when it has subinterpreters, else the newest found with them and
    psutil (the start probe's module imports it); NotRun when there is none."""
    if probes.not_applicable("start", "subinterpreters") is None:
        return None
    for tag in sorted(ctx.found, key=_version, reverse=True):
        if _version(tag) < (3, 12) or tag.endswith("t"):
            continue
        check = [ctx.found[tag], "-c", "import psutil"]
        if subprocess.run(check, capture_output=True, timeout=60).returncode == 0:
            return ctx.found[tag]
    raise NotRun(
        "needs subinterpreters (Python 3.12+) with psutil installed: run gilcompare from one"
    )


def _version(tag: str) -> tuple[int, ...]:
    return tuple(int(p) for p in tag.rstrip("t").split("."))


def _newest_free(ctx: Context) -> str:
    free = [t for t in ctx.found if t.endswith("t")]
    return max(free, key=lambda t: tuple(int(p) for p in t.rstrip("t").split(".")))


# --- the claims ------------------------------------------------------------------------------

CLAIMS: dict[str, Claim] = {
    c.name: c
    for c in [
        Claim(
            "seed",
            "2 processes are about twice as fast as 2 threads on a CPU-bound counting loop",
            "the seed blog (litaro, 2019), `gilcompare seed`",
            "12.77 s (threads) vs 6.52 s (processes): 1.96×",
            f"processes ≥ {SEED_BOUND:g}× threads",
            (),
            seed,
        ),
        Claim(
            "beazley",
            "I/O latency under a CPU-bound thread grows with the GIL switch interval",
            "David Beazley, Understanding the Python GIL (PyCon 2010)",
            "response time ≈ the switch interval (5 ms default) per request",
            "p99 at 5 ms ≥ 2× p99 at 0.5 ms",
            (),
            beazley,
        ),
        Claim(
            "ft-cost-3.13t",
            "the free-threaded build costs about 40% in single-threaded code",
            "CPython docs (3.13 free threading HOWTO), pyperformance",
            "~40%",
            "3.13t ≥ 20% slower than 3.13 in one thread",
            ("3.13", "3.13t"),
            _cost_claim("3.13", "3.13t", lambda overhead: overhead >= 0.20),
        ),
        Claim(
            "ft-cost-3.14t",
            "the free-threaded build costs 5-10% in single-threaded code",
            "PEP 779 / CPython 3.14 docs, pyperformance",
            "5-10%",
            "3.14t ≤ 15% slower than 3.14 in one thread",
            ("3.14", "3.14t"),
            _cost_claim("3.14", "3.14t", lambda overhead: overhead <= 0.15),
        ),
        Claim(
            "ftscaling",
            "shared-object patterns scale near N× with threads on free-threaded builds",
            "CPython Tools/ftscalingbench",
            "near N× (weak scaling t1·N/tN)",
            f"every workload ≥ {0.8 * SCALING_WORKERS:g}× at {SCALING_WORKERS} threads, GIL off",
            ("3.14t",),
            ftscaling,
        ),
        Claim(
            "shaw-start",
            "a thread starts ~100× faster than a subinterpreter, a subinterpreter ~10× faster "
            "than a process",
            "Anthony Shaw, Python 3.14 subinterpreters (2025)",
            "~100× and ~10×",
            "subinterpreter ≥ 30× a thread and process ≥ 3× a subinterpreter",
            (),
            shaw,
        ),
    ]
}


def select(names: Sequence[str] | None) -> list[Claim]:
    """The claims asked for (all when none), or UsageError listing the valid ones."""
    if not names:
        return list(CLAIMS.values())
    unknown = [n for n in names if n not in CLAIMS]
    if unknown:
        raise UsageError(f"unknown claim {unknown[0]!r}: choose from {', '.join(CLAIMS)}")
    return [CLAIMS[n] for n in names]


def found_interpreters() -> dict[str, str]:
    """Interpreter tag -> path, the one running gilcompare included."""
    found = {i.tag: i.path for i in interpreters.discover()}
    found.setdefault(_here(), sys.executable)
    return found


def reproduce(
    claims: Sequence[Claim],
    ctx: Context,
    progress: Callable[[str], None] | None = None,
) -> list[Row]:
    """Measure each claim; one row each, in order."""
    rows = []
    for claim in claims:
        row = Row(claim.name, claim.claim, claim.source, claim.source_number, claim.shape, "ok")
        missing = [tag for tag in claim.needs if tag not in ctx.found]
        if missing:
            row.status = "not run"
            row.reason = f"needs Python {', '.join(missing)}, not found on this machine"
        else:
            if progress:
                progress(claim.name)
            try:
                outcome = claim.run(ctx)
            except Failed as exc:
                row.status, row.reason = "failed", str(exc)
            except NotRun as exc:
                row.status, row.reason = "not run", str(exc)
            else:
                row.ours, row.holds = outcome.ours, outcome.holds
                row.numbers, row.conditions = outcome.numbers, outcome.conditions
        rows.append(row)
    return rows


def _verdict(row: Row) -> str:
    if row.status != "ok":
        return f"{row.status}: {row.reason}"
    return {True: "holds", False: "does not hold", None: "inconclusive"}[row.holds]


def text(rows: Sequence[Row]) -> str:
    """The reproduction for a terminal: a block per claim, source and ours side by side."""
    blocks = []
    for row in rows:
        conditions = ", ".join(f"{k}={v}" for k, v in row.conditions.items())
        lines = [
            f"{row.name}: {row.claim}",
            f"  source:     {row.source}",
            f"  theirs:     {row.source_number}",
            f"  ours:       {row.ours or '-'}",
            f"  shape:      {row.shape} -> {_verdict(row)}",
        ]
        if conditions:
            lines.append(f"  conditions: {conditions}")
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks)

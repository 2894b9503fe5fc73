"""The measurements behind the claims: each returns our number and whether the shape holds.

Every measurement runs in a fresh child process (gilcompare.measure.isolate), under the
interpreter the claim is about. Every ratio and its 95 % interval come from
gilcompare.measure.engine, and a verdict is two-sided (claim.verdict): holds when the whole
interval lies in the claim's range, contradicted when it lies wholly outside, else
inconclusive.
"""

from __future__ import annotations

import os
import statistics
import subprocess
from typing import Any

from gilcompare.interpreters import BuildTag
from gilcompare.measure import engine, isolate, paired
from gilcompare.measure.cells import Cell, Result
from gilcompare.measure.matrix import measure_isolated
from gilcompare.probes import start
from gilcompare.probes.latency import probe_latency
from gilcompare.reproduce.claim import Context, Failed, NotRun, Outcome, verdict
from gilcompare.settings import (
    CAPACITY_UNITS,
    CLAIM_LATENCY_PINGS,
    CLAIM_LATENCY_REPEAT,
    CLAIM_LATENCY_SWITCH_MS,
    CLAIM_PROFILE,
    CLAIM_SCALING_REPEAT,
    CLAIM_SCALING_WORKERS,
    CLAIM_SCALING_WORKLOADS,
    CLAIM_SEED_BOUND,
    CLAIM_SEED_ITERATIONS,
    CLAIM_SEED_REPEAT,
    CLAIM_START_MODELS,
    CLAIM_START_REPEAT,
    CLAIM_START_WORKERS,
)
from gilcompare.workloads.cpu import COUNT_PER_UNIT


def _child_env() -> dict[str, str]:
    """Let another interpreter import this gilcompare (it needs only the standard library)."""
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    path = os.environ.get("PYTHONPATH")
    return {"PYTHONPATH": root + (os.pathsep + path if path else "")}


def _measure(cell: Cell, ctx: Context, python: str | None = None) -> Result:
    """One cell in a fresh child (under ``python``); Failed unless its status is ok."""
    result = measure_isolated(cell, ctx.timeout, python, _child_env() if python else None)
    if result.status != "ok":
        raise Failed(f"{cell.workload}/{cell.model} {result.status}: {result.reason}")
    return result


def scaled_units(ctx: Context, units: int) -> int:
    """A work size times the context's scale, at least 1."""
    return max(1, round(units * ctx.scale))


def _machine(ctx: Context) -> dict[str, Any]:
    """What the machine gives two busy processes now (2.0: two idle cores), and its load: a
    parallel claim cannot be tested when the capacity is below its bound."""
    try:
        capacity = isolate.call(
            "gilcompare.asv.machine:parallel_capacity",
            {"units": scaled_units(ctx, CAPACITY_UNITS)},
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
    size = scaled_units(ctx, round(CLAIM_SEED_ITERATIONS / COUNT_PER_UNIT))
    results = {
        model: _measure(
            Cell(
                workload="count",
                model=model,
                workers=2,
                scaling="weak",
                mode="warm",
                profile=CLAIM_PROFILE,
                size=size,
                tasks=1,
                repeat=CLAIM_SEED_REPEAT,
            ),
            ctx,
        )
        for model in ("threads", "processes-fork")
    }
    threads, procs = results["threads"], results["processes-fork"]
    # threads and processes ran in separate children, so their times do not pair: the engine's
    # unpaired ratio is the ratio of the two medians printed beside it, with a Welch interval
    ratio = engine.unpaired_ratio(threads.times, procs.times)
    if ratio is None:
        raise Failed("no time was measured")
    machine = _machine(ctx)
    holds = verdict(ratio.low, ratio.high, CLAIM_SEED_BOUND)
    note = ""
    if holds is False:
        holds, note = _judge(False, CLAIM_SEED_BOUND, machine)
    return Outcome(
        ours=f"{threads.seconds:.2f} s vs {procs.seconds:.2f} s: processes {ratio} threads" + note,
        holds=holds,
        numbers={
            "threads_s": threads.seconds,
            "processes_s": procs.seconds,
            "ratio": ratio.value,
            "ratio_low": ratio.low,
            "ratio_high": ratio.high,
            "estimator": engine.UNPAIRED_ESTIMATOR,
            "interval": engine.UNPAIRED_INTERVAL,
        },
        conditions=_conditions(
            procs,
            **machine,
            iterations_per_worker=size * COUNT_PER_UNIT,
            workers=2,
            scaling="weak",
            start_method=procs.start_method,
            repeat=CLAIM_SEED_REPEAT,
        ),
    )


def beazley(ctx: Context) -> Outcome:
    """Echo p99 served by a thread while one CPU-bound thread runs, at two switch intervals."""
    p99: dict[float, float] = {}
    last = None
    for switch in CLAIM_LATENCY_SWITCH_MS:
        rec = probe_latency(
            "threads",
            1,
            switch,
            pings=max(10, round(CLAIM_LATENCY_PINGS * ctx.scale)),
            repeat=CLAIM_LATENCY_REPEAT,
            timeout=ctx.timeout,
        )
        if rec.status != "ok" or rec.p99_ms is None:
            raise Failed(f"latency at {switch} ms: {rec.status} {rec.reason}")
        p99[switch], last = rec.p99_ms, rec
    big, small = CLAIM_LATENCY_SWITCH_MS
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
            "repeat": CLAIM_LATENCY_REPEAT,
            "switch_intervals_ms": list(CLAIM_LATENCY_SWITCH_MS),
        },
    )


def ftscaling(ctx: Context) -> Outcome:
    """Weak scaling of threads on the newest free-threaded build: t1·N/tN at N = 2."""
    tag = _newest_free(ctx)
    speedups, last = {}, None
    for workload in CLAIM_SCALING_WORKLOADS:
        cell = Cell(
            workload=workload,
            model="threads",
            workers=CLAIM_SCALING_WORKERS,
            scaling="weak",
            mode="warm",
            profile=CLAIM_PROFILE,
            size=scaled_units(ctx, 50),
            tasks=2,
            repeat=CLAIM_SCALING_REPEAT,
        )
        last = _measure(cell, ctx, ctx.python(tag))
        speedups[workload] = last.speedup
    assert last is not None
    worst = min(v or 0.0 for v in speedups.values())
    bound = 0.8 * CLAIM_SCALING_WORKERS
    machine = _machine(ctx)
    holds, note = _judge(worst >= bound and last.gil_enabled is False, bound, machine)
    return Outcome(
        ours=", ".join(f"{w} {s:.2f}×" for w, s in speedups.items())
        + f" with {CLAIM_SCALING_WORKERS} threads on {tag}"
        + note,
        holds=holds,
        numbers={"speedup": speedups},
        conditions=_conditions(
            last,
            **machine,
            workers=CLAIM_SCALING_WORKERS,
            scaling="weak",
            repeat=CLAIM_SCALING_REPEAT,
        ),
    )


def shaw(ctx: Context) -> Outcome:
    """Cold start of 8 no-op workers: threads, subinterpreters, spawned processes, in paired
    rounds (every model once per round, the order alternating); ratios from the engine."""
    python = _start_python(ctx)
    samples: dict[str, list[float]] = {model: [] for model in CLAIM_START_MODELS}
    context: dict[str, Any] = {}
    for round_ in range(CLAIM_START_REPEAT):  # a fresh interpreter for every sample
        for model in paired.in_order(round_, CLAIM_START_MODELS):
            try:
                out = isolate.call(
                    "gilcompare.probes.start:measure_start",
                    {"model": model, "workers": CLAIM_START_WORKERS},
                    ctx.timeout,
                    python=python,
                    env=_child_env() if python else None,
                )
            except isolate.IsolatedFailure as failure:
                raise Failed(f"start {model}: {failure.reason}") from None
            samples[model].append(out["seconds"])
            context = out["context"]
    sub_thread = engine.ratio(samples["subinterpreters"], samples["threads"])
    proc_sub = engine.ratio(samples["processes-spawn"], samples["subinterpreters"])
    if sub_thread is None or proc_sub is None:
        raise Failed("no start time was measured")
    verdicts = [
        verdict(sub_thread.low, sub_thread.high, 30),
        verdict(proc_sub.low, proc_sub.high, 3),
    ]
    holds = False if False in verdicts else True if all(verdicts) else None
    return Outcome(
        ours=f"subinterpreter {sub_thread} a thread; process {proc_sub} a subinterpreter",
        holds=holds,
        numbers={
            "start_s": {m: statistics.median(v) for m, v in samples.items()},
            "subinterpreter_per_thread": sub_thread.record(),
            "process_per_subinterpreter": proc_sub.record(),
        },
        conditions={
            "python": context.get("python"),
            "workers": CLAIM_START_WORKERS,
            "rounds": CLAIM_START_REPEAT,
            "estimator": engine.ESTIMATOR,
            "interval": engine.INTERVAL,
            "process_model": "processes-spawn",
            "cpus_usable": context.get("cpu_usable"),
        },
    )


def _start_python(ctx: Context) -> str | None:
    """This interpreter when it has subinterpreters, else the newest found with them and
    psutil (the start probe's modules import it); NotRun when there is none."""
    if start.not_applicable("subinterpreters") is None:
        return None
    for tag in sorted(ctx.found, key=_order, reverse=True):
        build = BuildTag.parse(tag)
        if (build.major, build.minor) < (3, 12) or build.free_threaded:
            continue
        check = [ctx.found[tag], "-c", "import psutil"]
        if subprocess.run(check, capture_output=True, timeout=60).returncode == 0:
            return ctx.found[tag]
    raise NotRun(
        "needs subinterpreters (Python 3.12+) with psutil installed: run gilcompare from one"
    )


def _order(tag: str) -> tuple[int, int, bool, bool]:
    return BuildTag.parse(tag).sort_key


def _newest_free(ctx: Context) -> str:
    return max((t for t in ctx.found if BuildTag.parse(t).free_threaded), key=_order)

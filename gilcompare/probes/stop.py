"""Stop: the seed's pattern — a worker loop that checks a flag, a ``join(timeout)`` that returns
with the workers still running, then a stop request: time until every worker has exited.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import select
import signal
import statistics
import sys
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Callable

from gilcompare.errors import UsageError
from gilcompare.models import Model, get_model
from gilcompare.models.base import resolve
from gilcompare.probes.common import (
    NO_WORKERS,
    ProbeRecord,
    check_workers,
    context,
    fill,
    interpreter_threads,
    isolated,
    median,
    model_unavailable,
    time_call,
)
from gilcompare.probes.workers import STOP_SCRIPT, spin_loop, stop_loop
from gilcompare.settings import (
    CHECK_MS,
    DEFAULT_TIMEOUT,
    JOIN_TIMEOUT_S,
    PROBE_REPEAT,
    READY_TIMEOUT_S,
    STOP_CAP_S,
)
from gilcompare.workloads import count

STOP_METHODS = ("event", "terminate", "cancel")


@dataclass
class StopRecord(ProbeRecord):
    """Time from a stop request until every worker has exited (median over rounds)."""

    method: str = ""
    stop_ms: float | None = None
    check_ms: float | None = None  # measured time of one loop body between two checks
    join_timeout_ms: float = JOIN_TIMEOUT_S * 1000
    alive_after_join: int | None = None  # workers still running when join(timeout) returned
    samples: list[float] = field(default_factory=list)


# ------------------------------------------------------------------------ applicability


def _methods(model: str) -> Mapping[str, str | None]:
    """Each stop method for ``model``: None when it applies, else why not."""
    return get_model(model).stop_methods


def methods_for(model: str) -> list[str]:
    """The stop methods ``model`` can use."""
    return [m for m, why in _methods(model).items() if why is None]


def not_applicable(model: str, method: str | None = None) -> str | None:
    """Why stop cannot be measured for this combination on this interpreter, or None."""
    reason = model_unavailable(model)
    if reason is not None:
        return reason
    if not get_model(model).starts_workers:
        return NO_WORKERS
    if not _methods(model):
        return (
            f"{model} keeps its workers for reuse and has no stop of its own; stop measures "
            "raw threads, processes, asyncio tasks, subinterpreters and the deployed libraries"
        )
    why = _methods(model).get(method) if method is not None else None
    if why is not None:
        return f"{why} (use {', '.join(methods_for(model))})"
    return None


# ------------------------------------------------------------------- the parent's side


def probe_stop(
    model: str,
    workers: int,
    method: str,
    *,
    check_ms: int = CHECK_MS,
    repeat: int = PROBE_REPEAT,
    timeout: float = DEFAULT_TIMEOUT,
) -> StopRecord:
    """Milliseconds from a stop request until ``workers`` looping workers have all exited."""
    check_workers(workers)
    get_model(model)
    if method not in STOP_METHODS:
        raise UsageError(f"unknown stop method {method!r}: choose from {', '.join(STOP_METHODS)}")
    rec = StopRecord(probe="stop", model=model, workers=workers, method=method, repeat=repeat)

    def run() -> None:
        kwargs = {
            "model": model,
            "workers": workers,
            "method": method,
            "check_ms": check_ms,
            "repeat": repeat,
        }
        out = isolated("gilcompare.probes.stop:measure_stop", kwargs, timeout)
        rec.with_context(out["context"])
        rec.samples = out["samples"]
        rec.stop_ms = median(rec.samples)
        rec.check_ms = out["check_ms"]
        rec.alive_after_join = out["alive_after_join"]

    fill(rec, not_applicable(model, method), run)
    return rec


# -------------------------------------------------------------------- the child's side


def measure_stop(
    model: str, workers: int, method: str, check_ms: int, repeat: int
) -> dict[str, Any]:
    """Start workers looping, join(timeout), request a stop; time until all have exited."""
    count(check_ms)  # warm the loop body once before timing it
    check = statistics.median(time_call(count, check_ms) for _ in range(3))
    m = get_model(model)
    if m.stop_round is None:
        raise ValueError(f"model {model!r} has no stop round: {not_applicable(model)}")
    stopper = resolve(m.stop_round)
    rounds = [stopper(m, workers, method, check_ms) for _ in range(repeat)]
    return {
        "context": context(),
        "check_ms": check * 1000,
        "alive_after_join": min(alive for alive, _ in rounds),
        "samples": [seconds * 1000 for _, seconds in rounds],
    }


def _await_ready(ready: Any, workers: int) -> None:
    """Wait until every worker has entered its loop (a semaphore released once each)."""
    deadline = time.monotonic() + READY_TIMEOUT_S
    for _ in range(workers):
        if not ready.acquire(timeout=max(0.0, deadline - time.monotonic())):
            raise RuntimeError(f"the workers did not start within {READY_TIMEOUT_S:g} s")


def _join_with_timeout(workers: Sequence[Any]) -> int:
    """The seed's join(timeout): it returns after the timeout, stopping nothing; how many run."""
    deadline = time.monotonic() + JOIN_TIMEOUT_S
    for w in workers:
        w.join(timeout=max(0.0, deadline - time.monotonic()))
    return sum(1 for w in workers if w.is_alive())


def _join_all(workers: Sequence[Any]) -> None:
    """Join every worker, or fail naming how many still run after STOP_CAP_S."""
    deadline = time.monotonic() + STOP_CAP_S
    for w in workers:
        w.join(timeout=max(0.0, deadline - time.monotonic()))
    running = sum(1 for w in workers if w.is_alive())
    if running:
        raise RuntimeError(
            f"{running} of {len(workers)} workers still ran {STOP_CAP_S:g} s after the stop request"
        )


# the stop rounds models name (Model.stop_round): (workers alive after join, seconds to stop)


def stop_threads(model: Model, workers: int, method: str, units: int) -> tuple[int, float]:
    stop = threading.Event()
    ready = threading.Semaphore(0)
    threads = [
        threading.Thread(target=stop_loop, args=(stop, ready, units), daemon=True)
        for _ in range(workers)
    ]
    try:
        for t in threads:
            t.start()
        _await_ready(ready, workers)
        alive = _join_with_timeout(threads)
        t0 = time.perf_counter()
        stop.set()
        _join_all(threads)
        return alive, time.perf_counter() - t0
    finally:
        stop.set()


def stop_processes(model: Model, workers: int, method: str, units: int) -> tuple[int, float]:
    ctx = multiprocessing.get_context(model.start_method)
    stop = ctx.Event()
    ready = ctx.Semaphore(0)
    if method == "terminate":
        target: Callable[..., None] = spin_loop
        args: tuple[Any, ...] = (ready, units)
    else:
        target, args = stop_loop, (stop, ready, units)
    procs = [ctx.Process(target=target, args=args, daemon=True) for _ in range(workers)]
    try:
        for p in procs:
            p.start()
        _await_ready(ready, workers)
        alive = _join_with_timeout(procs)
        t0 = time.perf_counter()
        if method == "terminate":
            for p in procs:
                p.terminate()
        else:
            stop.set()
        _join_all(procs)
        seconds = time.perf_counter() - t0
        expected = -signal.SIGTERM if method == "terminate" else 0  # terminate() sends SIGTERM
        codes = sorted({p.exitcode for p in procs} - {expected}, key=str)
        if codes:
            raise RuntimeError(f"a worker exited with status {codes[0]}, expected {expected}")
        return alive, seconds
    finally:
        for p in procs:
            if p.pid is not None and p.is_alive():
                p.kill()
                p.join(timeout=5)


def stop_interpreters(model: Model, workers: int, method: str, units: int) -> tuple[int, float]:
    ready_r, ready_w = os.pipe()
    stop_r, stop_w = os.pipe()
    script = STOP_SCRIPT.format(path=list(sys.path), ready=ready_w, stop=stop_r, units=units)
    errors: list[str] = []
    threads = interpreter_threads(script, workers, errors)
    stopped = False
    try:
        for t in threads:
            t.start()
        _await_bytes(ready_r, workers, errors)
        alive = _join_with_timeout(threads)
        t0 = time.perf_counter()
        os.write(stop_w, b"s")
        stopped = True
        _join_all(threads)
        seconds = time.perf_counter() - t0
        if errors:
            raise RuntimeError(f"a subinterpreter failed: {errors[0]}")
        return alive, seconds
    finally:
        if not stopped:
            os.write(stop_w, b"s")
            for t in threads:
                t.join(timeout=STOP_CAP_S)
        if not any(t.is_alive() for t in threads):
            for fd in (ready_r, ready_w, stop_r, stop_w):
                os.close(fd)


def _await_bytes(fd: int, n: int, errors: list[str]) -> None:
    """Read ``n`` ready bytes from a pipe, or fail if the workers do not send them in time."""
    deadline = time.monotonic() + READY_TIMEOUT_S
    got = 0
    while got < n:
        if errors:
            raise RuntimeError(f"a subinterpreter failed: {errors[0]}")
        left = deadline - time.monotonic()
        if left <= 0:
            raise RuntimeError(f"the workers did not start within {READY_TIMEOUT_S:g} s")
        if select.select([fd], [], [], min(left, 0.1))[0]:
            got += len(os.read(fd, n - got))


def stop_tasks(model: Model, workers: int, method: str, units: int) -> tuple[int, float]:
    return asyncio.run(_cancel_round(workers, units))


async def _cancel_round(workers: int, units: int) -> tuple[int, float]:
    async def loop() -> None:
        while True:
            count(units)
            await asyncio.sleep(0)  # the only place a cancellation can land

    tasks = [asyncio.ensure_future(loop()) for _ in range(workers)]
    _, pending = await asyncio.wait(tasks, timeout=JOIN_TIMEOUT_S)
    t0 = time.perf_counter()
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    return len(pending), time.perf_counter() - t0

"""Cold start: create + start + join N no-op workers, each sample in a fresh interpreter."""

from __future__ import annotations

import asyncio
import multiprocessing
import threading
from dataclasses import dataclass, field
from typing import Any

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
from gilcompare.probes.workers import NOOP_SCRIPT, noop
from gilcompare.settings import DEFAULT_TIMEOUT, PROBE_REPEAT


@dataclass
class StartRecord(ProbeRecord):
    """Create + start + join N no-op workers in a fresh interpreter (median over samples)."""

    seconds: float | None = None
    per_worker_ms: float | None = None
    samples: list[float] = field(default_factory=list)


def not_applicable(model: str) -> str | None:
    """Why a cold start of ``model`` cannot be measured here, or None."""
    reason = model_unavailable(model)
    if reason is None and not get_model(model).starts_workers:
        return NO_WORKERS
    return reason


# ------------------------------------------------------------------- the parent's side


def probe_start(
    model: str, workers: int, *, repeat: int = PROBE_REPEAT, timeout: float = DEFAULT_TIMEOUT
) -> StartRecord:
    """Seconds to create + start + join ``workers`` no-op workers, each sample cold."""
    check_workers(workers)
    get_model(model)
    rec = StartRecord(probe="start", model=model, workers=workers, repeat=repeat)

    def run() -> None:
        for _ in range(repeat):  # a fresh interpreter for every sample
            kwargs = {"model": model, "workers": workers}
            out = isolated("gilcompare.probes.start:measure_start", kwargs, timeout)
            rec.samples.append(out["seconds"])
        rec.with_context(out["context"])
        rec.seconds = median(rec.samples)
        rec.per_worker_ms = rec.seconds / workers * 1000

    fill(rec, not_applicable(model), run)
    return rec


# -------------------------------------------------------------------- the child's side


def measure_start(model: str, workers: int) -> dict[str, Any]:
    """Time one cold start of ``workers`` no-op workers (call it in a fresh interpreter)."""
    seconds = time_call(start_workers, model, workers)
    return {"context": context(), "seconds": seconds}


def start_workers(model: str, workers: int) -> None:
    """Create, start and join ``workers`` no-op workers of ``model``: one cold start."""
    m = get_model(model)
    if m.cold_start is None:
        raise ValueError(f"model {model!r} has no workers to start: it runs tasks in turn")
    resolve(m.cold_start)(m, workers)


# the cold starts models name (Model.cold_start): each creates, starts and joins its workers


def start_threads(model: Model, workers: int) -> None:
    """Raw threads running a no-op."""
    threads = [threading.Thread(target=noop) for _ in range(workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


def start_processes(model: Model, workers: int) -> None:
    """Raw processes of the model's start method running a no-op."""
    ctx = multiprocessing.get_context(model.start_method)
    procs = [ctx.Process(target=noop) for _ in range(workers)]
    for p in procs:
        p.start()
    for p in procs:
        p.join()
    codes = {p.exitcode for p in procs} - {0}
    if codes:
        raise RuntimeError(f"a no-op worker exited with status {codes.pop()}")


def start_interpreters(model: Model, workers: int) -> None:
    """A thread per worker, each running a no-op script in its own subinterpreter."""
    errors: list[str] = []
    threads = interpreter_threads(NOOP_SCRIPT, workers, errors)
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise RuntimeError(f"a subinterpreter failed: {errors[0]}")


def start_tasks(model: Model, workers: int) -> None:
    """asyncio tasks running a no-op on a new event loop."""
    asyncio.run(_noop_tasks(workers))


def start_loky(model: Model, workers: int) -> None:
    """loky's pool, of its own: started by work (a no-op per worker) and shut down."""
    import loky

    pool = loky.ProcessPoolExecutor(workers)
    try:
        for future in [pool.submit(noop) for _ in range(workers)]:
            future.result()
    finally:
        pool.shutdown(wait=True)


def start_runner(model: Model, workers: int) -> None:
    """The model's own start (a cluster, a pool), a no-op per worker, and its own close: what
    a user of that library waits for before any work."""
    with model.start(workers) as runner:
        runner.starmap(noop, [()] * workers)


async def _noop_tasks(workers: int) -> None:
    async def nothing() -> None:
        noop()

    await asyncio.gather(*(asyncio.ensure_future(nothing()) for _ in range(workers)))

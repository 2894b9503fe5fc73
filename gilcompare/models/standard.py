"""The standard library's models, and loky's pool: a kind of worker per class.

Each runner wraps an executor (a thread of its own for serial, ``ThreadPoolExecutor``,
``ProcessPoolExecutor``, an interpreter pool, loky's ``ProcessPoolExecutor``) or, for asyncio,
an event loop. Free-threading is not a model: ``threads`` on a 3.13t/3.14t build *are*
free-threaded threads, and the GIL status each worker reports says which one a result measured.
"""

from __future__ import annotations

import concurrent.futures as cf
import multiprocessing
import sys
from collections.abc import Mapping
from dataclasses import dataclass

from gilcompare.models.base import Model, stops
from gilcompare.models.runners import (
    AsyncioRunner,
    ExecutorRunner,
    InterpreterPoolRunner,
    Runner,
    own_thread,
)
from gilcompare.models.subinterpreters import SubinterpreterPoolExecutor
from gilcompare.models.workers import (
    apply_environment,
    harness_environment,
    subinterpreters_module,
)
from gilcompare.workloads import Workload

START = "gilcompare.probes.start"
STOP = "gilcompare.probes.stop"
NOT_ASYNCIO = "only asyncio tasks can be cancelled"

THREAD_STOPS: Mapping[str, str | None] = {
    "event": None,
    "terminate": "threads cannot be killed: Python has no way to stop a running thread",
    "cancel": f"{NOT_ASYNCIO}; a thread must check an event",
}
PROCESS_STOPS: Mapping[str, str | None] = {
    "event": None,
    "terminate": None,
    "cancel": f"{NOT_ASYNCIO}; a process checks an event or is terminated",
}

INTERPRETER_STOPS: Mapping[str, str | None] = {
    "event": None,
    "terminate": "a running subinterpreter cannot be interrupted or destroyed from outside; it "
    "must check a flag",
    "cancel": f"{NOT_ASYNCIO}; an interpreter must check a flag",
}
TASK_STOPS: Mapping[str, str | None] = {
    "event": "a coroutine that checks a flag stops at its next await, exactly as cancel() does",
    "terminate": "asyncio tasks run on their event loop's thread and cannot be killed",
    "cancel": None,
}


@dataclass(frozen=True)
class SerialModel(Model):
    """One task after another on one thread: the baseline every speedup is relative to."""

    kind: str = "baseline"
    parallel_workers: bool = False
    starts_workers: bool = False

    def runner(self, workers: int) -> Runner:
        return ExecutorRunner(self, workers, own_thread("serial"))


@dataclass(frozen=True)
class ThreadsModel(Model):
    """``concurrent.futures.ThreadPoolExecutor``; the stop and start probes use raw threads."""

    stop_methods: Mapping[str, str | None] = stops(THREAD_STOPS)
    stop_round: str | None = f"{STOP}:stop_threads"
    cold_start: str | None = f"{START}:start_threads"

    def runner(self, workers: int) -> Runner:
        return ExecutorRunner(self, workers, cf.ThreadPoolExecutor(workers))


@dataclass(frozen=True)
class ProcessesModel(Model):
    """``ProcessPoolExecutor`` with a start method; the probes use raw ``Process`` objects."""

    kind: str = "processes"
    shares_memory: bool = False
    workers_are: str = "processes"
    stop_methods: Mapping[str, str | None] = stops(PROCESS_STOPS)
    stop_round: str | None = f"{STOP}:stop_processes"
    cold_start: str | None = f"{START}:start_processes"

    def runner(self, workers: int) -> Runner:
        pool = cf.ProcessPoolExecutor(
            workers,
            mp_context=multiprocessing.get_context(self.start_method),
            initializer=apply_environment,
            initargs=(harness_environment(),),
        )
        return ExecutorRunner(self, workers, pool)


@dataclass(frozen=True)
class SubinterpretersModel(Model):
    """An isolated interpreter (own GIL) per thread: 3.14's pool, or ours on 3.12/3.13."""

    kind: str = "subinterpreters"
    shares_memory: bool = False
    copies_by_pipe: bool = True  # the 3.12/3.13 pool passes JSON, not a pickled payload
    workers_are: str = "interpreters"
    stop_methods: Mapping[str, str | None] = stops(INTERPRETER_STOPS)
    stop_round: str | None = f"{STOP}:stop_interpreters"
    cold_start: str | None = f"{START}:start_interpreters"

    def unavailable(self) -> str | None:
        if sys.version_info < (3, 12):
            return "subinterpreters with their own GIL require Python 3.12+"
        if not hasattr(cf, "InterpreterPoolExecutor") and subinterpreters_module() is None:
            return "this interpreter has no subinterpreter module"
        return super().unavailable()

    def cannot_run(self, workload: Workload) -> str | None:
        return self.unavailable() or workload.no_subinterpreters

    def runner(self, workers: int) -> Runner:
        if hasattr(cf, "InterpreterPoolExecutor"):
            return InterpreterPoolRunner(self, workers, cf.InterpreterPoolExecutor(workers))
        return ExecutorRunner(self, workers, SubinterpreterPoolExecutor(workers))


@dataclass(frozen=True)
class AsyncioModel(Model):
    """Coroutines on one event loop: one worker does everything; only tasks can be cancelled."""

    kind: str = "asyncio"
    parallel_workers: bool = False
    workers_are: str = "tasks"
    stop_methods: Mapping[str, str | None] = stops(TASK_STOPS)
    stop_round: str | None = f"{STOP}:stop_tasks"
    cold_start: str | None = f"{START}:start_tasks"

    def runner(self, workers: int) -> Runner:
        return AsyncioRunner(self, workers)


@dataclass(frozen=True)
class LokyModel(Model):
    """loky's robust process pool: it keeps its workers for reuse and has no stop of its own."""

    kind: str = "library"
    extra: str | None = "pools"
    requires: tuple[str, ...] = ("loky",)
    shares_memory: bool = False
    workers_are: str = "processes"
    cold_start: str | None = f"{START}:start_loky"

    def runner(self, workers: int) -> Runner:
        import loky

        pool = loky.ProcessPoolExecutor(
            workers, initializer=apply_environment, initargs=(harness_environment(),)
        )
        return ExecutorRunner(self, workers, pool)

"""The registry of models: each one's availability (with a reason) and how it starts.

Imported lazily by the package (gilcompare.models), so that a worker importing
``gilcompare.models.workers`` loads no executor, event loop or multiprocessing machinery.
"""

from __future__ import annotations

import concurrent.futures as cf
import importlib.util
import multiprocessing
import os
import sys
from dataclasses import dataclass

from gilcompare.models.runners import (
    AsyncioRunner,
    ExecutorRunner,
    InterpreterPoolRunner,
    Runner,
    SerialExecutor,
)
from gilcompare.models.subinterpreters import SubinterpreterPoolExecutor
from gilcompare.models.workers import (
    apply_environment,
    harness_environment,
    subinterpreters_module,
)
from gilcompare.workloads import Workload


def start_method_unavailable(method: str) -> str | None:
    """Why a multiprocessing start method cannot be used here, or None: missing on this
    platform (no fork on Windows), or unsafe (fork on macOS, whose system libraries start
    threads a forked child cannot use; CPython's default there is spawn)."""
    if method not in multiprocessing.get_all_start_methods():
        return f"start method {method!r} is not available on {sys.platform}"
    if method == "fork" and sys.platform == "darwin":
        return (
            "start method 'fork' is unsafe on macOS (its system libraries start threads); use spawn"
        )
    return None


@dataclass(frozen=True)
class Model:
    """A concurrency model: how to start it and why it may not run here."""

    name: str
    kind: str  # baseline | threads | processes | subinterpreters | asyncio | library
    summary: str
    start_method: str | None = None
    parallel_workers: bool = True  # False when one worker does everything (serial, asyncio)

    def unavailable(self) -> str | None:
        """Why this model cannot run on this interpreter, or None when it can."""
        if self.start_method is not None:
            reason = start_method_unavailable(self.start_method)
            if reason is not None:
                return reason
        if self.kind == "subinterpreters":
            if sys.version_info < (3, 12):
                return "subinterpreters with their own GIL require Python 3.12+"
            if not hasattr(cf, "InterpreterPoolExecutor") and subinterpreters_module() is None:
                return "this interpreter has no subinterpreter module"
        if self.name == "loky":
            try:
                import loky  # noqa: F401
            except ImportError:
                return "loky is not installed (pip install 'gilcompare[pools]')"
        if self.name in DEPLOYED_MODELS:
            from gilcompare.models import libraries

            for module in libraries.REQUIRES.get(self.name, ()):
                if importlib.util.find_spec(module) is None:
                    return f"{module} is not installed ({libraries.INSTALL_HINT})"
            if self.name == "dask-cluster" and not os.environ.get(libraries.DASK_SCHEDULER_ENV):
                return (
                    "needs an existing scheduler: --dask-scheduler tcp://HOST:PORT "
                    f"(or {libraries.DASK_SCHEDULER_ENV})"
                )
        return None

    def cannot_run(self, workload: Workload) -> str | None:
        """Why this model cannot run this workload here, or None when it can."""
        reason = self.unavailable()
        if reason is None and self.kind == "subinterpreters":
            reason = workload.no_subinterpreters
        return reason

    def start(self, workers: int) -> Runner:
        """Create the workers (not yet warm); raises ValueError when unavailable."""
        if workers < 1:
            raise ValueError(f"workers must be at least 1, got {workers}")
        reason = self.unavailable()
        if reason is not None:
            raise ValueError(f"model {self.name!r} is not available: {reason}")
        if self.kind == "baseline":
            return ExecutorRunner(self, workers, SerialExecutor())
        if self.kind == "threads":
            return ExecutorRunner(self, workers, cf.ThreadPoolExecutor(workers))
        if self.kind == "processes":
            ctx = multiprocessing.get_context(self.start_method)
            pool = cf.ProcessPoolExecutor(
                workers,
                mp_context=ctx,
                initializer=apply_environment,
                initargs=(harness_environment(),),
            )
            return ExecutorRunner(self, workers, pool)
        if self.kind == "subinterpreters":
            if hasattr(cf, "InterpreterPoolExecutor"):
                return InterpreterPoolRunner(self, workers, cf.InterpreterPoolExecutor(workers))
            return ExecutorRunner(self, workers, SubinterpreterPoolExecutor(workers))
        if self.kind == "asyncio":
            return AsyncioRunner(self, workers)
        if self.name in DEPLOYED_MODELS:
            from gilcompare.models import libraries

            return libraries.start(self, workers)
        if self.name == "loky":
            import loky

            pool = loky.ProcessPoolExecutor(
                workers, initializer=apply_environment, initargs=(harness_environment(),)
            )
            return ExecutorRunner(self, workers, pool)
        raise AssertionError(f"model kind {self.kind!r} has no runner")


MODELS: dict[str, Model] = {
    m.name: m
    for m in [
        Model("serial", "baseline", "one task after another in the caller", parallel_workers=False),
        Model("threads", "threads", "concurrent.futures.ThreadPoolExecutor"),
        Model("processes-fork", "processes", "ProcessPoolExecutor, fork context", "fork"),
        Model("processes-spawn", "processes", "ProcessPoolExecutor, spawn context", "spawn"),
        Model(
            "processes-forkserver",
            "processes",
            "ProcessPoolExecutor, forkserver context",
            "forkserver",
        ),
        Model(
            "subinterpreters", "subinterpreters", "one isolated interpreter (own GIL) per thread"
        ),
        Model("asyncio", "asyncio", "coroutines on one event loop", parallel_workers=False),
        Model("loky", "library", "loky's robust process pool (library pool)"),
        # the models people deploy (gilcompare.models.libraries); measured when asked for by name
        Model("joblib-loky", "library", "joblib.Parallel, loky backend (processes)"),
        Model("joblib-threads", "library", "joblib.Parallel, threading backend"),
        Model("dask-processes", "library", "dask.distributed LocalCluster, a process per worker"),
        Model("dask-threads", "library", "dask.distributed LocalCluster, threads in one process"),
        Model("dask-cluster", "library", "dask.distributed Client of an existing scheduler"),
        Model("mp-pool-fork", "library", "multiprocessing.Pool, fork context", "fork"),
        Model("mp-pool-spawn", "library", "multiprocessing.Pool, spawn context", "spawn"),
        Model("process-per-task", "library", "a new Process per task (fork), as the seed", "fork"),
        Model("thread-per-task", "library", "a new Thread per task, as the seed"),
    ]
}
# Measured by `gilcompare run` only when named: the default grid stays the executors' one.
DEPLOYED_MODELS = (
    "joblib-loky",
    "joblib-threads",
    "dask-processes",
    "dask-threads",
    "dask-cluster",
    "mp-pool-fork",
    "mp-pool-spawn",
    "process-per-task",
    "thread-per-task",
)
STANDARD_MODELS = tuple(name for name in MODELS if name not in DEPLOYED_MODELS)


def get_model(name: str) -> Model:
    """Look a model up by name, or fail naming the valid choices."""
    try:
        return MODELS[name]
    except KeyError:
        raise ValueError(f"unknown model {name!r}: choose from {', '.join(MODELS)}") from None


def available_models() -> list[str]:
    """Names of the models this interpreter can run."""
    return [name for name, m in MODELS.items() if m.unavailable() is None]


__all__ = ["DEPLOYED_MODELS", "MODELS", "STANDARD_MODELS", "Model", "available_models", "get_model"]

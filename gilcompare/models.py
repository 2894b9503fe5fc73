"""The ways to run work: one runner interface, one registry, availability with a reason.

Every model wraps a ``concurrent.futures`` executor (or, for asyncio, an event loop); none of
them is a pool of its own. Free-threading is not a model: it is a property of the interpreter
build, and ``threads`` on a 3.13t/3.14t build *are* free-threaded threads — the GIL status
each worker reports says which one a result measured.
"""

from __future__ import annotations

import asyncio
import concurrent.futures as cf
import functools
import importlib
import importlib.util
import json
import multiprocessing
import os
import queue
import sys
import sysconfig
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Callable

from gilcompare.workloads import Workload


def free_threaded_build() -> bool:
    """True when this interpreter was built with the GIL disabled (3.13t, 3.14t …)."""
    return bool(sysconfig.get_config_var("Py_GIL_DISABLED"))


def gil_enabled() -> bool:
    """Whether the GIL is enabled right now in this interpreter (always True before 3.13)."""
    check = getattr(sys, "_is_gil_enabled", None)
    return True if check is None else bool(check())


# Modules every worker imports before it reports or runs a task, comma-separated: the way to
# measure a program whose workers import an extension (one that does not declare
# free-threading support turns the GIL back on in a free-threaded build)
IMPORT_ENV = "GILCOMPARE_IMPORT"
GIL_REENABLED_NOTE = (
    "the GIL is on in the workers of a free-threaded build: an extension module that does not "
    "declare free-threading support re-enabled it (or PYTHON_GIL=1)"
)


def import_requested() -> None:
    """Import the modules ``GILCOMPARE_IMPORT`` names, once per interpreter (run in workers)."""
    for name in os.environ.get(IMPORT_ENV, "").split(","):
        if name.strip():
            importlib.import_module(name.strip())


def gil_reenabled(results: Sequence[Any]) -> str | None:
    """The one-line note when a free-threaded build saw the GIL on in its workers, else None."""
    if any(r.free_threaded and r.gil_enabled for r in results):
        return GIL_REENABLED_NOTE
    return None


def worker_info(delay: float = 0.0) -> dict[str, Any]:
    """Identify the worker that runs this task and what it sees of the GIL (run in workers)."""
    import_requested()
    if delay:
        time.sleep(delay)  # keeps this worker busy so the next warm-up task lands elsewhere
    return {
        "pid": os.getpid(),
        "thread": threading.get_ident(),
        "interpreter": _interpreter_id(),
        "gil_enabled": gil_enabled(),
        "python_gil_env": os.environ.get("PYTHON_GIL"),
        "blas_threads": _blas_threads(),
    }


def warm_task(workload: str, delay: float) -> dict[str, Any]:
    """Run one unit of a workload in this worker, then report the worker (run in workers)."""
    from gilcompare.workloads import WORKLOADS

    import_requested()
    WORKLOADS[workload].fn(1)
    return worker_info(delay)


def apply_environment(env: dict[str, str]) -> None:
    """Pool initializer: give a worker the harness's current variables (run in workers).

    A forkserver forks workers from a server started earlier, with that moment's environment,
    so the addresses of local peers are handed to every worker explicitly.
    """
    os.environ.update(env)


def harness_environment() -> dict[str, str]:
    """The variables workers must see: local peers' addresses and the GIL switch."""
    keep = ("GILCOMPARE_", "PYTHON_GIL")
    return {k: v for k, v in os.environ.items() if k.startswith(keep)}


def _blas_threads() -> int | None:
    """Threads the BLAS loaded in this worker may use (None when numpy is not loaded)."""
    if "numpy" not in sys.modules:
        return None
    from threadpoolctl import threadpool_info

    counts = [p["num_threads"] for p in threadpool_info() if p.get("user_api") == "blas"]
    return max(counts) if counts else None


def _interpreter_id() -> int:
    mod = _subinterpreters_module()
    try:
        return int(mod.get_current()) if mod is not None else 0
    except Exception:  # pragma: no cover - defensive: a private API may change
        return 0


# ------------------------------------------------------------------------------ runners


class Runner:
    """A started model with ``workers`` workers: warm it, run tasks on it, close it."""

    def __init__(self, model: Model, workers: int) -> None:
        self.model = model
        self.workers = workers
        self.worker_infos: list[dict[str, Any]] = []

    def starmap(self, fn: Callable[..., Any], arglists: Sequence[tuple[Any, ...]]) -> list[Any]:
        """Run ``fn(*args)`` for every args tuple, at most ``workers`` at once; in order."""
        raise NotImplementedError

    def run(self, fn: Callable[[int], Any], sizes: Sequence[int]) -> list[Any]:
        """Run ``fn(size)`` for every size; results in order."""
        return self.starmap(fn, [(size,) for size in sizes])

    def run_workload(self, workload: Workload, sizes: Sequence[int]) -> list[Any]:
        """Run a workload's tasks; models with a native async variant use it."""
        return self.run(workload.fn, sizes)

    def warm(self, workload: Workload | None = None) -> list[dict[str, Any]]:
        """Make every worker exist and run a task of the workload: a steady state to time.

        Each warm-up task sleeps after its work so that the next one lands on another worker;
        the rounds grow longer until every worker has answered.
        """
        seen: dict[tuple[Any, ...], dict[str, Any]] = {}
        for delay in (0.05, 0.1, 0.2, 0.4, 0.8):
            if workload is None:
                infos = self.starmap(worker_info, [(delay,)] * self.workers)
            else:
                infos = self.starmap(warm_task, [(workload.name, delay)] * self.workers)
            for info in infos:
                seen[(info["pid"], info["thread"], info["interpreter"])] = info
            if len(seen) >= self.workers or not self.model.parallel_workers:
                break
        if workload is not None and workload.afn is not None:
            self.run_workload(workload, [1] * self.workers)
        self.worker_infos = list(seen.values())
        return self.worker_infos

    def close(self) -> None:
        """Shut the workers down and wait for them."""

    def __enter__(self) -> Runner:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class ExecutorRunner(Runner):
    """A model backed by a ``concurrent.futures.Executor``."""

    def __init__(self, model: Model, workers: int, executor: cf.Executor) -> None:
        super().__init__(model, workers)
        self.executor = executor

    def starmap(self, fn: Callable[..., Any], arglists: Sequence[tuple[Any, ...]]) -> list[Any]:
        futures = [self.executor.submit(fn, *args) for args in arglists]
        return [f.result() for f in futures]

    def close(self) -> None:
        try:
            self.executor.shutdown(wait=True, cancel_futures=True)
        except TypeError:  # loky's executor predates cancel_futures
            self.executor.shutdown(wait=True)


class InterpreterPoolRunner(ExecutorRunner):
    """3.14's ``InterpreterPoolExecutor``: every task is handed over by reference.

    ``Interpreter.call`` shares a plain function by its code object when it can, so a function
    whose generator expression or nested code reaches a module global (``fib`` calls ``_fib``)
    fails in the worker with NameError. A ``functools.partial`` cannot be shared that way: it
    is pickled, the function by module and name, and the worker imports the module.
    """

    def starmap(self, fn: Callable[..., Any], arglists: Sequence[tuple[Any, ...]]) -> list[Any]:
        return super().starmap(functools.partial(fn), arglists)


class SerialExecutor(cf.Executor):
    """Runs each task inline when submitted: the baseline every speedup is relative to."""

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> cf.Future[Any]:
        future: cf.Future[Any] = cf.Future()
        try:
            future.set_result(fn(*args, **kwargs))
        except BaseException as exc:  # noqa: BLE001 - delivered through the future
            future.set_exception(exc)
        return future


class AsyncioRunner(Runner):
    """Tasks as coroutines on one event loop, at most ``workers`` in flight.

    Workloads with a native async variant (sleep, http) await it; the others are called on
    the loop and block it, so CPU work shows no parallelism at all — which is the truth.
    """

    def __init__(self, model: Model, workers: int) -> None:
        super().__init__(model, workers)
        self.loop = asyncio.new_event_loop()

    def _gather(
        self, call: Callable[..., Any], arglists: Sequence[tuple[Any, ...]], is_async: bool
    ) -> list[Any]:
        async def main() -> list[Any]:
            gate = asyncio.Semaphore(self.workers)

            async def one(args: tuple[Any, ...]) -> Any:
                async with gate:
                    return await call(*args) if is_async else call(*args)

            return list(await asyncio.gather(*(one(a) for a in arglists)))

        return self.loop.run_until_complete(main())

    def starmap(self, fn: Callable[..., Any], arglists: Sequence[tuple[Any, ...]]) -> list[Any]:
        return self._gather(fn, arglists, is_async=False)

    def run_workload(self, workload: Workload, sizes: Sequence[int]) -> list[Any]:
        if workload.afn is not None:
            return self._gather(workload.afn, [(s,) for s in sizes], is_async=True)
        return self.run(workload.fn, sizes)

    def close(self) -> None:
        if not self.loop.is_closed():
            self.loop.run_until_complete(self.loop.shutdown_asyncgens())
            self.loop.close()


# ----------------------------------------------------------------------- subinterpreters


def _subinterpreters_module() -> Any:
    """The interpreter's low-level subinterpreter module (3.12: _xxsubinterpreters)."""
    for name in ("_interpreters", "_xxsubinterpreters"):
        try:
            return importlib.import_module(name)
        except ImportError:
            continue
    return None


_SCRIPT = """\
import json as _json, os as _os, sys as _sys
_sys.path[:] = {path!r}
try:
    import importlib as _il
    _obj = _il.import_module({module!r})
    for _part in {qualname!r}.split("."):
        _obj = getattr(_obj, _part)
    _out = {{"ok": _obj(*{args!r})}}
except BaseException as _exc:
    _out = {{"err": type(_exc).__name__ + ": " + str(_exc)}}
_os.write({fd}, _json.dumps(_out).encode())
"""


class SubinterpreterPoolExecutor(cf.ThreadPoolExecutor):
    """3.12/3.13: a thread pool whose every thread runs tasks in its own subinterpreter.

    The same design as 3.14's ``concurrent.futures.InterpreterPoolExecutor``: each worker
    thread owns one isolated interpreter (with its own GIL). Tasks are named by module and
    qualname and their arguments and results cross as JSON, since objects cannot be shared.
    """

    def __init__(self, max_workers: int) -> None:
        super().__init__(max_workers, thread_name_prefix="gilcompare-interp")
        self._mod = _subinterpreters_module()
        self._tls = threading.local()
        # Created (and later destroyed) by the owning thread: CPython 3.12 deadlocks when an
        # interpreter created in a worker thread is destroyed from another thread.
        self._interps = [self._mod.create() for _ in range(max_workers)]
        self._free: queue.SimpleQueue[Any] = queue.SimpleQueue()
        for interp in self._interps:
            self._free.put(interp)

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> cf.Future[Any]:
        if kwargs:
            raise TypeError("subinterpreter tasks take positional arguments only")
        return super().submit(self._call, fn.__module__, fn.__qualname__, args)

    def _call(self, module: str, qualname: str, args: tuple[Any, ...]) -> Any:
        interp = getattr(self._tls, "interp", None)
        if interp is None:  # a pool thread takes an interpreter of its own, once
            interp = self._tls.interp = self._free.get_nowait()
        read_fd, write_fd = os.pipe()
        try:
            script = _SCRIPT.format(
                path=list(sys.path), module=module, qualname=qualname, args=args, fd=write_fd
            )
            failure = self._mod.run_string(interp, script)
            os.close(write_fd)
            write_fd = -1
            if failure is not None:  # 3.13 returns the uncaught exception instead of raising
                raise RuntimeError(
                    f"subinterpreter failed: {getattr(failure, 'formatted', failure)}"
                )
            chunks = []
            while chunk := os.read(read_fd, 65536):
                chunks.append(chunk)
        finally:
            os.close(read_fd)
            if write_fd >= 0:
                os.close(write_fd)
        out = json.loads(b"".join(chunks))
        if "err" in out:
            raise RuntimeError(f"in subinterpreter: {out['err']}")
        return out["ok"]

    def _destroy_own(self, barrier: threading.Barrier) -> None:
        barrier.wait()  # one such task per pool thread: each destroys its own interpreter
        interp = getattr(self._tls, "interp", None)
        if interp is not None:
            self._tls.interp = None
            self._mod.destroy(interp)
            self._interps.remove(interp)

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        # CPython 3.12 hangs destroying an interpreter from a thread other than the one that
        # imported threading in it, so every pool thread destroys the one it used.
        if wait and self._interps and not self._shutdown:
            barrier = threading.Barrier(self._max_workers, timeout=30)
            done = [
                super(SubinterpreterPoolExecutor, self).submit(self._destroy_own, barrier)
                for _ in range(self._max_workers)
            ]
            cf.wait(done)
        super().shutdown(wait=wait, cancel_futures=cancel_futures)
        if wait:
            interps, self._interps = self._interps, []
            for interp in interps:  # never used by any thread
                self._mod.destroy(interp)


# ------------------------------------------------------------------------------ registry


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
        methods = multiprocessing.get_all_start_methods()
        if self.start_method is not None and self.start_method not in methods:
            return f"start method {self.start_method!r} is not available on {sys.platform}"
        if self.kind == "subinterpreters":
            if sys.version_info < (3, 12):
                return "subinterpreters with their own GIL require Python 3.12+"
            if not hasattr(cf, "InterpreterPoolExecutor") and _subinterpreters_module() is None:
                return "this interpreter has no subinterpreter module"
        if self.name == "loky":
            try:
                import loky  # noqa: F401
            except ImportError:
                return "loky is not installed (pip install 'gilcompare[pools]')"
        if self.name in DEPLOYED_MODELS:
            from gilcompare import libraries

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
            from gilcompare import libraries

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
        # the models people deploy (gilcompare.libraries); measured when asked for by name
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
